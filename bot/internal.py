"""The gateway's internal API, for the action server only: on its own port,
on loopback unless GATEWAY_INTERNAL_HOST says otherwise (containers: the private
network; never behind the public proxy), and every
request must carry `Authorization: Bearer <GATEWAY_INTERNAL_TOKEN>`.

    POST /internal/handoffs  {"session", "crisis": bool, "queue_when_closed": bool,
                              "under_18": bool, "helping": bool, "paid": bool,
                              "images_shared": bool}
         -> {"status": "queued", "position", "wait_minutes", "paused", "already"}
          | {"status": "unavailable", "reason": "out_of_hours"|"nobody_on_shift", "opens"}
    POST /internal/cases     {"session", "answers": {...}, "contact_given": bool}
         -> {"reference", "status": "pending"|"delivered"|"failed", "already": bool}
            once the case is in the outbox (bot/reporting/outbox.py); 503 without a reporting channel
"""
from aiohttp import web

from bot.errors import Problem, errors_as_json
from bot.keys import CONVERSATIONS, HANDOFFS, REPORTS
from bot.signatures import same_secret
from bot.web.checks import check_session, read_json_object


def create_internal_app(public: web.Application, token: str) -> web.Application:
    @web.middleware
    async def action_server_only(request: web.Request, handler):
        given = request.headers.get("Authorization", "")
        if not token or not same_secret(given, f"Bearer {token}"):
            raise Problem(401, "Unknown caller.")
        return await handler(request)

    app = web.Application(middlewares=[errors_as_json, action_server_only])

    async def request_handoff(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        session = check_session(data.get("session"))
        answer = await public[HANDOFFS].request(session, data.get("crisis") is True,
                                                data.get("queue_when_closed") is True,
                                                under_18=data.get("under_18") is True,
                                                helping=data.get("helping") is True,
                                                paid=data.get("paid") is True,
                                                images_shared=data.get("images_shared") is True)
        if answer is None:
            raise Problem(404, "No such conversation.")
        return web.json_response(answer)

    async def submit_case(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        session = check_session(data.get("session"))
        if not await public[CONVERSATIONS].exists(session):
            raise Problem(404, "No such conversation.")
        answer = await public[REPORTS].submit(session, data.get("answers"), consent="victim",
                                              contact_given=data.get("contact_given") is True)
        if answer is None:
            raise Problem(503, "No reporting channel is set up (REPORT_WEBHOOK_URL).")
        return web.json_response(answer)

    app.router.add_post("/internal/handoffs", request_handoff)
    app.router.add_post("/internal/cases", submit_case)
    return app
