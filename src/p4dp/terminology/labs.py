"""Lab exams: raw labels → canonical exam (LOINC, canonical unit), and unit conversions.

Data: `data/labs_fr.csv` — exam_code, French name, LOINC code (empty when none fits), canonical
unit (the unit of the LOINC code's property: mass concentration → g/L, substance concentration →
mmol/L …) and label aliases. Sources in `data/README.md`.

Conversions are affine maps *to* the canonical unit (`canonical = value × factor + offset`), each
built from a named constant below with its source; the inverse map converts back. A unit that no
rule knows is left as it is, with rule null: the quality step decides what to do with it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.terminology import data_path
from p4dp.terminology._labels import AliasScanner, LabelMatcher
from p4dp.terminology._text import as_label_array, normalise

# --------------------------------------------------------------------------- conversion constants
# HbA1c: IFCC–NGSP master equation, NGSP(%) = 0.0915 × IFCC(mmol/mol) + 2.15, i.e.
# IFCC = (NGSP − 2.15) × 10.929 (Hoelzel W. et al., Clin Chem 2004;50:166-74; IFCC/NGSP consensus,
# Diabetes Care 2007;30:2399).
HBA1C_IFCC_PER_NGSP_PERCENT = 10.929
HBA1C_NGSP_INTERCEPT_PERCENT = 2.15
# Molar masses (g/mol, IUPAC standard atomic weights) give the g/L ↔ mmol/L factors: 1000 / M.
GLUCOSE_MMOL_PER_G = 5.551          # glucose C6H12O6, M = 180.16
CREATININE_UMOL_PER_MG = 8.84       # creatinine C4H7N3O, M = 113.12 (µmol/L per mg/L)
CHOLESTEROL_MMOL_PER_G = 2.586      # cholesterol C27H46O, M = 386.65
TRIGLYCERIDES_MMOL_PER_G = 1.129    # expressed as triolein, M = 885.4 (clinical convention)
VITAMIN_D_NMOL_PER_NG = 2.496       # 25-OH-vitamin D3, M = 400.64 (nmol/L per ng/mL)
URATE_UMOL_PER_MG = 5.948           # uric acid C5H4N4O3, M = 168.11 (µmol/L per mg/L)
CALCIUM_MMOL_PER_G = 24.95          # calcium, M = 40.08 (mmol/L per g/L)
UREA_MMOL_PER_G = 16.65             # urea CH4N2O, M = 60.06 (mmol/L per g/L)
BILIRUBIN_UMOL_PER_MG = 1.710       # bilirubin C33H36N4O6, M = 584.66 (µmol/L per mg/L)
FREE_T4_PMOL_PER_NG = 1.287         # thyroxine, M = 776.87 (pmol/L per ng/L)
FREE_T3_PMOL_PER_NG = 1.536         # triiodothyronine, M = 650.98 (pmol/L per ng/L)
B12_PMOL_PER_PG = 0.738             # cyanocobalamin, M = 1355.4 (pmol/L per pg/mL)
FOLATE_NMOL_PER_NG = 2.266          # folic acid, M = 441.4 (nmol/L per ng/mL)
# Albumin/creatinine ratio: 1 mmol creatinine = 0.11312 g, so 1 mg/mmol = 8.84 mg/g (KDIGO 2012
# CKD guideline, table 5: 3 mg/mmol ≈ 30 mg/g).
ACR_MG_PER_G_PER_MG_PER_MMOL = 8.84

UNITLESS = "1"  # UCUM dimensionless unit, the canonical "unit" of INR


@dataclass(frozen=True)
class Rule:
    exam_code: str
    unit: str  # source unit (canonical spelling)
    factor: float
    offset: float
    name: str


def _scale(exam: str, unit: str, factor: float, name: str) -> Rule:
    return Rule(exam, unit, factor, 0.0, name)


_LIPIDS = ("CHOL", "HDL", "LDL", "LDL_DIRECT")
_CELLS = ("PLAQ", "LEUCO", "PNN")
RULES: tuple[Rule, ...] = (
    Rule("HBA1C", "mmol/mol", 1 / HBA1C_IFCC_PER_NGSP_PERCENT, HBA1C_NGSP_INTERCEPT_PERCENT,
         "hba1c_ifcc_mmol_mol_vers_pourcent"),
    _scale("GLYCEMIE", "mmol/L", 1 / GLUCOSE_MMOL_PER_G, "glucose_mmol_l_vers_g_l"),
    _scale("GLYCEMIE", "mg/dL", 0.01, "mg_dl_vers_g_l"),
    _scale("GLYCEMIE", "mg/L", 0.001, "mg_l_vers_g_l"),
    _scale("CREAT", "mg/L", CREATININE_UMOL_PER_MG, "creatinine_mg_l_vers_umol_l"),
    _scale("CREAT", "mg/dL", CREATININE_UMOL_PER_MG * 10, "creatinine_mg_dl_vers_umol_l"),
    _scale("CREAT_U", "µmol/L", 0.001, "umol_l_vers_mmol_l"),
    _scale("CREAT_U", "g/L", CREATININE_UMOL_PER_MG, "creatinine_g_l_vers_mmol_l"),
    *(_scale(e, "mmol/L", 1 / CHOLESTEROL_MMOL_PER_G, "cholesterol_mmol_l_vers_g_l")
      for e in _LIPIDS),
    *(_scale(e, "mg/dL", 0.01, "mg_dl_vers_g_l") for e in _LIPIDS),
    _scale("TG", "mmol/L", 1 / TRIGLYCERIDES_MMOL_PER_G, "triglycerides_mmol_l_vers_g_l"),
    _scale("TG", "mg/dL", 0.01, "mg_dl_vers_g_l"),
    _scale("VITD", "nmol/L", 1 / VITAMIN_D_NMOL_PER_NG, "vitamine_d_nmol_l_vers_ng_ml"),
    _scale("ACIDE_URIQUE", "mg/L", URATE_UMOL_PER_MG, "acide_urique_mg_l_vers_umol_l"),
    _scale("CALCIUM", "mg/L", CALCIUM_MMOL_PER_G / 1000, "calcium_mg_l_vers_mmol_l"),
    _scale("UREE", "g/L", UREA_MMOL_PER_G, "uree_g_l_vers_mmol_l"),
    _scale("BILI", "mg/L", BILIRUBIN_UMOL_PER_MG, "bilirubine_mg_l_vers_umol_l"),
    _scale("T4L", "ng/L", FREE_T4_PMOL_PER_NG, "t4_ng_l_vers_pmol_l"),
    _scale("T4L", "ng/dL", FREE_T4_PMOL_PER_NG * 10, "t4_ng_dl_vers_pmol_l"),
    _scale("T3L", "ng/L", FREE_T3_PMOL_PER_NG, "t3_ng_l_vers_pmol_l"),
    _scale("B12", "pmol/L", 1 / B12_PMOL_PER_PG, "b12_pmol_l_vers_pg_ml"),
    _scale("FOLATES", "nmol/L", 1 / FOLATE_NMOL_PER_NG, "folates_nmol_l_vers_ng_ml"),
    _scale("RAC", "mg/mmol", ACR_MG_PER_G_PER_MG_PER_MMOL, "rac_mg_mmol_vers_mg_g"),
    _scale("HB", "g/L", 0.1, "g_l_vers_g_dl"),
    _scale("CRP", "mg/dL", 10.0, "mg_dl_vers_mg_l"),
    *(_scale(e, "/mm3", 0.001, "par_mm3_vers_g_l") for e in _CELLS),
    # A cell count cannot be in grams per litre: "g/l" there is "G/L" typed in lower case.
    *(_scale(e, "g/L", 1.0, "g_l_minuscule_lu_giga_l") for e in _CELLS),
    # Monovalent ions: 1 mEq = 1 mmol; calcium is divalent: 1 mEq = 0.5 mmol.
    *(_scale(e, "mEq/L", 1.0, "meq_l_ion_monovalent") for e in ("K", "NA")),
    _scale("CALCIUM", "mEq/L", 0.5, "meq_l_calcium_divalent"),
)

# Spellings of units seen in French lab exports → one spelling. Same-quantity synonyms
# (ng/mL = µg/L, mUI/L = µUI/mL, 10⁹/L = G/L) are merged here, so they need no rule.
_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "%": ("%", "pourcent", "pct"),
    "mmol/mol": ("mmol/mol",),
    "g/L": ("g/l", "gr/l"),
    "mg/L": ("mg/l",),
    "mg/dL": ("mg/dl", "mg/100ml", "mg%"),
    "mmol/L": ("mmol/l", "mm/l"),
    "mEq/L": ("meq/l",),
    "µmol/L": ("umol/l", "µmol/l", "micromol/l", "mcmol/l"),
    "nmol/L": ("nmol/l",),
    "pmol/L": ("pmol/l",),
    "ng/L": ("ng/l", "pg/ml"),
    "ng/dL": ("ng/dl",),
    "ng/mL": ("ng/ml", "ug/l", "µg/l", "mcg/l"),
    "µg/L": (),
    "pg/mL": (),
    "mUI/L": ("mui/l", "miu/l", "uui/ml", "µui/ml", "uiu/ml", "µiu/ml", "mu/l"),
    "UI/L": ("ui/l", "u/l", "iu/l", "ui", "u/i"),
    "g/dL": ("g/dl", "g/100ml", "g%"),
    "G/L": ("giga/l", "10^9/l", "10*9/l", "10e9/l", "109/l", "giga/l", "/nl", "10^3/ul",
            "10^3/µl", "10*3/ul", "10^3/mm3", "10*3/mm3", "10^3/mm^3", "x10^9/l", "x10^3/µl"),
    "/mm3": ("/mm3", "mm3", "/ul", "/µl", "/mm^3", "par mm3", "elements/mm3"),
    "fL": ("fl", "µm3", "um3", "femtolitres"),
    "mm/h": ("mm/h", "mm", "mm/1h", "mm 1ere heure"),
    "mL/min/1.73m2": ("ml/min/1.73m2", "ml/min/1.73m²", "ml/min/1.73", "ml/mn/1.73m2",
                      "ml/min/1.73 m2", "ml/min/1,73m2", "ml/min/1.73m^2", "ml/min/1,73m²"),
    "mL/min": ("ml/min", "ml/mn"),
    "mg/g": ("mg/g",),
    "mg/mmol": ("mg/mmol",),
    "1": ("1", "ratio", "inr", "sans unite", "-"),
}
# `ng/mL` and `µg/L` are the same quantity; so are `pg/mL` and `ng/L`. Canonical units in the data
# file may use either spelling, so each maps to the spelling that `_UNIT_SPELLINGS` produces.
_SAME_QUANTITY = {"µg/L": "ng/mL", "pg/mL": "ng/L"}


def _unit_key(unit: str) -> str:
    # "G/L" (giga per litre, cell counts) and "g/L" (grams per litre) differ only by case.
    if re.fullmatch(r"\s*G\s*/\s*[lL]\s*", unit):
        return "giga/l"
    key = unit.strip().lower().replace("μ", "µ").replace("²", "2").replace(",", ".")
    key = re.sub(r"\s+", "", key)
    return key.replace("µ", "u")


@lru_cache(maxsize=1)
def _unit_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, spellings in _UNIT_SPELLINGS.items():
        for s in (canonical, *spellings):
            table.setdefault(_unit_key(s), _SAME_QUANTITY.get(canonical, canonical))
    return table


def unit_spelling(unit: str | None) -> str | None:
    """One spelling per unit (`"µmol/l"`, `"umol/L"` → `"µmol/L"`); None when unknown."""
    if unit is None:
        return None
    return _unit_table().get(_unit_key(unit))


# --------------------------------------------------------------------------- exams


@lru_cache(maxsize=1)
def exams() -> pa.Table:
    """exam_code, name_fr, loinc (null when none), canonical_unit, aliases (normalised)."""
    path = data_path("labs_fr.csv")
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            if r["loinc"] and not re.fullmatch(r"[0-9]{1,7}-[0-9]", r["loinc"]):
                raise ValueError(f"{path}:{line}: LOINC code {r['loinc']!r} of {r['exam_code']} is "
                                 "malformed (digits, dash, check digit)")
            if unit_spelling(r["canonical_unit"]) is None:
                raise ValueError(f"{path}:{line}: canonical unit {r['canonical_unit']!r} of "
                                 f"{r['exam_code']} is not a known unit spelling in labs.py")
            aliases = [normalise(r["exam_code"])] + [normalise(a) for a in r["aliases"].split("|")]
            rows.append({"exam_code": r["exam_code"], "name_fr": r["name_fr"],
                         "loinc": r["loinc"] or None,
                         "canonical_unit": r["canonical_unit"],
                         "aliases": list(dict.fromkeys(a for a in aliases if a))})
    return pa.Table.from_pylist(rows)


# A misspelt exam name is corrected at this rapidfuzz ratio (0–100) or more ("ferritinne").
FUZZY_MIN_RATIO = 88
_NOISE = frozenset("dosage taux sang sanguin serique plasma plasmatique resultat resultats bilan "
                   "controle valeur mesure de du la le des".split())
_SCHEMA = pa.schema([("exam_code", pa.string()), ("loinc", pa.string()),
                     ("canonical_unit", pa.string()), ("matched", pa.bool_())])


@lru_cache(maxsize=1)
def _scanner() -> AliasScanner:
    path = data_path("labs_fr.csv")
    aliases: dict[str, tuple[str, str | None, str]] = {}
    for r in exams().to_pylist():
        for a in r["aliases"]:
            other = aliases.get(a)
            if other and other[0] != r["exam_code"]:
                raise ValueError(f"{path}: alias {a!r} names both {other[0]} and {r['exam_code']}; "
                                 "keep it on one exam only")
            aliases[a] = (r["exam_code"], r["loinc"], r["canonical_unit"])
    return AliasScanner(aliases, min_ratio=FUZZY_MIN_RATIO, noise=_NOISE)


def _match_one(label: str) -> tuple[str | None, str | None, str | None, bool]:
    found = _scanner().scan(normalise(label).split())
    if not found:
        return None, None, None, False
    return (*found[0][0], True)


_MATCHER = LabelMatcher(_match_one, _SCHEMA, (None, None, None, False))


def normalise_labels(labels: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
    """One row per input label: label, exam_code, loinc, canonical_unit, matched.

    `"I.N.R."`, `"inr (AVK)"` → INR / 6301-6; `"Hb A1c"` → HBA1C / 4548-4; `"SGPT"` → ALAT.
    Distinct labels are matched once and remembered.
    """
    return _MATCHER.table(labels)


# --------------------------------------------------------------------------- conversions


@lru_cache(maxsize=1)
def _rule_index() -> tuple[dict[tuple[str, str], int], np.ndarray, np.ndarray, list[str],
                           list[str]]:
    """(exam, unit) → rule id; factor and offset arrays; rule names; canonical units per rule id."""
    canon = dict(zip(exams()["exam_code"].to_pylist(), exams()["canonical_unit"].to_pylist()))
    index: dict[tuple[str, str], int] = {}
    factors, offsets, names, units = [], [], [], []
    for rule in RULES:
        if rule.exam_code not in canon:
            raise ValueError(f"conversion rule {rule.name} names unknown exam {rule.exam_code}")
        index[(rule.exam_code, unit_spelling(rule.unit))] = len(names)
        factors.append(rule.factor)
        offsets.append(rule.offset)
        names.append(rule.name)
        units.append(canon[rule.exam_code])
    for exam, unit in canon.items():  # already in the canonical unit: unchanged
        index[(exam, unit_spelling(unit))] = len(names)
        factors.append(1.0)
        offsets.append(0.0)
        names.append("identite")
        units.append(unit)
    # "G/L" typed for a mass concentration (glucose, lipids) is grams per litre in upper case.
    for (exam, unit), k in list(index.items()):
        if unit == "g/L" and exam not in _CELLS:
            index.setdefault((exam, "G/L"), k)
    return index, np.array(factors), np.array(offsets), names, units


def to_canonical(exam_code: pa.Array, value: pa.Array, unit: pa.Array
                 ) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Convert values to their exam's canonical unit.

    Returns (value, unit, rule): converted value and canonical unit with the rule's name
    (`"identite"` when the unit was already canonical, only its spelling normalised); the input
    value and unit unchanged with rule null when the exam or the unit is unknown. An INR without
    unit is canonical (INR has none).
    """
    exam_code, value, unit = (a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
                              for a in (exam_code, value, unit))
    if not (len(exam_code) == len(value) == len(unit)):
        raise ValueError(f"to_canonical needs arrays of one length, got {len(exam_code)}, "
                         f"{len(value)}, {len(unit)}")
    exam_code = as_label_array(exam_code)
    unit = as_label_array(unit)
    # A blank unit is a missing unit.
    blank = pc.equal(pc.utf8_trim_whitespace(unit), "")
    unit = pc.if_else(blank, pa.scalar(None, pa.string()), unit)
    value = pc.cast(value, pa.float64())
    index, factors, offsets, names, units = _rule_index()
    # An INR is dimensionless: a missing unit is its canonical unit, not an unknown one.
    unit_filled = pc.if_else(pc.and_(pc.equal(exam_code, "INR"), pc.is_null(unit)),
                             pa.scalar(UNITLESS), unit)
    pair = pc.binary_join_element_wise(exam_code, pc.fill_null(unit_filled, "\x00"), "\x1f")
    encoded = pc.dictionary_encode(pair)
    rule_of_unique = []
    for p in encoded.dictionary.to_pylist():
        exam, _, raw_unit = p.partition("\x1f")
        spelled = None if raw_unit == "\x00" else unit_spelling(raw_unit)
        rule_of_unique.append(index.get((exam, spelled), -1) if spelled else -1)
    rule_ids = np.asarray(rule_of_unique + [-1], dtype=np.int64)
    idx = encoded.indices.fill_null(len(rule_of_unique)).to_numpy(zero_copy_only=False)
    rid = rule_ids[idx]
    known = rid >= 0
    safe = np.where(known, rid, 0)
    raw = value.to_numpy(zero_copy_only=False).astype(np.float64)
    converted = np.where(known, raw * factors[safe] + offsets[safe], raw)
    out_value = pa.array(converted, type=pa.float64(),
                         mask=pc.is_null(value).to_numpy(zero_copy_only=False))
    name_arr = pa.array(names + [None], type=pa.string())
    unit_arr = pa.array(units + [None], type=pa.string())
    pick = pa.array(np.where(known, rid, len(names)))
    out_rule = name_arr.take(pick)
    out_unit = pc.if_else(pa.array(known), unit_arr.take(pick), unit)
    return out_value, out_unit, out_rule


def convert(exam_code: str, values: pa.Array | Sequence[float], from_unit: str,
            to_unit: str) -> pa.Array:
    """Convert values of one exam between any two units the rules know (through the canonical
    unit): `convert("HBA1C", [7.0], "%", "mmol/mol")` → `[53.0…]`. Raises ValueError for a unit
    with no rule — unlike `to_canonical`, a caller here asks for a specific conversion."""
    index, factors, offsets, names, units = _rule_index()

    def rule(unit: str) -> int:
        k = index.get((exam_code, unit_spelling(unit)))
        if k is None:
            raise ValueError(f"no conversion rule for exam {exam_code!r} in unit {unit!r}; "
                             "see labs.RULES for the units each exam accepts")
        return k

    src, dst = rule(from_unit), rule(to_unit)
    if isinstance(values, pa.Array):
        values = values.to_numpy(zero_copy_only=False)
    arr = np.asarray(values, dtype=np.float64)
    canonical = arr * factors[src] + offsets[src]
    return pa.array((canonical - offsets[dst]) / factors[dst], type=pa.float64())
