"""Schema revision 1c97f20bb671: a cookie session's last request, for the idle limit."""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1c97f20bb671"
down_revision: str | Sequence[str] | None = "bb62e9c2de80"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    # Open sessions count as idle since sign-in: most end at once, which is the safe side.
    op.execute("UPDATE user_sessions SET last_seen_at = created_at")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.alter_column("last_seen_at", existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
