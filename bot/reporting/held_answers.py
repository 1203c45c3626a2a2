"""Answers kept out of the conversation: the blackmailer's username or profile
link (evidence, kept on purpose) and how to contact the person (only if they
choose to give it).

While the report questions ask for one of them, the person's reply is the
answer unless Rasa reads it as something else (a crisis, "skip", "no"...).
The gateway then keeps the answer for the case (bot/reporting/outbox.py), and stores and
sends on only a placeholder: the answer never reaches the transcript, Rasa's
tracker or a log.
"""
import re
from typing import Optional

# The question (response name) -> the held answer it asks for.
HELD_QUESTIONS = {"utter_ask_report_handle": "blackmailer", "utter_ask_report_contact": "contact"}
# What the transcript shows instead of a held answer.
PLACEHOLDERS = {
    "blackmailer": "[Their username or link: kept only for your case]",
    "contact": "[How to contact you: kept only for your case]",
}
# What Rasa receives instead: the slot learns only that an answer was given.
HELD_PAYLOAD = '/inform{"held_answer": "given"}'
# Replies to a held question that are not the answer: they go to Rasa as usual.
NOT_ANSWERS = {"crisis", "skip", "deny", "request_human", "forget_me", "goodbye", "correct_report"}
# Looks like a username or link ("no_mercy_77", "@x", "insta.com/x", "иван_петров"): an
# answer, whatever the classifier makes of it, unless it is a crisis. Letters of any
# alphabet: a username the assistant can't read as English is still a username.
HANDLE_LIKE = re.compile(r"@\w|https?://|www\.|\w\.[a-z]{2,}/|[^\W\d_]+[_.]\w|[^\W\d_]+\d", re.IGNORECASE)


def is_answer(intent: Optional[str], text: str) -> bool:
    """Whether a reply to a held question is the answer (module docstring).
    `intent` is Rasa's reading of the redacted text; None if Rasa can't say."""
    if intent == "crisis":
        return False
    if HANDLE_LIKE.search(text):
        return True  # even when Rasa can't say: a username must not reach the transcript
    return intent is not None and intent not in NOT_ANSWERS
