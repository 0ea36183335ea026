"""The oracle: how well could *any* model recover a simulated world's cell ROIs from its data? An information bound.

The oracle knows more than any media-mix model can: each cell's true adstock and saturation curve (so a cell's
weekly contribution is known up to its ROI), the true noise sd and, optionally, the whole baseline. What is left to
estimate is linear: ``revenue = baseline + Σ_cells r_c · contribution_c(t) + noise``, where ``r_c`` is the cell's
ROI over its true ROI. Least squares (per region; regions have independent noise) gives an estimate of ``r`` that is
exactly Gaussian around the truth with the inverse Fisher information as covariance (:func:`cell_information`).
A lift test adds one more exactly Gaussian observation of its cell's ``r``: its measured revenue delta against the
true delta, with the test's standard error.

Combined with the media-mix model's default prior (LogNormal ROI, median 1.5, log sd 0.8, partial pooling of a
channel's regions with the simulator's spread), that gives the posterior an ideal analyst would report. It is
computed **exactly** (:func:`exact_posterior`): the likelihood is Gaussian on the ROI scale and the prior Gaussian
on the log scale, and the posterior is sampled by Hamiltonian Monte Carlo with a Metropolis correction (Monte Carlo
error reported).
:func:`expected_error` repeats that over simulated noise draws (what the oracle expects on this world), and
:func:`realised_error` on the world's *own* noise draw (what it would have said on exactly these data, which is what
one fit of the world should be compared with).

>>> from simulator import simulate_world
>>> info = cell_information(simulate_world(seed=7), baseline_known=False)   # doctest: +SKIP
>>> realised_error(info)[0]["median_abs_pct_error"]                          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from contracts import hdi, interval_label

#: The media-mix model's default ROI prior (mmm.MMMSpec): LogNormal(log 1.5, 0.8).
PRIOR_MEDIAN, PRIOR_LOG_SD = 1.5, 0.8
#: The simulator's lognormal spread of a cell's ROI around its channel's typical value (WorldConfig.roi_spread);
#: ROI_OVERRIDES make tiktok_shop's and kol_affiliate's actual spread larger (~0.35).
SIMULATOR_REGION_SPREAD = 0.12
WEEKS_PER_YEAR = 52.1775
#: The oracle's ROI intervals: central (equal-tailed) 90% posterior intervals.
INTERVAL = interval_label(0.9, "equal-tailed")


def regression_cov(X: np.ndarray, noise_sd: float | np.ndarray, n_first: int) -> np.ndarray:
    """Covariance of the first ``n_first`` least-squares coefficients of ``y = X b + N(0, noise_sd²)`` (the inverse
    Fisher information of this linear Gaussian model, with the remaining coefficients estimated too). ``noise_sd``
    may be one value or one per row (weighted least squares)."""
    sd = np.broadcast_to(np.asarray(noise_sd, dtype=float), (X.shape[0],))
    Xw = X / sd[:, None]
    return np.linalg.inv(Xw.T @ Xw)[:n_first, :n_first]


def baseline_regressors(n_weeks: int, controls: np.ndarray, first_week: int = 0) -> np.ndarray:
    """Intercept, linear trend (per year), two yearly Fourier harmonics and the controls, (weeks, k).

    The trend is centred on the middle of the ``n_weeks`` window. ``first_week`` > 0 continues the same terms past
    the window: rows for weeks ``first_week ...`` of a window of ``n_weeks`` (``controls`` holds one row per week
    asked for)."""
    controls = np.asarray(controls, dtype=float)
    t = first_week + np.arange(len(controls), dtype=float)
    omega = 2.0 * np.pi * t / WEEKS_PER_YEAR
    fourier = [f(k * omega) for k in (1, 2) for f in (np.sin, np.cos)]
    return np.column_stack([np.ones(len(t)), (t - (n_weeks - 1) / 2) / 52.0, *fourier, controls])


@dataclass(frozen=True)
class Information:
    """What one world's data say about its cells' ROI, as an oracle that knows the true curves reads them.

    Attributes
    ----------
    cells : pandas.DataFrame
        ``region``, ``channel``, ``roi`` (truth) and ``se_log_roi`` (relative standard error of ROI from the data
        alone).
    cov : numpy.ndarray
        Covariance of the least-squares estimate of ``r = ROI / true ROI`` over noise draws, in the order of
        ``cells``; block-diagonal by region, with the correlations between a region's channels inside each block.
    estimate : numpy.ndarray
        The least-squares estimate of ``r`` on the world's *own* noise draw (1 + the regression of that noise on
        the regressors), distributed ``N(1, cov)`` over draws.
    """

    cells: pd.DataFrame
    cov: np.ndarray
    estimate: np.ndarray


def cell_information(world, baseline_known: bool = False, lift_tests: bool = False) -> Information:
    """The oracle's information about every cell's ROI.

    The derivative of expected revenue with respect to ``r`` is the cell's true weekly contribution, so those series
    are the regressors. With ``baseline_known=False`` the baseline's own coefficients are estimated too, linearised
    at the truth: regressors ``baseline_t · z_t`` for ``z`` = intercept, trend, Fourier, controls. The noise sd is
    the simulator's (``noise_sd_share_of_level`` × the region's baseline level), not one draw's. With
    ``lift_tests=True`` each of the world's lift tests adds a row: its true revenue delta as the regressor of its
    cell, the measured minus the true delta as its noise, weighted by its standard error.
    """
    return _information(world, _designs(world, baseline_known, lift_tests))


def _designs(world, baseline_known: bool, lift_tests: bool) -> dict[str, _Design]:
    """Each region's :class:`_Design`, in the KPI table's region order."""
    return {r: _region_design(world, r, baseline_known, lift_tests) for r in world.kpi["region"].unique()}


def _information(world, designs: dict[str, _Design]) -> Information:
    """:class:`Information` from the regions' designs: their cells' blocks of covariance and own-draw estimates."""
    rows, blocks, deviations = [], [], []
    for region, design in designs.items():
        n_cells = len(design.channels)
        blocks.append(design.cov()[:n_cells, :n_cells])
        deviations.append(design.deviation()[:n_cells])
        rows += [{"region": region, "channel": ch} for ch in design.channels]
    cov = np.zeros((len(rows), len(rows)))
    start = 0
    for block in blocks:
        cov[start : start + len(block), start : start + len(block)] = block
        start += len(block)
    cells = pd.DataFrame(rows).assign(se_log_roi=np.sqrt(np.diag(cov)))
    truth = world.truth.cells[["region", "channel", "roi"]]
    cells = cells.merge(truth, on=["region", "channel"], how="left", validate="one_to_one")
    return Information(cells, cov, 1.0 + np.concatenate(deviations))


@dataclass(frozen=True)
class _Design:
    """One region's linear model at the truth: regressors ``X`` (weeks and lift tests, cells first, then the
    baseline's coefficients), each row's noise sd and the world's own noise; the truth is ``r = 1``, baseline
    coefficients ``(1, 0, ...)``."""

    channels: list
    X: np.ndarray
    sd: np.ndarray
    noise: np.ndarray

    def precision(self) -> np.ndarray:
        weighted = self.X / self.sd[:, None]
        return weighted.T @ weighted

    def cov(self) -> np.ndarray:
        return regression_cov(self.X, self.sd, self.X.shape[1])

    def deviation(self) -> np.ndarray:
        """Least-squares estimate minus the truth on the world's own noise draw."""
        return np.linalg.lstsq(self.X / self.sd[:, None], self.noise / self.sd, rcond=None)[0]


def _region_design(world, region: str, baseline_known: bool, lift_tests: bool) -> _Design:
    weekly, baseline = world.truth.weekly, world.truth.baseline
    share = float(world.truth.meta["noise_sd_share_of_level"])
    level = {p["region"]: float(p["level"]) for p in world.truth.meta["baseline_params"]}[region]
    tests = world.truth.lift_tests if lift_tests else world.truth.lift_tests.iloc[:0]
    contrib = weekly[weekly["region"] == region].pivot(index="week", columns="channel", values="contribution")
    X = contrib.to_numpy()
    base = baseline[baseline["region"] == region].set_index("week").loc[contrib.index]
    if not baseline_known:
        ctl = _control_values(world.controls, region, contrib.index)
        z = baseline_regressors(len(contrib), ctl)
        X = np.column_stack([X, base["baseline"].to_numpy()[:, None] * z])
    noise = base["noise"].to_numpy()
    # A noiseless world (noise_sd=0) keeps only rounding to cents: weight its weeks as if nearly exact.
    sd = np.full(len(X), max(share, 1e-9) * level)
    for test in tests[tests["region"] == region].itertuples():
        row = np.zeros(X.shape[1])
        row[list(contrib.columns).index(test.channel)] = test.revenue_delta_true
        X = np.vstack([X, row])
        noise = np.append(noise, test.revenue_delta - test.revenue_delta_true)
        sd = np.append(sd, test.revenue_delta_se)
    return _Design(list(contrib.columns), X, sd, noise)


def _control_values(controls: pd.DataFrame, region: str, weeks) -> np.ndarray:
    cols = [c for c in controls.columns if c not in ("week", "region")]
    return controls[controls["region"] == region].set_index("week").loc[weeks, cols].to_numpy(dtype=float)


def prior_cov(channels: np.ndarray, prior_log_sd: float, tau: float | None) -> np.ndarray:
    """Prior covariance of the cells' log ROI: ``prior_log_sd²`` shared by cells of one channel plus ``tau²`` of
    regional departure; ``tau=None`` gives every cell its own independent prior (no pooling)."""
    if tau is None:
        return prior_log_sd**2 * np.eye(len(channels))
    if not tau > 0:
        raise ValueError(f"tau must be > 0 (or None for no pooling); got {tau!r}")
    same = np.asarray(channels)[:, None] == np.asarray(channels)[None, :]
    return prior_log_sd**2 * same + tau**2 * np.eye(len(channels))


def joint_posterior(
    estimate: np.ndarray, data_cov: np.ndarray, prior_mean: np.ndarray, prior_covariance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian posterior (mean, covariance) of ``theta`` from estimates ``~ N(theta, data_cov)`` and a Gaussian
    prior ``N(prior_mean, prior_covariance)``. ``estimate`` may be (cells,) or (replicates, cells).

    The exact oracle uses it on the log scale (relative errors as log errors) for its starting point only."""
    prior_precision = np.linalg.inv(prior_covariance)
    data_precision = np.linalg.inv(data_cov)
    cov = np.linalg.inv(prior_precision + data_precision)
    estimate = np.asarray(estimate, dtype=float)
    mean = (prior_precision @ prior_mean + estimate @ data_precision) @ cov  # both precisions are symmetric
    return mean, cov


@dataclass(frozen=True)
class OraclePosterior:
    """The exact oracle posterior of every cell's ROI on one estimate.

    Attributes
    ----------
    roi : numpy.ndarray
        Posterior mean of ROI per cell.
    roi_median : numpy.ndarray
        Posterior median of ROI per cell (``exp`` of the median of log ROI).
    roi_low, roi_high : numpy.ndarray
        Bounds of the central 90% posterior interval of ROI per cell (:attr:`interval`).
    log_roi_sd : numpy.ndarray
        Posterior sd of log ROI per cell.
    roi_mcse : numpy.ndarray
        Monte Carlo standard error of ``roi`` (spread of the independent chains' means).
    acceptance : float
        Mean acceptance rate of the Hamiltonian Monte Carlo proposals.
    interval : str
        The kind and mass of ``roi_low``/``roi_high``: ``"90% equal-tailed"``.
    log_roi_draws : numpy.ndarray
        The kept draws of log ROI, all chains stacked, ``(draws, cells)``.
    """

    roi: np.ndarray
    roi_median: np.ndarray
    roi_low: np.ndarray
    roi_high: np.ndarray
    log_roi_sd: np.ndarray
    roi_mcse: np.ndarray
    acceptance: float
    interval: str = INTERVAL
    log_roi_draws: np.ndarray | None = field(default=None, repr=False)


def exact_posterior(
    true_roi: np.ndarray,
    estimate: np.ndarray,
    cov: np.ndarray,
    prior_mean: np.ndarray,
    prior_covariance: np.ndarray,
    *,
    chains: int = 64,
    draws: int = 500,
    seed: int = 0,
) -> OraclePosterior:
    """Posterior of log ROI ``theta`` when ``estimate ~ N(exp(theta) / true_roi, cov)`` (the oracle's least-squares
    ROI ratios, Gaussian on the ROI scale) and ``theta ~ N(prior_mean, prior_covariance)``.

    The posterior is Gaussian in neither scale. It is sampled exactly (up to Monte Carlo error) by Hamiltonian Monte
    Carlo with a Metropolis correction: ``chains`` independent chains run side by side, in coordinates whitened by
    the Laplace approximation at the posterior mode (so one step size fits every direction), started from that
    approximation, with a random step size and a path of about a quarter period per proposal. The first third of
    the draws is discarded. :attr:`OraclePosterior.roi_mcse` gives the Monte Carlo error from the spread of the
    chains' means.
    """
    log_true = np.log(np.asarray(true_roi, dtype=float))
    precision = np.linalg.inv(cov)
    prior_precision = np.linalg.inv(prior_covariance)
    estimate = np.asarray(estimate, dtype=float)

    def log_density(theta: np.ndarray) -> np.ndarray:
        resid = estimate - np.exp(theta - log_true)
        centred = theta - prior_mean
        return -0.5 * (
            ((resid @ precision) * resid).sum(axis=-1) + ((centred @ prior_precision) * centred).sum(axis=-1)
        )

    def gradient(theta: np.ndarray) -> np.ndarray:
        u = np.exp(theta - log_true)
        return u * ((estimate - u) @ precision) - (theta - prior_mean) @ prior_precision

    def hessian(theta: np.ndarray) -> np.ndarray:
        u = np.exp(theta - log_true)
        return -(precision * np.outer(u, u)) + np.diag(u * (precision @ (estimate - u))) - prior_precision

    # Start from the log-scale Gaussian approximation (relative errors read as log errors), then find the mode.
    start, _ = joint_posterior(log_true + np.log(np.maximum(estimate, 0.05)), cov, prior_mean, prior_covariance)
    found = optimize.minimize(
        lambda t: -log_density(t), start, jac=lambda t: -gradient(t), hess=lambda t: -hessian(t), method="trust-exact"
    )
    mode = found.x
    scale = np.linalg.inv(-hessian(mode))
    chol = np.linalg.cholesky(0.5 * (scale + scale.T))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((chains, len(mode)))  # whitened: theta = mode + x @ chol.T

    def energy_and_grad(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = mode + x @ chol.T
        return -log_density(theta), -gradient(theta) @ chol

    with np.errstate(over="ignore", invalid="ignore"):  # a proposal far out overflows exp(): it is rejected below
        theta, accepted = _hmc(energy_and_grad, x, mode, chol, draws, rng)
    roi = np.exp(theta)
    flat = theta.reshape(-1, theta.shape[-1])
    low, median, high = np.quantile(flat, [0.05, 0.5, 0.95], axis=0)
    return OraclePosterior(
        roi=roi.mean(axis=(0, 1)),
        roi_median=np.exp(median),
        roi_low=np.exp(low),
        roi_high=np.exp(high),
        log_roi_sd=flat.std(axis=0),
        roi_mcse=roi.mean(axis=1).std(axis=0, ddof=1) / np.sqrt(chains),
        acceptance=float(np.mean(accepted)),
        log_roi_draws=flat,
    )


def _hmc(energy_and_grad, x: np.ndarray, mode: np.ndarray, chol: np.ndarray, draws: int, rng) -> tuple:
    """Metropolis-corrected Hamiltonian Monte Carlo on whitened coordinates ``x`` (chains, cells), all chains at
    once: a random step size in [0.15, 0.35] and a path of length ~1.2 per proposal, ``draws // 2`` warm-up
    iterations discarded. Returns the draws of ``theta = mode + x @ chol.T`` (chains, draws, cells) and the
    acceptance rate per kept iteration."""
    chains = len(x)
    potential, grad = energy_and_grad(x)
    kept, accepted = [], []
    burn = draws // 2
    for i in range(burn + draws):
        step = rng.uniform(0.15, 0.35)
        n_steps = int(np.ceil(1.2 / step))
        momentum = rng.standard_normal(x.shape)
        kinetic = 0.5 * (momentum**2).sum(axis=1)
        new_x, new_grad = x, grad
        p = momentum - 0.5 * step * new_grad
        for leap in range(n_steps):
            new_x = new_x + step * p
            new_potential, new_grad = energy_and_grad(new_x)
            if leap < n_steps - 1:
                p = p - step * new_grad
        p = p - 0.5 * step * new_grad
        log_accept = potential + kinetic - new_potential - 0.5 * (p**2).sum(axis=1)
        accept = np.log(rng.uniform(size=chains)) < np.nan_to_num(log_accept, nan=-np.inf)
        x = np.where(accept[:, None], new_x, x)
        potential = np.where(accept, new_potential, potential)
        grad = np.where(accept[:, None], new_grad, grad)
        if i >= burn:
            kept.append(mode + x @ chol.T)
            accepted.append(accept.mean())
    return np.stack(kept, axis=1), accepted


def oracle_posterior(
    info: Information,
    estimate: np.ndarray | None = None,
    *,
    prior_median: float = PRIOR_MEDIAN,
    prior_log_sd: float = PRIOR_LOG_SD,
    tau: float | None = SIMULATOR_REGION_SPREAD,
    draws: int = 500,
    seed: int = 0,
) -> OraclePosterior:
    """:func:`exact_posterior` of ``info``'s cells on ``estimate`` (default: the world's own draw) under the default
    prior with pooling ``tau`` (``None``: none)."""
    prior = prior_cov(info.cells["channel"].to_numpy(), prior_log_sd, tau)
    return exact_posterior(
        info.cells["roi"].to_numpy(),
        info.estimate if estimate is None else estimate,
        info.cov,
        np.full(len(info.cells), np.log(prior_median)),
        prior,
        draws=draws,
        seed=seed,
    )


def expected_error(
    info: Information,
    *,
    prior_median: float = PRIOR_MEDIAN,
    prior_log_sd: float = PRIOR_LOG_SD,
    tau: float | None = SIMULATOR_REGION_SPREAD,
    replicates: int = 200,
    draws: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """The exact oracle's ROI recovery over ``replicates`` draws of the data's noise (estimates ``N(1, cov)``).

    Returns the mean (and 10th/90th percentile across replicates) of the median absolute % error of posterior-mean
    ROI, its Monte Carlo standard error, the mean coverage of central 90% intervals, the median posterior sd of
    log ROI and the lowest acceptance rate of the sampler over the replicates (a health check: near 1 when the
    posterior is close to Gaussian in log ROI, lower where the ROI-scale likelihood bends it).
    """
    rng = np.random.default_rng(seed)
    ratios = 1.0 + rng.standard_normal((replicates, len(info.cells))) @ np.linalg.cholesky(info.cov).T
    truth = info.cells["roi"].to_numpy()
    errors, inside, sds, acceptance = [], [], [], []
    for i, ratio in enumerate(ratios):
        post = oracle_posterior(
            info, ratio, prior_median=prior_median, prior_log_sd=prior_log_sd, tau=tau, draws=draws, seed=i
        )
        errors.append(np.median(np.abs(post.roi / truth - 1.0)))
        inside.append(((truth >= post.roi_low) & (truth <= post.roi_high)).mean())
        sds.append(np.median(post.log_roi_sd))
        acceptance.append(post.acceptance)
    errors = np.asarray(errors)
    return {
        "median_abs_pct_error": 100 * float(errors.mean()),
        "monte_carlo_se": 100 * float(errors.std() / np.sqrt(replicates)),
        "error_p10": 100 * float(np.percentile(errors, 10)),
        "error_p90": 100 * float(np.percentile(errors, 90)),
        "interval90_coverage": float(np.mean(inside)),
        "median_posterior_log_sd": float(np.median(sds)),
        "min_acceptance": float(np.min(acceptance)),
    }


def realised_error(
    info: Information,
    *,
    prior_median: float = PRIOR_MEDIAN,
    prior_log_sd: float = PRIOR_LOG_SD,
    tau: float | None = SIMULATOR_REGION_SPREAD,
    draws: int = 500,
) -> tuple[dict[str, float], pd.DataFrame]:
    """The exact oracle posterior on the world's own noise draw (``info.estimate``), not averaged over draws: what
    an analyst who knew every true curve would have reported on exactly these data.

    Returns the summary (median absolute % error of posterior-mean ROI, the same of posterior-median ROI as
    ``median_abs_pct_error_of_median``, 90% interval coverage, Monte Carlo se) and per-cell rows: ``region``,
    ``channel``, ``roi_true``, ``roi`` (posterior mean), ``roi_median``, ``roi_low``, ``roi_high``
    (``attrs["interval"]``: ``"90% equal-tailed"``) and ``error`` (``roi / roi_true - 1``). The rows score like any
    estimate: ``simulator.roi_recovery(cells, world.truth.cells)``.
    """
    post = oracle_posterior(info, prior_median=prior_median, prior_log_sd=prior_log_sd, tau=tau, draws=draws)
    truth = info.cells["roi"].to_numpy()
    cells = info.cells[["region", "channel"]].assign(
        roi_true=truth, roi=post.roi, roi_median=post.roi_median, roi_low=post.roi_low, roi_high=post.roi_high
    )
    cells["error"] = cells["roi"] / cells["roi_true"] - 1.0
    cells.attrs["interval"] = post.interval
    summary = {
        "median_abs_pct_error": 100 * float(np.median(np.abs(cells["error"]))),
        "median_abs_pct_error_of_median": 100 * float(np.median(np.abs(cells["roi_median"] / truth - 1.0))),
        "interval90_coverage": float(((truth >= post.roi_low) & (truth <= post.roi_high)).mean()),
        "monte_carlo_se": 100 * float(np.median(post.roi_mcse / truth)),
        "acceptance": post.acceptance,
    }
    return summary, cells


def prior_only_error(
    cells: pd.DataFrame, prior_median: float = PRIOR_MEDIAN, prior_log_sd: float = PRIOR_LOG_SD
) -> float:
    """Median absolute % error when every cell's estimate is the prior mean (no data at all)."""
    prior_mean = prior_median * np.exp(prior_log_sd**2 / 2)
    return 100 * float(np.median(np.abs(prior_mean / cells["roi"].to_numpy() - 1.0)))


def forecast_oracle(
    world,
    realization,
    *,
    lift_tests: bool = True,
    hdi_prob: float = 0.9,
    prior_median: float = PRIOR_MEDIAN,
    prior_log_sd: float = PRIOR_LOG_SD,
    tau: float | None = SIMULATOR_REGION_SPREAD,
    draws: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """The forecast an analyst who knew every true curve would make of ``realization``'s new weeks, from ``world``'s
    data (its own noise draw), given the spend that was realized.

    The oracle of :func:`cell_information` (true curves, baseline estimated, lift tests if asked) with the default
    prior: each cell's ROI from :func:`exact_posterior`; given those, the baseline's coefficients are Gaussian (flat
    prior, the least-squares conditional), drawn alongside. The new weeks' expected revenue is then linear in both:
    the cells' true contributions at the realized spend times ``r``, and the baseline's terms continued past the
    window (trend, Fourier, the realized controls) times the true baseline. The predictive adds the simulator's
    noise (sd ``noise_sd_share_of_level`` × level a week, independent weeks).

    Returns one row per region and ``"total"``: ``truth`` (true expected revenue over the new weeks), ``mean`` and
    ``sd`` (posterior of the expected revenue), ``noise_sd`` (of the realized sum about its expectation), ``low`` /
    ``high`` (the ``hdi_prob`` HDI of the predictive, as the check's interval) and ``truth_z`` = (truth − mean) / sd.
    So what the data themselves say about the quarter can be told apart from what a model adds. A ``shift`` of a
    cell's effect in the realization is not foreseen (the oracle knows the curves the world's data came from).
    """
    designs = _designs(world, baseline_known=False, lift_tests=lift_tests)
    info = _information(world, designs)
    post = oracle_posterior(info, prior_median=prior_median, prior_log_sd=prior_log_sd, tau=tau, draws=draws, seed=seed)
    r = np.exp(post.log_roi_draws - np.log(info.cells["roi"].to_numpy()))
    rng = np.random.default_rng(seed)
    share = float(world.truth.meta["noise_sd_share_of_level"])
    levels = {p["region"]: float(p["level"]) for p in world.truth.meta["baseline_params"]}
    n_weeks = world.truth.baseline["week"].nunique()
    new = realization.revenue.sort_values(["region", "week"])
    contributions = realization.contributions
    regions = list(designs)
    expected, noise_var, truth = [], [], []
    for region, design in designs.items():
        k = len(design.channels)
        coef_hat = design.deviation()
        coef_hat[: k + 1] += 1.0  # truth: r = 1, baseline intercept 1
        # The baseline's coefficients given the cells' r (flat prior): Gaussian with covariance the inverse of the
        # precision's baseline block, and mean moved from the estimate by -(that) · precision[baseline, cells] · Δr.
        precision = design.precision()
        cond_chol = np.linalg.cholesky(np.linalg.inv(precision[k:, k:]))
        shift = -np.linalg.solve(precision[k:, k:], precision[k:, :k])  # (baseline terms, cells)
        r_region = r[:, (info.cells["region"] == region).to_numpy()]
        gamma = coef_hat[k:] + (r_region - coef_hat[:k]) @ shift.T
        gamma += rng.standard_normal(gamma.shape) @ cond_chol.T
        rows = new[new["region"] == region]
        future = contributions[contributions["region"] == region]
        # the curves as the world's data knew them: a shift of a cell's effect in the new weeks is not foreseen
        unshifted = future["contribution"] / future["effect_factor"]
        media = future.assign(unshifted=unshifted).pivot(index="week", columns="channel", values="unshifted")
        media = media[design.channels].to_numpy()
        z = baseline_regressors(n_weeks, _control_values(realization.data.controls, region, rows["week"]), n_weeks)
        base = rows["baseline"].to_numpy()[:, None] * z
        expected.append(r_region @ media.sum(axis=0) + gamma @ base.sum(axis=0))
        noise_var.append(len(rows) * (share * levels[region]) ** 2)
        truth.append(float(rows["expected_revenue"].sum()))
    expected = np.column_stack([*expected, np.sum(expected, axis=0)])
    noise_sd = np.sqrt([*noise_var, sum(noise_var)])
    predictive = expected + rng.standard_normal(expected.shape) * noise_sd
    low, high = hdi(predictive, hdi_prob)
    out = pd.DataFrame(
        {
            "region": [*regions, "total"],
            "truth": [*truth, sum(truth)],
            "mean": expected.mean(axis=0),
            "sd": expected.std(axis=0),
            "noise_sd": noise_sd,
            "low": low,
            "high": high,
        }
    )
    out["truth_z"] = (out["truth"] - out["mean"]) / out["sd"]
    out.attrs["interval"] = interval_label(hdi_prob, "HDI")
    return out
