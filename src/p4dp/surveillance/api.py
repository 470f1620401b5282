"""The surveillance API the CLI, the bulletin and the web app call: JSON-able payloads, with
disclosure control (`p4dp.privacy.disclosure.protect`) applied for the requester.

Counts (cases, active patients) go through `protect` — small cells suppressed, complementary
suppression, rounding — and every rate shown beside them (incidence, its interval, extrapolated
cases) is then **recomputed from the published counts**: an exact incidence next to a rounded
count would give the exact count back. Thresholds and baselines are model outputs over years of
data and are published as computed. Surveillance outputs are never one GP's own patients, so
every requester, GPs included, gets the protected figures.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from p4dp.analytics.compile import Warehouse
from p4dp.analytics.display import format_number_fr
from p4dp.privacy.disclosure import Policy, Requester, protect
from p4dp.surveillance import population as POP
from p4dp.surveillance import serfling
from p4dp.surveillance.analysis import LEVELS, Analysis, alert_rows, analyse_warehouse
from p4dp.surveillance.incidence import (
    ACTIVE_WINDOW_WEEKS,
    CI_LEVEL,
    PER,
    monday,
    parse_week,
    poisson_rate_ci,
    week_label,
)
from p4dp.surveillance.stored import TABLE as ALERT_TABLE
from p4dp.surveillance.stored import data_version
from p4dp.surveillance.syndromes import SYNDROMES, get

#: "100 000" as French typography writes it.
POP_PER_LABEL = format_number_fr(PER)
_CACHE: dict[tuple, Analysis] = {}
_CACHE_MAX = 4


def analysis(wh: Warehouse, end: dt.date | None = None, years: float | None = None) -> Analysis:
    """The analysis of the warehouse, kept in memory while its data version (loads,
    withdrawals) is unchanged."""
    key = (id(wh), data_version(wh), end, years)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = analyse_warehouse(wh, years=years, end=end)
    return _CACHE[key]


def _num(v: float, digits: int = 1) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def method() -> dict:
    """The method and its parameters, as the bulletin and the web page state them."""
    return {
        "case": "un patient par syndrome et par semaine ISO, codes CISP-2 du résultat ou du motif "
                "(saisis par le médecin ou attribués par le codage automatique)",
        "denominator": f"patients actifs des médecins participants : au moins une consultation "
                       f"dans les {ACTIVE_WINDOW_WEEKS} dernières semaines, vivants, sans "
                       "opposition",
        "incidence": f"cas pour {POP_PER_LABEL} patients actifs, intervalle de confiance à "
                     f"{round(CI_LEVEL * 100)} % de Poisson exact (Garwood)",
        "extrapolation": "incidence × population INSEE de la région (populations légales 2021) "
                         "ou de la France (estimation INSEE de l'année)",
        "threshold": f"régression périodique de Serfling ({serfling.HARMONICS} harmonique "
                     f"annuelle et tendance linéaire) sur les {serfling.TRAINING_YEARS} années "
                     f"précédant la saison, après exclusion des "
                     f"{round(serfling.EXCLUDE_TOP_FRACTION * 100)} % de semaines les plus "
                     f"hautes ; seuil = borne supérieure de l'intervalle de prédiction à "
                     f"{round(serfling.PREDICTION_LEVEL * 100)} %",
        "epidemic": f"{serfling.WEEKS_TO_DECLARE} semaines consécutives au-dessus du seuil ; "
                    f"fin après {serfling.WEEKS_TO_END} semaines consécutives en dessous",
        "provisional": f"les {serfling.PROVISIONAL_WEEKS} dernières semaines sont provisoires "
                       "(données tardives)",
        "parameters": {
            "active_window_weeks": ACTIVE_WINDOW_WEEKS, "ci_level": CI_LEVEL,
            "harmonics": serfling.HARMONICS, "training_years": serfling.TRAINING_YEARS,
            "exclude_top_fraction": serfling.EXCLUDE_TOP_FRACTION,
            "prediction_level": serfling.PREDICTION_LEVEL,
            "weeks_to_declare": serfling.WEEKS_TO_DECLARE,
            "weeks_to_end": serfling.WEEKS_TO_END,
            "season_start_week": serfling.SEASON_START_WEEK,
            "provisional_weeks": serfling.PROVISIONAL_WEEKS,
        },
    }


def syndromes() -> list[dict]:
    return [{"key": s.key, "label_fr": s.label_fr, "result_codes": list(s.result_codes),
             "reason_codes": list(s.reason_codes), "text_pattern": s.text_pattern,
             "age_max_months": s.age_max_months, "source": s.source}
            for s in SYNDROMES.values()]


_RATE_COLUMNS = [
    {"name": "incidence", "label_fr": f"Incidence pour {POP_PER_LABEL}", "role": "measure",
     "kind": "rate"},
    {"name": "ci_low", "label_fr": "IC 95 % bas", "role": "measure", "kind": "rate"},
    {"name": "ci_up", "label_fr": "IC 95 % haut", "role": "measure", "kind": "rate"},
    {"name": "extrapolated", "label_fr": "Cas estimés (population INSEE)", "role": "measure",
     "kind": "rate"},
]
_COUNT_COLUMNS = [
    {"name": "cases", "label_fr": "Cas", "role": "measure", "kind": "count"},
    {"name": "population", "label_fr": "Patients actifs", "role": "measure", "kind": "count"},
]
_MODEL_COLUMNS = [
    {"name": "expected", "label_fr": "Attendu (modèle)", "role": "measure", "kind": "model"},
    {"name": "threshold", "label_fr": "Seuil épidémique", "role": "measure", "kind": "model"},
    {"name": "level", "label_fr": "Alerte", "role": "measure", "kind": "label"},
    {"name": "provisional", "label_fr": "Provisoire", "role": "measure", "kind": "flag"},
]


def _finish(payload: dict, requester: Requester, policy: Policy, inhabitants: list[int | None],
            age_limited: bool) -> dict:
    """Protect the counts, then recompute the rates of every row from what is published
    (vectorised: a whole history is 1,400 rows)."""
    out = protect(payload, requester, policy)
    names = [c["name"] for c in out["columns"]]
    ic, ip, ir = names.index("cases"), names.index("population"), names.index("incidence")
    rows = out["rows"]
    cases = np.array([np.nan if r[ic] is None else r[ic] for r in rows], dtype=float)
    pop = np.array([0 if r[ip] is None else r[ip] for r in rows], dtype=float)
    shown = np.isfinite(cases) & (pop > 0)
    k, n = np.where(shown, cases, 0), np.where(shown, pop, 1)
    inc = k / n * PER
    lo, hi = poisson_rate_ci(k, n)
    inh = np.array([np.nan if age_limited or not x else x for x in inhabitants], dtype=float)
    extra = inc * inh / PER
    for j, row in enumerate(rows):
        row[ir:ir + 4] = ([_num(inc[j]), _num(lo[j]), _num(hi[j]),
                           None if not np.isfinite(extra[j]) else round(float(extra[j]))]
                          if shown[j] else [None] * 4)
    return out


def _level_fr(name: str | None) -> str | None:
    return LEVELS.get(name) if name else None


def weekly_series(wh: Warehouse, syndrome: str, region: str, requester: Requester,
                  start: dt.date | None = None, end: dt.date | None = None,
                  policy: Policy = Policy()) -> dict:
    """One syndrome's weekly series in one region (`FR` for the whole network), as known at
    `end` (default: the last data): alert levels use no later week."""
    syn = get(syndrome)
    a = analysis(wh, end=end)
    c = a.cube
    if region not in c.regions:
        raise ValueError(f"région {region!r} absente de l'entrepôt ; régions : "
                         f"{', '.join(c.regions)}")
    s, r = c.s_index(syn.key), c.r_index(region)
    first = monday(start) if start else c.weeks[0]
    last = monday(end) if end else c.weeks[-1]
    idx = [i for i, w in enumerate(c.weeks) if first <= w <= last]
    rows = [[week_label(c.weeks[i]), c.weeks[i].isoformat(), int(c.cases[s, r, i]),
             int(c.population[s, r, i]), None, None, None, None,
             _num(a.expected[s, r, i]), _num(a.threshold[s, r, i]),
             _level_fr(a.level_name(s, r, i)), bool(a.provisional[i])] for i in idx]
    payload = {
        "kind": "aggregate", "indicator": f"surveillance_{syn.key}",
        "title_fr": f"{syn.label_fr} — {POP.region_name(region)}",
        "syndrome": syn.key, "region": region, "region_name": POP.region_name(region),
        "scope": {"kind": "region", "value": region},
        "columns": [{"name": "week", "label_fr": "Semaine", "role": "dimension"},
                    {"name": "week_start", "label_fr": "Lundi", "role": "label"},
                    *_COUNT_COLUMNS, *_RATE_COLUMNS, *_MODEL_COLUMNS],
        "rows": rows,
        "as_of": c.as_of.isoformat(),
    }
    inhabitants = [POP.population(region, c.weeks[i].year) for i in idx]
    return _finish(payload, requester, policy, inhabitants, syn.age_max_months is not None)


def regions_table(wh: Warehouse, syndrome: str, week: str, requester: Requester,
                  policy: Policy = Policy()) -> dict:
    """Every region (and the whole network, last row) for one syndrome and ISO week, as known at
    the end of that week."""
    syn = get(syndrome)
    monday_ = parse_week(week)
    a = analysis(wh, end=monday_ + dt.timedelta(days=6))
    c = a.cube
    if monday_ not in c.weeks:
        raise ValueError(f"semaine {week} hors des données ({week_label(c.weeks[0])} à "
                         f"{week_label(c.weeks[-1])})")
    s, w = c.s_index(syn.key), c.weeks.index(monday_)

    def row(r: int) -> list:
        code = c.regions[r]
        return [code, POP.region_name(code), int(c.cases[s, r, w]), int(c.population[s, r, w]),
                None, None, None, None, _num(a.expected[s, r, w]), _num(a.threshold[s, r, w]),
                _level_fr(a.level_name(s, r, w)), bool(a.provisional[w])]

    columns = [{"name": "region", "label_fr": "Code région", "role": "dimension"},
               {"name": "region_name", "label_fr": "Région", "role": "label"},
               *_COUNT_COLUMNS, *_RATE_COLUMNS, *_MODEL_COLUMNS]
    national = len(c.regions) - 1
    base = {"kind": "aggregate", "indicator": f"surveillance_{syn.key}_regions",
            "title_fr": f"{syn.label_fr} — semaine {week_label(monday_)}", "syndrome": syn.key,
            "week": week_label(monday_), "scope": {"kind": "base", "value": None},
            "columns": columns}
    limited = syn.age_max_months is not None
    regional = _finish({**base, "rows": [row(r) for r in range(national)]}, requester, policy,
                       [POP.population(c.regions[r], monday_.year) for r in range(national)],
                       limited)
    # the network total is published in its own table (a margin): protect() treats a one-way
    # table's grand total as known and suppresses regional cells accordingly
    total = _finish({**base, "rows": [row(national)]}, requester, policy,
                    [POP.population(POP.NATIONAL, monday_.year)], limited)
    regional["rows"] += total["rows"]
    regional["suppressed_cells"] += [[len(regional["rows"]) - 1, name]
                                     for _, name in total["suppressed_cells"]]
    return regional


def thresholds(wh: Warehouse, syndrome: str, region: str) -> dict:
    """The baseline and threshold of every week of one series, with the epidemic periods
    (model outputs: no counts)."""
    syn = get(syndrome)
    a = analysis(wh)
    c = a.cube
    s, r = c.s_index(syn.key), c.r_index(region)
    eps = a.epidemics.get((s, r), [])
    return {
        "syndrome": syn.key, "region": region, "method": method()["parameters"],
        "weeks": [week_label(w) for w in c.weeks],
        "expected": [_num(v) for v in a.expected[s, r]],
        "threshold": [_num(v) for v in a.threshold[s, r]],
        "epidemics": [{"start_week": week_label(c.weeks[e.start]),
                       "end_week": week_label(c.weeks[e.end]),
                       "peak_week": week_label(c.weeks[e.peak]),
                       "ongoing": bool(a.provisional[e.end]) or e.end == len(c.weeks) - 1}
                      for e in eps],
    }


def alerts(wh: Warehouse, syndrome: str | None = None, region: str | None = None,
           since: str | None = None) -> dict:
    """Alert events (stored by `p4dp surveillance run`; computed now when never stored), newest
    first. No counts: levels, weeks and thresholds only."""
    if ALERT_TABLE in wh.backend.list_tables():
        t = wh.table(ALERT_TABLE)
        stored = True
    else:
        import ibis

        t = ibis.memtable(alert_rows(analysis(wh)))
        stored = False
    if syndrome:
        t = t.filter(t.syndrome == get(syndrome).key)
    if region:
        t = t.filter(t.region_code == region)
    if since:
        t = t.filter(t.week >= parse_week(since))
    t = t.order_by([t.week.desc(), t.syndrome, t.region_code])
    rows = t.to_pyarrow().to_pylist()
    return {
        "stored": stored,
        "alerts": [{"syndrome": x["syndrome"], "syndrome_label": SYNDROMES[x["syndrome"]].label_fr,
                    "region": x["region_code"], "region_name": POP.region_name(x["region_code"]),
                    "week": x["iso_week"], "level": x["level"],
                    "level_label": LEVELS[x["level"]], "threshold": _num(x["threshold"]),
                    "provisional": x["provisional"],
                    "first_raised_at": (x["first_raised_at"].isoformat(timespec="seconds")
                                        if x.get("first_raised_at") else None)}
                   for x in rows],
    }
