"""The logbook in Debian's Chromium against a real server: an intern fills an entry with the
CISP-2 picker and the coder's suggestion, submits it, and their supervisor validates it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from browser_site import ARTIFACTS, serve_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "logbook"))
from logbook_helpers import PASSWORD, build_warehouse, make_network  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def lb_server(tmp_path_factory):
    from p4dp.governance.store import Store
    from p4dp.settings import Settings
    from p4dp.web.app import create_app

    home = tmp_path_factory.mktemp("logbook-browser")
    store = Store.open(f"sqlite:///{home / 'p4dp.sqlite'}")
    make_network(store)
    app = create_app(Settings(home=home, secret_key="l" * 48, duckdb_threads=1), store,
                     build_warehouse(home / "warehouse.duckdb"))
    with serve_in_thread(app) as url:
        yield url
    app.state.data.close()
    store.dispose()


def _wait_value(page, locator, timeout_s: float = 15) -> str:
    """The field's value once a script filled it (polled: the CSP forbids wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while locator.input_value() == "" and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return locator.input_value()


def _page(browser, server: str, username: str):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and "favicon.ico" not in str(m.location) else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.picker_ms = []  # end-to-end time of each picker request, as the browser saw it
    page.on("requestfinished", lambda r: page.picker_ms.append(r.timing["responseEnd"])
            if "/api/v1/logbook/cisp" in r.url else None)
    page.goto(f"{server}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{server}/")
    return page


def test_intern_fills_an_entry_with_the_picker_and_the_supervisor_validates_it(browser,
                                                                              lb_server):
    ARTIFACTS.mkdir(exist_ok=True)
    page = _page(browser, lb_server, "int.a")
    page.goto(f"{lb_server}/logbook/new")
    page.get_by_label("Date").fill("2026-11-02")
    page.get_by_label("Âge du patient").select_option("2-15")
    page.get_by_label("Sexe").select_option("F")

    # Résultat: the text typed, the coder's suggestion pre-fills the empty code.
    page.locator("#p0-result-text").fill("otite moyenne aiguë")
    page.locator("#p0-result-text").blur()
    assert _wait_value(page, page.locator("#p0-result-code")) == "H71"
    title = page.locator(".coded[data-field=result] .coded-title").first
    assert "suggestion du codeur" in title.inner_text()

    # Motif: the coder's suggestion replaced by a code found letter by letter in the picker.
    page.locator("#p0-reason-text").fill("fièvre depuis 2 jours")
    page.locator("#p0-reason-text").blur()
    reason = page.locator("#p0-reason-code")
    assert _wait_value(page, reason) == "A03"
    reason.fill("")
    page.picker_ms.clear()
    reason.press_sequentially("fievr", delay=150)
    option = page.get_by_role("option", name="A03 — Fièvre")
    option.wait_for(timeout=10_000)
    page.screenshot(path=ARTIFACTS / "logbook-picker.png", full_page=True)
    option.click()
    assert reason.input_value() == "A03"
    deadline = time.monotonic() + 10
    while len(page.picker_ms) < len("fievr") and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # one request per keystroke, all answered
    timings = page.picker_ms
    assert len(timings) == len("fievr")
    # their speed is measured in benchmarks/bench_logbook.py, not asserted here: a shared CI
    # machine made a 50 ms median budget fail at 53 ms
    print(f"picker keystrokes (ms): {[round(t, 1) for t in timings]}")

    page.get_by_label("Compétence n°1").select_option("premier_recours")
    page.locator("#c0-level").select_option("novice")
    page.locator("#c0-justification").fill("Première otite vue seule")
    page.get_by_label("Analyse et supervision").fill("Otoscopie à revoir avec le maître de stage.")
    page.get_by_role("button", name="Enregistrer et soumettre au maître de stage").click()
    page.wait_for_url(f"{lb_server}/logbook/*")
    entry_url = page.url
    assert page.locator("#entry-status").inner_text() == "Soumise"
    assert "Otite moyenne aiguë ou myringite" in page.content()
    assert page.errors == []
    page.context.close()

    sup = _page(browser, lb_server, "sup.a")
    sup.goto(f"{lb_server}/logbook")
    sup.locator("#entries a").first.click()
    sup.wait_for_url(entry_url)
    sup.get_by_label("Commentaire du maître de stage").fill("Bonne démarche.")
    sup.get_by_role("button", name="Valider").click()
    sup.wait_for_url(entry_url)
    assert sup.locator("#entry-status").inner_text() == "Validée"
    assert sup.locator("#supervisor-comment").inner_text() == "Bonne démarche."
    sup.goto(f"{lb_server}/logbook/dashboard")
    assert sup.locator("#kpis").inner_text().startswith("1")
    sup.screenshot(path=ARTIFACTS / "logbook-dashboard.png", full_page=True)
    assert sup.errors == []
    sup.context.close()
