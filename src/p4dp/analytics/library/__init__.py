"""The indicator library: one module per dashboard theme, each exporting `INDICATORS`."""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from p4dp.analytics.model import Indicator

#: Theme modules in dashboard order, with the seed's tab names.
THEMES: dict[str, str] = {
    "general": "Données Générales des Consultations",
    "motifs": "Motifs",
    "surpoids": "Surpoids",
    "examen": "Examen",
    "vaccination": "Vaccination",
    "historique": "Historique",
    "dependance": "Dépendance",
    "polymedication": "Polymédication",
    "diabete": "Diabète",
    "depistage": "Dépistage cancer",
    "activite": "Tableau de bord individuel",
    "sentinelle": "Rapport d'activité sentinelle",
}


@lru_cache(maxsize=1)
def all_indicators() -> dict[str, Indicator]:
    out: dict[str, Indicator] = {}
    for theme in THEMES:
        for ind in import_module(f"p4dp.analytics.library.{theme}").INDICATORS:
            if ind.name in out:
                raise ValueError(f"indicator name {ind.name} defined twice")
            if ind.theme != theme:
                raise ValueError(f"indicator {ind.name} is in module {theme} but says theme "
                                 f"{ind.theme}")
            out[ind.name] = ind
    return out


def get(name: str) -> Indicator:
    inds = all_indicators()
    try:
        return inds[name]
    except KeyError:
        raise KeyError(f"indicateur inconnu : {name!r}. Voir `p4dp indicators list`.") from None


def by_theme(theme: str) -> tuple[Indicator, ...]:
    if theme not in THEMES:
        raise KeyError(f"thème inconnu : {theme!r} ({', '.join(THEMES)})")
    return tuple(i for i in all_indicators().values() if i.theme == theme)
