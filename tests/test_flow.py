import numpy as np
import pytest
from cli_args import FLOW, PHASE3, options
from scipy.integrate import solve_ivp

from prdynamics import flow as F
from prdynamics import gd as G
from prdynamics import population as P
from prdynamics.model import full_recovery_time
from prdynamics.seeding import problem

CTL = F.StepController(rtol=1e-8, atol=1e-12)


def reference_stats(lam, ws, w0, t_eval):
    """Radau with the exact Jacobian at rtol 1e-10: an independent stiff solver."""
    sol = solve_ivp(lambda t, w: -P.gradient(w, lam, ws), (0.0, t_eval[-1]), w0, method="Radau",
                    jac=lambda t, w: -P.hessian(w, lam, ws), rtol=1e-10, atol=1e-13, t_eval=t_eval)
    assert sol.success
    return {
        "s": np.array([P.overlaps(w, lam, ws)[0] for w in sol.y.T]),
        "u": np.array([P.overlaps(w, lam, ws)[1] for w in sol.y.T]),
        "mse": np.array([P.mse(w, ws) for w in sol.y.T]),
    }


@pytest.mark.parametrize("a", [0.0, 1.5, 3.0])
def test_flow_matches_solve_ivp(a):
    d = 50
    lam, ws, w0 = problem(a, d, 0, base_seed=0)
    t_max = 10 * full_recovery_time(d, a) if a > 0 else 1e3
    t_eval = F.log_time_grid(1e-3, t_max, 8)
    traj = F.integrate_flow(lam, ws, w0, t_eval, F.StepController(rtol=1e-9, atol=1e-12))
    ref = reference_stats(lam, ws, w0, t_eval)
    for key in ("s", "u", "mse"):
        np.testing.assert_allclose(traj.stats[key], ref[key], rtol=0, atol=1e-6, err_msg=key)
    assert traj.stats["mse"][-1] < 1e-3 * traj.stats["mse"][0]  # full recovery reached


def test_gd_converges_to_flow_at_first_order():
    lam, ws, w0 = problem(2.0, 40, 1, base_seed=0)
    t_eval = np.array([2.0, 5.0, 20.0])
    flow = F.integrate_flow(lam, ws, w0, t_eval, F.StepController(rtol=1e-11, atol=1e-12))
    errors = []
    for eta in (4e-3, 2e-3, 1e-3):
        gd = G.integrate_gd(lam, ws, w0, t_eval, eta)
        np.testing.assert_allclose(gd.t, t_eval)
        errors.append(np.max(np.abs(gd.stats["s"] - flow.stats["s"])))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.1)


def test_steps_grow_and_any_step_is_stable_in_phase_three():
    lam, ws, w0 = problem(2.0, 200, 0, base_seed=0)
    t_max = 10 * full_recovery_time(200, 2.0)
    traj = F.integrate_flow(lam, ws, w0, F.log_time_grid(1e-3, t_max, 2),
                            F.StepController(rtol=1e-6, atol=1e-12))
    # a single step far past every time scale (h lam_d >> 1) lands on the minimum
    w, s, u = traj.w_final, *P.overlaps(traj.w_final, lam, ws)
    w_rms = np.sqrt(np.mean(w * w))
    for h in (1e12, 1e30):
        work = [np.empty_like(w) for _ in range(3)]
        ok, err, s1, u1, _, _ = F._richardson_step(
            lam, F._tail_max(lam), ws, w, h, s, u, s, u, w_rms, 1.0, 1e-6, 1e-12, *work
        )
        assert ok
        assert np.all(np.isfinite(work[0]))
        np.testing.assert_allclose(np.abs(work[0]), np.abs(ws), rtol=1e-8)
        assert s1 == pytest.approx(1.0, rel=1e-8) and abs(u1) == pytest.approx(1.0, rel=1e-8)
        # and each of its base steps alone: the end state depends on the end statistics only
        ok, s1, u1, _ = F._base_step(lam, F._tail_max(lam), ws, w, h, s, u, s, u, 1.0, 1e-15, 1e-15, work[1])
        assert ok
        np.testing.assert_allclose(np.abs(work[1]), np.abs(ws), rtol=1e-8)


def _fixed_step_errors(step, t0, span, ns):
    """Max error in w after integrating [t0, t0 + span] in n equal steps, for each n in ns."""
    lam, ws, w0 = problem(1.5, 30, 4, base_seed=0)
    ctl = F.StepController(rtol=1e-12, atol=1e-16)
    w_start = F.integrate_flow(lam, ws, w0, np.array([t0]), ctl).w_final
    exact = F.integrate_flow(lam, ws, w_start, np.array([span]), ctl).w_final  # accurate reference
    errors = []
    for n in ns:
        w = w_start.copy()
        s, u = P.overlaps(w, lam, ws)
        work = [np.empty_like(w) for _ in range(3)]
        for _ in range(n):
            if step == "base":
                ok, s, u, _ = F._base_step(
                    lam, F._tail_max(lam), ws, w, span / n, s, u, s, u, 1.0, 1e-16, 1e-16, work[0]
                )
            else:
                ok, _, s, u, _, _ = F._richardson_step(
                    lam, F._tail_max(lam), ws, w, span / n, s, u, s, u, 1.0, 1.0, 1e-13, 1e-16, *work
                )
            assert ok
            w, work[0] = work[0], w
        errors.append(np.max(np.abs(w - exact)))
    errors = np.array(errors)
    return errors, np.log2(errors[:-1] / errors[1:])


@pytest.mark.parametrize("t0", [2.0, 40.0, 400.0])
def test_base_step_is_uniformly_second_order(t0):
    """Global order 2 whatever lam h is: at t0 = 2 every lam_i h < 0.1, at t0 = 40 the first modes
    have lam h ~ 1..4 and at t0 = 400 lam_1 h ~ 10..40 (the frozen-statistics step was first order there)."""
    errors, orders = _fixed_step_errors("base", t0, 0.8 * t0, (4, 8, 16, 32))
    assert np.all(orders > 1.85), (errors, orders)


@pytest.mark.parametrize("t0,min_order", [(2.0, 3.6), (40.0, 2.3), (400.0, 2.0)])
def test_extrapolated_step_order(t0, min_order):
    """Richardson on the (nearly symmetric) base step: order 4 in the non-stiff regime, and at least
    the base step's 2 (in practice 2.2..3.3) where lam h ~ 1..40."""
    errors, orders = _fixed_step_errors("richardson", t0, 0.8 * t0, (8, 16, 32))
    assert np.all(orders > min_order), (errors, orders)


@pytest.mark.parametrize("t0,h", [(0.5, 0.05), (5.0, 1.0), (300.0, 200.0)])
def test_polynomial_modes_match_libm_modes(t0, h):
    """The branch-free polynomial passes (|z| <= 0.5) agree with the libm pass to rounding."""
    lam, ws, w0 = problem(2.0, 2000, 1, base_seed=0)
    w = F.integrate_flow(lam, ws, w0, np.array([t0]), F.StepController(rtol=1e-8, atol=1e-12)).w_final
    s, u = P.overlaps(w, lam, ws)
    outs = []
    for tailmax in (F._tail_max(lam), np.full_like(lam, np.inf)):  # the second: every mode through libm
        out = np.empty_like(w)
        ok, *_ = F._base_step(lam, tailmax, ws, w, h, s, u, s, u, 1.0, 1e-16, 1e-16, out)
        assert ok
        outs.append(out)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-14)


def test_unsorted_spectrum_gives_the_same_flow():
    lam, ws, w0 = problem(2.0, 300, 2, base_seed=0)
    t_eval = F.log_time_grid(1e-3, 1e4, 4)
    ctl = F.StepController(rtol=1e-9, atol=1e-12)
    ref = F.integrate_flow(lam, ws, w0, t_eval, ctl)
    perm = np.random.default_rng(0).permutation(lam.size)
    got = F.integrate_flow(lam[perm], ws[perm], w0[perm], t_eval, ctl)
    for key in ("s", "u", "mse", "loss"):
        np.testing.assert_allclose(got.stats[key], ref.stats[key], rtol=1e-7, atol=1e-9, err_msg=key)


def test_log_time_grid():
    t = F.log_time_grid(1e-3, 1e3, 10)
    assert t[0] == pytest.approx(1e-3) and t[-1] == pytest.approx(1e3)
    assert len(t) == 61
    np.testing.assert_allclose(np.diff(np.log10(t)), 0.1)
    for bad in [(0, 1, 10), (1, 1, 10), (1e-3, 1, 0), (1e-3, np.inf, 10)]:
        with pytest.raises(ValueError):
            F.log_time_grid(*bad)


def test_bad_inputs_raise():
    lam, ws, w0 = problem(2.0, 10, 0, base_seed=0)
    with pytest.raises(ValueError, match="increasing"):
        F.integrate_flow(lam, ws, w0, np.array([2.0, 1.0]), CTL)
    with pytest.raises(ValueError, match="non-finite"):
        F.integrate_flow(lam, ws, np.full(10, np.nan), np.array([1.0]), CTL)
    with pytest.raises(ValueError, match="one length"):
        F.integrate_flow(lam, ws[:5], w0, np.array([1.0]), CTL)
    with pytest.raises(ValueError, match="eta"):
        G.integrate_gd(lam, ws, w0, np.array([1.0]), eta=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        F.StepController(rtol=0.0, atol=1e-12)


def test_gd_divergence_is_reported():
    lam, ws, w0 = problem(2.0, 10, 0, base_seed=0)
    with pytest.raises(FloatingPointError, match="diverged"):
        G.integrate_gd(lam, ws, w0 * 10, np.array([1e3]), eta=5.0)


@pytest.mark.parametrize("script,extra", [
    ("simulate_flow", options(FLOW, **{"--t-max": "50"})),
    ("simulate_flow", options(FLOW, **{"--t-max": "50", "--method": "gd", "--eta": "0.025",
                                     "--record-step": "0.05"})),
    ("simulate_phase3", options(PHASE3, **{"--tau-max-factor": "0.5"})),
])
def test_seeds_run_in_one_process_give_the_files_of_single_runs(script, extra, tmp_path):
    """One job runs every seed of an (a, d); each file equals that seed's run alone."""
    import importlib

    from prdynamics.io import load_result

    cli = importlib.import_module(script)
    common = ["--a", "2", "--d", "30", *extra]
    batch = [tmp_path / "s0.npz", tmp_path / "s3.npz"]
    assert cli.main([*common, "--seed", "0", "3", "--out", *map(str, batch)]) == 0
    alone = tmp_path / "alone.npz"
    assert cli.main([*common, "--seed", "3", "--out", str(alone)]) == 0
    got, want = load_result(batch[1], required=()), load_result(alone, required=())
    assert got["provenance"]["inputs"] == want["provenance"]["inputs"]
    assert want["provenance"]["inputs"]["seed"] == 3
    keys = set(got) - {"provenance"}
    assert keys == set(want) - {"provenance"} and {"t", "u", "mse", "w_final"} <= keys
    for k in keys:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    other = load_result(batch[0], required=())
    assert other["provenance"]["inputs"]["seed"] == 0 and not np.array_equal(other["w0"], got["w0"])
