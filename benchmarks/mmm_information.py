"""How well could *any* model recover the sample world's cell ROIs from spend and revenue? An information bound.

The oracle here knows more than any media-mix model can: each cell's true adstock and saturation curve (so a
cell's weekly contribution is known up to its ROI), the noise sd and, optionally, the whole baseline. What is left
to estimate is linear: revenue = baseline + Σ_cells ROI_c · g_c(t) + noise, with ``ROI_c · g_c(t)`` the cell's true
weekly contribution. Its Fisher information gives the smallest standard error of each cell's log ROI that any
unbiased estimator can reach (Cramér–Rao). Combining it with our model's default LogNormal ROI prior and partial
pooling across regions (Gaussian, closed form) gives the posterior an ideal analyst would get, and, by simulating
the data's noise, the median absolute % error of its posterior-mean ROI: the issue's recovery metric.

If even this oracle misses the 20% target, no honest model can meet it on this world without more information
(lift tests, attribution priors) or a prior that happens to sit on the truth.

Run::

    python benchmarks/mmm_information.py          # ~1 minute: sample world, sensitivities, other seeds

Prints a table and writes ``benchmarks/results/mmm_information.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import simulate_world

RESULTS = Path(__file__).parent / "results" / "mmm_information.json"
#: Our model's default ROI prior (mmm.MMMSpec): LogNormal(log 1.5, 0.8).
PRIOR_MEDIAN, PRIOR_LOG_SD = 1.5, 0.8
#: The simulator's lognormal spread of a cell's ROI around its channel's typical value (WorldConfig.roi_spread).
TRUE_REGION_SPREAD = 0.12
WEEKS_PER_YEAR = 52.1775


def regression_se(X: np.ndarray, noise_sd: float, n_first: int) -> np.ndarray:
    """Standard errors of the first ``n_first`` coefficients of ``y = X b + N(0, noise_sd²)`` (least squares,
    which is the Cramér–Rao bound for this linear Gaussian model)."""
    cov = noise_sd**2 * np.linalg.inv(X.T @ X)
    return np.sqrt(np.diag(cov)[:n_first])


def baseline_regressors(n_weeks: int, controls: np.ndarray) -> np.ndarray:
    """Intercept, linear trend (per year), two yearly Fourier harmonics and the controls, (weeks, k)."""
    t = np.arange(n_weeks, dtype=float)
    omega = 2.0 * np.pi * t / WEEKS_PER_YEAR
    fourier = [f(k * omega) for k in (1, 2) for f in (np.sin, np.cos)]
    return np.column_stack([np.ones(n_weeks), (t - t.mean()) / 52.0, *fourier, controls])


def cell_information(world, baseline_known: bool) -> pd.DataFrame:
    """Per cell: the oracle's standard error of log ROI from one region's weekly revenue.

    The derivative of expected revenue with respect to a cell's log ROI is the cell's true weekly contribution, so
    those series are the regressors. With ``baseline_known=False`` the baseline's own coefficients are estimated too,
    linearised at the truth: regressors ``baseline_t · z_t`` for ``z`` = intercept, trend, Fourier, controls.
    Noise sd is the sd of the truth's noise series in the region.
    """
    weekly, baseline = world.truth.weekly, world.truth.baseline
    controls = world.controls
    control_cols = [c for c in controls.columns if c not in ("week", "region")]
    rows = []
    for region in world.kpi["region"].unique():
        contrib = weekly[weekly["region"] == region].pivot(index="week", columns="channel", values="contribution")
        base = baseline[baseline["region"] == region].set_index("week").loc[contrib.index]
        X = contrib.to_numpy()
        if not baseline_known:
            ctl = controls[controls["region"] == region].set_index("week").loc[contrib.index, control_cols]
            z = baseline_regressors(len(contrib), ctl.to_numpy(dtype=float))
            X = np.column_stack([X, base["baseline"].to_numpy()[:, None] * z])
        se = regression_se(X, float(base["noise"].std()), contrib.shape[1])
        rows += [{"region": region, "channel": ch, "se_log_roi": s} for ch, s in zip(contrib.columns, se, strict=True)]
    truth = world.truth.cells[["region", "channel", "roi"]]
    return pd.DataFrame(rows).merge(truth, on=["region", "channel"], validate="one_to_one")


def pooled_posterior(
    estimate: np.ndarray, se: np.ndarray, prior_log_median: float, prior_log_sd: float, tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian posterior of one channel's cell log ROIs (mean, covariance).

    Prior: ``log ROI_r = mu + delta_r`` with ``mu ~ N(prior_log_median, prior_log_sd²)`` shared by the channel's
    regions and ``delta_r ~ N(0, tau²)``; data: ``estimate_r ~ N(log ROI_r, se_r²)``, independent.
    """
    n = len(estimate)
    prior_cov = prior_log_sd**2 * np.ones((n, n)) + tau**2 * np.eye(n)
    precision = np.linalg.inv(prior_cov) + np.diag(1.0 / se**2)
    cov = np.linalg.inv(precision)
    mean = cov @ (np.linalg.solve(prior_cov, np.full(n, prior_log_median)) + estimate / se**2)
    return mean, cov


def expected_error(
    cells: pd.DataFrame,
    *,
    prior_median: float = PRIOR_MEDIAN,
    prior_log_sd: float = PRIOR_LOG_SD,
    tau: float | None = TRUE_REGION_SPREAD,
    replicates: int = 400,
    seed: int = 0,
) -> dict[str, float]:
    """The oracle posterior's ROI recovery over ``replicates`` draws of the data's noise.

    ``cells`` has ``channel``, ``roi`` (truth) and ``se_log_roi``. ``tau=None`` fits each cell alone (no pooling).
    Returns the mean (and 10th/90th percentile across replicates) of the median absolute % error of posterior-mean
    ROI, the mean coverage of 90% central intervals, and the median posterior sd of log ROI.
    """
    rng = np.random.default_rng(seed)
    groups = (
        [g for _, g in cells.groupby("channel")] if tau is not None else [cells.iloc[[i]] for i in range(len(cells))]
    )
    errors, coverage, sds = [], [], []
    z90 = 1.6448536269514722
    for _ in range(replicates):
        err, inside = [], []
        for g in groups:
            truth, se = np.log(g["roi"].to_numpy()), g["se_log_roi"].to_numpy()
            mean, cov = pooled_posterior(
                truth + rng.normal(0.0, se), se, np.log(prior_median), prior_log_sd, tau or 0.0
            )
            sd = np.sqrt(np.diag(cov))
            err += list(np.abs(np.exp(mean + sd**2 / 2) / g["roi"].to_numpy() - 1.0))
            inside += list(np.abs(truth - mean) <= z90 * sd)
            if len(sds) < len(cells):
                sds += list(sd)
        errors.append(np.median(err))
        coverage.append(np.mean(inside))
    return {
        "median_abs_pct_error": 100 * float(np.mean(errors)),
        "error_p10": 100 * float(np.percentile(errors, 10)),
        "error_p90": 100 * float(np.percentile(errors, 90)),
        "hdi90_coverage": float(np.mean(coverage)),
        "median_posterior_log_sd": float(np.median(sds)),
    }


def prior_only_error(cells: pd.DataFrame, prior_median: float = PRIOR_MEDIAN, prior_log_sd: float = PRIOR_LOG_SD):
    """Median absolute % error when every cell's estimate is the prior mean (no data at all)."""
    prior_mean = prior_median * np.exp(prior_log_sd**2 / 2)
    return 100 * float(np.median(np.abs(prior_mean / cells["roi"].to_numpy() - 1.0)))


def main() -> int:
    rows = []

    def add(label: str, world, *, baseline_known: bool = False, **kw) -> pd.DataFrame:
        cells = cell_information(world, baseline_known)
        rows.append({"case": label, "data_only_se": float(cells["se_log_roi"].median()), **expected_error(cells, **kw)})
        return cells

    sample = simulate_world(seed=7)
    cells = add("sample world, pooled (true spread 0.12), baseline unknown", sample)
    add("sample world, pooled (true spread 0.12), baseline known", sample, baseline_known=True)
    add("sample world, pooled (spread 0.3), baseline unknown", sample, tau=0.3)
    add("sample world, no pooling, baseline unknown", sample, tau=None)
    for median in (1.0, 2.0, 2.5):
        add(f"sample world, pooled, prior median {median} (1.5 default)", sample, prior_median=median)
    for seed in (1, 2, 3):
        add(f"world seed {seed}, pooled", simulate_world(seed=seed))
    for noise in (0.015, 0.01):
        add(f"sample world, pooled, noise_sd {noise} (0.03 in the sample)", simulate_world(seed=7, noise_sd=noise))
    add("sample world, pooled, 208 weeks (104 in the sample)", simulate_world(seed=7, weeks=208))
    by_channel = cells.groupby("channel")["se_log_roi"].median().round(3).to_dict()
    prior_only = prior_only_error(cells)

    print("Oracle ROI recovery (true response curves and noise sd known; default LogNormal(log 1.5, 0.8) prior):")
    print("median_abs_pct_error is the mean over 400 noise replicates of the median abs % error of posterior-mean ROI")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    prior_mean = PRIOR_MEDIAN * np.exp(PRIOR_LOG_SD**2 / 2)
    print(f"prior only (every cell at the prior mean {prior_mean:.2f}): median abs error {prior_only:.1f}%")
    print("data-only se of log ROI, one region (sample world, baseline unknown), median by channel:")
    print("  " + ", ".join(f"{k} {v}" for k, v in by_channel.items()))
    RESULTS.parent.mkdir(exist_ok=True)
    payload = {
        "prior": {"median": PRIOR_MEDIAN, "log_sd": PRIOR_LOG_SD},
        "rows": rows,
        "prior_only_median_abs_pct_error": prior_only,
        "sample_se_log_roi_by_channel": by_channel,
    }
    RESULTS.write_text(json.dumps(payload, indent=1))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
