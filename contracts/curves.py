"""The response-curve contract: posterior draws of each cell's period revenue as a function of period spend.

A *cell* is one (region, channel, objective). For every posterior draw ``d`` and cell ``c`` the incremental
revenue over the planning period, as a function of the period's spend ``S`` (same currency), is one of

============================  ====================================================  ======================
family                        revenue(S)                                            parameters
============================  ====================================================  ======================
``hill``                      ``beta * S**shape / (S**shape + half_saturation**shape)``  beta, half_saturation, shape
``michaelis_menten``          ``beta * S / (S + half_saturation)``                  beta, half_saturation
``exponential``               ``beta * (1 - exp(-S / lam))``                        beta, lam
``logistic``                  ``beta * (1 - exp(-S / lam)) / (1 + exp(-S / lam))``  beta, lam
============================  ====================================================  ======================

``beta`` is the asymptotic period revenue; ``half_saturation`` and ``lam`` are in spend units over the period.
Hill with ``shape <= 1`` is concave; with ``shape > 1`` it is S-shaped (the optimizer uses its concave envelope).
The logistic family is the concave "logistic saturation" used by PyMC-Marketing, rescaled to spend units.

The curves carry the planning period they describe (``period_weeks``) and the currency of spend and revenue
(``currency``, ``None`` when the data do not say), so a saved set cannot be read against the wrong period.

The optimizer never sees how the curves were estimated: the media-mix model, the simulator's truth or a saved
posterior all produce a :class:`ResponseCurves`; it lives here, in the ground floor, so none of them imports the
optimizer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.defaults import CELL_COLUMNS, OBJECTIVES, PERIOD_WEEKS

FAMILIES = ("hill", "michaelis_menten", "exponential", "logistic")
#: Key of the Parquet schema metadata that holds a saved curve set's period, currency and format version.
_META_KEY = b"growth_allocator.response_curves"
_FORMAT = 1


def _as_cells(cells: pd.DataFrame | Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(cells, columns=list(CELL_COLUMNS)) if not isinstance(cells, pd.DataFrame) else cells
    missing = [c for c in CELL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"cells must have columns {list(CELL_COLUMNS)}; missing {missing}")
    frame = frame[list(CELL_COLUMNS)].astype(str).reset_index(drop=True)
    bad = sorted(set(frame["objective"]) - set(OBJECTIVES))
    if bad:
        raise ValueError(f"cells.objective must be one of {list(OBJECTIVES)}; got {bad}")
    dup = frame.duplicated(["region", "channel"])
    if dup.any():
        rows = frame.loc[dup, ["region", "channel"]].to_records(index=False).tolist()
        raise ValueError(f"cells must be unique per (region, channel); duplicated: {rows[:5]}")
    if len(frame) == 0:
        raise ValueError("cells must contain at least one (region, channel, objective)")
    return frame


#: Allowed range of ``beta`` and of ``half_saturation`` / ``lam`` (currency over the planning period). Outside it
#: the optimizer's scaled program loses every significant digit (1e294, 1e-300 came back "unbounded").
PARAMETER_RANGE = (1e-12, 1e15)
#: Allowed range of the Hill shape: beyond it ``S**shape`` overflows or is flat at every spend.
SHAPE_RANGE = (1e-2, 1e2)


def _as_draws(
    name: str, values: object, cells: pd.DataFrame, allowed: tuple[float, float], labels: Sequence[str]
) -> np.ndarray:
    """Parameter draws (draws, cells) as floats; the first offending values are named by draw, cell and parameter
    (``labels[c]``: e.g. ``half_saturation`` or ``lam`` for the ``scale`` of cell ``c``)."""
    n_cells = len(cells)
    raw = np.asarray(values)
    if raw.dtype == bool or raw.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numbers (draws, cells); got values of type {raw.dtype}")
    arr = raw.astype(float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_cells:
        raise ValueError(f"{name} must be shaped (draws, cells) with cells={n_cells}; got shape {arr.shape}")
    low, high = allowed
    finite = np.isfinite(arr)
    for bad, rule in (
        (~finite, "finite"),
        (finite & (arr <= 0), "> 0"),
        (finite & ((arr < low) | (arr > high)), f"within [{low:g}, {high:g}] (numerically sane)"),
    ):
        if bad.any():
            draws, cols = np.nonzero(bad)
            shown = "; ".join(
                f"{labels[c]} of draw {d}, cell {cells.at[c, 'region']}/{cells.at[c, 'channel']} = {arr[d, c]:.4g}"
                for d, c in zip(draws[:5], cols[:5], strict=True)
            )
            more = f"; ... and {draws.size - 5} more" if draws.size > 5 else ""
            raise ValueError(f"{name} must be {rule}; {draws.size} values are not: {shown}{more}")
    return arr


@dataclass(frozen=True, eq=False)
class ResponseCurves:
    """Posterior draws of per-cell response curves (period revenue as a function of period spend).

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per cell with columns ``region``, ``channel``, ``objective``.
    family : tuple of str
        Curve family per cell, one of ``hill``, ``michaelis_menten``, ``exponential``, ``logistic``.
    beta : numpy.ndarray
        Asymptotic period revenue, shape (draws, cells).
    scale : numpy.ndarray
        ``half_saturation`` (Hill, Michaelis–Menten) or ``lam`` (exponential, logistic), in spend units,
        shape (draws, cells).
    shape : numpy.ndarray
        Hill shape, shape (draws, cells); 1 for the other families.
    period_weeks : int
        The planning period the curves describe, in weeks (13 = a quarter).
    currency : str, optional
        Currency of spend and revenue (e.g. ``"EUR"``); ``None`` when unknown.

    Parameters must be finite; ``beta`` and ``scale`` within :data:`PARAMETER_RANGE` (1e-12..1e15) and ``shape``
    within :data:`SHAPE_RANGE` (0.01..100), else a ``ValueError`` names the draw, cell and parameter.

    Use the constructors :meth:`hill`, :meth:`michaelis_menten`, :meth:`exponential`, :meth:`logistic` and
    :meth:`concat` rather than the raw initialiser.

    Examples
    --------
    >>> cells = [("Asia", "meta_ads", "acquisition"), ("Europe", "email_crm", "retention")]
    >>> curves = ResponseCurves.michaelis_menten(cells, beta=[[300.0, 200.0]], half_saturation=[[50.0, 40.0]])
    >>> curves.revenue([50.0, 40.0]).round(1).tolist()
    [[150.0, 100.0]]
    """

    cells: pd.DataFrame
    family: tuple[str, ...]
    beta: np.ndarray
    scale: np.ndarray
    shape: np.ndarray = field(default=None)  # type: ignore[assignment]
    period_weeks: int = PERIOD_WEEKS
    currency: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.period_weeks, bool) or not isinstance(self.period_weeks, (int, np.integer)):
            raise ValueError(f"period_weeks must be an integer >= 1; got {self.period_weeks!r}")
        if self.period_weeks < 1:
            raise ValueError(f"period_weeks must be an integer >= 1; got {self.period_weeks!r}")
        object.__setattr__(self, "period_weeks", int(self.period_weeks))
        if self.currency is not None and (not isinstance(self.currency, str) or not self.currency.strip()):
            raise ValueError(f"currency must be a non-empty string such as 'EUR', or None; got {self.currency!r}")
        cells = _as_cells(self.cells)
        object.__setattr__(self, "cells", cells)
        n = len(cells)
        fam = tuple(self.family)
        if len(fam) != n or any(f not in FAMILIES for f in fam):
            raise ValueError(f"family must list one of {list(FAMILIES)} per cell ({n}); got {fam}")
        object.__setattr__(self, "family", fam)
        scale_labels = ["lam" if f in ("exponential", "logistic") else "half_saturation" for f in fam]
        beta = _as_draws("beta", self.beta, cells, PARAMETER_RANGE, ["beta"] * n)
        scale = _as_draws("scale", self.scale, cells, PARAMETER_RANGE, scale_labels)
        shape = (
            np.ones_like(beta)
            if self.shape is None
            else _as_draws("shape", self.shape, cells, SHAPE_RANGE, ["shape"] * n)
        )
        if not (beta.shape == scale.shape == shape.shape):
            raise ValueError(f"beta, scale and shape must share one shape; got {beta.shape}, {scale.shape}")
        for arr in (beta, scale, shape):
            arr.setflags(write=False)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "shape", shape)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def hill(
        cls, cells, beta, half_saturation, shape, *, period_weeks: int = PERIOD_WEEKS, currency: str | None = None
    ) -> ResponseCurves:
        """Hill curves ``beta * S**shape / (S**shape + half_saturation**shape)``; arrays (draws, cells)."""
        n = len(_as_cells(cells))
        return cls(cells, ("hill",) * n, beta, half_saturation, shape, period_weeks, currency)

    @classmethod
    def michaelis_menten(
        cls, cells, beta, half_saturation, *, period_weeks: int = PERIOD_WEEKS, currency: str | None = None
    ) -> ResponseCurves:
        """Michaelis–Menten curves ``beta * S / (S + half_saturation)``; arrays (draws, cells)."""
        n = len(_as_cells(cells))
        return cls(cells, ("michaelis_menten",) * n, beta, half_saturation, None, period_weeks, currency)

    @classmethod
    def exponential(
        cls, cells, beta, lam, *, period_weeks: int = PERIOD_WEEKS, currency: str | None = None
    ) -> ResponseCurves:
        """Exponential curves ``beta * (1 - exp(-S / lam))``; arrays (draws, cells)."""
        n = len(_as_cells(cells))
        return cls(cells, ("exponential",) * n, beta, lam, None, period_weeks, currency)

    @classmethod
    def logistic(
        cls, cells, beta, lam, *, period_weeks: int = PERIOD_WEEKS, currency: str | None = None
    ) -> ResponseCurves:
        """Logistic-saturation curves ``beta * (1 - exp(-S/lam)) / (1 + exp(-S/lam))``; arrays (draws, cells)."""
        n = len(_as_cells(cells))
        return cls(cells, ("logistic",) * n, beta, lam, None, period_weeks, currency)

    @classmethod
    def concat(cls, parts: Sequence[ResponseCurves]) -> ResponseCurves:
        """Join curve sets over disjoint cells (same number of draws), e.g. to mix families."""
        draws = {p.n_draws for p in parts}
        if len(draws) != 1:
            raise ValueError(f"all parts must have the same number of draws; got {sorted(draws)}")
        periods = {p.period_weeks for p in parts}
        currencies = {p.currency for p in parts}
        if len(periods) != 1 or len(currencies) != 1:
            raise ValueError(
                f"all parts must share one planning period and currency; got period_weeks {sorted(periods)}, "
                f"currency {sorted(map(str, currencies))}"
            )
        return cls(
            pd.concat([p.cells for p in parts], ignore_index=True),
            tuple(f for p in parts for f in p.family),
            np.concatenate([p.beta for p in parts], axis=1),
            np.concatenate([p.scale for p in parts], axis=1),
            np.concatenate([p.shape for p in parts], axis=1),
            parts[0].period_weeks,
            parts[0].currency,
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_draws(self) -> int:
        """Number of posterior draws."""
        return self.beta.shape[0]

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.beta.shape[1]

    def family_mask(self, family: str) -> np.ndarray:
        """Boolean mask over cells of the given family."""
        return np.array([f == family for f in self.family])

    def subset_draws(self, index: np.ndarray | slice) -> ResponseCurves:
        """A copy holding only the selected draws (e.g. the posterior mean as ``mean_draw()``)."""
        return ResponseCurves(
            self.cells,
            self.family,
            self.beta[index],
            self.scale[index],
            self.shape[index],
            self.period_weeks,
            self.currency,
        )

    def mean_draw(self) -> ResponseCurves:
        """One-draw curves with the posterior-mean parameters (what local-search peers optimise)."""
        return ResponseCurves(
            self.cells,
            self.family,
            self.beta.mean(axis=0, keepdims=True),
            self.scale.mean(axis=0, keepdims=True),
            self.shape.mean(axis=0, keepdims=True),
            self.period_weeks,
            self.currency,
        )

    # ------------------------------------------------------------------ evaluation
    def revenue(self, spend: np.ndarray | Sequence[float]) -> np.ndarray:
        """Period revenue per draw and cell at period spend ``spend`` (cells,) → array (draws, cells)."""
        return _evaluate(self, spend, derivative=False)

    def mroi(self, spend: np.ndarray | Sequence[float]) -> np.ndarray:
        """d revenue / d spend per draw and cell at ``spend`` (cells,) → array (draws, cells)."""
        return _evaluate(self, spend, derivative=True)

    def roi(self, spend: np.ndarray | Sequence[float]) -> np.ndarray:
        """Average ROI (revenue / spend) per draw and cell; the marginal ROI at 0 where spend is 0."""
        s = np.asarray(spend, dtype=float)
        rev = self.revenue(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = rev / s
        return np.where(s > 0, out, self.mroi(np.zeros_like(s)))

    # ------------------------------------------------------------------ storage
    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (draw, cell) with ``draw``, the cell columns, ``family``, ``beta``,
        ``half_saturation_or_lam`` and ``shape`` (period units)."""
        n_d, n_c = self.beta.shape
        frame = pd.DataFrame(
            {
                "draw": np.repeat(np.arange(n_d), n_c),
                **{c: np.tile(self.cells[c].to_numpy(), n_d) for c in CELL_COLUMNS},
                "family": np.tile(np.array(self.family), n_d),
                "beta": self.beta.reshape(-1),
                "half_saturation_or_lam": self.scale.reshape(-1),
                "shape": self.shape.reshape(-1),
            }
        )
        return frame

    def save(self, path: str | Path) -> Path:
        """Write the curves to one Parquet file (the long table of :meth:`to_frame`; period and currency in its
        metadata). No pickle: the file opens in any Parquet reader. Read it back with :meth:`load`."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = {"format": _FORMAT, "period_weeks": self.period_weeks, "currency": self.currency}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta)})
        pq.write_table(table, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ResponseCurves:
        """Read curves written by :meth:`save`."""
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such response-curve file: {path}")
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(_META_KEY)
        if raw is None:
            raise ValueError(f"{path}: not a response-curve file written by ResponseCurves.save (no metadata)")
        meta = json.loads(raw)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path}: response-curve format {meta.get('format')!r}; this version reads {_FORMAT}")
        frame = table.to_pandas()
        n_d = int(frame["draw"].max()) + 1 if len(frame) else 0
        if n_d == 0 or len(frame) % n_d:
            raise ValueError(f"{path}: {len(frame)} rows do not form a (draws, cells) grid")
        n_c = len(frame) // n_d
        first = frame.iloc[:n_c]
        return cls(
            first[list(CELL_COLUMNS)].reset_index(drop=True),
            tuple(first["family"]),
            frame["beta"].to_numpy().reshape(n_d, n_c),
            frame["half_saturation_or_lam"].to_numpy().reshape(n_d, n_c),
            frame["shape"].to_numpy().reshape(n_d, n_c),
            int(meta["period_weeks"]),
            meta.get("currency"),
        )


def family_value(family: str, beta, scale, shape, spend, derivative: bool = False) -> np.ndarray:
    """Revenue (or its derivative) of one family on broadcastable parameter and spend arrays."""
    u = np.asarray(spend, dtype=float) / scale
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if family in ("hill", "michaelis_menten"):
            ua = u**shape
            if not derivative:
                return beta * ua / (1.0 + ua)
            val = np.where(u > 0, shape * u ** (shape - 1.0) / (1.0 + ua) ** 2, np.where(shape < 1, np.inf, 0.0))
            val = np.where((u == 0) & (shape == 1), 1.0, val)
            return beta * val / scale
        e = np.exp(-u)
        if family == "exponential":
            return beta * (e / scale if derivative else 1.0 - e)
        if family == "logistic":
            return beta * (2.0 * e / (scale * (1.0 + e) ** 2) if derivative else (1.0 - e) / (1.0 + e))
    raise ValueError(f"family must be one of {list(FAMILIES)}; got {family!r}")


def _evaluate(curves: ResponseCurves, spend, derivative: bool) -> np.ndarray:
    s = np.asarray(spend, dtype=float)
    if s.shape != (curves.n_cells,):
        raise ValueError(f"spend must be shaped (cells,) = ({curves.n_cells},); got {s.shape}")
    if np.any(s < 0):
        raise ValueError(f"spend must be >= 0; got min {s.min():.4g}")
    out = np.empty_like(curves.beta)
    fam = np.array(curves.family)
    for name in FAMILIES:
        m = fam == name
        if m.any():
            out[:, m] = family_value(
                name, curves.beta[:, m], curves.scale[:, m], curves.shape[:, m], s[None, m], derivative
            )
    return out
