"""The reporting channel: cases passed on, with consent, to REPORT_WEBHOOK_URL.

    the person says yes (actions/report.py), or staff do it for them with their
    consent during a handoff (the staff routes: bot/reporting/api.py)
      -> submit(): the case is written, sealed, to the outbox in our store, and
         only then is the person told it is passed on (with its reference)
      -> the delivery loop: a JSON POST signed with HMAC-SHA256 (docs/api.md),
         the same body and Idempotency-Key on every attempt; retried with
         back-off while the receiver is down or answers anything but 2xx; after
         REPORT_GIVE_UP_HOURS it is marked failed and the staff console alerts
      -> delivered: the case's content is purged; its reference and delivery
         status stay for CASE_RETENTION_DAYS.

Two answers are kept out of the conversation altogether (bot/reporting/held_answers.py):
the gateway holds them here, sealed, until they go into a case, and they go
with the case's content once it is delivered.
"""
import asyncio
import contextlib
import json
import logging
import random
import secrets
import time
import uuid
from typing import Any, Dict, Optional

import aiohttp

from bot.insights.counts import Insights
from bot.messaging.provider_http import ProviderHttp
from bot.settings import Settings
from bot.signatures import body_signature
from bot.staff.feed import StaffFeed
from bot.store import Store, iso_time
from bot.store.sealing import Sealer
from bot.when_due import run_when_due

logger = logging.getLogger(__name__)

# The notes to keep (summary and evidence checklist): a file to download.
NOTES_RESPONSE = "utter_report_notes"
NOTES_FILENAME = "report-notes.txt"

# The form's answers as the case carries them.
ANSWER_FIELDS = ("platform", "started", "demand", "paid", "payment", "shared", "screenshots", "handle",
                 "under_18", "writer")
MAX_ANSWER_CHARS = 300
MAX_HELD_CHARS = 500
SIGNATURE_HEADER = "X-Signature-SHA256"
# Longer than one delivery attempt (15 s): a gateway killed mid-attempt holds its
# lease this long, then another (or its restart) takes the case.
LEASE_SECONDS = 30
POLL_SECONDS = 30
# Crockford's base32: no I, L, O or U, so a reference read out on the phone is unambiguous.
REFERENCE_LETTERS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_LETTERS) for _ in range(8))
    return f"SX-{chars[:4]}-{chars[4:]}"


def clean_answers(answers: Any) -> Dict[str, Optional[str]]:
    """The known answers, as short plain text (anything else is dropped)."""
    answers = answers if isinstance(answers, dict) else {}
    cleaned = {}
    for field in ANSWER_FIELDS:
        value = answers.get(field)
        if isinstance(value, str):
            cleaned[field] = " ".join(value.split())[:MAX_ANSWER_CHARS] or None
        else:
            cleaned[field] = None
    return cleaned


def staff_view(case: Dict[str, Any]) -> Dict[str, Any]:
    """A case as the staff console shows it: reference and delivery, nothing more."""
    return {
        "reference": case["reference"],
        "status": case["status"],
        "consent": "staff" if case["consent"].startswith("staff:") else "victim",
        "created": iso_time(case["created_at"]),
        "attempts": case["attempts"],
        "last_error": case["last_error"],
        "delivered": iso_time(case["delivered_at"]),
        "gives_up": iso_time(case["give_up_at"]) if case["status"] == "pending" else None,
    }


class Reporting:
    def __init__(self, store: Store, settings: Settings, feed: StaffFeed,
                 insights: Insights) -> None:
        self.store = store
        self.settings = settings
        self.feed = feed
        self.insights = insights
        self.enabled = settings.reporting_enabled
        # Keyed from the webhook secret: only a gateway that can sign a case can open one.
        self._sealer = Sealer(b"case", settings.report_webhook_secret.encode())
        self._wake = asyncio.Event()
        self._http = ProviderHttp()

    # --- answers kept out of the conversation ----------------------------------
    async def hold(self, session_id: str, field: str, answer: str) -> None:
        """Keeps a held answer for the case (dropped if nothing can be passed on)."""
        if self.enabled:
            await self.store.hold_answer(session_id, field,
                                         self._sealer.seal(f"{session_id}:{field}",
                                                           answer[:MAX_HELD_CHARS]))

    async def _held(self, session_id: str) -> Dict[str, str]:
        held = {}
        for field, sealed in (await self.store.held_answers(session_id)).items():
            opened = self._sealer.open(f"{session_id}:{field}", sealed)
            if opened is not None:
                held[field] = opened
        return held

    # --- submitting ------------------------------------------------------------
    async def submit(self, session_id: str, answers: Any, consent: str,
                     contact_given: bool = False, blackmailer: Optional[str] = None,
                     contact: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """Writes the case to the outbox; {"reference", "status", "already"}.
        None if no reporting channel is set up. One case per conversation."""
        if not self.enabled:
            return None
        answers = clean_answers(answers)
        held = await self._held(session_id)
        # Staff passing it on: what the person already gave in the questions goes too.
        by_staff = consent.startswith("staff:")
        if blackmailer is None and (answers.get("handle") == "given" or by_staff):
            blackmailer = held.get("blackmailer")
        if contact is None and (contact_given or by_staff):
            contact = held.get("contact")
        answers.pop("handle")
        transcript = await self.store.messages_after(session_id, 0, with_times=True) or []
        now = time.time()
        reference, key = new_reference(), str(uuid.uuid4())
        body = {
            "reference": reference,
            "idempotency_key": key,
            "submitted_at": iso_time(now),
            "consent": {"by": "staff" if consent.startswith("staff:") else "victim",
                        "recorded_at": iso_time(now)},
            "answers": answers,
            "blackmailer": (blackmailer or "").strip()[:MAX_HELD_CHARS] or None,
            "contact": (contact or "").strip()[:MAX_HELD_CHARS] or None,
            "transcript": [{"from": m["from"], "text": m["text"], "at": m["at"]} for m in transcript],
        }
        sealed = self._sealer.seal(reference, json.dumps(body, ensure_ascii=False))
        case, added = await self.store.add_case({
            "reference": reference, "session_id": session_id, "idempotency_key": key,
            "consent": consent, "sealed": sealed, "created_at": now,
            "give_up_at": now + self.settings.report_give_up_hours * 3600})
        if added:
            self._wake.set()
            self.feed.publish({"type": "cases_changed"})
            await self.insights.passed_on(session_id)
        return {"reference": case["reference"], "status": case["status"], "already": not added}

    # --- delivering ------------------------------------------------------------
    async def deliver_due(self) -> int:
        """One pass over the cases due now; returns how many were delivered."""
        delivered = 0
        for case in await self.store.lease_due_cases(time.time(), LEASE_SECONDS):
            if await self._deliver(case):
                delivered += 1
        return delivered

    async def _deliver(self, case: Dict[str, Any]) -> bool:
        reference = case["reference"]
        body = self._sealer.open(reference, case["sealed"] or "")
        if body is None:
            await self._failed(case, "cannot be opened: was REPORT_WEBHOOK_SECRET changed?", give_up=True)
            return False
        raw = body.encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": case["idempotency_key"],
                   SIGNATURE_HEADER: body_signature(self.settings.report_webhook_secret, raw)}
        try:
            async with self._http.post(self.settings.report_webhook_url, data=raw, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=15)) as response:
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            await self._failed(case, f"no answer ({type(error).__name__})")
            return False
        if 200 <= status < 300:
            await self.store.case_delivered(reference)
            logger.info("A case was delivered to the reporting channel.")
            self.feed.publish({"type": "cases_changed"})
            return True
        await self._failed(case, f"HTTP {status}")
        return False

    async def _failed(self, case: Dict[str, Any], error: str, give_up: bool = False) -> None:
        now = time.time()
        give_up = give_up or now >= case["give_up_at"]
        first, most = self.settings.report_retry_first_seconds, self.settings.report_retry_max_seconds
        delay = min(first * 2 ** case["attempts"], most) * random.uniform(0.8, 1.2)
        await self.store.case_attempt_failed(case["reference"], error, now + delay, give_up)
        if give_up:
            logger.warning("A case could not be delivered to the reporting channel; "
                           "gave up (%s). Staff can retry it from the console.", error)
            self.feed.publish({"type": "case_failed", "reference": case["reference"]})
        else:
            logger.warning("A case could not be delivered yet (%s); will retry.", error)
        self.feed.publish({"type": "cases_changed"})

    async def retry(self, reference: str) -> bool:
        """Staff: a failed case back in the outbox, for another REPORT_GIVE_UP_HOURS."""
        retried = await self.store.retry_case(
            reference, time.time() + self.settings.report_give_up_hours * 3600)
        if retried:
            self._wake.set()
            self.feed.publish({"type": "cases_changed"})
        return retried

    async def run(self) -> None:
        """Delivers due cases until cancelled; wakes at once for a new case."""
        async def one_pass() -> Optional[float]:
            await self.deliver_due()
            return await self.store.next_case_due()
        await run_when_due(one_pass, self._wake, POLL_SECONDS, "A delivery pass")

    async def close(self) -> None:
        await self._http.close()

    async def running(self):
        """Delivers in the background while the app runs (create_app: cleanup_ctx)."""
        task = asyncio.create_task(self.run()) if self.enabled else None
        yield
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.close()
