"""The dashboards in Debian's Chromium against a real server: tabs, slicers, the "+" editor,
suppressed cells for a researcher, and not one request leaving localhost."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from browser_site import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_loaded(page, after: int = 0, timeout: float = 60) -> int:
    """Wait until the page's panels are drawn (a newer load than `after`); return its number.

    Polled from Python: Playwright's wait_for_function evaluates a string in the page, which
    our Content-Security-Policy (no 'unsafe-eval') rightly forbids."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = int(page.evaluate("document.body.dataset.loaded || 0"))
        if n > after:
            return n
        page.wait_for_timeout(100)
    raise AssertionError(f"panels not drawn: {page.locator('#status').inner_text()}")


def only_localhost(page) -> None:
    hosts = {urlparse(u).hostname for u in page.requested}
    assert page.requested and hosts == {"127.0.0.1"}, hosts


def test_gp_opens_every_tab_and_moves_a_slicer(page, server):
    login(page, server, "medecin")
    page.screenshot(path=ARTIFACTS / "gp-home.png", full_page=True)
    tabs = page.locator("nav.tabs a[href^='/themes/']")
    hrefs = [tabs.nth(i).get_attribute("href") for i in range(tabs.count())]
    assert len(hrefs) == 12  # the ten themes, the individual dashboard, the sentinel report
    for href in hrefs:
        page.goto(server + href)
        wait_loaded(page)
        assert page.locator("#status").inner_text().startswith("Données à jour")
        assert page.locator("section.panel").count() >= 1
        page.screenshot(path=ARTIFACTS / f"gp-{href.rsplit('/', 1)[1]}.png", full_page=True)
    assert not [e for e in page.errors if "Content Security Policy" in e or "Refused" in e]

    page.goto(server + "/themes/general")
    n = wait_loaded(page)
    chart = "document.getElementById('chart-general_consultations_per_year').data[0].y"
    before = page.evaluate(chart)
    page.get_by_label("Sexe", exact=True).select_option("F")
    wait_loaded(page, n)
    after = page.evaluate(chart)
    assert before != after and sum(after) < sum(before)
    assert page.url.endswith("/themes/general")  # no full reload: same page, redrawn in place
    page.screenshot(path=ARTIFACTS / "gp-general-women.png", full_page=True)
    only_localhost(page)
    assert page.errors == []


def test_gp_builds_a_dashboard_with_the_editor(page, server):
    login(page, server, "medecin")
    page.get_by_role("link", name="Créer un tableau de bord (+)").click()
    page.get_by_label("Titre").fill("Mes enfants")
    page.locator("#panel-template select[name=indicator]").select_option(
        "surpoids_by_age_sex")
    page.locator("#panel-template select[name=by]").select_option("child_age")
    page.get_by_role("button", name="Ajouter une vignette").click()
    page.locator("#more-panels select[name=indicator]").select_option(
        "general_consultations_per_year")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"{server}/dashboards/*")
    wait_loaded(page)
    assert page.locator("h1").inner_text() == "Mes enfants"
    assert page.locator("#chart-surpoids_by_age_sex .main-svg").count() >= 1
    assert page.locator("#chart-general_consultations_per_year .main-svg").count() >= 1
    page.screenshot(path=ARTIFACTS / "gp-editor-dashboard.png", full_page=True)
    only_localhost(page)


def test_a_researcher_sees_suppressed_cells_where_the_gp_saw_exact_ones(browser, server):
    cells = {}
    for who in ("medecin", "chercheur"):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
        p = context.new_page()
        login(p, server, who)
        p.goto(server + "/themes/surpoids")
        wait_loaded(p)
        table = p.locator("#panel-surpoids_by_age_sex table")
        cells[who] = table.locator("td").all_inner_texts()
        p.screenshot(path=ARTIFACTS / f"surpoids-{who}.png", full_page=True)
        context.close()
    assert cells["medecin"] and "< 11" not in cells["medecin"]
    assert "< 11" in cells["chercheur"]


def test_png_and_csv_downloads(page, server):
    login(page, server, "medecin")
    page.goto(server + "/themes/motifs")
    wait_loaded(page)
    panel = page.locator("#panel-motifs_top_diagnoses_base")
    with page.expect_download() as csv:
        panel.get_by_role("link", name="Télécharger « ").first.click()
    assert csv.value.suggested_filename == "motifs_top_diagnoses_base.csv"
    with page.expect_download(timeout=60_000) as png:
        panel.get_by_role("button", name="Télécharger le graphique").click()
    path = png.value.path()
    assert path and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    only_localhost(page)
