"""The action server (`python -m actions.serve`, as scripts/run_stack.py starts it)
runs actions only for a caller with the shared secret Rasa sends (endpoints.yml):
401 without it, 200 with it; /health stays open for the gateway's health check;
and it won't start without a secret. The real server, started as `make run` does;
tests/stack/test_make_run.py has the whole stack talking through it."""
import os
import subprocess
import sys

import pytest
import yaml

from scripts.run_stack import child_environment, commands
from tests.conftest import ROOT
from tests.support.processes import Process, call, free_port

TOKEN = "action-server-token-" + str(os.getpid())
SESSION_START = {"next_action": "action_session_start", "sender_id": "someone",
                 "tracker": {"sender_id": "someone", "slots": {}, "events": []},
                 "domain": {}, "version": "3.6.21"}


@pytest.fixture(scope="module")
def action_server():
    port = str(free_port())
    config = {"rasa_port": "0", "action_port": port, "token": "unused", "model": "unused",
              "action_url": f"http://127.0.0.1:{port}/webhook", "log_level": "INFO"}
    env = {**child_environment(config), "ACTION_SERVER_TOKEN": TOKEN}
    process = Process.ready(commands(config)["action server"], env,
                            f"http://127.0.0.1:{port}/health", timeout=120)
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.mark.parametrize("authorization", [None, "", "Bearer", f"Bearer {TOKEN}x", TOKEN,
                                           f"Basic {TOKEN}", "Bearer wrong-ünïcode"])
def test_a_call_without_the_secret_is_refused(action_server, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    status, _, body = call("POST", action_server + "/webhook", SESSION_START, headers=headers)
    assert status == 401 and body == {"error": "Unknown caller."}
    assert call("GET", action_server + "/actions", headers=headers)[0] == 401


def test_a_call_with_the_secret_runs_the_action(action_server):
    status, _, body = call("POST", action_server + "/webhook", SESSION_START,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    assert body["events"][0]["event"] == "session_started"


def test_health_stays_open(action_server):
    assert call("GET", action_server + "/health")[0] == 200


def test_it_will_not_start_without_a_secret():
    env = {**os.environ, "ACTION_SERVER_TOKEN": "", "ACTION_SERVER_PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "actions.serve"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "ACTION_SERVER_TOKEN is not set" in done.stderr


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.replicas.yml"])
def test_rasa_sends_the_secret_from_the_environment(endpoints, monkeypatch):
    """Read as Rasa reads it: ${ACTION_SERVER_TOKEN} filled in, as a header of
    every call to the action server (rasa/utils/endpoints.py)."""
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in {"ACTION_SERVER_URL": "http://actions:5055/webhook", "ACTION_SERVER_TOKEN": TOKEN,
                        "TRACKER_STORE_URL": "postgresql://x", "LOCK_STORE_HOST": "r",
                        "LOCK_STORE_PORT": "6379", "LOCK_STORE_DB": "0", "LOCK_STORE_USERNAME": "",
                        "LOCK_STORE_PASSWORD": ""}.items():
        monkeypatch.setenv(name, value)
    endpoint = read_endpoint_config(str(ROOT / endpoints), "action_endpoint")
    assert endpoint.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert endpoint.token is None and not endpoint.params  # never in the URL (logs)
    assert "Bearer ${ACTION_SERVER_TOKEN}" in yaml.safe_dump(
        yaml.safe_load((ROOT / endpoints).read_text()))  # the file holds no secret
