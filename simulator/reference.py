"""Public reference datasets with known (or documented) truth, as our contract tables.

The CSVs live in ``<workspace>/shared/reference-data`` beside the repository (:data:`REFERENCE_DIR`); they are
third-party: keep the ``origin`` note (with its licence) wherever results computed from them are shown. Each loader
returns a :class:`ReferenceData`: the tables as one :class:`contracts.Dataset` (weeks are Mondays, one row per key
and week; validated once) and the origin note.

>>> import mmm                                                               # doctest: +SKIP
>>> from simulator import roi_recovery
>>> from simulator.reference import load_pymc_example, pymc_example_truth
>>> example = load_pymc_example(spend_scale=1000.0)                        # doctest: +SKIP
>>> fitted = mmm.fit(example.data)                                          # doctest: +SKIP
>>> roi_recovery(fitted.roi(), pymc_example_truth(spend_scale=1000.0))      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from contracts import Dataset
from simulator.tables import DatasetTables

#: Where the shared reference CSVs live: ``<workspace>/shared/reference-data`` beside the repository.
REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data"
PYMC_EXAMPLE_CSV = REFERENCE_DIR / "pymc_mmm_example.csv"
MERIDIAN_GEO_CSV = REFERENCE_DIR / "meridian_geo_all_channels.csv"

PYMC_REGION = "National"
PYMC_CHANNELS = ("x1", "x2")
PYMC_CONTROLS = ("event_1", "event_2")
MERIDIAN_CHANNELS = tuple(f"Channel{i}" for i in range(5))
MERIDIAN_CONTROLS = ("competitor_sales_control", "sentiment_score_control", "Promo")

PYMC_ORIGIN = (
    "pymc-marketing data/mmm_example.csv (Apache-2.0, PyMC Labs), via shared/reference-data/pymc_mmm_example.csv: "
    "179 simulated weeks, one region, media x1 and x2 (not currency), KPI y"
)
MERIDIAN_ORIGIN = (
    "google/meridian meridian/data/simulated_data/csv/geo_all_channels.csv (Apache-2.0, Google), via "
    "shared/reference-data/meridian_geo_all_channels.csv: 40 simulated geos x 156 weeks, no ground truth shipped"
)

#: Data-generating process of ``pymc_mmm_example.csv`` per channel: geometric adstock (normalised weights, l_max 8)
#: then logistic saturation ``(1 - e^-lam x) / (1 + e^-lam x)`` of the raw x values, times ``beta_weekly`` (units
#: of y).
#: Source: pymc-marketing ``docs/source/notebooks/mmm/mmm_example.ipynb``, "Part I: Data Generation Process"
#: (alpha 0.4 / 0.2, lam 4.0 / 3.0, beta 3.0 / 2.0), with the shipped CSV's y being 1000 x the notebook's y.
PYMC_EXAMPLE_DGP: dict[str, dict[str, float]] = {
    "x1": {"adstock_alpha": 0.4, "saturation_lam": 4.0, "beta_weekly": 3000.0},
    "x2": {"adstock_alpha": 0.2, "saturation_lam": 3.0, "beta_weekly": 2000.0},
}
PYMC_EXAMPLE_L_MAX = 8


@dataclass(frozen=True, eq=False)
class ReferenceData(DatasetTables):
    """One reference dataset as contract tables.

    Attributes
    ----------
    data : contracts.Dataset
        ``spend``, ``kpi``, ``controls`` and ``channels`` (the channel catalog), validated once when loaded;
        ``reference.spend``, ``reference.kpi``, ... are read-only shortcuts to them (``events``, ``paths`` and
        ``lift_tests`` are ``None``).
    origin : str
        Where the data come from, with the licence.
    """

    data: Dataset
    origin: str

    def __post_init__(self) -> None:
        if not isinstance(self.data, Dataset):
            raise TypeError(f"ReferenceData.data must be a contracts.Dataset; got {type(self.data).__name__}")


def load_pymc_example(path: str | Path = PYMC_EXAMPLE_CSV, spend_scale: float = 1.0) -> ReferenceData:
    """pymc-marketing's MMM example data (179 weeks, one region) as contract tables.

    - one region, ``"National"``;
    - channels ``x1`` and ``x2``: ``spend`` is the x value itself (times ``spend_scale``). These are **not
      currency** (values in [0, 1]), so an "ROI" computed from them is revenue per unit of x, comparable only with
      the same definition (:func:`pymc_example_truth` uses it). The true ROIs are then about 5000 and 2300, far
      outside our default ROI prior (median 1.5, log sd 0.8): to fit our model with default priors pass
      ``spend_scale=1000`` (true ROIs about 5.0 and 2.3) and the same ``spend_scale`` to :func:`pymc_example_truth`;
    - ``revenue`` is ``y``; controls ``event_1`` and ``event_2`` (one-week pulses). The ``t`` column (a linear trend)
      is left out because our model has its own trend; ``dayofyear`` is left out too (our model has its own
      seasonality);
    - the channel catalog gives every channel the objective ``"acquisition"``: the source has no objectives, and
      the objective only matters for response curves grouped by objective.

    ``date_week`` is moved to the Monday of its week, as our contract requires; in the shipped file every date is
    already a Monday (2018-04-02 .. 2021-08-30), so this changes nothing there.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV (default ``<workspace>/shared/reference-data/pymc_mmm_example.csv``).
    spend_scale : float
        Factor applied to x to make ``spend`` (> 0; default 1: spend is x).

    Returns
    -------
    ReferenceData

    Raises
    ------
    ValueError
        The file lacks a column, a date does not parse, or two rows fall in one week.
    contracts.ContractError
        The tables break their contracts.
    """
    _validate_spend_scale(spend_scale)
    raw = pd.read_csv(path)
    _require_columns(raw, ("date_week", "y", *PYMC_CHANNELS, *PYMC_CONTROLS), path)
    wide = raw.assign(week=_to_monday(raw["date_week"], "date_week"), region=PYMC_REGION)
    _require_one_row_per_week(wide, ("region",), path)
    spend = _long_spend(wide, {channel: channel for channel in PYMC_CHANNELS})
    spend["spend"] = spend["spend"] * float(spend_scale)
    kpi = wide[["week", "region"]].assign(revenue=wide["y"].astype(float))
    controls = wide[["week", "region", *PYMC_CONTROLS]].astype({c: float for c in PYMC_CONTROLS})
    return _reference(spend, kpi, controls, PYMC_CHANNELS, PYMC_ORIGIN)


def load_meridian_geo(path: str | Path = MERIDIAN_GEO_CSV, max_geos: int | None = None) -> ReferenceData:
    """Meridian's simulated geo panel (40 geos x 156 weeks, 5 channels) as contract tables.

    - regions are the ``geo`` values; channels ``Channel0`` .. ``Channel4`` with spend from their ``_spend``
      columns (impressions are dropped; so is ``Organic_channel0_impression`` and ``population``);
    - ``revenue = conversions * revenue_per_conversion``;
    - controls ``competitor_sales_control``, ``sentiment_score_control`` and ``Promo``;
    - every channel gets the objective ``"acquisition"`` (the source has no objectives).

    ``time`` is moved to the Monday of its week; in the shipped file every date is already a Monday
    (2021-01-25 .. 2024-01-15), so this changes nothing there.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV (default ``<workspace>/shared/reference-data/meridian_geo_all_channels.csv``).
    max_geos : int, optional
        Keep only the ``max_geos`` geos with the largest total revenue (ties broken by name), for a cheaper run.
        ``None`` keeps all.

    Returns
    -------
    ReferenceData

    Raises
    ------
    ValueError
        The file lacks a column, a date does not parse, or two rows fall in one week.
    contracts.ContractError
        The tables break their contracts.
    """
    if max_geos is not None and (isinstance(max_geos, bool) or not isinstance(max_geos, (int, np.integer))):
        raise ValueError(f"max_geos must be a positive integer or None; got {max_geos!r}")
    if max_geos is not None and max_geos < 1:
        raise ValueError(f"max_geos must be a positive integer or None; got {max_geos!r}")
    raw = pd.read_csv(path)
    spend_columns = {f"{channel}_spend": channel for channel in MERIDIAN_CHANNELS}
    _require_columns(
        raw, ("geo", "time", "conversions", "revenue_per_conversion", *spend_columns, *MERIDIAN_CONTROLS), path
    )
    wide = raw.assign(
        week=_to_monday(raw["time"], "time"),
        region=raw["geo"].astype(str),
        revenue=raw["conversions"].astype(float) * raw["revenue_per_conversion"].astype(float),
    )
    if max_geos is not None:
        totals = wide.groupby("region")["revenue"].sum().reset_index()
        keep = totals.sort_values(["revenue", "region"], ascending=[False, True])["region"].head(max_geos)
        wide = wide[wide["region"].isin(set(keep))]
    _require_one_row_per_week(wide, ("region",), path)
    spend = _long_spend(wide, spend_columns)
    kpi = wide[["week", "region", "revenue"]]
    controls = wide[["week", "region", *MERIDIAN_CONTROLS]].astype({c: float for c in MERIDIAN_CONTROLS})
    return _reference(spend, kpi, controls, MERIDIAN_CHANNELS, MERIDIAN_ORIGIN)


def pymc_example_truth(path: str | Path = PYMC_EXAMPLE_CSV, spend_scale: float = 1.0) -> pd.DataFrame:
    """True media contribution of ``x1`` and ``x2`` in pymc-marketing's MMM example data.

    The data-generating process is documented in pymc-marketing's MMM example notebook
    (``docs/source/notebooks/mmm/mmm_example.ipynb``, "Part I: Data Generation Process", Apache-2.0)::

        x_adstock   = geometric adstock of x (alpha; weights alpha^l / sum, l = 0..7, zero before the first week)
        x_saturated = (1 - exp(-lam * x_adstock)) / (1 + exp(-lam * x_adstock))
        y_notebook  = 2 + trend + seasonality + 1.5 event_1 + 2.5 event_2 + 3.0 x1_saturated + 2.0 x2_saturated + eps
        alpha = 0.4 (x1), 0.2 (x2);  lam = 4.0 (x1), 3.0 (x2);  eps ~ Normal(0, 0.25)

    The shipped CSV's ``y`` is **1000 x** ``y_notebook``. This was checked, not assumed: replaying the notebook's
    generator (``numpy.random.default_rng(sum(map(ord, "mmm")))``) reproduces the CSV's ``x1`` and ``x2`` to 1e-16
    and ``y / 1000`` to 1e-10, so the true contribution of each channel follows from the CSV's own x values. The
    transforms are applied to the raw x values (no scaling), so the truth does not depend on how a model scales them.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV (default ``<workspace>/shared/reference-data/pymc_mmm_example.csv``).
    spend_scale : float
        The ``spend_scale`` given to :func:`load_pymc_example`: spend is ``spend_scale * x``, so ROI is divided by it.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``region`` ("National"), ``channel``, ``adstock_alpha``, ``saturation_lam``,
        ``beta_weekly`` (maximum weekly contribution, units of y), ``spend_window`` (sum of spend over the file's
        weeks), ``contribution_window`` (sum over the weeks, units of y), ``contribution_share`` (of the media
        total) and ``roi`` (contribution_window / spend_window: y per unit of spend, not a currency ROI unless
        ``spend_scale`` makes spend one), the columns of ``Truth.cells`` where they mean the same.
    """
    _validate_spend_scale(spend_scale)
    raw = pd.read_csv(path)
    _require_columns(raw, ("date_week", *PYMC_CHANNELS), path)
    rows = []
    for channel, params in PYMC_EXAMPLE_DGP.items():
        x = raw[channel].to_numpy(dtype=float)
        adstocked = _geometric_adstock(x, params["adstock_alpha"], PYMC_EXAMPLE_L_MAX)
        contribution = params["beta_weekly"] * _logistic_saturation(adstocked, params["saturation_lam"])
        rows.append(
            {
                "region": PYMC_REGION,
                "channel": channel,
                **params,
                "spend_window": float(x.sum()) * float(spend_scale),
                "contribution_window": float(contribution.sum()),
            }
        )
    out = pd.DataFrame(rows)
    out["contribution_share"] = out["contribution_window"] / out["contribution_window"].sum()
    out["roi"] = out["contribution_window"] / out["spend_window"]
    return out


# --------------------------------------------------------------------------------------------- internals


def _geometric_adstock(x: np.ndarray, alpha: float, l_max: int) -> np.ndarray:
    """Carry-over with weights alpha^l normalised to sum 1; weeks before the first are taken as zero."""
    weights = alpha ** np.arange(l_max)
    weights = weights / weights.sum()
    out = np.zeros_like(x, dtype=float)
    for lag, weight in enumerate(weights):
        out[lag:] += weight * x[: len(x) - lag]
    return out


def _logistic_saturation(x: np.ndarray, lam: float) -> np.ndarray:
    return (1.0 - np.exp(-lam * x)) / (1.0 + np.exp(-lam * x))


def _validate_spend_scale(spend_scale: float) -> None:
    if isinstance(spend_scale, bool) or not isinstance(spend_scale, (int, float)) or not np.isfinite(spend_scale):
        raise ValueError(f"spend_scale must be a finite number > 0; got {spend_scale!r}")
    if spend_scale <= 0:
        raise ValueError(f"spend_scale must be a finite number > 0; got {spend_scale!r}")


def _to_monday(dates: pd.Series, column: str) -> pd.Series:
    parsed = pd.to_datetime(dates, errors="coerce")
    if parsed.isna().any():
        bad = dates[parsed.isna()].head(3).tolist()
        raise ValueError(f"{column} must hold dates; {int(parsed.isna().sum())} values do not parse (e.g. {bad})")
    parsed = parsed.dt.normalize()
    return parsed - pd.to_timedelta(parsed.dt.day_of_week, unit="D")


def _require_columns(raw: pd.DataFrame, columns: tuple[str, ...], path: str | Path) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; found {list(map(str, raw.columns))}")


def _require_one_row_per_week(wide: pd.DataFrame, keys: tuple[str, ...], path: str | Path) -> None:
    # Moving dates to Mondays must not merge two rows of one series into one week.
    duplicated = wide.duplicated(["week", *keys], keep=False)
    if duplicated.any():
        first = wide.loc[duplicated, ["week", *keys]].head(3).to_dict("records")
        raise ValueError(
            f"{path}: {int(duplicated.sum())} rows fall in a week that already has a row once dates are moved to "
            f"Mondays (e.g. {first}); expected one row per week"
        )


def _long_spend(wide: pd.DataFrame, spend_columns: dict[str, str]) -> pd.DataFrame:
    spend = wide.melt(id_vars=["week", "region"], value_vars=list(spend_columns), var_name="source", value_name="spend")
    spend["channel"] = spend["source"].map(spend_columns)
    spend["spend"] = spend["spend"].astype(float)
    return _sorted(spend[["week", "region", "channel", "spend"]])


def _reference(spend, kpi, controls, channels: tuple[str, ...], origin: str) -> ReferenceData:
    catalog = pd.DataFrame({"channel": list(channels), "objective": "acquisition"})
    data = Dataset(spend=spend, kpi=_sorted(kpi), controls=_sorted(controls), channels=catalog)
    return ReferenceData(data, origin)


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("week", "region", "channel") if c in table.columns]
    return table.sort_values(keys).reset_index(drop=True)
