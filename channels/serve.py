"""Starts Rasa's server: `python -m channels.serve` (scripts/run_stack.py and the
containers both run it).

Everything comes from the environment, not the command line, which every user
of the machine can read (`ps`): the auth token never appears there.

    RASA_AUTH_TOKEN   required: the gateway and our channel use it
    RASA_PORT         5005;  RASA_INTERFACE 127.0.0.1 (0.0.0.0 in a container)
    RASA_MODEL        models/assistant.tar.gz
    ACTION_SERVER_URL http://127.0.0.1:5055/webhook
    ACTION_SERVER_TOKEN required: sent to the action server (endpoints.yml), which
                      refuses calls without it (actions/serve.py)
    DATABASE_URL + REDIS_URL   a PostgreSQL URL and a Redis URL: several Rasa
                      servers share conversations (endpoints.replicas.yml);
                      otherwise conversations are kept in SQLite, in the file
                      RASA_TRACKER_DB (var/rasa-conversations.sqlite3), so that a
                      restarted Rasa picks up where each person was
                      (endpoints.yml). RASA_ENDPOINTS names a file outright.
    SANIC_WORKERS     Rasa's own: more than 1 needs the replicas setting
    RASA_CREDENTIALS  credentials.yml (our gateway channel only); make bench
                      adds Rasa's REST channel to compare against
"""
import logging
import os
import sys
from pathlib import Path
from typing import Dict, List, Mapping
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
POSTGRESQL = ("postgresql://", "postgres://")
TRACKER_DB = ROOT / "var" / "rasa-conversations.sqlite3"


def shared_stores(env: Mapping[str, str]) -> bool:
    return env.get("DATABASE_URL", "").startswith(POSTGRESQL) and bool(env.get("REDIS_URL"))


def store_variables(env: Mapping[str, str]) -> Dict[str, str]:
    """What endpoints.replicas.yml reads, made from DATABASE_URL and REDIS_URL."""
    database, redis = env["DATABASE_URL"], urlsplit(env["REDIS_URL"])
    return {
        # SQLAlchemy 1.4 knows "postgresql://" only.
        "TRACKER_STORE_URL": "postgresql://" + database.split("://", 1)[1],
        "LOCK_STORE_HOST": redis.hostname or "127.0.0.1",
        "LOCK_STORE_PORT": str(redis.port or 6379),
        "LOCK_STORE_DB": (redis.path or "/0").strip("/") or "0",
        "LOCK_STORE_USERNAME": unquote(redis.username or ""),
        "LOCK_STORE_PASSWORD": unquote(redis.password or ""),
    }


def embedded_store_variables(env: Mapping[str, str]) -> Dict[str, str]:
    """What endpoints.yml reads: Rasa's SQL tracker store on a SQLite file."""
    path = Path(env.get("RASA_TRACKER_DB") or TRACKER_DB).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return {"TRACKER_STORE_URL": f"sqlite:///{path}"}


def sqlite_settings() -> None:
    """Rasa makes its own engine, so these are set on every new SQLite connection
    SQLAlchemy opens in this process:

    - secure_delete: an erased conversation's events are overwritten, not left in
      the file's free pages;
    - a write-ahead log, synced at checkpoints rather than at every commit: Rasa
      writes the conversation after every message, in its event loop, and the
      default journal's three syncs per commit held every conversation up (a
      crash of Rasa loses nothing; a power cut may lose the last moments). The
      log is emptied at every erasure (channels/gateway_input.py erase_tracker)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(connection, _record) -> None:
        if type(connection).__module__.startswith("sqlite3"):
            for pragma in ("secure_delete = ON", "journal_mode = WAL", "synchronous = NORMAL"):
                connection.execute(f"PRAGMA {pragma}")


def keep_slots_out_of_logs() -> None:
    """Rasa 3.6 logs an error, with every slot's value, each time it sends a button
    whose payload holds JSON (`/inform{"platform": "snapchat"}`: every report
    question). It takes the braces for a slot to fill in, fails, and sends the
    payload unchanged, so nothing is lost by not logging it; the slots hold the
    person's answers, which must never be in a log."""
    logging.getLogger("rasa.core.nlg.interpolator").setLevel(logging.CRITICAL + 1)


def rasa_arguments(env: Mapping[str, str]) -> List[str]:
    endpoints = env.get("RASA_ENDPOINTS") or (
        "endpoints.replicas.yml" if shared_stores(env) else "endpoints.yml")
    return ["rasa", "run", "--enable-api",
            "--interface", env.get("RASA_INTERFACE", "127.0.0.1"),
            "--port", env.get("RASA_PORT", "5005"),
            "--auth-token", env["RASA_AUTH_TOKEN"],
            "--model", env.get("RASA_MODEL", str(ROOT / "models" / "assistant.tar.gz")),
            "--credentials", env.get("RASA_CREDENTIALS") or str(ROOT / "credentials.yml"),
            "--endpoints", str(ROOT / endpoints)]


def main() -> None:
    if not os.environ.get("RASA_AUTH_TOKEN"):
        sys.exit("RASA_AUTH_TOKEN is not set: Rasa's API would be open to anyone who reaches it.")
    if not os.environ.get("ACTION_SERVER_TOKEN", "").strip():
        sys.exit("ACTION_SERVER_TOKEN is not set: the action server refuses calls without it.")
    os.environ.setdefault("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    if shared_stores(os.environ):
        os.environ.update(store_variables(os.environ))
    else:
        os.environ.update(embedded_store_variables(os.environ))
        sqlite_settings()
    keep_slots_out_of_logs()
    # Rasa reads its arguments from sys.argv; /proc/<pid>/cmdline keeps ours.
    sys.argv = rasa_arguments(os.environ)
    from rasa.__main__ import main as rasa_main

    from channels import speedups

    speedups.apply()

    rasa_main()


if __name__ == "__main__":
    main()
