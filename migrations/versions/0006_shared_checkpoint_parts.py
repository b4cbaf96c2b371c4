"""Checkpoint parts held once, by digest, and shared between checkpoints (ADR 027).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

`rm_checkpoint_parts` lists each checkpoint's parts by their SHA-256 (hex);
the bytes move to `rm_checkpoint_blobs`, one row per distinct part. The stored
checkpoints stay valid: their digest is made of their parts' digests, which do
not change. Downgrading copies each part's bytes back.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PARTS, BLOBS = "rm_checkpoint_parts", "rm_checkpoint_blobs"
FOREIGN_KEY = f"fk_{PARTS}_digest_{BLOBS}"


def upgrade() -> None:
    op.create_table(
        BLOBS,
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f(f"pk_{BLOBS}")),
    )
    op.add_column(PARTS, sa.Column("digest", sa.Text(), nullable=True))
    connection = op.get_bind()
    keys = connection.execute(sa.text(f"SELECT sequence, part FROM {PARTS}")).fetchall()
    for sequence, part in keys:  # one part's bytes in memory at a time
        where = {"sequence": sequence, "part": part}
        data = connection.execute(
            sa.text(f"SELECT data FROM {PARTS} WHERE sequence = :sequence AND part = :part"), where
        ).scalar_one()
        digest = hashlib.sha256(data).hexdigest()
        connection.execute(
            sa.text(
                f"INSERT INTO {BLOBS} (digest, data) VALUES (:digest, :data) "
                "ON CONFLICT (digest) DO NOTHING"
            ),
            {"digest": digest, "data": data},
        )
        connection.execute(
            sa.text(f"UPDATE {PARTS} SET digest = :digest WHERE sequence = :sequence AND part = :part"),
            {"digest": digest, **where},
        )
    with op.batch_alter_table(PARTS) as batch:
        batch.drop_column("data")
        batch.alter_column("digest", existing_type=sa.Text(), nullable=False)
        batch.create_foreign_key(FOREIGN_KEY, BLOBS, ["digest"], ["digest"])
    op.create_index(op.f(f"ix_{PARTS}_digest"), PARTS, ["digest"])


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{PARTS}_digest"), table_name=PARTS)
    op.add_column(PARTS, sa.Column("data", sa.LargeBinary(), nullable=True))
    op.execute(
        f"UPDATE {PARTS} SET data = (SELECT b.data FROM {BLOBS} b WHERE b.digest = {PARTS}.digest)"
    )
    with op.batch_alter_table(PARTS) as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("digest")
        batch.alter_column("data", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table(BLOBS)
