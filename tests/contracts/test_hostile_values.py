"""Hostile and malformed *values* in the contract tables (issue 13): each gives a ContractError that names the
table, the column, the first offending values and what is allowed; odd-but-valid input is read right."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

from contracts import (
    ContractError,
    check_panel,
    validate_events,
    validate_kpi,
    validate_lift_tests,
    validate_paths,
    validate_spend,
)

WEEKS = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]


def spend_table(weeks=WEEKS, spend=1e4) -> pd.DataFrame:
    rows = [(w, r, c, spend) for w in weeks for r in ("Asia", "Europe") for c in ("meta_ads", "email_crm")]
    return pd.DataFrame(rows, columns=["week", "region", "channel", "spend"])


def kpi_table(weeks=WEEKS) -> pd.DataFrame:
    rows = [(w, r, 1e5) for w in weeks for r in ("Asia", "Europe")]
    return pd.DataFrame(rows, columns=["week", "region", "revenue"])


def paths_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["meta_ads > email_crm", "meta_ads"],
            "total_conversions": [2, 1],
            "total_conversion_value": [120.0, 50.0],
            "total_null": [3, 4],
        }
    )


def lift_table(**changes) -> pd.DataFrame:
    row = {
        "region": "Asia",
        "channel": "meta_ads",
        "start": "2024-01-08",
        "end": "2024-01-21",
        "spend_delta": -5000.0,
        "revenue_delta": -9000.0,
        "revenue_delta_se": 1000.0,
    }
    return pd.DataFrame([{**row, **changes}])


def raises(pattern: str):
    return pytest.raises(ContractError, match=re.compile(pattern, re.DOTALL))


# ----------------------------------------------------------------------------------------------- dates


def test_week_mixing_z_timestamps_and_plain_dates_is_refused_by_name():
    df = spend_table()
    df["week"] = df["week"].astype(object)
    df.loc[df["week"] == "2024-01-01", "week"] = "2024-01-01T00:00:00Z"
    with raises(
        r"spend\.week: values mix date formats \(ISO date '2024-01-08', ISO date with time zone "
        r"'2024-01-01T00:00:00Z'\); allowed: .*write dates as YYYY-MM-DD\. First offending: week='2024-01-01T00:00:00Z'"
    ):
        validate_spend(df)


def test_week_mixing_time_zone_offsets_is_refused_by_name():
    df = spend_table()
    df["week"] = df["week"] + np.where(df["week"] == "2024-01-01", "T00:00:00+01:00", "T00:00:00+02:00")
    with raises(r"spend\.week: values mix time-zone offsets \(\+01:00, \+02:00\).*YYYY-MM-DD"):
        validate_spend(df)


def test_week_all_in_one_zone_reads_the_calendar_date_written():
    df = spend_table()
    df["week"] = df["week"] + "T00:00:00Z"
    out = validate_spend(df)
    assert sorted(out["week"].dt.strftime("%Y-%m-%d").unique()) == WEEKS


def test_timestamps_mixing_zones_and_naive_times_are_read_as_utc_instants():
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "ts": ["2024-01-01T10:00:00Z", "2024-01-01 12:00:00", "2024-01-01T12:00:00+02:00"],
            "channel": ["meta_ads", None, "email_crm"],
            "region": ["Asia", "Asia", "Europe"],
            "event_type": ["touch", "conversion", "touch"],
            "revenue": [np.nan, 42.5, np.nan],
        }
    )
    out = validate_events(events)
    assert list(out["ts"].dt.hour) == [10, 12, 10]


def test_lift_test_slash_dates_that_read_both_ways_are_refused():
    # 01/02/2024 is 1 February or 2 January; read alone, nothing says which
    with raises(
        r"lift_tests\.start: 1 slash dates could be read day-first or month-first \(e\.g\. '01/02/2024'\); "
        r"allowed: one unambiguous format; write dates as YYYY-MM-DD\. First offending: start='01/02/2024'"
    ):
        validate_lift_tests(lift_table(start="01/02/2024", end="28/02/2024"))


def test_week_column_of_ambiguous_slash_dates_is_refused_not_read_as_december():
    df = spend_table(weeks=["05/02/2024", "12/02/2024"])
    with raises(r"spend\.week: 8 slash dates could be read day-first or month-first.*'05/02/2024'.*YYYY-MM-DD"):
        validate_spend(df)


def test_week_column_whose_own_values_settle_day_first_is_read_day_first():
    df = spend_table(weeks=["05/02/2024", "12/02/2024", "19/02/2024"])
    out = validate_spend(df)
    assert sorted(out["week"].dt.strftime("%Y-%m-%d").unique()) == ["2024-02-05", "2024-02-12", "2024-02-19"]


def test_week_column_written_both_day_first_and_month_first_is_refused():
    df = spend_table(weeks=["19/02/2024", "02/26/2024"])
    with raises(r"spend\.week: values are written both day-first \('19/02/2024'\) and month-first \('02/26/2024'\)"):
        validate_spend(df)


def test_week_mixing_iso_and_slash_dates_is_refused():
    df = spend_table(weeks=["2024-02-05", "12/02/2024"])
    with raises(r"spend\.week: values mix date formats \(ISO date '2024-02-05', slash date '12/02/2024'\)"):
        validate_spend(df)


@pytest.mark.parametrize("weeks", [[45292, 45299], ["45292", "45299"]], ids=["numbers", "text"])
def test_excel_serial_day_numbers_are_named_as_such(weeks):
    df = spend_table(weeks=weeks)
    with raises(
        r"spend\.week: 8 values are numbers, not dates; they look like Excel serial day numbers "
        r"\(45292 would be 2024-01-01\); allowed: dates written as text YYYY-MM-DD.*First offending: week=.?45292"
    ):
        validate_spend(df)


@pytest.mark.parametrize("start", ["3025-03-24", "1025-03-24"])
def test_date_with_a_mistyped_year_is_refused(start):
    with raises(rf"lift_tests\.start: 1 values are outside the years 1900-2199; .*start='{start}' at row 0"):
        validate_lift_tests(lift_table(start=start, end="2024-01-21"))


# --------------------------------------------------------------------------------------------- numbers


def test_spend_too_large_to_sum_is_refused():
    df = spend_table()
    df.loc[3, "spend"] = 1e308
    with raises(
        r"spend\.spend: 1 values are too large; allowed: numbers between -1e\+15 and 1e\+15\. "
        r"First offending: spend=1e\+308 at row 3"
    ):
        validate_spend(df)


def test_count_of_two_to_the_63_is_refused_not_rounded_to_a_float():
    df = paths_table()
    df["total_null"] = pd.Series([2**63, 4], dtype="uint64")
    with raises(r"paths\.total_null: 1 values are too large; .*total_null=9223372036854775808 at row 0"):
        validate_paths(df)


def test_boolean_spend_column_is_refused():
    df = spend_table()
    df["spend"] = df.index % 2 == 0
    with raises(r"spend\.spend: 16 values are true/false, not numbers; allowed: numbers .*spend=True at row 0"):
        validate_spend(df)


def test_boolean_revenue_read_from_csv_is_refused(tmp_path):
    path = tmp_path / "kpi.csv"
    kpi_table().assign(revenue=lambda d: np.where(d.index % 2 == 0, "True", "False")).to_csv(path, index=False)
    with raises(r"kpi\.revenue: 8 values are true/false, not numbers"):
        validate_kpi(pd.read_csv(path))


@pytest.mark.parametrize("column", ["total_conversions", "total_null"])
def test_fractional_counts_are_refused(column):
    df = paths_table()
    df[column] = df[column].astype(float)
    df.loc[1, column] = 2.5
    with raises(rf"paths\.{column}: 1 values are not whole numbers; allowed: whole numbers \(counts\).*=2\.5 at row 1"):
        validate_paths(df)


def test_duplicated_column_name_is_refused():
    df = kpi_table()
    df = pd.concat([df, df[["revenue"]]], axis=1)
    with raises(r"kpi\.revenue: the column name appears 2 times; allowed: each column name once"):
        validate_kpi(df)


def test_duplicated_header_read_back_as_dot_one_is_refused(tmp_path):
    path = tmp_path / "spend.csv"
    path.write_text("week,region,channel,spend,spend\n2024-01-01,Asia,meta_ads,1.0,2.0\n")
    with raises(r"spend\.spend: the column appears more than once in the header \(read as 'spend' and 'spend\.1'\)"):
        validate_spend(pd.read_csv(path))


# ------------------------------------------------------------------------------------------- text keys


def test_region_in_nfc_and_nfd_forms_is_refused_with_visible_escapes():
    nfc = unicodedata.normalize("NFC", "Réunion")
    nfd = unicodedata.normalize("NFD", "Réunion")
    df = spend_table()
    df.loc[df["region"] == "Europe", "region"] = [nfc, nfd] * 4
    with pytest.raises(ContractError) as err:
        validate_spend(df)
    message = str(err.value)
    assert "spend.region: 1 region names are written in more than one way" in message
    assert "'Re\\u0301union' (4 rows) vs 'R\\xe9union' (4 rows)" in message
    assert "allowed: one spelling per name" in message


def test_region_in_one_unicode_form_throughout_is_read_as_nfc():
    nfd = unicodedata.normalize("NFD", "Réunion")
    df = spend_table()
    df.loc[df["region"] == "Europe", "region"] = nfd
    out = validate_spend(df)
    assert unicodedata.normalize("NFC", "Réunion") in set(out["region"])


def test_key_with_and_without_surrounding_blanks_is_refused():
    df = spend_table()
    df.loc[0, "channel"] = "meta_ads "
    with raises(r"spend\.channel: 1 channel names are written in more than one way.*'meta_ads' \(7 rows\) vs "):
        validate_spend(df)


def test_keys_differing_only_in_case_within_a_table_are_refused():
    df = spend_table()
    df.loc[df["region"] == "Asia", "region"] = ["Asia", "asia"] * 4
    with raises(r"spend\.region: 1 region names are written in more than one way.*'Asia' \(4 rows\) vs 'asia'"):
        validate_spend(df)


def test_region_case_mismatch_between_tables_says_did_you_mean():
    spend = validate_spend(spend_table())
    kpi = kpi_table()
    kpi["region"] = kpi["region"].replace({"Asia": "asia"})
    with raises(r"kpi\.region: 1 region values appear in kpi but not in spend.*'asia' \(did you mean 'Asia'\?\)"):
        check_panel(spend, validate_kpi(kpi))


# ---------------------------------------------------------------------------------------------- panel


def test_region_with_zero_revenue_in_every_week_is_refused():
    kpi = kpi_table()
    kpi.loc[kpi["region"] == "Europe", "revenue"] = 0.0
    with raises(r"kpi\.revenue: 1 regions have revenue 0 in every week; allowed: some revenue.*region 'Europe'"):
        check_panel(validate_spend(spend_table()), validate_kpi(kpi))


@pytest.mark.parametrize(
    ("delta", "why"),
    [
        (1e9, r"spend_delta 1e\+09 but the cell spent 20000 in the test weeks"),
        (-1e9, r"spend_delta -1e\+09 but 10 x the cell's highest weekly spend x test weeks is 200000"),
    ],
)
def test_lift_test_with_impossible_spend_change_is_refused(delta, why):
    lift = validate_lift_tests(lift_table(spend_delta=delta))
    with raises(
        r"lift_tests\.spend_delta: 1 tests change spend by more than the cell could have spent in the test weeks; "
        r"allowed: .*First offending: row 0 \(region 'Asia', channel 'meta_ads', 2024-01-08 \.\. 2024-01-21\): " + why
    ):
        check_panel(validate_spend(spend_table()), validate_kpi(kpi_table()), lift_tests=lift)


def test_full_go_dark_test_is_accepted():
    spend = spend_table()
    dark = (spend["region"] == "Asia") & (spend["channel"] == "meta_ads") & spend["week"].isin(WEEKS[1:3])
    spend.loc[dark, "spend"] = 0.0
    lift = validate_lift_tests(lift_table(spend_delta=-2e4))
    check_panel(validate_spend(spend), validate_kpi(kpi_table()), lift_tests=lift)


def test_lift_test_on_a_cell_that_never_spends_is_refused():
    spend = spend_table()
    spend.loc[(spend["region"] == "Asia") & (spend["channel"] == "meta_ads"), "spend"] = 0.0
    lift = validate_lift_tests(lift_table(spend_delta=5000.0))
    with raises(
        r"lift_tests\.region, channel: 1 tests are on a cell whose spend is 0 in every week; "
        r"allowed: tests on a \(region, channel\) that spends\. "
        r"First offending: row 0 \(region 'Asia', channel 'meta_ads'"
    ):
        check_panel(validate_spend(spend), validate_kpi(kpi_table()), lift_tests=lift)
