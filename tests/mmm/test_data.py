import numpy as np
import pytest

from contracts import ContractError, Dataset
from mmm.data import prepare_data


def test_arrays_line_up(world, data):
    assert data.spend.shape == (78, 6)
    assert data.revenue.shape == (78, 2)
    assert data.controls.shape == (78, 2, 1)
    assert data.cells["objective"].notna().all()
    total = world.spend.groupby(["region", "channel"])["spend"].sum()
    for i, (r, c) in enumerate(zip(data.cells["region"], data.cells["channel"], strict=True)):
        assert data.spend[:, i].sum() == pytest.approx(total[(r, c)])


def test_lift_counterfactual_recovers_planned_spend(world, data):
    """Boosts scale the planned spend, so proportional spreading is exact; dark tests get the window's mean."""
    truth = world.truth.lift_tests
    for i, test in data.lift_tests.iterrows():
        window = data.lift_window[i]
        assert window.sum() == 4
        planned = np.asarray(truth.loc[i, "planned_spend"])
        got = data.lift_counterfactual[window, i]
        if test["spend_delta"] > 0:
            np.testing.assert_allclose(got, planned, rtol=1e-6)
        else:
            np.testing.assert_allclose(got.sum(), planned.sum(), rtol=1e-6)
        outside = ~window
        np.testing.assert_array_equal(data.lift_counterfactual[outside, i], data.spend[outside, test["cell"]])


def test_bad_input_raises_contract_error(world):
    spend = world.spend.copy()
    spend.loc[3, "spend"] = -5.0
    with pytest.raises(ContractError) as info:
        Dataset(spend=spend, kpi=world.kpi)
    assert info.value.table == "spend"
    with pytest.raises(ContractError):
        Dataset(spend=world.spend, kpi=world.kpi.drop(columns="revenue"))
    kpi = world.kpi[world.kpi["region"] == "Asia"]
    with pytest.raises(ContractError, match="region"):
        Dataset(spend=world.spend, kpi=kpi)
    with pytest.raises(TypeError, match=r"data must be a contracts\.Dataset"):
        prepare_data(world.spend)


def test_cell_without_spend_is_left_out_loudly(world):
    spend = world.spend.copy()
    spend.loc[(spend["region"] == "Asia") & (spend["channel"] == "meta_ads"), "spend"] = 0.0
    with pytest.warns(UserWarning, match="1 cells have no spend.*Asia/meta_ads"):
        data = prepare_data(Dataset(spend=spend, kpi=world.kpi))
    assert len(data.cells) == 5
