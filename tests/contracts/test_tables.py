"""Each data-contract rule, fed bad input by hand: the error must name table, column, rows and what is allowed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts import (
    ContractError,
    DataWarning,
    check_panel,
    validate_channels,
    validate_controls,
    validate_events,
    validate_kpi,
    validate_lift_tests,
    validate_paths,
    validate_spend,
    validate_table,
)

WEEKS = ["2024-01-01", "2024-01-08", "2024-01-15"]


def spend_table() -> pd.DataFrame:
    rows = [(w, r, c, 100.0) for w in WEEKS for r in ("Asia", "Europe") for c in ("meta_ads", "email_crm")]
    return pd.DataFrame(rows, columns=["week", "region", "channel", "spend"])


def kpi_table() -> pd.DataFrame:
    rows = [(w, r, 1000.0) for w in WEEKS for r in ("Asia", "Europe")]
    return pd.DataFrame(rows, columns=["week", "region", "revenue"])


def channels_table() -> pd.DataFrame:
    return pd.DataFrame({"channel": ["meta_ads", "email_crm"], "objective": ["acquisition", "retention"]})


def paths_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["meta_ads > email_crm", "meta_ads", "email_crm"],
            "total_conversions": [2, 0, 1],
            "total_conversion_value": [120.0, 0.0, 50.0],
            "total_null": [3, 4, 0],
        }
    )


def events_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "ts": ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T09:00:00Z"],
            "channel": ["meta_ads", None, "email_crm"],
            "region": ["Asia", "Asia", "Europe"],
            "event_type": ["touch", "conversion", "touch"],
            "revenue": [np.nan, 42.5, np.nan],
        }
    )


def lift_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["Asia"],
            "channel": ["meta_ads"],
            "start": ["2024-01-01"],
            "end": ["2024-01-14"],
            "spend_delta": [500.0],
            "revenue_delta": [900.0],
            "revenue_delta_se": [100.0],
        }
    )


def test_valid_tables_pass_and_get_canonical_types():
    spend = validate_spend(spend_table())
    assert str(spend["week"].dtype) == "datetime64[ns]"
    assert spend["spend"].dtype == np.float64
    events = validate_events(events_table())
    assert str(events["ts"].dtype) == "datetime64[ns, UTC]"
    check_panel(spend, validate_kpi(kpi_table()), channels=validate_channels(channels_table()))


def test_input_frame_is_not_mutated():
    raw = spend_table()
    before = raw.copy()
    validate_spend(raw)
    pd.testing.assert_frame_equal(raw, before)


def test_missing_column():
    with pytest.raises(ContractError) as err:
        validate_spend(spend_table().drop(columns="spend"))
    msg = str(err.value)
    assert "spend.spend: missing column" in msg
    assert "['week', 'region', 'channel', 'spend']" in msg
    assert err.value.table == "spend" and err.value.column == "spend"


def test_wrong_type():
    df = spend_table().astype({"spend": object})
    df.loc[4, "spend"] = "twelve"
    with pytest.raises(ContractError) as err:
        validate_spend(df)
    msg = str(err.value)
    assert "spend.spend: 1 values are not numbers" in msg
    assert "spend='twelve' at row 4 (week 2024-01-08, region 'Asia', channel 'meta_ads')" in msg


def test_unparseable_week():
    df = spend_table()
    df.loc[2, "week"] = "last monday"
    with pytest.raises(ContractError, match=r"spend\.week: 1 values are missing or not dates.*'last monday' at row 2"):
        validate_spend(df)


def test_negative_spend():
    df = spend_table()
    df.loc[[3, 7], "spend"] = [-5.0, -1.0]
    with pytest.raises(ContractError) as err:
        validate_spend(df)
    msg = str(err.value)
    assert "spend.spend: 2 values are negative; allowed: >= 0" in msg
    assert "spend=-5.0 at row 3 (week 2024-01-01, region 'Europe', channel 'email_crm')" in msg
    assert "spend=-1.0 at row 7" in msg


def test_nan_spend():
    df = spend_table()
    df.loc[5, "spend"] = np.nan
    with pytest.raises(ContractError, match=r"spend\.spend: 1 values are missing \(null/NaN\).*row 5"):
        validate_spend(df)


def test_infinite_revenue():
    df = kpi_table()
    df.loc[1, "revenue"] = np.inf
    with pytest.raises(ContractError) as err:
        validate_kpi(df)
    assert "kpi.revenue: 1 values are infinite; allowed: finite numbers" in str(err.value)
    assert "revenue=inf at row 1 (week 2024-01-01, region 'Europe')" in str(err.value)


def test_duplicate_week_region_channel():
    df = pd.concat([spend_table(), spend_table().iloc[[2]]], ignore_index=True)
    with pytest.raises(ContractError) as err:
        validate_spend(df)
    msg = str(err.value)
    assert "spend.week, region, channel: 1 (week, region, channel) keys appear more than once (2 rows)" in msg
    assert "allowed: one row per (week, region, channel)" in msg
    assert "row 2 (week 2024-01-01, region 'Europe', channel 'meta_ads'" in msg
    assert "row 12 (week 2024-01-01, region 'Europe', channel 'meta_ads'" in msg


def test_week_not_on_monday():
    df = kpi_table()
    df.loc[df["week"] == "2024-01-15", "week"] = "2024-01-17"
    with pytest.raises(ContractError) as err:
        validate_kpi(df)
    msg = str(err.value)
    assert "kpi.week: 2 weeks do not start on a Monday; allowed: Monday dates" in msg
    assert "row 4 (week 2024-01-17, region 'Asia', revenue 1000.0) is a Wednesday" in msg


def test_week_with_time_of_day():
    df = kpi_table()
    df.loc[0, "week"] = "2024-01-01 09:30"
    with pytest.raises(ContractError, match=r"kpi\.week: 1 values have a time of day; allowed: calendar dates"):
        validate_kpi(df)


def test_gap_in_weeks():
    df = kpi_table()
    df = df[df["week"] != "2024-01-08"]
    with pytest.raises(ContractError) as err:
        validate_kpi(df)
    msg = str(err.value)
    assert "kpi.week: 1 weeks are missing between 2024-01-01 and 2024-01-15" in msg
    assert "allowed: consecutive weeks with no gaps. First offending: 2024-01-08" in msg


def test_missing_row_in_one_series():
    df = spend_table().drop(index=[5])
    with pytest.raises(ContractError) as err:
        validate_spend(df)
    msg = str(err.value)
    assert "1 (week, region, channel) combinations have no row" in msg
    assert "week 2024-01-08, region 'Asia', channel 'email_crm'" in msg
    assert "record 0 explicitly" in msg


def test_spend_and_kpi_regions_do_not_match():
    kpi = validate_kpi(kpi_table().replace({"region": {"Europe": "EU"}}))
    with pytest.raises(ContractError) as err:
        check_panel(validate_spend(spend_table()), kpi)
    msg = str(err.value)
    assert "spend.region: 1 region values appear in spend but not in kpi" in msg
    assert "'Europe'" in msg
    assert "kpi.region: 1 region values appear in kpi but not in spend" in msg
    assert "'EU'" in msg


def test_spend_and_kpi_weeks_do_not_match():
    kpi = kpi_table()
    kpi = pd.concat([kpi, kpi.iloc[:2].assign(week="2024-01-22")], ignore_index=True)
    with pytest.raises(ContractError) as err:
        check_panel(validate_spend(spend_table()), validate_kpi(kpi))
    assert "kpi.week: 1 week values appear in kpi but not in spend" in str(err.value)
    assert "2024-01-22" in str(err.value)


def test_channel_not_in_catalog():
    spend = spend_table().replace({"channel": {"email_crm": "emial_crm"}})
    with pytest.raises(ContractError) as err:
        check_panel(validate_spend(spend), validate_kpi(kpi_table()), channels=validate_channels(channels_table()))
    msg = str(err.value)
    assert "spend.channel: 1 channels are not in the channel catalog (6 rows)" in msg
    assert "'emial_crm'" in msg
    assert "email_crm, meta_ads" in msg


def test_objective_outside_allowed_set():
    df = channels_table()
    df.loc[1, "objective"] = "awareness"
    with pytest.raises(ContractError) as err:
        validate_channels(df)
    msg = str(err.value)
    assert "channels.objective: 1 values are not a known objective" in msg
    assert "allowed: one of ['acquisition', 'retention', 'brand']" in msg
    assert "objective='awareness' at row 1 (channel 'email_crm')" in msg


def test_duplicate_channel_in_catalog():
    df = pd.concat([channels_table(), channels_table().iloc[[0]]], ignore_index=True)
    with pytest.raises(ContractError, match=r"channels\.channel: 1 \(channel\) keys appear more than once"):
        validate_channels(df)


def test_path_row_with_no_conversions_and_no_nulls():
    df = paths_table()
    df.loc[1, "total_null"] = 0
    with pytest.raises(ContractError) as err:
        validate_paths(df)
    msg = str(err.value)
    assert "paths.total_conversions: 1 rows have total_conversions + total_null = 0" in msg
    assert "row 1 (path 'meta_ads', total_conversions 0.0, total_null 0.0)" in msg
    assert "drop_empty=True" in msg


def test_path_rows_dropped_only_on_request_and_reported():
    df = paths_table()
    df.loc[1, "total_null"] = 0
    with pytest.warns(DataWarning, match=r"paths: dropped 1 of 3 rows .*'meta_ads'"):
        out = validate_paths(df, drop_empty=True)
    assert len(out) == 2
    assert out.attrs == {}  # reports travel in the warning (and on attribution's results), never in attrs


@pytest.mark.parametrize("path", ["meta_ads >  > email_crm", "meta_ads >", "> email_crm", "meta_ads >> email_crm"])
def test_path_with_empty_channel_name(path):
    df = paths_table()
    df.loc[0, "path"] = path
    with pytest.raises(ContractError, match=r"paths\.path: 1 paths have an empty channel name.*row 0"):
        validate_paths(df)


@pytest.mark.parametrize(
    "table, make",
    [
        ("spend", spend_table),
        ("kpi", kpi_table),
        ("channels", channels_table),
        ("paths", paths_table),
        ("events", events_table),
        ("lift_tests", lift_table),
    ],
)
def test_empty_tables(table, make):
    with pytest.raises(ContractError) as err:
        validate_table(make().iloc[0:0], table)
    assert str(err.value) == f"{table}: table is empty (0 rows); allowed: at least one row"


def test_touch_without_channel_and_conversion_without_revenue():
    df = events_table()
    df.loc[0, "channel"] = None
    df.loc[1, "revenue"] = np.nan
    with pytest.raises(ContractError) as err:
        validate_events(df)
    msg = str(err.value)
    assert "events.channel: 1 touch events have no channel" in msg
    assert "events.revenue: 1 conversion events have no revenue" in msg


def test_unknown_event_type_and_bad_timestamp():
    df = events_table()
    df.loc[2, "event_type"] = "click"
    df.loc[0, "ts"] = "yesterday"
    with pytest.raises(ContractError) as err:
        validate_events(df)
    msg = str(err.value)
    assert "events.ts: 1 values are missing or not timestamps" in msg
    assert "events.event_type: 1 values are not a known event type; allowed: one of ['touch', 'conversion']" in msg


def test_naive_timestamps_are_read_as_utc():
    df = events_table()
    df["ts"] = ["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-03 09:00"]
    out = validate_events(df)
    assert out["ts"].iloc[0] == pd.Timestamp("2024-01-01 10:00", tz="UTC")


def test_lift_test_rules():
    df = pd.concat([lift_table()] * 3, ignore_index=True)
    df.loc[0, "end"] = "2023-12-25"
    df.loc[1, "revenue_delta_se"] = 0.0
    df.loc[2, "spend_delta"] = 0.0
    with pytest.raises(ContractError) as err:
        validate_lift_tests(df)
    assert "lift_tests.revenue_delta_se: 1 values are zero or negative; allowed: > 0" in str(err.value)
    df.loc[1, "revenue_delta_se"] = 50.0
    with pytest.raises(ContractError) as err:
        validate_lift_tests(df)
    msg = str(err.value)
    assert "lift_tests.end: 1 rows end before they start" in msg
    assert "lift_tests.spend_delta: 1 rows have spend_delta = 0" in msg


def test_lift_test_must_name_a_spend_cell_inside_the_window():
    lift = lift_table().assign(channel="tiktok_shop", end="2024-03-03")
    with pytest.raises(ContractError) as err:
        check_panel(validate_spend(spend_table()), validate_kpi(kpi_table()), lift_tests=validate_lift_tests(lift))
    msg = str(err.value)
    assert "1 tests name a (region, channel) with no spend rows" in msg
    assert "row 0 (region 'Asia', channel 'tiktok_shop')" in msg
    assert "1 tests fall outside the spend weeks; allowed: windows within 2024-01-01 .. 2024-01-21" in msg


def test_controls_need_finite_numeric_columns():
    controls = kpi_table().drop(columns="revenue").assign(promo_depth=0.1)
    assert validate_controls(controls)["promo_depth"].dtype == np.float64
    controls.loc[3, "promo_depth"] = np.inf
    with pytest.raises(ContractError, match=r"controls\.promo_depth: 1 values are not finite numbers"):
        validate_controls(controls)
    with pytest.raises(ContractError, match=r"controls: has no control columns"):
        validate_controls(kpi_table().drop(columns="revenue"))


def test_several_problems_are_reported_together():
    df = spend_table()
    df.loc[0, "spend"] = -1.0
    df.loc[1, "region"] = None
    with pytest.raises(ContractError) as err:
        validate_spend(df)
    assert str(err.value).startswith("2 data contract problem(s):")
    assert {p.column for p in err.value.problems} == {"spend", "region"}


def test_unknown_table_name():
    with pytest.raises(ValueError, match=r"unknown table 'budget'"):
        validate_table(spend_table(), "budget")
