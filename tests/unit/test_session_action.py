"""action_session_start puts the police route from the environment into the slots."""
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart
from tests.conftest import make_tracker

ROUTE = {
    "POLICE_FORCE_NAME": "West Midlands Police",
    "POLICE_NON_EMERGENCY_NUMBER": "101",
    "POLICE_REPORT_URL": "https://www.westmidlands.police.uk/ro/report",
}


async def start_session():
    return await ActionSessionStart().run(CollectingDispatcher(), make_tracker("greet"), {})


async def test_sets_the_configured_route(monkeypatch):
    for name, value in ROUTE.items():
        monkeypatch.setenv(name, value)
    events = await start_session()
    assert events[0]["event"] == "session_started"
    assert events[-1] == {"event": "action", "name": "action_listen", "policy": None,
                          "confidence": None, "timestamp": None}
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {
        "police_force": "West Midlands Police",
        "police_phone": "101",
        "police_report_url": "https://www.westmidlands.police.uk/ro/report",
    }


@pytest.mark.parametrize("value", [None, "", "   "])
async def test_unset_or_blank_keeps_the_domain_defaults(monkeypatch, value):
    for name in ROUTE:
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    events = await start_session()
    assert [e["event"] for e in events] == ["session_started", "action"]
