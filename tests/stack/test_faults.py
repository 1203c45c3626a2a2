"""Parts of `make run` killed with SIGKILL mid-conversation, as a crash would
(docs/deploy.md, "When a part fails"): the person gets a kind answer at once,
a crisis still gets the crisis reply (also while a support worker holds the
chat), the supervisor (scripts/run_stack.py) has the service answering again
within 60 seconds, and each conversation resumes at the step it was on.

A `make run` of its own: the other tests' system is never killed.
"""
import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.handoff_clients import Victim, responses, signed_in_staff
from tests.support.processes import call

BACK_WITHIN_SECONDS = 60
AT_ONCE_SECONDS = 3


@pytest.fixture(scope="module")
def system(provider, tmp_path_factory):
    from tests.conftest import start_stack

    started = start_stack(provider, tmp_path_factory.mktemp("faults"))
    yield started
    started["process"].stop()


def part_pid(system, marker: str) -> int:
    """The pid of one part of this `make run` (all of them are in its process group)."""
    group = system["process"].popen.pid
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # The group id is the fifth field, after the command name in brackets.
        if int(stat.rsplit(")", 1)[1].split()[2]) == group and marker in command:
            return int(entry.name)
    raise AssertionError(f"no running {marker!r} in this make run")


def crash(system, marker: str) -> float:
    os.kill(part_pid(system, marker), signal.SIGKILL)
    return time.monotonic()


def healthy_again(system, since: float) -> float:
    """Seconds from the crash until /api/health says every part answers again."""
    while time.monotonic() - since < BACK_WITHIN_SECONDS + 30:
        try:
            if call("GET", f"{system['base']}/api/health", timeout=3)[0] == 200:
                return time.monotonic() - since
        except OSError:
            pass  # the gateway itself is starting again
        time.sleep(0.5)
    raise AssertionError("the service did not come back")


async def timed(coroutine):
    started = time.monotonic()
    result = await coroutine
    return result, time.monotonic() - started


async def at_step_two(base: str) -> Victim:
    victim = Victim(base)
    await victim.say("hi")
    story = await victim.say("someone has my nudes and says he'll send them to my family unless i pay")
    assert "utter_step_dont_pay" in responses(story)
    assert responses(await victim.say("ok what now"))[0] == "utter_step_stop_replying"
    return victim


def test_rasa_killed_mid_conversation(system):
    async def scenario():
        victim = await at_step_two(system["base"])
        # Someone else talks to a support worker: the bot is paused for them.
        staff = await signed_in_staff(system)
        await staff.go_live()
        held = Victim(system["base"])
        assert "utter_handoff_queued" in responses(await held.say("can i talk to a real person please"))
        [waiting] = await staff.queue()
        assert (await staff.act(waiting["id"], "claim"))[0] == 200

        crashed = crash(system, "channels.serve")
        await asyncio.sleep(1)  # Rasa is gone, not merely slow
        kind, seconds = await timed(victim.say("done"))
        assert responses(kind) == ["gateway_unavailable"] and seconds < AT_ONCE_SECONDS
        assert "999" in kind[0]["text"] and "116 123" in kind[0]["text"]
        # A crisis gets the crisis reply from the gateway's own check, at once, and
        # goes to the team as a crisis, as Rasa's handoff action would have done...
        crisis, seconds = await timed(Victim(system["base"]).say("i just want to kill myself"))
        assert responses(crisis) == ["utter_crisis", "utter_handoff_crisis"]
        assert seconds < AT_ONCE_SECONDS
        # ...also while a person holds the chat, which moves up the queue.
        crisis = await held.say("honestly i want to end it all")
        assert responses(crisis) == ["utter_crisis"]
        assert [c["priority"] for c in await staff.queue()] == ["crisis", "crisis"]

        back = healthy_again(system, crashed)
        print(f"\nRasa answering again {back:.0f} s after it was killed")
        assert back < BACK_WITHIN_SECONDS
        # Rasa's conversations are in SQLite: it picks up at step 3, not at "hi".
        assert responses(await victim.say("done"))[0] == "utter_step_keep_evidence"
        for person in (victim, held, staff):
            await person.close()

    asyncio.run(scenario())


def test_action_server_killed_mid_conversation(system):
    async def scenario():
        victim = await at_step_two(system["base"])
        crashed = crash(system, "actions.serve")
        # Rasa says what it can without its actions and the gateway adds the numbers,
        # or, the action server being quick to start again, the step itself.
        kind, seconds = await timed(victim.say("done"))
        assert seconds < AT_ONCE_SECONDS
        assert responses(kind)[-1] == "gateway_unavailable" or "utter_step_keep_evidence" in responses(kind)
        back = healthy_again(system, crashed)
        print(f"\nthe action server answering again {back:.0f} s after it was killed")
        assert back < BACK_WITHIN_SECONDS
        assert responses(await victim.say("ok done, what next"))[0] in (
            "utter_step_keep_evidence", "utter_step_report")
        await victim.close()

    asyncio.run(scenario())


def test_gateway_killed_mid_conversation(system):
    async def scenario():
        victim = await at_step_two(system["base"])
        crashed = crash(system, "-m bot")
        back = healthy_again(system, crashed)
        print(f"\nthe gateway answering again {back:.0f} s after it was killed")
        assert back < BACK_WITHIN_SECONDS
        # The same conversation (its id in the page), at the step it was on.
        assert responses(await victim.say("done"))[0] == "utter_step_keep_evidence"
        await victim.close()

    asyncio.run(scenario())
    # (Rasa itself logs a traceback for each action it could not reach: not ours.)
    output = system["process"].output()
    assert "Unexpected error" not in output and "Error handling request" not in output
