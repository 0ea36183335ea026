"""Bayesian media-mix model (PyMC): adstock, saturation, geo hierarchy, ROI priors, lift-test calibration,
diagnostics and response curves.

>>> import mmm                                                    # doctest: +SKIP
>>> fitted = mmm.fit(spend, kpi, channels=channels, lift_tests=lift_tests, seed=1)   # doctest: +SKIP
>>> fitted.roi(hurdle=1.5)                                        # doctest: +SKIP
>>> curves = fitted.response_curves(period_weeks=13)              # optimizer.ResponseCurves  # doctest: +SKIP
"""

from mmm.adstock import Adstock, DelayedAdstock, GeometricAdstock
from mmm.diagnostics import Diagnostics, MMMDiagnosticWarning, diagnose
from mmm.fit import fit
from mmm.io import load
from mmm.priors import relative_roi_priors
from mmm.results import FittedMMM
from mmm.saturation import HillSaturation, LogisticSaturation, Saturation
from mmm.spec import MMMSpec

__all__ = [
    "Adstock",
    "DelayedAdstock",
    "Diagnostics",
    "FittedMMM",
    "GeometricAdstock",
    "HillSaturation",
    "LogisticSaturation",
    "MMMDiagnosticWarning",
    "MMMSpec",
    "Saturation",
    "diagnose",
    "fit",
    "load",
    "relative_roi_priors",
]
