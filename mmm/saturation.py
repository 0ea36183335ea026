"""Saturation components: diminishing returns of adstocked weekly spend.

Inputs are adstocked spend divided by the cell's spend scale (its mean weekly spend in active weeks), so a
half-saturation of 1 means "half of the maximum effect at a typical active week". Outputs lie in [0, 1); the model
multiplies them by the cell's maximum weekly contribution ``beta``.

Each component gives its value, its *elasticity* ``u * f'(u)`` (for marginal ROI) and the matching family of the
optimizer's response-curve contract.

>>> import numpy as np
>>> HillSaturation().apply(np.array([1.0, 3.0]), {"half_saturation": 1.0, "shape": 1.0}, np).tolist()
[0.5, 0.75]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from mmm.components import component_from_dict, register

#: Saturation components by ``kind``; every subclass with a ``kind`` registers itself.
SATURATIONS: dict[str, type[Saturation]] = {}

#: Floor on scaled spend inside powers, so gradients stay finite in weeks without adstock.
_EPS = 1e-9


@dataclass(frozen=True)
class Saturation(ABC):
    """Base class: a saturating response with its default priors.

    To plug in a curve of your own, subclass it as a frozen dataclass with a unique ``kind`` and implement
    :meth:`apply`, :meth:`elasticity`, :meth:`priors` and :meth:`curve_family` (the optimizer's family closest to your
    curve); ``MMMSpec(saturation=YourSaturation())`` then builds, fits, saves and loads like the built-in ones.
    """

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(SATURATIONS, "saturation", cls)

    @abstractmethod
    def apply(self, x: Any, params: dict[str, Any], xp: Any) -> Any:
        """Saturated response of scaled adstock ``x``; ``xp`` is ``numpy`` or ``pytensor.tensor``."""

    @abstractmethod
    def elasticity(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """``x * d apply / dx`` in numpy: the revenue gained by scaling spend by (1 + ε), per ε."""

    @abstractmethod
    def priors(self, cell_dim: str, channel_dim: str, channel_index: np.ndarray) -> dict[str, Any]:
        """Create PyMC variables (inside a model context); return parameters shaped per cell."""

    @abstractmethod
    def curve_family(
        self, params: dict[str, np.ndarray], spend_scale: np.ndarray
    ) -> tuple[str, np.ndarray, np.ndarray]:
        """(family, weekly scale in spend units, shape) for :class:`contracts.ResponseCurves`."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (``kind`` plus fields)."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class HillSaturation(Saturation):
    """Hill curve ``x**s / (x**s + K**s)``: concave for ``s <= 1``, S-shaped for ``s > 1``.

    Parameters
    ----------
    half_saturation_log_sd : float
        LogNormal(0, sd) prior of ``K`` per cell, in units of the cell's typical active weekly spend.
    shape_log_sd : float
        LogNormal(log m, sd) prior of the shape ``s`` per channel, with median ``m`` from ``shape_prior_median``.
    shape_prior_median : tuple of (str, float)
        Prior median of the shape per channel, as ``(channel, median)`` pairs (a dict is accepted); channels not
        named get 1. A spend-and-revenue panel barely informs the shape (on the simulated worlds the posterior sd
        of log shape stays at its prior sd), yet a cell's ROI over the window scales about as 1 / shape for the
        response the data do pin (ROI ≈ marginal ROI · 2 / s at the half-saturation point). So where something
        outside the panel tells the shape (experiments at several spend levels, a model of past years), state it
        here: it moves the ROIs more than any other curve setting.

    Examples
    --------
    >>> HillSaturation().apply(np.array([2.0]), {"half_saturation": 2.0, "shape": 2.0}, np).tolist()
    [0.5]
    """

    half_saturation_log_sd: float = 0.5
    shape_log_sd: float = 0.3
    shape_prior_median: tuple[tuple[str, float], ...] = ()
    kind: ClassVar[str] = "hill"

    def __post_init__(self) -> None:
        for name in ("half_saturation_log_sd", "shape_log_sd"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name} must be a number > 0; got {value!r}")
        object.__setattr__(self, "shape_prior_median", _channel_values("shape_prior_median", self.shape_prior_median))

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`Saturation.to_dict`; ``shape_prior_median`` only when set, so a spec saved before the option
        existed reads back and hashes the same."""
        out = super().to_dict()
        if not self.shape_prior_median:
            del out["shape_prior_median"]
        return out

    def apply(self, x: Any, params: dict[str, Any], xp: Any) -> Any:
        powered = (xp.maximum(x, _EPS) / params["half_saturation"]) ** params["shape"]
        return powered / (1.0 + powered)

    def elasticity(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        # s·p/(1+p)² written as s·q·(1−q) with q = p/(1+p), which stays finite when p overflows.
        with np.errstate(over="ignore"):
            powered = (np.maximum(x, _EPS) / params["half_saturation"]) ** params["shape"]
        with np.errstate(divide="ignore"):
            share = 1.0 / (1.0 + 1.0 / powered)
        return params["shape"] * share * (1.0 - share)

    def priors(self, cell_dim: str, channel_dim: str, channel_index: np.ndarray) -> dict[str, Any]:
        half = _standard_lognormal("saturation_half", self.half_saturation_log_sd, cell_dim)
        median = _per_channel("shape_prior_median", dict(self.shape_prior_median), channel_dim, default=1.0)
        shape = _standard_lognormal("saturation_shape", self.shape_log_sd, channel_dim, median=median)
        return {"half_saturation": half, "shape": shape[channel_index]}

    def curve_family(self, params, spend_scale):
        return "hill", params["half_saturation"] * spend_scale, params["shape"]


@dataclass(frozen=True)
class LogisticSaturation(Saturation):
    """Logistic saturation ``(1 - exp(-lam x)) / (1 + exp(-lam x)) = tanh(lam x / 2)``, concave.

    Parameters
    ----------
    lam_prior : tuple of float
        Gamma(alpha, beta) prior of the rate ``lam`` per cell (scaled spend units; default mean 1).

    Examples
    --------
    >>> round(float(LogisticSaturation().apply(np.array(np.log(3.0)), {"lam": 1.0}, np)), 6)
    0.5
    """

    lam_prior: tuple[float, float] = (3.0, 3.0)
    kind: ClassVar[str] = "logistic"

    def __post_init__(self) -> None:
        if len(self.lam_prior) != 2 or min(self.lam_prior) <= 0:
            raise ValueError(f"lam_prior must be two Gamma parameters > 0; got {self.lam_prior!r}")
        object.__setattr__(self, "lam_prior", tuple(float(v) for v in self.lam_prior))

    def apply(self, x: Any, params: dict[str, Any], xp: Any) -> Any:
        return xp.tanh(params["lam"] * x / 2.0)

    def elasticity(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        u = params["lam"] * x
        return u * (1.0 - np.tanh(u / 2.0) ** 2) / 2.0

    def priors(self, cell_dim: str, channel_dim: str, channel_index: np.ndarray) -> dict[str, Any]:
        import pymc as pm

        a, b = self.lam_prior
        return {"lam": pm.Gamma("saturation_lam", alpha=a, beta=b, dims=cell_dim)}

    def curve_family(self, params, spend_scale):
        return "logistic", spend_scale / params["lam"], np.ones_like(params["lam"])


def _standard_lognormal(name: str, log_sd: float, dims: str, median: Any = None) -> Any:
    """``LogNormal(log median, log_sd)`` (median 1 by default) as ``median · exp(log_sd · z)`` with a free standard
    normal ``{name}_z`` (value kept as the deterministic ``name``): prior scale 1 on the sampler's scale, like every
    other free parameter (see :func:`mmm.model.standard_normal`)."""
    import pymc as pm

    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    value = pm.math.exp(log_sd * z)
    return pm.Deterministic(name, value if median is None else median * value, dims=dims)


def _channel_values(name: str, values: Any) -> tuple[tuple[str, float], ...]:
    """``(channel, value)`` pairs from a dict or a sequence of pairs, sorted by channel; values finite and > 0."""
    pairs = list(values.items()) if isinstance(values, dict) else list(values)
    out: dict[str, float] = {}
    for pair in pairs:
        if len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(f"{name} must map channel names to numbers, e.g. {{'youtube_video': 1.6}}; got {pair!r}")
        channel, value = pair
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name}[{channel!r}] must be a finite number > 0; got {value!r}")
        if channel in out:
            raise ValueError(f"{name} names channel {channel!r} twice")
        out[channel] = float(value)
    return tuple(sorted(out.items()))


def _per_channel(name: str, values: dict[str, float], channel_dim: str, default: float) -> np.ndarray | None:
    """``values`` laid out along the model's ``channel_dim`` coordinate (``default`` where not named); None when
    ``values`` is empty. A named channel the data do not have is an error, not silently ignored."""
    if not values:
        return None
    import pymc as pm

    channels = list(pm.modelcontext(None).coords[channel_dim])
    unknown = sorted(set(values) - set(channels))
    if unknown:
        raise ValueError(f"{name} names channels the data do not have: {unknown}; the data's channels: {channels}")
    return np.array([values.get(c, default) for c in channels])


def saturation_from_dict(data: dict[str, Any]) -> Saturation:
    """Rebuild a saturation component from :meth:`Saturation.to_dict` output."""
    return component_from_dict(SATURATIONS, "saturation", data)
