"""Bayesian media-mix model (PyMC): adstock, saturation, geo hierarchy, ROI priors, lift-test calibration,
diagnostics and response curves.

>>> import mmm                                                        # doctest: +SKIP
>>> fitted = mmm.fit(data, sampler=mmm.Sampler.preview(), seed=1)   # data: contracts.Dataset  # doctest: +SKIP
>>> fitted.roi(roi_hurdle=1.5)                                        # doctest: +SKIP
>>> curves = fitted.response_curves(period_weeks=13)   # contracts.ResponseCurves  # doctest: +SKIP
>>> model = mmm.build_model(data)                      # the PyMC model, to extend  # doctest: +SKIP
"""

from mmm.adstock import Adstock, DelayedAdstock, GeometricAdstock
from mmm.diagnostics import Diagnostics, MMMDiagnosticWarning, diagnose
from mmm.fit import build_model, fit, prior_predictive
from mmm.forecast import Forecast
from mmm.priors import relative_roi_priors
from mmm.results import FittedMMM, load
from mmm.sampler import Progress, Sampler
from mmm.saturation import HillSaturation, LogisticSaturation, Saturation
from mmm.spec import MMMSpec

__all__ = [
    "Adstock",
    "DelayedAdstock",
    "Diagnostics",
    "FittedMMM",
    "Forecast",
    "GeometricAdstock",
    "HillSaturation",
    "LogisticSaturation",
    "MMMDiagnosticWarning",
    "MMMSpec",
    "Progress",
    "Sampler",
    "Saturation",
    "build_model",
    "diagnose",
    "fit",
    "load",
    "prior_predictive",
    "relative_roi_priors",
]
