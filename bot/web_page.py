"""The web chat page: GET / and its own static files (no third-party anything)."""
import html
from pathlib import Path

from aiohttp import web

from bot.keys import SETTINGS

STATIC = Path(__file__).with_name("static")


async def index(request: web.Request) -> web.Response:
    page = (STATIC / "index.html").read_text()
    exit_url = html.escape(request.app[SETTINGS].quick_exit_url, quote=True)
    return web.Response(text=page.replace("__QUICK_EXIT_URL__", exit_url),
                        content_type="text/html", charset="utf-8")


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "favicon.svg")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static", STATIC, follow_symlinks=False)
