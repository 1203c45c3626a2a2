"""Settings the actions read from the environment (and .env, via python-dotenv)."""
import os
from typing import Dict, Text

from dotenv import load_dotenv

load_dotenv()

# Slot that carries each part of the police route -> the variable that overrides it.
# The defaults (Northamptonshire Police, 101, its online form) are the slots'
# initial values in domain.yml, so the words still work if .env says nothing.
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
