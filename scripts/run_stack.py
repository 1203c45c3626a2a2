"""Starts the whole system (what `make run` runs): the action server, Rasa and
the gateway (bot/), which is the only one the outside world talks to.

Settings come from the environment and .env (python-dotenv); .env.example
documents each one. Rasa and the action server listen on loopback only. If
RASA_AUTH_TOKEN, ACTION_SERVER_TOKEN (Rasa -> action server) or
GATEWAY_INTERNAL_TOKEN (action server -> gateway) is not set, a random token is
made for this run, handed to the processes in their environment and never
written anywhere.

A part that crashes is started again, with a growing pause between tries
(Supervisor below), while the others carry on: the gateway answers with the
emergency numbers (and the crisis reply) until Rasa is back, and Rasa's
conversations are in SQLite, so the person picks up where they were.
Ctrl-C (or SIGTERM) stops all three.
"""
import os
import random
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"


def settings() -> dict:
    load_dotenv(ROOT / ".env")
    rasa_port = os.getenv("RASA_PORT", "5005")
    action_port = os.getenv("ACTION_SERVER_PORT", "5055")
    return {
        "rasa_port": rasa_port,
        "action_port": action_port,
        "model": os.getenv("RASA_MODEL", str(ROOT / "models" / "assistant.tar.gz")),
        "token": os.getenv("RASA_AUTH_TOKEN") or secrets.token_urlsafe(32),
        "action_url": f"http://{LOOPBACK}:{action_port}/webhook",
        "log_level": os.getenv("LOG_LEVEL", "INFO"),
        "gateway_host": os.getenv("GATEWAY_HOST", LOOPBACK),
        "gateway_port": os.getenv("GATEWAY_PORT", "8080"),
        "internal_port": os.getenv("GATEWAY_INTERNAL_PORT", "8081"),
        # The action server asks the gateway to queue a handoff with this.
        "internal_token": os.getenv("GATEWAY_INTERNAL_TOKEN") or secrets.token_urlsafe(32),
        # Made once per run, so that a restarted gateway still knows each Telegram
        # and WhatsApp chat (a new random key would start them all again).
        "channel_id_key": os.getenv("CHANNEL_ID_KEY") or secrets.token_urlsafe(32),
    }


def child_environment(config: dict) -> dict:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        ACTION_SERVER_URL=config["action_url"],
        SANIC_HOST=LOOPBACK,  # the action server's bind address
        LOG_LEVEL=config["log_level"],
        # Sanic's access log (Rasa's and the action server's web server) would
        # print URLs, and a conversation's erasure URL holds its id: errors only.
        LOG_LEVEL_LIBRARIES="ERROR",
        RASA_AUTH_TOKEN=config["token"],  # our Rasa channel and the gateway use it too
        RASA_PORT=config["rasa_port"],
        RASA_INTERFACE=LOOPBACK,
        RASA_MODEL=config["model"],
        ACTION_SERVER_PORT=config["action_port"],
        # Rasa's secret for the action server (endpoints.yml, actions/serve.py): from
        # .env, or made for this run and kept only in the processes' environment.
        ACTION_SERVER_TOKEN=os.environ.get("ACTION_SERVER_TOKEN") or secrets.token_urlsafe(32),
    )
    if "internal_port" in config:
        env.update(GATEWAY_INTERNAL_PORT=config["internal_port"],
                   GATEWAY_INTERNAL_URL=f"http://{LOOPBACK}:{config['internal_port']}",
                   GATEWAY_INTERNAL_TOKEN=config["internal_token"])
    if "channel_id_key" in config:
        env.update(CHANNEL_ID_KEY=config["channel_id_key"])
        if not os.getenv("CHANNEL_ID_KEY"):
            # Made up for this run: fine for chat ids, not for sealing staff two-factor
            # secrets, which must outlive the run (bot/settings.py).
            env.update(CHANNEL_ID_KEY_THIS_RUN_ONLY="1")
    return env


def commands(config: dict) -> dict:
    return {
        # rasa_sdk's server with our token check; its port from the environment.
        "action server": [sys.executable, "-m", "actions.serve"],
        # Its settings (the token too) go in the environment, not on the command line.
        "rasa": [sys.executable, "-m", "channels.serve"],
        "gateway": [sys.executable, "-m", "bot"],
    }


class Supervisor:
    """Keeps each part running: one that exits is started again after a pause
    that doubles with each quick crash (1 s, 2 s, 4 s ... at most MAX_PAUSE), and
    goes back to 1 s once it has stayed up for STABLE_SECONDS.

    A small loop of our own rather than supervisord or circus: three processes,
    secrets handed over in the environment only, and nothing to install or
    configure; containers get the same promise from Compose's restart policies
    (docs/deploy.md)."""

    FIRST_PAUSE = 1.0
    MAX_PAUSE = 30.0
    STABLE_SECONDS = 60.0

    def __init__(self, commands: dict, env: dict, start=None, clock=time.monotonic) -> None:
        self.commands, self.env, self.clock = commands, env, clock
        self._start = start or (lambda command: subprocess.Popen(command, cwd=ROOT, env=env))
        self.processes = {}
        self._started_at = {}
        self._pause = dict.fromkeys(commands, self.FIRST_PAUSE)
        self._restart_at = {}
        self.restarts = dict.fromkeys(commands, 0)

    def start_all(self) -> None:
        for name in self.commands:
            self._launch(name)

    def _launch(self, name: str) -> None:
        self.processes[name] = self._start(self.commands[name])
        self._started_at[name] = self.clock()
        self._restart_at.pop(name, None)

    def check(self) -> list:
        """Notices parts that exited and starts them again when their pause is
        over; returns the names of the parts that just exited."""
        exited, now = [], self.clock()
        for name, process in self.processes.items():
            if name in self._restart_at:
                if now >= self._restart_at[name]:
                    self.restarts[name] += 1
                    self._launch(name)
                continue
            if process.poll() is None:
                continue
            exited.append(name)
            if now - self._started_at[name] >= self.STABLE_SECONDS:
                self._pause[name] = self.FIRST_PAUSE  # it ran well: a fresh start
            # A little jitter, so that parts that failed together don't retry in step.
            self._restart_at[name] = now + self._pause[name] * random.uniform(0.9, 1.1)
            self._pause[name] = min(self._pause[name] * 2, self.MAX_PAUSE)
        return exited

    def running(self, name: str) -> bool:
        return name not in self._restart_at and self.processes[name].poll() is None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_ready(url: str, supervisor: Supervisor, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.check():
            return False  # a part failed while starting: its own message says why
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    return False


def main() -> int:
    config = settings()
    if not Path(config["model"]).exists():
        print(f"No trained model at {config['model']}: run `make train` first.", file=sys.stderr)
        return 1
    supervisor = Supervisor(commands(config), child_environment(config))
    supervisor.start_all()
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stop() or sys.exit(0))
    try:
        address = f"http://{config['gateway_host']}:{config['gateway_port']}/"
        if not wait_until_ready(f"{address}api/health", supervisor):
            print("The assistant did not start: see the messages above.", file=sys.stderr)
            return 1
        print(
            f"\nThe support chat is running. Open {address} in your browser.\n"
            "Or talk to it here with `make shell` in another terminal. Ctrl-C stops it.\n",
            flush=True,
        )
        while True:
            for name in supervisor.check():
                print(f"{name} stopped: starting it again.", file=sys.stderr, flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
