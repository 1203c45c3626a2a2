"""Sealing: AES-GCM encryption of the few things we must keep that identify
someone (a messaging-app chat id during a handoff; a case's answers until it is
delivered). Each sealed value is bound to its owner (a session id, a case
reference): copied to another row, it won't open. Nobody who can read the
store alone can read what is sealed in it.
"""
import base64
import hashlib
import os
from typing import Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Sealer:
    def __init__(self, purpose: bytes, secret: bytes) -> None:
        # One key per purpose, derived from the secret, so keys are never shared.
        self._cipher = AESGCM(hashlib.sha256(purpose + b":" + secret).digest())

    def seal(self, owner: str, plain: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher.encrypt(nonce, plain.encode(), owner.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, owner: str, sealed: str) -> Optional[str]:
        """None if it was sealed under another key or for another owner."""
        try:
            data = base64.urlsafe_b64decode(sealed.encode())
            return self._cipher.decrypt(data[:12], data[12:], owner.encode()).decode()
        except (InvalidTag, ValueError):
            return None
