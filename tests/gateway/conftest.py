"""The gateway layer's shared pieces: one fake Rasa per module (tests/support/fake_rasa.py),
as new for each test, and a gateway in this process pointed at it."""
import pytest

from tests.support.fake_rasa import fake_rasa
from tests.support.gateways import running


@pytest.fixture(scope="module")
async def rasa_server():
    async with fake_rasa() as fake:
        yield fake


@pytest.fixture
def rasa(rasa_server):
    """The module's fake Rasa, with no script, no trouble and nothing recorded."""
    rasa_server.reset()
    yield rasa_server
    rasa_server.release()  # nothing left hanging into the next test


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
async def gw(rasa, sqlite_url):
    """A gateway on SQLite whose Rasa and action server are the fake."""
    async with running(rasa, database_url=sqlite_url) as started:
        yield started
