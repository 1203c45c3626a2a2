"""Saved replies through the gateway (bot/staff/saved_replies.py): only staff can
list them, every one reaches the person exactly as the team wrote it (the real
reply route, with the real redactor), and a file that can't be used stops the
gateway from starting. A gateway in this process (the `gw` fixture) against the
fake Rasa; `python -m bot` as a real process for the start-up refusal."""
import asyncio
import os
import subprocess

import pytest

from bot.fact_sheet import fact_sheet
from bot.staff.saved_replies import SavedReplies, SavedRepliesError
from tests.conftest import ROOT
from tests.support.fake_rasa import utter
from tests.support.gateways import gateway_app
from tests.support.processes import call

ASK = "i want to talk to a person"


def the_teams_replies():
    return SavedReplies("saved_replies.yml", fact_sheet()).as_json()


async def test_only_staff_can_list_the_saved_replies(gw):
    status, _, body = await asyncio.to_thread(call, "GET", gw.base + "/staff/api/saved-replies")
    assert status == 401 and body["error"]
    worker = await gw.staff_member(live=False)
    status, body = await worker.call("GET", "/staff/api/saved-replies")
    assert status == 200
    assert body == the_teams_replies()
    [childline] = [reply for reply in body if reply["id"] == "childline"]
    assert set(childline) == {"id", "title", "text"} and "0800 1111" in childline["text"]


async def test_every_saved_reply_reaches_the_person_exactly_as_written(gw, rasa):
    """Staff replies are redacted like everything (Conversations.add_staff_message):
    a saved reply must lose nothing to it, or the person would read "[NAME]"."""
    rasa.says(ASK, utter("utter_handoff_queued"), handoff={"crisis": False, "queue_when_closed": False})
    worker = await gw.staff_member()
    session = await gw.start("hi")
    await gw.say(session, ASK)
    conversation = (await gw.store.handoff_for_session(session))["id"]
    assert (await worker.act(conversation, "claim"))[0] == 200
    replies = (await worker.call("GET", "/staff/api/saved-replies"))[1]
    changed = {}
    for reply in replies:
        status, stored = await worker.act(conversation, "messages", reply["text"])
        assert status == 200, stored
        if stored["text"] != reply["text"]:
            changed[reply["id"]] = stored["text"]
    assert changed == {}
    sent = [m["text"] for m in await gw.transcript(session) if m["from"] == "staff"]
    assert sent == [reply["text"] for reply in replies]


@pytest.mark.parametrize("contents, says", [
    ("replies:\n  - {id: x, title: t, text: 'call {childline.fax}'}", "{childline.fax}"),
    ("replies: [\n", "not valid YAML"),
])
async def test_a_saved_replies_file_that_cant_be_used_stops_the_start(tmp_path, sqlite_url, contents, says):
    bad = tmp_path / "replies.yml"
    bad.write_text(contents)
    with pytest.raises(SavedRepliesError, match="saved replies file"):
        gateway_app(database_url=sqlite_url, saved_replies_file=str(bad))
    # As the team would see it: `python -m bot` says what to fix, and stops.
    done = await asyncio.to_thread(
        subprocess.run, [str(ROOT / ".venv" / "bin" / "python"), "-m", "bot"], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "SAVED_REPLIES_FILE": str(bad), "DATABASE_URL": sqlite_url})
    assert done.returncode == 1
    assert f"The saved replies file {bad}: " in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr
