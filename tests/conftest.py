"""Suite-wide test settings."""

import os

# Rich renders tables to the terminal's width, and 80 columns when there is none (CI, pytest):
# wide enough that command outputs checked by tests are not folded mid-word.
os.environ.setdefault("COLUMNS", "200")


# --- operational store: every store test runs on SQLite and on a real PostgreSQL server ----------

import subprocess  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _pg_server_url() -> str | None:
    """The test server's URL: P4DP_TEST_PG_URL (set by scripts/ci-services.sh), or the same script
    run now (it starts a private server on its own port)."""
    url = os.environ.get("P4DP_TEST_PG_URL")
    if url:
        return url
    try:
        out = subprocess.run(
            ["bash", "-c", "source scripts/ci-services.sh >/dev/null && echo $P4DP_TEST_PG_URL"],
            cwd=ROOT, capture_output=True, text=True, timeout=180, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    url = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else None
    if url:
        os.environ["P4DP_TEST_PG_URL"] = url
    return url


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = _pg_server_url()
    if not url:
        message = ("no PostgreSQL server for the store tests: run `source scripts/ci-services.sh` "
                   "(installs Debian's postgresql and starts a private server)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty operational database: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'p4dp.sqlite'}"
        return
    import sqlalchemy as sa

    server = request.getfixturevalue("pg_server_url")
    name = f"p4dp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def store(store_url):
    """The operational store, migrated to the latest revision, on SQLite and on PostgreSQL."""
    from p4dp.governance.store import Store

    s = Store.open(store_url)
    yield s
    s.dispose()
