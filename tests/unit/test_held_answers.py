"""Which replies to "what's their username?" (or "how can they contact you?") are
kept out of the conversation as the answer (bot/reporting/held_answers.py)."""
import pytest

from bot.reporting.held_answers import is_answer


@pytest.mark.parametrize("intent, text", [
    ("inform", "its dark_lord on insta"),
    ("nlu_fallback", "xXghostXx"),
    ("out_of_scope", "instagram.com/someone"),
    ("deny", "no_mercy_77"),          # looks like "no", but it is a username
    ("skip", "idk maybe @shadow99"),
    ("affirm", "yes its jay.k.22"),
    ("inform", "email me at [EMAIL] after 6"),
    (None, "dark_lord_99"),  # Rasa can't read it now: kept all the same
])
def test_answers_are_kept(intent, text):
    assert is_answer(intent, text)


@pytest.mark.parametrize("intent, text", [
    ("crisis", "i want to die"),
    ("crisis", "@dark_lord_99 posted them and i want to die"),  # a crisis always goes through
    ("skip", "skip"), ("skip", "dont know"), ("deny", "no"), ("deny", "nah i deleted it"),
    ("request_human", "can i talk to a real person"), ("forget_me", "delete this chat"),
    ("correct_report", "wait the app was wrong"),
    (None, "no idea"),  # Rasa can't read it now, and it isn't a username: as usual
])
def test_everything_else_goes_to_rasa_as_usual(intent, text):
    assert not is_answer(intent, text)
