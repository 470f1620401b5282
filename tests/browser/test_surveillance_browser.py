"""The surveillance page in Debian's Chromium: the weekly curves are drawn by plotly.js against
the threshold (strict CSP, nothing from outside), the selectors change the syndrome."""

from __future__ import annotations

import pytest
from browser_site import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_surveillance_page_draws_the_curves_and_changes_syndrome(page, server):
    login(page, server, "chercheur")
    page.goto(f"{server}/surveillance?week=2026-W10")
    curve = page.locator("#curve-FR")
    page.wait_for_selector("#curve-FR[data-drawn] .main-svg", timeout=20_000)
    assert int(curve.get_attribute("data-drawn")) > 50
    # incidence bars, threshold and expected lines
    assert page.locator("#curve-FR .barlayer .point").count() > 50
    assert page.locator("#curve-FR .scatterlayer .trace").count() == 2
    status = page.locator(".curve-box .status").first.inner_text()
    assert "semaines" in status
    assert "Seuil épidémique" in page.locator("#curve-FR").inner_text()
    assert page.locator("table tbody tr").count() == 3  # two regions and France entière
    page.screenshot(path=ARTIFACTS / "surveillance.png", full_page=True)

    page.get_by_label("Syndrome", exact=True).select_option("diarrhee")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**/surveillance?syndrome=diarrhee*")
    page.wait_for_selector("#curve-FR[data-drawn] .main-svg", timeout=20_000)
    assert "Diarrhée" in page.locator("#h-curves").inner_text()
    assert page.errors == []
    assert all(u.startswith(server) for u in page.requested)
