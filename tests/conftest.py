"""Shared fixtures: the trained model (loaded once) and a real rasa_sdk Tracker."""
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture(scope="session")
async def agent():
    """The trained assistant (`make test` trains it first), with the full NLU pipeline."""
    from rasa.core.agent import Agent

    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")
    return Agent.load(str(MODEL))


def make_tracker(
    intent: str,
    text: str = "",
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A real rasa_sdk Tracker whose latest message has this intent and text."""
    latest = {
        "text": text or f"/{intent}",
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": ranking or [{"name": intent, "confidence": 1.0}],
        "entities": [],
    }
    return Tracker(
        sender_id="test",
        slots=dict(slots or {}),
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
