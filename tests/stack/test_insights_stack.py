"""Insights through the real system (make run: Rasa, the action server, the
gateway): scripted conversations on the public API are counted exactly as they
went; the page and its API are closed to anonymous callers and to staff who are
not admins; an admin sees the page drawn in headless Chromium (screenshot in
test-artifacts/)."""
import asyncio
import csv
import io
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Dict, List

import aiohttp

from bot.insights.counts import NOT_UNDERSTOOD, Insights
from bot.staff.hours import SupportHours
from bot.store import Store
from tests.support.browser import ARTIFACTS, WAIT_MS, open_console, serious_accessibility_problems
from tests.support.counts import raw_counts
from tests.support.handoff_clients import PASSWORD, Staff, Victim, add_staff, responses, signed_in_staff

STEPS = {"step_1": "utter_step_dont_pay", "step_2": "utter_step_stop_replying",
         "step_3": "utter_step_keep_evidence", "step_4": "utter_step_report"}
ASKED_FOR_A_PERSON = {"utter_handoff_queued", "utter_handoff_crisis", "utter_handoff_queued_later",
                      "utter_handoff_closed_hours", "utter_handoff_nobody_on_shift"}



def expected_from(transcripts: List[List[Dict]]) -> Dict[str, int]:
    """What each conversation was told, counted as the insights should count it."""
    expected = {"conversations": len(transcripts), "fallbacks": 0}
    for messages in transcripts:
        said = set(responses(messages))
        for counter, response in [*STEPS.items(), ("crisis", "utter_crisis"),
                                  ("under_18", "utter_under_18"), ("forget_me", "utter_forget_me"),
                                  ("helping_someone", "utter_helping_someone"),
                                  ("check_risk", "utter_check_risk"),
                                  # "did this help?", asked at the end of a handoff or of the steps
                                  ("helped_handoff_asked", "gateway_did_this_help"),
                                  ("helped_four_steps_asked", "utter_did_this_help")]:
            expected[counter] = expected.get(counter, 0) + (response in said)
        expected["handoff_requested"] = expected.get("handoff_requested", 0) + bool(
            said & ASKED_FOR_A_PERSON)
        # A typed message answered with "not sure": each one counts.
        for i, message in enumerate(messages):
            if message["from"] == "user":
                answer = []
                for later in messages[i + 1:]:
                    if later["from"] == "user":
                        break
                    answer.append(later.get("response"))
                expected["fallbacks"] += bool(set(answer) & NOT_UNDERSTOOD)
    return expected


def changed(before: Dict[str, int], after: Dict[str, int]) -> Dict[str, int]:
    return {name: after.get(name, 0) - before.get(name, 0)
            for name in set(before) | set(after) if after.get(name, 0) != before.get(name, 0)}


async def test_scripted_conversations_are_counted_exactly(stack, receiver):
    database = stack["env"]["DATABASE_URL"]
    alex = await signed_in_staff(stack, "alex")
    await alex.go_live()  # on shift: nobody started with nobody there
    await alex.next_event(lambda e: e["type"] == "queue")
    earlier = {c["id"] for c in await alex.queue()}
    before = await raw_counts(database)

    scripts = [
        ["someone is threatening to send my nudes to my family unless i pay", "ok", "done", "done"],
        ["i want to kill myself"],
        ["im only 15 and at school"],
        ["hmm", "hmmm idk"],
        ["hi", "can i talk to a real person"],
    ]
    victims = [Victim(stack["base"]) for _ in scripts]
    for victim, script in zip(victims, scripts):
        for text in script:
            await victim.say(text)
    # A person takes the last one, passes the case on with consent, and hands it back.
    queued = [c for c in await alex.queue() if c["id"] not in earlier and c["priority"] == "normal"]
    assert len(queued) == 1
    assert (await alex.act(queued[0]["id"], "claim"))[0] == 200
    status, case = await alex.call("POST", f"/staff/api/conversations/{queued[0]['id']}/report",
                                   {"consent": True, "answers": {}})
    assert status == 200, case
    assert (await alex.act(queued[0]["id"], "release"))[0] == 200
    await victims[-1].wait_for(lambda m: m.get("response") == "utter_handback")
    # One more deletes their chat: it still counts, and its words go.
    forgetter = Victim(stack["base"])
    gone = []
    for text in ("hello", "please delete my chat"):  # its transcript, as the page showed it
        gone += [{"from": "user", "text": text}, *({"from": "bot", **m} for m in await forgetter.say(text))]
    assert "utter_forget_me" in responses(gone)

    transcripts = [await victim.messages() for victim in victims] + [gone]
    expected = expected_from(transcripts)
    # The handback to the bot gives the next step: it counts like any other.
    assert STEPS["step_1"] in responses(transcripts[4])
    assert expected["step_4"] >= 1 and expected["crisis"] == 1 and expected["under_18"] >= 1
    expected.update(reached_person=1, wait_le_1=1, report_passed_on=1)
    # What was counted: exactly what the conversations went through, nothing else.
    assert changed(before, await raw_counts(database)) == {
        name: count for name, count in expected.items() if count}

    admin = await admin_staff(stack)
    status, unclear = await admin.call("GET", "/staff/api/insights/unclear")
    assert status == 200 and "explain_situation" in unclear["intents"]
    typed = [m["text"] for t in transcripts for i, m in enumerate(t) if m["from"] == "user"
             and any(r.get("response") in NOT_UNDERSTOOD for r in t[i + 1:i + 2])]
    assert set(typed) <= {m["text"] for m in unclear["messages"]}
    for client in (*victims, forgetter, alex, admin):
        await client.close()


async def admin_staff(system) -> Staff:
    name = f"ada{secrets.token_hex(3)}"
    add_staff(system["env"], name, PASSWORD, "--admin")
    admin = Staff(system["base"])
    assert await admin.login(name) == 200
    await admin.set_up_two_factor()  # admins must, before anything else
    return admin


ADMIN_ONLY = ["/staff/api/insights", "/staff/api/insights.csv", "/staff/api/insights/unclear",
              "/staff/api/insights/training.yml"]


async def test_insights_are_closed_to_anonymous_callers_and_to_staff_who_are_not_admins(stack):
    async with aiohttp.ClientSession() as anonymous:
        for path in ADMIN_ONLY:
            async with anonymous.get(stack["base"] + path) as response:
                assert response.status == 401, path
        async with anonymous.post(stack["base"] + "/staff/api/insights/unclear/x/dismiss") as response:
            assert response.status == 401
        async with anonymous.get(stack["base"] + "/staff/insights", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/staff"

    worker = await signed_in_staff(stack, "kim")
    for path in ADMIN_ONLY:
        status, body = await worker.call("GET", path)
        assert status == 403 and "admin" in body["error"], path
    status, _ = await worker.call("POST", "/staff/api/insights/unclear/x/keep", {"intent": "greet"})
    assert status == 403
    async with worker.http.get(stack["base"] + "/staff/insights") as response:
        assert response.status == 403 and "Only admins" in await response.text()
    status, me = await worker.call("GET", "/staff/api/me")
    assert me["admin"] is False

    admin = await admin_staff(stack)
    status, summary = await admin.call("GET", "/staff/api/insights?days=28")
    assert status == 200 and summary["period"]["days"] == 28 and len(summary["days"]) == 28
    assert all((isinstance(v, int) and (v == 0 or v >= 5)) or v == "<5"
               for v in summary["totals"].values())
    async with admin.http.get(stack["base"] + "/staff/api/insights.csv?days=7") as response:
        assert response.status == 200 and response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        assert f'to-{summary["period"]["to"]}.csv"' in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:2] == ["date", "conversations"] and len(rows) == 1 + 7 + 1
    # Counts only: the last two columns are minutes (median and 9-in-10 waits), not counts.
    assert all(cell in ("", "<5", "0") or int(cell) >= 5 for row in rows[1:] for cell in row[1:-2])
    # "²" and "１" are digits to Python (str.isdigit), and 5,000 nines too many for int().
    for bad in ("0", "367", "seven", "-1", "²", "１", "9" * 5000):
        status, body = await admin.call("GET", f"/staff/api/insights?days={bad}")
        assert status == 400 and "days" in body["error"]
    status, body = await admin.call("POST", "/staff/api/insights/unclear/nope/keep", {"intent": "made_up"})
    assert status == 400 and "intent" in body["error"]
    status, body = await admin.call("POST", "/staff/api/insights/unclear/nope/keep", {"intent": "greet"})
    assert status == 404
    async with admin.http.get(stack["base"] + "/staff/insights") as response:
        assert response.status == 200 and "<h1>Insights</h1>" in await response.text()
    for client in (worker, admin):
        await client.close()


UNCLEAR = ["wot do i do abt ths", "hes got my snap and my insta", "can u make him stop",
           "is it gone if i block", "idk anymore", "my [NAME] will see it", "bruh"]


async def seed_a_week(database_url: str, zone: str) -> None:
    """A plausible week for the screenshot: evenings and nights busiest."""
    store = Store(database_url)
    insights = Insights(store, SupportHours("Mon-Fri 09:00-21:00, Sat-Sun 10:00-18:00", zone),
                        on_shift=lambda: 0)
    today = datetime.now(insights.hours.zone).replace(minute=10, second=0, microsecond=0)
    number = 0
    for days_ago in range(7):
        for hour, people in [(1, 4), (8, 2), (13, 5), (17, 7), (20, 9), (22, 12), (23, 8)]:
            when = (today - timedelta(days=days_ago)).replace(hour=hour).timestamp()
            if when > datetime.now().timestamp():
                continue
            for person in range(people + days_ago % 3):
                number += 1
                session = f"seeded-insights-{number:05d}-" + "s" * 8
                await store.create_session(session, "web")
                reached = [r for i, r in enumerate(STEPS.values()) if person % 5 >= i - 1]
                await insights.stored(session, [{"from": "user", "text": "hi"}], at=when)
                await insights.stored(session, [{"from": "bot", "text": "", "response": r}
                                                for r in reached], at=when + 120)
                if person % 4 == 0:
                    await insights.handoff_requested(session, answered=True, at=when + 200)
                    await insights.reached_person(session, 60 * (2 + person + days_ago), at=when + 600)
                if person % 9 == 1:
                    await insights.stored(session, [{"from": "bot", "text": "", "response": "utter_crisis"}],
                                          at=when + 300)
                if person % 6 == 2:
                    await insights.stored(session, [{"from": "bot", "text": "", "response": "utter_default"}],
                                          typed=UNCLEAR[(person + days_ago) % len(UNCLEAR)],
                                          at=when + 400)
    await store.close()


def test_an_admin_reads_the_insights_page_in_a_browser(start_gateway, browser, tmp_path):
    system = start_gateway(SUPPORT_HOURS="Mon-Fri 09:00-21:00, Sat-Sun 10:00-18:00")
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        pool.submit(asyncio.run, seed_a_week(system["env"]["DATABASE_URL"], "Europe/London")).result()
    context, console = open_console(browser, system, "manager", "--admin")
    try:
        link = console.locator("#insights-link")
        link.wait_for(state="visible", timeout=WAIT_MS)
        link.click()
        console.wait_for_function("() => document.body.dataset.loaded === '7'", timeout=WAIT_MS)
        funnel = console.eval_on_selector_all(".funnel-count", "items => items.map(i => i.textContent)")
        assert len(funnel) == 5 and not funnel[0].startswith("<")
        assert int(funnel[0]) > int(funnel[4].split(" ")[0]) > 0
        cells = console.eval_on_selector_all("#heatmap td", "cells => cells.map(c => c.textContent)")
        assert len(cells) == 7 * 24 and "<5" in cells and any(c.isdigit() and int(c) >= 5 for c in cells)
        assert console.locator("#heatmap td.open").count() == 5 * 12 + 2 * 8
        assert console.locator(".daily-chart rect.bar").count() == 7
        assert console.locator(".daily-chart path.wait-line").count() >= 1
        assert console.locator("#unclear .unclear-item").count() >= 1
        console.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)
        assert serious_accessibility_problems(console) == []

        # Keep one message not understood as a training example: it is in the export.
        first = console.locator("#unclear .unclear-item").first
        text = first.locator(".unclear-text").text_content()
        first.locator("select").select_option("ask_next")
        with console.expect_response(lambda r: r.url.endswith("/keep") and r.status == 200):
            first.locator("button[type=submit]").click()
        exported = console.evaluate("() => fetch('/staff/api/insights/training.yml').then(r => r.text())")
        assert "- intent: ask_next" in exported and f"    - {text}" in exported

        # The CSV downloads from the page, small counts hidden.
        with console.expect_download() as download:
            console.click("#csv")
        saved = tmp_path / "insights.csv"
        download.value.save_as(saved)
        rows = list(csv.reader(saved.open()))
        assert rows[0][1] == "conversations" and rows[-1][0] == "total" and int(rows[-1][1]) > 100
    finally:
        context.close()
