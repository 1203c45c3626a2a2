"""What the outbox's tests share, in a gateway built in this process
(tests/gateway/test_report_outbox.py) and in real gateway processes
(tests/stack/test_report_outbox.py): fast retries, a case put in the outbox as
action_submit_case does, and its delivery checked at the fake receiver
(tests/support/fake_receiver.py). Everything here is async and blocks no event
loop: an in-process gateway shares the test's."""
from typing import Any, Dict, List, Tuple

import aiohttp

from tests.support.fake_receiver import FakeReceiver
from tests.support.handoff_clients import Victim

# The gateway's settings (Settings' names; upper case, the environment's): a failed
# delivery is tried again after 0.2 s, then never more than 0.5 s apart.
FAST_RETRIES = {"report_retry_first_seconds": 0.2, "report_retry_max_seconds": 0.5}


async def submit(base: str, internal: str, token: str, platform: str = "instagram") -> str:
    """A conversation on the gateway at `base`, and its case in the outbox, through the
    internal API at `internal` (as action_submit_case does); the case's reference."""
    victim = Victim(base)
    await victim.say("hi")
    await victim.close()
    async with aiohttp.ClientSession() as http, http.post(
            f"{internal}/internal/cases",
            json={"session": victim.session, "answers": {"platform": platform, "demand": "money"}},
            headers={"Authorization": f"Bearer {token}"}) as response:
        status, answer = response.status, await response.json()
    assert status == 200 and answer["status"] == "pending", answer
    return answer["reference"]


async def delivered_once(receiver: FakeReceiver, reference: str,
                         timeout: float = 30) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The case as the receiver keeps it, and every post of it: all signed, kept once."""
    case = await receiver.arrival(reference, timeout)
    posts = [p for p in receiver.posts if p["key"] == case["idempotency_key"]]
    assert posts and all(p["signed"] for p in posts)
    assert len(receiver.by_reference(reference)) == 1
    return case, posts
