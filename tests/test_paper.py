"""The paper's claims: the GD- and SGD-flow gaps on closed-form curves, and the claims' order."""

import math

import numpy as np
import pytest

from prdynamics.studies import paper


def run(t, rate=1.0, mse_scale=1.0, **extra):
    """s = |u| = 1 - e^{-rate t}, MSE mse_scale e^{-t}."""
    up = 1 - np.exp(-rate * t)
    return {"t": t, "s": up, "u": up, "mse": mse_scale * np.exp(-t), "seed": 0, "a": 2.0, "d": 10} | extra


def test_gd_flow_gaps_are_the_relative_time_shift_and_mse_gap():
    t = np.linspace(0.01, 10, 20001)
    gaps = paper.gd_flow_gaps(run(t), run(t, rate=1 / 1.02, mse_scale=1.01))
    assert gaps["T_s_third"] == pytest.approx(0.02, rel=1e-4)  # linear interpolation
    assert gaps["T_u_0.9"] == pytest.approx(0.02, rel=1e-4)
    assert gaps["mse"] == pytest.approx(0.01, rel=1e-12)
    with pytest.raises(ValueError, match="paired"):
        paper.gd_flow_gaps(run(t), run(t, seed=1))


def test_sgd_flow_gaps_per_replica():
    t = np.geomspace(0.01, 10, 200)
    flow = run(t)
    sgd = {"t": t, "mse": np.stack([np.exp(-t), np.full(t.size, np.nan)]), "seed": np.array([0, 1]),
           "diverged": np.array([False, True]), "a": 2.0, "d": 10}
    gaps = paper.sgd_flow_gaps(sgd, {(2.0, 10, 0): flow}, value_rtol=0.1)
    assert gaps == [0.0, math.inf]


def test_claims_come_in_the_order_of_checks_json():
    summary = {
        "threshold_reports": [{"crossings": 1, "min_margin": 0.1}],
        "escape_T1_median_by_a": {2.0: ([100, 200, 400], [1.0, 1.5, 2.0])},
        "escape_a": np.array([2.0] * 3), "escape_d": np.array([1e4] * 3),
        "escape_rate_ratio": np.array([1.0, 1.01, 0.99]),
        "escape_T1_u": np.array([0.51, 0.99, 1.52]), "escape_T1_u_pred": np.array([0.5, 1.0, 1.5]),
        "volterra": {"phase1_rel_err": [0.01], "theta_abs_err": [1e-5], "delta_abs_err": [1e-5],
                     "s_phase1": 0.1},
        "fig3_a": [1.5, 2.0], "fig3_T1_median": [3.0, 2.0], "T2_by_eps": {0.1: [5.0]},
        "frozen_mse_gaps": [0.01], "gd_flow_gaps": [{"mse": 0.01}], "sgd_flow_gaps_by_a": {2.0: [0.1]},
    }
    found = paper.claims(summary, volterra_phase1_rtol=0.15,
                         volterra_theta_atol=1e-4, frozen_mse_rtol=0.02, gd_flow_time_rtol=0.05,
                         sgd_time_rtol=0.35, sgd_value_rtol=0.1, confidence_level=0.95)
    assert [c.id for c in found] == [
        "threshold.s_one_third", "escape.log_d", "escape.rate", "volterra.phase1", "volterra.theta_exact",
        "volterra.phase2b", "escape.faster_with_a", "phase2.converges", "phase3.frozen_approx",
        "gd.matches_flow", "sgd.tracks_flow"]
    assert all(c.passed for c in found if c.kind == "check")
    assert [c.id for c in found if c.kind == "finding"] == ["phase2.converges"]
