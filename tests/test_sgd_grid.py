"""Study sgd_grid: the stability library against independent computations, and the claims."""

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_args import SGD, options, without

from prdynamics.studies import StudyInputError
from prdynamics.studies import sgd_grid as stab

ROOT = Path(__file__).resolve().parents[1]


def small_problem(d=3):
    lam = np.array([0.5, 0.3, 0.2])[:d]
    lam = lam / lam.sum()
    ws = np.array([0.7, -1.0, 1.3])[:d]
    return lam, ws / np.sqrt(np.sum(lam * ws * ws))


def quadrature(lam, n=6):
    """Gauss-Hermite nodes and weights for x ~ N(0, diag lam); exact for degree <= 2n - 1 per axis."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    nodes = np.array(list(itertools.product(z, repeat=lam.size))) * np.sqrt(lam)
    weights = np.array([np.prod(c) for c in itertools.product(w, repeat=lam.size)])
    return nodes, weights


def exact_T(lam, ws, M, eta):
    """E[(I - eta A) M (I - eta A)] with A = 8 (x.w*)^2 x x^T, by exact quadrature (batch 1)."""
    x, wt = quadrature(lam)
    out = np.zeros_like(M)
    eye = np.eye(lam.size)
    for xi, wi in zip(x, wt, strict=True):
        B = eye - eta * 8 * (xi @ ws) ** 2 * np.outer(xi, xi)
        out += wi * B @ M @ B
    return out


def test_fourth_moment_map_matches_quadrature():
    lam, ws = small_problem(3)
    M = np.array([[1, 0.2, -0.1], [0.2, 0.5, 0.3], [-0.1, 0.3, 2.0]])
    x, wt = quadrature(lam)
    ref = np.einsum("n,n,ni,nj->ij", wt, (x @ ws) ** 4 * np.einsum("ni,ij,nj->n", x, M, x), x, x)
    np.testing.assert_allclose(stab.fourth_moment_map(lam, ws, M), ref, rtol=1e-11, atol=1e-12)


def test_fourth_moment_map_matches_monte_carlo():
    lam, ws = small_problem(3)
    M = np.diag([1.0, 0.5, 2.0])
    rng = np.random.default_rng(5)
    x = rng.standard_normal((400_000, 3)) * np.sqrt(lam)
    f = (x @ ws) ** 4 * np.einsum("ni,ij,nj->n", x, M, x)
    samples = f[:, None, None] * x[:, :, None] * x[:, None, :]
    mean, se = samples.mean(axis=0), samples.std(axis=0) / np.sqrt(len(x))
    assert np.all(np.abs(stab.fourth_moment_map(lam, ws, M) - mean) <= 5 * se)


def test_hessian_is_mean_per_sample_hessian():
    lam, ws = small_problem(3)
    x, wt = quadrature(lam)
    ref = np.einsum("n,n,ni,nj->ij", wt, 8 * (x @ ws) ** 2, x, x)
    np.testing.assert_allclose(stab.hessian_at_target(lam, ws), ref, rtol=1e-12, atol=1e-13)


def test_second_moment_map_matches_quadrature_batch_one():
    lam, ws = small_problem(2)
    M = np.array([[1.0, 0.3], [0.3, 0.4]])
    np.testing.assert_allclose(stab.second_moment_map(lam, ws, M, 0.05, 1), exact_T(lam, ws, M, 0.05),
                               rtol=1e-10, atol=1e-12)


def test_edge_in_one_dimension_is_closed_form():
    # d = 1, lam = w* = 1: A = 8 x^4, E A = 24, E A^2 = 64 * 105; stable iff eta < 2 E A / E A_b^2
    for b in (1, 4, 100):
        ea2 = 64 * 105 / b + (1 - 1 / b) * 24**2
        assert stab.ms_stability_edge([1.0], [1.0], b) == pytest.approx(2 * 24 / ea2, rel=1e-12)


def test_edge_is_where_the_exact_second_moment_map_reaches_spectral_radius_one():
    lam, ws = small_problem(2)
    basis = [np.array(m, float) for m in ([[1, 0], [0, 0]], [[0, 1], [1, 0]], [[0, 0], [0, 1]])]

    def radius(eta):  # T on symmetric 2 x 2 matrices, in the basis above
        cols = []
        for B in basis:
            T = exact_T(lam, ws, B, eta)
            cols.append([T[0, 0], T[0, 1], T[1, 1]])
        return max(abs(np.linalg.eigvals(np.array(cols).T)))

    lo, hi = 1e-6, stab.gd_stability_edge(lam, ws)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if radius(mid) < 1 else (lo, mid)
    assert stab.ms_stability_edge(lam, ws, 1) == pytest.approx(lo, rel=1e-6)


def test_large_batch_edge_tends_to_gd_edge_and_grows_with_batch():
    lam, ws = small_problem(3)
    edges = [stab.ms_stability_edge(lam, ws, b) for b in (1, 8, 64, 10**7)]
    assert np.all(np.diff(edges) > 0)
    assert edges[-1] == pytest.approx(stab.gd_stability_edge(lam, ws), rel=1e-5)


def exact_stationary_loss(lam, ws, eta, sigma2):
    """(1/2) tr(H M) for the stationary M = T(M) + 2 eta^2 sigma^2 H of linearised SGD with label
    noise (batch 1), T by exact quadrature, solved on symmetric 2 x 2 matrices."""
    basis = [np.array(m, float) for m in ([[1, 0], [0, 0]], [[0, 1], [1, 0]], [[0, 0], [0, 1]])]
    T = np.array([[exact_T(lam, ws, B, eta)[i, j] for i, j in ((0, 0), (0, 1), (1, 1))] for B in basis]).T
    H = stab.hessian_at_target(lam, ws)
    c = 2 * eta**2 * sigma2 * np.array([H[0, 0], H[0, 1], H[1, 1]])
    m = np.linalg.solve(np.eye(3) - T, c)
    M = np.array([[m[0], m[1]], [m[1], m[2]]])
    return 0.5 * np.trace(H @ M)


def test_noise_floor_is_the_small_eta_limit_of_the_exact_stationary_loss():
    lam, ws = small_problem(2)
    q = lam * ws
    edge = stab.ms_stability_edge(lam, ws, 1)
    for eta in (1e-3 * edge, 0.3 * edge):
        closed = 4 * eta * 0.5 * (1 + 2 * q @ q)
        assert stab.noise_floor_loss(lam, ws, eta, 1, 0.5) == pytest.approx(closed, rel=1e-12)
    assert stab.noise_floor_loss(lam, ws, 0.1, 1, 0.5, 0.0) == 0.0
    floor = stab.noise_floor_loss
    assert floor(lam, ws, 0.1, 4, 0.5) == pytest.approx(floor(lam, ws, 0.1, 1, 0.5) / 4)
    # first order: the relative gap to the exact stationary loss shrinks like eta
    gaps = [exact_stationary_loss(lam, ws, f * edge, 0.5) / floor(lam, ws, f * edge, 1, 0.5) - 1
            for f in (1e-3, 1e-2)]
    assert 0 < gaps[0] < 0.01 and gaps[1] == pytest.approx(10 * gaps[0], rel=0.1)
    # the exact stationary loss blows up at the mean-square edge
    near, half = (exact_stationary_loss(lam, ws, f * edge, 0.5) for f in (0.999, 0.5))
    assert near > 100 * half


def test_exact_stationary_loss_matches_monte_carlo_of_linearised_sgd():
    lam, ws = small_problem(2)
    eta, sigma2 = 0.002, 0.5
    rng = np.random.default_rng(1)
    n, H = 4000, stab.hessian_at_target(lam, ws)
    e = np.zeros((n, 2))
    acc, count = 0.0, 0
    for k in range(6000):
        x = rng.standard_normal((n, 2)) * np.sqrt(lam)
        p = x @ ws
        xi = np.sqrt(sigma2) * rng.standard_normal(n)
        e = e - eta * ((8 * p**2 * (x * e).sum(1) - 4 * xi * p)[:, None] * x)
        if k >= 3000:
            acc += 0.5 * np.einsum("ni,ij,nj->", e, H, e) / n
            count += 1
    assert acc / count == pytest.approx(exact_stationary_loss(lam, ws, eta, sigma2), rel=0.05)


def test_grid_bracket_and_phase():
    etas = [0.1, 0.2, 0.4, 0.8]
    assert stab.grid_bracket(etas, [0, 0, 1, 1]) == (0.2, 0.4, True)
    assert stab.grid_bracket(etas, [0, 1, 0, 1]) == (0.1, 0.2, False)
    lo, hi, mono = stab.grid_bracket(etas, [0, 0, 0, 0])
    assert lo == 0.8 and math.isnan(hi) and mono
    lo, hi, _ = stab.grid_bracket(etas, [1, 1, 1, 1])
    assert math.isnan(lo) and hi == 0.1
    assert stab.divergence_phase(float("nan"), 1, 2) == "none"
    assert [stab.divergence_phase(t, 1.0, 3.0) for t in (0.5, 1.0, 2.9, 3.0)] == ["I", "II", "II", "III"]


@pytest.mark.parametrize("call", [
    lambda: stab.ms_stability_edge([0.5, 0.5], [1.0, 1.0], 0),
    lambda: stab.ms_stability_edge([0.5, -0.5], [1.0, 1.0], 1),
    lambda: stab.ms_stability_edge([0.5, 0.5], [1.0], 1),
    lambda: stab.noise_floor_loss([0.5, 0.5], [1.0, 1.0], -1.0, 1, 0.1),
    lambda: stab.noise_floor_loss([0.5, 0.5], [1.0, 1.0], 0.1, 1, float("nan")),
    lambda: stab.grid_bracket([0.2, 0.1], [0, 1]),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def edge_claim(diverged, ratio, eta_ms):
    """The edge claim on one (sigma2, batch, seed) over four etas."""
    lo = np.full((1, 1, 1), 0.02)
    summary = {"batch": np.array([1]), "sigma2": np.array([0.0]), "seeds": np.array([0]),
               "eta": np.array([0.01, 0.02, 0.04, 0.08]),
               "diverged": np.array(diverged, bool)[None, None, :, None],
               "loss_ratio": np.array(ratio, float)[None, None, :, None], "edge_lo": lo, "edge_hi": 2 * lo,
               "eta_ms": np.array([[eta_ms]]), "eta_gd": np.array([0.1]), "div_phase": np.array(["none"])}
    claim = stab.claim_stability_edge(summary, factor=1.5, loss_factor=1.5, level=0.95)
    assert claim.kind == "finding"
    split = claim.interval["seeds_split_by_eta_ms"]
    assert split["of"] == 1 and split["count"] == int(claim.measured["b=1"]["per_seed"][0]["passed"])
    return split["count"] == 1


def test_edge_finding_counts_the_seeds_the_prediction_splits():
    assert edge_claim([0, 0, 1, 1], [1.0, 1.1, np.nan, np.nan], 0.025)
    assert edge_claim([0, 0, 0, 1], [1.0, 1.1, 2.0, np.nan], 0.025)  # departs without blow-up
    assert not edge_claim([0, 0, 0, 1], [1.0, 1.1, 1.2, np.nan], 0.025)  # no departure above
    assert not edge_claim([0, 1, 1, 1], [1.0, np.nan, np.nan, np.nan], 0.05)  # diverged below
    assert not edge_claim([0, 0, 0, 0], [1.0, 1.0, 1.0, 1.0], 0.1)  # grid ends below 1.5 eta_ms


def times_summary(sgd: dict, flow: dict) -> dict:
    """A summary with one sigma2, batch, eta and seed: the TIMES of SGD and of the flow."""
    return {"batch": np.array([64]), "sigma2": np.array([0.0]), "eta": np.array([0.005]),
            **{f"sgd_{n}": np.reshape(sgd.get(n, 1.0), (1, 1, 1, 1)) for n in stab.TIMES},
            **{f"flow_{n}": np.reshape(flow.get(n, 1.0), (1,)) for n in stab.TIMES}}


def test_small_eta_finding_gives_the_seed_interval_of_the_ratio_and_lists_t1():
    flow = {"T1": np.array([0.2, 0.2]), "T_third": np.array([1.0, 2.0]), "T2": np.array([3.0, 3.0])}
    sgd = {"T1": np.array([0.4, 0.4]), "T_third": np.array([1.1, 1.8]), "T2": np.array([2.7, 3.3])}
    summary = {"batch": np.array([64]), "sigma2": np.array([0.0]), "eta": np.array([0.005]),
               **{f"sgd_{n}": np.reshape(sgd.get(n, np.ones(2)), (1, 1, 1, 2)) for n in stab.TIMES},
               **{f"flow_{n}": flow.get(n, np.ones(2)) for n in stab.TIMES}}
    c = stab.claim_small_eta_matches_flow(summary, level=0.95)
    assert c.kind == "finding" and c.passed is None
    iv = c.interval["T2"]["b=64"]
    assert iv["mean_ratio"] == pytest.approx(1.0)
    half = 12.706204736174707 * 0.1  # t_{0.975, 1} times the standard error 0.1 of two ratios 0.9, 1.1
    assert iv["lower"] == pytest.approx(1 - half) and iv["upper"] == pytest.approx(1 + half)
    assert c.interval["T_third"]["b=64"]["mean_ratio"] == pytest.approx((1.1 + 0.9) / 2)
    assert "T1 b=64: seed index [0, 1]" in c.measured["not_in_interval"]


def test_phases_claim_needs_every_setting():
    seen = np.ones((1, 1, 2, 1), bool)
    summary = {"batch": np.array([1]), "sigma2": np.array([0.0]), "eta": np.array([0.1, 0.2]),
               "present": np.ones((1, 1, 2), bool), "diverged": np.zeros_like(seen), "phases_seen": seen}
    assert stab.claim_phases_survive(summary, level=0.95).measured["complete"]
    summary["present"] = np.array([[[True, False]]])
    assert not stab.claim_phases_survive(summary, level=0.95).measured["complete"]


def synthetic_run(t, seed, scale=1.0):
    """A run that converges like e^-t (s, u, u2 -> 1, MSE e^-t, loss e^-2t), MSE times scale."""
    up = 1.0 - np.exp(-t)
    return {"t": t, "s": up, "u": up, "u2": up, "mse": scale * np.exp(-t), "loss": scale * np.exp(-2 * t),
            "seed": seed}


def test_summarise_places_each_file_in_its_cell_and_measures_against_the_flow():
    lam, ws = small_problem(3)
    t = np.geomspace(1e-2, 20, 400)
    flows = [synthetic_run(t, sd) | {"lam": lam, "wstar": ws} for sd in (0, 1)]
    runs = []
    for sigma, batch, eta in itertools.product((0.0, 0.5), (1, 4), (0.01, 0.02)):
        reps = [synthetic_run(t, sd, scale=1 + eta + sigma) for sd in (0, 1)]
        run = {k: np.stack([r[k] for r in reps]) for k in ("s", "u", "u2", "mse", "loss")}
        run |= {"t": t, "seed": np.array([0, 1]), "a": 1.0, "d": 3, "eta": eta, "batch": batch,
                "sigma": sigma, "diverged": np.array([False, sigma > 0 and eta == 0.02]),
                "diverged_step": np.array([-1, 700])}
        runs.append(run)
    settings = {"delta": 0.01, "s0": 0.05, "eps": 0.1, "target_time": 3.0, "floor_window": 0.5}
    out = stab.summarise(runs[::-1], flows, **settings)
    assert out["sigma2"].tolist() == [0.0, 0.25] and out["batch"].tolist() == [1, 4]
    assert out["eta"].tolist() == [0.01, 0.02] and out["present"].all()
    # late loss over the flow's (medians over t >= t_max / 2): the scale of the MSE
    scale = 1 + out["eta"][None, None, :, None] + np.sqrt(out["sigma2"])[:, None, None, None]
    ok = ~out["diverged"]
    np.testing.assert_allclose(out["loss_ratio"][ok], np.broadcast_to(scale, ok.shape)[ok], rtol=1e-12)
    assert np.isnan(out["loss_ratio"][~ok]).all()
    # only the second seed of sigma = 0.5, eta = 0.02 diverged, at step 700, in Phase III (after T2)
    assert out["diverged"].sum() == 2 and out["diverged"][1, :, 1, 1].all()
    assert out["t_div"][1, 0, 1, 1] == pytest.approx(14.0) and out["div_phase"][1, 0, 1, 1] == "III"
    assert np.isnan(out["sgd_T2"][1, :, 1, 1]).all() and np.isnan(out["floor"][1, :, 1, 1]).all()
    # the target MSE is the flow's at target_time; SGD with the larger MSE reaches it later
    assert out["target_mse"] == pytest.approx(np.exp(-3.0), rel=1e-3)
    np.testing.assert_allclose(out["sgd_T_target"][0, 0, 0], 3.0 + np.log(1.01), rtol=1e-3)
    np.testing.assert_allclose(out["eta_ms"][:, 0], [stab.ms_stability_edge(lam, ws, b) for b in (1, 4)])
    with pytest.raises(StudyInputError, match="no flow run"):
        stab.summarise(runs, flows[:1], **settings)
    with pytest.raises(StudyInputError, match="two files"):
        stab.summarise(runs + runs[:1], flows, **settings)


def test_grid_cli_runs_every_eta_and_records_divergence(tmp_path):
    outs = [tmp_path / "small.npz", tmp_path / "large.npz"]
    res = subprocess.run(
        [sys.executable, "scripts/simulate_sgd_grid.py", "--a", "2", "--d", "20", "--seed", "0", "1",
         *options(without(SGD, "--eta"), **{"--batch": "2", "--t-max": "40"}), "--eta", "0.01", "4",
         "--out", *map(str, outs)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    from prdynamics.io import load_result

    small, large = (load_result(p) for p in outs)
    assert not small["diverged"].any() and large["diverged"].all()
    assert small["eta"] == 0.01 and small["batch"] == 2
    assert np.all(np.isnan(large["s"][:, -1]))


def test_grid_cli_needs_one_output_per_eta(tmp_path):
    res = subprocess.run([sys.executable, "scripts/simulate_sgd_grid.py", "--eta", "0.1", "0.2",
                          "--out", str(tmp_path / "x.npz")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "one --out per --eta" in res.stderr


def test_near_target_replicas_follow_the_linearised_mean_square_map_below_the_edge():
    """Replicas started on the Perron eigenvector P of T(eta) at eta = eta_ms / 2: the mean of
    |e(k)|^2 / E|e(0)|^2 over independent replicas matches tr T^k(M0) / tr M0 within 5 standard
    errors (CLT over replicas; below the edge the growth is not heavy-tailed), and P is an
    eigenvector: tr T^k(P) = rho^k to rounding."""
    from prdynamics.seeding import problem

    lam, ws, _ = problem(2.0, 10, 0, 0)
    eta = 0.5 * stab.ms_stability_edge(lam, ws, 1)
    rho, P = stab.perron_second_moment(lam, ws, eta, 1)
    assert stab.predicted_growth(lam, ws, P, eta, 1, 20) == pytest.approx(20 * np.log(rho), abs=1e-8)
    r = stab.near_target_growth(lam, ws, eta, 1, replicas=512, steps=20, e0=1e-5, base_seed=0, seed=0)
    g = r["growth"]
    assert abs(g.mean() - r["predicted"]) <= 5 * g.std(ddof=1) / np.sqrt(g.size)
    assert r["log_rho"] == pytest.approx(np.log(rho))


def test_bracketing_etas():
    assert stab.bracketing_etas([0.1, 0.2, 0.4], 0.3) == (1, 2)
    assert stab.bracketing_etas([0.1, 0.2, 0.4], 0.05) == (-1, 0)
    assert stab.bracketing_etas([0.1, 0.2, 0.4], 1.0) == (2, -1)


def test_flow_limit_gaps_nest_the_inputs_of_one_stream():
    """The run at eta_k steps on every m_k-th draw of the finest run's stream (plain numpy steps on
    those draws), and its gap is |w - w_flow|^2 / d against the flow integrated to the same time."""
    from prdynamics.flow import StepController, integrate_flow
    from prdynamics.seeding import SGD_STREAM, problem, rng_for
    from prdynamics.sgd import sgd_step_reference

    d, seed, etas, times = 6, 3, [0.04, 0.02, 0.01], [0.04, 0.08]
    lam, wstar, w0 = problem(2.0, d, seed, 0)
    res = stab.flow_limit_gaps(lam, wstar, w0, etas, 1, times, replicas=2, base_seed=0, seed=seed,
                               blowup=1e6, rtol=1e-8, atol=1e-12)
    assert res["gap"].shape == (3, 2, 2) and not res["diverged"].any()
    for r in range(2):
        z = rng_for(0, d, seed, SGD_STREAM, stab.FLOW_LIMIT_CHILD, r).standard_normal((8, 1, d))
        for k, (eta, m) in enumerate(zip(etas, (4, 2, 1), strict=True)):
            w = w0.copy()
            for j, t in enumerate(times):
                for i in range(j * 4 // m, (j + 1) * 4 // m):
                    w = sgd_step_reference(w, lam, wstar, z[i * m], np.zeros(1), eta, 0.0)
                flow = integrate_flow(lam, wstar, w0, np.array([t]), StepController(1e-8, 1e-12)).w_final
                assert res["gap"][k, j, r] == pytest.approx(np.sum((w - flow) ** 2) / d, rel=1e-9)
    with pytest.raises(ValueError, match="multiples"):
        stab.nested_strides([0.03, 0.02], [0.06])  # 0.03 is no multiple of 0.02
    with pytest.raises(ValueError, match="multiples"):
        stab.nested_strides([0.04, 0.02], [0.06])  # 0.06 is no whole number of 0.04 steps


def test_critical_mode_is_a_fixed_point_of_the_exact_map_at_the_edge():
    """P_ms against the quadrature map (independent of the closed form): T(eta_ms)(P_ms) = P_ms, and
    at any eta the one-step growth tr T(eta)(P_ms) = 1 + eta (eta - eta_ms) tr K_1(P_ms), below 1
    under the edge and above past it."""
    lam, ws = small_problem(3)
    eta_ms, P = stab.ms_edge_mode(lam, ws, 1)
    assert eta_ms == pytest.approx(stab.ms_stability_edge(lam, ws, 1), rel=1e-8)
    assert np.trace(P) == pytest.approx(1.0) and np.linalg.eigvalsh(P).min() >= 0
    np.testing.assert_allclose(exact_T(lam, ws, P, eta_ms), P, rtol=1e-7, atol=1e-9)
    x, wt = quadrature(lam)
    K = sum(w * (8 * (xi @ ws) ** 2 * np.outer(xi, xi)) @ P @ (8 * (xi @ ws) ** 2 * np.outer(xi, xi))
            for xi, w in zip(x, wt, strict=True))
    for f in (0.5, 2.0):
        eta = f * eta_ms
        g = np.trace(exact_T(lam, ws, P, eta))
        assert g == pytest.approx(1 + eta * (eta - eta_ms) * np.trace(K), rel=1e-9)
        assert (g < 1) == (f < 1)


@pytest.mark.parametrize("batch", [1, 4])
def test_critical_mode_at_larger_d_is_an_eigenvector_of_the_closed_form_map(batch):
    from prdynamics.seeding import problem

    lam, ws, _ = problem(2.0, 12, 0, 0)
    eta_ms, P = stab.ms_edge_mode(lam, ws, batch)
    np.testing.assert_allclose(stab.second_moment_map(lam, ws, P, eta_ms, batch), P, atol=1e-9)


def ms_summary(ratio, se, predicted, dof=10_000):
    shape = (1, 1, 2)
    return {"batch": np.array([1]), "seeds": np.array([0]), "ms_ratio": np.reshape(ratio, shape),
            "ms_se": np.full(shape, se), "ms_dof": np.full(shape, dof),
            "ms_predicted": np.reshape(predicted, shape), "ms_edge_mode": np.reshape(predicted, shape),
            "ms_eta": np.reshape([0.5, 2.0], shape), "ms_eta_ms": np.ones((1, 1)), "ms_factor": 2.0,
            "ms_mean_skew": np.zeros(shape)}


def test_ms_growth_check_needs_the_prediction_inside_and_the_sides_resolved():
    ok = stab.claim_ms_growth(ms_summary([0.9, 1.2], 0.01, [0.905, 1.19]), level=0.95)
    assert ok.kind == "check" and ok.passed
    assert ok.tolerance["intervals"] == 2 and ok.tolerance["interval_level_each"] == pytest.approx(0.975)
    # the prediction outside the interval
    assert not stab.claim_ms_growth(ms_summary([0.9, 1.2], 0.01, [0.96, 1.19]), level=0.95).passed
    # too noisy to tell the sides apart, though the prediction is inside
    assert not stab.claim_ms_growth(ms_summary([0.9, 1.2], 0.08, [0.905, 1.19]), level=0.95).passed
    # growth on the wrong side of 1 below the edge, agreeing with a (wrong) prediction
    assert not stab.claim_ms_growth(ms_summary([1.1, 1.2], 0.01, [1.1, 1.19]), level=0.95).passed
