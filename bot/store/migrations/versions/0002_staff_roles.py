"""Staff roles: worker, supervisor or admin (bot/staff/roles.py).

Until now an account was an admin or not. A supervisor sees the whole shift and
can read and take over conversations; an admin also manages accounts and sees
insights. Admins keep their role; everyone else becomes a worker.

`admin` stays, kept equal to role = 'admin', so that the previous release,
running on these tables during a rolling update, still knows its admins.
"""
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE staff ADD COLUMN role TEXT NOT NULL DEFAULT 'worker'")
    op.execute("UPDATE staff SET role = 'admin' WHERE admin")
