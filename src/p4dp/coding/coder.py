"""Free text -> one ICPC-2 code per field, with a confidence and an explanation.

Steps for one text: guard against bad input; normalise (case, accents, abbreviations, plurals);
correct misspelt words against the lexicon vocabulary (rapidfuzz); find lexicon terms inside each
problem segment ("HTA + DT2" is two segments), word order free; qualify them with edsnlp when a
negation / hypothesis / family cue is present; choose the main code by the field's priorities;
fall back to the statistical model when no term matched; abstain below ``min_confidence``.

Texts repeat a lot in GP records, so each distinct (field, text) is coded once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from p4dp.coding import french, icpc, measures
from p4dp.coding import lexicon as lexicon_mod
from p4dp.coding.normalise import SEP, BadText, Normalised, check_text, content_weight, normalise
from p4dp.coding.qualifiers import NONE, Qualifier, qualify

NO_CODE = "_"
FIELDS = ("reason", "result", "procedure")
#: French field names of the seed's logbook screen (Motif / Résultat / Procédure).
FIELD_ALIASES = {
    "reason": "reason", "motif": "reason", "rfe": "reason",
    "result": "result", "resultat": "result", "résultat": "result", "diagnostic": "result",
    "procedure": "procedure", "procédure": "procedure",
}

#: Confidence of a lexicon match that explains every content word of the text; a match that
#: explains part of it scales down to CONF_FLOOR (the text says something else too).
CONF_FULL = 0.99
CONF_FLOOR = 0.60
#: Multipliers: a word corrected by spelling tolerance, a term under hypothesis ("suspicion de"),
#: a generic process word given as reason or result ("examen", "suivi").
FUZZY_FACTOR = 0.92
HYPOTHESIS_FACTOR = 0.85
WEAK_FACTOR = 0.85
#: The statistical fallback's confidence is its similarity to the nearest lexicon text times
#: this factor: a text no term matched is never as sure as a matched term.
MODEL_FACTOR = 0.85
#: Spelling tolerance: Levenshtein distance allowed for a word of this many letters or more.
FUZZY_DISTANCE = ((10, 2), (5, 1))
FUZZY_MIN_LENGTH = 5

#: Process numbers too generic to be a reason or a result on their own ("examen", "bilan de
#: santé", "suivi", "bilan", "conseils", "consultation"): another term of the text is preferred.
WEAK_PROCESS = frozenset({30, 31, 34, 43, 45, 46, 48, 49, 58, 63, 64, 65, 66, 68, 69})
#: Tests and investigations (32-43): as a reason they yield to the complaint named beside them
#: ("ECBU négatif, brûlures urinaires" is U01); alone they are the reason ("frottis" X37).
TEST_PROCESS = frozenset(range(32, 44))
#: In the procedure field only the vaguest process words are generic; "résultats" and
#: "courrier" there are what the GP wrote, a letter sent rather than one received.
WEAK_PROCEDURE = frozenset({43, 46, 48, 61, 63, 64, 65, 68, 69})
#: Codes of malignant neoplasms (ICPC-2e rubric titles "Malignant neoplasm ..."), so that a
#: family history of cancer is coded A21 "Risk factor for malignancy".
MALIGNANT = frozenset(
    "A79 B72 B73 B74 D74 D75 D76 D77 F74 H75 L71 N74 R84 R85 S77 T71 U75 U76 U77 W72 X75 X76 "
    "X77 Y77 Y78".split()
)
#: Family history is a risk factor in ICPC-2e: K22 for cardiovascular disease, A21 for cancer,
#: A23 otherwise (inclusion criteria of K22, A21, A23: "family history of ...").
FAMILY_CARDIO, FAMILY_CANCER, FAMILY_OTHER = "K22", "A21", "A23"
FAMILY_RISK = frozenset({FAMILY_CARDIO, FAMILY_CANCER, FAMILY_OTHER})
#: Words of a term that are themselves negation cues ("pas de selles" is constipation).
_NEGATION_WORDS = frozenset({"pa", "pas", "san", "sans", "absence", "aucun", "aucune", "negatif",
                             "negative", "neg", "non", "rien"})
#: Family and hypothesis cue words: explained by the qualifier, not by a term.
_CONTEXT_WORDS = frozenset("""familial familiale familiaux familiales famille pere mere frere soeur
    fils fille parent parents grand oncle tante cousin cousine suspicion suspecte probable possible
    eventuel eventuelle hypothese doute evoque eliminer""".split())
#: Negation words that, inside the span of a multi-word term, cut it in two.
_SPLITTING_NEGATIONS = frozenset({"pas", "sans", "aucun", "aucune", "absence", "ni", "non"})
#: Words that make a family context a family history.
_HISTORY_WORDS = frozenset({"antecedent", "antecedents", "familial", "familiale", "familiaux",
                            "familiales", "famille", "hereditaire", "heredite"})
_RELATIVES = frozenset("""pere mere frere freres soeur soeurs parent parents grand grands oncle
    tante cousin cousine papa maman""".split())
#: How many words away a relative may be named from the term ("mère très diabétique").
FAMILY_WINDOW = 3
#: A relative named among the first words ("mère ...", "sa mère ...") makes the whole text
#: about that relative.
LEADING_RELATIVE = 2
#: Process numbers of a measurement (-31 partial examination "IMC", "TA"; -34 blood test
#: "HbA1c"; -39 physical function test): as a reason or result the value beside them decides.
MEASURE_PROCESS = frozenset({31, 34, 39})
#: Confidence of a problem read from a measured value past its threshold (measures.py).
MEASURE_CONFIDENCE = 0.9
#: Bound of the per-process cache (distinct texts); cleared when full.
CACHE_MAX = 500_000
#: Words that only name the act of prescribing or doing ("ordonnance", "injection", "fait"): in
#: the procedure field a more specific act named beside them is what was done ("injection
#: Gardasil" is the vaccination, "prescription ECBU" the urine culture).
GENERIC_ACT_WORDS = frozenset("""ordonnance ordonnances prescription prescrit prescrite
    injection renouvellement demande fait faite faire realise realisee rendez vous pris prise
    arret depistage""".split())
#: The bare word "arrêt": alone a sick note (-62), beside another term what is stopped.
STOP_KEYS = frozenset({"arret"})
#: Texts made only of these words carry no clinical or administrative content and get no code
#: (evaluation convention 10: "vu", "idem", "cs", "xxx", "RDV annulé", "pt pas venu").
EMPTY_WORDS = frozenset("""vu vue idem cf voir consultation consult rendez vous annule
    annulee annulation reporte reportee deplace decale decalee pas non venu venue pt patient
    patiente absent absente excuse excusee xxx xx x rien honore lapin ok""".split())
#: After "cf" / "voir" these words only point elsewhere ("cf courrier", "voir notes").
POINTER_WORDS = frozenset({"cf", "voir"})
POINTED_WORDS = frozenset("""courrier courriers note notes dossier compte rendu cr observation
    observations obs precedent precedente ci dessus dessous haut bas lettre mail
    consultation""".split())
#: The ICPC-2 code of a normal finding (A97 "No disease"): a conclusion, so in the reason and
#: procedure fields "RAS" carries nothing to code (evaluation convention 9).
NORMAL_FINDING = "A97"
#: Process number of a prescription (ICPC-2 "-50 Medication - prescription/request/renewal/
#: injection"): a drug named in the procedure field is this act.
PRESCRIPTION = 50
#: Process numbers of a visit with no stated purpose (-69 "consultation", "rendez-vous") and of
#: a follow-up visit (-63): an appointment given with a delay is a follow-up.
VISIT, FOLLOW_UP = 69, 63
#: ICPC-2 -66 "Referral to other provider/nurse/therapist/social worker" (dietitian, speech
#: therapist, physiotherapist, psychologist).
OTHER_PROVIDER = 66
#: ICPC-2 -67 "Referral to physician/specialist/clinic/hospital": in the procedure field an
#: appointment with a specialist ("RDV pneumo"), or the specialist named alone ("cardio"), is
#: the referral.
REFERRAL = 67
#: ICPC-2 -46 "Consultation with primary care provider": a call or talk ("avis téléphonique").
PRIMARY_CARE_TALK = 46
#: ICPC-2 -47 "Consultation with specialist" (an opinion asked: "avis cardiologue").
SPECIALIST_OPINION = 47
#: ICPC-2 -45 "Observation/health education/advice": the act when the GP writes that an act
#: is not done ("pas d'ATB", "pas de bilan": watchful waiting).
ABSTENTION = 45
#: How many words before an act a negation declines it ("pas de bilan", "pas d' ATB").
DECLINE_WINDOW = 2
#: ICPC-2 -68 "Other referrals NEC" (social services, associations): the act presumed for a
#: social problem (chapter Z) named alone in the procedure field ("aide à domicile").
SOCIAL_REFERRAL = 68
#: ICPC-2e -44 "Preventive immunization/medication" includes contraceptive medication: the
#: prescription of a contraceptive ("renouvellement pilule") is W44, not W50.
PREVENTIVE_MEDICATION = 44
#: Contraception rubrics (W10 postcoital, W11 oral, W12 intrauterine, W14 other) and the ATC
#: classes of contraceptives.
CONTRACEPTION = frozenset({"W10", "W11", "W12", "W14"})
CONTRACEPTIVE_ATC = ("G03A", "G02B")  # hormonal contraceptives; IUDs and vaginal rings
CONTRACEPTIVE_WORDS = frozenset({"pilule", "contraception", "contraceptif", "contraceptive",
                                 "oestroprogestatif", "oestroprogestative", "microprogestatif"})
#: ICPC-2 -61 "Result examination/test/record/letter from other provider": a letter or report
#: received. In French only the preposition tells it from the referral letter sent (-67):
#: "courrier du cardiologue" is received, "courrier au cardiologue" sent; normalisation drops
#: prepositions, so the rule reads the tokens.
LETTER_RECEIVED = 61
#: Acts addressed to a specialist (opinion -47, letter -61, referral -67): a general complaint
#: (chapter A) named beside the specialist takes the specialist's chapter.
SPECIALIST_ACTS = frozenset({SPECIALIST_OPINION, LETTER_RECEIVED, REFERRAL})
#: ICPC-2 -60 "Results tests/procedures": results read or explained to the patient.
RESULTS = 60
#: Words naming a letter, a report or a specialist's answer.
LETTER_WORDS = frozenset({"courrier", "courriers", "lettre", "cr", "compte", "rendu", "retour",
                          "reponse"})
#: A letter word followed by one of these is from someone ("courrier du cardiologue", "CR de
#: l'ORL"): "de" and its forms.
FROM_WORDS = frozenset({"du", "de", "des", "d"})
#: Words that address a letter to someone ("lettre de liaison pour le cardiologue").
TO_WORDS = frozenset({"pour", "au", "aux", "a", "vers"})
#: Words that say the letter came in ("reçu", "lu", "réception", "lecture").
RECEIVED_WORDS = frozenset({"recu", "recue", "recus", "lu", "lue", "reception", "lecture",
                            "retour", "reponse"})
#: Referral words with no addressee of their own ("orientation vers", "adressé à"): beside a
#: provider of -66 (dietitian, speech therapist) the referral is to that provider.
OPEN_REFERRAL_WORDS = frozenset({"orientation", "oriente", "orientee", "vers", "adresse",
                                 "adressee", "adressage"})
#: Words that put a condition to be ruled out ("éliminer une phlébite"): as a reason, the
#: hypothesis that brings the patient, though edsnlp reads them as a negation. In a result they
#: stay a negation (the conclusion is that it is not that), as do past participles ("éliminée").
RULE_OUT_WORDS = frozenset({"eliminer", "exclure", "ecarter"})
RULE_OUT_WINDOW = 3
#: Past participles that say the condition was ruled out ("phlébite éliminée"): a negation
#: edsnlp misses.
RULED_OUT_WORDS = frozenset({"elimine", "eliminee", "exclu", "exclue", "ecarte", "ecartee"})
#: Words before a relative that make the relative a companion ("vient avec sa mère pour une
#: toux", "accompagné de son père"), not the one who has the disease.
COMPANION_WORDS = frozenset({"avec", "accompagne", "accompagnee", "amene", "amenee", "par"})
#: Words after a leading relative that say the relative has the disease ("sœur avec maladie
#: cœliaque", "sa mère a eu un cancer"): a family context edsnlp's family pipe misses.
RELATIVE_HAS = frozenset({"a", "avait", "avec", "eu", "decede", "decedee", "mort", "morte",
                          "atteint", "atteinte"})
#: A partner named before a problem ("mari alcoolique", "épouse atteinte d'Alzheimer") makes
#: it the patient's social problem (ICPC-2e Z13 "Partner's behaviour problem" for the partner's
#: drinking or drug use, Z14 "Partner's illness problem" otherwise), not the patient's disease.
PARTNER_WORDS = frozenset({"mari", "epoux", "epouse", "conjoint", "conjointe", "compagnon",
                           "compagne", "concubin", "concubine"})
PARTNER_BEHAVIOUR, PARTNER_ILLNESS = "Z13", "Z14"
SUBSTANCE_ABUSE = frozenset({"P15", "P16", "P17", "P18", "P19"})
#: Pregnancy (W78), delivery and post-partum codes (W90, W92, W18) and the complaint codes
#: a symptom named beside them becomes (W29, W18); psychological and social complaints keep
#: their chapter (ICPC-2e W18 excludes puerperal depression P76).
PREGNANCY, PREGNANCY_SYMPTOM = "W78", "W29"
POSTPARTUM, POSTPARTUM_SYMPTOM = frozenset({"W90", "W92", "W18"}), "W18"
NOT_OBSTETRIC = frozenset({"W", "P", "Z"})
#: Acts whose letter a body site named does not give: a prescription ("crème pour les mains"
#: is a skin treatment, not a hand one), forms and social referrals (no body system).
NO_SITE_ACTS = frozenset({PRESCRIPTION}) | lexicon_mod.ADMINISTRATIVE
#: Confidence multiplier of a procedure inferred from a problem named alone in the procedure
#: field ("angine" typed as the act: its treatment, R50).
PRESUMED_ACT_FACTOR = 0.85


@dataclass(frozen=True)
class Coding:
    """The coder's answer for one text."""

    code: str
    confidence: float
    explanation: str
    others: tuple[str, ...] = field(default=())
    #: The code is a process code whose chapter letter is the default ``A`` (no problem named
    #: in the text): the batch step may give it the chapter of the row's other fields.
    default_chapter: bool = False

    @property
    def coded(self) -> bool:
        return self.code != NO_CODE


@dataclass
class _Match:
    entry: lexicon_mod.Entry
    positions: tuple[int, ...]
    fuzzy: bool
    qualifier: Qualifier = NONE
    code: str = ""
    segment: int = 0  # index of the problem segment ("ECG + bilan" : ECG is 0)

    @property
    def start(self) -> int:
        return min(self.positions)


def canonical_field(name: str) -> str:
    key = (name or "").strip().lower()
    if key not in FIELD_ALIASES:
        raise ValueError(f"champ inconnu {name!r} : attendu motif, resultat ou procedure "
                         "(ou reason, result, procedure)")
    return FIELD_ALIASES[key]


def abstain(reason: str) -> Coding:
    return Coding(NO_CODE, 0.0, f"Pas de code attribué : {reason}")


@lru_cache(maxsize=200_000)
def _correct(token: str) -> str | None:
    """Nearest lexicon word within the allowed edit distance, else the only lexicon word that
    sounds the same, or None."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA, Indel

    if len(token) < FUZZY_MIN_LENGTH or not token.isalpha():
        return None
    if french.is_french(token) or french.is_french(token + "s"):
        return None  # an ordinary French word, not a misspelt term ("palpite" is not "pulpite")
    limit = next(d for n, d in FUZZY_DISTANCE if len(token) >= n)
    by_length = _vocabulary_by_length()
    # Only words whose length is within the edit distance can be within it.
    vocab = [w for n in range(len(token) - limit, len(token) + limit + 1) for w in by_length.get(n, ())]
    # Optimal string alignment: a swap of two neighbouring letters ("lombalige") is one slip.
    hits = process.extract(token, vocab, scorer=OSA.distance, score_cutoff=limit, limit=8)
    if not hits:
        # Spelt as it sounds ("migrène", "excema", "astme"): the one lexicon word that sounds
        # the same.
        same = _vocabulary_by_sound().get(sound(token), ())
        return same[0] if len(same) == 1 else None
    # Among equally near words, prefer the one reached by adding or dropping letters (the
    # commonest typing slips: "hyprtension" is hypertension, not hypotension).
    return min(hits, key=lambda h: (h[1], Indel.distance(token, h[0]), h[0]))[0]


#: French spellings of one sound, applied in order by :func:`sound` (the usual confusions of
#: French spelling: "ph"/"f", "th"/"t", "ai"/"è", "au"/"o", "c"/"k"/"s", "x"/"ks", "y"/"i").
_SOUND_RULES = (("ph", "f"), ("th", "t"), ("rh", "r"), ("ch", "$"), ("qu", "k"), ("eau", "o"),
                ("au", "o"), ("ai", "e"), ("ei", "e"), ("ce", "se"), ("ci", "si"), ("cy", "si"),
                ("c", "k"), ("x", "ks"), ("z", "s"), ("y", "i"), ("h", ""))


@lru_cache(maxsize=200_000)
def sound(word: str) -> str:
    """A rough French phonetic key: spellings of one sound made equal, doubled letters and a
    silent final e/s/t/d dropped ("migrene" and "migraine" are both "migren")."""
    for a, b in _SOUND_RULES:
        word = word.replace(a, b)
    out = "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])
    return out[:-1] if len(out) > 3 and out[-1] in "estd" else out


@lru_cache(maxsize=1)
def _vocabulary_by_sound() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for words in _vocabulary_by_length().values():
        for w in words:
            out.setdefault(sound(w), []).append(w)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _vocabulary_by_length() -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    for k in sorted(lexicon_mod.load().vocabulary):
        if len(k) >= 3 and k.isalpha():
            out.setdefault(len(k), []).append(k)
    return {n: tuple(v) for n, v in out.items()}


def _find_matches(norm: Normalised, field_name: str) -> list[_Match]:
    lex = lexicon_mod.load()
    keys = list(norm.keys)
    fuzzy_at: set[int] = set()
    for i, k in enumerate(keys):
        if k and k != SEP and k not in lex.vocabulary:
            fixed = _correct(k)
            if fixed is not None:
                keys[i] = fixed
                fuzzy_at.add(i)
    matches: list[_Match] = []
    seg_start = 0
    for segment, end in enumerate([i for i, k in enumerate(keys) if k == SEP] + [len(keys)]):
        positions: dict[str, int] = {}
        for i in range(seg_start, end):
            if keys[i] and keys[i] not in positions:
                positions[keys[i]] = i
        seg_start = end + 1
        if not positions:
            continue
        candidates: set[int] = set()
        for k in positions:
            candidates.update(lex.index.get(k, ()))
        found = [lex.entries[c] for c in candidates if lex.entries[c].keys <= positions.keys()]
        placed = {e.rank: tuple(sorted(positions[k] for k in e.keys)) for e in found}
        prefs = {e.rank: _field_preference(e.code, field_name, e.weak) for e in found}
        acts = [e.keys for e in found if prefs[e.rank] == 0]

        def order(e: lexicon_mod.Entry) -> tuple:
            pref = prefs[e.rank]
            spread = placed[e.rank][-1] - placed[e.rank][0]  # contiguous words first
            if field_name == "procedure":
                # A procedure text names an act first: "TDR angine négatif" is the test (R33),
                # "suivi de grossesse" the follow-up (W63) rather than the pregnancy term that
                # holds the word; a generic act word ("test", "demande") does not outrank a
                # longer act, but a generic act that holds a whole specific one is the more
                # precise reading ("CR hospitalisation" is the report, not the admission).
                generic = pref == 1 and not any(k < e.keys for k in acts)
                return pref == 2, generic, -e.length, pref, spread, e.rank
            return -e.length, pref, spread, e.rank

        found.sort(key=order)
        used: set[int] = set()
        for e in found:
            pos = placed[e.rank]
            if used.intersection(pos):
                continue
            if len(pos) > 1 and any(norm.tokens[i] in _SPLITTING_NEGATIONS and keys[i] not in e.keys
                                    for i in range(pos[0] + 1, pos[-1])):
                continue  # "lombalgie sans irradiation" is not "lombalgie avec irradiation"
            used.update(pos)
            matches.append(_Match(e, pos, bool(fuzzy_at.intersection(pos)), segment=segment))
    matches.sort(key=lambda m: m.start)
    return matches


def _is_weak(code: str) -> bool:
    return icpc.component(code) == "process" and icpc.number(code) in WEAK_PROCESS


def _field_preference(code: str, field_name: str, weak: bool = False) -> int:
    """Rank of a code for a field (lower is preferred). ``weak``: a generic lexicon term
    ("chute", a drug name, "conseils") that yields to any other term in reasons and results."""
    comp = icpc.component(code)
    if field_name == "procedure":
        # The "~" weak mark is for reasons and results: a drug name is the act itself here.
        if comp != "process":
            return 2
        return 1 if icpc.number(code) in WEAK_PROCEDURE else 0
    weak = weak or _is_weak(code)
    if field_name == "result":
        if comp == "process":
            return 4 if weak else 2
        if weak:
            return 3
        return 0 if comp == "diagnosis" else 1
    # reason: a concrete process ("renouvellement", "certificat", "vaccin", "résultats") names
    # the reason for the visit; a test yields to the problem named, and a generic act
    # ("examen", "suivi", "RDV") to both ("RDV pour frottis" is the smear, X37).
    if weak:
        return 3
    if comp == "process":
        return 2 if icpc.number(code) in TEST_PROCESS else 0
    return 1


def _family_near(norm: Normalised, m: _Match) -> bool:
    """edsnlp's family context, kept when the text speaks of history ("antécédent familial")
    or a relative is named next to the term ("mère diabétique", "diabète chez la mère");
    "oublie tout selon sa fille" is the patient's own complaint."""
    if any(t in _HISTORY_WORDS for t in norm.tokens):
        return True
    if any(t in _RELATIVES for t in norm.tokens[:LEADING_RELATIVE]):
        return True  # "mère décédée d'un cancer du côlon": the text is about the relative
    first, last = min(m.positions), max(m.positions)
    near = range(max(0, first - FAMILY_WINDOW), min(len(norm.tokens), last + FAMILY_WINDOW + 1))
    return any(norm.tokens[i] in _RELATIVES and not _companion(norm, i) for i in near)


def _companion(norm: Normalised, i: int) -> bool:
    """The relative at token ``i`` came with the patient ("avec sa mère", "accompagné de
    son père")."""
    return any(t in COMPANION_WORDS for t in norm.tokens[max(0, i - 3):i])


def _partner_has(norm: Normalised, m: _Match) -> bool:
    """The partner is named among the first words or next to the term ("alcoolisme du mari"),
    and did not only come along ("vient avec son mari pour une toux")."""
    first, last = min(m.positions), max(m.positions)
    n = len(norm.tokens)
    near = set(range(min(n, LEADING_RELATIVE))) | set(range(max(0, first - FAMILY_WINDOW), first))
    near |= set(range(last + 1, min(n, last + FAMILY_WINDOW + 1)))
    return any(norm.tokens[i] in PARTNER_WORDS and not _companion(norm, i) for i in near)


def _family_applies(m: _Match, code: str) -> bool:
    """A family context turns a disease into a risk factor, except for social problems (a
    relative's death or illness is the patient's own problem, chapter Z), process codes and
    terms written for the family context ("antécédent familial de cancer du sein")."""
    return (icpc.component(code) != "process" and code[0] != "Z"
            and code not in (FAMILY_CANCER, FAMILY_CARDIO, FAMILY_OTHER)
            and not (m.entry.keys & _CONTEXT_WORDS))


def family_code(code: str) -> str:
    """ICPC-2 risk-factor code for a family history of the disease ``code``."""
    if code in MALIGNANT:
        return FAMILY_CANCER
    if code.startswith("K") and icpc.component(code) != "process":
        return FAMILY_CARDIO
    return FAMILY_OTHER


def _coverage(norm: Normalised, matches: list[_Match]) -> float:
    """Share of the content words of the text that the matched terms (or the qualifier cue
    words) explain."""
    covered = {i for m in matches for i in m.positions}
    total = explained = 0.0
    for i, (k, t) in enumerate(zip(norm.keys, norm.tokens)):
        w = content_weight(k)
        if not w:
            continue
        total += w
        if i in covered or t in _NEGATION_WORDS or t in _CONTEXT_WORDS:
            explained += w
    return explained / total if total else 1.0


def _span(norm: Normalised, m: _Match) -> tuple[int, int]:
    first, last = min(m.positions), max(m.positions)
    return norm.offsets[first], norm.offsets[last] + len(norm.tokens[last])


def _describe(m: _Match) -> str:
    tags = []
    if m.qualifier.family:
        tags.append("contexte familial")
    if m.qualifier.hypothesis:
        tags.append("hypothèse")
    if m.fuzzy:
        tags.append("orthographe corrigée")
    suffix = f" ({', '.join(tags)})" if tags else ""
    return f"{m.code} « {m.entry.term} »{suffix}"


def _stemmed(words: frozenset[str]) -> frozenset[str]:
    from p4dp.coding.normalise import stem

    return frozenset(words | {stem(w) for w in words})


_GENERIC_KEYS = _stemmed(GENERIC_ACT_WORDS)
_EMPTY_KEYS = _stemmed(EMPTY_WORDS)
_POINTED_KEYS = _stemmed(POINTED_WORDS)
_OPEN_REFERRAL_KEYS = _stemmed(OPEN_REFERRAL_WORDS)


def _is_empty(norm: Normalised) -> bool:
    """The text says nothing to code: only "vu", "idem", "RDV annulé" ... or a pointer to
    another document ("cf courrier", "voir notes")."""
    if any(k.isdigit() for k in norm.keys):
        return False  # a delay or a dose is content ("RDV dans 3 mois" is a follow-up)
    words = [k for k in norm.keys if k and k != SEP]
    if not words:
        return True
    if all(k in _EMPTY_KEYS for k in words):
        return True
    return words[0] in POINTER_WORDS and all(k in _POINTED_KEYS or k in _EMPTY_KEYS
                                             for k in words[1:])


def _declined(norm: Normalised, m: _Match) -> bool:
    """A negation word just before the act, in its segment ("pas d'ATB", "sans bilan")."""
    for i in range(m.start - 1, max(-1, m.start - 1 - DECLINE_WINDOW), -1):
        if norm.keys[i] == SEP:
            return False
        if norm.tokens[i] in _SPLITTING_NEGATIONS or norm.tokens[i] == "non":
            return True
    return False


def _is_generic_act(m: _Match) -> bool:
    return m.entry.keys <= _GENERIC_KEYS


def _is_request(m: _Match) -> bool:
    """A bare request or visit ("demande", "RDV"): beside it "arrêt" is still the sick note
    ("demande un arrêt"), not a thing stopped."""
    return _is_generic_act(m) or (icpc.component(m.entry.code) == "process"
                                  and icpc.number(m.entry.code) == VISIT)


@lru_cache(maxsize=1)
def _drug_aliases() -> dict[str, frozenset[str]]:
    """Substance -> its normalised aliases (the terminology package's drug table)."""
    from p4dp.terminology.drugs import substances

    return {r["substance"]: frozenset(r["aliases"]) for r in substances().to_pylist()}


@lru_cache(maxsize=50_000)
def _named_drug(text: str) -> str | None:
    """ATC code of a drug of the terminology package named in the text ("Zyrtec", "Kardegic
    75"), by one of its aliases written out: the package's fuzzy match alone would read
    "moral" as "Mopral" in a complaint the lexicon does not know."""
    from p4dp.terminology._text import normalise as drug_normalise
    from p4dp.terminology.drugs import _match_one

    try:
        substance, atc, found = _match_one(text)
        if not found:
            return None
        padded = f" {drug_normalise(text)} "
        if any(f" {alias} " in padded for alias in _drug_aliases().get(substance, ())):
            return atc or ""
        return None
    except Exception:  # noqa: BLE001 - the drug table is optional for coding
        return None


def _names_drug(text: str) -> bool:
    return _named_drug(text) is not None


def _drug_chapter(text: str) -> str | None:
    """Chapter of the prescription of the drug named, by its ATC class ("Kardegic" K)."""
    atc = _named_drug(text)
    return lexicon_mod.atc_chapter(atc) if atc else None


def _letter_received(norm: Normalised) -> bool:
    """A letter or report from someone: "courrier du cardiologue", "CR de l'ORL lu"."""
    tokens = norm.tokens
    for i, t in enumerate(tokens):
        if t in LETTER_WORDS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if nxt == "rendu":  # "compte rendu du ..."
                nxt = tokens[i + 2] if i + 2 < len(tokens) else ""
            if nxt in FROM_WORDS and not any(w in TO_WORDS for w in tokens[i + 1:]):
                return True  # "courrier du cardiologue", not "lettre de liaison pour le ..."
    return (any(t in RECEIVED_WORDS for t in tokens)
            and any(t in LETTER_WORDS or t == "avis" for t in tokens))


def _after_non(norm: Normalised, m: _Match) -> bool:
    """The term follows "non" ("non cardiaque", "non fumeur"): edsnlp misses a postposed
    "non" that negates an adjective."""
    return m.start > 0 and norm.tokens[m.start - 1] == "non"


def _ruled_out(norm: Normalised, m: _Match, words: frozenset[str] = RULE_OUT_WORDS) -> bool:
    """A ruling-out word just before the term ("éliminer une phlébite") or after it
    ("phlébite à éliminer", with ``RULED_OUT_WORDS`` "phlébite éliminée")."""
    first, last = min(m.positions), max(m.positions)
    near = range(max(0, first - RULE_OUT_WINDOW),
                 min(len(norm.tokens), last + RULE_OUT_WINDOW + 1))
    return any(norm.tokens[i] in words for i in near)


def _relative_has(norm: Normalised, m: _Match) -> bool:
    """The text opens on a relative who has the disease ("sœur avec maladie cœliaque", "sa mère
    a eu un cancer du côlon", "inquiète car sa mère a eu ...")."""
    tokens = norm.tokens
    for i in range(min(m.positions)):
        if tokens[i] in _RELATIVES and i + 1 < len(tokens) and tokens[i + 1] in RELATIVE_HAS:
            return True
    return False


def _specialist(norm: Normalised) -> str | None:
    """Chapter letter of the first specialist named ("cardio" K, data/specialties.tsv)."""
    spec = lexicon_mod.specialties()
    return next((spec[k] for k in norm.keys if k in spec), None)


def _obstetric_symptom(code: str, named: set[str]) -> str | None:
    """A complaint of another body system named with the pregnancy is a pregnancy complaint
    (ICPC-2e W29 "Pregnancy symptom/complaint other": "lombalgies de grossesse"), with the
    delivery or the post-partum a post-partum one (W18: "périnée douloureux après
    l'accouchement"); ``combinations.tsv`` names the more precise pairs first (W05, W03, W17)."""
    if icpc.component(code) != "symptom" or code[0] in NOT_OBSTETRIC:
        return None
    if named & POSTPARTUM:
        return POSTPARTUM_SYMPTOM
    if PREGNANCY in named:
        return PREGNANCY_SYMPTOM
    return None


def _site_letter(norm: Normalised) -> str | None:
    """Chapter letter of the first body site named ("épaule" L, "oeil" F, data/sites.tsv)."""
    sites = lexicon_mod.site_letters()
    return next((sites[k] for k in norm.keys if k in sites), None)


def _names_only_a_measure(result: Coding) -> bool:
    """The words gave no code, or only the measurement ("IMC" T31, "HbA1c" T34): the value
    written beside them may name the problem (``measures.finding``)."""
    return not result.coded or (icpc.component(result.code) == "process"
                                and icpc.number(result.code) in MEASURE_PROCESS)


def _contraceptive(text: str, codes: Iterable[str]) -> bool:
    """The medication is a contraceptive: a contraception problem or word named ("pilule",
    "patch contraceptif"), or a drug of the hormonal contraceptive ATC class."""
    return (any(c in CONTRACEPTION for c in codes)
            or not CONTRACEPTIVE_WORDS.isdisjoint(text.split())
            or (_named_drug(text) or "").startswith(CONTRACEPTIVE_ATC))


def _prescription(chapter: str | None, why: str, confidence: float, text: str = "",
                  problems: Iterable[str] = ()) -> Coding:
    """The prescription -50 with the chapter of the problem named, else of the drug's ATC class;
    a contraceptive is preventive medication (W44)."""
    if _contraceptive(text, problems):
        return Coding(f"W{PREVENTIVE_MEDICATION}", round(confidence, 3), why)
    chapter = chapter or (_drug_chapter(text) if text else None)
    return Coding(f"{chapter or 'A'}{PRESCRIPTION}", round(confidence, 3), why,
                  default_chapter=chapter is None)


def code_normalised(norm: Normalised, field_name: str, min_confidence: float) -> Coding:
    """Code one normalised text for a field (``reason``, ``result`` or ``procedure``)."""
    if _is_empty(norm):
        return abstain("aucun contenu clinique ni administratif (texte vide de sens, renvoi)")
    matches = _find_matches(norm, field_name)
    if matches and norm.cues:
        spans = [_span(norm, m) for m in matches]
        for m, q in zip(matches, qualify(norm.clean, spans)):
            if not q.negated and _after_non(norm, m):
                q = Qualifier(True, q.hypothesis, q.family)  # "douleur thoracique non cardiaque"
            if m.entry.keys & _NEGATION_WORDS:
                q = Qualifier(False, q.hypothesis, q.family)
            if field_name == "procedure" and icpc.component(m.entry.code) == "process":
                q = Qualifier(False, q.hypothesis, False)  # "test négatif" is still a test done
            if q.family and not _family_near(norm, m):
                q = Qualifier(q.negated, q.hypothesis, False)
            if not q.family and _relative_has(norm, m):
                q = Qualifier(q.negated, q.hypothesis, True)
            if q.negated and field_name == "reason" and _ruled_out(norm, m):
                q = Qualifier(False, True, q.family)
            elif not q.negated and _ruled_out(norm, m, RULED_OUT_WORDS):
                q = Qualifier(True, False, q.family)
            m.qualifier = q
    if field_name != "procedure":
        # "arrêt de la contraception pour projet de grossesse": a bare "arrêt" beside another
        # term is that thing stopped, not a sick note
        matches = [m for m in matches if m.entry.keys != STOP_KEYS
                   or not any(o.segment == m.segment and not _is_request(o)
                              for o in matches if o is not m)]
    live = [m for m in matches if not m.qualifier.negated]
    negated = [m for m in matches if m.qualifier.negated]
    declined: list[_Match] = []
    if field_name == "procedure":
        # "pas d'ATB", "pas de bilan": an act written as not done is not that act (a result
        # after it, "test négatif", still is).
        declined = [m for m in live if icpc.component(m.entry.code) == "process"
                    and _declined(norm, m)]
        live = [m for m in live if m not in declined]
    if not matches:
        # A drug named alone is its prescription in every field ("Zyrtec" as a reason is a
        # request for it, like the drug names of the lexicon).
        if _names_drug(norm.clean):
            return _prescription(None, "médicament nommé : prescription",
                                 CONF_FULL * FUZZY_FACTOR, norm.clean)
        specialist = _specialist(norm)
        if field_name == "procedure" and specialist is not None:
            return Coding(f"{specialist}{REFERRAL}", round(CONF_FULL * PRESUMED_ACT_FACTOR, 3),
                          "spécialiste nommé seul : orientation présumée")
        return _model_coding(norm, min_confidence, process_only=field_name == "procedure")
    if declined and not any(icpc.component(m.entry.code) == "process" for m in live):
        letter = next((m.entry.code[0] for m in live if not m.entry.code.startswith("-")), "A")
        terms = ", ".join(f"« {m.entry.term} »" for m in declined)
        return Coding(f"{letter}{ABSTENTION}", CONF_FULL * WEAK_FACTOR,
                      f"acte écarté ({terms}) : abstention, surveillance",
                      default_chapter=letter == "A")
    if not live:
        terms = ", ".join(f"« {m.entry.term} »" for m in negated)
        return abstain(f"terme nié ({terms})")
    # A process code without its letter takes the chapter of the first problem named.
    chapter = next((m.entry.code[0] for m in live
                    if icpc.component(m.entry.code) != "process" and not m.entry.code.startswith("-")),
                   None)
    specialist = _specialist(norm)
    if chapter is None:  # "avis cardiologue": the specialist named gives the body system
        chapter = specialist
    # "résultats ECBU", "CR échographie abdominale": the result of a test or a report takes
    # the letter of the test named (U33, D41).
    test_letter = next((m.entry.code[0] if not m.entry.code.startswith("-") else m.entry.letter
                        for m in live if icpc.component(m.entry.code) == "process"
                        and (m.entry.letter or not m.entry.code.startswith("-"))), None)
    # "dosage TSH", "ionogramme créatinine", "renouvellement antihypertenseur": the same act
    # named again with its body system gives the generic wording that letter.
    act_letters: dict[int, str] = {}
    for m in live:
        if icpc.component(m.entry.code) == "process":
            own_letter = m.entry.letter if m.entry.code.startswith("-") else m.entry.code[0]
            if own_letter:
                act_letters.setdefault(icpc.number(m.entry.code), own_letter)
    site = _site_letter(norm)
    for m in live:
        code = m.entry.code
        if code.startswith("-"):
            own = test_letter if icpc.number(code) in (RESULTS, LETTER_RECEIVED) else None
            if own is None and chapter is None and icpc.number(code) == PRESCRIPTION:
                own = _drug_chapter(norm.clean)  # "Kardegic", "renouvellement Ventoline"
            if chapter == "A" and icpc.number(code) in SPECIALIST_ACTS and specialist:
                # "adressé au cardio pour douleur thoracique": a general complaint (A) sent to
                # a specialist is the specialist's body system
                letter = specialist
            else:
                letter = (chapter or m.entry.letter or act_letters.get(icpc.number(code)) or own
                          or (site if icpc.number(code) not in NO_SITE_ACTS else None) or "A")
            if letter == lexicon_mod.SOCIAL and icpc.number(code) in lexicon_mod.ADMINISTRATIVE:
                letter = "A"  # "certificat coups et blessures": a form, no body system
            code = letter + code[1:]
        if m.qualifier.family and _family_applies(m, code):
            code = family_code(code)
        elif (field_name != "procedure" and icpc.component(code) != "process"
              and code[0] != lexicon_mod.SOCIAL and _partner_has(norm, m)):
            code = PARTNER_BEHAVIOUR if code in SUBSTANCE_ABUSE else PARTNER_ILLNESS
        m.code = code
    family_risk = any(m.qualifier.family and m.code in FAMILY_RISK for m in live)
    specific_risk = any(m.qualifier.family and m.code in (FAMILY_CARDIO, FAMILY_CANCER)
                        for m in live)

    def rank(m: _Match) -> tuple[int, ...]:
        pref = _field_preference(m.code, field_name, m.entry.weak)
        if field_name != "procedure" and family_risk and (
                m.code[0] == "Z" or (m.code == FAMILY_OTHER and specific_risk)):
            # "mère décédée d'un cancer du côlon": the family risk A21, not the loss; "mort
            # d'une crise cardiaque": the cardiovascular risk K22, not the general one
            pref = 3
        if field_name != "procedure" and m.fuzzy and icpc.component(m.code) == "process":
            pref = max(pref, 2)  # a corrected word is a weak reason to call the visit an act
        if field_name == "procedure":
            # The first act written is the main one ("ECG + bilan lipidique" is the ECG), but
            # a specific act beats a generic one ("ordonnance de kiné", "injection Gardasil").
            open_referral = (icpc.number(m.code) == REFERRAL
                             and m.entry.keys <= _OPEN_REFERRAL_KEYS
                             and any(icpc.number(o.code) == OTHER_PROVIDER for o in live))
            return pref, _is_generic_act(m) or open_referral, m.segment, -m.entry.length, m.start
        # among equally generic terms, a named test beats the bare request ("demande de
        # bilan lipidique" is T34, not the visit -69)
        return pref, _is_generic_act(m), 0, 0, m.start

    ranked = sorted(live, key=rank)
    main = ranked[0]
    if icpc.number(main.code) == VISIT and icpc.component(main.code) == "process":
        if field_name == "procedure" and _specialist(norm) is not None:
            main.code = main.code[0] + f"{REFERRAL}"  # "RDV pneumo": the referral
        elif any(k.isdigit() for k in norm.keys):
            # "RDV dans 3 mois", "cs à 15 jours": a dated appointment is a follow-up visit.
            main.code = main.code[0] + f"{FOLLOW_UP}"
    if field_name == "procedure" and icpc.component(main.code) == "process":
        received = _letter_received(norm)
        report = next((m for m in live if icpc.number(m.code) == LETTER_RECEIVED), None)
        read = next((m for m in live if icpc.number(m.code) == RESULTS), None)
        if received and report is not None and report is not main:
            # "CR de l'IRM reçu": the report read, not the imaging
            main, ranked = report, [report] + [m for m in ranked if m is not report]
        elif read is not None and read is not main and icpc.number(main.code) in TEST_PROCESS:
            # "résultats de l'IRM du genou commentés": the results read (L60), not the test
            main, ranked = read, [read] + [m for m in ranked if m is not read]
        if received and icpc.number(main.code) in (REFERRAL, SPECIALIST_OPINION, LETTER_RECEIVED):
            # "courrier du cardiologue", "retour de l'avis gastro": a letter received, not sent
            main.code = f"{chapter or main.code[0]}{LETTER_RECEIVED}"
        elif (icpc.number(main.code) == REFERRAL and _specialist(norm) is not None
              and any(icpc.number(m.code) == PRIMARY_CARE_TALK for m in live)):
            # "avis téléphonique du néphrologue": a talk with the specialist (-47), no referral
            main.code = f"{main.code[0]}{SPECIALIST_OPINION}"
    if field_name != "result" and all(m.code == NORMAL_FINDING for m in live):
        return abstain("constat normal (« RAS ») : une conclusion, pas un motif ni un acte")
    if field_name == "procedure" and icpc.component(main.code) != "process":
        # Convention: a procedure is always an act. A drug named is its prescription; a
        # problem named alone stands for its treatment ("angine" typed as the act: R50).
        if _names_drug(norm.clean):
            return _prescription(chapter, f"médicament nommé : prescription | {_describe(main)}",
                                 CONF_FULL * FUZZY_FACTOR, norm.clean, [m.code for m in live])
        letter = None if main.code in FAMILY_RISK else main.code[0]
        conf = CONF_FLOOR + (CONF_FULL - CONF_FLOOR) * _coverage(norm, matches)
        conf *= PRESUMED_ACT_FACTOR
        if conf < min_confidence:
            return abstain(f"aucun acte nommé ({_describe(main)}), confiance {conf:.2f}")
        if letter == lexicon_mod.SOCIAL:
            # A social problem is not treated with drugs: the act is the social referral.
            why = f"aucun acte nommé : orientation sociale présumée pour {_describe(main)}"
            return Coding(f"A{SOCIAL_REFERRAL}", round(conf, 3), why)
        why = f"aucun acte nommé : traitement présumé de {_describe(main)}"
        return _prescription(letter, why, conf, norm.clean, [m.code for m in live])
    named = {m.code for m in ranked[1:]}
    better = next((c for (a, b), c in lexicon_mod.combinations().items() if a == main.code and b in named), None)
    if better is None and field_name != "procedure":
        better = _obstetric_symptom(main.code, named)
    confidence = CONF_FLOOR + (CONF_FULL - CONF_FLOOR) * _coverage(norm, matches)
    if main.fuzzy:
        confidence *= FUZZY_FACTOR
    if main.qualifier.hypothesis:
        confidence *= HYPOTHESIS_FACTOR
    if field_name != "procedure" and _is_weak(main.code):
        confidence *= WEAK_FACTOR
    main_code = better or main.code
    contraceptive = (field_name == "procedure" and icpc.component(main_code) == "process"
                     and icpc.number(main_code) == PRESCRIPTION
                     and _contraceptive(norm.clean, [m.code for m in live]))
    if contraceptive:
        main_code = f"W{PREVENTIVE_MEDICATION}"  # "renouvellement pilule": ICPC-2e -44
    others = tuple(dict.fromkeys(m.code for m in ranked if m.code != main_code))
    parts = [f"terme {_describe(main)}"]
    if better:
        parts.append(f"précisé en {better} par l'autre terme")
    if contraceptive:
        parts.append(f"contraceptif : médication préventive {main_code}")
    rest = [_describe(m) for m in ranked[1:]]
    if rest:
        parts.append("autres : " + " ; ".join(rest))
    if negated:
        parts.append("nié : " + ", ".join(f"« {m.entry.term} »" for m in negated))
    explanation = " | ".join(parts)
    confidence = round(min(max(confidence, 0.0), 1.0), 3)
    if confidence < min_confidence:
        return Coding(NO_CODE, confidence, f"Pas de code attribué : confiance {confidence:.2f} "
                      f"< {min_confidence:.2f} ({explanation})", others)
    return Coding(main_code, confidence, explanation, others,
                  default_chapter=chapter is None and main.entry.code.startswith("-")
                  and not main.entry.letter and icpc.number(main.entry.code) not in act_letters
                  and main.code[0] == "A")


def _model_coding(norm: Normalised, min_confidence: float, process_only: bool = False) -> Coding:
    text = " ".join(k for k in norm.keys if k and k != SEP and not k.isdigit())
    if len(text.replace(" ", "")) < 3:
        return abstain("aucun terme médical reconnu")
    from p4dp.coding.model import get_model

    pred = get_model().predict([text], process_only=process_only)[0]
    default = pred.code.startswith("-")
    code = "A" + pred.code[1:] if default else pred.code
    confidence = round(min(1.0, MODEL_FACTOR * pred.similarity), 3)
    explanation = f"modèle n-grammes de caractères : {code} (similarité {pred.similarity:.2f})"
    if confidence < min_confidence:
        return Coding(NO_CODE, confidence, f"Pas de code attribué : aucun terme reconnu, "
                      f"confiance du modèle {confidence:.2f} < {min_confidence:.2f} ({explanation})")
    return Coding(code, confidence, explanation, default_chapter=default)


class Coder:
    """Codes texts of one field with a per-process cache of distinct texts."""

    def __init__(self, min_confidence: float | None = None) -> None:
        if min_confidence is None:
            from p4dp.settings import get_settings

            min_confidence = get_settings().coding_min_confidence
        self.min_confidence = float(min_confidence)
        self._raw: dict[tuple[str, str], Coding] = {}
        self._norm: dict[tuple[str, str], Coding] = {}

    def code(self, text: object, field_name: str = "reason") -> Coding:
        field_name = canonical_field(field_name)
        key = (field_name, text) if isinstance(text, str) else None
        if key is not None:
            hit = self._raw.get(key)
            if hit is not None:
                return hit
        if isinstance(text, str) and text.startswith(_BAD_MARKER):
            return abstain(text[len(_BAD_MARKER):])
        try:
            checked = check_text(text)
            norm = normalise(checked)
        except BadText as e:
            return abstain(e.reason)
        if not norm.key:
            result = abstain("aucun mot porteur de sens")
        else:
            nkey = (field_name, norm.clean)
            result = self._norm.get(nkey)
            if result is None:
                try:
                    result = code_normalised(norm, field_name, self.min_confidence)
                except Exception as e:  # noqa: BLE001 - one text must never stop a batch
                    result = abstain(f"erreur interne du codeur ({type(e).__name__}: {e})")
                if len(self._norm) > CACHE_MAX:
                    self._norm.clear()
                self._norm[nkey] = result
            if field_name != "procedure" and _names_only_a_measure(result):
                found = measures.finding(checked)
                if found is not None:
                    result = Coding(found.code, MEASURE_CONFIDENCE, f"valeur mesurée : {found.explanation}")
        if key is not None:
            if len(self._raw) > CACHE_MAX:
                self._raw.clear()
            self._raw[key] = result
        return result

    def code_many(self, texts: Iterable[object], field_name: str) -> list[Coding]:
        return [self.code(t, field_name) for t in texts]


@lru_cache(maxsize=8)
def default_coder(min_confidence: float | None = None) -> Coder:
    return Coder(min_confidence)


CODING_SCHEMA = pa.schema([
    pa.field("code", pa.string()),
    pa.field("confidence", pa.float64()),
    pa.field("explanation", pa.string()),
])


def code_texts(texts: pa.Array | pa.ChunkedArray | Sequence[str | None], field: str,
               min_confidence: float | None = None) -> pa.Table:
    """Code a column of texts of one field; returns ``code, confidence, explanation`` per row.

    Distinct texts are coded once (Arrow dictionary encoding), then spread back to the rows;
    null texts give null code and confidence, explanation "texte absent".
    """
    field_name = canonical_field(field)
    coder = default_coder(min_confidence)
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = _to_arrow_strings(texts)
    if pa.types.is_dictionary(texts.type):
        texts = texts.cast(texts.type.value_type)
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = _to_arrow_strings(texts.to_pylist())
    encoded = pc.dictionary_encode(texts)
    uniques = encoded.dictionary.to_pylist()
    results = [coder.code(t, field_name) for t in uniques]
    codes = pa.array([r.code for r in results], pa.string())
    confs = pa.array([r.confidence for r in results], pa.float64())
    expls = pa.array([r.explanation for r in results], pa.string())
    idx = encoded.indices
    return pa.table({
        "code": pc.take(codes, idx),
        "confidence": pc.take(confs, idx),
        "explanation": pc.fill_null(pc.take(expls, idx), "Pas de code attribué : texte absent"),
    }, schema=CODING_SCHEMA)


_BAD_MARKER = "\x00bad:"


def _to_arrow_strings(values: Iterable[object]) -> pa.Array:
    """Strings kept; bytes and other objects checked now, bad ones carried as a marker string
    whose reason the coder reports (Arrow columns hold only text)."""
    out: list[str | None] = []
    for v in values:
        if v is None or isinstance(v, str):
            out.append(v)
            continue
        try:
            text = check_text(v)
            out.append(text)
        except BadText as e:
            out.append(_BAD_MARKER + e.reason)
    return pa.array(out, pa.string())
