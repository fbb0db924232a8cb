"""The non-Gaussian inputs study: SGD's exact loss per law, end-point classification, tail fits,
the SGD-flow gap, the flow CLI, the summary script and its claims."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from prdynamics import population as P
from prdynamics.flow import log_time_grid
from prdynamics.io import load_claims, load_result
from prdynamics.model import harmonic, spectrum
from prdynamics.seeding import problem
from prdynamics.sgd import draw_standardised, run_sgd
from prdynamics.studies import inputs as S
from prdynamics.theory import phase3_loss

ROOT = Path(__file__).resolve().parents[1]
import simulate_inputs  # noqa: E402  (scripts/ is on the path: conftest)
import simulate_sgd  # noqa: E402
import study_inputs  # noqa: E402
from cli_args import INPUTS, SGD, options  # noqa: E402

# study_inputs.py options other than the files
STUDY = ["--delta", "0.01", "--eps", "0.1", "0.05", "0.01", "--s0", "0.05", "--phase3-eps", "0.1",
         "--loss-tol", "1e-4", "--grad-tol", "1e-4", "--tail-x-min", "3", "--tail-x-max-frac", "0.5",
         "--tail-min-points", "5",
         "--tail-atol", "0.05", "--sgd-log-atol", "0.25", "--confidence-level", "0.95"]

LAWS = [("rademacher", None), ("uniform", None), ("student_t", 6.0), ("sparse", 0.3)]


# --------------------------------------------------------------------------- run_sgd records the law's loss


@pytest.mark.parametrize("law,param", LAWS)
def test_run_sgd_records_the_exact_loss_of_its_law(law, param):
    d = 20
    t_eval = np.array([0.05, 0.2])
    res = run_sgd(2.0, d, [0, 1], 1e-3, 1, 0.0, t_eval, input_law=law, law_param=param,
                  base_seed=0, blowup=1e6, rng="numpy")
    kappa = S.kappa_of(law, param)
    assert kappa != 0
    for r in range(2):
        w, ws = res.w_final[r], res.wstar[r]
        exact = S.loss_product(w, res.lam, ws, kappa)
        assert res.stats["loss"][r, -1] == pytest.approx(exact, rel=1e-12)
        assert abs(exact - P.loss(w, res.lam, ws)) > 1e-6  # the kappa term is really there
    assert f"kappa = {kappa:g}" in res.info["loss_formula"]


def test_run_sgd_gaussian_loss_is_unchanged():
    t_eval = np.array([0.05, 0.2])
    res = run_sgd(2.0, 20, [0, 1], 1e-3, 1, 0.0, t_eval, base_seed=0, blowup=1e6, rng="numpy")
    for r in range(2):
        gauss = P.loss(res.w_final[r], res.lam, res.wstar[r])
        assert res.stats["loss"][r, -1] == pytest.approx(gauss, rel=1e-13)
    assert res.info["loss_formula"] == "Gaussian population loss 3 s^2 + 3 s*^2 - 4 u^2 - 2 s* s"


@pytest.mark.parametrize("law,param", [("rademacher", None), ("sparse", 0.3)])
def test_run_sgd_loss_matches_monte_carlo_of_its_law(law, param):
    """Independent of the formula: the recorded loss is the mean of ((x.w)^2 - (x.w*)^2)^2 over the law."""
    d = 8
    res = run_sgd(2.0, d, [3], 1e-3, 1, 0.0, np.array([0.3]), input_law=law, law_param=param,
                  base_seed=0, blowup=1e6, rng="numpy")
    w, ws = res.w_final[0], res.wstar[0]
    w = w + 0.8 * np.eye(d)[0]  # move off the trajectory so the kappa term is large; same formula applies
    x = draw_standardised(np.random.default_rng(11), law, (300_000, d), param) * np.sqrt(res.lam)
    samples = ((x @ w) ** 2 - (x @ ws) ** 2) ** 2
    mc, se = samples.mean(), samples.std() / math.sqrt(samples.size)
    recorded_formula = S.loss_product(w, res.lam, ws, S.kappa_of(law, param))
    assert abs(recorded_formula - mc) < 5 * se
    assert abs(P.loss(w, res.lam, ws) - mc) > 10 * se  # the Gaussian formula would be wrong here
    assert res.stats["loss"][0, -1] == pytest.approx(S.loss_product(res.w_final[0], res.lam, ws,
                                                                    S.kappa_of(law, param)), rel=1e-12)


# --------------------------------------------------------------------------- end points


def test_classify_endpoint_global_and_saddle():
    lam, ws, _ = problem(2.0, 30, 1, base_seed=0)
    out = S.classify_endpoint(ws, lam, ws, -2.0, 1e-4, 1e-4)
    assert out["status"] == "global" and out["loss"] == pytest.approx(0.0, abs=1e-14)
    # w = 0 is stationary with L = 3 s*^2 and a negative-definite Hessian (a strict local maximum)
    out = S.classify_endpoint(np.zeros(30), lam, ws, 0.0, 1e-4, 1e-4)
    assert out["status"] == "stationary_other"
    assert out["loss"] == pytest.approx(3.0 * P.target_norm(lam, ws) ** 2)
    assert out["hess_min_eig"] < 0
    moving = S.classify_endpoint(0.5 * ws, lam, ws, 0.0, 1e-4, 1e-4)
    assert moving["status"] == "moving" and math.isnan(moving["hess_min_eig"])


def test_classify_endpoint_finds_the_rademacher_local_minimum():
    """The library's documented trap: a = 2, d = 100, seed 0, kappa = -2, loss 0.297."""
    lam, ws, w0 = problem(2.0, 100, 0, base_seed=0)
    w = S.integrate_flow_product(lam, ws, w0, np.array([1e2, 1e5]), -2.0, rtol=1e-9, atol=1e-12).w_final
    out = S.classify_endpoint(w, lam, ws, -2.0, 1e-4, 1e-4)
    assert out["status"] == "local_min"
    assert out["loss"] == pytest.approx(0.297, abs=1e-3)
    assert out["hess_min_eig"] > 0
    hess = S.hessian_product(w, lam, ws, -2.0)  # independent: the smallest Rayleigh quotient is positive
    v = np.random.default_rng(0).standard_normal((200, 100))
    assert np.min(np.einsum("ij,jk,ik->i", v, hess, v) / np.sum(v * v, axis=1)) >= out["hess_min_eig"] - 1e-12


def test_classify_endpoint_rejects_bad_input():
    lam, ws, _ = problem(2.0, 10, 0, base_seed=0)
    with pytest.raises(ValueError, match="loss_tol"):
        S.classify_endpoint(ws, lam, ws, 0.0, 0.0, 1e-4)
    with pytest.raises(ValueError, match="finite"):
        S.classify_endpoint(np.full(10, np.nan), lam, ws, 0.0, 1e-4, 1e-4)


# --------------------------------------------------------------------------- tail exponent and SGD gap


def test_tail_exponent_of_an_exact_power_law():
    d, a = 300, 2.0
    t = log_time_grid(1e-2, 1e5, 20)
    beta, n = S.tail_exponent(t, 3.0 * t**-0.7, 0.0, d, a, 6, 0.1, 5)
    assert beta == pytest.approx(0.7, rel=1e-12)
    x = (16 * t / harmonic(d, a)) ** (1 / a)  # the window from its definition
    assert n == int(np.sum((x >= 6) & (x <= 30)))


def test_tail_exponent_of_the_linearised_phase3_loss():
    """4 sum lam e^{-16 lam t} decays as t^-(1 - 1/a) for 1 << x_d << d (theory.loss_law_constant);
    the missing tail beyond d steepens it by O((x_d / d)^{a-1})."""
    d, a = 10_000, 2.0
    t = log_time_grid(1e-2, 1e8, 20)
    beta, n = S.tail_exponent(t, phase3_loss(t, spectrum(d, a)), 0.0, d, a, 6, 0.1, 5)
    assert n > 50
    assert 0.5 < beta < 0.52


def test_tail_exponent_short_window_and_bad_values():
    t = log_time_grid(1e-2, 1e5, 20)
    assert math.isnan(S.tail_exponent(t, t**-0.5, 0.0, 30, 2.0, 6, 0.1, 5)[0])  # 6 > 0.1 * 30: no window
    loss = t**-0.5
    loss[len(t) // 2:] = np.nan
    assert math.isnan(S.tail_exponent(t, loss, 0.0, 300, 2.0, 6, 0.1, 5)[0])
    with pytest.raises(ValueError, match="x_hi_frac"):
        S.tail_window(t, 0.0, 300, 2.0, 6, 1.5)
    with pytest.raises(ValueError, match="min_points"):
        S.tail_exponent(t, loss, 0.0, 300, 2.0, 6, 0.1, min_points=1)


def test_log_gap():
    t = log_time_grid(1e-2, 10, 10)
    ref = 2.0 * t**-0.5
    assert S.log_gap(t, ref, t, ref) == pytest.approx(0.0, abs=1e-14)
    bumped = ref.copy()
    bumped[5] *= math.exp(0.3)
    assert S.log_gap(t, bumped, t, ref) == pytest.approx(0.3, rel=1e-12)
    # the reference is interpolated linearly in log-log: exact for a power law between grid points
    mid = np.sqrt(t[:-1] * t[1:])
    assert S.log_gap(mid, 2.0 * mid**-0.5, t, ref) == pytest.approx(0.0, abs=1e-12)
    diverged = ref.copy()
    diverged[-3:] = np.nan
    assert S.log_gap(t, diverged, t, ref) == math.inf
    with pytest.raises(ValueError, match="inside"):
        S.log_gap(t + 100, ref, t, ref)


# --------------------------------------------------------------------------- CLIs and the summary


def test_flow_cli_writes_the_law_flow(tmp_path):
    out = tmp_path / "f.npz"
    args = ["--a", "2", "--d", "30", "--seed", "0", "1", "--law-param", "6",
            *options(INPUTS, **{"--input-law": "student_t", "--t-max": "1e3", "--points-per-decade": "5"}),
            "--out", str(out)]
    assert simulate_inputs.main(args) == 0
    f = load_result(out)
    kappa = S.kappa_of("student_t", 6.0)
    assert f["kappa"] == pytest.approx(kappa) and f["input_dist"] == "student_t"
    assert f["s"].shape == (2, f["t"].size) and not f["failed"].any()
    for r, seed in enumerate((0, 1)):
        lam, ws, w0 = problem(2.0, 30, seed, base_seed=0)
        np.testing.assert_array_equal(f["wstar"][r], ws)
        np.testing.assert_array_equal(f["w0"][r], w0)
        assert f["loss"][r, -1] == pytest.approx(S.loss_product(f["w_final"][r], lam, ws, kappa), rel=1e-10)


@pytest.mark.parametrize("bad,match", [
    (["--input-law", "student_t", "--law-param", "3"], "nu > 4"),
    (["--input-law", "rademacher", "--law-param", "0.5"], "takes no parameter"),
    (["--d", "1"], "--d"),
    (["--seed", "1", "1"], "distinct"),
    (["--t-max", "1e-3"], "--t-min"),
])
def test_flow_cli_rejects_bad_arguments(bad, match, tmp_path, capsys):
    base = {"--a": "2", "--d": "10", "--seed": "0", **dict(zip(INPUTS[::2], INPUTS[1::2], strict=True)),
            "--out": str(tmp_path / "x.npz")}
    args = [x for k, v in base.items() if k not in bad for x in (k, v)] + bad
    with pytest.raises(SystemExit):
        simulate_inputs.main(args)
    assert match in capsys.readouterr().err


def test_study_script_end_to_end(tmp_path):
    d, seeds = 60, ["0", "1"]
    flows, sgds = [], []
    for law, param in (("gaussian", None), ("rademacher", None)):
        extra = [] if param is None else ["--law-param", str(param)]
        f = tmp_path / f"flow_{law}.npz"
        assert simulate_inputs.main(["--a", "2", "--d", str(d), "--seed", *seeds,
                                     *options(INPUTS, **{"--input-law": law, "--t-max": "1e4"}),
                                     "--out", str(f), *extra]) == 0
        g = tmp_path / f"sgd_{law}.npz"
        assert simulate_sgd.main(["--a", "2", "--d", str(d), "--seed", *seeds,
                                  *options(SGD, **{"--input-law": law, "--t-max": "3", "--t-min": "1e-2"}),
                                  "--out", str(g), *extra]) == 0
        flows.append(str(f))
        sgds.append(str(g))
    study, frag = tmp_path / "study.npz", tmp_path / "claims.json"
    assert study_inputs.main(["--flows", *flows, "--sgd", *sgds, *STUDY, "--out", str(study),
                              "--claims", str(frag)]) == 0
    found = {c.id: c for c in load_claims(frag)}
    assert set(found) == {"inputs.threshold", "inputs.phases", "inputs.spurious_minimum",
                          "inputs.tail_exponent", "inputs.sgd_matches_population"}
    assert all(c.kind == "finding" and c.measured["complete"] for c in found.values()), \
        {k: c.measured for k, c in found.items() if not c.measured["complete"]}
    s = load_result(study, required=())
    assert s["run_law"].size == 4 and s["sgd_law"].size == 4
    sgd = found["inputs.sgd_matches_population"].measured
    assert sgd["gaussian/eta=0.001"]["closer_to_own_than_gaussian"] is None
    # the same measurement by hand: SGD's exact loss against its law's flow
    g, f = load_result(sgds[1]), load_result(flows[1])
    by_hand = max(S.log_gap(g["t"], g["loss"][r], f["t"], f["loss"][r]) for r in range(2))
    assert sgd["rademacher/eta=0.001"]["max_gap_own"] == pytest.approx(by_hand, rel=1e-12)
    json.dumps([c.as_dict() for c in found.values()], allow_nan=False)  # JSON-clean (NaN -> null)
    # the claims read the rows back from the summary's arrays: the same as on the rows themselves,
    # also with a failed run
    flow_data = [load_result(f, required=S.FLOW_KEYS) for f in flows]
    flow_data[1]["failed"] = np.array([True, False])
    sgd_data = [load_result(g, required=S.SGD_KEYS) for g in sgds]
    settings = {"delta": 0.01, "eps": [0.1, 0.05], "s0": 0.05, "loss_tol": 1e-4, "grad_tol": 1e-4,
                "phase3_eps": 0.1, "tail_x_min": 3, "tail_x_max_frac": 0.5, "tail_min_points": 5}
    summary = S.summarise(flow_data, sgd_data, **settings)
    rows = S.flow_rows(flow_data, **settings)
    srows = S.sgd_rows(sgd_data, {(f["input_dist"], int(f["d"])): f for f in flow_data})
    window = dict(zip(summary["window_theory_d"].tolist(), summary["window_theory_beta"], strict=True))
    direct = [S.claim_threshold(rows, level=0.95), S.claim_phases(rows, eps_list=[0.1, 0.05], level=0.95),
              S.claim_spurious_minimum(rows, loss_tol=1e-4, grad_tol=1e-4, level=0.95),
              S.claim_tail_exponent(rows, theory=0.5, atol=0.05, level=0.95, window_theory=window),
              S.claim_sgd_matches_population(srows, atol=0.25, level=0.95)]
    via_summary = S.claims(summary, loss_tol=1e-4, grad_tol=1e-4, tail_atol=0.05, sgd_log_atol=0.25,
                           confidence_level=0.95)
    assert [c.as_dict() for c in via_summary] == [c.as_dict() for c in direct]
    assert summary["run_status"].tolist().count("failed") == 1 and not via_summary[0].measured["complete"]


def test_study_script_needs_the_gaussian_reference(tmp_path):
    f = tmp_path / "flow.npz"
    assert simulate_inputs.main(["--a", "2", "--d", "20", "--seed", "0",
                                 *options(INPUTS, **{"--input-law": "uniform"}), "--out", str(f)]) == 0
    with pytest.raises(SystemExit, match="Gaussian"):
        study_inputs.main(["--flows", str(f), "--sgd", *STUDY, "--out", str(tmp_path / "s.npz"),
                           "--claims", str(tmp_path / "c.json")])


# --------------------------------------------------------------------------- claims


def _row(law="gaussian", d=100, seed=0, **kw):
    base = {"law": law, "d": d, "seed": seed, "failed": False, "crossings": 1, "min_margin": 0.05,
            "status": "global", "loss": 1e-8, "hess_min_eig": float("nan"), "beta": 0.5,
            "T1": 0.1, "T_third": 1.0, "T2_eps0.1": 5.0}
    return base | kw


def test_threshold_claim_reports_a_broken_picture_as_a_valid_finding():
    rows = [_row(), _row("student_t", crossings=2, min_margin=-0.02)]
    c = S.claim_threshold(rows, level=0.95)
    assert c.measured["complete"]  # measured correctly, even though the picture breaks
    assert c.interval["student_t/d=100"]["single_crossing_and_stays_above"]["count"] == 0
    assert c.measured["threshold_kept"] == ["gaussian/d=100"]
    assert c.measured["student_t/d=100"]["max_crossings"] == 2
    assert not S.claim_threshold(rows + [_row("uniform", failed=True)], level=0.95).measured["complete"]
    assert not S.claim_threshold([_row("uniform")], level=0.95).measured["complete"]  # no Gaussian reference


def test_spurious_and_tail_claims():
    trapped = _row("rademacher", status="local_min", loss=0.3, hess_min_eig=1e-4, beta=float("nan"))
    rows = [_row(), _row(seed=1, beta=0.52), trapped, _row("rademacher", seed=1, beta=0.6)]
    sp = S.claim_spurious_minimum(rows, loss_tol=1e-4, grad_tol=1e-4, level=0.95)
    assert sp.measured["complete"] and sp.measured["rademacher/d=100"]["local_min"] == 1
    one_of_two = sp.interval["rademacher/d=100"]["non_global_minimum"]
    assert (one_of_two["count"], one_of_two["of"]) == (1, 2)
    assert one_of_two["fraction_ci"] == pytest.approx([0.0126, 0.9874], abs=1e-4)  # Clopper-Pearson, 1 of 2
    assert sp.measured["rademacher/d=100"]["non_global"][0]["seed"] == 0
    moving = rows + [_row(seed=2, status="moving")]
    assert not S.claim_spurious_minimum(moving, loss_tol=1e-4, grad_tol=1e-4, level=0.95).measured["complete"]
    tail = S.claim_tail_exponent(rows, theory=0.5, atol=0.05, level=0.95)
    assert tail.measured["complete"]
    assert tail.measured["rademacher/d=100"]["median_beta_minus_gaussian"] == pytest.approx(0.08)
    assert tail.measured["same_as_gaussian"] == ["gaussian/d=100"]
    nan_beta = rows + [_row(seed=3, beta=float("nan"))]
    assert not S.claim_tail_exponent(nan_beta, theory=0.5, atol=0.05, level=0.95).measured["complete"]


def test_sgd_claim():
    rows = [{"law": "gaussian", "eta": 1e-4, "seed": 0, "diverged": False, "gap_own": 0.1, "gap_gauss": 0.1},
            {"law": "uniform", "eta": 1e-4, "seed": 0, "diverged": False, "gap_own": 0.05, "gap_gauss": 0.6},
            {"law": "sparse", "eta": 1e-4, "seed": 0, "diverged": True, "gap_own": math.inf,
             "gap_gauss": math.inf}]
    c = S.claim_sgd_matches_population(rows, atol=0.25, level=0.95)
    assert c.measured["complete"]
    assert c.measured["tracks_own_flow"] == ["gaussian/eta=0.0001", "uniform/eta=0.0001"]
    assert c.measured["uniform/eta=0.0001"]["closer_to_own_than_gaussian"] == 1
    assert c.measured["sparse/eta=0.0001"]["diverged"] == 1
    assert json.loads(json.dumps(c.as_dict()))["measured"]["sparse/eta=0.0001"]["max_gap_own"] is None
