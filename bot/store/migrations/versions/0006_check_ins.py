"""A check-in the person asked for on Telegram or WhatsApp: one message a few
hours later (docs/handoff.md, "A check-in").

One row per conversation at most, so it is offered and sent at most once:

    status          offered, scheduled, sent, declined, cancelled or failed
    due_at          when to send it (scheduled)
    sealed_address  the chat id or number, sealed like reply_addresses', kept
                    only until it is sent, cancelled or given up
    leased_until    a gateway sending it now: the others (and its own restart)
                    leave it alone until then, as with the case outbox
    attempts, give_up_at   retried while the provider is down, never past the
                    messaging app's 24-hour window
    agreed_at       when the person said yes: a message after that (and after a
                    short grace) cancels it

It goes with the conversation (ON DELETE CASCADE): "delete my chat" cancels it.
"""
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("""
CREATE TABLE check_ins (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    agreed_at DOUBLE PRECISION,
    due_at DOUBLE PRECISION,
    give_up_at DOUBLE PRECISION,
    sealed_address TEXT,
    leased_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at DOUBLE PRECISION
)""")
    op.execute("CREATE INDEX check_ins_due ON check_ins (status, due_at)")
