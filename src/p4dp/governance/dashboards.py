"""Saved dashboards (the seed's "+" tab): a user composes panels from the indicator library.

A saved dashboard is only a *list of requests* (indicator, chart type, stratification, default
filters): it holds no figure. Showing it runs every panel through `p4dp.governance.serve` for the
user who looks at it, so a dashboard shared with a role can never show that role more than its own
scope and disclosure control allow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from p4dp.governance.audit import Event, append
from p4dp.governance.models import is_shared_with, roles_check, shared_with
from p4dp.governance.store import Base, Store
from p4dp.privacy.disclosure import ROLES

#: Chart types the editor offers (plotly traces the page knows how to draw).
CHART_TYPES: dict[str, str] = {"bar": "Barres", "line": "Courbe", "pie": "Secteurs",
                               "table": "Tableau"}
#: Bounds that keep one saved dashboard readable and cheap to render.
MAX_PANELS = 12
MAX_TITLE = 120
#: Default filters a panel may fix (the seed's slicers).
FILTER_KEYS = ("sex", "age_min", "age_max", "date_from", "date_to")


class SavedDashboard(Base):
    """A dashboard composed in the editor. `shared_role` null = private to its owner."""

    __tablename__ = "saved_dashboard"
    __table_args__ = (CheckConstraint(roles_check("shared_role", nullable=True),
                                      name="shared_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    panels: Mapped[str] = mapped_column(Text)  # JSON list of panel dicts
    shared_role: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DashboardError(ValueError):
    """An invalid dashboard; the message says which field, in French."""


@dataclass(frozen=True)
class Panel:
    indicator: str
    chart: str = "bar"
    by: str | None = None  # the dimension used for the x axis (one of the indicator's `by`)
    filters: tuple[tuple[str, object], ...] = ()

    def as_dict(self) -> dict:
        return {"indicator": self.indicator, "chart": self.chart, "by": self.by,
                "filters": dict(self.filters)}


def parse_panels(raw: object) -> list[Panel]:
    """Validate panels from a request (a list of dicts); raise DashboardError naming the field."""
    if not isinstance(raw, list) or not raw:
        raise DashboardError("« panels » : une liste d'au moins un panneau est attendue")
    if len(raw) > MAX_PANELS:
        raise DashboardError(f"« panels » : au plus {MAX_PANELS} panneaux par tableau de bord")
    from p4dp.analytics.library import all_indicators  # heavy: not at model import (Alembic)

    indicators = all_indicators()
    out = []
    for i, p in enumerate(raw, start=1):
        where = f"panneau {i}"
        if not isinstance(p, dict):
            raise DashboardError(f"{where} : un objet est attendu")
        name = p.get("indicator")
        if not isinstance(name, str) or name not in indicators:
            raise DashboardError(f"{where} : indicateur inconnu {str(name)[:60]!r}")
        ind = indicators[name]
        chart = p.get("chart", "bar")
        if not isinstance(chart, str) or chart not in CHART_TYPES:
            raise DashboardError(f"{where} : type de graphique {str(chart)[:30]!r} inconnu "
                                 f"({', '.join(CHART_TYPES)})")
        by = p.get("by") or None
        if by is not None and by not in [str(b) for b in ind.by]:
            raise DashboardError(f"{where} : stratification {str(by)[:30]!r} non proposée par "
                                 f"{name} ({', '.join(map(str, ind.by)) or 'aucune'})")
        filters = p.get("filters") or {}
        if not isinstance(filters, dict) or set(filters) - set(FILTER_KEYS):
            raise DashboardError(f"{where} : filtres admis : {', '.join(FILTER_KEYS)}")
        filters = {k: v for k, v in filters.items() if v not in (None, "")}
        _check_filters(where, filters)
        out.append(Panel(name, chart, by, tuple(sorted(filters.items()))))
    return out


def _check_filters(where: str, filters: dict) -> None:
    """Default filters must make a valid `Filters` (the slicers' own rules)."""
    import datetime as dt

    from p4dp.analytics.model import Filters, Period

    try:
        for key in ("age_min", "age_max"):
            if key in filters and (type(filters[key]) is not int or filters[key] > 130):
                raise ValueError(f"{key} : entier de 0 à 130 attendu")
        dates = {k: dt.date.fromisoformat(filters[k]) if isinstance(filters[k], str) else None
                 for k in ("date_from", "date_to") if k in filters}
        if any(v is None for v in dates.values()):
            raise ValueError("dates au format AAAA-MM-JJ attendues")
        Filters(sex=filters.get("sex"), age_min=filters.get("age_min"),
                age_max=filters.get("age_max"),
                period=Period(dates.get("date_from"), dates.get("date_to")))
    except ValueError as e:
        raise DashboardError(f"{where} : filtres invalides ({e})") from None


def _check(title: str, shared_role: str | None) -> str:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise DashboardError(f"« title » : 1 à {MAX_TITLE} caractères")
    if shared_role is not None and shared_role not in ROLES:
        raise DashboardError(f"« shared_role » : rôle inconnu {shared_role[:30]!r}")
    return title


def as_dict(d: SavedDashboard) -> dict:
    return {"id": d.id, "title": d.title, "panels": json.loads(d.panels),
            "shared_role": d.shared_role, "owner_id": d.owner_id,
            "updated_at": d.updated_at.isoformat() if d.updated_at else None}


def create(store: Store, owner_id: int, actor: str, role: str, title: str, panels: list[Panel],
           shared_role: str | None) -> dict:
    title = _check(title, shared_role)
    now = datetime.now(UTC)
    with store.session() as s:
        d = SavedDashboard(owner_id=owner_id, title=title,
                           panels=json.dumps([p.as_dict() for p in panels], ensure_ascii=False),
                           shared_role=shared_role, created_at=now, updated_at=now)
        s.add(d)
        s.flush()
        append(s, Event(actor=actor, role=role, action="dashboard.create",
                        target=f"dashboard:{d.id}",
                        params={"title": title, "shared_role": shared_role,
                                "indicators": [p.indicator for p in panels]}))
        return as_dict(d)


def visible(store: Store, user_id: int, role: str) -> list[dict]:
    """Dashboards the user owns or that are shared with their role."""
    with store.sessions() as s:
        rows = s.scalars(select(SavedDashboard)
            .where(shared_with(SavedDashboard, user_id, role)).order_by(SavedDashboard.title, SavedDashboard.id))
        return [as_dict(d) for d in rows]


def get_visible(store: Store, dashboard_id: int, user_id: int, role: str) -> dict | None:
    """The dashboard if the user may open it, else None (a foreign id looks like a missing one)."""
    with store.sessions() as s:
        d = s.get(SavedDashboard, dashboard_id)
        if not is_shared_with(d, user_id, role):
            return None
        return as_dict(d)


def delete(store: Store, dashboard_id: int, user_id: int, actor: str, role: str) -> bool:
    """Delete one of the user's own dashboards (audited); False if not theirs or missing."""
    with store.session() as s:
        d = s.get(SavedDashboard, dashboard_id)
        if d is None or d.owner_id != user_id:
            return False
        s.delete(d)
        append(s, Event(actor=actor, role=role, action="dashboard.delete",
                        target=f"dashboard:{dashboard_id}"))
        return True
