"""The one `MetaData` of the read models, and column helpers shared by their tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData

# Index and constraint names are unique per database on PostgreSQL, so they
# carry the (slotted) table name.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def as_of_column() -> Column[int]:
    """`as_of`: the sequence of the last event a row reflects."""
    return Column("as_of", BigInteger, nullable=False)
