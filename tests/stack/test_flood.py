"""A flood of new conversations while one victim is mid-conversation
(bot/conversation/admission.py, docs/deploy.md "When it is very busy"): loopback only, and
bounded: 500 new visitors at once, once.

- The victim already talking keeps answers quick: p95 under 2 s.
- Every new visitor gets an answer within 5 s: the assistant's, or at once a
  calm "we're very busy" with the emergency numbers and when to try again.
- Crisis messages in the flood go first: each gets the crisis reply, and none
  is turned away as busy.
"""
import asyncio
import multiprocessing
import statistics
import time

import aiohttp

from tests.support.handoff_clients import Victim, responses

FLOOD = 500
CRISES = ["i want to kill myself", "im going to end it all tonight", "i just took a load of pills",
          "i want to die", "kms fr"]


async def first_message(http: aiohttp.ClientSession, base: str, text: str):
    started = time.monotonic()
    async with http.post(f"{base}/api/chat", json={"text": text}) as response:
        body = await response.json()
        return response.status, dict(response.headers), body, time.monotonic() - started


def flood_texts():
    texts = ["hi, someone is threatening to share my pictures"] * FLOOD
    for n, index in enumerate(range(25, FLOOD, 25)):  # 19 crises, spread through it
        texts[index] = CRISES[n % len(CRISES)]
    return texts


def flood(base: str, started, results) -> None:
    """In a process of its own, as 500 other people's phones would be: the
    victim's requests don't queue behind the flood's in the test's own loop."""
    async def send_all():
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=60)) as http:
            sending = [asyncio.create_task(first_message(http, base, text)) for text in flood_texts()]
            started.set()
            return await asyncio.gather(*sending)

    results.put(asyncio.run(send_all()))


def test_a_flood_of_new_visitors_does_not_hold_up_the_people_already_talking(stack):
    base = stack["base"]
    processes = multiprocessing.get_context("spawn")
    started, results = processes.Event(), processes.Queue()
    flooding = processes.Process(target=flood, args=(base, started, results))

    async def victim_talks():
        victim = Victim(base)
        await victim.say("hi")
        await victim.say("someone has my pics and wants money")
        flooding.start()
        assert started.wait(60)
        times = []
        for text in ["ok what now", "done", "what next", "ok", "yes", "what else can i do",
                     "ok thanks", "what now"]:
            began = time.monotonic()
            replies = await victim.say(text)
            times.append(time.monotonic() - began)
            assert replies and "gateway_busy" not in responses(replies)
        await victim.close()
        return times

    victim_times = asyncio.run(victim_talks())
    answers = results.get(timeout=120)
    flooding.join(30)
    texts = flood_texts()

    victim_p95 = sorted(victim_times)[int(0.95 * (len(victim_times) - 1))]
    assert victim_p95 < 2.0, victim_times

    busy, served, crises = [], [], []
    for text, (status, headers, body, seconds) in zip(texts, answers):
        assert seconds < 5.0, (status, seconds)
        if text in CRISES:
            assert status == 200, body
            assert "utter_crisis" in [m.get("response") for m in body["messages"]]
            crises.append(seconds)
            continue
        if status == 503:
            busy.append(seconds)
            assert int(headers["Retry-After"]) >= 1
            assert "999" in body["error"] and "116 123" in body["error"]
            assert "session" not in body  # nothing kept: they send it again later
        else:
            assert status == 200, body
            served.append(seconds)
    print(f"\nvictim: {[round(t, 2) for t in victim_times]}; flood: {len(served)} served "
          f"(median {statistics.median(served):.2f} s), {len(busy)} told busy "
          f"(median {statistics.median(busy) if busy else 0:.2f} s, max {max(busy, default=0):.2f} s); "
          f"crises: max {max(crises):.2f} s")
    # Crises go first: every one answered with the crisis reply within 3 s, none
    # turned away, while most new visitors were told it's busy.
    assert len(crises) == sum(text in CRISES for text in texts) and max(crises) < 3.0, crises
    assert len(busy) > len(served), "500 at once are more than one Rasa can take in a second"
