"""SQLAlchemy read models: the schema every projection writes and every query reads.

Importing this package declares all tables on `metadata`, the transparency log's
too (they share it); alembic migrations (`migrations/`) create them.
"""

# Declared on the same metadata: without it, `metadata` lacked the transparency
# tables unless something else had imported them first (alembic's comparison of a
# migrated store with `metadata`, run alone, found them "removed").
import infrastructure.transparency.tables  # noqa: F401
from infrastructure.readmodels.control import slots_table, tracking_name, tracking_table
from infrastructure.readmodels.derived import (
    checkpoints_table,
    compat_kinds_table,
    compat_watermark_table,
)
from infrastructure.readmodels.tables import (
    PROJECTION_NAMES,
    SLOTS,
    ProjectionTables,
    metadata,
    projection_tables,
)

__all__ = [
    "PROJECTION_NAMES",
    "SLOTS",
    "ProjectionTables",
    "checkpoints_table",
    "compat_kinds_table",
    "compat_watermark_table",
    "metadata",
    "projection_tables",
    "slots_table",
    "tracking_name",
    "tracking_table",
]
