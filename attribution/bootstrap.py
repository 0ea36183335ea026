"""Bootstrap intervals for every method's credit, by multinomial reweighting of the path counts.

Resampling journeys with replacement only changes how many times each distinct path converted or not, so a
replicate is a draw of ``(conversions, nulls)`` per path from one multinomial over all journeys. The paths
are parsed once; each replicate refits from the reweighted counts (a few ``bincount`` calls and small
solves for Markov, a sparse mat-vec for Shapley and the heuristics).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from contracts import interval_label

from ._checks import check_seed
from .heuristics import check_half_life, heuristic_matrices, parse_touch_days
from .markov import CREDIT_COLUMNS, _check_order, chain_credit, chain_table, empty_credit, markov_design
from .paths import ParsedPaths, apply_by_segment, resolve_sep, segment_columns
from .results import Credit, Paths
from .shapley import shapley_matrix

__all__ = ["METHODS", "bootstrap", "resample_counts"]

METHODS = ("markov", "shapley", "heuristics")
#: The options each method takes, with their defaults (those of ``markov``, ``shapley``, ``heuristics``).
OPTIONS: dict[str, dict[str, object]] = {
    "markov": {"order": 1},
    "shapley": {"ordered": False},
    "heuristics": {"half_life_days": 7.0},
}
INTERVAL_KIND = "bootstrap percentile"
#: Most replicates one call may ask for: percentile intervals are stable long before this.
MAX_BOOT = 100_000
#: Most replicates x work per replicate (paths redrawn; for Markov also states x channels solved): an hour or so.
MAX_BOOT_WORK = 2_000_000_000
_CHUNK = 32  # replicates drawn per multinomial call (bounds memory at 32 x 2 x n_paths integers)

Replicate = Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]]


def resample_counts(parsed: ParsedPaths, n_boot: int, rng: np.random.Generator):
    """Yield ``(conversions, values, nulls)`` for each of ``n_boot`` journey-level bootstrap replicates.

    Each path's value is split evenly over its conversions, so a resampled conversion carries the path's
    mean value per conversion.
    """
    conv, nulls = parsed.conversions, parsed.nulls
    n_journeys = round(float(conv.sum() + nulls.sum()))
    probs = np.concatenate([conv, nulls]) / max(conv.sum() + nulls.sum(), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        value_per_conv = np.where(conv > 0, parsed.values / conv, 0.0)
    n = parsed.n_paths
    done = 0
    while done < n_boot:
        size = min(_CHUNK, n_boot - done)
        draws = rng.multinomial(n_journeys, probs, size=size).astype(np.float64)
        for row in draws:
            c = row[:n]
            yield c, c * value_per_conv, row[n:]
        done += size


def _markov_setup(parsed: ParsedPaths, table: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, Replicate]:
    keys = CREDIT_COLUMNS
    if parsed.n_paths == 0:  # nothing left to attribute: no chain to fit
        options["_chains"].append({"conversion_probability": float("nan"), "n_states": 0})
        return empty_credit(keys), lambda c, v, n: {k: np.zeros(0) for k in keys}
    design = markov_design(parsed, _check_order(options["order"]))

    def replicate(c: np.ndarray, v: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
        fit = chain_credit(design, c, v, n)
        return {k: fit[k] for k in keys}

    fit = chain_credit(design, parsed.conversions, parsed.values, parsed.nulls)
    options["_chains"].append({"conversion_probability": fit["conversion_probability"], "n_states": design.n_states})
    return pd.DataFrame({"channel": parsed.channels, **{k: fit[k] for k in keys}}), replicate


def _linear_setup(matrices: dict[str, object], frame: pd.DataFrame) -> tuple[pd.DataFrame, Replicate]:
    def replicate(c: np.ndarray, v: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for name, a in matrices.items():
            out[name] = a @ c
            out[f"{name}_value"] = a @ v
        return out

    return frame, replicate


def _shapley_setup(parsed: ParsedPaths, table: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, Replicate]:
    ordered = bool(options["ordered"])
    matrix, targets = shapley_matrix(parsed, ordered)
    if ordered:
        frame = pd.DataFrame({"channel": parsed.channels[targets[:, 0]], "position": targets[:, 1] + 1})
    else:
        frame = pd.DataFrame({"channel": parsed.channels})
    frame, rep = _linear_setup({"conversions": matrix}, frame)

    def replicate(c: np.ndarray, v: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
        out = rep(c, v, n)
        return {"conversions": out["conversions"], "value": out["conversions_value"]}

    return frame.assign(**replicate(parsed.conversions, parsed.values, parsed.nulls)), replicate


def _heuristics_setup(parsed: ParsedPaths, table: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, Replicate]:
    days = parse_touch_days(table["touch_days"], parsed, options["_sep"]) if "touch_days" in table.columns else None
    matrices = heuristic_matrices(parsed, days, float(options["half_life_days"]))
    frame, replicate = _linear_setup(matrices, pd.DataFrame({"channel": parsed.channels}))
    return frame.assign(**replicate(parsed.conversions, parsed.values, parsed.nulls)), replicate


_SETUPS = {"markov": _markov_setup, "shapley": _shapley_setup, "heuristics": _heuristics_setup}


def _check_work(n_boot: int, size: int, what: str = "paths") -> None:
    """Refuse a bootstrap whose replicates x work per replicate exceed ``MAX_BOOT_WORK`` (hours of work)."""
    if n_boot * size > MAX_BOOT_WORK:
        raise ValueError(
            f"n_boot x {what} must be at most {MAX_BOOT_WORK:,} (every replicate redoes that work), got "
            f"n_boot={n_boot:,} x {size:,} {what} = {n_boot * size:,}; allowed here: "
            f"n_boot <= {MAX_BOOT_WORK // max(size, 1):,}"
        )


def _method_options(method: str, options: dict[str, object]) -> dict[str, object]:
    """The method's options with their defaults; unknown ones are an error, not silently ignored."""
    allowed = OPTIONS[method]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"bootstrap of {method!r} got unexpected option(s) {unknown}; allowed: {sorted(allowed)}")
    out = {**allowed, **options}
    if method == "heuristics":
        out["half_life_days"] = check_half_life(out["half_life_days"])
    if method == "markov":
        out["order"] = _check_order(out["order"])
    if method == "shapley":
        out["ordered"] = bool(out["ordered"])
    return out


def bootstrap(
    paths: pd.DataFrame | Paths,
    method: str = "markov",
    n_boot: int = 200,
    level: float = 0.9,
    seed: int = 0,
    sep: str | None = None,
    by: str | Sequence[str] | None = None,
    **options: object,
) -> Credit:
    """Credit of a method with percentile bootstrap intervals from resampled journeys.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        Paths table (or the result of :func:`attribution.build_paths`).
    method : {"markov", "shapley", "heuristics"}
        Which credit to bootstrap.
    n_boot : int
        Number of bootstrap replicates.
    level : float
        Coverage of the intervals, e.g. 0.9 for the 5th-95th percentiles.
    seed : int
        Seed of the resampling (the result is reproducible).
    sep : str, optional
        Channel separator in ``path`` (default: the one ``paths`` was built with, else ``">"``).
    by : str or sequence of str, optional
        Segment columns; journeys are resampled within each segment.
    **options
        Passed to the method: ``order`` (markov), ``ordered`` (shapley), ``half_life_days`` (heuristics); any
        other option is a ``TypeError``.

    Returns
    -------
    Credit
        ``table``: the method's credit (same rows and columns as calling it directly) plus, for each credit
        column ``<q>``, its interval ``<q>_low``/``<q>_high`` (e.g. ``conversions_low``, ``value_high``);
        ``table.attrs["interval"]`` (and ``Credit.interval``) says the kind and mass, e.g.
        ``"90% bootstrap percentile"``. ``n_boot``, ``seed``, ``options`` and ``skipped`` are on the result.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [30, 10],
    ...                   "total_conversion_value": [300.0, 100.0], "total_null": [70, 90]})
    >>> out = bootstrap(t, "shapley", n_boot=100, seed=1)
    >>> out.interval
    '90% bootstrap percentile'
    >>> c = out.table
    >>> bool((c["conversions_low"] <= c["conversions"]).all() and (c["conversions"] <= c["conversions_high"]).all())
    True
    """
    if method not in _SETUPS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or not 2 <= n_boot <= MAX_BOOT:
        raise ValueError(
            f"n_boot must be an integer >= 2 and <= {MAX_BOOT:,} (bootstrap replicates; a few hundred are "
            f"enough), got {n_boot!r}"
        )
    n_boot = int(n_boot)
    if not (isinstance(level, float | int) and not isinstance(level, bool) and 0 < level < 1):
        raise ValueError(f"level must be between 0 and 1 (exclusive; the intervals' coverage), got {level!r}")
    level = float(level)
    seed = check_seed(seed)
    settings = _method_options(method, dict(options))
    sep = resolve_sep(paths, sep)
    # the setups also get the separator (for touch_days) and a list for the Markov point fits' diagnostics
    setup_options = {**settings, "_sep": sep, "_chains": []}
    rng = np.random.default_rng(seed)
    tail = (1.0 - level) / 2.0

    def credit(parsed: ParsedPaths, table: pd.DataFrame) -> pd.DataFrame:
        _check_work(n_boot, parsed.n_paths)
        frame, replicate = _SETUPS[method](parsed, table, setup_options)
        if method == "markov":  # each replicate solves the chain once per channel and once in full
            n_states = int(setup_options["_chains"][-1]["n_states"])
            _check_work(n_boot, n_states * (len(parsed.channels) + 1), "chain states x (channels + 1)")
        draws: dict[str, list[np.ndarray]] = {}
        if parsed.n_paths == 0:  # nothing left to attribute: empty intervals, no resampling
            empty = np.zeros(0)
            draws = {k: [a] for k, a in replicate(empty, empty, empty).items()}
        for c, v, n in resample_counts(parsed, n_boot if parsed.n_paths else 0, rng):
            for key, arr in replicate(c, v, n).items():
                draws.setdefault(key, []).append(arr)
        for key, arrays in draws.items():
            low, high = np.quantile(np.vstack(arrays), [tail, 1.0 - tail], axis=0)
            frame[f"{key}_low"], frame[f"{key}_high"] = low, high
        return frame

    stacked = apply_by_segment(paths, by, sep, credit)
    stacked.table.attrs["interval"] = interval_label(level, INTERVAL_KIND)
    chains = chain_table(stacked.segments, setup_options["_chains"]) if method == "markov" else None
    return Credit(
        stacked.table,
        method,
        settings,
        tuple(segment_columns(by)),
        stacked.skipped,
        chains=chains,
        n_boot=int(n_boot),
        seed=seed,
    )
