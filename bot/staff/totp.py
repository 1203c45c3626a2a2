"""Two-factor sign-in with an authenticator app (TOTP, RFC 6238, by pyotp).

- Setting up: a new random secret is offered (as an otpauth:// link, a QR code drawn
  by segno as inline SVG, and in groups of four to type), kept as pending until a
  first right code confirms that the app has it.
- A code is six digits for a 30-second step; one step either side is taken, for a
  phone's clock that is a little off. A code is taken only for a step newer than the
  last one taken for that account (`staff.totp_last_step`), so a code seen over
  someone's shoulder, or sent twice, can't be used again.
- Recovery codes, for a lost phone: ten, shown once, kept only as SHA-256 hashes.
  Each has 80 random bits, far too many to guess from a hash, so a slow hash would
  add nothing; each works once.
- Code attempts are throttled per account, on top of the login throttle per address
  (bot/staff/auth.py): only someone who got the password right can reach this step,
  so only they can lock it, for a few minutes.
- The secret is sealed in the store (AES-GCM, bot/store/sealing.py) under a key
  derived from CHANNEL_ID_KEY when that is set. Unset, that key is random per start:
  a secret sealed with it would be lost at the next restart, locking every
  supervisor out, so it is then kept as it is (marked `plain:`), and the deploy
  guide says to set CHANNEL_ID_KEY. A secret sealed under an old key won't open:
  an admin resets that account's two-factor.
"""
import hashlib
import hmac
import math
import re
import secrets
import time
from typing import List, Optional, Tuple

import pyotp
import segno

from bot.store import Store
from bot.store.sealing import Sealer

ISSUER = "Support line console"
CODE = re.compile(r"^[0-9]{6}$")
STEPS_EITHER_SIDE = 1
RECOVERY_CODES, RECOVERY_CODE_CHARS = 10, 16  # 16 base32 characters: 80 bits
MAX_CODE_FAILURES, CODE_WINDOW_SECONDS = 5, 5 * 60
SEALED, PLAIN = "sealed:", "plain:"


def secret_in_groups(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(uri: str) -> str:
    """The link as a QR code, inline SVG, dark on white whatever the page's colours."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff",
                                                 title="QR code for your authenticator app")


def normalised_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def recovery_code_hash(username: str, code: str) -> str:
    return hashlib.sha256(f"staff-recovery:{username}:{normalised_recovery_code(code)}"
                          .encode("utf-8", "surrogateescape")).hexdigest()


def new_recovery_codes() -> List[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(RECOVERY_CODE_CHARS))
        codes.append("-".join(raw[i:i + 4] for i in range(0, len(raw), 4)))
    return codes


def matching_step(secret: str, code: str, now: float) -> Optional[int]:
    """The 30-second step whose code this is (now, or one step either side), or None."""
    if not CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    found = None
    # Every step is compared, in constant time, so timing doesn't say which was near.
    for step in range(current - STEPS_EITHER_SIDE, current + STEPS_EITHER_SIDE + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


class TwoFactor:
    """TOTP for staff accounts: secrets (sealed), codes (never twice), recovery codes."""

    def __init__(self, store: Store, key: Optional[bytes]) -> None:
        self.store = store
        self._sealer = Sealer(b"staff-totp", key) if key else None

    def seal(self, username: str, secret: str) -> str:
        if self._sealer is None:
            return PLAIN + secret
        return SEALED + self._sealer.seal(username, secret)

    def open(self, username: str, stored: Optional[str]) -> Optional[str]:
        """None if there is none, or it was sealed under another key."""
        if not stored:
            return None
        if stored.startswith(PLAIN):
            return stored[len(PLAIN):]
        if stored.startswith(SEALED) and self._sealer is not None:
            return self._sealer.open(username, stored[len(SEALED):])
        return None

    async def start_setup(self, username: str) -> dict:
        secret = pyotp.random_base32()
        await self.store.set_totp_pending(username, self.seal(username, secret))
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
        return {"secret": secret, "secret_grouped": secret_in_groups(secret), "uri": uri,
                "qr_svg": qr_svg(uri)}

    async def confirm_setup(self, username: str, pending: Optional[str], code: str) -> Optional[List[str]]:
        """The recovery codes, if the code is right for the pending secret; else None."""
        secret = self.open(username, pending)
        step = matching_step(secret, code, time.time()) if secret else None
        if step is None:
            return None
        codes = new_recovery_codes()
        if not await self.store.confirm_totp(username, pending, step,
                                             [recovery_code_hash(username, c) for c in codes]):
            return None
        return codes

    async def check_code(self, username: str, stored: Optional[str], code: str) -> bool:
        """A right code for a step not used before (and now used)."""
        secret = self.open(username, stored)
        step = matching_step(secret, code, time.time()) if secret else None
        return step is not None and await self.store.take_totp_step(username, step)

    async def use_recovery_code(self, username: str, code: str) -> bool:
        if not 0 < len(code) <= 64:
            return False
        return await self.store.use_recovery_code(username, recovery_code_hash(username, code))

    async def code_attempt(self, username: str) -> Tuple[str, int]:
        """Counts a code attempt for this account before it is checked: (its key, 0)
        if it may go ahead, else (key, whole seconds to wait). The count shares the
        login throttle's table, under a key no address can have."""
        key = hashlib.sha256(f"two-factor:{username}".encode("utf-8", "surrogateescape")).hexdigest()
        now = time.time()
        attempts, started = await self.store.count_login_attempt(key, now, CODE_WINDOW_SECONDS)
        if attempts <= MAX_CODE_FAILURES:
            return key, 0
        return key, max(1, math.ceil(started + CODE_WINDOW_SECONDS - now))

    async def code_succeeded(self, key: str) -> None:
        await self.store.uncount_login_attempt(key)
