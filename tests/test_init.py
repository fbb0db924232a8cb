"""Initialisation study: starts, the flow from large-norm starts, and the study's measures."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_args import INIT, options

from prdynamics.flow import StepController, integrate_flow, log_time_grid
from prdynamics.io import load_result
from prdynamics.model import spectrum
from prdynamics.seeding import problem
from prdynamics.studies import init as I
from prdynamics.studies.inputs import integrate_flow_product
from prdynamics.theory import S_d

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- starts


def test_starts_share_the_target_and_the_sphere_direction():
    lam, wstar, w_paper = problem(2.0, 200, 3, 0)
    assert np.array_equal(I.start_state("sphere_r1", lam, wstar, 3, base_seed=0), w_paper)
    for name, r in (("sphere_rinvsqrtd", 200**-0.5), ("sphere_rsqrtd", 200**0.5), ("sphere_rd", 200.0)):
        w = I.start_state(name, lam, wstar, 3, base_seed=0)
        np.testing.assert_allclose(w, r * w_paper, rtol=1e-14)
    # the other starts draw from their own streams: not a rescaled paper start, and reproducible
    for name in I.START_STREAMS:
        w = I.start_state(name, lam, wstar, 3, base_seed=0)
        assert abs(w @ w_paper) / (np.linalg.norm(w) * np.linalg.norm(w_paper)) < 0.5
        assert np.array_equal(w, I.start_state(name, lam, wstar, 3, base_seed=0))
    warm = I.start_state("warm_u0.1", lam, wstar, 3, base_seed=0)
    assert I.initial_statistics(warm, lam, wstar)["u"] == pytest.approx(0.1)


def test_unknown_start_raises():
    lam, wstar, _ = problem(2.0, 50, 0, 0)
    with pytest.raises(ValueError, match="unknown start"):
        I.start_state("ball", lam, wstar, 0, base_seed=0)


def test_overlap_rms_scales_like_r_over_sqrt_d():
    # E u(0)^2 = r^2 sum lam_i^2 w*_i^2 / d for the sphere of radius r (given w*); RMS over draws
    rms = {d: I.overlap_rms(2.0, d, "sphere_r1", range(300), base_seed=0) for d in (100, 1600)}
    ratio = rms[100] / rms[1600]
    assert ratio == pytest.approx(4.0, rel=0.25)
    assert I.overlap_rms(2.0, 400, "warm_u0.1", range(5), base_seed=0) == pytest.approx(0.1)


# --------------------------------------------------------------------------- integrator, large norm


@pytest.mark.parametrize("a, radius_factor", [(2.0, 1.0), (2.0, math.sqrt(200)), (3.0, math.sqrt(200))])
def test_flow_from_large_norm_start_matches_radau(a, radius_factor):
    """Norm sqrt(d) (s(0) ~ 1) and norm d (s(0) ~ d: early rate 4 lam_1 (1 - 3 s) ~ -12 d lam_1, stiff):
    the exponential integrator against scipy Radau with the analytic Jacobian (kappa = 0)."""
    d = 200
    lam, wstar, w_paper = problem(a, d, 1, 0)
    w0 = w_paper * math.sqrt(d) * radius_factor
    assert float(np.sum(lam * w0 * w0)) > (10 if radius_factor > 1 else 0.1)
    t = log_time_grid(1e-3, 200.0, 10)
    ours = integrate_flow(lam, wstar, w0, t, StepController(rtol=1e-8, atol=1e-12))
    ref = integrate_flow_product(lam, wstar, w0, t, 0.0, rtol=1e-11, atol=1e-12, method="Radau")
    for key in ("s", "u", "mse"):
        scale = np.maximum(np.abs(ref.stats[key]), 1.0)
        assert np.max(np.abs(ours.stats[key] - ref.stats[key]) / scale) < 1e-6, key


# --------------------------------------------------------------------------- measures


def test_threshold_passages_patterns():
    below_once = I.threshold_passages(np.array([0.1, 0.4, 0.9, 1.0]), 0.01)
    assert below_once == {"from_above": False, "up": 1, "down": 0, "final_above": True,
                          "min_margin": pytest.approx(0.4 - 1 / 3)}
    from_above = I.threshold_passages(np.array([5.0, 1.0, 0.6, 1.0]), 100.0)
    assert (from_above["from_above"], from_above["up"], from_above["down"]) == (True, 0, 0)
    assert from_above["min_margin"] == pytest.approx(0.6 - 1 / 3)
    dips = I.threshold_passages(np.array([0.2, 0.5, 0.9]), 1.0)
    assert (dips["from_above"], dips["up"], dips["down"]) == (True, 1, 1)
    assert dips["min_margin"] == pytest.approx(0.5 - 1 / 3)
    ends_below = I.threshold_passages(np.array([0.2, 0.1]), 0.01)
    assert ends_below["up"] == 0 and math.isnan(ends_below["min_margin"])
    with pytest.raises(ValueError):
        I.threshold_passages(np.array([0.1, np.nan]), 0.0)


def test_mse_ratio_and_decay_exponent_on_closed_forms():
    """Frozen Phase III with e_i(T2) = 1: MSE ratio = S_d(tau) (closed form); a pure power law L ~ tau^-b."""
    d, a = 400, 2.0
    lam = spectrum(d, a)
    t2 = 1.0  # near t = 1 the grid spacing (1e-3) is far below the first tau (0.1)
    t = np.geomspace(1e-2, 1e9, 2000)
    tau = t - t2  # smooth through T2, as a real run is
    mse = np.array([np.mean(np.exp(-16 * lam * x)) for x in tau])
    taus = I.phase3_taus(d, a, 0.25)
    assert (16 * taus[-1] / np.sum(np.arange(1, d + 1) ** -a)) ** 0.5 == pytest.approx(100.0)
    np.testing.assert_allclose(I.mse_ratio(t, mse, t2, taus), S_d(taus, lam), rtol=2e-3)
    loss = 3.0 * np.abs(tau) ** -0.7
    assert I.decay_exponent(t, loss, t2, d, a, 0.25) == pytest.approx(0.7, rel=1e-9)
    assert math.isnan(I.phase3_gap(np.array([1.0, np.nan]), np.array([1.0, 1.0])))
    assert I.phase3_gap(np.array([1.0, 0.55]), np.array([1.0, 0.5])) == pytest.approx(0.1)


def test_log_d_exponent_and_plateau_law_recover_known_slopes():
    rng = np.random.default_rng(0)
    d = np.repeat([100, 1000, 10000], 50)
    y = 0.5 * np.log(d) + 1.0 + 0.1 * rng.standard_normal(d.size)
    fit = I.log_d_exponent(d, y)
    assert fit["p"] == pytest.approx(0.5, abs=4 * fit["p_se"]) and fit["p_se"] < 0.02
    u0 = np.exp(-rng.uniform(1, 10, 80))
    law = I.plateau_law(2.0 + np.log(1 / u0), u0)
    assert law["q"] == pytest.approx(1.0) and law["r2"] == pytest.approx(1.0)


def _rows(start_t1):
    """Synthetic per-run rows: T1 = p log(d) / rho per start (rho = 2), paper start p = 1/2."""
    rows = {k: [] for k in ("ok", "start", "a", "d", "seed", "T1", "rho_T1", "t_first", "u_init", "rho_true")}
    for name, p in start_t1.items():
        for d in (100, 1000, 10000):
            for seed in range(3):
                u0 = d**-p * (1 + 0.1 * seed)
                t1 = max(math.log(1 / u0) / 2.0, 1e-3)
                for k, v in (("ok", True), ("start", name), ("a", 2.0), ("d", d), ("seed", seed), ("T1", t1),
                             ("rho_T1", 2 * t1), ("t_first", 1e-3), ("u_init", u0), ("rho_true", 2.0)):
                    rows[k].append(v)
    return {k: np.asarray(v) for k, v in rows.items()}


def test_escape_claim_classifies_synthetic_starts():
    rows = _rows({"sphere_r1": 0.5, "sphere_rinvsqrtd": 1.0, "warm_u0.1": 0.0})
    overlaps = {"a": [], "d": [], "start": [], "rms": []}
    for name, p in (("sphere_r1", 0.5), ("sphere_rinvsqrtd", 1.0), ("warm_u0.1", 0.0)):
        for d in (100, 1000, 10000):
            overlaps["a"].append(2.0), overlaps["d"].append(d), overlaps["start"].append(name)
            overlaps["rms"].append(d**-p)
    summary = rows | {f"overlap_{k}": np.asarray(v) for k, v in overlaps.items()}
    claim = I.claim_escape_needs_small_start(summary, p_min=0.25, escaped_max=0.5, level=0.95)
    assert claim.kind == "finding" and claim.passed is None and claim.measured["complete"]
    assert claim.measured["grows_like_log_d"] == ["sphere_r1", "sphere_rinvsqrtd"]
    assert claim.measured["skips_plateau"] == ["warm_u0.1"]
    assert claim.measured["radius_shift_d_invsqrt"]["2"] == pytest.approx(1.0, abs=0.05)
    assert claim.measured["per_start"]["sphere_r1"]["2"]["p"] == pytest.approx(0.5, abs=0.05)


def test_summarise_on_closed_form_curves():
    """Two starts whose MSE and loss differ by a factor 2: the same Phase III ratio (gap 0) and decay."""
    t = np.geomspace(1e-2, 1e3, 300)
    up = 1 - np.exp(-t)  # s, u, u2: cross 1/3 once from below; within 0.01 of 1 from t = log 100
    shape = (2, 2, t.size)  # (start, seed, t)
    curves = {k: np.broadcast_to(up, shape) for k in ("s", "u", "u2")}
    c = np.array([1.0, 2.0])[:, None, None]
    run = curves | {"t": t, "mse": np.broadcast_to(c * t**-1.0, shape),
                    "loss": np.broadcast_to(c * t**-1.5, shape), "a": 2.0, "d": 50,
                    "seed": np.array([0, 1]), "starts": np.array([I.PAPER_START, "sphere_rsqrtd"]),
                    "s_init": np.zeros((2, 2)), "u_init": np.full((2, 2), 0.1), "norm_init": np.ones((2, 2)),
                    "rho_true": np.array([2.0, 3.0]), "diverged": np.zeros((2, 2), bool)}
    out = I.summarise([run], delta=0.01, eps=[0.1, 0.01], s0=0.05, phase3_eps=0.01, x_hi=0.25,
                      overlap_draws=2, base_seed=0)
    assert out["start"].tolist() == [I.PAPER_START] * 2 + ["sphere_rsqrtd"] * 2 and out["ok"].all()
    t2 = t[np.argmax(up >= 0.99)]
    assert np.all(out["T2_eps0.01"] == t2)
    np.testing.assert_allclose(out["mse_T2"], np.array([1, 1, 2, 2]) / t2, rtol=1e-12)
    np.testing.assert_allclose(out["rho_T1"], out["T1"] * [2, 3, 2, 3], rtol=0)
    assert np.all(out["phase3_gap"] < 1e-12) and np.all(out["beta"] > 0)
    np.testing.assert_allclose(out["beta_paper"], out["beta"], rtol=1e-12)
    assert out["from_above"].sum() == 0 and np.all(out["up"] == 1) and np.all(out["down"] == 0)
    assert out["overlap_start"].tolist() == sorted([I.PAPER_START, "sphere_rsqrtd"])
    rms = I.overlap_rms(2.0, 50, "sphere_rsqrtd", range(2), 0)
    assert out["overlap_rms"][out["overlap_start"] == "sphere_rsqrtd"][0] == rms


# --------------------------------------------------------------------------- CLI end to end


def test_cli_runs_and_summary(tmp_path):
    env_path = {"PYTHONPATH": str(ROOT / "src")}
    run = tmp_path / "a2_d60.npz"
    cmd = [sys.executable, str(ROOT / "scripts/simulate_init.py"), "--a", "2", "--d", "60",
           "--seeds", "0", "1", "2", *options(INIT, **{"--t-max": "2e5", "--points-per-decade": "10"}),
           "--out", str(run)]
    subprocess.run(cmd, check=True, capture_output=True, env=env_path | {"PATH": ""})
    r = load_result(run)
    assert r["s"].shape == (len(I.study_starts(60)), 3, r["t"].size) and not r["diverged"].any()
    run2 = tmp_path / "a2_d120.npz"
    subprocess.run(cmd[:5] + ["120"] + cmd[6:-1] + [str(run2)], check=True, capture_output=True,
                   env=env_path | {"PATH": ""})
    out, frag = tmp_path / "study.npz", tmp_path / "claims.json"
    subprocess.run([sys.executable, str(ROOT / "scripts/study_init.py"), str(run), str(run2),
                    "--delta", "0.01", "--eps", "0.1", "0.05", "0.01", "--s0", "0.05", "--phase3-eps", "0.01",
                    "--x-hi", "0.25", "--overlap-draws", "20", "--base-seed", "0", "--p-min", "0.25",
                    "--escaped-max", "0.5", "--phase3-rtol", "0.1", "--beta-atol", "0.05",
                    "--confidence-level", "0.95",
                    "--out", str(out), "--claims", str(frag)],
                   check=True, capture_output=True, env=env_path | {"PATH": ""})
    from prdynamics.io import load_claims

    claims = {c.id: c for c in load_claims(frag)}
    assert set(claims) == {"init.escape_needs_small_start", "init.threshold", "init.phase3_universal"}
    assert claims["init.threshold"].measured["per_start"]["sphere_r1"]["once_from_below"] == 6
    assert "sphere_rd" in claims["init.threshold"].measured["all_runs_from_above_never_below"]


def test_cli_rejects_bad_arguments(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "scripts/simulate_init.py"), "--a", "2", "--d", "50",
                          "--seeds", "0", *INIT, "--starts", "ball", "--out", str(tmp_path / "x.npz")],
                         capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert res.returncode == 2 and "unknown --starts" in res.stderr


def test_phase3_universal_judges_measurable_runs_and_names_the_unmeasured():
    """Two seeds per start at one (a, d): 'close' matches the paper, 'far' has a 30% gap, 'short' has
    no tail window long enough for a fit (NaN) and is unmeasured, not 'not universal'."""
    nan = float("nan")
    starts = [I.PAPER_START, "close", "far", "short"]
    gap = {I.PAPER_START: 0.0, "close": 0.02, "far": 0.3, "short": nan}
    keys = ("start", "a", "d", "seed", "ok", "phase3_gap", "beta", "beta_paper", "mse_T2")
    rows = {k: [] for k in keys}
    for name in starts:
        for seed in (0, 1):
            row = (name, 2.0, 100, seed, True, gap[name], nan if name == "short" else 0.5, 0.5, 1e-3)
            for k, v in zip(keys, row, strict=True):
                rows[k].append(v)
    rows = {k: np.asarray(v) for k, v in rows.items()}
    c = I.claim_phase3_universal(rows, rtol=0.1, beta_atol=0.1, x_hi=0.25, eps=0.01, level=0.95)
    assert (c.measured["universal"], c.measured["not_universal"], c.measured["unmeasured"]) == (
        ["close"], ["far"], ["short"])
    assert c.interval["far"]["runs_within_thresholds"]["count"] == 0
    assert c.interval["short"]["runs_within_thresholds"] is None and not c.measured["complete"]
