"""Schema revision 1c97f20bb671: a cookie session's last request, for the idle limit."""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1c97f20bb671"
down_revision: str | Sequence[str] | None = "bb62e9c2de80"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL means no request since sign-in: open sessions count as idle since then, so most end
    # at the upgrade, the safe side. A plain ADD COLUMN, which SQLite does without a rebuild.
    op.add_column("user_sessions", sa.Column("last_seen_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
