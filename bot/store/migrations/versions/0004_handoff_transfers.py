"""Handoffs between staff: several chats per worker, transfers, the supervisor's view
(docs/handoff.md, "Several chats", "Transfers", "The supervisor's view").

    transfer_to, transfer_from  a transfer offered and not yet answered: to whom, by whom
    transfer_at                 when it was offered
    last_staff_at               when the holder last wrote to the person, so that a
                                supervisor sees a worker who has gone quiet

All nullable: rows made before keep NULL, which means "no offer" and "not written yet".
"""
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # One column per statement: SQLite's ALTER TABLE adds one at a time.
    op.execute("ALTER TABLE handoffs ADD COLUMN transfer_to TEXT")
    op.execute("ALTER TABLE handoffs ADD COLUMN transfer_from TEXT")
    op.execute("ALTER TABLE handoffs ADD COLUMN transfer_at DOUBLE PRECISION")
    op.execute("ALTER TABLE handoffs ADD COLUMN last_staff_at DOUBLE PRECISION")
