"""Named sizes of the synthetic network (DESIGN.md, "Scale targets"; the seed's PRIMEGE figures)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    practices: int
    gps: int
    patients: int
    #: Target number of encounters over 2000 → today, ILI epidemics included.
    encounters: int
    #: INSEE region codes the practices are spread over, in order of preference.
    regions: tuple[str, ...]


# PRIMEGE ran in two regions, Normandie (28) and PACA (93), with 70 GPs, 180,000 patient records
# and 3.5 million consultations (the seed). The smaller presets keep the seed's ratio of about
# 20 encounters per patient record.
PRESETS: dict[str, Preset] = {
    "tiny": Preset("tiny", 3, 6, 2_000, 40_000, ("93", "28", "11")),
    "demo": Preset("demo", 12, 30, 30_000, 600_000, ("93", "28", "11", "84", "76", "32")),
    "primege": Preset("primege", 40, 70, 180_000, 3_500_000, ("28", "93")),
    "national": Preset(
        "national", 800, 2_000, 3_000_000, 60_000_000,
        ("11", "84", "76", "75", "93", "32", "44", "52", "53", "28", "27", "24", "94"),
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"préréglage inconnu {name!r} / unknown preset; choisir parmi : {', '.join(PRESETS)}"
        ) from None
