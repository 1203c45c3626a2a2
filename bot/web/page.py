"""The web chat page: GET / and its own static files (no third-party anything)."""
import html
import re
from pathlib import Path
from typing import Optional

from aiohttp import web

from bot.fact_sheet import FactSheet, fact_sheet
from bot.keys import CHAT_PAGE

# The pages' own files: the chat, the staff console and insights share one folder.
STATIC = Path(__file__).resolve().parent.parent / "static"

# index.html names a service's detail as {{service.field}}, e.g. {{emergency.phone}}
# or {{samaritans.hours}}, so no number is typed into the page: they come from the
# fact sheet (services.yml). {{service.tel}} is the phone number as digits, for tel: links.
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def service_detail(sheet: FactSheet, key: str, field: str) -> str:
    """One detail of a service; a name the fact sheet doesn't have stops start-up."""
    service = sheet[key]  # KeyError: no such service
    value = re.sub(r"[^\d+]", "", service.phone or "") if field == "tel" else getattr(service, field, None)
    if not value or not isinstance(value, str):
        raise ValueError(f"index.html asks for {key}.{field}, which services.yml doesn't give")
    return value


def how_long(hours: float) -> str:
    """A chat's life in words: "2 days" for 48 hours, "36 hours" for 36."""
    if hours >= 24 and hours % 24 == 0:
        days = int(hours // 24)
        return f"{days} day{'' if days == 1 else 's'}"
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def render_page(quick_exit_url: str, sheet: Optional[FactSheet] = None, retention_hours: float = 48) -> str:
    """index.html with the fact sheet's details, the quick exit's address, and how long a
    chat lasts with no message (__CHAT_LASTS__: RETENTION_HOURS, as the gateway keeps it)."""
    sheet = sheet or fact_sheet()
    page = (STATIC / "index.html").read_text()
    page = PLACEHOLDER.sub(
        lambda m: html.escape(service_detail(sheet, m.group(1), m.group(2)), quote=True), page)
    page = page.replace("__CHAT_LASTS__", how_long(retention_hours))
    return page.replace("__QUICK_EXIT_URL__", html.escape(quick_exit_url, quote=True))


async def index(request: web.Request) -> web.Response:
    return web.Response(text=request.app[CHAT_PAGE], content_type="text/html", charset="utf-8")


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "favicon.svg")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static", STATIC, follow_symlinks=False)
