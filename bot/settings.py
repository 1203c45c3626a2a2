"""Gateway settings, from the environment and .env (python-dotenv).

Every setting is documented in .env.example; the defaults below are what a bare
`make run` uses.
"""
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    rasa_url: str = "http://127.0.0.1:5005"
    actions_url: str = "http://127.0.0.1:5055"
    rasa_token: str = ""
    database_url: str = f"sqlite:///{ROOT / 'var' / 'gateway.sqlite3'}"
    retention_hours: float = 48.0
    retention_sweep_seconds: float = 600.0
    messages_per_minute: int = 20
    # Messages this gateway has with Rasa at once (bot/conversation/admission.py); more wait, most urgent first.
    rasa_in_flight: int = 4
    max_text_chars: int = 2000
    quick_exit_url: str = "https://www.bbc.co.uk/weather"
    # A come-back code that opens nothing is answered this long after it was sent,
    # whatever was wrong with it (bot/web/come_back.py).
    come_back_fail_seconds: float = 2.0
    # Keyed hashes of Telegram chat ids and WhatsApp numbers. Unset: random per
    # start, so a restart also forgets who was who.
    channel_id_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    telegram_token: str = field(default="", repr=False)
    telegram_secret: str = field(default="", repr=False)
    telegram_api_base: str = "https://api.telegram.org"
    whatsapp_token: str = field(default="", repr=False)
    whatsapp_app_secret: str = field(default="", repr=False)
    whatsapp_verify_token: str = field(default="", repr=False)
    whatsapp_phone_number_id: str = ""
    whatsapp_api_base: str = "https://graph.facebook.com/v20.0"
    provider_retries: int = 3
    # Several gateways (docs/deploy.md): they share live events and per-conversation
    # locks through Redis. Unset: one gateway, all in this process.
    redis_url: str = field(default="", repr=False)
    # The internal API for the action server (bot/internal.py): loopback, unless
    # the action server runs on another host (containers), behind the token.
    internal_host: str = "127.0.0.1"
    internal_port: int = 8081
    internal_token: str = field(default="", repr=False)
    # Handoff to the support team (bot/staff/handoffs.py, bot/staff/hours.py).
    support_hours: str = ""
    support_timezone: str = "Europe/London"
    handoff_minutes_each: float = 10.0
    staff_session_hours: float = 12.0
    # Behind a proxy: the request header in which it gives the client's address for
    # staff logins (the login throttle counts per address, bot/staff/auth.py).
    # Unset: the TCP peer's address, and the header is ignored (a client could forge it).
    staff_login_address_header: str = ""
    # A staff member whose console has been closed this long is off shift: what
    # they held goes back to the bot (and stays in the queue).
    staff_away_seconds: float = 300.0
    # The console (docs/handoff.md): how many conversations one worker may hold at once;
    # whether every account (not only supervisors and admins) must sign in with a code
    # from an authenticator app; the team's saved replies and wrap-up lists (YAML).
    staff_max_chats: int = 3
    staff_totp_for_all: bool = False
    # Seals staff two-factor secrets in the store (bot/staff/totp.py): CHANNEL_ID_KEY
    # when it is set, never the random one a start makes without it (lost at restart).
    staff_totp_key: bytes = field(default=b"", repr=False)
    saved_replies_file: str = "saved_replies.yml"
    wrapup_file: str = "wrapup.yml"
    # The reporting channel (bot/reporting/outbox.py): where cases go, the HMAC key they
    # are signed with, and how long delivery is retried before staff are alerted.
    report_webhook_url: str = ""
    report_webhook_secret: str = field(default="", repr=False)
    report_retry_first_seconds: float = 10.0
    report_retry_max_seconds: float = 900.0
    report_give_up_hours: float = 72.0
    # How long a case's reference and delivery status are kept (its answers go
    # as soon as it is delivered).
    case_retention_days: float = 30.0
    # How long the insights' anonymous hourly counts are kept (bot/insights/counts.py):
    # two years, to compare a month with the same month last year.
    insights_retention_days: float = 730.0
    # A check-in the person asks for on Telegram or WhatsApp (bot/conversation/check_in.py):
    # sent this long after their yes, unless they write again more than the grace after it.
    check_in_after_minutes: float = 240.0
    check_in_grace_minutes: float = 10.0
    # None is sent at night (in support_timezone's local time): one that would fall in it
    # waits for its end. Empty: any time.
    check_in_night: str = "22:00-08:00"

    @property
    def reporting_enabled(self) -> bool:
        return bool(self.report_webhook_url and self.report_webhook_secret)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token and self.telegram_secret)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_token and self.whatsapp_app_secret
                    and self.whatsapp_verify_token and self.whatsapp_phone_number_id)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        if env is None:
            load_dotenv(ROOT / ".env")
            env = os.environ

        def get(name: str) -> Optional[str]:
            value = env.get(name, "").strip()
            return value or None

        def truthy(value: str) -> bool:
            return value.lower() in ("1", "true", "yes", "on")

        values = {}
        for name, key, kind in (
            ("GATEWAY_HOST", "host", str),
            ("GATEWAY_PORT", "port", int),
            ("RASA_AUTH_TOKEN", "rasa_token", str),
            ("DATABASE_URL", "database_url", str),
            ("RETENTION_HOURS", "retention_hours", float),
            ("RETENTION_SWEEP_SECONDS", "retention_sweep_seconds", float),
            ("RATE_LIMIT_PER_MINUTE", "messages_per_minute", int),
            ("RASA_IN_FLIGHT", "rasa_in_flight", int),
            ("QUICK_EXIT_URL", "quick_exit_url", str),
            ("COME_BACK_FAIL_SECONDS", "come_back_fail_seconds", float),
            ("TELEGRAM_BOT_TOKEN", "telegram_token", str),
            ("TELEGRAM_WEBHOOK_SECRET", "telegram_secret", str),
            ("TELEGRAM_API_BASE", "telegram_api_base", str),
            ("WHATSAPP_ACCESS_TOKEN", "whatsapp_token", str),
            ("WHATSAPP_APP_SECRET", "whatsapp_app_secret", str),
            ("WHATSAPP_VERIFY_TOKEN", "whatsapp_verify_token", str),
            ("WHATSAPP_PHONE_NUMBER_ID", "whatsapp_phone_number_id", str),
            ("WHATSAPP_API_BASE", "whatsapp_api_base", str),
            ("REDIS_URL", "redis_url", str),
            ("GATEWAY_INTERNAL_HOST", "internal_host", str),
            ("GATEWAY_INTERNAL_PORT", "internal_port", int),
            ("GATEWAY_INTERNAL_TOKEN", "internal_token", str),
            ("SUPPORT_HOURS", "support_hours", str),
            ("SUPPORT_TIMEZONE", "support_timezone", str),
            ("HANDOFF_MINUTES_EACH", "handoff_minutes_each", float),
            ("STAFF_SESSION_HOURS", "staff_session_hours", float),
            ("STAFF_LOGIN_ADDRESS_HEADER", "staff_login_address_header", str),
            ("STAFF_AWAY_SECONDS", "staff_away_seconds", float),
            ("STAFF_MAX_CHATS", "staff_max_chats", int),
            ("STAFF_TOTP_FOR_ALL", "staff_totp_for_all", truthy),
            ("SAVED_REPLIES_FILE", "saved_replies_file", str),
            ("WRAPUP_FILE", "wrapup_file", str),
            ("REPORT_WEBHOOK_URL", "report_webhook_url", str),
            ("REPORT_WEBHOOK_SECRET", "report_webhook_secret", str),
            ("REPORT_RETRY_FIRST_SECONDS", "report_retry_first_seconds", float),
            ("REPORT_RETRY_MAX_SECONDS", "report_retry_max_seconds", float),
            ("REPORT_GIVE_UP_HOURS", "report_give_up_hours", float),
            ("CASE_RETENTION_DAYS", "case_retention_days", float),
            ("INSIGHTS_RETENTION_DAYS", "insights_retention_days", float),
            ("CHECK_IN_AFTER_MINUTES", "check_in_after_minutes", float),
            ("CHECK_IN_GRACE_MINUTES", "check_in_grace_minutes", float),
        ):
            if get(name) is not None:
                values[key] = kind(get(name))
        if "CHECK_IN_NIGHT" in env:  # set but empty means something here: any time
            values["check_in_night"] = env["CHECK_IN_NIGHT"].strip()
        if get("RASA_PORT"):
            values["rasa_url"] = f"http://127.0.0.1:{get('RASA_PORT')}"
        if get("ACTION_SERVER_PORT"):
            values["actions_url"] = f"http://127.0.0.1:{get('ACTION_SERVER_PORT')}"
        # On other hosts (replicas, containers): full addresses win over the ports.
        if get("RASA_URL"):
            values["rasa_url"] = get("RASA_URL").rstrip("/")
        if get("ACTIONS_URL"):
            values["actions_url"] = get("ACTIONS_URL").rstrip("/")
        if get("CHANNEL_ID_KEY"):
            values["channel_id_key"] = get("CHANNEL_ID_KEY").encode()
            # Made up by `make run` for this run only (scripts/run_stack.py): two-factor
            # secrets sealed with it would be lost at the next run, so they aren't.
            if not get("CHANNEL_ID_KEY_THIS_RUN_ONLY"):
                values["staff_totp_key"] = values["channel_id_key"]
        for key in ("telegram_api_base", "whatsapp_api_base"):
            if key in values:
                values[key] = values[key].rstrip("/")
        return cls(**values)
