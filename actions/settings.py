"""Settings the actions read from the environment (and .env, via python-dotenv)."""
import os
from typing import Dict, Text

from dotenv import load_dotenv

load_dotenv()

# Slot that carries each part of the police route -> the variable that overrides it.
# The defaults (the police, 101, www.police.uk: national) are the slots' initial
# values in domain.yml, so the words still work if .env says nothing.
POLICE_ROUTE_VARIABLES = {
    "police_force": "POLICE_FORCE_NAME",
    "police_phone": "POLICE_NON_EMERGENCY_NUMBER",
    "police_report_url": "POLICE_REPORT_URL",
}


def police_route_overrides() -> Dict[Text, Text]:
    """The police route slots that the environment sets, by slot name."""
    return {
        slot: os.environ[variable].strip()
        for slot, variable in POLICE_ROUTE_VARIABLES.items()
        if os.environ.get(variable, "").strip()
    }


def reporting_slots() -> Dict[Text, object]:
    """can_pass_on when the gateway has a reporting channel (REPORT_WEBHOOK_URL and
    REPORT_WEBHOOK_SECRET), and who cases go to, in words (REPORT_RECEIVER_NAME).
    Unset: the domain's initial values (no passing on; "our support team")."""
    slots: Dict[Text, object] = {}
    if os.environ.get("REPORT_WEBHOOK_URL", "").strip() and \
            os.environ.get("REPORT_WEBHOOK_SECRET", "").strip():
        slots["can_pass_on"] = True
    receiver = os.environ.get("REPORT_RECEIVER_NAME", "").strip()
    if receiver:
        slots["report_receiver"] = receiver
    return slots
