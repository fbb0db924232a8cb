"""Every check of the paper's convergence claims can fail: each defect below is injected into a
small in-process run (a = 2, d = 30, three seeds) of the pipeline's own scripts, and the targeted
checks must fail while the other checks of the area still pass on the same defective data.

DEFECTS is read by the defect-detection table: per defect, what is wrong, which checks it must
fail and which it must leave passing.  The Phase III runs use a short tau window
(TAU_MAX_FACTOR): over the pipeline's long window phase3.frozen_approx fails on undamaged data
(see docs/studies/paper.md), so the undamaged reference here is the window where the derived
order holds.
"""

from __future__ import annotations

import numpy as np
import pytest
import simulate_flow
import simulate_phase3
import theory_volterra

import prdynamics.gd as G
import prdynamics.volterra as V
from prdynamics.flow import StepController, integrate_flow, log_time_grid
from prdynamics.io import load_result
from prdynamics.model import check_problem, escape_time_scale, full_recovery_time
from prdynamics.seeding import problem
from prdynamics.studies import paper

A, D, SEEDS = 2.0, 30, (0, 1, 2)
ETA, ETA_REFINED = 1e-2, 5e-3
RTOL, ATOL = 1e-8, 1e-12
U_LEVELS = (0.9, 0.95, 0.99)
TAU_MAX_FACTOR = 0.5
#: The criteria of config/config.yaml (claims section); the floor is gd_reference_factor * RTOL.
CRITERIA = {"gd_order": 1.0, "gd_ratio_eta_h": 1.0, "gd_reference_floor": 100 * RTOL,
            "volterra_phase1_k2": 1.0, "volterra_order_min": 1.0, "frozen_order_min": 0.5}

GD_CHECK, FROZEN = "gd.matches_flow", "phase3.frozen_approx"
VOLTERRA = {"volterra.phase1", "volterra.theta_exact", "volterra.phase2b"}
ALL = {GD_CHECK, FROZEN} | VOLTERRA

DEFECTS = {
    "gradient factor in GD": {
        "changes": "population GD steps with 1.02 x the gradient (its time still counts steps * eta)",
        "fails": {GD_CHECK}, "passes": ALL - {GD_CHECK}},
    "stale refined GD run": {
        "changes": "the eta/2 GD result is a stale copy of the eta run",
        "fails": {GD_CHECK}, "passes": ALL - {GD_CHECK}},
    "Volterra kernel off by a factor": {
        "changes": "the Volterra solvers use 1.02 x the kernel weights 8 lam_i^2 w*_i^2",
        "fails": VOLTERRA, "passes": ALL - VOLTERRA},
    "frozen flow rate off by a factor": {
        "changes": "the frozen-statistics flow decays at 8.4 lam_i instead of 8 lam_i",
        "fails": {FROZEN}, "passes": ALL - {FROZEN}},
}


def _frozen_rate(rate):
    """frozen_statistics with the decay rate `rate` lam_i (8 is the model's)."""
    def frozen(lam, wstar, w_start, tau):
        lam, wstar, w = check_problem(lam, wstar, w_start)
        target = np.sign(np.sum(lam * w * wstar)) * wstar
        ws = target + (w - target) * np.exp(-rate * np.outer(np.asarray(tau, float), lam))
        mse = np.minimum(((ws - wstar) ** 2).sum(1), ((ws + wstar) ** 2).sum(1)) / lam.size
        return {"mse": mse, "loss": np.full(mse.shape, np.nan)}
    return frozen


def gd_runs(eta):
    """GD files of the seeds at step eta, recorded on multiples of ETA, with the flow on those times
    (what scripts/simulate_flow.py --method gd writes)."""
    runs = []
    for seed in SEEDS:
        lam, wstar, w0 = problem(A, D, seed, 0)
        t_eval = simulate_flow.gd_record_times(log_time_grid(1e-3, 100.0, 10), ETA, eta)
        gd = G.integrate_gd(lam, wstar, w0, t_eval, eta)
        flow = integrate_flow(lam, wstar, w0, gd.t, StepController(rtol=RTOL, atol=ATOL))
        runs.append({"t": gd.t, **gd.stats, **{f"flow_{k}": flow.stats[k] for k in ("s", "u", "mse")},
                     "lam": lam, "wstar": wstar, "eta": eta, "seed": seed, "a": A, "d": D})
    return runs


def volterra_errors(tmp):
    """theory_volterra on fine-grid flow runs of the seeds (simulate_flow.py, as the pipeline runs it)."""
    t_max = 10 * (escape_time_scale(D, A) + full_recovery_time(D, A))
    outs = [str(tmp / f"v{s}.npz") for s in SEEDS]
    if not all((tmp / f"v{s}.npz").exists() for s in SEEDS):
        assert simulate_flow.main(["--method", "flow", "--a", str(A), "--d", str(D), "--seed",
                                   *map(str, SEEDS), "--base-seed", "0", "--t-max", str(t_max),
                                   "--t-min", "1e-3", "--points-per-decade", "200", "--rtol", str(RTOL),
                                   "--atol", str(ATOL), "--out", *outs]) == 0
    out = tmp / "theory.npz"
    assert theory_volterra.main([*outs, "--s-phase1", "0.05", "--s0", "0.05", "--rtol", str(RTOL),
                                 "--atol", str(ATOL), "--out", str(out)]) == 0
    return load_result(out, required=paper.VOLTERRA_KEYS)


def phase3_runs(tmp):
    runs = []
    for u in U_LEVELS:
        outs = [str(tmp / f"p{u}_{s}.npz") for s in SEEDS]
        assert simulate_phase3.main(["--a", str(A), "--d", str(D), "--seed", *map(str, SEEDS),
                                     "--base-seed", "0", "--u-start", str(u),
                                     "--tau-max-factor", str(TAU_MAX_FACTOR),
                                     "--tau-min", "1e-3", "--points-per-decade", "10", "--rtol", str(RTOL),
                                     "--atol", str(ATOL), "--out", *outs]) == 0
        runs += [load_result(f, required=paper.PHASE3_KEYS) for f in outs]
    return runs


def area_checks(tmp, defect: str | None, monkeypatch) -> dict[str, bool]:
    """Pass/fail of every check of the area on the small run, with the defect injected."""
    if defect == "gradient factor in GD":
        advance = G._gd_advance
        monkeypatch.setattr(G, "_gd_advance",
                            lambda lam, ws, w, eta, n, ss: advance(lam, ws, w, 1.02 * eta, n, ss))
    if defect == "Volterra kernel off by a factor":
        solve = V._solve
        monkeypatch.setattr(V, "_solve", lambda f, weight, *rest: solve(f, 1.02 * weight, *rest))
    if defect == "frozen flow rate off by a factor":
        monkeypatch.setattr(simulate_phase3, "frozen_statistics", _frozen_rate(8.4))
    coarse = gd_runs(ETA)
    stale = defect == "stale refined GD run"
    fine = [dict(r, eta=ETA_REFINED) for r in coarse] if stale else gd_runs(ETA_REFINED)
    found = [paper.claim_gd_matches_flow(*paper.paired_gd_gaps(coarse, fine), order=CRITERIA["gd_order"],
                                         ratio_eta_h=CRITERIA["gd_ratio_eta_h"],
                                         reference_floor=CRITERIA["gd_reference_floor"]),
             *paper.claim_volterra(volterra_errors(tmp), phase1_k2=CRITERIA["volterra_phase1_k2"],
                                   order_min=CRITERIA["volterra_order_min"]),
             paper.claim_frozen_approximation(paper.frozen_gaps(phase3_runs(tmp)),
                                              order_min=CRITERIA["frozen_order_min"])]
    return {c.id: c.passed for c in found}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("defects")


def test_checks_pass_on_the_undamaged_small_run(scratch, monkeypatch):
    result = area_checks(scratch, None, monkeypatch)
    assert set(result) == ALL
    assert all(result.values()), result


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_fails_its_checks_and_only_those(defect, scratch, monkeypatch):
    result = area_checks(scratch, defect, monkeypatch)
    spec = DEFECTS[defect]
    assert spec["fails"] | spec["passes"] == ALL
    assert {k for k in spec["fails"] if result[k]} == set(), result
    assert {k for k in spec["passes"] if not result[k]} == set(), result
