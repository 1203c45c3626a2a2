"""Coming back to a web conversation later (docs/privacy.md, "The come-back code").

    come_back_codes  a conversation's code, only as a SHA-256 hash (one per
                     conversation: a new code replaces the old). It goes with
                     the conversation: at retention, at "delete my chat".
    sessions.seen_seq  the newest message the person's web page has been sent,
                     so that the console can show a reply as "not seen yet"
                     while the page is closed. 0: nothing yet (and for rows made
                     before, which is what they were).
"""
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute("""
CREATE TABLE come_back_codes (
    code_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions(id) ON DELETE CASCADE,
    created_at DOUBLE PRECISION NOT NULL
)""")
    op.execute("ALTER TABLE sessions ADD COLUMN seen_seq INTEGER NOT NULL DEFAULT 0")
