"""Gateways built in this process as `python -m bot` builds them (bot.app.create_app),
on real loopback sockets, for what needs no Rasa: staff logins, the console's live
feed, the messaging apps' webhooks. Rasa and the action server are addresses where
nothing listens, so a turn gets the gateway's own calm reply.

Several gateways on one database (and Redis) are replicas; a new gateway on the
database of one that stopped is that gateway restarted."""
import contextlib
import functools
from typing import AsyncIterator

from aiohttp import web

from bot.app import create_app
from bot.conversation.crisis_floor import CrisisFloor, load_crisis_floor
from bot.conversation.redaction import Redactor, load_redactor
from bot.settings import Settings
from tests.support.processes import free_port

NOBODY = f"http://127.0.0.1:{free_port()}"  # nothing listens here


@functools.lru_cache(maxsize=1)
def redactor() -> Redactor:
    return load_redactor()  # spaCy's model, loaded once for every gateway here


@functools.lru_cache(maxsize=1)
def crisis_floor() -> CrisisFloor:
    return load_crisis_floor()  # the same: spaCy's model with lemmas, once


def gateway_app(**settings) -> web.Application:
    """The gateway's app with these settings, not started."""
    return create_app(Settings(**{"rasa_url": NOBODY, "actions_url": NOBODY,
                                  "rasa_token": "unused", **settings}), redactor(), crisis_floor())


@contextlib.asynccontextmanager
async def gateway(**settings) -> AsyncIterator[str]:
    """A running gateway with these settings; yields its base URL."""
    port = free_port()
    app = gateway_app(port=port, **settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
