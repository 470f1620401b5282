"""The cohort builder in Debian's Chromium: a researcher builds a cohort with the ICPC-2 picker,
sees the protected count and attrition update, saves it shared with GPs; the GP then lists their
own eligible patients."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from browser_site import ARTIFACTS, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _errors_of(page) -> list[str]:
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return page.errors


def test_researcher_builds_a_cohort_with_the_picker_and_a_gp_lists_their_patients(
        page, server, browser):
    errors = _errors_of(page)
    login(page, server, "chercheur")
    page.goto(f"{server}/cohorts")
    page.get_by_label("Titre").fill("Adultes hypertendus")
    page.get_by_label("Identifiant").fill("adultes-hta")
    page.get_by_label("Date index").fill("2026-11-29")

    page.get_by_role("button", name="Âge, sexe, région").click()
    page.locator(".rule .age-min").fill("40")
    total = page.locator("#total")
    page.wait_for_selector("#attrition:not([hidden]) tbody tr:nth-child(2)")
    assert re.fullmatch(r"[0-9 ]+|< 11", total.inner_text())

    page.get_by_role("button", name="Code CISP-2").click()
    picker = page.get_by_role("combobox", name="Code ou libellé CISP-2")
    picker.press_sequentially("hypertension", delay=60)
    option = page.get_by_role("option", name=re.compile(r"^K86 — "))
    option.wait_for(timeout=10_000)
    page.screenshot(path=ARTIFACTS / "cohorts-picker.png", full_page=True)
    option.click()
    assert page.locator(".chips li[data-code=K86]").count() == 1
    page.wait_for_selector("#attrition tbody tr:nth-child(3)")
    steps = page.locator("#attrition tbody tr")
    assert "K86" in steps.nth(2).inner_text()
    counts = [steps.nth(i).locator("td").last.inner_text() for i in range(3)]
    assert all(re.fullmatch(r"[0-9 ]+|< 11", c) for c in counts), counts
    assert total.inner_text() == counts[-1]
    assert page.locator("#regions:not([hidden]) tbody tr").count() >= 1

    # an unknown code typed into a raw rule would be refused; here: an impossible age range
    page.locator(".rule .age-max").fill("20")
    page.wait_for_selector("#errors li")
    assert "/rules/0" in page.locator("#errors").inner_text()
    assert page.locator(".rule.invalid").count() == 1
    page.locator(".rule .age-max").fill("")
    page.wait_for_selector("#errors:empty", state="attached")

    page.get_by_label("Partage").select_option("gp")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_selector("#save-status:has-text('version 1')")
    page.screenshot(path=ARTIFACTS / "cohorts-builder.png", full_page=True)
    page.get_by_label("Titre").fill("Adultes hypertendus (v2)")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_selector("#save-status:has-text('version 2')")
    # the list of versions is refreshed by its own request after the save: wait for it
    expect(page.locator("#versions li")).to_have_count(2)
    assert [e for e in errors if "422" not in e] == []  # the refused age range is the only 4xx

    gp = browser.new_context(locale="fr-FR").new_page()
    gp.errors = []
    login(gp, server, "medecin")
    gp.goto(f"{server}/cohorts/patients")
    gp.get_by_label("Définition", exact=True).select_option(label="Adultes hypertendus (v2) (v2)")
    gp.get_by_role("button", name="Afficher mes patients").click()
    gp.wait_for_selector("#patients tbody tr")
    assert gp.locator("#patients tbody tr").count() >= 1
    assert "p4dp agent reidentify" in gp.content()
    gp.screenshot(path=ARTIFACTS / "cohorts-patients.png", full_page=True)
    gp.context.close()
