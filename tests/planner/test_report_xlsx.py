"""``report.xlsx``: the checks are live formulas that a formula engine (the ``formulas`` package, not Excel's cached
values) evaluates to TRUE on the example plan and to FALSE where a tampered plan breaks a promise; plus layout."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from planner.report_xlsx import SHEETS, write_xlsx

# the example run behind ``sample_report`` takes tens of seconds
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workbook(sample_report, tmp_path_factory) -> Path:
    return write_xlsx(sample_report, tmp_path_factory.mktemp("xlsx") / "report.xlsx")


@pytest.fixture(scope="module")
def checks(workbook) -> dict[str, bool]:
    return _checks(workbook)


def _checks(path: Path) -> dict[str, bool]:
    """Recalculate the workbook with ``formulas`` and return the Checks sheet as {check label: passes}."""
    import formulas

    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    prefix = f"'[{path.name.upper()}]CHECKS'!".upper()
    cells = {k.upper().removeprefix(prefix): v for k, v in solution.items() if k.upper().startswith(prefix)}
    out = {}
    row = 2
    while f"A{row}" in cells:
        label = cells[f"A{row}"].value[0][0]
        value = cells[f"E{row}"].value[0][0]
        assert isinstance(value, bool | np.bool_), f"Checks!E{row} ({label}) evaluated to {value!r}"
        out[str(label)] = bool(value)
        row += 1
    return out


def _tampered(src: Path, dst: Path, edit: Callable[[dict[str, int], openpyxl.worksheet.worksheet.Worksheet], None]):
    book = openpyxl.load_workbook(src)
    sheet = book["Allocation"]
    edit({c.value: c.column for c in sheet[1]}, sheet)
    book.save(dst)
    return dst


def test_every_check_is_true_on_the_plan(sample_report, checks):
    assert checks["all checks pass"] is True
    assert all(checks.values()), [k for k, v in checks.items() if not v]
    # two totals, one row per rule side, the bounds, and the overall AND
    assert len(checks) == len(sample_report.rule_rows) + 4


def test_checks_are_formulas_over_the_allocation(workbook):
    sheet = openpyxl.load_workbook(workbook)["Checks"]
    assert sheet["E2"].value.startswith("=AND(")
    assert all("Allocation!" in sheet.cell(r, 2).value for r in range(3, sheet.max_row + 1))
    assert b'fullCalcOnLoad="1"' in zipfile.ZipFile(workbook).read("xl/workbook.xml")


def _move(data, *, amount: float, to_other_region: bool, past_upper: bool):
    """An edit moving ``amount`` between two cells of one objective (other region or same region)."""
    a = data.allocation
    room_down = a["spend_period"] - a["lower"]
    room_up = a["upper"] - a["spend_period"]
    for i in np.flatnonzero(room_down > amount + 1):
        for j in np.flatnonzero((a["objective"] == a["objective"][i]).to_numpy()):
            other = a["region"][j] != a["region"][i]
            up = room_up[j] + amount if past_upper else amount
            fits = room_down[i] > up + 1 and (past_upper or room_up[j] > up + 1)
            if j == i or other != to_other_region or not fits:
                continue

            def edit(cols, sheet, i=i, j=j, up=up):
                col = cols["spend_period"]
                sheet.cell(i + 2, col).value -= up
                sheet.cell(j + 2, col).value += up

            return edit, a["region"][i], a["region"][j]
    raise AssertionError("no pair of cells to move spend between")


def test_a_total_change_breaks_the_total_checks(sample_report, workbook, tmp_path):
    a = sample_report.allocation
    i = int(np.flatnonzero((a["upper"] - a["spend_period"]) > 1_000)[0])

    def edit(cols, sheet):
        sheet.cell(i + 2, cols["spend_period"]).value += 1_000

    result = _checks(_tampered(workbook, tmp_path / "total.xlsx", edit))
    assert not result["plan total equals the rounded total (to half a unit)"]
    assert not result["plan total within one unit of the budget"]
    assert result["cells outside their bounds"]
    assert not result["all checks pass"]


def test_moving_10k_between_regions_breaks_their_share_bands(sample_report, workbook, tmp_path):
    edit, source, target = _move(sample_report, amount=10_000, to_other_region=True, past_upper=False)
    result = _checks(_tampered(workbook, tmp_path / "share.xlsx", edit))
    failed = {k for k, v in result.items() if not v}
    assert any(k.startswith("floor:") and f"'{source}'" in k for k in failed), failed
    assert any(k.startswith("ceiling:") and f"'{target}'" in k for k in failed), failed
    assert not any("objective" in k for k in failed), failed  # same objective: its shares unchanged
    assert result["plan total equals the rounded total (to half a unit)"]
    assert result["cells outside their bounds"]
    assert not result["all checks pass"]


def test_a_cell_above_its_upper_bound_breaks_only_the_bounds_check(sample_report, workbook, tmp_path):
    edit, _, _ = _move(sample_report, amount=10, to_other_region=False, past_upper=True)
    result = _checks(_tampered(workbook, tmp_path / "bound.xlsx", edit))
    assert not result["cells outside their bounds"]
    assert not result["all checks pass"]
    # same region and objective: totals and shares unchanged
    assert {k for k, v in result.items() if not v} == {"cells outside their bounds", "all checks pass"}


def test_layout(sample_report, workbook):
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == list(SHEETS)
    assert SHEETS[:9] == ("Summary", "Allocation", "Rules", "Flags", "ROI", "Diagnostics", "Policy", "Inputs", "Checks")
    for name in ("Summary", "Allocation", "Rules", "Flags", "ROI", "Inputs"):
        assert book[name].freeze_panes is not None, name
    alloc = book["Allocation"]
    cols = {c.value: c.column_letter for c in alloc[1]}
    for name in ("spend_period", "spend_period_current", "revenue_period", "lower", "upper"):
        assert '"EUR"' in alloc[f"{cols[name]}2"].number_format, name
    assert "%" in alloc[f"{cols['p_roi_below_hurdle']}2"].number_format
    assert alloc.auto_filter.ref
    assert alloc.column_dimensions[cols["channel"]].width > 8
    for name in ("Allocation", "Flags", "ROI", "Checks"):
        assert len(book[name].conditional_formatting), name
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_col=1, max_col=2, values_only=True)}
    assert summary["budget"] == pytest.approx(sample_report.headline["budget"])
    assert summary["P(uplift > 0)"] == pytest.approx(sample_report.headline["p_uplift_positive"])
    with zipfile.ZipFile(workbook) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 2
        assert any(b'<c:barDir val="bar"/>' in z.read(n) for n in charts)


def test_inputs_carry_the_provenance(sample_report, workbook):
    values = {str(v) for row in openpyxl.load_workbook(workbook)["Inputs"].iter_rows(values_only=True) for v in row}
    p = sample_report.provenance
    assert set(p["input_hashes"].values()) <= values
    assert {p["posterior_hash"], p["git_commit"]} <= values
    assert "[policy]" in values
