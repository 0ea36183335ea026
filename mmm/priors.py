"""ROI priors stated in business terms: a table of (region, channel, roi, roi_sd) → LogNormal parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts import ContractError, Problem

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
        ``attribution.attributed_roi``. Cells it does not name get the default prior.
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
