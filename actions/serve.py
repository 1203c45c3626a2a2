"""Starts the action server: `python -m actions.serve` (scripts/run_stack.py and the
containers both run it), instead of `rasa run actions`.

It is rasa_sdk's own server (rasa_sdk.endpoint.create_app, run as rasa_sdk's `run`
does) with one thing added: every call but GET /health must carry
`Authorization: Bearer <ACTION_SERVER_TOKEN>`, or it gets 401. Rasa sends that
header from endpoints.yml (action_endpoint's `headers`, which Rasa's EndpointConfig
adds to every call), so only our Rasa servers can run the actions: they read the
conversation's slots and ask the gateway to queue handoffs and pass cases on. The
gateway's health check stays open. Neither library is patched.

Everything comes from the environment, not the command line (`ps` shows that):

    ACTION_SERVER_TOKEN   required: the secret Rasa sends (scripts/run_stack.py
                          makes one per run when unset)
    ACTION_SERVER_PORT    5055;  SANIC_HOST 0.0.0.0 (run_stack.py: 127.0.0.1)
    LOG_LEVEL             INFO;  LOG_LEVEL_LIBRARIES ERROR (Sanic's, as rasa_sdk reads it)
    SANIC_WORKERS         rasa_sdk's own
"""
import hmac
import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request

logger = logging.getLogger(__name__)
OPEN_PATHS = {"/health"}


def guarded_app(token: str) -> Sanic:
    """rasa_sdk's app for our actions, refusing calls without the token. No CORS
    (`rasa run actions` has none either): no browser ever calls it."""
    app = create_app("actions", cors_origins=None)
    expected = f"Bearer {token}".encode()

    @app.on_request
    async def rasa_only(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("Authorization", "")
        # Constant time; Sanic keeps undecodable bytes as surrogates: encode them back.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected):
            return response.json({"error": "Unknown caller."}, status=401)
        return None

    return app


def main() -> None:
    token = os.environ.get("ACTION_SERVER_TOKEN", "").strip()
    if not token:
        sys.exit("ACTION_SERVER_TOKEN is not set: anyone who reaches the action server "
                 "could run the actions.")
    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    app = guarded_app(token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host, port = os.environ.get("SANIC_HOST", "0.0.0.0"), int(os.environ.get("ACTION_SERVER_PORT", "5055"))
    logger.info("Action endpoint is up and running on http://%s:%d", host, port)
    # access_log=False: an access log would hold addresses, whatever the log level says.
    app.run(host, port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
