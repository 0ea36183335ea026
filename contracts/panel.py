"""Rules that span tables: the weekly panel must line up, channels must be in the catalog."""

from __future__ import annotations

import pandas as pd

from contracts.errors import ContractError, Problem, format_value


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
                        tuple(repr(c) for c in unknown[:5]),
                        len(unknown),
                    )
                )
    if lift_tests is not None:
        problems += _lift_test_problems(lift_tests, spend)
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
                    tuple(format_value(v) for v in extra[:5]),
                    len(extra),
                )
            )
    return problems


def _lift_test_problems(lift_tests: pd.DataFrame, spend: pd.DataFrame) -> list[Problem]:
    problems = []
    cells = set(zip(spend["region"], spend["channel"], strict=True))
    unknown = [
        f"row {i} (region {r!r}, channel {c!r})"
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
