"""Runs the gateway: `python -m bot` (make run starts it with Rasa and the actions)."""
import logging
import sys

# spaCy's thinc imports TensorFlow when it can find it (Rasa installs it): the
# gateway never needs it, and without it the process is ~1 GB smaller.
sys.modules.setdefault("tensorflow", None)

from aiohttp import web  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # access_log=None: an access log would hold IP addresses, user agents and session ids.
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                access_log=None, print=lambda _: print(
                    f"Gateway listening on http://{settings.host}:{settings.port}/", flush=True))


if __name__ == "__main__":
    main()
