"""Starts the whole system (what `make run` runs): the action server, Rasa and
the gateway (bot/), which is the only one the outside world talks to.

Settings come from the environment and .env (python-dotenv); .env.example
documents each one. Rasa and the action server listen on loopback only. If
RASA_AUTH_TOKEN or GATEWAY_INTERNAL_TOKEN (action server -> gateway) is not set,
a random token is made for this run, handed to the processes in their
environment and never written anywhere.
Ctrl-C (or SIGTERM) stops all three; if one dies, the others are stopped too.
"""
import os
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
VENV_BIN = Path(sys.executable).parent
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
    return env


def commands(config: dict) -> dict:
    return {
        # rasa_sdk's server with our token check; its port from the environment.
        "action server": [sys.executable, "-m", "actions.serve"],
        # Its settings (the token too) go in the environment, not on the command line.
        "rasa": [sys.executable, "-m", "channels.serve"],
        "gateway": [sys.executable, "-m", "bot"],
    }


def wait_until_ready(url: str, processes: dict, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    return False


def stop(processes: dict) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    config = settings()
    if not Path(config["model"]).exists():
        print(f"No trained model at {config['model']}: run `make train` first.", file=sys.stderr)
        return 1
    env = child_environment(config)
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=env)
        for name, command in commands(config).items()
    }
    signal.signal(signal.SIGTERM, lambda *_: stop(processes) or sys.exit(0))
    try:
        address = f"http://{config['gateway_host']}:{config['gateway_port']}/"
        if not wait_until_ready(f"{address}api/health", processes):
            print("The assistant did not start: see the messages above.", file=sys.stderr)
            return 1
        print(
            f"\nThe support chat is running. Open {address} in your browser.\n"
            "Or talk to it here with `make shell` in another terminal. Ctrl-C stops it.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        dead = [name for name, p in processes.items() if p.poll() is not None]
        print(f"Stopped: the {', '.join(dead)} exited.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
