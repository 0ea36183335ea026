"""Adstock components: how spend carries over into later weeks.

Every adstock here uses *normalised* weights over lags ``0..l_max-1`` (they sum to one), so adstocked spend stays in
spend units and a constant weekly spend ``x`` has adstock ``x`` once ``l_max`` weeks have passed. Spend before the
first week is taken as zero.

The same weight formulas serve numpy (post-processing, response curves) and pytensor (the PyMC model): they only use
arithmetic operators, so they run on either kind of array.

>>> import numpy as np
>>> GeometricAdstock(l_max=3).weights({"alpha": np.array([0.5])}).round(4).ravel().tolist()
[0.5714, 0.2857, 0.1429]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from mmm.components import component_from_dict, register

#: Adstock components by ``kind``; every subclass with a ``kind`` registers itself.
ADSTOCKS: dict[str, type[Adstock]] = {}


def lagged(spend: np.ndarray, l_max: int) -> np.ndarray:
    """Stack lagged copies of ``spend`` (time on axis 0): ``out[l, t] = spend[t - l]``, zero before the start.

    Parameters
    ----------
    spend : numpy.ndarray
        Shape ``(weeks, ...)``.
    l_max : int
        Number of lags (0 .. l_max-1).

    Returns
    -------
    numpy.ndarray
        Shape ``(l_max, weeks, ...)``.
    """
    spend = np.asarray(spend, dtype=float)
    out = np.zeros((l_max, *spend.shape))
    n_weeks = spend.shape[0]
    for lag in range(min(l_max, n_weeks)):
        out[lag, lag:] = spend[: n_weeks - lag]
    return out


def convolve(lags: Any, weights: Any) -> Any:
    """Adstocked spend from :func:`lagged` spend ``(l_max, weeks, cells)`` and weights ``(l_max, cells)``.

    Works on numpy arrays and on pytensor tensors alike.
    """
    return (lags * weights[:, None, :]).sum(axis=0)


def _check_l_max(l_max: int) -> None:
    if not isinstance(l_max, (int, np.integer)) or isinstance(l_max, bool) or l_max < 1:
        raise ValueError(f"l_max must be an integer >= 1 (weeks); got {l_max!r}")


@dataclass(frozen=True)
class Adstock(ABC):
    """Base class: a carry-over shape with its default priors (one set of parameters per channel).

    To plug in a shape of your own, subclass it as a frozen dataclass with a unique ``kind`` and implement
    :meth:`weights` (numpy and pytensor alike) and :meth:`priors`; ``MMMSpec(adstock=YourAdstock())`` then builds,
    fits, saves and loads like the built-in ones (the class must be imported before :func:`mmm.load` reads it).
    """

    l_max: int = 8
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(ADSTOCKS, "adstock", cls)

    def __post_init__(self) -> None:
        _check_l_max(self.l_max)

    @abstractmethod
    def weights(self, params: dict[str, Any]) -> Any:
        """Normalised lag weights ``(l_max, n)`` for parameters shaped ``(n,)`` (numpy or pytensor)."""

    @abstractmethod
    def priors(self, n_channels_dim: str) -> dict[str, Any]:
        """Create the PyMC random variables (inside a model context) with dimension ``n_channels_dim``."""

    def apply(self, spend: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Adstock of ``spend`` (weeks, n) with parameters shaped (n,), in numpy."""
        return convolve(lagged(spend, self.l_max), self.weights(params))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (``kind`` plus fields)."""
        return {"kind": self.kind, **asdict(self)}

    def _lags(self) -> np.ndarray:
        return np.arange(self.l_max, dtype=float)[:, None]


@dataclass(frozen=True)
class GeometricAdstock(Adstock):
    """Geometric decay: weight of lag ``l`` proportional to ``alpha**l``.

    Parameters
    ----------
    l_max : int
        Carry-over window in weeks.
    alpha_prior : tuple of float
        Beta(a, b) prior of the weekly retention rate ``alpha`` per channel (default mean 0.25).

    Examples
    --------
    >>> GeometricAdstock(l_max=2).weights({"alpha": np.array([1.0])}).ravel().tolist()
    [0.5, 0.5]
    """

    alpha_prior: tuple[float, float] = (1.0, 3.0)
    kind: ClassVar[str] = "geometric"

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.alpha_prior) != 2 or min(self.alpha_prior) <= 0:
            raise ValueError(f"alpha_prior must be two Beta parameters > 0; got {self.alpha_prior!r}")
        object.__setattr__(self, "alpha_prior", tuple(float(v) for v in self.alpha_prior))

    def weights(self, params: dict[str, Any]) -> Any:
        raw = params["alpha"] ** self._lags()
        return raw / raw.sum(axis=0, keepdims=True)

    def priors(self, n_channels_dim: str) -> dict[str, Any]:
        import pymc as pm

        a, b = self.alpha_prior
        return {"alpha": pm.Beta("adstock_alpha", alpha=a, beta=b, dims=n_channels_dim)}


@dataclass(frozen=True)
class DelayedAdstock(Adstock):
    """Delayed (peaked) carry-over: weight of lag ``l`` proportional to ``alpha**((l - theta)**2)``.

    ``theta`` is the lag of the peak effect in weeks (useful for brand video or events whose effect builds up).

    Parameters
    ----------
    l_max : int
        Carry-over window in weeks.
    alpha_prior : tuple of float
        Beta(a, b) prior of the decay rate per channel.
    theta_sigma : float
        HalfNormal scale of the peak lag ``theta`` in weeks.

    Examples
    --------
    >>> w = DelayedAdstock(l_max=3).weights({"alpha": np.array([0.5]), "theta": np.array([1.0])})
    >>> w.round(4).ravel().tolist()
    [0.25, 0.5, 0.25]
    """

    alpha_prior: tuple[float, float] = (2.0, 2.0)
    theta_sigma: float = 2.0
    kind: ClassVar[str] = "delayed"

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.alpha_prior) != 2 or min(self.alpha_prior) <= 0:
            raise ValueError(f"alpha_prior must be two Beta parameters > 0; got {self.alpha_prior!r}")
        if not self.theta_sigma > 0:
            raise ValueError(f"theta_sigma must be > 0 (weeks); got {self.theta_sigma!r}")
        object.__setattr__(self, "alpha_prior", tuple(float(v) for v in self.alpha_prior))

    def weights(self, params: dict[str, Any]) -> Any:
        raw = params["alpha"] ** ((self._lags() - params["theta"]) ** 2)
        return raw / raw.sum(axis=0, keepdims=True)

    def priors(self, n_channels_dim: str) -> dict[str, Any]:
        import pymc as pm

        a, b = self.alpha_prior
        return {
            "alpha": pm.Beta("adstock_alpha", alpha=a, beta=b, dims=n_channels_dim),
            "theta": pm.HalfNormal("adstock_theta", sigma=self.theta_sigma, dims=n_channels_dim),
        }


def adstock_from_dict(data: dict[str, Any]) -> Adstock:
    """Rebuild an adstock component from :meth:`Adstock.to_dict` output."""
    return component_from_dict(ADSTOCKS, "adstock", data)
