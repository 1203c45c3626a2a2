"""What the gateway says itself, when the assistant can't or shouldn't answer.

Each reply has a name like the domain's responses, so channels and analytics can
tell them apart. Every one keeps the emergency numbers in view: whatever else is
wrong, a person in danger still learns where to turn.
"""
from typing import Any, Dict

EMERGENCY = ("If you're in danger now, call 999. "
             "To talk to someone any time, call Samaritans free on 116 123.")

REPLIES: Dict[str, str] = {
    "gateway_unavailable": (
        "Sorry, I can't answer properly right now. Please try again in a few minutes.\n"
        f"{EMERGENCY}"
    ),
    "gateway_no_words": (
        "I can only read words, not emoji or pictures. "
        "Can you tell me in a few words what's happening?\n"
        f"{EMERGENCY}"
    ),
    "gateway_other_language": (
        "Sorry, I can only understand English at the moment. "
        "A few simple words in English are fine, and spelling doesn't matter.\n"
        f"{EMERGENCY}"
    ),
    "gateway_not_text": (
        "I can only read text messages. Please don't send photos, videos or files here: "
        "I don't open or keep them. Keep your evidence safe on your own phone.\n"
        f"{EMERGENCY}"
    ),
    "gateway_too_long": (
        "That message is too long for me. Could you send it in a few shorter parts?\n"
        f"{EMERGENCY}"
    ),
    "gateway_slow_down": (
        "You're sending messages very fast. Take a breath: I'm still here. "
        "Wait a minute, then send your next message.\n"
        f"{EMERGENCY}"
    ),
}


def reply(name: str) -> Dict[str, Any]:
    return {"text": REPLIES[name], "response": name}
