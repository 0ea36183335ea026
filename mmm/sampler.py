"""How to sample the posterior: one validated settings object, with an optional progress callback."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

BACKENDS = ("nutpie", "pymc", "numpyro")
#: Allowed (low, high) of the integer settings: more draws or chains than this is a typo, not a fit (memory grows
#: with chains × draws × weeks × cells).
LIMITS = {"draws": (1, 100_000), "tune": (0, 100_000), "chains": (1, 64)}
#: Seeds are non-negative integers below 2**32 (what NumPy, PyMC and nutpie all take).
MAX_SEED = 2**32 - 1
#: How often (seconds) a running nutpie sampler is polled for the progress callback.
_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Progress:
    """One progress report of a fit.

    Attributes
    ----------
    stage : {"compiling", "sampling", "done"}
        What the fit is doing.
    fraction : float or None
        Share of the sampling work done, in [0, 1]; ``None`` when the backend does not say (nutpie reports only that
        it is still running: show a spinner with ``elapsed_s``).
    elapsed_s : float
        Seconds since the stage began.
    """

    stage: str
    fraction: float | None
    elapsed_s: float


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Sampler:
    """NUTS settings of :func:`mmm.fit`.

    Parameters
    ----------
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, and the number of chains (run on up to 2 cores); at most
        100,000 draws, 100,000 tuning steps and 64 chains (:data:`LIMITS`).
    target_accept : float
        NUTS target acceptance rate in (0, 1). The default 0.98 takes smaller steps than the usual 0.8: lift tests
        pin a cell's curve at a few spend levels, a narrow curved ridge in (ROI, saturation, adstock) where 0.95
        diverged on up to 0.3% of draws; 0.98 gave 0–0.05% divergences and R-hat <= 1.007 on the sample world.
    backend : {"nutpie", "pymc", "numpyro"}
        NUTS implementation; falls back to PyMC's own (with a warning) when the chosen one is not installed.
    progress : callable, optional
        Called with a :class:`Progress` while the fit runs (a CLI can draw a bar, the app a spinner). It must return
        quickly; an exception raised in it stops the fit.

    Examples
    --------
    >>> Sampler.preview().draws
    250
    >>> Sampler(draws=500, chains=2).tune
    1000
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.98
    backend: str = "nutpie"
    progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"Sampler.{name} must be an integer >= {low}; got {value!r}")
            if value > high:
                raise ValueError(f"Sampler.{name} must be <= {high:_}; got {value:_}")
            object.__setattr__(self, name, int(value))
        ta = self.target_accept
        if isinstance(ta, bool) or not isinstance(ta, (int, float)) or not 0 < ta < 1:
            raise ValueError(f"Sampler.target_accept must be a number in (0, 1); got {ta!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"Sampler.backend must be one of {list(BACKENDS)}; got {self.backend!r}")
        if self.progress is not None and not callable(self.progress):
            raise ValueError(f"Sampler.progress must be callable or None; got {type(self.progress).__name__}")

    @classmethod
    def preview(cls, **changes: Any) -> Sampler:
        """The app's fast preview: 250 draws after 300 tuning steps on 2 chains.

        39 s on the sample world on the slower of this project's CPU types, compilation included (57 s with 600
        tuning steps). Since every free parameter sits on unit prior scale (issue 11), short tuning no longer leaves
        chains crawling at the maximum tree depth. Diagnostics will usually fail (few draws): it is a preview.
        """
        return replace(cls(draws=250, tune=300, chains=2), **changes)

    def settings(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (without the callback), as recorded in ``FittedMMM.info``."""
        return {
            "backend": self.backend,
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "target_accept": float(self.target_accept),
        }

    def _report(self, stage: str, fraction: float | None, started: float) -> None:
        if self.progress is not None:
            self.progress(Progress(stage, fraction, time.perf_counter() - started))


def check_seed(seed: object) -> int | None:
    """``seed`` as an int, or ``None``; refuse booleans, fractions and text rather than truncate ``1.7`` to 1."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, {MAX_SEED}] or None; got {type(seed).__name__} {seed!r}")
    return int(seed)


@contextmanager
def without_blas_notice() -> Iterator[None]:
    """Hide PyTensor's notice that it found no BLAS library: a user cannot act on it and no step needs one (nutpie
    compiles with numba; the suite passes on a machine without one). Any other warning still shows."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)
        yield


def run(model, sampler: Sampler, seed: int) -> tuple[Any, str]:
    """Sample ``model`` with ``sampler``; return the InferenceData (free variables and deterministics only) and the
    backend actually used."""
    with without_blas_notice():
        return _run(model, sampler, seed)


def _run(model, sampler: Sampler, seed: int) -> tuple[Any, str]:
    keep = [v.name for v in model.free_RVs + model.deterministics]
    backend = sampler.backend
    if backend == "nutpie":
        try:
            import nutpie
        except ImportError:
            warnings.warn("nutpie is not installed; sampling with PyMC's NUTS instead", UserWarning, stacklevel=3)
            backend = "pymc"
        else:
            return _only(_nutpie(nutpie, model, sampler, seed), keep), "nutpie"
    if backend == "numpyro":
        try:
            import numpyro  # noqa: F401
        except ImportError:
            warnings.warn("numpyro is not installed; sampling with PyMC's NUTS instead", UserWarning, stacklevel=3)
            backend = "pymc"
    return _only(_pymc(model, sampler, seed, backend), keep), backend


def _nutpie(nutpie, model, sampler: Sampler, seed: int):
    started = time.perf_counter()
    sampler._report("compiling", 0.0, started)
    compiled = nutpie.compile_pymc_model(model, backend="numba")
    started = time.perf_counter()
    sampler._report("sampling", 0.0, started)
    background = nutpie.sample(
        compiled,
        draws=sampler.draws,
        tune=sampler.tune,
        chains=sampler.chains,
        cores=min(sampler.chains, 2),
        seed=seed,
        target_accept=sampler.target_accept,
        progress_bar=False,
        save_warmup=False,
        blocking=False,
    )
    try:
        while not _finished(background):
            sampler._report("sampling", None, started)
            time.sleep(_POLL_SECONDS)
    except BaseException:
        background.abort()
        raise
    idata = background.wait()
    sampler._report("done", 1.0, started)
    return idata


def _finished(background) -> bool:
    # nutpie 0.16 answers "still running" by raising TimeoutError from is_finished.
    try:
        return bool(background.is_finished)
    except TimeoutError:
        return False


def _pymc(model, sampler: Sampler, seed: int, backend: str):
    import pymc as pm

    started = time.perf_counter()
    kwargs: dict[str, Any] = {}
    if backend == "numpyro":
        kwargs["nuts_sampler"] = "numpyro"
    elif sampler.progress is not None:
        total = sampler.chains * (sampler.draws + sampler.tune)
        done = [0]

        def tick(trace, draw) -> None:
            done[0] += 1
            if done[0] % 50 == 0:
                sampler._report("sampling", min(done[0] / total, 1.0), started)

        kwargs["callback"] = tick
    sampler._report("sampling", 0.0, started)
    with model:
        idata = pm.sample(
            draws=sampler.draws,
            tune=sampler.tune,
            chains=sampler.chains,
            cores=min(sampler.chains, 2),
            random_seed=seed,
            target_accept=sampler.target_accept,
            progressbar=False,
            compute_convergence_checks=False,
            **kwargs,
        )
    sampler._report("done", 1.0, started)
    return idata


def _only(idata, keep: list[str]):
    """Drop sampler extras (e.g. unconstrained copies) from the posterior; keep observed data and stats."""
    post = idata.posterior
    drop = [v for v in post.data_vars if v not in keep]
    if drop:
        idata.posterior = post.drop_vars(drop)
    return idata
