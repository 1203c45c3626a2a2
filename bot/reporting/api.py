"""The staff console's routes for the reporting channel (the outbox: outbox.py).

    GET  /staff/api/cases                         -> {"enabled", "counts", "cases"}
    POST /staff/api/cases/{reference}/retry       a failed case, tried again
    POST /staff/api/conversations/{id}/report     during a handoff, with the person's consent
"""
from typing import Any, Optional

from aiohttp import web

from bot.conversation.replies import reply
from bot.errors import Problem
from bot.keys import HANDOFFS, REPORTS
from bot.reporting.outbox import MAX_HELD_CHARS, staff_view
from bot.staff.api import API, staff
from bot.web.checks import read_json_object


async def list_cases(request: web.Request) -> web.Response:
    """GET /staff/api/cases -> {"enabled", "counts": {pending, delivered, failed}, "cases"}."""
    store = request.app[REPORTS].store
    return web.json_response({"enabled": request.app[REPORTS].enabled,
                              "counts": await store.case_counts(),
                              "cases": [staff_view(c) for c in await store.cases()]})


async def retry_case(request: web.Request) -> web.Response:
    """POST /staff/api/cases/{reference}/retry: a failed case, tried again."""
    reference = request.match_info["reference"]
    if not await request.app[REPORTS].retry(reference):
        raise Problem(409, "Only a case whose delivery failed can be retried.")
    await request.app[REPORTS].store.audit(staff(request), "case_retry", reference)
    return web.json_response({"reference": reference, "status": "pending"})


async def report_for_them(request: web.Request) -> web.Response:
    """POST /staff/api/conversations/{id}/report {"consent": true, "answers"?,
    "blackmailer"?, "contact"?}: during a handoff, with the person's consent."""
    reporting, handoffs = request.app[REPORTS], request.app[HANDOFFS]
    data = await read_json_object(request)
    extra = {name: check_optional_text(data.get(name), MAX_HELD_CHARS)
             for name in ("blackmailer", "contact")}
    if data.get("consent") is not True:
        raise Problem(400, "Pass a case on only once the person has agreed in the chat: "
                           "then confirm their consent.")
    if not reporting.enabled:
        raise Problem(503, "No reporting channel is set up here (REPORT_WEBHOOK_URL).")
    conversation = request.match_info["id"]
    handoff = await handoffs.held_by(conversation, staff(request))
    session_id = handoff["session_id"]
    case = await reporting.submit(session_id, data.get("answers"), consent=f"staff:{staff(request)}",
                                  **extra)
    await reporting.store.audit(staff(request), "case_passed_on_with_consent", conversation)
    if not case["already"]:
        notice = reply("gateway_case_passed_on")
        notice["text"] = notice["text"].format(reference=case["reference"])
        await handoffs.chats.push(session_id, [{"from": "bot", **notice}])
    return web.json_response(case)


def check_optional_text(value: Any, limit: int) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Problem(400, f"Give it as text of at most {limit} characters.")
    return value


def setup_routes(app: web.Application) -> None:
    app.router.add_get(API + "cases", list_cases)
    app.router.add_post(API + "cases/{reference}/retry", retry_case)
    app.router.add_post(API + "conversations/{id}/report", report_for_them)

