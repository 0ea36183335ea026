"""Rules that span tables: the weekly panel must line up, channels must be in the catalog."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.errors import MAX_ROWS_SHOWN, ContractError, Problem, format_value
from contracts.schemas import canonical_text


def check_panel(
    spend: pd.DataFrame,
    kpi: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    controls: pd.DataFrame | None = None,
    lift_tests: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> None:
    """Check validated tables against each other; raise :class:`ContractError` listing every mismatch.

    Spend and KPI must cover the same regions and weeks; controls the same too; every channel in spend,
    events and lift tests must be in the channel catalog (when one is given); lift tests must name a
    (region, channel) that has spend and fall inside the spend weeks.
    """
    problems: list[Problem] = []
    problems += _same_values(spend, "spend", kpi, "kpi", "region")
    problems += _same_values(spend, "spend", kpi, "kpi", "week")
    if controls is not None:
        problems += _same_values(controls, "controls", kpi, "kpi", "region")
        problems += _same_values(controls, "controls", kpi, "kpi", "week")
    if channels is not None:
        catalog = set(channels["channel"])
        allowed = f"channels listed in the channel catalog ({len(catalog)}: {', '.join(sorted(catalog))})"
        for name, table in (("spend", spend), ("events", events), ("lift_tests", lift_tests)):
            if table is None:
                continue
            unknown = sorted(set(table["channel"].dropna()) - catalog)
            if unknown:
                n_rows = int(table["channel"].isin(unknown).sum())
                problems.append(
                    Problem(
                        name,
                        "channel",
                        f"{len(unknown)} channels are not in the channel catalog ({n_rows} rows)",
                        allowed,
                        tuple(repr(c) + _did_you_mean(c, catalog) for c in unknown[:5]),
                        len(unknown),
                    )
                )
    problems += _zero_revenue_problems(kpi)
    if lift_tests is not None:
        problems += _lift_test_problems(lift_tests, spend)
        problems += _lift_test_spend_problems(lift_tests, spend)
    if problems:
        raise ContractError(problems)


def _same_values(a: pd.DataFrame, a_name: str, b: pd.DataFrame, b_name: str, column: str) -> list[Problem]:
    only_a = sorted(set(a[column]) - set(b[column]))
    only_b = sorted(set(b[column]) - set(a[column]))
    problems = []
    for name, other, extra in ((a_name, b_name, only_a), (b_name, a_name, only_b)):
        if extra:
            problems.append(
                Problem(
                    name,
                    column,
                    f"{len(extra)} {column} values appear in {name} but not in {other}",
                    f"the same {column} values in {a_name} and {b_name}",
                    tuple(
                        format_value(v) + _did_you_mean(v, set(b[column] if name == a_name else a[column]))
                        for v in extra[:5]
                    ),
                    len(extra),
                )
            )
    return problems


def _lift_test_problems(lift_tests: pd.DataFrame, spend: pd.DataFrame) -> list[Problem]:
    problems = []
    cells = set(zip(spend["region"], spend["channel"], strict=True))
    regions, channels = {r for r, _ in cells}, {c for _, c in cells}
    unknown = [
        f"row {i} (region {r!r}{_did_you_mean(r, regions)}, channel {c!r}{_did_you_mean(c, channels)})"
        for i, r, c in zip(lift_tests.index, lift_tests["region"], lift_tests["channel"], strict=True)
        if (r, c) not in cells
    ]
    if unknown:
        problems.append(
            Problem(
                "lift_tests",
                "region, channel",
                f"{len(unknown)} tests name a (region, channel) with no spend rows",
                "a (region, channel) present in spend",
                tuple(unknown[:5]),
                len(unknown),
            )
        )
    first, last = spend["week"].min(), spend["week"].max() + pd.Timedelta(days=6)
    outside = lift_tests.index[(lift_tests["start"] < first) | (lift_tests["end"] > last)]
    if len(outside):
        problems.append(
            Problem(
                "lift_tests",
                "start, end",
                f"{len(outside)} tests fall outside the spend weeks",
                f"windows within {format_value(first)} .. {format_value(last)}",
                tuple(
                    f"row {i} ({format_value(lift_tests.at[i, 'start'])} .. {format_value(lift_tests.at[i, 'end'])})"
                    for i in outside[:5]
                ),
                len(outside),
            )
        )
    return problems


def _did_you_mean(value: object, candidates: set) -> str:
    """`` (did you mean 'Asia'?)`` when a candidate differs from ``value`` only in case, Unicode form or blanks."""
    if not isinstance(value, str):
        return ""
    key = canonical_text(value).casefold()
    close = sorted(c for c in candidates if isinstance(c, str) and c != value and canonical_text(c).casefold() == key)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _zero_revenue_problems(kpi: pd.DataFrame) -> list[Problem]:
    # A region that never sells cannot be modelled (and PyMC would read its zeros as missing data).
    total = kpi.groupby("region", sort=True)["revenue"].sum()
    dead = list(total.index[total == 0])
    if not dead:
        return []
    return [
        Problem(
            "kpi",
            "revenue",
            f"{len(dead)} regions have revenue 0 in every week",
            "some revenue in every region (remove a region with no sales from spend and kpi)",
            tuple(f"region {r!r}" for r in dead[:MAX_ROWS_SHOWN]),
            len(dead),
        )
    ]


#: How far a go-dark test's removed spend may exceed the cell's highest observed weekly spend times its weeks.
REMOVAL_HEADROOM = 10.0


def _lift_test_spend_problems(lift_tests: pd.DataFrame, spend: pd.DataFrame) -> list[Problem]:
    """A test must fit the spend it is measured against: its cell spends, and its change is possible."""
    weekly = spend.pivot_table(index="week", columns=["region", "channel"], values="spend", aggfunc="sum")
    week_start = weekly.index
    week_end = week_start + pd.Timedelta(days=6)
    no_spend, too_big = [], []
    for i, row in lift_tests.iterrows():
        cell = (row["region"], row["channel"])
        if cell not in weekly.columns:
            continue  # reported by _lift_test_problems
        series = weekly[cell].fillna(0.0)
        where = f"row {i} (region {cell[0]!r}, channel {cell[1]!r}, {_window(row)})"
        if series.sum() == 0:
            no_spend.append(where)
            continue
        in_window = (week_end >= row["start"]) & (week_start <= row["end"])
        observed = float(series[in_window].sum())
        delta = float(row["spend_delta"])
        # A go-dark test removes spend that was planned, not observed; planned spend in a burst can top every observed
        # week (the simulator's own tests reach 1.08x), so only a removal far beyond the cell's scale is refused.
        possible = REMOVAL_HEADROOM * float(series.max()) * int(np.sum(in_window))
        if delta > observed:
            too_big.append(f"{where}: spend_delta {delta:g} but the cell spent {observed:g} in the test weeks")
        elif -delta > possible:
            too_big.append(
                f"{where}: spend_delta {delta:g} but {REMOVAL_HEADROOM:g} x the cell's highest weekly spend "
                f"x test weeks is {possible:g}"
            )
    problems = []
    if no_spend:
        problems.append(
            Problem(
                "lift_tests",
                "region, channel",
                f"{len(no_spend)} tests are on a cell whose spend is 0 in every week",
                "tests on a (region, channel) that spends",
                tuple(no_spend[:MAX_ROWS_SHOWN]),
                len(no_spend),
            )
        )
    if too_big:
        problems.append(
            Problem(
                "lift_tests",
                "spend_delta",
                f"{len(too_big)} tests change spend by more than the cell could have spent in the test weeks",
                "an added spend (spend_delta > 0) within the spend recorded in the test weeks; a removed spend "
                f"(spend_delta < 0) within {REMOVAL_HEADROOM:g} x the cell's highest weekly spend x the test's weeks",
                tuple(too_big[:MAX_ROWS_SHOWN]),
                len(too_big),
            )
        )
    return problems


def _window(row: pd.Series) -> str:
    return f"{format_value(row['start'])} .. {format_value(row['end'])}"
