"""A stand-in for the reporting channel's receiver (REPORT_WEBHOOK_URL), on
loopback, in a thread: it checks each case's HMAC-SHA256 signature the way
docs/api.md tells a real receiver to, keeps one case per Idempotency-Key (a
repeat is answered 200 and not stored again), and can be down (not listening),
or answer 500 for the next N posts. A test that runs the gateway in its own event
loop waits with `await arrival(...)`, not `wait_for`, which would block that loop.
"""
import asyncio
import hashlib
import hmac
import json
import threading
import time
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.support.processes import free_port


class FakeReceiver:
    def __init__(self, secret: str, port: Optional[int] = None, listening: bool = True) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.posts: List[Dict[str, Any]] = []   # every POST, signed right or not
        self.cases: Dict[str, Dict[str, Any]] = {}  # Idempotency-Key -> the case, once
        self.fail_next = 0
        self._loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        if listening:
            self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cases"

    def start(self) -> None:
        """Up: listening on its port (the same one every time)."""
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        """Down: nothing listens on its port."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/cases", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def signed_right(self, body: bytes, header: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header.encode(), expected.encode())

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        post = {"key": key, "signed": self.signed_right(body, request.headers.get("X-Signature-SHA256", "")),
                "status": 200}
        self.posts.append(post)
        if not post["signed"]:
            post["status"] = 401
            return web.json_response({"error": "bad signature"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            post["status"] = 500
            return web.json_response({"error": "having a bad day"}, status=500)
        case = json.loads(body)
        if not key or case.get("idempotency_key") != key:
            post["status"] = 400
            return web.json_response({"error": "idempotency key missing"}, status=400)
        self.cases.setdefault(key, case)  # a repeat of a key already held changes nothing
        return web.json_response({"received": case["reference"]})

    def by_reference(self, reference: str) -> List[Dict[str, Any]]:
        return [case for case in self.cases.values() if case["reference"] == reference]

    def wait_for(self, reference: str, timeout: float = 30) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.by_reference(reference)
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"the receiver never got case {reference}")

    async def arrival(self, reference: str, timeout: float = 30) -> Dict[str, Any]:
        """wait_for, for a test whose gateway runs in its own event loop: it must not block."""
        deadline = time.monotonic() + timeout
        while not self.by_reference(reference):
            assert time.monotonic() < deadline, f"the receiver never got case {reference}"
            await asyncio.sleep(0.1)
        return self.by_reference(reference)[0]
