"""What create_app (bot/app.py) wires, and in which order it all stops."""
import pytest

from bot.keys import AUTH, CHAT_PAGE, CONSOLE_PAGE, CONVERSATIONS, HANDOFFS, HTTP, REPORTS, SETTINGS, TASKS
from bot.messaging import shared as messaging
from bot.staff.wrapup import WrapUpFileError
from tests.support.gateways import gateway_app


def test_every_app_key_is_set_by_create_app():
    app = gateway_app()
    for key in (SETTINGS, CONVERSATIONS, HANDOFFS, AUTH, REPORTS, CHAT_PAGE, CONSOLE_PAGE, HTTP, TASKS):
        assert key in app, key


def test_replies_on_their_way_finish_first_and_the_store_closes_last():
    # Replies still going to Telegram or WhatsApp publish what they say to the other
    # gateways: that must happen before the bus and the background loops stop.
    app = gateway_app()
    cleanup = list(app.on_cleanup)
    # aiohttp stops the cleanup contexts (the bus, the outbox, retention) in the middle.
    assert cleanup[0] is messaging.finish
    assert cleanup[-1].__name__ == "close" and len(cleanup) == 3


def test_the_gateway_does_not_start_with_a_malformed_or_missing_wrapup_file(tmp_path):
    broken = tmp_path / "wrapup.yml"
    broken.write_text("categories: []\noutcomes: []\n")
    with pytest.raises(WrapUpFileError, match="needs a non-empty list `categories`"):
        gateway_app(wrapup_file=str(broken))
    with pytest.raises(WrapUpFileError, match="Can't read the wrap-up file"):
        gateway_app(wrapup_file=str(tmp_path / "missing.yml"))
