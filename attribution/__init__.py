"""Multi-touch attribution: journeys → channel credit (Markov, Shapley, heuristics) → attributed ROI.

Every function returns a typed result: the table in ``.table``, and what was left out, skipped or unmatched, and
why, in named fields next to it (never in ``DataFrame.attrs``, which carries only an interval label).

>>> import attribution
>>> paths = attribution.build_paths(events, by="region")                   # doctest: +SKIP
>>> paths.report.open_journeys                                             # doctest: +SKIP
>>> credit = attribution.bootstrap(paths, "markov", order=2, by="region")   # doctest: +SKIP
>>> credit.table[["region", "channel", "conversions", "conversions_low", "conversions_high"]]  # doctest: +SKIP
>>> roi = attribution.attributed_roi(credit, spend, kpi=kpi)               # doctest: +SKIP
>>> roi.table[["region", "channel", "roi", "roi_low", "roi_high"]], roi.scale  # doctest: +SKIP
"""

from ._errors import ContractError, DataWarning, SkippedRowsWarning
from .bootstrap import bootstrap
from .build import build_paths
from .heuristics import heuristics
from .markov import markov
from .paths import ParsedPaths, check_paths, parse_paths
from .results import AttributedROI, Credit, OrderSelection, Paths, PathsReport, Skipped
from .roi import attributed_roi
from .selection import select_order
from .shapley import shapley

__all__ = [
    "AttributedROI",
    "ContractError",
    "Credit",
    "DataWarning",
    "OrderSelection",
    "ParsedPaths",
    "Paths",
    "PathsReport",
    "Skipped",
    "SkippedRowsWarning",
    "attributed_roi",
    "bootstrap",
    "build_paths",
    "check_paths",
    "heuristics",
    "markov",
    "parse_paths",
    "select_order",
    "shapley",
]
