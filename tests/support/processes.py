"""Helpers to start the real processes and talk to them over HTTP (stdlib only)."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
         raw: Optional[bytes] = None, timeout: float = 30) -> Tuple[int, Dict[str, str], Any]:
    """(status, headers, parsed JSON or text) for any status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, got_headers, content = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, got_headers, content = error.code, dict(error.headers), error.read()
    try:
        return status, got_headers, json.loads(content)
    except ValueError:
        return status, got_headers, content.decode(errors="replace")


class Process:
    """A child process in its own process group, its output kept in a temp file."""

    def __init__(self, command, env: Dict[str, str]) -> None:
        # Open for the process's whole life (and read after it ends): no context manager.
        self.log = tempfile.NamedTemporaryFile(prefix="stack-", suffix=".log", delete=False)  # noqa: SIM115
        self.popen = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=self.log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.log.flush()
        with open(self.log.name, "rb") as handle:
            return handle.read().decode(errors="replace")

    def wait_until(self, url: str, timeout: float = 300, status: int = 200) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError("the process exited:\n" + self.output()[-4000:])
            try:
                if call("GET", url, timeout=3)[0] == status:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{url} did not answer {status} in {timeout} s:\n" + self.output()[-4000:])

    @classmethod
    def ready(cls, command, env: Dict[str, str], url: str, timeout: float) -> "Process":
        """Started and answering at `url`; otherwise stopped, and the test fails with its output."""
        process = cls(command, env)
        try:
            process.wait_until(url, timeout=timeout)
        except RuntimeError as error:
            process.stop()
            pytest.fail(str(error))
        return process

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as in a crash."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
        os.unlink(self.log.name)
