"""Shared secrets and signatures: comparing a caller's secret in constant time, and
HMAC-SHA256 over a body (WhatsApp's webhooks, and the cases we pass on)."""
import hashlib
import hmac


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of a header or query value with our secret.
    aiohttp keeps undecodable bytes as surrogates: encode them back as they came."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def body_signature(secret: str, body: bytes) -> str:
    """"sha256=<hex HMAC-SHA256 of the raw body>": how WhatsApp signs its webhooks,
    and how we sign the cases we pass on (bot/reporting/outbox.py)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
