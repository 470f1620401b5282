"""The common data model: every table and column, once."""

from p4dp.cdm.model import Column, Layer, Table, Type
from p4dp.cdm.tables import ALL_TABLES, CLINICAL_TABLES, TABLES, table

__all__ = ["ALL_TABLES", "CLINICAL_TABLES", "TABLES", "Column", "Layer", "Table", "Type", "table"]
