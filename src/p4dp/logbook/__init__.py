"""Interns' consultation logbook ("Carnet de consultation", DOMAIN.md §1 and §6).

* `reference` — competences, levels, age bands, statuses (French labels);
* `models` — entries, versions, problems, competences in the operational store;
* `service` — record, edit, submit and review entries under the permission rules, audited;
* `dashboard` — the "Tableau de bord" over a period, columnar (Arrow + DuckDB);
* `export` — an intern's portfolio as PDF and CSV;
* `synth` — realistic entries for the synthetic network's interns (demo);
* `warehouse` — entries copied into the warehouse for analysis.
"""
