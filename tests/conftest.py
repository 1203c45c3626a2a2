"""Shared fixtures: the trained model (loaded once) and a real rasa_sdk Tracker."""
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"  # the labelled sets and test stories
MODEL = ROOT / "models" / "assistant.tar.gz"
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


LAYERS = ("unit", "gateway", "stack", "scale")


def pytest_collection_modifyitems(items) -> None:
    """Marks each test with its layer, the folder it is in (pytest.ini lists them)."""
    for item in items:
        layer = Path(item.fspath).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture(scope="session")
async def agent():
    """The trained assistant (`make test` trains it first), with the full NLU pipeline,
    loaded as `make run` loads it: with channels/speedups.py's loading shortcut (a third
    of the time; tests/stack/test_speedups.py shows every model loads the same), which is
    taken off again once it has loaded."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    from channels import speedups

    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")
    load, fit = RasaModel.__dict__["load"], RasaModel.fit
    validate = RemoteAction._validate_action_result
    speedups.apply()
    try:
        return Agent.load(str(MODEL))
    finally:
        RasaModel.load, RasaModel.fit, RemoteAction._validate_action_result = load, fit, validate


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


# --- the gateway's store: SQLite and the real PostgreSQL ----------------------
# Each PostgreSQL test gets a schema of its own in the `test` database (dropped
# afterwards), so runs never see each other's rows.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_schema():
    """make() -> a DATABASE_URL on a fresh, empty schema of the real PostgreSQL."""
    import uuid

    from sqlalchemy import create_engine, text

    from bot.store import engine_url

    engine = create_engine(engine_url(POSTGRES_URL), future=True)
    made = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with engine.begin() as db:
            db.execute(text(f"CREATE SCHEMA {schema}"))
        made.append(schema)
        return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

    yield make
    with engine.begin() as db:
        for schema in made:
            db.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same test on SQLite (the embedded default) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_schema")()


# --- the running system ------------------------------------------------------
# `make run` is started once for the whole test session (it takes about a
# minute to load the model); the messaging apps' servers are faked on loopback.
# Per run, and the same however this module is imported (pytest imports it twice).
STACK_TOKEN = "test-token-" + str(os.getpid())
TELEGRAM_SECRET = "telegram-secret-" + str(os.getpid())
WHATSAPP_SECRET = "whatsapp-app-secret-" + str(os.getpid())
WHATSAPP_VERIFY = "whatsapp-verify-" + str(os.getpid())
INTERNAL_TOKEN = "internal-token-" + str(os.getpid())
CHANNEL_ID_KEY = "channel-id-key-" + str(os.getpid())
REPORT_SECRET = "report-secret-" + str(os.getpid())
REPORT_RECEIVER = "the Test Valley support team"
POLICE = {
    "POLICE_FORCE_NAME": "Test Valley Police",
    "POLICE_NON_EMERGENCY_NUMBER": "101",
    "POLICE_REPORT_URL": "https://police.example/report",
}


@pytest.fixture(scope="session")
def provider():
    from tests.support.fake_provider import FakeProvider

    return FakeProvider()


@pytest.fixture(scope="session")
def receiver():
    """The reporting channel's receiver, faked on loopback (tests/support/fake_receiver.py)."""
    from tests.support.fake_receiver import FakeReceiver

    started = FakeReceiver(REPORT_SECRET)
    yield started
    started.stop()


def start_stack(provider, data, database_url=None, receiver=None):
    """`make run` with fake providers; the gateway's store on SQLite unless given."""
    from tests.support.processes import Process, free_port

    ports = {name: free_port() for name in ("RASA_PORT", "ACTION_SERVER_PORT", "GATEWAY_PORT",
                                            "GATEWAY_INTERNAL_PORT")}
    env = {
        **{name: str(port) for name, port in ports.items()},
        **POLICE,
        "RASA_AUTH_TOKEN": STACK_TOKEN,
        "GATEWAY_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CHANNEL_ID_KEY": CHANNEL_ID_KEY,
        "DATABASE_URL": database_url or f"sqlite:///{data / 'gateway.sqlite3'}",
        "RASA_TRACKER_DB": str(data / "rasa-conversations.sqlite3"),
        "TELEGRAM_BOT_TOKEN": "123:telegram-token",
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE": provider.url,
        "WHATSAPP_ACCESS_TOKEN": "whatsapp-token",
        "WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY,
        "WHATSAPP_PHONE_NUMBER_ID": "1098765",
        "WHATSAPP_API_BASE": provider.url,
        # The fake provider serves a neutral page: the test machine reaches no real site.
        "QUICK_EXIT_URL": f"{provider.url}/weather",
        # Cases passed on go to the fake receiver; retries come fast in tests.
        "REPORT_WEBHOOK_URL": receiver.url if receiver else "",
        "REPORT_WEBHOOK_SECRET": REPORT_SECRET if receiver else "",
        "REPORT_RECEIVER_NAME": REPORT_RECEIVER,
        "REPORT_RETRY_FIRST_SECONDS": "0.3",
        "REPORT_RETRY_MAX_SECONDS": "1",
        # Two chats each, so that the shift's test reaches the limit with three people.
        "STAFF_MAX_CHATS": "2",
    }
    base = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
    process = Process.ready(["make", "run"], env, f"{base}/api/health", timeout=400)
    return {"base": base, "process": process, "data": data, "env": env,
            "internal": f"http://127.0.0.1:{ports['GATEWAY_INTERNAL_PORT']}",
            "rasa": f"http://127.0.0.1:{ports['RASA_PORT']}", **ports}


@pytest.fixture(scope="session")
def stack(provider, receiver, tmp_path_factory):
    started = start_stack(provider, tmp_path_factory.mktemp("gateway-data"), receiver=receiver)
    yield started
    started["process"].stop()


@pytest.fixture(scope="session")
def postgres_stack(provider, receiver, tmp_path_factory, postgres_schema):
    """The whole system again, with the gateway's store on the real PostgreSQL."""
    started = start_stack(provider, tmp_path_factory.mktemp("pg-gateway-data"), postgres_schema(),
                          receiver=receiver)
    yield started
    started["process"].stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_stack(request):
    """The same end-to-end test on the SQLite stack and on the PostgreSQL one."""
    return request.getfixturevalue("stack" if request.param == "sqlite" else "postgres_stack")


@pytest.fixture(scope="session")
def start_gateway(stack, tmp_path_factory):
    """Starts another gateway (python -m bot) with changed settings; stopped at the end."""
    from tests.support.processes import Process, free_port

    started = []

    def start(**overrides: str):
        port = free_port()
        data = tmp_path_factory.mktemp("extra-gateway")
        env = {**stack["env"], "GATEWAY_PORT": str(port), "GATEWAY_INTERNAL_PORT": str(free_port()),
               "DATABASE_URL": f"sqlite:///{data / 'gateway.sqlite3'}", **overrides}
        base = f"http://127.0.0.1:{port}"
        process = Process.ready([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot"], env,
                                f"{base}/api/openapi.json", timeout=120)
        started.append(process)
        return {"base": base, "process": process, "data": data, "env": env,
                "internal": f"http://127.0.0.1:{env['GATEWAY_INTERNAL_PORT']}"}

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def rasa_without_actions(stack):
    """A second Rasa server whose action server is down (nothing listens at its address)."""
    from scripts.run_stack import child_environment, commands
    from tests.support.processes import Process, free_port

    port, dead = str(free_port()), str(free_port())
    config = {"rasa_port": port, "action_port": dead, "action_url": f"http://127.0.0.1:{dead}/webhook",
              "token": STACK_TOKEN, "model": str(MODEL), "log_level": "INFO"}
    process = Process.ready(commands(config)["rasa"], child_environment(config),
                            f"http://127.0.0.1:{port}/status?token={STACK_TOKEN}", timeout=300)
    yield {"RASA_PORT": port, "ACTION_SERVER_PORT": dead}
    process.stop()
