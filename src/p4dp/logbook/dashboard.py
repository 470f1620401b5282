"""The logbook's "Tableau de bord": what interns met over a period (DOMAIN.md §1).

For an intern, a supervisor's group or a department: consultations and problems, top reasons /
results / procedures with CISP-2 titles, problems by chapter, patients by age band and sex,
competences used and levels over time, share of entries validated — and, beside the whole GP
base of the warehouse, the chapters and age bands a trainee has not met yet.

The entries are loaded once into Arrow (`frames.load_frames`) and aggregated by DuckDB in
memory: these are small operational tables, not warehouse queries, so plain DuckDB SQL over Arrow
is used here; the base profile, read from the warehouse, is an Ibis expression (`base_profile`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.logbook import reference as R
from p4dp.logbook.frames import Frames, load_frames
from p4dp.logbook.service import Actor

#: The default period: the last 12 months (an intern's year is two 6-month semesters).
DEFAULT_PERIOD_DAYS = 365
#: Rows of each "top" table (the seed's Motifs tab ranks 20 for a GP's whole activity; an
#: intern's few hundred consultations are read best on a shorter list).
TOP_N = 10
#: A chapter or age band is "not met" when the trainee has no problem in it although it weighs at
#: least this share of the GP base's problems (P4DP convention: 2 % leaves out the rare chapters
#: that a semester need not cover, keeps paediatrics, gynaecology, psychiatry …).
NOT_MET_MIN_BASE_SHARE = 0.02
#: "Under-exposed": the trainee's share is below this fraction of the base's share.
UNDER_EXPOSED_RATIO = 0.5


@dataclass(frozen=True)
class BaseProfile:
    """Shares of the whole GP base (warehouse): problems by chapter (result code, else reason
    code; uncoded left out) and consultations by patient age band."""

    chapters: dict[str, float]
    age_bands: dict[str, float]
    n_problems: int


@dataclass
class Dashboard:
    start: date
    end: date
    scope: str  # French description: "Interne A", "Groupe de Dr Alpha", "DMG Nice"
    n_entries: int
    n_problems: int
    n_interns: int
    n_validated: int
    share_validated: float | None  # percent
    top: dict[str, pa.Table]  # per field: code, title_fr, n, percent
    chapters: pa.Table  # chapter, title_fr, n, percent
    age_sex: pa.Table  # age_band, label_fr, F, M, total
    competences: pa.Table  # competence, label_fr, n, novice, intermediaire, competent
    progression: pa.Table  # month, competence, label_fr, n, mean_level
    interns: pa.Table  # intern_id, intern, n_entries, n_problems, n_validated, last_date
    casemix: pa.Table | None = None  # kind, key, label_fr, n, share, base_share, status
    not_met: list[str] = field(default_factory=list)  # French labels

    def to_dict(self) -> dict:
        """JSON payload: numbers stay numbers, dates ISO (display is the page's job)."""
        def rows(t: pa.Table | None):
            return None if t is None else t.to_pylist()
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "scope": self.scope,
            "n_entries": self.n_entries, "n_problems": self.n_problems,
            "n_interns": self.n_interns, "n_validated": self.n_validated,
            "share_validated": self.share_validated,
            "top": {k: rows(v) for k, v in self.top.items()},
            "chapters": rows(self.chapters), "age_sex": rows(self.age_sex),
            "competences": rows(self.competences),
            "progression": [{**r, "month": r["month"].isoformat()}
                            for r in self.progression.to_pylist()],
            "interns": [{**r, "last_date": r["last_date"] and r["last_date"].isoformat()}
                        for r in self.interns.to_pylist()],
            "casemix": rows(self.casemix), "not_met": self.not_met,
        }


@lru_cache(maxsize=4096)
def _title(code: str) -> str:
    from p4dp.terminology import icpc2

    try:
        return icpc2.title_fr_in_context(code)
    except KeyError:
        return code


@lru_cache(maxsize=32)
def _chapter_title(letter: str) -> str:
    from p4dp.terminology import icpc2

    if letter == "_":
        return "Pas de code attribué"
    return icpc2.chapter_title_fr(letter)


def _with_labels(t: pa.Table, key: str, name: str, label) -> pa.Table:
    labels = pa.array([label(v) for v in t[key].to_pylist()], pa.string())
    return t.add_column(t.schema.get_field_index(key) + 1, name, labels)


#: The chapter a problem is counted under: its result (diagnosis) code, else its reason code.
_CHAPTER_SQL = ("coalesce(nullif(left(coalesce(result_code, reason_code), 1), '_'), '_')")


def _aggregate(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    q = {
        "chapters": f"""
            SELECT {_CHAPTER_SQL} AS chapter, count(*) AS n,
                   round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS percent
            FROM p GROUP BY 1 ORDER BY n DESC, chapter""",
        "age_sex": """
            SELECT age_band, count(*) FILTER (patient_sex = 'F') AS "F",
                   count(*) FILTER (patient_sex = 'M') AS "M", count(*) AS total
            FROM e GROUP BY 1""",
        "competences": """
            SELECT competence, count(*) AS n,
                   count(*) FILTER (level = 'novice') AS novice,
                   count(*) FILTER (level = 'intermediaire') AS intermediaire,
                   count(*) FILTER (level = 'competent') AS competent
            FROM c GROUP BY 1""",
        "progression": """
            SELECT date_trunc('month', e.consultation_date)::DATE AS month, c.competence,
                   count(*) AS n, round(avg(CASE c.level WHEN 'novice' THEN 1
                       WHEN 'intermediaire' THEN 2 ELSE 3 END), 2) AS mean_level
            FROM c JOIN e USING (entry_id) GROUP BY 1, 2 ORDER BY 1, 2""",
        "interns": """
            SELECT e.intern_id, count(*) AS n_entries,
                   coalesce(sum(np.n), 0)::BIGINT AS n_problems,
                   count(*) FILTER (e.status = 'validated') AS n_validated,
                   max(e.consultation_date) AS last_date
            FROM e LEFT JOIN (SELECT entry_id, count(*) AS n FROM p GROUP BY 1) np
                 USING (entry_id)
            GROUP BY 1 ORDER BY e.intern_id""",
    }
    out = {k: con.sql(v).to_arrow_table() for k, v in q.items()}
    for f in R.FIELDS:
        out[f"top_{f}"] = con.sql(f"""
            SELECT {f}_code AS code, count(*) AS n,
                   round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS percent
            FROM p WHERE {f}_code IS NOT NULL
            GROUP BY 1 ORDER BY n DESC, code LIMIT {TOP_N}""").to_arrow_table()
    return out


def _order(t: pa.Table, key: str, order: tuple[str, ...]) -> pa.Table:
    """Every value of `order` present (zeros where absent), in that order."""
    rows = {r[key]: r for r in t.to_pylist()}
    zero = {n: 0 for n in t.column_names if n != key}
    return pa.Table.from_pylist([rows.get(k, {key: k, **zero}) for k in order], schema=t.schema)


def build_dashboard(frames: Frames, start: date, end: date, scope: str,
                    base: BaseProfile | None = None,
                    names: Mapping[int, str] | None = None) -> Dashboard:
    """Aggregate loaded entries (pure: the figures depend on the frames only). Interns are named
    from `names` (id → name), else from the frames' `intern` column."""
    con = duckdb.connect()
    try:
        con.register("e", frames.entries)
        con.register("p", frames.problems)
        con.register("c", frames.competences)
        agg = _aggregate(con)
    finally:
        con.close()
    e = frames.entries
    if names is None:
        names = dict(zip(e["intern_id"].to_pylist(), e["intern"].to_pylist()))
    interns = _with_labels(agg["interns"], "intern_id", "intern", lambda i: names.get(i, ""))
    interns = interns.sort_by([("intern", "ascending"), ("intern_id", "ascending")])
    n_entries = e.num_rows
    n_validated = sum(1 for s in e["status"].to_pylist() if s == "validated")
    top = {f: _with_labels(agg[f"top_{f}"], "code", "title_fr", _title) for f in R.FIELDS}
    chapters = _with_labels(agg["chapters"], "chapter", "title_fr", _chapter_title)
    age_sex = _with_labels(_order(agg["age_sex"], "age_band", R.AGE_BANDS), "age_band",
                           "label_fr", R.AGE_BAND_LABELS_FR.get)
    keys = tuple(c.key for c in R.competences())
    comp = _with_labels(_order(agg["competences"], "competence", keys), "competence", "label_fr",
                        lambda k: R.competence(k).short_fr)
    progression = _with_labels(agg["progression"], "competence", "label_fr",
                               lambda k: R.competence(k).short_fr)
    dash = Dashboard(
        start=start, end=end, scope=scope, n_entries=n_entries,
        n_problems=frames.problems.num_rows,
        n_interns=len(set(e["intern_id"].to_pylist())), n_validated=n_validated,
        share_validated=round(100 * n_validated / n_entries, 1) if n_entries else None,
        top=top, chapters=chapters, age_sex=age_sex, competences=comp,
        progression=progression, interns=interns)
    if base is not None:
        dash.casemix, dash.not_met = compare_with_base(chapters, age_sex, base)
    return dash


def compare_with_base(chapters: pa.Table, age_sex: pa.Table,
                      base: BaseProfile) -> tuple[pa.Table, list[str]]:
    """The scope's shares beside the base's, per chapter and per age band; statuses "non
    rencontré" (none met although the base has ≥ NOT_MET_MIN_BASE_SHARE), "sous-représenté"
    (share < UNDER_EXPOSED_RATIO × base share) or "" (in line or above)."""
    from p4dp.terminology.icpc2 import CHAPTERS

    chapter_n = dict(zip(chapters["chapter"].to_pylist(), chapters["n"].to_pylist()))
    band_n = dict(zip(age_sex["age_band"].to_pylist(), age_sex["total"].to_pylist()))
    rows, not_met = [], []
    for kind, counts, keys, shares, label in (
            ("chapitre", chapter_n, CHAPTERS, base.chapters, _chapter_title),
            ("âge", band_n, R.AGE_BANDS, base.age_bands, R.AGE_BAND_LABELS_FR.get)):
        total = sum(v for k, v in counts.items() if k != "_")
        for k in keys:
            n = counts.get(k, 0)
            share = 100 * n / total if total else 0.0
            base_share = 100 * shares.get(k, 0.0)
            if n == 0 and base_share >= 100 * NOT_MET_MIN_BASE_SHARE:
                status = "non rencontré"
                not_met.append(f"{label(k)} ({kind})")
            elif base_share and share < UNDER_EXPOSED_RATIO * base_share:
                status = "sous-représenté"
            else:
                status = ""
            rows.append({"kind": kind, "key": k, "label_fr": label(k), "n": n,
                         "share": round(share, 1), "base_share": round(base_share, 1),
                         "status": status})
    return pa.Table.from_pylist(rows), not_met


def scope_label(store: Store, actor: Actor, intern_id: int | None) -> str:
    """"Interne A", "Internes de Dr Alpha", "DMG Nice"."""
    if intern_id is not None or actor.role == "intern":
        with store.sessions() as s:
            return s.get(User, intern_id or actor.id).display_name
    if actor.role == "supervisor":
        return f"Internes de {getattr(actor, 'display_name', actor.username)}"
    return actor.department or "Département"


def intern_names(store: Store, ids: Iterable[int]) -> dict[int, str]:
    with store.sessions() as s:
        return dict(s.execute(select(User.id, User.display_name)
                              .where(User.id.in_(set(ids)))).all())


def dashboard(store: Store, actor: Actor, *, start: date | None = None, end: date | None = None,
              intern_id: int | None = None, base: BaseProfile | None = None,
              today: date | None = None) -> Dashboard:
    """The dashboard of what `actor` may see: one intern (`intern_id`, or the intern themself),
    or the supervisor's group, or the department, over [start, end] (the last 12 months by
    default). `base` adds the comparison with the whole GP base."""
    end = end or today or date.today()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    frames = load_frames(store, actor, start=start, end=end, intern_id=intern_id,
                         full=False)
    names = intern_names(store, pc.unique(frames.entries["intern_id"]).to_pylist())
    return build_dashboard(frames, start, end, scope_label(store, actor, intern_id), base, names)


# ----------------------------------------------------------------------------- the GP base


def base_profile_exprs(problem, encounter, patient):
    """Ibis: the warehouse's problems by chapter, and its consultations by patient age band at
    the consultation's date (as the dashboard counts problems and entries)."""
    import ibis

    from p4dp.analytics.portable import age_at, age_band

    code = ibis.coalesce(problem.result_code, problem.reason_code)
    chapter = ibis.ifelse(code.isnull() | (code == "_"), "_", code.substr(0, 1))
    chapters = problem.group_by(chapter=chapter).aggregate(n=problem.count())
    j = encounter.join(patient, encounter.patient_id == patient.patient_id)
    band = age_band(age_at(j.birth_year, j.birth_month, j.date), R.AGE_BREAKS, R.AGE_BANDS)
    bands = j.group_by(age_band=band).aggregate(n=j.count())
    return chapters, bands


def _shares(t: pa.Table, key: str) -> dict[str, float]:
    counts = {k: n for k, n in zip(t[key].to_pylist(), t["n"].to_pylist())
              if k is not None and k != "_"}
    total = sum(counts.values())
    return {k: n / total for k, n in counts.items()} if total else {}


def base_profile(backend) -> BaseProfile:
    """The whole GP base's profile from an Ibis backend on the warehouse."""
    chapters, bands = base_profile_exprs(backend.table("problem"), backend.table("encounter"),
                                         backend.table("patient"))
    chapters = chapters.to_pyarrow()
    return BaseProfile(_shares(chapters, "chapter"), _shares(bands.to_pyarrow(), "age_band"),
                       sum(chapters["n"].to_pylist()))


@lru_cache(maxsize=4)
def _cached_profile(path: str, _mtime_ns: int) -> BaseProfile:
    import ibis

    backend = ibis.duckdb.connect(path, read_only=True)
    try:
        return base_profile(backend)
    finally:
        backend.disconnect()


def warehouse_base_profile(path: Path | str) -> BaseProfile | None:
    """The base profile of the warehouse file, computed once per version of the file; None when
    there is no warehouse yet (the dashboard then shows no comparison)."""
    p = Path(path)
    if not p.is_file():
        return None
    return _cached_profile(str(p.resolve()), p.stat().st_mtime_ns)
