"""ROI priors stated in business terms: a table of (region, channel, roi, roi_sd) → LogNormal parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from contracts import ContractError, DataWarning, Problem

ROI_PRIOR_COLUMNS = ("region", "channel", "roi", "roi_sd")


def lognormal_from_mean_sd(mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LogNormal ``(mu, sigma)`` with the given mean and standard deviation (moment matching).

    >>> mu, sigma = lognormal_from_mean_sd(np.array([2.0]), np.array([1.0]))
    >>> float(np.exp(mu[0] + sigma[0] ** 2 / 2))
    2.0
    """
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    sigma2 = np.log1p((sd / mean) ** 2)
    return np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2)


def roi_prior_arrays(
    roi_priors: pd.DataFrame | None,
    cells: pd.DataFrame,
    default_median: float,
    default_log_sd: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell prior of log ROI: ``(log_median, log_sd, from_table)`` aligned with ``cells``.

    Parameters
    ----------
    roi_priors : pandas.DataFrame or None
        Columns ``region``, ``channel``, ``roi`` (prior mean ROI, > 0) and ``roi_sd`` (prior sd, > 0), e.g. from
        ``attribution.attributed_roi(...).table``. Cells it does not name get the default prior.
    cells : pandas.DataFrame
        The model's cells (``region``, ``channel``).
    default_median, default_log_sd : float
        Default LogNormal prior of ROI.

    Raises
    ------
    contracts.ContractError
        Missing columns, non-positive or non-finite values, duplicate cells, or cells the spend table lacks.
    """
    n = len(cells)
    log_median = np.full(n, np.log(default_median))
    log_sd = np.full(n, float(default_log_sd))
    from_table = np.zeros(n, dtype=bool)
    if roi_priors is None:
        return log_median, log_sd, from_table
    table = validate_roi_priors(roi_priors, cells)
    index = {(r, c): i for i, (r, c) in enumerate(zip(cells["region"], cells["channel"], strict=True))}
    mu, sigma = lognormal_from_mean_sd(table["roi"].to_numpy(), table["roi_sd"].to_numpy())
    for (region, channel), m, s in zip(zip(table["region"], table["channel"], strict=True), mu, sigma, strict=True):
        i = index[(region, channel)]
        log_median[i], log_sd[i], from_table[i] = m, s, True
    return log_median, log_sd, from_table


def validate_roi_priors(roi_priors: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Check the ``roi_priors`` table; return it with numeric columns as floats. See :func:`roi_prior_arrays`."""
    if not isinstance(roi_priors, pd.DataFrame):
        raise ContractError([Problem("roi_priors", None, f"is a {type(roi_priors).__name__}", "a pandas DataFrame")])
    missing = [c for c in ROI_PRIOR_COLUMNS if c not in roi_priors.columns]
    if missing:
        raise ContractError(
            [Problem("roi_priors", ", ".join(missing), "columns are missing", f"columns {list(ROI_PRIOR_COLUMNS)}")]
        )
    table = roi_priors[list(ROI_PRIOR_COLUMNS)].copy()
    problems: list[Problem] = []
    for col in ("roi", "roi_sd"):
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
        if len(bad):
            problems.append(
                Problem(
                    "roi_priors",
                    col,
                    f"{len(bad)} values are not finite numbers > 0",
                    "finite numbers > 0",
                    _rows(table, bad, col),
                    len(bad),
                )
            )
        table[col] = values
    dup = np.flatnonzero(table.duplicated(["region", "channel"], keep=False).to_numpy())
    if len(dup):
        problems.append(
            Problem(
                "roi_priors",
                "region, channel",
                f"{len(dup)} rows repeat a (region, channel)",
                "one row per (region, channel)",
                _rows(table, dup, None),
                len(dup),
            )
        )
    known = set(zip(cells["region"], cells["channel"], strict=True))
    unknown = np.flatnonzero([(r, c) not in known for r, c in zip(table["region"], table["channel"], strict=True)])
    if len(unknown):
        problems.append(
            Problem(
                "roi_priors",
                "region, channel",
                f"{len(unknown)} rows name a cell with no spend in the model",
                "a (region, channel) with spend",
                _rows(table, unknown, None),
                len(unknown),
            )
        )
    if problems:
        raise ContractError(problems)
    return table.reset_index(drop=True)


def _rows(table: pd.DataFrame, positions: np.ndarray, column: str | None) -> tuple[str, ...]:
    out = []
    for p in positions[:5]:
        row = table.iloc[p]
        text = f"row {p} (region {row['region']!r}, channel {row['channel']!r}"
        text += f", {column} {row[column]!r})" if column else ")"
        out.append(text)
    return tuple(out)


def relative_roi_priors(attributed: pd.DataFrame, median: float = 1.5, log_sd: float = 0.8) -> pd.DataFrame:
    """ROI priors from attribution used for *relative* ROI only: a ``roi_priors`` table on the MMM's own scale.

    Attribution of a journey sample sees tracked users only, so its ROI is on an arbitrary scale (a 100k-user sample
    of a market with millions of buyers gives ROIs far below one). Its ranking of channels within a region is what
    it can tell: each cell's attributed ROI is divided by its region's geometric mean, and the prior median becomes
    ``median`` times that ratio, with a generous LogNormal sd ``log_sd``.

    Parameters
    ----------
    attributed : pandas.DataFrame
        ``region``, ``channel``, ``roi`` (e.g. ``attribution.attributed_roi(...).table``); rows without a finite
        ROI > 0 are left out with a :class:`contracts.DataWarning` that counts them (those cells keep the default
        prior).
    median, log_sd : float
        Prior median of ROI of a region's geometric-mean channel, and the LogNormal sd of every cell's prior.

    Returns
    -------
    pandas.DataFrame
        ``region``, ``channel``, ``roi`` (prior mean) and ``roi_sd``, ready for ``mmm.fit(roi_priors=...)``.

    Examples
    --------
    >>> table = pd.DataFrame({"region": ["A", "A"], "channel": ["x", "y"], "roi": [0.01, 0.04]})
    >>> out = relative_roi_priors(table, median=2.0, log_sd=0.5)
    >>> mu, _ = lognormal_from_mean_sd(out["roi"].to_numpy(), out["roi_sd"].to_numpy())
    >>> np.exp(mu).round(3).tolist()
    [1.0, 4.0]
    """
    if not (median > 0 and log_sd > 0):
        raise ValueError(f"median and log_sd must be > 0; got median={median!r}, log_sd={log_sd!r}")
    roi = pd.to_numeric(attributed["roi"], errors="coerce")
    usable = np.isfinite(roi) & (roi > 0)
    if not usable.all():
        skipped = attributed.loc[~usable, ["region", "channel"]].head(5).to_records(index=False).tolist()
        warnings.warn(
            f"relative_roi_priors: {int((~usable).sum())} of {len(attributed)} rows have no finite ROI > 0 and keep "
            f"the default prior (first: {skipped})",
            DataWarning,
            stacklevel=2,
        )
    table = attributed.loc[usable, ["region", "channel"]].assign(roi=roi)
    log_roi = np.log(table["roi"].to_numpy(dtype=float))
    log_ratio = log_roi - table.assign(log_roi=log_roi).groupby("region")["log_roi"].transform("mean").to_numpy()
    mean = median * np.exp(log_ratio + log_sd**2 / 2.0)
    sd = mean * np.sqrt(np.expm1(log_sd**2))
    return table[["region", "channel"]].assign(roi=mean, roi_sd=sd).reset_index(drop=True)
