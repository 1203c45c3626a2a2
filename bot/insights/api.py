"""The insights page and its API, for admins only (`python -m bot.staff add NAME --admin`).

    GET  /staff/insights                               the page (login first; 403 for non-admins)
    GET  /staff/api/insights?days=7                    counts for the last 1-366 days (bot/insights/counts.py)
    GET  /staff/api/insights.csv?days=7                the same, a row a day, as CSV
    GET  /staff/api/insights/unclear                   {"messages", "intents"}: not understood, redacted
    POST /staff/api/insights/unclear/{id}/keep         {"intent"}: kept as a training example
    POST /staff/api/insights/unclear/{id}/dismiss      deleted
    GET  /staff/api/insights/training.yml              the kept examples, as Rasa NLU data

Staff without the admin role get 403; callers without a session 401 (bot/staff/api.py staff_only).
"""
import csv
import io
import re
from typing import Dict, List

from aiohttp import web

from bot.conversation.replies import domain_intents
from bot.errors import Problem
from bot.insights.counts import Insights
from bot.keys import AUTH, CONVERSATIONS
from bot.staff.api import API, staff
from bot.web.checks import read_json_object
from bot.web.page import STATIC

INSIGHTS = API + "insights"
# Where Rasa's entity markup would start in a training example: "](", "]{" or "][".
ENTITY_MARKUP = re.compile(r"\]([({\[])")
MAX_DAYS = 366
NOT_ADMIN = "Only admins can see insights. Ask an admin to give you the role."


def insights(request: web.Request) -> Insights:
    return request.app[CONVERSATIONS].insights


def admins_only(handler):
    """403 unless an admin."""
    async def checked(request: web.Request) -> web.StreamResponse:
        if not request["staff"]["admin"]:
            raise Problem(403, NOT_ADMIN)
        return await handler(request)
    return checked


def days_asked(request: web.Request) -> int:
    given = request.query.get("days", "7")
    # ASCII digits only: str.isdigit also takes "²", which int() refuses; and a few of
    # them, as int() refuses thousands.
    if not (given.isascii() and given.isdigit()) or len(given) > 3 or not 1 <= int(given) <= MAX_DAYS:
        raise Problem(400, f"days must be a whole number from 1 to {MAX_DAYS}.")
    return int(given)


async def page(request: web.Request) -> web.StreamResponse:
    session = await request.app[AUTH].session(request)
    if session is None:
        raise web.HTTPSeeOther("/staff")  # log in there, then follow the link back
    if not session["admin"]:
        return web.Response(status=403, text=NOT_ADMIN)
    return web.FileResponse(STATIC / "insights.html")


@admins_only
async def summary(request: web.Request) -> web.Response:
    return web.json_response(await insights(request).summary(days_asked(request)))


@admins_only
async def export(request: web.Request) -> web.Response:
    rows = await insights(request).csv_rows(days_asked(request))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    await insights(request).store.audit(staff(request), "insights_export")
    first, last = rows[1][0], rows[-2][0]  # the first and last day (the last row is the total)
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="insights-{first}-to-{last}.csv"'})


@admins_only
async def unclear(request: web.Request) -> web.Response:
    return web.json_response({"messages": await insights(request).store.unclear_messages(),
                              "intents": domain_intents()})


@admins_only
async def keep(request: web.Request) -> web.Response:
    intent = (await read_json_object(request)).get("intent")
    if intent not in domain_intents():
        raise Problem(400, "Choose one of the assistant's intents.")
    store = insights(request).store
    if not await store.keep_unclear(request.match_info["id"], intent):
        raise Problem(404, "That message is gone (its conversation was deleted).")
    await store.audit(staff(request), "unclear_kept")
    return web.json_response({"id": request.match_info["id"], "intent": intent})


@admins_only
async def dismiss(request: web.Request) -> web.Response:
    store = insights(request).store
    if not await store.drop_unclear(request.match_info["id"]):
        raise Problem(404, "That message is gone already.")
    await store.audit(staff(request), "unclear_dismissed")
    return web.json_response({"id": request.match_info["id"], "dismissed": True})


@admins_only
async def training(request: web.Request) -> web.Response:
    kept = await insights(request).store.kept_examples()
    return web.Response(text=nlu_yaml(kept), content_type="text/yaml", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="unclear-examples.yml"'})


def nlu_yaml(examples: Dict[str, List[str]]) -> str:
    """Rasa's NLU training format, ready to merge into data/nlu/ after a read-through."""
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in examples.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {plain_example(text)}" for text in texts]
    return "\n".join(lines) + "\n"


def plain_example(text: str) -> str:
    """One line that Rasa reads as the words typed. Rasa takes "[words](entity)",
    "[words]{...}" and "[words][...]" in an example for entity markup: a space after
    the "]" keeps them the person's words, with no entities."""
    return ENTITY_MARKUP.sub(r"] \1", " ".join(text.split()))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/staff/insights", page)
    app.router.add_get(INSIGHTS, summary)
    app.router.add_get(INSIGHTS + ".csv", export)
    app.router.add_get(INSIGHTS + "/unclear", unclear)
    app.router.add_post(INSIGHTS + "/unclear/{id}/keep", keep)
    app.router.add_post(INSIGHTS + "/unclear/{id}/dismiss", dismiss)
    app.router.add_get(INSIGHTS + "/training.yml", training)
