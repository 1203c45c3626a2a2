"""A stand-in for Telegram's and WhatsApp's servers, on loopback, in a thread.

It records every request the gateway makes and can be told to fail the next N
requests (an outage) to check the gateway retries and survives, or to answer some
requests late (`slow`: a provider taking its time).
"""
import asyncio
import threading
import time
from typing import Any, Callable, Dict, List, Tuple

from aiohttp import web


class FakeProvider:
    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.fail_next = 0
        self._slow: Tuple[float, Callable[[Dict[str, Any]], bool]] = (0.0, lambda record: False)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait(10)

    def slow(self, seconds: float, which: Callable[[Dict[str, Any]], bool] = lambda record: True) -> None:
        """Requests for which `which(record)` holds (a record as in `requests`) are
        recorded at once and answered `seconds` later; slow(0): none from now on."""
        self._slow = (seconds, which)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        # A neutral page to leave to (the web chat's quick exit), and one to come from.
        app.router.add_get("/{tail:.*}", self._page)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        record = {"path": request.path, "headers": dict(request.headers), "json": {}, "files": {},
                  "failed": self.fail_next > 0}
        if request.content_type == "multipart/form-data":  # a document upload
            for name, value in (await request.post()).items():
                if hasattr(value, "file"):
                    record["files"][name] = (value.filename, value.file.read().decode())
                else:
                    record["json"][name] = value
        else:
            record["json"] = await request.json()
        self.requests.append(record)
        seconds, which = self._slow
        if seconds and which(record):
            await asyncio.sleep(seconds)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"ok": False, "description": "outage"}, status=502)
        # WhatsApp's /media answers with the uploaded file's id.
        return web.json_response({"ok": True, "result": {}, "id": f"media-{len(self.requests)}"})

    async def _page(self, request: web.Request) -> web.Response:
        title = request.path.strip("/").capitalize() or "Home"
        return web.Response(text=f"<!doctype html><title>{title}</title><h1>{title}</h1>",
                            content_type="text/html")

    def wait_for(self, predicate, timeout: float = 30, since: int = 0) -> List[Dict[str, Any]]:
        """The successful requests (from number `since` on) matching `predicate`,
        once there is at least one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.requests[since:] if not r["failed"] and predicate(r)]
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError("the provider never got the expected request")
