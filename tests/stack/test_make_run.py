"""`make run` started for real (Rasa, action server, gateway): a victim's
conversation through the gateway's public API, and what must never be exposed.
"""
import glob
import json
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import STACK_TOKEN
from tests.support.processes import call


def say(stack, session, text):
    body = {"text": text, **({"session": session} if session else {})}
    status, _, reply = call("POST", f"{stack['base']}/api/chat", body)
    assert status == 200, reply
    return reply["session"], reply["messages"]


def joined(messages) -> str:
    return "\n".join(m["text"] for m in messages)


def test_a_victim_is_walked_through_the_four_steps(stack):
    me, hello = say(stack, None, "hi")
    assert "don't have to tell me who you are" in joined(hello)
    assert any(b["payload"] == "/crisis" for b in hello[0]["buttons"])

    _, story = say(stack, me, "someone on snap has my nudes and says hell send them to my mum unless i pay")
    assert [m.get("response") for m in story] == ["utter_not_your_fault", "utter_step_dont_pay"]

    _, paid = say(stack, me, "i already paid him £50 tho")
    assert "Step 1: please don't pay any more" in joined(paid)

    _, step2 = say(stack, me, "ok what now")
    assert step2[0]["response"] == "utter_step_stop_replying"

    _, step3 = say(stack, me, "done")
    assert step3[0]["response"] == "utter_step_keep_evidence"
    assert "report their account on Snapchat" in joined(step3)

    _, step4 = say(stack, me, "ok whats next")
    text = joined(step4)
    assert step4[0]["response"] == "utter_step_report"
    # The configured force's form, never the national default or another county's.
    assert "https://police.example/report" in text and "police.uk" not in text
    assert "Call 101" in text and "999" in text
    _, route = say(stack, me, "/report_police")
    assert route[0]["response"] == "utter_report_police" and "Test Valley Police" in joined(route)


def test_crisis_mid_step_comes_first_then_continues(stack):
    me, _ = say(stack, None, "should i pay him?")
    _, crisis = say(stack, me, "honestly i took a load of pills")
    assert crisis[0]["response"] == "utter_crisis"
    for number in ("999", "116 123", "85258", "0800 1111"):
        assert number in joined(crisis)
    _, safe = say(stack, me, "yes")
    assert "Thank you for telling me" in joined(safe)
    _, after = say(stack, me, "what next")
    assert after[0]["response"] == "utter_step_stop_replying"


def test_only_the_gateway_listens_beyond_loopback_and_rasa_and_actions_need_tokens(stack):
    assert call("GET", f"{stack['rasa']}/status")[0] == 401
    assert call("GET", f"{stack['rasa']}/status?token={STACK_TOKEN}")[0] == 200
    # Rasa's REST channel is closed: only our token-guarded channel is open.
    assert call("POST", f"{stack['rasa']}/webhooks/rest/webhook",
                {"sender": "x", "message": "hi"})[0] == 404
    assert call("POST", f"{stack['rasa']}/webhooks/gateway/webhook",
                {"sender": "x", "message": "hi"})[0] == 401
    # The action server runs actions for Rasa only (its secret is made for this run).
    actions = f"http://127.0.0.1:{stack['ACTION_SERVER_PORT']}"
    assert call("POST", f"{actions}/webhook", {"next_action": "action_session_start",
                                               "tracker": {"sender_id": "x"}})[0] == 401
    assert call("GET", f"{actions}/health")[0] == 200
    addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    for address in [a for a in addresses if not a.startswith("127.") and ":" not in a]:
        for port in (stack["RASA_PORT"], stack["ACTION_SERVER_PORT"]):
            with socket.socket() as sock:
                sock.settimeout(2)
                assert sock.connect_ex((address, port)) != 0


def test_a_name_phone_and_email_leave_no_trace_anywhere(stack):
    secrets = ["Zebedee Quartermaine", "07700 900461", "zeb.quartermaine@gmail.com", "zebracorn"]
    me, replies = say(stack, None, "my name is Zebedee Quartermaine, my number is 07700 900461 "
                                   "and my email zeb.quartermaine@gmail.com. he has my zebracorn pics")
    assert replies
    _, _, stored = call("GET", f"{stack['base']}/api/chat/{me}/messages")
    assert stored["messages"][0]["text"] == ("my name is [NAME], my number is [PHONE] and my email "
                                             "[EMAIL]. he has my zebracorn pics")
    _, _, tracker = call("GET", f"{stack['rasa']}/conversations/{me}/tracker?token={STACK_TOKEN}")
    texts = [e.get("text") or "" for e in tracker["events"] if e["event"] == "user"]
    assert texts and "[NAME]" in texts[0] and "Zebedee" not in str(tracker)
    time.sleep(1)
    files = [*glob.glob(str(stack["data"] / "*")), stack["process"].log.name]
    for path in files:
        content = Path(path).read_bytes().decode(errors="replace")
        for secret in secrets[:3]:
            assert secret not in content, (secret, path)
    log = stack["process"].output()
    assert "zebracorn" not in log and me not in log


def raw_exchange(port: int, request: bytes) -> bytes:
    """Sends bytes as they are (no client would send these) and reads until the gateway closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_malformed_request_is_refused_without_echoing_or_logging_what_it_held(stack):
    """aiohttp answers a request it can't parse itself, before any of our code. What
    it could not parse can hold a session id, a person's words or a header's value:
    none of it may come back in the answer or reach the log."""
    session, words, value = "Qz8vXk2" + "m" * 25, "zebracorn blackmail", "Qz8v-header-value"
    malformed = [
        f"POST /api/chat/{session}\x01/messages HTTP/1.1\r\nHost: x\r\n\r\n",  # a bad request line
        f"{words} {session}\r\n\r\n",                                         # no request line at all
        f"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Session: {session}\r\nX-Note: {value}\x01\r\n\r\n",
        f"GET /api/health HTTP/1.1\r\nHost: x\r\n{words} {session}\r\n\r\n",  # a header without a colon
    ]
    logged_before = len(stack["process"].output())
    for port in (stack["GATEWAY_PORT"], stack["GATEWAY_INTERNAL_PORT"]):
        for request in malformed:
            answer = raw_exchange(port, request.encode("latin-1"))
            head, _, body = answer.partition(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in header_lines)
            assert status_line.split()[1] == "400", answer
            assert json.loads(body) == {"error": "The request could not be read."}
            assert headers["Content-Type"].startswith("application/json")
            assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'self'" in headers["Content-Security-Policy"]
            for planted in (session, words, value):
                assert planted.encode() not in answer, (planted, answer)
    time.sleep(1)
    logged = stack["process"].output()[logged_before:]
    assert "could not be read" in logged  # the kind of error is logged, nothing of the request
    for planted in (session, words, value, "zebracorn"):
        assert planted not in logged, planted
    assert "Traceback" not in logged
