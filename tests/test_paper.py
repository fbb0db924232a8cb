"""The paper's claims: the GD- and SGD-flow gaps on closed-form curves, and the claims' order."""

import math

import numpy as np
import pytest

from prdynamics.studies import paper


def run(t, rate=1.0, mse_scale=1.0, **extra):
    """s = |u| = 1 - e^{-rate t}, MSE mse_scale e^{-t}."""
    up = 1 - np.exp(-rate * t)
    return {"t": t, "s": up, "u": up, "mse": mse_scale * np.exp(-t), "seed": 0, "a": 2.0, "d": 10} | extra


def gd_run(t, rate=1.0, mse_scale=1.0, eta=0.01, **extra):
    """A GD file: GD's curves (run(t, rate, mse_scale)) and the flow's (run(t)) on the same times."""
    flow = run(t)
    return run(t, rate=rate, mse_scale=mse_scale) | {f"flow_{k}": flow[k] for k in ("s", "u", "mse")} | {
        "lam": np.array([0.5, 0.25]), "wstar": np.array([1.0, 2.0]), "eta": eta} | extra


def test_gd_flow_gaps_are_the_relative_time_shift_and_mse_gap():
    t = np.linspace(0.01, 10, 20001)
    gaps = paper.gd_flow_gaps(gd_run(t, rate=1 / 1.02, mse_scale=1.01))
    assert gaps["T_s_third"] == pytest.approx(0.02, rel=1e-4)  # linear interpolation
    assert gaps["T_u_0.9"] == pytest.approx(0.02, rel=1e-4)
    assert gaps["mse"] == pytest.approx(0.01, rel=1e-12)
    assert gaps["h_max"] == pytest.approx(8 * 0.5 + 16 * (0.25 + 0.25))  # 8 lam_1 + 16 sum lam^2 w*^2
    with pytest.raises(ValueError, match="paired"):
        paper.paired_gd_gaps([gd_run(t)], [gd_run(t, seed=1)])


def test_gd_gap_ratio_check_passes_first_order_and_fails_otherwise():
    """A gap that halves with eta passes; one that does not shrink (a rescaled-time limit) fails;
    a refined gap below the reference floor is dropped, not tested."""
    t = np.linspace(0.01, 10, 20001)

    def pair(shift_c, shift_f):
        return paper.paired_gd_gaps([gd_run(t, rate=1 / (1 + shift_c), mse_scale=1 + shift_c)],
                                    [gd_run(t, rate=1 / (1 + shift_f), mse_scale=1 + shift_f, eta=0.005)])

    kw = {"order": 1.0, "ratio_eta_h": 1.0, "reference_floor": 1e-6}
    assert paper.claim_gd_matches_flow(*pair(0.02, 0.01), **kw).passed
    assert not paper.claim_gd_matches_flow(*pair(0.02, 0.019), **kw).passed
    assert not paper.claim_gd_matches_flow(*pair(0.02, 0.005), **kw).passed  # second order is not first
    dropped = paper.claim_gd_matches_flow(*pair(0.02, 1e-8), **kw)
    assert not dropped.passed and dropped.measured["per_run"][0]["dropped"] == list(paper.GD_GAPS)


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
        "volterra": {"phase1_rel_err": [0.01], "phase1_corrected_rel_err": [5e-5],
                     "phase1_exact_rel_err": [1e-8],
                     "theta_abs_err": [1e-5], "theta_abs_err_coarse": [4e-5], "delta_abs_err": [1e-5],
                     "delta_abs_err_coarse": [3.5e-5], "s_phase1": 0.1},
        "fig3_a": [1.5, 2.0], "fig3_T1_median": [3.0, 2.0], "T2_by_eps": {0.1: [5.0]},
        "frozen_mse_gaps": {0: {0.9: 0.01, 0.95: 0.005, 0.99: 0.001}},
        "gd_flow_gaps": ([{"eta": 0.01, "seed": 0, "h_max": 10.0, "T_s_third": 0.02, "T_u_0.9": 0.01,
                           "mse": 0.002}],
                         [{"eta": 0.005, "seed": 0, "h_max": 10.0, "T_s_third": 0.0101, "T_u_0.9": 0.005,
                           "mse": 0.00099}]), "sgd_flow_gaps_by_a": {2.0: [0.1]},
    }
    found = paper.claims(summary, volterra_phase1_k2=1.0,
                         volterra_order_min=1.0, frozen_order_min=0.5, gd_order=1.0,
                         gd_ratio_eta_h=1.0, gd_reference_floor=1e-4,
                         sgd_time_rtol=0.35, sgd_value_rtol=0.1, confidence_level=0.95)
    assert [c.id for c in found] == [
        "threshold.s_one_third", "escape.log_d", "escape.rate", "volterra.phase1", "volterra.theta_exact",
        "volterra.phase2b", "escape.faster_with_a", "phase2.converges", "phase3.frozen_approx",
        "gd.matches_flow", "sgd.tracks_flow"]
    assert all(c.passed for c in found if c.kind == "check")
    assert [c.id for c in found if c.kind == "finding"] == ["phase2.converges", "sgd.tracks_flow"]


def test_sgd_tracks_flow_counts_the_replicas_inside_the_band():
    c = paper.claim_sgd_tracks_flow({2.0: [0.1, 0.5, float("inf")], 0.0: [0.0, 0.2, 0.3]}, time_rtol=0.35,
                                    value_rtol=0.1, level=0.95)
    assert c.kind == "finding" and c.measured["max_time_warp_gap"] == {"0.0": 0.3, "2.0": float("inf")}
    assert c.interval["replicas_within_time_rtol"]["2.0"]["count"] == 1  # 0.5 and a diverged one outside
    assert c.interval["replicas_within_time_rtol"]["0.0"]["fraction_ci"][1] == 1.0
