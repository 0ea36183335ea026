"""Multi-touch attribution: journeys → channel credit (Markov, Shapley, heuristics) → attributed ROI.

>>> import attribution
>>> paths = attribution.build_paths(events, by="region")          # doctest: +SKIP
>>> credit = attribution.bootstrap(paths, "markov", order=2, by="region")  # doctest: +SKIP
>>> roi = attribution.attributed_roi(credit, spend)                # doctest: +SKIP
"""

from ._errors import ContractError, DataWarning, SkippedRowsWarning
from .bootstrap import bootstrap
from .build import build_paths
from .heuristics import heuristics
from .markov import markov
from .paths import ParsedPaths, parse_paths
from .roi import attributed_roi
from .selection import select_order
from .shapley import shapley

__all__ = [
    "ContractError",
    "DataWarning",
    "ParsedPaths",
    "SkippedRowsWarning",
    "attributed_roi",
    "bootstrap",
    "build_paths",
    "heuristics",
    "markov",
    "parse_paths",
    "select_order",
    "shapley",
]
