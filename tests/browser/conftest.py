"""A real uvicorn server on a free loopback port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# helpers live in uniquely named modules (browser_site, web_client, site_data): two folders'
# `conftest` modules would shadow each other when a test imported from `conftest`
from browser_site import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, serve_in_thread  # noqa: E402
from site_data import build_site_warehouse  # noqa: E402


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of the app served by uvicorn (in a thread of this process) on loopback."""
    from p4dp.governance.accounts import NewUser, add_user
    from p4dp.governance.store import Store
    from p4dp.settings import Settings
    from p4dp.web.app import create_app

    home = tmp_path_factory.mktemp("browser-home")
    warehouse = build_site_warehouse(home / "warehouse.duckdb")
    store = Store.open(f"sqlite:///{home / 'p4dp.sqlite'}")
    add_user(store, NewUser("medecin", "gp", PASSWORD, practitioner_id="arm_g1",
                            practice_id="p1"))
    add_user(store, NewUser("chercheur", "researcher", PASSWORD))
    app = create_app(Settings(home=home, secret_key="b" * 48, duckdb_threads=1), store,
                     warehouse)
    with serve_in_thread(app) as url:
        yield url
    store.dispose()


@pytest.fixture(scope="module")
def browser():
    """Chromium, one per test module (two Playwright sync sessions cannot be open at once: a
    module with its own must not run while this one is)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser context; every request URL is recorded in `page.requested`, and
    console errors (a CSP violation …) in `page.errors`."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    requested: list[str] = []

    def record(route):
        requested.append(route.request.url)
        route.continue_()

    context.route("**/*", record)
    p = context.new_page()
    p.requested = requested
    p.errors = []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    yield p
    context.close()
