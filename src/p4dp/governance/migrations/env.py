"""Alembic environment of the operational store (run through `Store.migrate`).

`p4dp.governance.store.alembic_config` passes the open connection; there is no alembic.ini.
To write a new revision: `alembic -x url=sqlite:///tmp/x.sqlite revision` is not needed — copy the
latest file in versions/, give it the next number and set `down_revision` to the previous one.
"""

from alembic import context

from p4dp.governance.store import Base, load_models

load_models()
target_metadata = Base.metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("run migrations through p4dp.governance.store.Store.migrate")

context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
