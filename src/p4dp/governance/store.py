"""The operational store: users, audit, saved dashboards and cohorts, logbook, projects.

SQLAlchemy 2 over SQLite by default (`$P4DP_HOME/p4dp.sqlite`) and PostgreSQL when
`P4DP_DATABASE_URL` points to one (DESIGN.md, decisions). The schema is owned by Alembic
migrations (`governance/migrations/`); `Store.open` brings any database to the latest revision, so
a fresh install and an upgrade take the same path.

Every package that keeps operational records declares its ORM classes on `Base` in its own
`models.py` and adds its own migration; `MODEL_MODULES` lists them so that Alembic and the tests
see the whole schema.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

#: Constraint names that are stable across SQLite and PostgreSQL (Alembic needs names to alter).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Modules declaring ORM classes on `Base` (imported before migrations and `create_all`).
MODEL_MODULES: tuple[str, ...] = ("p4dp.governance.models", "p4dp.governance.dashboards",
                                  "p4dp.logbook.models", "p4dp.governance.cohorts")

#: SQLite waits this long for a concurrent writer before failing (web app + CLI at once).
SQLITE_BUSY_TIMEOUT_MS = 10_000

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class StoreError(RuntimeError):
    """The operational store cannot be opened or migrated; the message says what to do."""


def load_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def _sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on, WAL for concurrent readers, and `BEGIN IMMEDIATE` for every transaction.

    pysqlite's own deferred BEGIN lets two writers read the same audit head and then collide;
    taking the write lock at BEGIN serialises them (SQLAlchemy's documented pysqlite recipe).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con, _record):
        dbapi_con.isolation_level = None
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _sqlite_pragmas(engine)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return create_engine(url, pool_pre_ping=True)


class Store:
    """One operational database: an engine, a session factory and its migrations."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        try:
            store = cls(make_engine(url))
            if migrate:
                store.migrate()
        except Exception as e:  # noqa: BLE001 - every driver error becomes one clear message
            if isinstance(e, StoreError):
                raise
            raise StoreError(
                f"base opérationnelle inaccessible ({make_url(url).render_as_string()}) : {e}. "
                "Vérifier P4DP_DATABASE_URL (ou P4DP_HOME pour SQLite).") from e
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self, revision: str = "heads") -> None:
        """Bring the schema to `revision` (all heads by default) with Alembic."""
        from alembic import command

        with self.engine.begin() as connection:
            cfg = alembic_config(connection)
            command.upgrade(cfg, revision)

    def current_revisions(self) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        with self.engine.connect() as c:
            return c.execute(text("select 1")).scalar() == 1

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def open_store(settings) -> Store:
    """The store named by the settings (SQLite in HOME unless P4DP_DATABASE_URL is set)."""
    return Store.open(settings.operational_url)
