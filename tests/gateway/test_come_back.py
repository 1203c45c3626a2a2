"""The come-back code (bot/web/come_back.py) through a gateway in this process, on
SQLite and PostgreSQL: a code opens its conversation whatever the case and the
separators; a new code, "delete my chat" and retention end it; every code that opens
nothing gets the same answer after the same time; the store keeps only a hash, the
logs nothing; insights count it all. And guessing: the bits a code carries and how
long a failed try takes."""
import asyncio
import hashlib
import logging
import secrets
import statistics
import time

import pytest
from sqlalchemy import create_engine, text

from bot import retention
from bot.conversation.come_back_code import BITS, PLACEHOLDER, UNFIT, WORDS, WORDS_IN_A_CODE, hidden
from bot.conversation.replies import reply
from bot.conversation.turn import new_session_id
from bot.insights import counts
from bot.messaging.shared import user_hash
from bot.store import engine_url
from bot.web.come_back import ALREADY, LOOKUPS_AT_ONCE, NOT_OPENED
from tests.gateway.test_messaging_turns import sent_to
from tests.gateway.test_turn import stored_bytes
from tests.support.counts import raw_counts
from tests.support.gateways import claimed, running
from tests.support.messaging_apps import telegram_says, telegram_settings

FAIL_SECONDS = 0.3  # COME_BACK_FAIL_SECONDS here: short, to keep the tests fast
FAILED = (404, {"error": NOT_OPENED})


@pytest.fixture
async def gw(rasa, database_url):
    """A gateway on SQLite or PostgreSQL, failed tries padded to FAIL_SECONDS."""
    async with running(rasa, database_url=database_url, come_back_fail_seconds=FAIL_SECONDS) as started:
        yield started


async def post(gw, path, body=None, raw=None):
    """(status, JSON body) of a POST; `raw`: bytes sent as they are instead of JSON."""
    async with gw.http.post(gw.base + path, json=body if raw is None else None, data=raw) as response:
        return response.status, await response.json()


async def new_code(gw, session, replace=None):
    """A code for the session: its first, or (`replace` True) a new one in place of it."""
    status, body = await post(gw, f"/api/chat/{session}/code", None if replace is None else {"replace": replace})
    assert status == 201, body
    return body["code"]


async def resume(gw, code):
    return await post(gw, "/api/chat/resume", {"code": code})


def someone_elses_code():
    """Seven words from the list that no conversation has."""
    return " ".join(secrets.choice(WORDS) for _ in range(WORDS_IN_A_CODE))


def come_back_rows(database_url):
    """Every row of come_back_codes, as the database holds it."""
    engine = create_engine(engine_url(database_url), future=True)
    with engine.connect() as db:
        rows = [dict(row) for row in db.execute(text("SELECT * FROM come_back_codes")).mappings()]
    engine.dispose()
    return rows


async def test_a_code_opens_its_conversation_whatever_the_case_and_the_separators(gw, database_url):
    session = await gw.start("he says he'll send my pics to everyone")
    code = await new_code(gw, session)
    words = code.split(" ")
    assert len(words) == WORDS_IN_A_CODE and all(word in WORDS for word in words)
    assert code not in str(await gw.transcript(session))  # never a message: staff read those

    for typed in (code, code.upper(), "-".join(words), ", ".join(words), ". ".join(words) + ".",
                  "  " + "   ".join(word.capitalize() for word in words) + "\n", "\u2013".join(words)):
        assert await resume(gw, typed) == (200, {"session": session}), typed
    # The page then reads it from the start, as it was stored (redacted).
    assert [m["text"] for m in await gw.transcript(session)][:1] == ["he says he'll send my pics to everyone"]
    counts = await raw_counts(database_url)
    assert (counts.get("come_back_made"), counts.get("come_back_used"), counts.get("come_back_failed")) == (
        1, 7, None)


async def test_the_code_goes_on_with_the_same_conversation_from_a_new_page(gw):
    session = await gw.start("hi")
    code = await new_code(gw, session)
    status, body = await resume(gw, code)
    assert status == 200
    async with gw.page(body["session"], after=0) as page:
        backlog = [await page.receive_json(timeout=5) for _ in await gw.transcript(session)]
        assert [m["seq"] for m in backlog] == [1, 2]
        await page.send_json({"type": "say", "text": "i'm back"})
        assert (await page.receive_json(timeout=5))["text"] == "i'm back"
    assert (await gw.transcript(session))[2]["text"] == "i'm back"


async def test_a_chat_with_a_code_gets_a_new_one_only_when_asked_to_replace_it(gw, database_url):
    """The page forgets a code at a reload: asking again must not end the code the
    person wrote down without a word (409), unless they ask for a new one."""
    session = await gw.start("hi")
    old = await new_code(gw, session)
    for body in (None, {}, {"replace": False}):
        assert await post(gw, f"/api/chat/{session}/code", body) == (409, {"error": ALREADY}), body
    assert await resume(gw, old) == (200, {"session": session})  # still works
    for raw in (b"not json", b"[]", b'{"replace": "yes"}', b'{"replace": 1}'):
        status, body = await post(gw, f"/api/chat/{session}/code", raw=raw)
        assert status == 400 and body["error"], raw
    assert await resume(gw, old) == (200, {"session": session})

    new = await new_code(gw, session, replace=True)
    assert old != new
    assert await resume(gw, old) == FAILED
    assert await resume(gw, new) == (200, {"session": session})
    assert len(come_back_rows(database_url)) == 1  # one a conversation
    fresh = await gw.start("hi")  # replace on a chat with no code yet makes its first
    assert await resume(gw, await new_code(gw, fresh, replace=True)) == (200, {"session": fresh})
    counts = await raw_counts(database_url)
    assert counts["come_back_made"] == 3  # a 409 makes nothing


async def test_delete_my_chat_and_retention_end_the_code_with_the_chat(gw, database_url):
    forgotten, idle, kept = [await gw.start("hi") for _ in range(3)]
    codes = {session: await new_code(gw, session) for session in (forgotten, idle, kept)}

    await gw.chats.forget(forgotten)  # "delete my chat"
    assert await resume(gw, codes[forgotten]) == FAILED

    # No message for longer than RETENTION_HOURS: the code opens nothing at once, even
    # before the retention job has run; then the job deletes the chat, and the code with it.
    engine = create_engine(engine_url(database_url), future=True)
    with engine.begin() as db:
        db.execute(text("UPDATE sessions SET last_active = :old WHERE id = :s"),
                   {"old": time.time() - 49 * 3600, "s": idle})
    engine.dispose()
    assert await resume(gw, codes[idle]) == FAILED
    assert await retention.sweep(gw.app) == 1
    assert [row["session_id"] for row in come_back_rows(database_url)] == [kept]
    assert await resume(gw, codes[kept]) == (200, {"session": kept})


async def test_every_code_that_opens_nothing_gets_the_same_answer(gw, database_url):
    session = await gw.start("hi")
    replaced = await new_code(gw, session)
    await new_code(gw, session, replace=True)
    deleted_session = await gw.start("hi")
    deleted = await new_code(gw, deleted_session)
    await gw.chats.forget(deleted_session)
    words = someone_elses_code().split(" ")
    for typed in (someone_elses_code(), replaced, deleted,
                  " ".join(words[:6]), " ".join(words + words[:1]),  # a word short, one too many
                  " ".join(["hello", *words[1:]]), "", "   ", "!!!", "x" * 200):
        assert await resume(gw, typed) == FAILED, typed
    # Not a guess at all: told at once what is wrong, and not counted.
    for raw in (b"not json", b"[]", b'"words"', b'{"code": 7}', b'{"code": null}', b"{}",
                b'{"code": "' + b"x" * 201 + b'"}'):
        status, body = await post(gw, "/api/chat/resume", raw=raw)
        assert status == 400 and body["error"] and body != FAILED[1], raw
    await gw.chats.insights.write_tally()  # failures are written as one sum now and then
    assert (await raw_counts(database_url))["come_back_failed"] == 10


def watched(store, name):
    """The store's method `name`, still run, recorded: each call's arguments ("calls")
    and the most running at once ("peak")."""
    real, seen = getattr(store, name), {"calls": [], "now": 0, "peak": 0}

    async def recorded(*args):
        seen["calls"].append(args)
        seen["now"] += 1
        seen["peak"] = max(seen["peak"], seen["now"])
        try:
            return await real(*args)
        finally:
            seen["now"] -= 1
    setattr(store, name, recorded)
    return seen


async def test_a_flood_of_guesses_waits_for_a_few_lookups_and_is_counted_in_one_write(gw, database_url, capsys):
    """Thousands of guesses at once must not each take the store (one thread on SQLite)
    from the people talking: a few lookups at a time, gateway-wide, and the failures
    written to insights as one sum now and then. Each still gets the one answer, no
    sooner than COME_BACK_FAIL_SECONDS; a person's turn meanwhile is answered."""
    session = await gw.start("hi")
    right = await new_code(gw, session)
    lookups = watched(gw.store, "come_back_session")
    writes = [watched(gw.store, name) for name in ("count", "add_counts") if hasattr(gw.store, name)]

    def failures_written():
        return [args for seen in writes for args in seen["calls"] if "come_back_failed" in str(args)]

    async def guess():
        started = time.monotonic()
        answer = await resume(gw, someone_elses_code())
        return time.monotonic() - started, answer

    guesses = 300
    *tries, replied = await asyncio.gather(*(guess() for _ in range(guesses)),
                                           gw.say(session, "are you still there"))
    assert replied and all(answer == FAILED and took >= FAIL_SECONDS for took, answer in tries)
    assert len(lookups["calls"]) == guesses
    assert lookups["peak"] <= LOOKUPS_AT_ONCE and not failures_written(), (
        lookups["peak"], len(failures_written()))
    assert await resume(gw, right) == (200, {"session": session})
    took = sorted(took for took, _ in tries)
    with capsys.disabled():
        print(f"\n{guesses} guesses at once: each answered after {took[0]:.3f} to {took[-1]:.3f} s"
              f" (COME_BACK_FAIL_SECONDS={FAIL_SECONDS}), at most {lookups['peak']} lookups at once.")

    await gw.chats.insights.write_tally()  # as it does now and then, and at shutdown
    assert len(failures_written()) == 1
    assert (await raw_counts(database_url))["come_back_failed"] == guesses


async def test_failures_tallied_are_written_soon_and_at_shutdown(rasa, sqlite_url, monkeypatch):
    monkeypatch.setattr(counts, "TALLY_SECONDS", 0.2)
    async with running(rasa, database_url=sqlite_url, come_back_fail_seconds=0) as gw:
        for _ in range(3):
            assert await resume(gw, someone_elses_code()) == FAILED
        assert "come_back_failed" not in await raw_counts(sqlite_url)  # not yet
        await asyncio.sleep(0.5)
        assert (await raw_counts(sqlite_url))["come_back_failed"] == 3
        assert await resume(gw, someone_elses_code()) == FAILED
    assert (await raw_counts(sqlite_url))["come_back_failed"] == 4  # written as the gateway stopped


async def test_the_code_panel_says_how_long_a_chat_lasts_as_the_gateway_keeps_it(rasa, sqlite_url):
    for hours, lasts in ((48, "2 days"), (36, "36 hours"), (72, "3 days"), (24, "1 day"), (30.5, "30.5 hours")):
        async with running(rasa, database_url=sqlite_url, retention_hours=hours) as gw, \
                gw.http.get(gw.base + "/") as response:
            page = await response.text()
        panel = page[page.index('<section id="code-panel"'):]
        panel = panel[:panel.index("</section>")]
        assert f"It stops working when the chat is deleted: after {lasts} with no messages," in panel, hours


async def test_a_code_is_made_only_for_a_web_conversation_that_exists(gw):
    telegram = new_session_id()
    await gw.store.create_session(telegram, "telegram")  # its person never sees its id
    for session in (telegram, new_session_id()):
        assert await post(gw, f"/api/chat/{session}/code") == (404, {"error": "No such conversation."})
    status, body = await post(gw, "/api/chat/not%20a%20session/code")
    assert status == 400 and body["error"]


async def test_the_store_keeps_only_the_codes_hash(gw, database_url):
    session = await gw.start("hi")
    code = await new_code(gw, session)
    [row] = come_back_rows(database_url)
    assert row["code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    assert row["session_id"] == session and set(row) == {"code_hash", "session_id", "created_at"}
    if database_url.startswith("sqlite"):
        assert code.encode() not in stored_bytes(database_url)  # nor in the write-ahead log


async def test_nothing_of_a_try_is_logged_but_that_one_failed(gw, caplog):
    caplog.set_level(logging.DEBUG)
    session = await gw.start("hi")
    code = await new_code(gw, session)
    assert (await resume(gw, code))[0] == 200
    wrong = someone_elses_code()
    assert await resume(gw, wrong) == FAILED
    assert [r.getMessage() for r in caplog.records if r.name == "bot.web.come_back"] == [
        "A come-back code opened no chat."]
    for secret in (session, code, wrong):
        assert secret not in caplog.text


async def test_guessing_how_many_bits_a_code_carries_and_how_long_a_failed_try_takes(
        gw, capsys, record_property):
    """The numbers the issue asks for: a guesser faces 2**BITS codes, and each wrong
    try takes COME_BACK_FAIL_SECONDS whatever was wrong with it."""
    assert not UNFIT & set(WORDS)
    assert all(word.isascii() and word.isalpha() for word in WORDS)  # no separator inside a word
    assert BITS >= 64

    session = await gw.start("hi")
    right = await new_code(gw, session)
    deleted_session = await gw.start("hi")
    deleted = await new_code(gw, deleted_session)
    await gw.chats.forget(deleted_session)
    kinds = {"wrong": someone_elses_code, "deleted": lambda: deleted,
             "malformed": lambda: "these are not the words"}

    async def timed(code):
        started = time.monotonic()
        answer = await resume(gw, code)
        return time.monotonic() - started, answer

    took = {kind: [] for kind in kinds}
    for _ in range(3):
        for kind, code in kinds.items():
            seconds, answer = await timed(code())
            assert answer == FAILED
            took[kind].append(seconds)
    success, answer = await timed(right)
    assert answer == (200, {"session": session})

    every = [seconds for times in took.values() for seconds in times]
    means = {kind: statistics.mean(times) for kind, times in took.items()}
    spread = max(means.values()) - min(means.values())
    assert min(every) >= FAIL_SECONDS
    assert spread < 0.1, means  # the time says nothing about why
    assert success < FAIL_SECONDS  # a right code is not held up

    # Far more than a gateway answers, from as many addresses as anyone likes:
    # the years to find one of 10,000 codes alive at once, on average.
    years = 2 ** BITS / 2 / 10_000 / 1_000 / (365 * 24 * 3600)
    record_property("come_back_bits", round(BITS, 1))
    record_property("come_back_failed_try_seconds", round(min(every), 3))
    with capsys.disabled():
        print(f"\nA come-back code: {WORDS_IN_A_CODE} words from {len(WORDS)}, {BITS:.1f} bits.")
        print("A failed try took " + ", ".join(f"{kind} {means[kind]:.3f} s" for kind in kinds)
              + f" (COME_BACK_FAIL_SECONDS={FAIL_SECONDS}; spread {spread * 1000:.0f} ms);"
              f" a right code {success:.3f} s.")
        print(f"At 1,000 guesses a second, finding any one of 10,000 codes in use takes {years:.1e} years"
              " on average.")


# --- A code typed into the message box ------------------------------------------------
KEPT_OUT = "gateway_come_back_code"


def rasa_got(rasa):
    """Every text Rasa was sent or asked to read."""
    return [call.text for call in rasa.calls if call.text]


def never_kept(code, transcript, rasa, database_url):
    """Not one of the code's words in a row anywhere: the transcript, the store's bytes
    (SQLite), what Rasa got."""
    assert code not in str(transcript)
    assert all(hidden(text) == text for text in rasa_got(rasa)), rasa_got(rasa)
    if database_url.startswith("sqlite"):
        stored = stored_bytes(database_url).decode("utf-8", "replace").casefold()
        assert hidden(stored) == stored


async def test_a_code_typed_as_a_message_is_kept_out_of_the_chat_and_never_reaches_rasa(
        gw, rasa, database_url):
    """A returning person types the code into the chat instead of "I have a code"."""
    session = await gw.start("he says he'll post my pics")
    code = await new_code(gw, session)
    words = code.split(" ")
    rasa.calls.clear()
    for typed in (code, "-".join(word.capitalize() for word in words), f'"{", ".join(words)}."'):
        assert [r["response"] for r in await gw.say(session, typed)] == [KEPT_OUT], typed
    assert rasa_got(rasa) == []  # nothing but a code: not for Rasa at all
    # In a sentence: only the code goes, and most of one too (six of its words, one
    # mistyped or missing, are nearly the code to whoever reads them).
    await gw.say(session, f"my code is {code.upper()} and i tried {' '.join(words[:6])} too")
    assert rasa_got(rasa) == [f"my code is {PLACEHOLDER} and i tried {PLACEHOLDER} too"]
    transcript = await gw.transcript(session)
    assert [m["text"] for m in transcript if m["from"] == "user"][1:] == [
        PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, rasa_got(rasa)[0]]
    assert "I have a code" in transcript[3]["text"] and "999" in transcript[3]["text"]

    # While a person from the team holds the chat: they read the placeholder, Rasa nothing.
    held, _ = await claimed(gw, rasa, await gw.staff_member())
    rasa.calls.clear()
    assert [r["response"] for r in await gw.say(held, code)] == [KEPT_OUT]
    assert rasa_got(rasa) == []
    never_kept(code, transcript + await gw.transcript(held), rasa, database_url)
    assert await resume(gw, code) == (200, {"session": session})  # the code still works where it should


async def test_a_code_typed_on_telegram_is_kept_out_and_never_reaches_rasa(rasa, provider, sqlite_url):
    key = b"a channel id key"
    async with running(rasa, database_url=sqlite_url, **telegram_settings(provider, channel_id_key=key)) as gw:
        code = await new_code(gw, await gw.start("hi"))
        chat = 650_000_000 + secrets.randbelow(10_000_000)
        since = len(provider.requests)
        rasa.calls.clear()
        await telegram_says(gw, chat, code.replace(" ", "\n"))
        assert await sent_to(provider, chat, since) == [reply(KEPT_OUT)["text"]]
        assert rasa_got(rasa) == []
        session = await gw.store.session_for_user(user_hash(key, "telegram", str(chat)), "telegram", "none")
        transcript = await gw.store.messages_after(session, 0)
        assert [(m["from"], m["text"]) for m in transcript] == [
            ("user", PLACEHOLDER), ("bot", reply(KEPT_OUT)["text"])]
        never_kept(code, transcript, rasa, sqlite_url)
