"""The vocabulary of the common data model: a table is a tuple of typed columns.

Everything else (DuckDB DDL, Arrow schemas, the reference page) is derived from these objects,
so a column is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import pyarrow as pa


class Type(str, Enum):
    """Logical column types, each with one DuckDB and one Arrow spelling."""

    STRING = "string"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT64 = "float64"
    BOOL = "bool"
    DATE = "date"
    TIMESTAMP = "timestamp"
    STRING_LIST = "list<string>"

    @property
    def duckdb(self) -> str:
        return _DUCKDB[self]

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self]


_DUCKDB = {
    Type.STRING: "VARCHAR",
    Type.INT16: "SMALLINT",
    Type.INT32: "INTEGER",
    Type.INT64: "BIGINT",
    Type.FLOAT64: "DOUBLE",
    Type.BOOL: "BOOLEAN",
    Type.DATE: "DATE",
    Type.TIMESTAMP: "TIMESTAMP",
    Type.STRING_LIST: "VARCHAR[]",
}
_ARROW = {
    Type.STRING: pa.string(),
    Type.INT16: pa.int16(),
    Type.INT32: pa.int32(),
    Type.INT64: pa.int64(),
    Type.FLOAT64: pa.float64(),
    Type.BOOL: pa.bool_(),
    Type.DATE: pa.date32(),
    Type.TIMESTAMP: pa.timestamp("us"),
    Type.STRING_LIST: pa.list_(pa.string()),
}


class Layer(str, Enum):
    """Where a column exists.

    ``BOTH``: in the practice-side staging tables and in the central warehouse.
    ``PRACTICE``: direct identifiers, read from the EHR export and removed by the agent before
    anything leaves the practice. They never exist in the warehouse.
    ``CENTRAL``: added centrally (batch id, coding results, repair provenance).
    """

    BOTH = "both"
    PRACTICE = "practice"
    CENTRAL = "central"


@dataclass(frozen=True)
class Column:
    name: str
    type: Type
    description: str
    nullable: bool = True
    allowed: tuple[str, ...] = ()
    layer: Layer = Layer.BOTH

    @property
    def identifying(self) -> bool:
        return self.layer is Layer.PRACTICE


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    patient_column: str | None = "patient_id"
    practitioner_columns: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"table {self.name}: duplicate column names")
        for key in self.primary_key:
            if key not in names:
                raise ValueError(f"table {self.name}: primary key column {key!r} is not defined")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def central_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.layer is not Layer.PRACTICE)

    def staging_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.layer is not Layer.CENTRAL)

    def arrow_schema(self, layer: str = "central") -> pa.Schema:
        """Arrow schema of the table in the warehouse (``central``) or at the practice (``staging``)."""
        cols = self.central_columns() if layer == "central" else self.staging_columns()
        return pa.schema(
            [pa.field(c.name, c.type.arrow, nullable=c.nullable) for c in cols],
            metadata={"p4dp.table": self.name, "p4dp.layer": layer},
        )

    def duckdb_ddl(self, schema: str | None = None) -> str:
        """DDL with types, NOT NULL and allowed values. The primary key is not declared as a
        constraint: the loader keeps keys unique (docs/decisions/0001-no-primary-key-constraint.md).
        """
        qualified = f"{schema}.{self.name}" if schema else self.name
        lines = []
        for c in self.central_columns():
            null = "" if c.nullable else " NOT NULL"
            check = ""
            if c.allowed and c.type is Type.STRING:
                values = ", ".join("'" + v.replace("'", "''") + "'" for v in c.allowed)
                check = f" CHECK ({c.name} IN ({values}))"
            lines.append(f"    {c.name} {c.type.duckdb}{null}{check}")
        body = ",\n".join(lines)
        return f"CREATE TABLE IF NOT EXISTS {qualified} (\n{body}\n);"
