"""The come-back code: an anonymous way back to a web conversation after the tab
is closed or quick exit pressed, with no account, email or phone number
(docs/privacy.md, "The come-back code").

    POST /api/chat/{session}/code   -> 201 {"code": "seven words"}: a new code; an older one stops working
    POST /api/chat/resume           {"code": str} -> 200 {"session": str}, or 404 after a pause

A code is seven words drawn with `secrets` from the EFF's short word list 1
(xkcdpass ships it) less the words in UNFIT: about 70 bits (BITS), so guessing
one is hopeless even for someone who never has to say who they are (we never
see addresses, so there is no limit per address to set). It is shown once and
kept only as the SHA-256 of its words, lower case with single spaces between
(bot/store/come_back.py): typed back, case and the spaces, hyphens, commas or
full stops between the words don't matter.

A code that opens nothing is answered with the same 404 and the same words,
COME_BACK_FAIL_SECONDS after the request came (whether the words were unknown, too
few, replaced, or their chat deleted or expired), so that neither the answer nor
its time says why; each one is counted (insights: come_back_failed) and logged
only as having happened. A body that is not a JSON object, or a `code` that is not
text or is far longer than any code, is not a guess: 400 at once.
"""
import asyncio
import hashlib
import importlib.resources
import logging
import math
import re
import secrets
import time
import unicodedata
from typing import Optional, Tuple

from aiohttp import web

from bot.conversation.turn import Conversations
from bot.errors import Problem
from bot.keys import CONVERSATIONS, SETTINGS
from bot.web.checks import check_session, read_json_object

logger = logging.getLogger(__name__)

WORDS_IN_A_CODE = 7
# Longer than any code typed with generous spaces: more is not a code at all.
MAX_CODE_CHARS = 200

# Words of the list not to show a frightened person, often a teenager being
# blackmailed with intimate images, as the key to their chat. By what they call up.
UNFIT = frozenset(" ".join((
    # sexual, or read that way
    "bride bulge bust clap cupid curvy date elope flirt grab grope groom gush hug hump hunk juicy "
    "kitty knelt lure marry match moist mount pants panty perky poser prude ride shaft skirt slit "
    "slurp stud swipe tart thong throb vixen wife wink",
    # the body
    "ankle bath body boned boney bony cheek chest elbow femur fetal gut jaws knee limb lip liver "
    "lung mouth thigh thumb tummy womb wrist",
    # violence, being hunted or watched
    "armed arson baton bash blade blast blunt bully cage cane chase gag gore hunt hurt harm jab kick "
    "lash lurk mace punch rage riot shove slam slash smash snare sneak spied sting thump trap watch "
    "wound wrath",
    # death, illness and harm to oneself
    "aids ashen ashes coma cut decay drown final grave hung jump mummy polio rabid rope slain widow",
    # what the person may already feel
    "agony alone anger bleak cried crush empty evil filth grief hate ooze panic ruin sadly scare "
    "scary shock slimy spew trash void worry wreck",
    # crime and the law (they are not in trouble)
    "alibi bribe crook decoy evade evict frisk judge juror jury lying poach probe raid rogue scam "
    "sham stash stole theft trial",
    # money and paying (the blackmailer's demand)
    "broke card cash cost debit debt deal dime dowry gains grant lend payer penny poker pound purse "
    "repay rich spend spent trade visa wager wages",
    # drugs and drink
    "cider coke dose drank hash junky keg ounce",
    # religion and superstition
    "angel bless curse cult halo islam omen pagan saint sect tarot",
    # pictures and sharing them (the threat)
    "film image photo send share shown snap tweet viral video",
    # insults
    "chump crazy fool geek lazy nerd nutty pest slob wimp",
    # family (whom the blackmailer threatens to tell)
    "dad mama mom nanny niece uncle",
    # names and brands, and a word with a hyphen in it (a separator when typed back)
    "ebay trump xerox yahoo yo-yo",
)).split())
WORDS: Tuple[str, ...] = tuple(
    word for word in (importlib.resources.files("xkcdpass") / "static" / "eff-short").read_text().split()
    if word not in UNFIT)
KNOWN = frozenset(WORDS)
# What a code is worth to a guesser: log2 of how many codes there are.
BITS = WORDS_IN_A_CODE * math.log2(len(WORDS))
# Between the words when typed back: spaces, hyphens and dashes, commas, full stops.
SEPARATORS = re.compile(r"[\s,.\-\u2010-\u2015\u2212]+")

NOT_OPENED = ("That code didn't open a chat. Check the words and try again, or start a new chat. "
              "A code stops working when its chat is deleted or a new code is made.")
NO_CHAT = "No such conversation."  # as GET /api/chat/{session}/messages says it


def new_code() -> str:
    return " ".join(secrets.choice(WORDS) for _ in range(WORDS_IN_A_CODE))


def normalised(typed: str) -> Optional[str]:
    """The code's words, lower case, one space between; None if it can't be a code."""
    words = [word for word in SEPARATORS.split(unicodedata.normalize("NFKC", typed).casefold()) if word]
    if len(words) != WORDS_IN_A_CODE or not all(word in KNOWN for word in words):
        return None
    return " ".join(words)


def code_hash(words: str) -> str:
    """What the store keeps of a code: the SHA-256 of its normalised words."""
    return hashlib.sha256(words.encode()).hexdigest()


def conversations(request: web.Request) -> Conversations:
    return request.app[CONVERSATIONS]


async def make_code(request: web.Request) -> web.Response:
    """Knowing the session id (192 random bits the page holds) is the authority, as
    for GET /api/chat/{session}/messages."""
    session = check_session(request.match_info["session"])
    chats = conversations(request)
    code = new_code()
    if not await chats.store.replace_come_back_code(session, code_hash(code)):
        raise Problem(404, NO_CHAT)
    await chats.insights.come_back("made")
    return web.json_response({"code": code}, status=201)


async def resume(request: web.Request) -> web.Response:
    started = time.monotonic()
    data = await read_json_object(request)
    typed = data.get("code")
    if not isinstance(typed, str) or len(typed) > MAX_CODE_CHARS:
        raise Problem(400, f"'code' must be the words of a code, as text (at most {MAX_CODE_CHARS} characters).")
    chats = conversations(request)
    settings = request.app[SETTINGS]
    words = normalised(typed)
    session = None
    if words is not None:
        lasts_since = time.time() - settings.retention_hours * 3600
        session = await chats.store.come_back_session(code_hash(words), lasts_since)
    if session is None:
        await chats.insights.come_back("failed")
        logger.info("A come-back code opened no chat.")  # never the code, never a session
        await asyncio.sleep(max(0.0, settings.come_back_fail_seconds - (time.monotonic() - started)))
        raise Problem(404, NOT_OPENED)
    await chats.insights.come_back("used")
    return web.json_response({"session": session})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/chat/{session}/code", make_code)
    app.router.add_post("/api/chat/resume", resume)
