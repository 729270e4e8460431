"""Schema revision 5d2f7a91c3e4: who holds each party's keys, and requests signed by clients."""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2f7a91c3e4"
down_revision: str | Sequence[str] | None = "080554e1bb30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing party had its keys on the server: the default says so.
    op.add_column(
        "parties",
        sa.Column("custody", sa.String(length=8), server_default="server", nullable=False),
    )
    op.create_table(
        "signing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("parent", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_signing_requests_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_signing_requests_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signing_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signing_requests_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("signing_requests")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_column("custody")
