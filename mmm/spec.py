"""The model specification: components and prior settings, frozen and self-checking."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from mmm.adstock import Adstock, GeometricAdstock, adstock_from_dict
from mmm.saturation import HillSaturation, Saturation, saturation_from_dict

#: Weeks per year used by the Fourier seasonality.
WEEKS_PER_YEAR = 52.1775
#: How baseline terms may combine (see :class:`MMMSpec`).
BASELINES = ("log", "multiplicative")
#: How the trend may grow (see :class:`MMMSpec`).
TREND_FORMS = ("exponential", "linear")


@dataclass(frozen=True)
class MMMSpec:
    """What the media-mix model looks like; everything here is a modelling choice, not data.

    Parameters
    ----------
    adstock : Adstock
        Carry-over component (one parameter set per channel, shared by regions).
    saturation : Saturation
        Diminishing-returns component.
    roi_prior_median : float
        Default prior median of a cell's ROI (incremental revenue / spend over the data window), for cells the
        ``roi_priors`` table does not cover.
    roi_prior_log_sd : float
        Default prior standard deviation of log ROI.
    roi_region_sd : float
        Prior mean of the *learned* spread of log ROI between regions of one channel (``region_sd`` ~ Gamma(2,
        2 / roi_region_sd): mode at half this value, little mass near zero, where a hierarchical scale forms a
        funnel that NUTS mixes badly in). Each cell's log ROI is
        ``m_cell + sd_cell * channel_effect + region_sd * cell_effect`` (both effects standard normal, non-centred):
        regions share a channel-level effect with the cell's stated prior, and how far they depart from it is
        estimated from the data (partial pooling learned, not fixed).
    fourier_order : int
        Harmonics of yearly seasonality (0 for none).
    trend : bool
        Whether each region has a linear trend.
    holdout_weeks : int
        Last weeks left out of the likelihood and used for hold-out accuracy in diagnostics (0: no hold-out).
    noise_sigma : float
        HalfNormal scale of the noise sd, as a share of the region's mean revenue.
    baseline : {"log", "multiplicative"}
        How the baseline terms combine. ``"log"`` (default): ``level · exp(trend·t + season + controls·gamma)``,
        each term additive on the log scale (near-Gaussian posterior, few divergences). ``"multiplicative"``:
        ``level (1 + trend·t)(1 + season)(1 + controls·gamma)``, kept for comparison.
    trend_form : {None, "exponential", "linear"}
        How the trend grows: ``"exponential"`` multiplies the baseline by ``exp(trend·t)``, ``"linear"`` by
        ``1 + trend·t`` (floored at 0.05, reached only by a steep decline extrapolated far), a constant amount per
        week. ``None`` (default): the baseline form's own, exponential in ``"log"`` and linear in ``"multiplicative"``.
        The two agree to first order inside the data window; they part when the trend is extrapolated (a forecast
        quarter after a two-year window: by about ``(trend·t)² / 2``, 0.2-0.7% of revenue at 6-12% a year).
    level_offset_sd : float
        Normal sd of the log offset of each region's level from "mean revenue minus mean media effect" over the
        fitted weeks, in either baseline form (see :mod:`mmm.model`).

    Examples
    --------
    >>> spec = MMMSpec(adstock=GeometricAdstock(l_max=8), saturation=HillSaturation())
    >>> MMMSpec.from_json(spec.to_json()) == spec
    True
    """

    adstock: Adstock = field(default_factory=GeometricAdstock)
    saturation: Saturation = field(default_factory=HillSaturation)
    roi_prior_median: float = 1.5
    roi_prior_log_sd: float = 0.8
    roi_region_sd: float = 0.3
    fourier_order: int = 2
    trend: bool = True
    holdout_weeks: int = 0
    noise_sigma: float = 0.05
    baseline: str = "log"
    level_offset_sd: float = 0.1
    trend_form: str | None = None

    def __post_init__(self) -> None:
        self._validate_components()
        self._validate_positive("roi_prior_median", self.roi_prior_median)
        self._validate_positive("roi_prior_log_sd", self.roi_prior_log_sd)
        self._validate_positive("noise_sigma", self.noise_sigma)
        self._validate_positive("roi_region_sd", self.roi_region_sd)
        self._validate_positive("level_offset_sd", self.level_offset_sd)
        self._validate_count("fourier_order", self.fourier_order)
        self._validate_count("holdout_weeks", self.holdout_weeks)
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {list(BASELINES)}; got {self.baseline!r}")
        if self.trend_form is not None and self.trend_form not in TREND_FORMS:
            raise ValueError(f"trend_form must be None or one of {list(TREND_FORMS)}; got {self.trend_form!r}")
        if not isinstance(self.trend, bool):
            raise ValueError(f"trend must be True or False; got {self.trend!r}")

    def _validate_components(self) -> None:
        if not isinstance(self.adstock, Adstock):
            raise ValueError(
                f"adstock must be an Adstock component (e.g. GeometricAdstock(l_max=8)); got {self.adstock!r}"
            )
        if not isinstance(self.saturation, Saturation):
            raise ValueError(
                f"saturation must be a Saturation component (e.g. HillSaturation()); got {self.saturation!r}"
            )

    @staticmethod
    def _validate_positive(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0; got {value!r}")

    @staticmethod
    def _validate_count(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0; got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the spec."""
        return {
            "adstock": self.adstock.to_dict(),
            "saturation": self.saturation.to_dict(),
            "roi_prior_median": self.roi_prior_median,
            "roi_prior_log_sd": self.roi_prior_log_sd,
            "roi_region_sd": self.roi_region_sd,
            "fourier_order": self.fourier_order,
            "trend": self.trend,
            "holdout_weeks": self.holdout_weeks,
            "noise_sigma": self.noise_sigma,
            "baseline": self.baseline,
            "level_offset_sd": self.level_offset_sd,
            # written only when set, so a spec saved before the option existed reads back and hashes the same
            **({"trend_form": self.trend_form} if self.trend_form is not None else {}),
        }

    @property
    def trend_growth(self) -> str:
        """The trend's form in effect: ``trend_form``, or the baseline form's own when it is None."""
        if self.trend_form is not None:
            return self.trend_form
        return "exponential" if self.baseline == "log" else "linear"

    def to_json(self) -> str:
        """The spec as JSON text."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MMMSpec:
        """Rebuild a spec from :meth:`to_dict` output."""
        data = dict(data)
        data["adstock"] = adstock_from_dict(data["adstock"])
        data["saturation"] = saturation_from_dict(data["saturation"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> MMMSpec:
        """Rebuild a spec from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))


#: Floor of a linear trend's factor ``1 + trend·t``.
LINEAR_TREND_FLOOR = 0.05


def trend_term(spec: MMMSpec, growth: Any, xp: Any) -> Any:
    """The trend's term in the baseline form's combination, from ``growth = trend · years from the middle``.

    The baseline combines terms by adding them to log revenue (``"log"``) or as factors ``1 + term``
    (``"multiplicative"``); the trend's factor is ``exp(growth)`` or ``max(1 + growth, 0.05)`` by
    ``spec.trend_growth``. ``xp`` is ``numpy`` or ``pytensor.tensor``: the fit and the forecast share this."""
    if spec.trend_growth == "linear":
        factor = xp.maximum(1.0 + growth, LINEAR_TREND_FLOOR)
        return xp.log(factor) if spec.baseline == "log" else factor - 1.0
    return growth if spec.baseline == "log" else xp.expm1(growth)
