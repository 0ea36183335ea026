"""Score estimates against a world's truth: how well a model recovered each cell's ROI.

Any estimator that reports ROI per (region, channel) with an interval (the media-mix model's ``FittedMMM.roi()``,
a peer model, the oracle of :mod:`simulator.oracle`) is scored the same way against ``Truth.cells`` (or the truth of
a reference dataset, :func:`simulator.reference.pymc_example_truth`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_KEY = ["region", "channel"]
_ESTIMATE_COLUMNS = ("region", "channel", "roi", "roi_low", "roi_high")
_TRUTH_COLUMNS = ("region", "channel", "roi")
#: Columns of ROI tables before the v1 vocabulary, named in the error so an old table is easy to fix.
_RENAMED = {"roi_mean": "roi", "roi_hdi_low": "roi_low", "roi_hdi_high": "roi_high"}


def roi_recovery(estimates: pd.DataFrame, truth_cells: pd.DataFrame) -> dict[str, float]:
    """How well estimated ROIs recover the true ones, over the cells both tables have.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``region``, ``channel``, ``roi`` (posterior mean, or the point estimate), ``roi_low``, ``roi_high`` (the
        interval's bounds; the media-mix model reports a 90% HDI), one row per cell, e.g. ``FittedMMM.roi()``.
    truth_cells : pandas.DataFrame
        ``region``, ``channel``, ``roi`` (the true ROI), one row per cell, e.g. ``simulate_world(...).truth.cells``.

    Returns
    -------
    dict
        ``roi_median_abs_pct_error``: median over the common cells of ``|roi / true roi - 1|``, in percent;
        ``roi_hdi90_coverage``: share of the common cells whose true ROI lies in ``[roi_low, roi_high]`` (ends
        included).

    Raises
    ------
    ValueError
        A table lacks a column, repeats a cell, or the two tables have no cell in common.

    Examples
    --------
    >>> est = pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [1.5], "roi_low": [1.2], "roi_high": [1.8]})
    >>> roi_recovery(est, pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [1.0]}))
    {'roi_median_abs_pct_error': 50.0, 'roi_hdi90_coverage': 0.0}
    """
    _require(estimates, "estimates", _ESTIMATE_COLUMNS)
    _require(truth_cells, "truth_cells", _TRUTH_COLUMNS)
    both = estimates[list(_ESTIMATE_COLUMNS)].merge(
        truth_cells[list(_TRUTH_COLUMNS)].rename(columns={"roi": "roi_true"}), on=_KEY, how="inner"
    )
    if both.empty:
        raise ValueError(
            "estimates and truth_cells have no (region, channel) in common; estimates has "
            f"{_cells(estimates)}, truth_cells has {_cells(truth_cells)}"
        )
    error = np.abs(both["roi"] / both["roi_true"] - 1.0)
    inside = (both["roi_true"] >= both["roi_low"]) & (both["roi_true"] <= both["roi_high"])
    return {
        "roi_median_abs_pct_error": float(100.0 * np.median(error)),
        "roi_hdi90_coverage": float(inside.mean()),
    }


def _require(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        old = [f"{o} -> {n}" for o, n in _RENAMED.items() if o in table.columns and n in missing]
        hint = f" (renamed in API v1: {', '.join(old)})" if old else ""
        raise ValueError(f"{name} must have columns {list(columns)}; missing {missing}{hint}")
    repeated = table.duplicated(_KEY, keep=False)
    if repeated.any():
        first = table.loc[repeated, _KEY].drop_duplicates().head(3).to_records(index=False).tolist()
        raise ValueError(f"{name} must have one row per (region, channel); repeated: {first}")


def _cells(table: pd.DataFrame, n: int = 3) -> str:
    keys = table[_KEY].drop_duplicates().to_records(index=False).tolist()
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(f"{r}/{c}" for r, c in keys[:n]) + more
