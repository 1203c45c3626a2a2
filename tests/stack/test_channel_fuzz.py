"""Hostile input on the channels the OpenAPI fuzz (test_openapi_fuzz.py) does not
reach: the web chat's WebSocket (/ws) and the Telegram and WhatsApp webhooks,
against the running gateway (the `stack` fixture), with hypothesis.

The promise checked: never a server error. No 5xx, no error of status 500 on the
socket, no close for an internal error (1011), /api/health still answers, and the
process log has no Traceback or "Unexpected error" from it.

The socket is driven by a client of our own that can send any frame at all
(invalid UTF-8 in a text frame, reserved bits and opcodes, fragments, frames over
the size limit, compressed garbage); the page's protocol is in bot/web/websocket.py
and bot/static/chat/. The webhooks are fuzzed at the door (secrets, signatures,
content types and encodings) and, signed as Telegram and Meta sign them, in their
payloads. Derandomized with fixed example counts, so CI sees the same cases each run.
"""
import base64
import gzip
import hashlib
import hmac
import http.client
import itertools
import json
import os
import socket
import time
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from tests.conftest import TELEGRAM_SECRET, WHATSAPP_SECRET
from tests.support.processes import call


def fuzz(examples: int):
    """A fixed number of cases, the same each run. No shrinking: every case is a real
    request (often a turn of the assistant), so a red run stays as short as a green
    one; the failing case is shown as it was sent (note())."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))


# --- what a server error looks like ---------------------------------------------------
# Lines the gateway (and Rasa, the actions) write when something broke on their side.
SERVER_ERROR_LINES = ("Traceback", "Unexpected error", "reply failed", "Error handling request",
                      "exception was never retrieved", "The database is unavailable")


class Log:
    """The stack's process output from now on."""

    def __init__(self, stack) -> None:
        self.process = stack["process"]
        self.start = len(self.process.output())

    def errors(self) -> List[str]:
        new = self.process.output()[self.start:]
        return [line for line in new.splitlines() if any(m in line for m in SERVER_ERROR_LINES)]


def shown(value: Any, limit: int = 3000) -> str:
    """A case as note() prints it, cut short (frames and texts can be 64 kB)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def assert_still_healthy(stack, log: Log) -> None:
    status, _, body = call("GET", f"{stack['base']}/api/health", timeout=30)
    assert status == 200, f"/api/health answered {status}: {body}"
    assert not log.errors(), "the gateway logged a server error:\n" + "\n".join(log.errors())


def settle(provider, seconds: float = 3, limit: float = 60) -> None:
    """Waits until the fake provider has had no request for `seconds` (background replies done)."""
    deadline, seen, quiet_since = time.monotonic() + limit, -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(provider.requests) != seen:
            seen, quiet_since = len(provider.requests), time.monotonic()
        elif time.monotonic() - quiet_since >= seconds:
            return
        time.sleep(0.2)


# --- hostile values -------------------------------------------------------------------
def weighted(*choices):
    """st.one_of with (weight, strategy) pairs. (Hypothesis flattens nested one_of and
    picks each branch alike: one_of(a, b) with b a one_of of twelve picks a 1 time in 13.)"""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# Controls (C0, C1), invisible and bidi characters, non-characters, characters NFKC
# expands (U+FDFA is 18 letters), combining marks, emoji modifiers and tags, astral
# planes, and the characters markup and commands are made of.
SPECIAL = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x80\x85\x9f"
    "\u00ad\u034f\u061c\u115f\u180e\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u2060"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\ufeff\ufff9\ufffc\ufffd\ufffe\uffff\ufdfa\ufdfb\u3350\ufb2c\u0390\u2474"
    "\u0301\u0338\u20e3\ufe0e\ufe0f\U0001f3fb\U000e0001\U000e007f"
    "\U0001f44d\U0001f600\U0001d400\U000f0000\U0010ffff"
    "/@#<>&\"'\\%{}$ aZ9")
# Real words too, so that the assistant, the redaction, the handoff and the erasure run.
PHRASES = ["hi", "he says pay £200 or he posts my pics", "I want to talk to a person",
           "delete this chat and everything i said", "16", "👍", "/start", "/help@any_bot",
           "/forget_me", "/restart", "/affirm", "my number is 07700 900123"]
# (U+FDFA 150 times is 2,700 letters once NFKC has expanded it; 2,000 times takes the
# redaction 15 s, too slow for every run.)
LONG = ["x" * 2000, "x" * 2001, "\ufdfa" * 150, "\u202e" * 2000, "a\u0301" * 1000,
        " " * 2000, "/" * 2000, "\U0001f44d" * 2000, "help " * 400]
HUGE_NUMBERS = [2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**300]

texts = weighted(
    (2, st.sampled_from(PHRASES)),
    (2, st.text(max_size=60)),
    (2, st.text(st.sampled_from(SPECIAL), min_size=1, max_size=40)),
    (1, st.sampled_from(LONG)),
    # Lone surrogates (JSON can carry them as \ud800 escapes).
    (2, st.text(st.one_of(st.sampled_from(SPECIAL), st.characters(categories=["Cs"])), min_size=1,
                max_size=20)),
)
numbers = st.one_of(st.integers(), st.sampled_from(HUGE_NUMBERS), st.floats())
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


def to_json(value: Any, ascii_only: bool = True) -> bytes:
    """As a client would send it; lone surrogates too (as escapes, or as the invalid
    UTF-8 a careless encoder writes)."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# --- the WebSocket --------------------------------------------------------------------
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# Closes that blame the client (protocol error, unacceptable data, invalid UTF-8, too
# big), and the plain one aiohttp sends for compressed data that doesn't inflate.
CLIENTS_FAULT = {1000, 1002, 1003, 1007, 1009}


@dataclass
class Frame:
    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0              # the three reserved bits (0b100 is permessage-deflate's)
    masked: bool = True       # clients must mask; some don't

    def encode(self) -> bytes:
        first = (0x80 if self.fin else 0) | (self.rsv << 4) | self.opcode
        size, mask_bit = len(self.payload), 0x80 if self.masked else 0
        if size < 126:
            head = bytes([first, mask_bit | size])
        elif size < 2**16:
            head = bytes([first, mask_bit | 126]) + size.to_bytes(2, "big")
        else:
            head = bytes([first, mask_bit | 127]) + size.to_bytes(8, "big")
        if not self.masked:
            return head + self.payload
        key = b"\x37\xfa\x21\x3d"
        mask = (key * (size // 4 + 1))[:size]
        masked = (int.from_bytes(self.payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(size, "big")
        return head + key + masked


class Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MINE = Sentinel("MINE")            # the session this socket joined (or an unknown one before)
FORGOTTEN = Sentinel("FORGOTTEN")  # a conversation that existed and was deleted
NOBODYS = "N0body5Sess10nId_xxxxxxxx"


@dataclass
class Message:
    """A JSON frame; its "session" may name the socket's own or a deleted conversation."""
    value: Any
    ascii_only: bool = True
    compress: bool = False   # permessage-deflate, when the socket has it

    def frame(self, mine: Optional[str], forgotten: str, deflate: Optional[Any]) -> Frame:
        value = self.value
        if isinstance(value, dict) and isinstance(value.get("session"), Sentinel):
            value = {**value, "session": forgotten if value["session"] is FORGOTTEN
                     else mine or NOBODYS}
        payload = to_json(value, self.ascii_only)
        if self.compress and deflate is not None:
            packed = zlib.compressobj(wbits=-15)
            payload = (packed.compress(payload) + packed.flush(zlib.Z_SYNC_FLUSH))[:-4]
            return Frame(TEXT, payload, rsv=0b100)
        return Frame(TEXT, payload)


class RawSocket:
    """A WebSocket client that sends whatever it is given, and reads frames raw."""

    def __init__(self, base: str, deflate: bool = False, timeout: float = 60) -> None:
        url = urlsplit(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        offer = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n{offer}\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head.decode(errors="replace")
        # The server's frames are compressed too once it agreed (with context takeover).
        agreed = b"permessage-deflate" in head.lower()
        self.inflate = zlib.decompressobj(wbits=-15) if agreed else None
        self.closed: Optional[Tuple[Optional[int], str]] = None  # (server's close code, why)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def send(self, frame: Frame) -> bool:
        try:
            self.sock.sendall(frame.encode())
            return True
        except OSError:
            self.closed = self.closed or (None, "the server dropped the connection")
            return False

    def receive(self) -> Tuple[int, bytes]:
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(self._take(2), "big")
        elif size == 127:
            size = int.from_bytes(self._take(8), "big")
        payload = self._take(size)
        if first & 0x40 and self.inflate is not None:
            payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
        return first & 0x0F, payload

    def exchange(self, frame: Frame, probe: bytes) -> List[bytes]:
        """Sends the frame and then a ping; returns the text frames that came before
        the pong (the server handles frames in order), or up to its close. After a
        close frame of ours, reads up to the server's."""
        got: List[bytes] = []
        if not self.send(frame) or (frame.opcode != CLOSE and not self.send(Frame(PING, probe))):
            return got
        while True:
            try:
                opcode, payload = self.receive()
            except EOFError:
                self.closed = self.closed or (None, "the server dropped the connection")
                return got
            except socket.timeout:
                raise AssertionError("the socket stopped answering (no pong in 60 s)") from None
            if opcode == TEXT:
                got.append(payload)
            elif opcode == CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self.closed = (code, payload[2:].decode(errors="replace"))
                return got
            elif opcode == PONG and payload == probe:
                return got

    def close(self) -> None:
        if self.closed is None and self.send(Frame(CLOSE, (1000).to_bytes(2, "big"))):
            try:
                while self.receive()[0] != CLOSE:
                    pass
            except (EOFError, OSError):
                pass
        self.sock.close()


MALFORMED_TEXT = [
    b"", b" ", b"{", b"}", b"null", b"NaN", b"-Infinity", b"1e999", b'"join"', b'{"type": "join"',
    b'{"type": "say", "text": }', b'{"type": "join"} {"type": "join"}', b"\xef\xbb\xbf{\"type\": \"join\"}",
    b'{"type": "join", "type": "say", "text": "hi"}', b"[" * 5000, b"[" * 60000, b'{"a":' * 20000,
    b'{"type": "join", "after": 1' + b"0" * 5000 + b"}", b'{"type": "say", "text": "\\ud800"}',
    b'{"type": "say", "text": "\\udfff\\ud800x"}', b'{"type": "say", "text": "\\u0000"}',
    b"\xed\xa0\x80", b"\xff\xfe\xfd", b"\xc0\xaf", b"\xf4\x90\x80\x80",  # not UTF-8 at all
]
sessions = weighted((3, st.just(MINE)), (1, st.just(FORGOTTEN)),
                    (1, st.from_regex(r"[A-Za-z0-9_-]{22,64}", fullmatch=True)), (1, json_values))
join = st.fixed_dictionaries({"type": st.just("join")}, optional={
    "session": sessions, "after": weighted((2, st.integers(0, 20)), (1, numbers), (1, json_values))})
say = weighted(
    (3, st.fixed_dictionaries({"type": st.just("say"), "text": texts})),
    (1, st.fixed_dictionaries({"type": st.just("say")}, optional={"text": json_values, "session": sessions})))
other_kinds = st.fixed_dictionaries({"type": st.one_of(
    st.sampled_from(["JOIN", "Say", " say", "joined", "message", "error", "forgotten", "leave", ""]),
    json_values)}, optional={"text": texts, "session": sessions})
messages = st.builds(
    Message, weighted((2, join), (4, say), (1, other_kinds),
                      (1, st.dictionaries(st.text(max_size=8), json_values, max_size=4)), (1, json_values)),
    # Mostly as JSON.stringify writes it (lone surrogates as escapes), sometimes raw.
    ascii_only=weighted((3, st.just(True)), (1, st.just(False))), compress=st.booleans())
odd_frames = st.one_of(
    st.builds(Frame, st.just(TEXT), st.one_of(st.sampled_from(MALFORMED_TEXT), st.binary(max_size=200))),
    st.builds(Frame, st.just(BINARY), st.one_of(st.binary(max_size=300), st.just(b'{"type": "join"}'))),
    st.builds(Frame, st.just(PING), st.binary(max_size=125).filter(lambda p: not p.startswith(b"probe"))),
    st.builds(Frame, st.just(PONG), st.binary(max_size=125)),
    st.builds(Frame, st.sampled_from([PING, CLOSE]), st.binary(min_size=126, max_size=200)),  # too long
    st.builds(Frame, st.just(CLOSE), st.one_of(
        st.integers(0, 2**16 - 1).map(lambda code: code.to_bytes(2, "big")),
        st.just(b"\x03"), st.just(b"\x03\xe8\xff\xfe"))),                  # odd codes and reasons
    st.builds(Frame, st.sampled_from([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]), st.binary(max_size=20)),
    st.builds(Frame, st.sampled_from([TEXT, BINARY, CONTINUATION]), st.sampled_from([b'{"type": ', b"x"]),
              fin=st.booleans()),                                          # fragments
    st.builds(Frame, st.just(TEXT), st.just(b'{"type": "join"}'), rsv=st.integers(1, 7)),
    st.builds(Frame, st.just(TEXT), st.just(b'{"type": "join"}'), masked=st.just(False)),
    st.builds(Frame, st.just(TEXT), st.binary(min_size=1, max_size=40), rsv=st.just(0b100)),  # bad deflate
    st.sampled_from([Frame(TEXT, b"x" * (64 * 1024 + 1)), Frame(BINARY, bytes(64 * 1024 + 1)),
                     Frame(TEXT, b'{"type": "say", "text": "' + b"a" * 70000 + b'"}')]),
)
# Most examples join first, so that "say" reaches a real conversation.
steps = st.lists(weighted((3, messages), (1, odd_frames)), min_size=1, max_size=6)
conversations = st.one_of(steps.map(lambda s: [Message({"type": "join"}), *s]), steps)


@pytest.fixture(scope="module")
def forgotten_session(stack) -> str:
    """A web conversation that was deleted (the person asked)."""
    status, _, body = call("POST", f"{stack['base']}/api/chat", {"text": "hi"})
    assert status == 200
    session = body["session"]
    call("POST", f"{stack['base']}/api/chat",
         {"session": session, "text": "delete this chat and everything i said"})
    assert call("GET", f"{stack['base']}/api/chat/{session}/messages")[0] == 404
    return session


PROBES = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def module_log(stack) -> Log:
    """The process output from this module's first test on."""
    return Log(stack)


@fuzz(examples=120)
@given(script=conversations, deflate=st.booleans(), hang_up=st.booleans())
# Cases once found here, kept: a backlog 'after' past the database's integers, and
# a connection dropped before the answer to a join, a message, a bad frame.
@example(script=[Message({"type": "join", "after": 2**64})], deflate=False, hang_up=False)
@example(script=[Message({"type": "join"})], deflate=False, hang_up=True)
@example(script=[Message({"type": "join"}), Message({"type": "say", "text": "hi"})], deflate=False,
         hang_up=True)
@example(script=[Message({"type": "dance"})], deflate=False, hang_up=True)
def test_the_socket_never_has_a_server_error(stack, forgotten_session, script, deflate, hang_up):
    note(f"deflate={deflate} hang_up={hang_up} script={shown(script)}")
    log = Log(stack)
    sock = RawSocket(stack["base"], deflate=deflate)
    mine, problems = None, []
    try:
        for number, step in enumerate(script, 1):
            frame = step.frame(mine, forgotten_session, sock.inflate) if isinstance(step, Message) else step
            if hang_up and number == len(script):
                sock.send(frame)  # and gone, before any answer (a phone losing its signal)
                sock.closed = sock.closed or (None, "we hung up")
                break
            for raw in sock.exchange(frame, b"probe-%d" % next(PROBES)):
                try:
                    answer = json.loads(raw)
                except ValueError:
                    problems.append(f"not JSON: {raw[:100]!r}")
                    continue
                if not isinstance(answer, dict) or answer.get("type") not in (
                        "joined", "message", "error", "forgotten"):
                    problems.append(f"not in the protocol: {raw[:100]!r}")
                elif answer["type"] == "joined":
                    mine = answer.get("session")
                elif answer["type"] == "error" and not (
                        isinstance(answer.get("status"), int) and 400 <= answer["status"] < 500
                        and answer.get("error")):
                    problems.append(f"{answer!r} after {shown(step, 300)}")
            if sock.closed:
                # Our own close is answered with any close but an internal error's.
                fine = CLIENTS_FAULT | ({None} if frame.opcode == CLOSE else set())
                if sock.closed[0] not in fine:
                    problems.append(f"closed {sock.closed} after {shown(step, 300)}")
                break
    finally:
        sock.close()
    assert not problems, problems
    if hang_up:
        time.sleep(0.5)  # what the server does with a socket gone mid-turn
    assert_still_healthy(stack, log)


# --- webhooks: the door ---------------------------------------------------------------
def post(stack, path: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, Any]:
    """A POST exactly as given (no header added, not even a Content-Type)."""
    url = urlsplit(stack["base"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(content)
    except ValueError:
        return response.status, content[:200]


def brotli(headers: Dict[str, str]) -> bool:
    return headers.get("Content-Encoding", "").strip().lower() == "br"


def encoded(headers: Dict[str, str]) -> bool:
    """A body said to be compressed: if it isn't what it claims, it can't be read (400)."""
    return headers.get("Content-Encoding", "").strip().lower() not in ("", "identity")


def signed(body: bytes, secret: str = WHATSAPP_SECRET) -> str:
    """As Meta signs a webhook: HMAC-SHA256 of the raw body under the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


UPDATE = to_json({"update_id": 1, "message": {"message_id": 1, "date": 1764000000, "text": "hi",
                                               "chat": {"id": 7, "type": "private"}}})
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                        max_size=80)
bodies = st.one_of(
    st.binary(max_size=300), st.just(b""), st.just(UPDATE), st.just(UPDATE[:-3]),
    st.sampled_from(MALFORMED_TEXT),
    json_values.map(to_json),
    st.sampled_from([gzip.compress(UPDATE), zlib.compress(UPDATE), gzip.compress(b"not json"),
                     gzip.compress(bytes(4 * 1024 * 1024)),  # a bomb: 4 MB of zeros in 4 kB
                     b"\x1f\x8b\x08\x00garbage", gzip.compress(UPDATE)[:-8],
                     b'{"x": "' + b"a" * 300 * 1024 + b'"}']),     # over the 256 kB body limit
)
door_headers = st.fixed_dictionaries({}, optional={
    "Content-Type": st.one_of(st.sampled_from([
        "application/json", "application/json; charset=latin-1", "text/plain", "", ";;;",
        "multipart/form-data; boundary=x", "multipart/form-data", "application/x-www-form-urlencoded",
        "application/octet-stream", "application/json; charset=nonsense"]), header_values),
    "Content-Encoding": st.one_of(st.sampled_from([
        "gzip", "deflate", "br", "identity", "GZIP", "x-gzip", "gzip, deflate", "compress", "*"]),
        header_values),
})


@fuzz(examples=200)
@given(body=bodies, headers=door_headers,
       secret=weighted((4, st.just(TELEGRAM_SECRET)), (1, st.none()), (1, st.just(TELEGRAM_SECRET[:-1])),
                       (1, st.just(TELEGRAM_SECRET.upper())), (1, header_values)))
@example(body=b"{}", headers={"Content-Encoding": "br"}, secret=TELEGRAM_SECRET)  # once a traceback
def test_telegram_door_never_has_a_server_error(stack, body, headers, secret):
    note(f"body={body[:300]!r} ({len(body)} bytes) headers={headers!r} secret={secret!r}")
    log = Log(stack)
    if secret is not None:
        headers = {**headers, "X-Telegram-Bot-Api-Secret-Token": secret}
    status, answer = post(stack, "/webhooks/telegram", body, headers)
    assert status < 500, (status, answer)
    if secret != TELEGRAM_SECRET:  # the secret is checked before the body is read
        # (aiohttp itself refuses a body in br: Brotli is not installed)
        assert status == 401 or (status == 400 and brotli(headers)), (status, answer)
    assert_still_healthy(stack, log)


@fuzz(examples=200)
@given(body=bodies, headers=door_headers,
       signature=weighted((4, st.just("right")), (1, st.none()), (1, st.just("other secret")),
                          (1, st.just("sha256=")), (1, header_values)))
@example(body=b"{}", headers={"Content-Encoding": "br"}, signature="right")  # once a traceback
def test_whatsapp_door_never_has_a_server_error(stack, body, headers, signature):
    note(f"body={body[:300]!r} ({len(body)} bytes) headers={headers!r} signature={signature!r}")
    log = Log(stack)
    if signature == "right":
        headers = {**headers, "X-Hub-Signature-256": signed(body)}
    elif signature == "other secret":
        headers = {**headers, "X-Hub-Signature-256": signed(body, "not-the-app-secret")}
    elif signature is not None:
        headers = {**headers, "X-Hub-Signature-256": signature}
    status, answer = post(stack, "/webhooks/whatsapp", body, headers)
    assert status < 500, (status, answer)
    # The body is read first (it is what is signed): too big is 413 whoever sends it.
    if signature is None or signature == "":
        assert status in (401, 413) or (status == 400 and encoded(headers)), (status, answer)
    elif signature != "right":
        assert status in (403, 413) or (status == 400 and encoded(headers)), (status, answer)
    assert_still_healthy(stack, log)


# --- webhooks: signed payloads --------------------------------------------------------
UNIQUE = itertools.count(int(time.time()) % 100_000 * 1000)


class Unique(Sentinel):
    """A value made fresh for each request (ids the gateway must not take for repeats,
    people the rate limit must not join up), of a given type."""

    def make(self) -> Any:
        n = next(UNIQUE)
        return {"int": 730_000_000 + n, "huge": 10**30 + n, "negative": -(10**12) - n,
                "string": f"id-{n}", "float": n + 0.5, "nested": {"id": [n]}}[self.name]


def fresh(value: Any) -> Any:
    """The payload with every Unique replaced."""
    if isinstance(value, Unique):
        return value.make()
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fresh(item) for item in value]
    return value


def unique(*kinds: str):
    return st.sampled_from([Unique(kind) for kind in kinds])


def maybe(valid, weight: int = 3):
    """Mostly the valid value; sometimes garbage of any type."""
    return weighted((weight, valid), (1, json_values))


garbage_fields = st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=2)


def with_extras(core, keep=("type",)):
    """A provider's object plus fields this gateway never heard of (providers add
    them); none of them in place of `keep`, whose absence means something."""
    return st.builds(lambda extra, known: {**{k: v for k, v in extra.items() if k not in keep}, **known},
                     garbage_fields, core)


def until_reply(provider, since: int, log: Log, predicate, timeout: float = 60) -> None:
    """Waits for the reply at the fake provider; fails at once on a server error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if [r for r in provider.requests[since:] if not r["failed"] and predicate(r)]:
            return
        assert not log.errors(), "the gateway logged a server error:\n" + "\n".join(log.errors())
        time.sleep(0.1)
    raise AssertionError("no reply was sent")


def telegram(stack, update: Any) -> Tuple[int, Any]:
    return post(stack, "/webhooks/telegram", to_json(update),
                {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})


# A message or button tap in a private chat, with any text, ids of any type, extra
# fields: each must get a reply.
telegram_chat = with_extras(st.fixed_dictionaries(
    {"id": unique("int", "huge", "string", "negative")},
    optional={"type": st.just("private"), "first_name": texts}))
telegram_message = with_extras(st.fixed_dictionaries(
    {"chat": telegram_chat},
    optional={"message_id": maybe(st.integers(0, 10**6)), "date": maybe(st.integers(0, 2**32)),
              "text": weighted((2, texts), (1, json_values)),   # not a string: a photo, a sticker
              "from": json_values, "entities": json_values, "photo": json_values}))
telegram_answerable = st.one_of(
    st.fixed_dictionaries({"message": telegram_message},
                          optional={"update_id": unique("int", "huge", "string", "float", "nested")}),
    st.fixed_dictionaries({"callback_query": with_extras(st.fixed_dictionaries({
        "data": texts, "message": with_extras(st.fixed_dictionaries({"chat": telegram_chat}))},
        optional={"id": maybe(st.text(max_size=20))}))},
        optional={"update_id": unique("int", "huge", "string")}))


@fuzz(examples=80)
@given(update=telegram_answerable)
def test_telegram_answers_any_message_in_a_private_chat(stack, provider, update):
    log, since = Log(stack), len(provider.requests)
    update = fresh(update)
    note(f"update={shown(update)}")
    status, answer = telegram(stack, update)
    assert status == 200, (status, answer)
    chat = str(((update.get("message") or update.get("callback_query", {}).get("message"))["chat"]["id"]))
    until_reply(provider, since, log, lambda r: r["path"].endswith("/sendMessage")
                and r["json"].get("chat_id") == chat)
    assert_still_healthy(stack, log)


# Anything else: other kinds of update, and the kinds we answer with fields missing
# or of the wrong type. Answered 200 when it is a Telegram update we don't act on,
# 400 when the body is not shaped like one; never 5xx.
telegram_kinds = st.sampled_from(["message", "callback_query", "edited_message", "channel_post",
                                  "my_chat_member", "chat_join_request", "poll", "message_reaction",
                                  "business_message", "inline_query", "pre_checkout_query"])
telegram_odd = st.one_of(
    st.builds(lambda kind, body, update_id: {"update_id": update_id, kind: body}, telegram_kinds,
              st.one_of(json_values, telegram_message, st.fixed_dictionaries({}, optional={
                  "chat": maybe(st.fixed_dictionaries({}, optional={
                      "id": maybe(unique("int", "string", "nested"), 1),
                      "type": maybe(st.sampled_from(["private", "group", "supergroup", "channel"]))})),
                  "text": maybe(texts), "data": maybe(texts), "message": json_values})),
              unique("int", "huge", "nested")),
    st.dictionaries(st.one_of(telegram_kinds, st.text(max_size=10)), json_values, max_size=3),
)


@fuzz(examples=200)
@given(update=telegram_odd)
def test_telegram_odd_updates_never_get_a_server_error(stack, provider, update):
    log, update = Log(stack), fresh(update)
    note(f"update={shown(update)}")
    status, answer = telegram(stack, update)
    assert status in (200, 400) and isinstance(answer, dict), (status, answer)
    if not {"message", "callback_query"} & set(update):
        assert status == 200, (status, answer)  # a kind we don't act on: taken, not retried
    assert_still_healthy(stack, log)


def whatsapp(stack, payload: Any) -> Tuple[int, Any]:
    raw = to_json(payload)
    return post(stack, "/webhooks/whatsapp", raw,
                {"Content-Type": "application/json", "X-Hub-Signature-256": signed(raw)})


NO_EXTRAS = st.just({})


def whatsapp_envelope(messages_list, value_extras=NO_EXTRAS):
    return st.builds(
        lambda msgs, extra: {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", **extra,
                                           "metadata": {"phone_number_id": "1098765"},
                                           "messages": msgs}}]}]},
        messages_list, value_extras)


# A person's message of any kind with any text: each must get a reply.
whatsapp_message = with_extras(st.one_of(
    st.fixed_dictionaries({"type": st.just("text"),
                           "text": with_extras(st.fixed_dictionaries({"body": texts}))}),
    st.fixed_dictionaries({"type": st.just("interactive"), "interactive": st.one_of(
        st.fixed_dictionaries({"type": st.just("button_reply"), "button_reply": st.fixed_dictionaries(
            {"id": texts}, optional={"title": texts})}),
        st.fixed_dictionaries({"type": st.just("list_reply"), "list_reply": st.fixed_dictionaries(
            {"id": texts}, optional={"title": texts, "description": texts})}))}),
    st.fixed_dictionaries({"type": st.just("button"), "button": st.fixed_dictionaries(
        {"payload": texts}, optional={"text": texts})}),
    st.fixed_dictionaries({"type": st.sampled_from([
        "image", "audio", "sticker", "location", "contacts", "reaction", "order", "system", "unsupported",
        "ephemeral"]), "image": json_values}),
    st.fixed_dictionaries({"type": json_values.filter(lambda t: t not in ("text", "interactive", "button")),
                           "text": json_values}),                          # not text: answered as media
)).map(lambda m: {**m, "from": Unique("string"), "id": Unique("string")})


@fuzz(examples=80)
@given(payload=whatsapp_envelope(st.lists(whatsapp_message, min_size=1, max_size=2), garbage_fields))
def test_whatsapp_answers_any_message(stack, provider, payload):
    log, since = Log(stack), len(provider.requests)
    payload = fresh(payload)
    note(f"payload={shown(payload)}")
    status, answer = whatsapp(stack, payload)
    assert status == 200, (status, answer)
    for message in payload["entry"][0]["changes"][0]["value"]["messages"]:
        until_reply(provider, since, log, lambda r, sender=message["from"]: r["path"] == "/1098765/messages"
                    and r["json"].get("to") == sender)
    assert_still_healthy(stack, log)


# Anything else: statuses, other fields, and messages with parts missing or of the
# wrong type, at every level of the envelope.
whatsapp_odd_message = st.fixed_dictionaries({}, optional={
    "from": maybe(unique("string", "int", "huge", "nested"), 2), "id": maybe(unique("string", "int"), 2),
    "type": maybe(st.sampled_from(["text", "interactive", "button", "image"])),
    "text": maybe(st.fixed_dictionaries({}, optional={"body": maybe(texts)})),
    "interactive": maybe(st.fixed_dictionaries({}, optional={
        "button_reply": maybe(st.fixed_dictionaries({}, optional={"id": maybe(texts)})),
        "list_reply": json_values})),
    "button": maybe(st.fixed_dictionaries({}, optional={"payload": maybe(texts)})),
    "timestamp": json_values})
whatsapp_odd = st.one_of(
    whatsapp_envelope(maybe(st.lists(maybe(whatsapp_odd_message), max_size=3)),
                      st.fixed_dictionaries({}, optional={"statuses": json_values, "errors": json_values})),
    st.builds(lambda entry: {"object": "whatsapp_business_account", "entry": entry}, maybe(st.lists(
        maybe(st.fixed_dictionaries({}, optional={"changes": maybe(st.lists(maybe(st.fixed_dictionaries(
            {}, optional={"field": json_values, "value": maybe(st.fixed_dictionaries({}, optional={
                "messages": maybe(st.lists(maybe(whatsapp_odd_message), max_size=2))}))})), max_size=2))})),
        max_size=2))),
    st.dictionaries(st.sampled_from(["object", "entry", "field", "value"]) | st.text(max_size=8),
                    json_values, max_size=3),
)


@fuzz(examples=200)
@given(payload=whatsapp_odd)
def test_whatsapp_odd_payloads_never_get_a_server_error(stack, provider, payload):
    log, payload = Log(stack), fresh(payload)
    note(f"payload={shown(payload)}")
    status, answer = whatsapp(stack, payload)
    assert status in (200, 400) and isinstance(answer, dict), (status, answer)
    if "entry" not in payload:
        assert status == 200, (status, answer)  # nothing for us in it: taken, not retried
    assert_still_healthy(stack, log)


# --- after the run ----------------------------------------------------------------------
def test_nothing_failed_in_the_background(stack, provider, module_log):
    """What the fuzzing set going in the background (replies to odd updates, turns
    of sockets that hung up) ended well too: the log has no server error from it."""
    settle(provider)
    assert_still_healthy(stack, module_log)
