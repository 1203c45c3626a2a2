"""Accounts in the console, and the two-factor step of signing in (docs/api.md).

Everyone, for their own account:
    POST /staff/api/login/code                   {"code"} or {"recovery_code"}: the second step
                                                 of signing in -> a whole session (new cookie)
    GET  /staff/api/account                      -> {"username", "role", "two_factor", ...}
    POST /staff/api/account/password             {"current", "new"}
    POST /staff/api/account/two-factor/setup     -> {"secret", "secret_grouped", "uri", "qr_svg"}
    POST /staff/api/account/two-factor/confirm   {"code"} -> {"recovery_codes"}, shown this once

Admins only (roles.require):
    GET  /staff/api/accounts                     -> {"accounts": [...]}
    POST /staff/api/accounts                     {"username", "role"} -> {"one_time_password"}, shown once
    POST /staff/api/accounts/{username}/disable  their sessions end at once, live consoles too
    POST /staff/api/accounts/{username}/enable
    POST /staff/api/accounts/{username}/role     {"role"}
    POST /staff/api/accounts/{username}/password-reset    -> {"one_time_password"}; sessions end
    POST /staff/api/accounts/{username}/two-factor-reset  a lost phone; sessions end

There is always an enabled admin: the last one can't be disabled or given another
role (409). Every action goes into the audit log, never a password or a code.
"""
import asyncio
import secrets
from typing import Any, Dict, Optional

from aiohttp import web

from bot.errors import Problem
from bot.keys import AUTH, HANDOFFS, TWO_FACTOR
from bot.staff.accounts import MIN_PASSWORD, USERNAME
from bot.staff.auth import FAILURE_DELAY_SECONDS, TOTP_REQUIRED_FROM, pending_step, set_session_cookie
from bot.staff.feed import SESSION_CHANGED
from bot.staff.roles import ROLES, at_least, require
from bot.web.checks import read_json_object

API = "/staff/api/"
ONE_TIME_PASSWORD_BYTES = 15  # 20 characters, 120 bits
MAX_PASSWORD = 1024

# What a session with a pending step (bot/staff/auth.py pending_step) may still do.
_ALWAYS = {("GET", "me"), ("POST", "logout"), ("GET", "account")}
PENDING_ALLOWS = {
    "code": {("GET", "me"), ("POST", "logout"), ("POST", "login/code")},
    "password": _ALWAYS | {("POST", "account/password")},
    "two_factor": _ALWAYS | {("POST", "account/password"), ("POST", "account/two-factor/setup"),
                             ("POST", "account/two-factor/confirm")},
}
PENDING_WORDS = {
    "code": "Enter the code from your authenticator app first.",
    "password": "Choose a new password first.",
    "two_factor": "Set up two-factor sign-in first.",
}


def session_body(session: Dict[str, Any], csrf_token: str, pending: Optional[str]) -> Dict[str, Any]:
    """What login, the code step and GET me answer: who, the CSRF token, what is pending."""
    return {"username": session["username"], "csrf_token": csrf_token, "role": session["role"],
            "admin": session["role"] == "admin", "pending": pending,
            "two_factor": bool(session.get("two_factor"))}


def me(request: web.Request) -> str:
    return request["staff"]["username"]


def one_time_password() -> str:
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


def text_field(data: Dict[str, Any], name: str, words: str, longest: int = MAX_PASSWORD) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= longest:
        raise Problem(400, words)
    return value


def ended_everywhere(request: web.Request, username: str) -> None:
    """Their sessions are gone from the store: their live consoles, on every gateway,
    check theirs now and close with 4401 (bot/staff/api.py live)."""
    request.app[HANDOFFS].feed.signed_out(username)


# --- the code step of signing in ----------------------------------------------------
async def login_code(request: web.Request) -> web.Response:
    session = request["staff"]
    if session["pending"] != "code":
        raise Problem(409, "There is no code to give now.")
    data = await read_json_object(request)
    auth, two_factor, username = request.app[AUTH], request.app[TWO_FACTOR], me(request)
    code, recovery = data.get("code"), data.get("recovery_code")
    if not (isinstance(code, str) and code) and not (isinstance(recovery, str) and recovery):
        raise Problem(400, "Enter the code from your authenticator app, or a recovery code.")
    address, wait = await auth.throttle.attempt(request)
    if not wait:
        account_key, wait = await two_factor.code_attempt(username)
    if wait:
        raise Problem(429, "Too many wrong codes. Try again later.", retry_after=wait)
    member = await auth.store.staff_member(username)
    if isinstance(code, str) and code:
        right = await two_factor.check_code(username, member["totp_secret"], code.replace(" ", ""))
    else:
        right = await two_factor.use_recovery_code(username, recovery)
    if not right:
        await auth.store.audit(username, "two_factor_failed")
        await asyncio.sleep(FAILURE_DELAY_SECONDS)
        raise Problem(400, "That code didn't work. Codes change every 30 seconds, and each works once.")
    await auth.throttle.succeeded(address)
    await two_factor.code_succeeded(account_key)
    if not (isinstance(code, str) and code):
        await auth.store.audit(username, "recovery_code_used")
    # A new token for the whole session: the half session's cookie opens nothing more.
    await auth.store.end_staff_session(session["token_hash"])
    started = await auth.start_session(username)
    await auth.store.audit(username, "login")
    whole = {**session, "stage": None}
    response = web.json_response(session_body(whole, started["csrf_token"],
                                              pending_step(whole, auth.totp_for_all)))
    set_session_cookie(response, request, started["token"], started["seconds"])
    return response


# --- one's own account --------------------------------------------------------------
async def my_account(request: web.Request) -> web.Response:
    store, username = request.app[AUTH].store, me(request)
    member = await store.staff_member(username)
    return web.json_response({
        "username": username, "role": member["role"], "two_factor": member["two_factor"],
        "two_factor_required": request.app[AUTH].totp_for_all or at_least(member["role"], TOTP_REQUIRED_FROM),
        "must_change_password": member["must_change_password"],
        "recovery_codes_left": await store.recovery_codes_left(username) if member["two_factor"] else 0,
    })


async def change_password(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    current = text_field(data, "current", "Enter your current password.")
    new = text_field(data, "new", f"Choose a new password of at least {MIN_PASSWORD} characters.")
    if len(new) < MIN_PASSWORD:
        raise Problem(400, f"Choose a new password of at least {MIN_PASSWORD} characters.")
    if new == current:
        raise Problem(400, "Choose a password different from the one you have now.")
    auth, username = request.app[AUTH], me(request)
    # A stolen session must not become a way to guess the password: counted like logins.
    address, wait = await auth.throttle.attempt(request)
    if wait:
        raise Problem(429, "Too many failed attempts from here. Try again later.", retry_after=wait)
    if await auth.check_password(username, current) is None:
        await auth.store.audit(username, "password_change_failed")
        await asyncio.sleep(FAILURE_DELAY_SECONDS)
        raise Problem(400, "Your current password is not right.")
    await auth.throttle.succeeded(address)
    # Every other session of theirs ends: whoever else had the old password is out.
    await auth.store.set_staff_password(username, await auth.hash(new), must_change=False,
                                        keep_session=request["staff"]["token_hash"])
    await auth.store.audit(username, "password_changed")
    return web.json_response({"ok": True})


async def two_factor_setup(request: web.Request) -> web.Response:
    username = me(request)
    member = await request.app[AUTH].store.staff_member(username)
    if member["two_factor"]:
        raise Problem(409, "Two-factor sign-in is already on. An admin can reset it if you lose your phone.")
    return web.json_response(await request.app[TWO_FACTOR].start_setup(username))


async def two_factor_confirm(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    code = text_field(data, "code", "Enter the code your authenticator app shows.", 16).replace(" ", "")
    auth, two_factor, username = request.app[AUTH], request.app[TWO_FACTOR], me(request)
    member = await auth.store.staff_member(username)
    if member["two_factor"]:
        raise Problem(409, "Two-factor sign-in is already on.")
    if not member["totp_pending"]:
        raise Problem(409, "Start setting up two-factor sign-in first.")
    key, wait = await two_factor.code_attempt(username)
    if wait:
        raise Problem(429, "Too many wrong codes. Try again later.", retry_after=wait)
    codes = await two_factor.confirm_setup(username, member["totp_pending"], code)
    if codes is None:
        await asyncio.sleep(FAILURE_DELAY_SECONDS)
        raise Problem(400, "That code didn't work. Check that your phone's time is right, and try the newest code.")
    await two_factor.code_succeeded(key)
    await auth.store.audit(username, "two_factor_set_up")
    return web.json_response({"recovery_codes": codes})


# --- admins: everyone's accounts ------------------------------------------------------
def target(request: web.Request) -> str:
    username = request.match_info["username"]
    if not USERNAME.fullmatch(username):
        raise Problem(404, "There is no such account.")
    return username


def role_field(data: Dict[str, Any]) -> str:
    role = data.get("role")
    if role not in ROLES:
        raise Problem(400, "Choose a role: worker, supervisor or admin.")
    return role


def done_or_problem(outcome: str) -> None:
    if outcome == "missing":
        raise Problem(404, "There is no such account.")
    if outcome == "last_admin":
        raise Problem(409, "There must always be an admin who can sign in. Make someone else an admin first.")


async def list_accounts(request: web.Request) -> web.Response:
    require(request, "admin")
    return web.json_response({"accounts": await request.app[AUTH].store.list_staff()})


async def add_account(request: web.Request) -> web.Response:
    require(request, "admin")
    data = await read_json_object(request)
    username, role = data.get("username"), role_field(data)
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise Problem(400, "A username is 1 to 64 letters, digits, '.', '_' or '-'.")
    auth, password = request.app[AUTH], one_time_password()
    if not await auth.store.add_staff(username, await auth.hash(password), role, must_change_password=True):
        raise Problem(409, "There is already an account with that username.")
    await auth.store.audit(me(request), f"account_added:{username}:{role}")
    return web.json_response({"username": username, "role": role, "one_time_password": password})


async def disable_account(request: web.Request) -> web.Response:
    require(request, "admin")
    username = target(request)
    done_or_problem(await request.app[AUTH].store.disable_staff_keeping_an_admin(username))
    ended_everywhere(request, username)
    await request.app[AUTH].store.audit(me(request), f"account_disabled:{username}")
    return web.json_response({"ok": True})


async def enable_account(request: web.Request) -> web.Response:
    require(request, "admin")
    username = target(request)
    if not await request.app[AUTH].store.enable_staff(username):
        raise Problem(404, "There is no such account.")
    await request.app[AUTH].store.audit(me(request), f"account_enabled:{username}")
    return web.json_response({"ok": True})


async def set_role(request: web.Request) -> web.Response:
    require(request, "admin")
    username, role = target(request), role_field(await read_json_object(request))
    done_or_problem(await request.app[AUTH].store.set_staff_role_keeping_an_admin(username, role))
    await request.app[AUTH].store.audit(me(request), f"role_set:{username}:{role}")
    request.app[HANDOFFS].feed.publish({"type": SESSION_CHANGED})  # live consoles: the new role now
    return web.json_response({"ok": True})


async def reset_password(request: web.Request) -> web.Response:
    require(request, "admin")
    username, auth = target(request), request.app[AUTH]
    password = one_time_password()
    if not await auth.store.set_staff_password(username, await auth.hash(password), must_change=True):
        raise Problem(404, "There is no such account.")
    ended_everywhere(request, username)
    await auth.store.audit(me(request), f"password_reset:{username}")
    return web.json_response({"username": username, "one_time_password": password})


async def reset_two_factor(request: web.Request) -> web.Response:
    require(request, "admin")
    username = target(request)
    if not await request.app[AUTH].store.reset_totp(username):
        raise Problem(404, "There is no such account.")
    ended_everywhere(request, username)
    await request.app[AUTH].store.audit(me(request), f"two_factor_reset:{username}")
    return web.json_response({"ok": True})


def setup_routes(app: web.Application) -> None:
    app.router.add_post(API + "login/code", login_code)
    app.router.add_get(API + "account", my_account)
    app.router.add_post(API + "account/password", change_password)
    app.router.add_post(API + "account/two-factor/setup", two_factor_setup)
    app.router.add_post(API + "account/two-factor/confirm", two_factor_confirm)
    app.router.add_get(API + "accounts", list_accounts)
    app.router.add_post(API + "accounts", add_account)
    base = API + "accounts/{username}/"
    app.router.add_post(base + "disable", disable_account)
    app.router.add_post(base + "enable", enable_account)
    app.router.add_post(base + "role", set_role)
    app.router.add_post(base + "password-reset", reset_password)
    app.router.add_post(base + "two-factor-reset", reset_two_factor)
