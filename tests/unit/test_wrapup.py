"""The wrap-up list (bot/staff/wrapup.py): the team's file is read and checked at
start-up, a malformed one stops the gateway with a clear error, and a close
request's wrap-up is refused when it names what the list does not have."""
import pytest

from bot.errors import Problem
from bot.settings import ROOT
from bot.staff.wrapup import FACTS, WrapUpFileError, load_wrapup


@pytest.fixture(scope="module")
def team_list():
    return load_wrapup(ROOT / "wrapup.yml")


def test_the_teams_file_has_what_the_issue_asks_for_and_every_fact_ticks_a_box(team_list):
    ids = {c.id for c in team_list.categories}
    assert {"under_18", "paid", "images_shared", "crisis", "referred_police", "childline",
            "report_remove", "ceop", "nspcc"} <= ids
    assert {c.ticked_when for c in team_list.categories if c.ticked_when} == set(FACTS)
    assert {"got_what_they_needed", "passed_to_police", "left_before_the_end"} <= {
        o.id for o in team_list.outcomes}


def test_known_facts_come_ticked(team_list):
    form = team_list.form(["under_18", "images_shared", "crisis", "step_1", "conversation"])
    assert form["ticked"] == ["under_18", "images_shared", "crisis"]
    assert form["categories"][0] == {"id": "under_18", "label": "Under 18"}
    assert team_list.form([])["ticked"] == []


@pytest.mark.parametrize("body, words", [
    ({"categories": ["under_18", "made_up"], "outcome": "got_what_they_needed"}, "Unknown category: made_up"),
    ({"categories": ["under_18"], "outcome": "made_up"}, "Unknown outcome: made_up"),
    ({"categories": ["under_18"]}, "Choose one outcome"),
    ({"categories": "under_18", "outcome": "got_what_they_needed"}, "must be a list"),
    ({"categories": [3], "outcome": "got_what_they_needed"}, "must be a list"),
    ({"outcome": ["got_what_they_needed"]}, "Choose one outcome"),
])
def test_a_wrapup_naming_anything_unknown_is_refused(team_list, body, words):
    with pytest.raises(Problem) as refused:
        team_list.chosen(body)
    assert refused.value.status == 400 and words in refused.value.message


def test_a_wrapup_is_read_in_the_lists_order_and_an_empty_body_is_none(team_list):
    assert team_list.chosen({}) is None
    assert team_list.chosen({"categories": ["childline", "under_18", "childline"],
                             "outcome": "passed_to_police"}) == (["under_18", "childline"],
                                                                 "passed_to_police")
    assert team_list.chosen({"outcome": "left_before_the_end"}) == ([], "left_before_the_end")


GOOD = "categories:\n  - {id: a, label: A}\noutcomes:\n  - {id: b, label: B}\n"


@pytest.mark.parametrize("text, words", [
    ("categories: [\n", "not valid YAML"),
    ("- just a list\n", "must have `categories` and `outcomes`"),
    ("outcomes:\n  - {id: b, label: B}\n", "needs a non-empty list `categories`"),
    (GOOD.replace("id: a", "id: Under 18"), "`id` must be lower case"),
    (GOOD.replace("label: A", "label: ''"), "`label` must be text"),
    (GOOD.replace("{id: a, label: A}", "{id: a, label: A, ticked_when: age}"), "`ticked_when` must be one of"),
    (GOOD.replace("{id: b, label: B}", "{id: b, label: B, ticked_when: paid}"), "unknown key `ticked_when`"),
    (GOOD.replace("  - {id: a, label: A}\n", "  - {id: a, label: A}\n  - {id: a, label: Again}\n"),
     "the id `a` is used twice"),
    (GOOD.replace("  - {id: b, label: B}\n", "  - b\n"), "outcomes entry 1: give `id` and `label`"),
])
def test_a_malformed_file_is_refused_saying_where_and_why(tmp_path, text, words):
    path = tmp_path / "wrapup.yml"
    path.write_text(text)
    with pytest.raises(WrapUpFileError) as refused:
        load_wrapup(path)
    assert words in str(refused.value) and str(path) in str(refused.value)


def test_a_good_small_file_loads(tmp_path):
    path = tmp_path / "wrapup.yml"
    path.write_text(GOOD)
    loaded = load_wrapup(path)
    assert [c.id for c in loaded.categories] == ["a"] and [o.label for o in loaded.outcomes] == ["B"]

