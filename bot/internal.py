"""The gateway's internal API, for the action server only: on its own port,
on loopback (GATEWAY_INTERNAL_PORT, never behind the public proxy), and every
request must carry `Authorization: Bearer <GATEWAY_INTERNAL_TOKEN>`.

    POST /internal/handoffs  {"session", "crisis": bool, "queue_when_closed": bool}
         -> {"status": "queued", "position", "wait_minutes", "paused", "already"}
          | {"status": "unavailable", "reason": "out_of_hours"|"nobody_on_shift", "opens"}
"""
from aiohttp import web

from bot.api import BadInput, check_session, read_json_object
from bot.errors import errors_as_json, json_error
from bot.messaging import same_secret
from bot.staff_api import HANDOFFS


def create_internal_app(public: web.Application, token: str) -> web.Application:
    app = web.Application(middlewares=[errors_as_json])

    async def request_handoff(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        if not token or not same_secret(given, f"Bearer {token}"):
            return json_error(401, "Unknown caller.")
        try:
            data = await read_json_object(request)
            session = check_session(data.get("session"))
        except BadInput as problem:
            return json_error(problem.status, problem.message)
        answer = await public[HANDOFFS].request(session, data.get("crisis") is True,
                                                data.get("queue_when_closed") is True)
        if answer is None:
            return json_error(404, "No such conversation.")
        return web.json_response(answer)

    app.router.add_post("/internal/handoffs", request_handoff)
    return app
