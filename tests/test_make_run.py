"""Starts `make run` for real (Rasa + action server) and talks over the REST channel.

One conversation walks through the four steps as a victim would; its words must
come back from the real domain, with the police route from the environment.
The processes' own output is checked for the victim's words (privacy).
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.conftest import ROOT

TOKEN = uuid.uuid4().hex
POLICE = {
    "POLICE_FORCE_NAME": "Test Valley Police",
    "POLICE_NON_EMERGENCY_NUMBER": "101",
    "POLICE_REPORT_URL": "https://police.example/report",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def stack():
    rasa_port, action_port = free_port(), free_port()
    env = dict(os.environ, RASA_PORT=str(rasa_port), ACTION_SERVER_PORT=str(action_port),
               RASA_AUTH_TOKEN=TOKEN, **POLICE)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{rasa_port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if get(f"{base}/")[0] == 200 and get(f"http://127.0.0.1:{action_port}/health")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail("make run did not start:\n" + log.read().decode(errors="replace")[-4000:])
        time.sleep(1)
    yield {"base": base, "rasa_port": rasa_port, "log": log}
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def say(stack, sender: str, text: str):
    request = urllib.request.Request(
        f"{stack['base']}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def joined(messages) -> str:
    return "\n".join(message.get("text", "") for message in messages)


def test_a_victim_is_walked_through_the_four_steps(stack):
    me = uuid.uuid4().hex
    hello = say(stack, me, "hi")
    assert "don't have to tell me who you are" in joined(hello)
    assert any(b["payload"] == "/crisis" for b in hello[0]["buttons"])

    story = joined(say(stack, me, "someone on snap has my nudes and says hell send them to my mum unless i pay"))
    assert "not your fault" in story and "Step 1: don't pay" in story

    paid = joined(say(stack, me, "i already paid him £50 tho"))
    assert "Step 1: please don't pay any more" in paid
    assert "doesn't stop you reporting" in paid

    step2 = joined(say(stack, me, "ok what now"))
    assert step2.startswith("Step 2: stop replying")

    step3 = joined(say(stack, me, "done"))
    assert "Step 3: save the evidence" in step3 and "report their account on Snapchat" in step3

    step4 = say(stack, me, "ok whats next")
    text = joined(step4)
    assert "Step 4: report it to the police" in text
    assert "Test Valley Police" in text and "https://police.example/report" in text
    assert "Call 101" in text and "999" in text
    assert "You've got a plan now" in text and "talk to a trained person" in text

    person = joined(say(stack, me, "yes please"))
    assert "Samaritans: call 116 123" in person


def test_crisis_mid_step_comes_first_then_continues(stack):
    me = uuid.uuid4().hex
    say(stack, me, "should i pay him?")
    crisis = joined(say(stack, me, "honestly i took a load of pills"))
    assert crisis.startswith("I'm really glad you told me")
    for number in ("999", "116 123", "85258", "0800 1111"):
        assert number in crisis
    assert "Are you safe right now?" in crisis
    assert "Thank you for telling me" in joined(say(stack, me, "yes"))
    assert joined(say(stack, me, "what next")).startswith("Step 2")


def test_http_api_needs_the_token_and_listens_on_loopback_only(stack):
    assert get(f"{stack['base']}/status")[0] == 401
    assert get(f"{stack['base']}/status?token={TOKEN}")[0] == 200
    addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    for address in [a for a in addresses if not a.startswith("127.") and ":" not in a]:
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, stack["rasa_port"])) != 0


def test_victim_words_never_reach_the_logs(stack):
    me = uuid.uuid4().hex
    secret = "zebracorn nudes on grindr"
    say(stack, me, f"he has my {secret} and wants money")
    time.sleep(1)
    stack["log"].seek(0)
    output = stack["log"].read().decode(errors="replace")
    assert "zebracorn" not in output
    assert me not in output
