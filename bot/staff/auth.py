"""Staff accounts and console sessions.

- Passwords: scrypt (n=2**14, r=8, p=1) with a random 16-byte salt, compared in
  constant time. Accounts are made with `python -m bot.staff add USERNAME`, or by
  an admin in the console with a one-time password (bot/staff/accounts_api.py).
- Two-factor (bot/staff/totp.py): an account with it on gets, for a right password,
  a half session (stage 'code', five minutes) that opens only the code step. What a
  session still has to do first is its `pending` step: "code", "password" (a
  one-time password to change) or "two_factor" (supervisors and admins, and everyone
  with STAFF_TOTP_FOR_ALL, must set it up); until then it opens only that step,
  GET me and logout (PENDING_ALLOWS in bot/staff/accounts_api.py).
- A console session is a random token in an HttpOnly, SameSite=Strict cookie
  (Secure behind TLS), kept in the store only as its SHA-256, so a copy of the
  store can't be used to log in; it ends after STAFF_SESSION_HOURS or at logout.
- CSRF: every state-changing request must carry X-CSRF-Token, the session's own
  token (given at login and by GET /staff/api/me), on top of SameSite=Strict.
- Login attempts are throttled per client address, never per account: an account
  that could be locked by failing on purpose would let anyone keep a support worker
  out of the console. After 10 attempts that were not a right password from one
  address in 15 minutes, that address is refused (429, Retry-After) until the
  window ends, whichever account it tries; the worker, from their own address,
  logs in as usual. Every failure also waits half a second. The count is in the
  store, so every gateway and restart sees the same one (given one CHANNEL_ID_KEY,
  which keys the address's hash; unset, each gateway counts on its own). The
  address is the TCP peer's or, behind the proxy, the one it puts in
  STAFF_LOGIN_ADDRESS_HEADER (the proxy's own would make one count for everyone).
  Only the keyed hash is kept, for the window; the address is never logged. IPv6
  counts per /64, which one subscriber usually has.
"""
import asyncio
import base64
import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Tuple

from aiohttp import web

from bot.staff.roles import at_least
from bot.store import Store

COOKIE = "staff_session"
CSRF_HEADER = "X-CSRF-Token"
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
MAX_FAILURES, FAILURE_WINDOW_SECONDS, FAILURE_DELAY_SECONDS = 10, 15 * 60, 0.5
CODE_STAGE_SECONDS = 5 * 60  # a half session, between the password and the code
TOTP_REQUIRED_FROM = "supervisor"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${encode(salt)}${encode(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return kind == "scrypt" and hmac.compare_digest(actual, expected)


# Checked against when the username doesn't exist, so that a wrong username
# takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def client_network(address: str) -> str:
    """The address, or for IPv6 its /64: one subscriber usually has a whole /64 to
    pick new addresses from."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginThrottle:
    """Login attempts per client address, counted in the store (module docstring)."""

    def __init__(self, store: Store, key: bytes, address_header: str = "") -> None:
        self.store = store
        self._key = key
        self._address_header = address_header

    def address_key(self, request: web.Request) -> str:
        address = request.remote or ""
        if self._address_header:
            # Set by our proxy, which overwrites whatever the client sent.
            address = request.headers.get(self._address_header, "").strip() or address
        return hmac.new(self._key, f"staff-login:{client_network(address)}".encode(
            "utf-8", "surrogateescape"), hashlib.sha256).hexdigest()

    async def attempt(self, request: web.Request) -> Tuple[str, int]:
        """Counts this attempt before its password is checked, so that parallel
        guesses can't all slip in first: (the address's key, 0) if it may go ahead,
        else (key, whole seconds until the address may try again)."""
        key, now = self.address_key(request), time.time()
        attempts, started = await self.store.count_login_attempt(key, now, FAILURE_WINDOW_SECONDS)
        if attempts <= MAX_FAILURES:
            return key, 0
        return key, max(1, math.ceil(started + FAILURE_WINDOW_SECONDS - now))

    async def succeeded(self, key: str) -> None:
        await self.store.uncount_login_attempt(key)


def pending_step(session: Dict[str, Any], totp_for_all: bool) -> Optional[str]:
    """What a session must do before anything else, or None (module docstring)."""
    if session.get("stage") == "code":
        return "code"
    if session.get("must_change_password"):
        return "password"
    if not session.get("two_factor") and (totp_for_all or at_least(session["role"], TOTP_REQUIRED_FROM)):
        return "two_factor"
    return None


class StaffAuth:
    def __init__(self, store: Store, session_hours: float, address_key: bytes,
                 address_header: str = "", totp_for_all: bool = False) -> None:
        self.store = store
        self.session_seconds = session_hours * 3600
        self.totp_for_all = totp_for_all
        self.throttle = LoginThrottle(store, address_key, address_header)
        # scrypt is slow on purpose: on its own thread, a flood of logins can't
        # hold up the store (and so the victims' chats).
        self._hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrypt")

    async def check_password(self, username: str, password: str) -> Optional[Dict[str, Any]]:
        """The account, if the password is right and it is not disabled; else None."""
        member = await self.store.staff_member(username)
        stored = member["password_hash"] if member else _DUMMY_HASH
        matches = await asyncio.get_running_loop().run_in_executor(
            self._hashing, password_matches, password, stored)
        return member if matches and member is not None and not member["disabled"] else None

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._hashing, hash_password, password)

    async def start_session(self, username: str, stage: Optional[str] = None) -> Dict[str, Any]:
        """A new session; `stage` 'code': half signed in, for CODE_STAGE_SECONDS."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        seconds = CODE_STAGE_SECONDS if stage == "code" else self.session_seconds
        await self.store.add_staff_session(token_hash(token), username, csrf, time.time() + seconds, stage)
        return {"token": token, "csrf_token": csrf, "seconds": seconds}

    async def session(self, request: web.Request) -> Optional[Dict[str, Any]]:
        """The live session, with its `pending` step and its `token_hash`."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        found = await self.store.staff_session(token_hash(token))
        if found is not None:
            found["pending"] = pending_step(found, self.totp_for_all)
            found["token_hash"] = token_hash(token)
        return found

    async def end_session(self, request: web.Request) -> None:
        token = request.cookies.get(COOKIE)
        if token:
            await self.store.end_staff_session(token_hash(token))


def csrf_ok(request: web.Request, session: Dict[str, str]) -> bool:
    given = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                               session["csrf_token"].encode())


def behind_tls(request: web.Request) -> bool:
    """HTTPS here, or at the TLS-terminating proxy in front (docs/deploy.md)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str,
                       max_age: float) -> None:
    response.set_cookie(COOKIE, token, max_age=int(max_age), path="/staff", httponly=True,
                        samesite="Strict", secure=behind_tls(request))


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    response.del_cookie(COOKIE, path="/staff")
