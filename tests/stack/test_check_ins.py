"""A check-in the person asked for on Telegram, through real gateway processes
(python -m bot) with the real Rasa and action server of `make run` and Telegram's
server faked on loopback: the person goes through the four steps, says "Yes" to
"did this help?" and "Yes, please" to the check-in, all through the webhook. The
gateway killed with SIGKILL before it is due and started again sends it once; two
gateways on PostgreSQL and Redis send it once; "delete my chat" before it is due
means nothing is sent. The rest (the offer's rules, the answers, retries, a crisis):
tests/gateway/test_check_ins.py."""
import itertools
import secrets
import time

from tests.conftest import ROOT
from tests.support.messaging_apps import telegram, telegram_tap, telegram_text
from tests.support.processes import Process

CHATS = itertools.count(640_000_000 + secrets.randbelow(10_000_000))
# Due 6 s after the yes: time to kill the gateway first. No night (CHECK_IN_NIGHT empty):
# otherwise, run at night, it would wait for the morning.
SOON = {"CHECK_IN_AFTER_MINUTES": "0.1", "CHECK_IN_NIGHT": ""}
DUE_SECONDS = 6
REDIS = "redis://127.0.0.1:6379/0"
# To the end of the four steps, as a person writes it; then no to a person.
FOUR_STEPS = ["someone is threatening to send my nudes to my family unless i pay", "ok", "done", "done",
              "no thanks"]
CHECK_IN = "Hi, it's the support chat. You asked me to check on you."


def to_chat(chat):
    return lambda r: r["path"].endswith("/sendMessage") and r["json"].get("chat_id") == str(chat)


def check_ins_to(provider, chat):
    return [r for r in provider.requests if not r["failed"] and to_chat(chat)(r)
            and r["json"]["text"].startswith(CHECK_IN)]


def with_button(chat, payload):
    return lambda r: to_chat(chat)(r) and payload in str(r["json"].get("reply_markup"))


def answered(gateway, provider, chat, update, settle: float = 1.0) -> None:
    """Sends the update and waits until its replies have stopped coming."""
    since = len(provider.requests)
    assert telegram(gateway, update)[0] == 200
    provider.wait_for(to_chat(chat), since=since)
    count = -1
    while count != len([r for r in provider.requests[since:] if to_chat(chat)(r)]):
        count = len([r for r in provider.requests[since:] if to_chat(chat)(r)])
        time.sleep(settle)


def agreed(provider, chat, taps_on, writes_on=None) -> float:
    """Through the four steps on `writes_on`, then "did this help?" and the check-in
    tapped on `taps_on`; the time the yes was answered."""
    writes_on = writes_on or taps_on
    since = len(provider.requests)
    for text in FOUR_STEPS:
        answered(writes_on, provider, chat, telegram_text(chat, text))
    provider.wait_for(with_button(chat, "/did_this_help_four_steps_yes"), since=since, timeout=5)
    since = len(provider.requests)
    assert telegram(taps_on, telegram_tap(chat, "/did_this_help_four_steps_yes"))[0] == 200
    provider.wait_for(with_button(chat, "/check_in_yes"), since=since)
    since = len(provider.requests)
    assert telegram(taps_on, telegram_tap(chat, "/check_in_yes"))[0] == 200
    [ok] = provider.wait_for(lambda r: to_chat(chat)(r) and r["json"]["text"].startswith("OK."), since=since)
    assert ok["json"]["text"].startswith("OK. I'll send you one message ")
    assert ", in about a minute. " in ok["json"]["text"]
    return time.monotonic()


def arrives_once(provider, chat, timeout: float = 60) -> None:
    provider.wait_for(lambda r: to_chat(chat)(r) and r["json"]["text"].startswith(CHECK_IN), timeout=timeout)
    time.sleep(DUE_SECONDS)  # long enough for a second one, from anyone
    assert len(check_ins_to(provider, chat)) == 1


def test_a_check_in_survives_its_gateway_killed_before_it_is_due(start_gateway, provider, database_url):
    chat = next(CHATS)
    gateway = start_gateway(DATABASE_URL=database_url, **SOON)
    yes_at = agreed(provider, chat, gateway)
    gateway["process"].kill()  # SIGKILL, before it is due
    time.sleep(max(0.0, yes_at + DUE_SECONDS + 1 - time.monotonic()))
    assert check_ins_to(provider, chat) == []  # due, and nobody alive to send it
    again = Process.ready([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot"], gateway["env"],
                          f"{gateway['base']}/api/openapi.json", timeout=120)
    try:
        arrives_once(provider, chat)
        assert "Steps we haven't talked about yet" not in check_ins_to(provider, chat)[0]["json"]["text"]
    finally:
        again.stop()


def test_two_gateways_on_postgresql_and_redis_send_it_once(start_gateway, provider, postgres_schema):
    chat = next(CHATS)
    shared = {"DATABASE_URL": postgres_schema(), "REDIS_URL": REDIS, **SOON}
    first, second = start_gateway(**shared), start_gateway(**shared)
    agreed(provider, chat, taps_on=second, writes_on=first)  # both are told it is scheduled
    arrives_once(provider, chat)


def test_delete_my_chat_before_it_is_due_means_nothing_is_sent(start_gateway, provider, tmp_path):
    chat = next(CHATS)
    gateway = start_gateway(DATABASE_URL=f"sqlite:///{tmp_path / 'gateway.sqlite3'}", **SOON)
    yes_at = agreed(provider, chat, gateway)
    since = len(provider.requests)
    assert telegram(gateway, telegram_text(chat, "delete my chat"))[0] == 200  # within the grace
    provider.wait_for(lambda r: to_chat(chat)(r) and "delete" in r["json"]["text"], since=since)
    time.sleep(max(0.0, yes_at + DUE_SECONDS * 2 - time.monotonic()))
    assert check_ins_to(provider, chat) == []
