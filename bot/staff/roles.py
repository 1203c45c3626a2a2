"""Who may do what in the console. Each role can do all that the one before it can:

    worker      the queue, the conversations they hold, their own account
    supervisor  + the shift's overview, reading any conversation silently, taking one over
    admin       + staff accounts and the insights page

A route that needs more than a worker's role says so with `require(request, role)`.
"""
from aiohttp import web

from bot.errors import Problem

ROLES = ("worker", "supervisor", "admin")
WORDS = {
    "supervisor": "Only supervisors and admins can do this.",
    "admin": "Only admins can do this. Ask an admin to give you the role.",
}


def at_least(role: str, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def require(request: web.Request, needed: str) -> None:
    """403 unless the signed-in staff member's role is `needed` or above."""
    if not at_least(request["staff"]["role"], needed):
        raise Problem(403, WORDS[needed])
