"""The web chat page: GET / and its own static files (no third-party anything)."""
import html
from pathlib import Path

from aiohttp import web

from bot.keys import SETTINGS

STATIC = Path(__file__).with_name("static")


PAGE = web.AppKey("chat_page", str)


def render_page(quick_exit_url: str) -> str:
    page = (STATIC / "index.html").read_text()
    return page.replace("__QUICK_EXIT_URL__", html.escape(quick_exit_url, quote=True))


async def index(request: web.Request) -> web.Response:
    return web.Response(text=request.app[PAGE], content_type="text/html", charset="utf-8")


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "favicon.svg")


def setup_routes(app: web.Application) -> None:
    app[PAGE] = render_page(app[SETTINGS].quick_exit_url)
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static", STATIC, follow_symlinks=False)
