"""Every error the gateway returns is short JSON ({"error": "..."}) with the
right 4xx/5xx status. Nothing about the code (no stack trace) ever leaves it.
That includes the requests aiohttp refuses before any of our code runs
(GuardedAppRunner: both of the gateway's servers use it).

One way to fail: code anywhere raises Problem (a status and words a victim may
read); errors_as_json answers it, and the WebSocket sends it as a frame."""
import logging
import sys
import traceback
from typing import Any, Dict, Optional

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy.exc import DBAPIError

from bot.conversation.replies import EMERGENCY, reply

logger = logging.getLogger(__name__)


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Logs where an unexpected error happened, never its message: messages can
    quote the data being handled (a person's words, a session id)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ", ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-4:])
    log.error("%s: %s at %s", what, type(error).__name__, where or "?")


def json_error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


class Problem(Exception):
    """Why a request can't be done: an HTTP status, and words safe for a frightened
    person to read (never their data, never the code's). With retry_after, when to
    try again (the Retry-After header)."""

    def __init__(self, status: int, message: str, retry_after: Optional[int] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after

    def headers(self) -> Dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}

    def response(self) -> web.Response:
        return json_error(self.status, self.message, **self.headers())

    def frame(self) -> Dict[str, Any]:
        """The same, as the chat's WebSocket sends it."""
        extra = {} if self.retry_after is None else {"retry_after": self.retry_after}
        return {"type": "error", "status": self.status, "error": self.message, **extra}


@web.middleware
async def errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        message = {404: "Not found.", 405: "Method not allowed.",
                   413: "The message is too long."}.get(error.status, error.reason)
        return json_error(error.status, message, **{
            k: v for k, v in error.headers.items() if k in ("Allow", "Retry-After")})
    except web.RequestPayloadError:  # a body unlike its headers: not gzip after all, or cut short
        return json_error(400, "The request's body could not be read.")
    except DBAPIError as error:  # the database is restarting: calm words and the numbers
        log_failure(logger, "The database is unavailable", error)
        return json_error(503, reply("gateway_unavailable")["text"], **{"Retry-After": "5"})
    except Exception as error:  # noqa: BLE001 - the last guard: log the kind only, answer calmly
        route = request.match_info.route.resource
        log_failure(logger, f"Unexpected error in {request.method} "
                            f"{route.canonical if route else '?'}", error)
        return json_error(500, f"Something went wrong on our side. {EMERGENCY}")


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    add_security_headers(response)
    return response


def add_security_headers(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"))
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")


# What aiohttp raises for a request it can't read: a bad request line or header, or
# a body unlike its headers. The client's doing, not a failure of ours.
UNREADABLE = (HttpProcessingError, web.RequestPayloadError)


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's handler of a connection, for what never reaches the middlewares: a
    request it can't parse, and errors around a handler. aiohttp logs those with a
    traceback whose message quotes the raw request line or header (a session id, a
    person's words) and echoes that back as plain text. Here the log names the kind
    of error only, and the answer is short JSON with the security headers."""

    __slots__ = ()

    def log_exception(self, what: str, *args: Any, exc_info: Any = None, **kwargs: Any) -> None:
        error = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        if isinstance(error, UNREADABLE):
            # The client's mistake, not a failure of ours: refused, one line, its kind only.
            self.logger.warning("Refused a request that could not be read: %s.",
                                type(error).__name__)
        elif error is not None:
            log_failure(self.logger, what, error)
        else:
            self.logger.error("%s.", what)

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: Optional[BaseException] = None,
                     message: Optional[str] = None) -> web.StreamResponse:
        self.log_exception("Error handling request", exc_info=exc)
        if request.writer.output_size > 0:  # as aiohttp: part of an answer has gone already
            raise ConnectionError("Response is sent already, cannot send another response")
        response = json_error(status, "The request could not be read." if status < 500
                              else f"Something went wrong on our side. {EMERGENCY}")
        add_security_headers(response)
        response.force_close()  # the connection may be out of step: it goes, as with aiohttp
        return response


class GuardedServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return GuardedRequestHandler(self, loop=self._loop, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """web.AppRunner whose connections are handled by GuardedRequestHandler. aiohttp
    3.9 has no setting for that class (its Server makes a RequestHandler), only for
    the logger, which can't change the answer."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = GuardedServer  # the server aiohttp made, with our handler class
        return server
