"""The saved replies file (bot/staff/saved_replies.py): the team's file fills in
every number and link from the fact sheet, and a file that can't be used is refused
with words that say what to fix. That it stops the gateway starting is in
tests/gateway/test_saved_replies.py; that redaction keeps every reply, there too
(through the real reply route)."""
import re
import textwrap

import pytest

from bot.fact_sheet import fact_sheet
from bot.settings import ROOT
from bot.staff.saved_replies import SavedReplies, SavedRepliesError, file_path, load

GOOD = """
replies:
  - id: childline
    title: Childline
    text: |
      Call {childline.name} on {childline.phone}, or go to {childline.web}
"""


def write(tmp_path, text: str):
    path = tmp_path / "saved_replies.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_teams_file_loads_with_every_placeholder_filled_in_from_the_fact_sheet():
    replies = SavedReplies("saved_replies.yml", fact_sheet()).replies
    assert len(replies) >= 12
    texts = {reply.id: reply.text for reply in replies}
    # What the issue asks for, by id (the browser test inserts some of them).
    for wanted in ("four-steps", "report-remove", "ceop", "nspcc", "childline", "samaritans",
                   "screenshot-iphone", "screenshot-android", "not-your-fault"):
        assert wanted in texts
    assert not any("{" in text or "}" in text for text in texts.values())
    sheet = fact_sheet()
    assert "0800 1111" in texts["childline"] and sheet["childline"].phone == "0800 1111"
    assert sheet["nspcc"].email in texts["nspcc"] and sheet["nspcc"].phone in texts["nspcc"]
    assert "101" in texts["four-steps"] and "999" in texts["four-steps"]
    assert sheet["ceop"].web in texts["ceop"]


def test_numbers_and_links_are_never_typed_in_the_file_itself():
    """Only placeholders: a number typed there would not follow a change to services.yml."""
    raw = (ROOT / "saved_replies.yml").read_text()
    texts = re.findall(r"^ {6}.*$", raw, re.MULTILINE)  # the replies' text lines
    assert texts
    for line in texts:
        without = re.sub(r"\{[^}]*\}", "", line)
        assert not re.search(r"\d{3}|\w\.(?:uk|org|com)\b|@", without), line


def test_placeholders_take_exactly_what_the_sheet_says(tmp_path):
    [reply] = load(write(tmp_path, GOOD), fact_sheet())
    assert reply.text == "Call Childline on 0800 1111, or go to childline.org.uk"
    assert (reply.id, reply.title) == ("childline", "Childline")


def test_the_path_is_relative_to_the_repository_unless_absolute(tmp_path):
    assert file_path("saved_replies.yml") == ROOT / "saved_replies.yml"
    assert file_path(str(tmp_path / "x.yml")) == tmp_path / "x.yml"


@pytest.mark.parametrize("placeholder, says", [
    ("{childline.fax}", "{childline.fax}"),            # no such field
    ("{chidline.phone}", "{chidline.phone}"),          # a misspelt service
    ("{samaritans.web}", "{samaritans.web}"),          # a field this service doesn't have
    ("{childline}", "{childline}"),
    ("{ childline.phone }", "{ childline.phone }"),
])
def test_an_unknown_placeholder_is_refused_naming_it_and_the_reply(tmp_path, placeholder, says):
    path = write(tmp_path, GOOD.replace("{childline.phone}", placeholder))
    with pytest.raises(SavedRepliesError) as refused:
        load(path, fact_sheet())
    assert says in str(refused.value) and "reply 1 (childline)" in str(refused.value)


@pytest.mark.parametrize("text, says", [
    ("replies: [\n  - id: x", "not valid YAML near line"),
    ("replies: []", 'a list of replies under "replies:"'),
    ("- id: x", 'a list of replies under "replies:"'),
    ("replies:\n  - id: x\n    text: hello", "exactly an id, a title and a text"),
    ("replies:\n  - {id: x, title: '', text: hello}", "its title must be some words"),
    ("replies:\n  - {id: X Y, title: t, text: hello}", "lower-case letters, digits and dashes"),
    ("replies:\n  - {id: x, title: t, text: a}\n  - {id: x, title: u, text: b}", "the id x is used twice"),
    ("replies:\n  - {id: x, title: t, text: 'call {childline.phone'}", "curly bracket"),
    ("replies:\n  - {id: x, title: t, text: " + "a" * 2001 + "}", "over 2000 characters"),
])
def test_a_malformed_file_is_refused_saying_what_is_wrong(tmp_path, text, says):
    with pytest.raises(SavedRepliesError) as refused:
        load(write(tmp_path, text), fact_sheet())
    assert says in str(refused.value)


def test_a_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(SavedRepliesError) as refused:
        SavedReplies(str(tmp_path / "nowhere.yml"), fact_sheet())
    assert str(tmp_path / "nowhere.yml") in str(refused.value) and "can't read it" in str(refused.value)
