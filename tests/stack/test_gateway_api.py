"""The gateway's HTTP API against the running system: what a victim's client
and a careless or hostile one can send, and what comes back."""
import asyncio
import time

import pytest

from tests.conftest import INTERNAL_TOKEN, STACK_TOKEN
from tests.support.processes import call


def chat(stack, text, session=None, base=None):
    body = {"text": text, **({"session": session} if session else {})}
    return call("POST", f"{base or stack['base']}/api/chat", body)


def new_session(stack) -> str:
    status, _, reply = chat(stack, "hello")
    assert status == 200
    return reply["session"]


def test_health_says_both_parts_are_up(stack):
    status, _, body = call("GET", f"{stack['base']}/api/health")
    assert (status, body) == (200, {"status": "ok", "rasa": "up", "actions": "up"})


def test_a_new_session_is_long_random_and_opaque(stack):
    sessions = {new_session(stack) for _ in range(3)}
    assert len(sessions) == 3
    assert all(len(s) >= 22 for s in sessions)  # 22 base64 characters hold 128 bits


def test_replies_keep_their_response_names_and_buttons(stack):
    status, _, reply = chat(stack, "he says he'll send my pics to everyone unless i pay him 200")
    assert status == 200
    names = [m.get("response") for m in reply["messages"]]
    assert "utter_step_dont_pay" in names
    step = reply["messages"][names.index("utter_step_dont_pay")]
    assert step["buttons"] and all({"title", "payload"} <= set(b) for b in step["buttons"])


@pytest.mark.parametrize("raw, status", [
    (b'{"text": ""}', 400),
    (b'{"text": "   \\n\\t "}', 400),
    (b'{"text": 42}', 400),
    (b'{"text": null}', 400),
    (b'{"txt": "hi"}', 400),
    (b'["hi"]', 400),
    (b'"hi"', 400),
    (b'{"text": "hi"', 400),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", 400),
    (b'{"text": "hi", "session": 12}', 400),
    (b'{"text": "hi", "session": "../../etc/passwd"}', 400),
    (b'{"text": "hi", "session": "short"}', 400),
    (b'{"text": "hi", "session": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}', 404),
    (("{\"text\": \"" + "a" * 2001 + "\"}").encode(), 413),
    (b"x" * 300_000, 413),
    (b"[" * 100_000, 400),  # deep enough to exhaust Python's recursion
])
def test_bad_input_gets_a_clear_json_error(stack, raw, status):
    got, headers, body = call("POST", f"{stack['base']}/api/chat", raw=raw)
    assert got == status
    assert headers["Content-Type"].startswith("application/json")
    assert isinstance(body, dict) and set(body) == {"error"} and body["error"]
    assert "Traceback" not in body["error"]


def test_a_body_that_is_not_the_gzip_it_claims_to_be_gets_a_clear_json_error(stack):
    """Content-Encoding: gzip over bytes that are not gzip: the person's client is
    broken, not the gateway (aiohttp only finds out while the body is read)."""
    bodies = [("/api/chat", {}), ("/webhooks/whatsapp", {}),
              ("/internal/handoffs", {"Authorization": f"Bearer {INTERNAL_TOKEN}"})]
    for path, headers in bodies:
        base = stack["internal"] if path.startswith("/internal") else stack["base"]
        got, got_headers, body = call("POST", base + path, raw=b'{"text": "hi"}',
                                      headers={"Content-Encoding": "gzip", **headers})
        assert got == 400, (path, body)
        assert got_headers["Content-Type"].startswith("application/json")
        assert isinstance(body, dict) and set(body) == {"error"} and "Traceback" not in body["error"]


def raw_http(stack, request: bytes) -> bytes:
    """Sends bytes as they are (no client would send these) and returns the answer."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(stack["base"])
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_request_aiohttp_cannot_parse_is_refused_without_a_traceback_or_its_bytes(stack):
    # aiohttp answers these 400 itself and logged each at ERROR with a traceback whose
    # message quoted the raw line: a session id in a URL, words in a header.
    session = "Zq" * 16
    before = len(stack["process"].output())
    for request in (
            b"POST /webhooks/telegram HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
            b"Content-Length: 2\r\n\r\n{}",  # Brotli is not installed
            b"GET /api/chat/" + session.encode() + b"/messages?after=\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/chat/" + session.encode() + b"/messages HTTP/1.1\r\nHost: x\r\n"
            b"X-Note\x01: he has my pics\r\n\r\n"):
        assert raw_http(stack, request).split(b" ")[1] == b"400"
    time.sleep(0.5)
    log = stack["process"].output()[before:]
    assert "Traceback" not in log and " ERROR " not in log, log
    assert session not in log and "my pics" not in log, log
    assert call("GET", f"{stack['base']}/api/health")[0] == 200


def test_exactly_2000_characters_is_accepted(stack):
    assert chat(stack, "help " * 400)[0] == 200


def test_characters_that_unfold_into_many_are_counted_as_read(stack):
    # U+FDFA is one character that NFKC makes 18: 2,000 of them would be 36,000
    # characters for the redactor, seconds of work every other message waits behind.
    started = time.monotonic()
    status, _, body = chat(stack, "\ufdfa" * 2000)
    assert (status, time.monotonic() - started < 5) == (413, True), body
    assert chat(stack, "\ufb01nally told my mum " * 90)[0] == 200  # ligatures: a little longer is fine


def test_a_burst_from_one_session_is_slowed_down(stack):
    session = new_session(stack)
    statuses = []
    for _ in range(25):
        status, headers, body = chat(stack, "ok", session)
        statuses.append(status)
        if status == 429:
            break
    assert statuses[-1] == 429 and statuses.count(200) >= 18
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert "wait" in body["error"]
    # Another conversation is not held up.
    assert chat(stack, "hi")[0] == 200


def test_messages_after_n_returns_the_whole_conversation_in_order(stack):
    session = new_session(stack)
    chat(stack, "should i pay", session)
    status, _, body = call("GET", f"{stack['base']}/api/chat/{session}/messages?after=0")
    assert status == 200
    seqs = [m["seq"] for m in body["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert next(m["from"] for m in body["messages"]) == "user"
    assert {m["from"] for m in body["messages"]} == {"user", "bot"}
    _, _, later = call("GET", f"{stack['base']}/api/chat/{session}/messages?after=2")
    assert [m["seq"] for m in later["messages"]] == seqs[2:]


@pytest.mark.parametrize("path, status", [
    ("/api/chat/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/messages", 404),
    ("/api/chat/not-valid!/messages", 400),
    ("/api/chat/%s/messages?after=-1", 400),
    ("/api/chat/%s/messages?after=abc", 400),
    ("/api/chat/%s/messages?after=%%C2%%B2", 400),  # "²" is a digit to Python, not a number
    ("/api/chat/%s/messages?after=1e3", 400),
])
def test_messages_errors(stack, path, status):
    if "%s" in path:
        path = path % new_session(stack)
    got, _, body = call("GET", stack["base"] + path)
    assert got == status and body["error"]


def test_tapping_a_button_sends_its_payload_and_stores_its_title(stack):
    session = new_session(stack)
    _, _, reply = chat(stack, "someone is blackmailing me with my nudes", session)
    button = next(b for m in reply["messages"] for b in m.get("buttons", []))
    _, _, tapped = chat(stack, button["payload"], session)
    assert tapped["messages"]
    _, _, stored = call("GET", f"{stack['base']}/api/chat/{session}/messages")
    assert stored["messages"][-1 - len(tapped["messages"])]["text"] == button["title"]


def test_typed_intents_are_not_obeyed(stack):
    """Rasa obeys "/intent{entities}" text; people can only use it by tapping our buttons."""
    session = new_session(stack)
    assert chat(stack, '/ask_pay{"platform": "zzz-injected"}', session)[0] == 200
    last = rasa_user_events(stack, session)[-1]
    assert not last["text"].startswith("/")
    assert "zzz-injected" not in str(last["parse_data"].get("entities"))


@pytest.mark.parametrize("text", ["😭😭😭", "🥺", "😡😡", "...", "?!"])
def test_emoji_only_gets_a_kind_reply_with_the_numbers(stack, text):
    _, _, reply = chat(stack, text)
    assert [m.get("response") for m in reply["messages"]] == ["gateway_no_words"]
    assert "999" in reply["messages"][0]["text"] and "116 123" in reply["messages"][0]["text"]


def test_a_thumbs_up_is_understood_as_yes(stack):
    session = new_session(stack)
    chat(stack, "should i pay him", session)
    _, _, reply = chat(stack, "👍", session)
    assert "gateway_no_words" not in [m.get("response") for m in reply["messages"]]


@pytest.mark.parametrize("text, stored", [
    ("should i pay him \ud800", "should i pay him"),
    ("\udfffhe wants money\ud83d for my pics", "he wants money for my pics"),
    ("\ud800", ""),
])
def test_a_lone_surrogate_is_dropped_and_the_person_still_gets_a_reply(stack, text, stored):
    """JSON's "\\ud800" is half of a pair, no character at all, which neither spaCy
    nor the store can encode. It is dropped; the rest is read as usual."""
    status, _, reply = chat(stack, text)  # sent as JSON escapes, as a browser would
    assert status == 200, reply
    names = [m.get("response") for m in reply["messages"]]
    assert names and "gateway_unavailable" not in names
    if stored:
        assert "gateway_no_words" not in names
    else:  # nothing left to read: the kind reply for that, with the numbers
        assert names == ["gateway_no_words"]
    _, _, kept = call("GET", f"{stack['base']}/api/chat/{reply['session']}/messages")
    assert kept["messages"][0]["text"] == stored


@pytest.mark.parametrize("text", [
    "me está chantajeando con mis fotos, qué hago",
    "er erpresst mich mit Nacktbildern, was soll ich tun",
    "on mnie szantażuje zdjęciami, co mam zrobić",
    "он шантажирует меня фотографиями",
    "يبتزني بصوري ماذا أفعل",
])
def test_other_languages_get_a_kind_reply_with_the_numbers(stack, text):
    _, _, reply = chat(stack, text)
    assert [m.get("response") for m in reply["messages"]] == ["gateway_other_language"]
    assert "999" in reply["messages"][0]["text"]


def rasa_user_events(stack, session):
    _, _, tracker = call("GET", f"{stack['rasa']}/conversations/{session}/tracker?token={STACK_TOKEN}")
    return [e for e in tracker.get("events", []) if e["event"] == "user"]


def test_forget_me_erases_the_conversation_everywhere(stack):
    session = new_session(stack)
    chat(stack, "he wants 300 quid or he sends the pics to my mum", session)
    assert rasa_user_events(stack, session)
    _, _, reply = chat(stack, "please delete this conversation and everything i said", session)
    assert [m.get("response") for m in reply["messages"]] == ["utter_forget_me"]
    # The web page's words: only a browser has a history to clear.
    assert "browser history" in reply["messages"][0]["text"]
    assert call("GET", f"{stack['base']}/api/chat/{session}/messages")[0] == 404
    assert chat(stack, "hello again", session)[0] == 404
    assert rasa_user_events(stack, session) == []
    assert session not in stack["process"].output()  # not even in an erasure's URL


def test_the_page_and_api_send_privacy_headers_and_no_cookies(stack):
    for path in ("/", "/api/health", "/api/chat/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/messages"):
        _, headers, _ = call("GET", stack["base"] + path)
        assert "Set-Cookie" not in headers
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_when_rasa_is_down_the_person_still_gets_the_emergency_numbers(start_gateway):
    from tests.support.processes import free_port

    gateway = start_gateway(RASA_PORT=str(free_port()))
    status, _, reply = chat(None, "he says he'll post my pics tonight", base=gateway["base"])
    assert status == 200
    [message] = reply["messages"]
    assert message["response"] == "gateway_unavailable"
    assert "999" in message["text"] and "116 123" in message["text"]
    status, _, health = call("GET", f"{gateway['base']}/api/health")
    assert (status, health["rasa"], health["actions"]) == (503, "down", "up")
    assert "Traceback" not in gateway["process"].output()


def test_when_the_action_server_is_down_the_person_still_gets_the_numbers(
        rasa_without_actions, start_gateway):
    gateway = start_gateway(**rasa_without_actions)
    status, _, health = call("GET", f"{gateway['base']}/api/health")
    assert (status, health) == (503, {"status": "unavailable", "rasa": "up", "actions": "down"})
    # Rasa says what it can without its actions (here: no step at all); the
    # gateway adds an apology with the emergency numbers...
    status, _, reply = chat(None, "should i pay him", base=gateway["base"])
    assert status == 200
    last = reply["messages"][-1]
    assert last["response"] == "gateway_unavailable"
    assert "999" in last["text"] and "116 123" in last["text"]
    # ...but not after a crisis reply: nobody is on shift to pass it to, and the
    # crisis reply has the numbers; "try again in a few minutes" would only jar.
    status, _, reply = chat(None, "i want to end it all", base=gateway["base"])
    assert status == 200
    assert [m["response"] for m in reply["messages"]] == ["utter_crisis"]
    assert "Traceback" not in gateway["process"].output()


def test_talk_to_a_person_reaches_the_queue_without_the_action_server(
        rasa_without_actions, start_gateway):
    from tests.support.handoff_clients import Victim, responses, signed_in_staff

    gateway = start_gateway(**rasa_without_actions)

    async def scenario():
        # Nobody on shift: the helplines, as the action would say.
        alone = Victim(gateway["base"])
        assert responses(await alone.say("can i talk to a real person"))[-1] == "utter_request_human"
        staff = await signed_in_staff(gateway)
        await staff.go_live()
        victim = Victim(gateway["base"])
        asked = await victim.say("i want to talk to a real person")
        assert responses(asked)[-1] == "utter_handoff_queued"
        assert "You're next in the queue" in asked[-1]["text"] and "{" not in asked[-1]["text"]
        [queued] = await staff.queue()
        assert (queued["status"], queued["priority"]) == ("waiting", "normal")
        for person in (alone, victim, staff):
            await person.close()

    asyncio.run(scenario())


def test_old_conversations_are_deleted_by_the_retention_job(stack, start_gateway):
    # 10.8 s: long enough for the checks below on a busy machine, short enough to wait for.
    # Web only: with Telegram or WhatsApp on, a check-in (4 hours) could never be kept,
    # and the gateway would rightly refuse to start.
    gateway = start_gateway(RETENTION_HOURS="0.003", RETENTION_SWEEP_SECONDS="1",
                            TELEGRAM_BOT_TOKEN="", WHATSAPP_ACCESS_TOKEN="")
    _, _, reply = chat(None, "someone is blackmailing me", base=gateway["base"])
    session = reply["session"]
    assert rasa_user_events(stack, session)
    assert call("GET", f"{gateway['base']}/api/chat/{session}/messages")[0] == 200
    deadline = time.monotonic() + 40
    while call("GET", f"{gateway['base']}/api/chat/{session}/messages")[0] != 404:
        assert time.monotonic() < deadline, "the conversation was not deleted"
        time.sleep(0.5)
    assert rasa_user_events(stack, session) == []
    # Its anonymous counts outlive it (bot/insights/counts.py).
    from tests.support.counts import raw_counts
    assert asyncio.run(raw_counts(gateway["env"]["DATABASE_URL"]))["conversations"] == 1
    # A conversation that is still going is kept.
    _, _, fresh = chat(None, "hi", base=gateway["base"])
    assert call("GET", f"{gateway['base']}/api/chat/{fresh['session']}/messages")[0] == 200


def test_a_message_racing_forget_me_never_reaches_rasa_after_the_erasure(stack):
    """A double tap or a quick second message while "delete my chat" is handled."""
    from concurrent.futures import ThreadPoolExecutor

    session = new_session(stack)
    chat(stack, "he wants money for my pics", session)
    with ThreadPoolExecutor(4) as pool:
        racing = [pool.submit(chat, stack, text, session) for text in (
            "delete this conversation and everything i said", "are you there", "hello??", "pls")]
        statuses = sorted(future.result()[0] for future in racing)
    assert 200 in statuses and set(statuses) <= {200, 404}
    assert call("GET", f"{stack['base']}/api/chat/{session}/messages")[0] == 404
    assert rasa_user_events(stack, session) == []


def test_only_the_gateway_token_opens_rasas_channel(stack):
    url = f"{stack['rasa']}/webhooks/gateway/webhook"
    for header in ("Bearer wrong", "Bearer " + STACK_TOKEN + "x", "Bearer ünïcode", STACK_TOKEN):
        status, _, _ = call("POST", url, {"sender": "x" * 24, "message": "hi"},
                            headers={"Authorization": header})
        assert status == 401, header
