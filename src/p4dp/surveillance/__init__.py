"""Epidemiological surveillance: weekly sentinel indicators by region, Serfling epidemic
thresholds, alerts and the weekly bulletin (DESIGN.md application 2, DOMAIN.md §3).

Modules: `syndromes` (case definitions), `incidence` (cases, GP-list denominators, incidence and
intervals), `serfling` (baselines, thresholds, epidemic detection), `sentinelles` (the same method
on the Réseau Sentinelles' published series), `alerts` (stored alert events), `api` (JSON payloads
with disclosure control, for the web app), `bulletin` (HTML and PDF), `commands` (CLI).
"""
