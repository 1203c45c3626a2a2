"""Runs the gateway: `python -m bot` (make run starts it with Rasa and the actions)."""
import logging
import os
import sys

# spaCy's thinc imports TensorFlow when it can find it (Rasa installs it): the
# gateway never needs it, and without it the process is ~1 GB smaller.
sys.modules.setdefault("tensorflow", None)

import asyncio  # noqa: E402

from aiohttp import web  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.conversation.check_in_time import CheckInSettingsError  # noqa: E402
from bot.errors import GuardedAppRunner  # noqa: E402
from bot.internal import create_internal_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.staff.saved_replies import SavedRepliesError  # noqa: E402


async def serve(settings: Settings) -> None:
    """The public app on GATEWAY_HOST:GATEWAY_PORT and the internal API (for the
    action server) on GATEWAY_INTERNAL_HOST:GATEWAY_INTERNAL_PORT, until stopped."""
    app = create_app(settings)
    # access_log=None: an access log would hold IP addresses, user agents and session ids.
    # Guarded: a request aiohttp can't parse is logged and answered without its contents.
    public = GuardedAppRunner(app, access_log=None, handle_signals=True)
    internal = GuardedAppRunner(create_internal_app(app, settings.internal_token), access_log=None)
    await public.setup()
    await internal.setup()
    try:
        await web.TCPSite(public, settings.host, settings.port).start()
        await web.TCPSite(internal, settings.internal_host, settings.internal_port).start()
        print(f"Gateway listening on http://{settings.host}:{settings.port}/", flush=True)
        await asyncio.Event().wait()
    finally:
        await internal.cleanup()
        await public.cleanup()


def main() -> None:
    settings = Settings.from_env()
    if settings.redis_url and not os.environ.get("CHANNEL_ID_KEY", "").strip() and (
            settings.telegram_enabled or settings.whatsapp_enabled):
        # Each gateway would make its own random key: one Telegram chat would be a
        # different conversation on each, and staff replies would not arrive.
        sys.exit("Several gateways (REDIS_URL) with Telegram or WhatsApp need the same "
                 "CHANNEL_ID_KEY on every gateway: set it in .env.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(settings))
    except (KeyboardInterrupt, web.GracefulExit):
        pass
    except (SavedRepliesError, CheckInSettingsError) as error:  # say what to fix, no traceback
        sys.exit(str(error))


if __name__ == "__main__":
    main()
