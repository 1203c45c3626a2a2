"""Accounts in the console and two-factor sign-in (bot/staff/totp.py, docs/handoff.md).

staff:
  must_change_password  a one-time password from an admin: changed at the next sign-in
  totp_secret           the authenticator app's secret once confirmed (sealed when
                        CHANNEL_ID_KEY is set); NULL: no two-factor
  totp_pending          a secret being set up, until its first code confirms it
  totp_last_step        the newest 30-second step whose code was taken: a code is
                        taken only for a newer one, so none can be used twice
staff_sessions.stage:   NULL a whole session; 'code' half signed in, the password
                        was right and only the code step is open (five minutes)
staff_recovery_codes:   each account's unused recovery codes, only as hashes
"""
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE staff ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE")
    op.execute("ALTER TABLE staff ADD COLUMN totp_secret TEXT")
    op.execute("ALTER TABLE staff ADD COLUMN totp_pending TEXT")
    op.execute("ALTER TABLE staff ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE staff_sessions ADD COLUMN stage TEXT")
    op.execute("""
        CREATE TABLE staff_recovery_codes (
            code_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL REFERENCES staff(username) ON DELETE CASCADE
        )""")
    op.execute("CREATE INDEX staff_recovery_codes_by_username ON staff_recovery_codes(username)")
