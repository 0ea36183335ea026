"""The typed results of the attribution engine: a table plus what was left out, skipped or unmatched, and why.

Every public function returns one of these frozen dataclasses. The table is in ``.table``; the reports travel as
fields next to it, never in ``DataFrame.attrs``, which carries only the interval label (``attrs["interval"]``,
e.g. ``"90% bootstrap percentile"``) of a table with ``<quantity>_low`` / ``<quantity>_high`` columns.

>>> import attribution
>>> paths = attribution.build_paths(events, by="region")  # Paths: .table, .report  # doctest: +SKIP
>>> credit = attribution.markov(paths, by="region")  # Credit: .table, .skipped, .chains  # doctest: +SKIP
>>> roi = attribution.attributed_roi(credit, spend, kpi=kpi)  # AttributedROI: .table, .scale  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from contracts import interval_label  # noqa: F401  (re-exported: the one label format)

__all__ = [
    "AttributedROI",
    "Credit",
    "OrderSelection",
    "Paths",
    "PathsReport",
    "Skipped",
]

#: Why rows of a paths table are skipped, and the words a report uses for it.
SKIP_REASONS = {"no_conversions_and_no_nulls": "with total_conversions == 0 and total_null == 0"}


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Skipped:
    """Rows of an input table that a step left out, counted by reason.

    Parameters
    ----------
    table : str
        The input table the rows were in (``"paths"``).
    counts : Mapping[str, int]
        Number of rows per reason; reasons with no rows are absent. The only reason today is
        ``"no_conversions_and_no_nulls"`` (a paths row that carries no journey).

    Examples
    --------
    >>> s = Skipped("paths", {"no_conversions_and_no_nulls": 2})
    >>> s.rows, bool(s), str(s)
    (2, True, 'paths: skipped 2 row(s) with total_conversions == 0 and total_null == 0')
    """

    table: str = "paths"
    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counts = {str(k): int(v) for k, v in dict(self.counts).items() if int(v)}
        if any(v < 0 for v in counts.values()):
            raise ValueError(f"Skipped.counts must be >= 0, got {counts}")
        object.__setattr__(self, "counts", _frozen(counts))

    @property
    def rows(self) -> int:
        """Total number of rows skipped."""
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return self.rows > 0

    def __str__(self) -> str:
        if not self:
            return f"{self.table}: nothing skipped"
        parts = [f"{n} row(s) {SKIP_REASONS.get(reason, reason)}" for reason, n in self.counts.items()]
        return f"{self.table}: skipped " + "; ".join(parts)

    def __add__(self, other: Skipped) -> Skipped:
        counts = dict(self.counts)
        for reason, n in other.counts.items():
            counts[reason] = counts.get(reason, 0) + n
        return Skipped(self.table, counts)


@dataclass(frozen=True)
class PathsReport:
    """What :func:`attribution.build_paths` left out of the paths table (nothing is dropped silently).

    Attributes
    ----------
    journeys : int
        All journeys found in the events (closed, open and without touches).
    open_journeys, open_touches : int
        Non-converting journeys whose last touch is within ``lookback_days`` of the end of the data (they may
        still convert, so they are neither conversions nor nulls), and their touches.
    conversions_without_touches : int
        Conversions with no touch in the lookback window, and ``revenue_without_touches`` their revenue.
    revenue_without_touches : float
    touches_outside_lookback : int
        Touches older than the lookback window of their journey.
    """

    journeys: int = 0
    open_journeys: int = 0
    open_touches: int = 0
    conversions_without_touches: int = 0
    revenue_without_touches: float = 0.0
    touches_outside_lookback: int = 0

    def left_out(self) -> dict[str, int | float]:
        """The non-zero counts of what was left out (everything but ``journeys``)."""
        return {k: v for k, v in self.as_dict().items() if k != "journeys" and v}

    def as_dict(self) -> dict[str, int | float]:
        """All counts as a plain dict."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Paths:
    """A paths table built from events, with the report of what was left out.

    Every credit function (:func:`~attribution.markov`, :func:`~attribution.shapley`,
    :func:`~attribution.heuristics`, :func:`~attribution.bootstrap`, :func:`~attribution.select_order`) takes a
    ``Paths`` as well as a plain paths DataFrame, and reads the separator from it; segments are not implied:
    pass ``by=`` to fit per segment (a table and a ``Paths`` give the same credit for the same arguments).

    Attributes
    ----------
    table : pandas.DataFrame
        ``path``, (``touch_days``,) segment columns, ``total_conversions``, ``total_conversion_value``,
        ``total_null``; sorted by segment and path.
    report : PathsReport
        What was left out of the table.
    lookback_days : float
        Touches older than this before the journey's end are not part of its path.
    by : tuple of str
        The segment columns the journeys were split by (``()`` when none).
    sep : str
        The separator written between channels.
    """

    table: pd.DataFrame
    report: PathsReport
    lookback_days: float
    by: tuple[str, ...] = ()
    sep: str = " > "


@dataclass(frozen=True)
class Credit:
    """Channel credit of one method, with its settings and the rows of the paths table it skipped.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (segment,) channel (and ``position`` for ordered Shapley). Columns by method:
        markov: ``conversions``, ``value``, ``removal_effect``, ``removal_effect_value``; shapley: ``conversions``,
        ``value``; heuristics: ``<rule>`` and ``<rule>_value`` for ``first_touch``, ``last_touch``, ``linear``,
        ``position_based`` (and ``time_decay``). From :func:`~attribution.bootstrap`, every credit column ``<q>``
        also has ``<q>_low`` and ``<q>_high``, and ``table.attrs["interval"]`` says their kind and mass.
    method : str
        ``"markov"``, ``"shapley"`` or ``"heuristics"``.
    options : Mapping
        The method's settings (``order``; ``ordered``; ``half_life_days``).
    by : tuple of str
        Segment columns (one fit per segment).
    skipped : Skipped
        Rows of the paths table skipped, by reason (also announced with a :class:`SkippedRowsWarning`).
    chains : pandas.DataFrame or None
        Markov only: one row per segment with the fitted chain's ``conversion_probability`` (equal to
        conversions / journeys, checked on every fit) and ``n_states``.
    n_boot, seed : int or None
        Bootstrap replicates and seed (``None`` when the credit has no intervals).
    """

    table: pd.DataFrame
    method: str
    options: Mapping[str, object] = field(default_factory=dict)
    by: tuple[str, ...] = ()
    skipped: Skipped = field(default_factory=Skipped)
    chains: pd.DataFrame | None = None
    n_boot: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", _frozen(self.options))

    @property
    def interval(self) -> str | None:
        """Kind and mass of the ``_low``/``_high`` columns (e.g. ``"90% bootstrap percentile"``), or None."""
        return self.table.attrs.get("interval")


@dataclass(frozen=True)
class OrderSelection:
    """Held-out accuracy of the Markov chain for each order (:func:`attribution.select_order`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per order: ``order``, ``log_loss`` (lower is better), ``auc`` (higher is better), ``n_states``,
        ``train_journeys``, ``test_journeys``.
    skipped : Skipped
        Rows of the paths table skipped, by reason.
    test_fraction : float
        Share of journeys held out.
    seed : int
        Seed of the split.
    """

    table: pd.DataFrame
    skipped: Skipped = field(default_factory=Skipped)
    test_fraction: float = 0.3
    seed: int = 0

    @property
    def best_order(self) -> int:
        """The order with the lowest held-out log-loss."""
        return int(self.table.loc[self.table["log_loss"].idxmin(), "order"])


@dataclass(frozen=True)
class AttributedROI:
    """Attributed revenue over spend per (region,) channel (:func:`attribution.attributed_roi`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``region`` (when the credit has one), ``channel``, ``attributed_revenue`` (times ``scale`` when scaled),
        ``spend_window`` (spend summed over ``window``), ``roi``; with intervals in the credit also
        ``attributed_revenue_low``/``_high`` and ``roi_low``/``roi_high`` (kind and mass in
        ``table.attrs["interval"]``).
    unmatched : pandas.DataFrame
        Cells whose ROI is NaN: ``region`` (when present), ``channel`` and ``reason``: ``"no_spend"`` (credit but
        no spend in the window), ``"no_credit"`` (spend but no credit) or ``"zero_spend"``.
    window : tuple of pandas.Timestamp
        First and last week of the spend used (``(NaT, NaT)`` when no week is left).
    scaled_by : str or None
        ``"kpi"``, ``"tracked_share"`` or ``None`` (attributed revenue as the journeys give it).
    scale : pandas.DataFrame or None
        When scaled, one row per region (or one row overall): ``region`` (when by region), ``journey_revenue``
        (attributed revenue before scaling), ``kpi_revenue`` (KPI revenue over ``window``; NaN with
        ``tracked_share``) and ``scale``, the factor applied to attributed revenue.
    """

    table: pd.DataFrame
    unmatched: pd.DataFrame
    window: tuple[pd.Timestamp, pd.Timestamp] = (pd.NaT, pd.NaT)
    scaled_by: str | None = None
    scale: pd.DataFrame | None = None

    @property
    def interval(self) -> str | None:
        """Kind and mass of the ``_low``/``_high`` columns, or None."""
        return self.table.attrs.get("interval")
