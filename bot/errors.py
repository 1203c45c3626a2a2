"""Every error the gateway returns is short JSON ({"error": "..."}) with the
right 4xx/5xx status. Nothing about the code (no stack trace) ever leaves it."""
import logging
import traceback

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from sqlalchemy.exc import DBAPIError

from bot.replies import EMERGENCY, reply

logger = logging.getLogger(__name__)


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Logs where an unexpected error happened, never its message: messages can
    quote the data being handled (a person's words, a session id)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ", ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-4:])
    log.error("%s: %s at %s", what, type(error).__name__, where or "?")


class RefusedRequests(logging.Filter):
    """On aiohttp's own logger ("aiohttp.server"). A request it cannot parse (a bad
    header or URL, a Content-Encoding it cannot decode) gets its 400 from aiohttp, and
    was logged at ERROR with a traceback whose message quotes the raw bytes: a session
    id in a URL, a person's words in a header. The client's mistake, not a failure of
    ours: one line with its kind."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RequestPayloadError):  # a body left unread, failing to decode
            error = error.__cause__
        if isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500:
            record.msg, record.args = "Refused a request that could not be parsed: %s", (
                type(error).__name__,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def json_error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


@web.middleware
async def errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        message = {404: "Not found.", 405: "Method not allowed.",
                   413: "The message is too long."}.get(error.status, error.reason)
        return json_error(error.status, message, **{
            k: v for k, v in error.headers.items() if k in ("Allow", "Retry-After")})
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
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"))
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
