"""Every error the gateway returns is short JSON ({"error": "..."}) with the
right 4xx/5xx status. Nothing about the code (no stack trace) ever leaves it."""
import logging
import traceback

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot.replies import EMERGENCY, reply

logger = logging.getLogger(__name__)


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Logs where an unexpected error happened, never its message: messages can
    quote the data being handled (a person's words, a session id)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ", ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-4:])
    log.error("%s: %s at %s", what, type(error).__name__, where or "?")


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
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"))
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
