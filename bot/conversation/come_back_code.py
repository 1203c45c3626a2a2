"""The come-back code's words (docs/privacy.md, "The come-back code"): making one,
reading one typed back, what the store keeps of it, and finding one typed into a
message. Its routes are
bot/web/come_back.py; this module imports nothing of the project's, so that the
turn (bot/conversation/turn.py) can use it too.

A code is seven words drawn with `secrets` from the EFF's short word list 1
(xkcdpass ships it) less the words in UNFIT: about 70 bits (BITS), so guessing
one is hopeless even for someone who never has to say who they are. It is kept
only as the SHA-256 of its words, lower case with single spaces between
(code_hash): typed back, case and the spaces, hyphens, commas or full stops
between the words don't matter (normalised).

A person coming back may type the code into the message box instead of "I have a
code". The turn puts PLACEHOLDER in its place (hidden; five or more of its words in a
row, so that one mistyped or missing word doesn't leave the rest) before the message is redacted,
stored or read by Rasa: staff read the transcript, cases passed on carry it, and the
words open the chat to anyone. A message that was nothing but a code never reaches Rasa.
"""
import hashlib
import importlib.resources
import math
import re
import secrets
import unicodedata
from typing import Optional, Tuple

WORDS_IN_A_CODE = 7

# Words of the list not to show a frightened person, often a teenager being
# blackmailed with intimate images, as the key to their chat. By what they call up.
UNFIT = frozenset(" ".join((
    # sexual, or read that way
    "bride bulge bust clap cupid curvy date elope flirt grab grope groom gush hug hump hunk juicy "
    "kitty knelt lure marry match moan moist mount pants panty perky poser prude rack ride shaft "
    "skirt slit slurp stud swipe tart thong throb vixen wad wife wink",
    # the body
    "ankle bath body boned boney bony cheek chest elbow femur fetal gut jaws knee limb lip liver "
    "lung mouth thigh thumb tummy womb wrist",
    # violence, being hunted or watched
    "armed arson baton bash blade blast blunt bully cage cane chase gag gore hunt hurt harm jab kick "
    "lash lurk mace punch rage riot shove slam slash smash snare sneak spied sting thump trap watch "
    "wound wrath",
    # death, illness and harm to oneself
    "aids ashen ashes coma cut decay drown final grave hung jump mummy polio rabid rigor rope slain "
    "virus widow",
    # what the person may already feel, or fear from others: mocked, shunned, told off, begging
    "agony alone anger bleak cried crush empty evil filth grief hate ooze panic plead ruin sadly "
    "scare scary scoff scold scorn shock shun slimy smirk sneer snub spew taunt trash void worry "
    "wreck",
    # crime and the law (they are not in trouble)
    "alibi bribe crook decoy evade evict frisk judge juror jury lying poach probe raid rogue scam "
    "sham stash stole theft trial vice",
    # prying, swearing, and a stain (on a reputation)
    "pry stain swear",
    # money and paying (the blackmailer's demand; gift cards among them)
    "bonus broke card cash cost debit debt deal dime dowry gains gift grant lend lent payer penny "
    "poker pound purse repay rich spend spent trade visa wager wages",
    # drugs and drink
    "cider coke dose drank hash junky keg mule ounce sniff snort",
    # religion and superstition
    "angel bless curse cult halo islam omen pagan saint sect tarot",
    # pictures, video calls and sharing them (the threat)
    "cameo film image movie photo send share shown snap tweet viral video zoom",
    # insults, and words used as them
    "chump crazy deaf ditzy dwarf fool geek lazy nerd nutty pest punk slob wimp",
    # family (whom the blackmailer threatens to tell)
    "dad mama mom nanny niece uncle",
    # names and brands, and a word with a hyphen in it (a separator when typed back)
    "ebay morse santa trump xerox yahoo yo-yo",
    # half of a phrase, not a word on its own
    "bok folic kung mardi mumbo petri",
)).split())
WORDS: Tuple[str, ...] = tuple(
    word for word in (importlib.resources.files("xkcdpass") / "static" / "eff-short").read_text().split()
    if word not in UNFIT)
KNOWN = frozenset(WORDS)
# What a code is worth to a guesser: log2 of how many codes there are.
BITS = WORDS_IN_A_CODE * math.log2(len(WORDS))
# Between the words when typed back: spaces, hyphens and dashes, commas, full stops.
SEPARATORS = re.compile(r"[\s,.\-\u2010-\u2015\u2212]+")


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


# A code typed into a message (hidden): words are runs of letters, and anything else
# between two of them is a separator, however the person typed it.
LETTERS = re.compile(r"[^\W\d_]+")
# What a message keeps in the code's place (the redactor's placeholders look the same).
PLACEHOLDER = "[CODE]"
# Left of a message when its codes are taken out: nothing but these is nothing at all.
NOT_WORDS = re.compile(r"[\W_]*")


# Fewer than a whole code is hidden too: five or six of its words (a word mistyped, or
# left out) are most of the way to the code for anyone reading the transcript. No
# message in the training data or the blind sets has more than four in a row.
HIDE_FROM = 5


def hidden(text: str) -> str:
    """The message with each run of HIDE_FROM or more code words in a row
    (whatever is between them) as PLACEHOLDER; only PLACEHOLDER if the rest holds no
    word or number."""
    runs, run = [], []
    for word in [*LETTERS.finditer(text), None]:
        if word is not None and word.group().casefold() in KNOWN:
            run.append(word)
            continue
        if len(run) >= HIDE_FROM:
            runs.append((run[0].start(), run[-1].end()))
        run = []
    if not runs:
        return text
    pieces, done = [], 0
    for start, end in runs:
        pieces += [text[done:start], PLACEHOLDER]
        done = end
    pieces.append(text[done:])
    if all(NOT_WORDS.fullmatch(piece) for piece in pieces[::2]):
        return PLACEHOLDER
    return "".join(pieces)
