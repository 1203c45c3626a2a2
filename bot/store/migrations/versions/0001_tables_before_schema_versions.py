"""The tables as the store made them before it had schema versions: the
statements it ran at every start until then, unchanged.

They keep `IF NOT EXISTS`: on a store made before (its tables there, no
alembic_version), this revision finds them in place, changes nothing, and is
recorded as done (bot/store/schema.py); a store left half-made gets the tables
it lacks, as it did before.
"""
from alembic import op

revision = "0001"
down_revision = None

# Statements are split on ";": keep semicolons out of the comments.
TABLES = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    last_active DOUBLE PRECISION NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL CHECK (sender IN ('user', 'bot', 'staff')),
    text TEXT NOT NULL,
    response TEXT,
    buttons TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS channel_links (
    user_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions(last_active);
CREATE TABLE IF NOT EXISTS reply_addresses (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    sealed TEXT NOT NULL
);
-- One row per conversation ever handed to a person. Staff see `id` only.
-- bot_active: the bot still answers while it waits (crisis, or left for later).
-- bot_paused: Rasa's tracker was paused and has not been resumed yet.
CREATE TABLE IF NOT EXISTS handoffs (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions(id) ON DELETE CASCADE,
    priority TEXT NOT NULL CHECK (priority IN ('crisis', 'normal')),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'claimed', 'ended')),
    bot_active BOOLEAN NOT NULL,
    bot_paused BOOLEAN NOT NULL,
    requested_at DOUBLE PRECISION NOT NULL,
    claimed_by TEXT,
    claimed_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS handoffs_by_status ON handoffs(status);
CREATE TABLE IF NOT EXISTS notes (
    handoff_id TEXT NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
    staff TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS staff (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff(username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
-- Telegram updates and WhatsApp messages already taken (bot/messaging/shared.py), so
-- that a provider's second delivery is not answered twice, whichever gateway it
-- reaches and whenever: a keyed hash of the provider's id, never the id, until
-- expires_at. Expired rows go with retention.
CREATE TABLE IF NOT EXISTS deliveries (
    id_hash TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
-- Staff logins per client address (bot/staff/auth.py), for the throttle every
-- gateway shares: a keyed hash of the address, never the address, and a count
-- in the window that started at window_start. Old windows go with retention.
CREATE TABLE IF NOT EXISTS login_attempts (
    address_hash TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    window_start DOUBLE PRECISION NOT NULL
);
-- Which staff member did what, when: never who the victim is.
CREATE TABLE IF NOT EXISTS audit (
    at DOUBLE PRECISION NOT NULL,
    staff TEXT NOT NULL,
    action TEXT NOT NULL,
    conversation TEXT
);
-- The reporting channel's outbox (bot/reporting/outbox.py). `sealed` is the case as it
-- will be sent (answers, the blackmailer's username, contact details, the
-- redacted transcript), encrypted. It is emptied once the case is delivered:
-- then only the reference and the delivery status stay, for CASE_RETENTION_DAYS.
-- A case outlives its conversation (session_id is cleared when that is deleted).
CREATE TABLE IF NOT EXISTS cases (
    reference TEXT PRIMARY KEY,
    session_id TEXT UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    consent TEXT NOT NULL,
    sealed TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    give_up_at DOUBLE PRECISION NOT NULL,
    leased_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS cases_due ON cases(status, next_attempt_at);
-- Answers kept out of the conversation (the blackmailer's username, contact
-- details), sealed, until the case is submitted or the conversation deleted.
CREATE TABLE IF NOT EXISTS held_answers (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (session_id, field)
);
-- Insights (bot/insights/counts.py): anonymous counts per hour, never who. They stay
-- when the conversations they counted are deleted. `hour`: its start, in
-- seconds since 1970 (UTC).
CREATE TABLE IF NOT EXISTS insight_counts (
    hour BIGINT NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (hour, name)
);
-- What a conversation has been counted for already (reached step 1, ...), so
-- that it counts once. Goes with the conversation.
CREATE TABLE IF NOT EXISTS insight_marks (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (session_id, name)
);
-- Messages the assistant did not understand, redacted, for admins to turn into
-- training examples. Deleted with their conversation, unless an admin keeps one
-- for training (then session_id is cleared). `day`: its start, UTC.
CREATE TABLE IF NOT EXISTS unclear_messages (
    id TEXT PRIMARY KEY,
    session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    day DOUBLE PRECISION NOT NULL,
    intent TEXT
);
"""


def upgrade() -> None:
    for statement in TABLES.split(";"):
        if statement.strip():
            op.execute(statement)
