import numpy as np
import pytest
from scipy.integrate import solve_ivp

from prdynamics import flow as F
from prdynamics import population as P
from prdynamics.model import full_recovery_time
from prdynamics.seeding import problem


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
    lam, ws, w0 = problem(a, d, 0)
    t_max = 10 * full_recovery_time(d, a) if a > 0 else 1e3
    t_eval = F.log_time_grid(1e-3, t_max, 8)
    traj = F.integrate_flow(lam, ws, w0, t_eval, F.StepController(rtol=1e-9))
    ref = reference_stats(lam, ws, w0, t_eval)
    for key in ("s", "u", "mse"):
        np.testing.assert_allclose(traj.stats[key], ref[key], rtol=0, atol=1e-6, err_msg=key)
    assert traj.stats["mse"][-1] < 1e-3 * traj.stats["mse"][0]  # full recovery reached


def test_gd_converges_to_flow_at_first_order():
    lam, ws, w0 = problem(2.0, 40, 1)
    t_eval = np.array([2.0, 5.0, 20.0])
    flow = F.integrate_flow(lam, ws, w0, t_eval, F.StepController(rtol=1e-11))
    errors = []
    for eta in (4e-3, 2e-3, 1e-3):
        gd = F.integrate_gd(lam, ws, w0, t_eval, eta)
        np.testing.assert_allclose(gd.t, t_eval)
        errors.append(np.max(np.abs(gd.stats["s"] - flow.stats["s"])))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.1)


def test_steps_grow_and_any_step_is_stable_in_phase_three():
    lam, ws, w0 = problem(2.0, 200, 0)
    t_max = 10 * full_recovery_time(200, 2.0)
    traj = F.integrate_flow(lam, ws, w0, F.log_time_grid(1e-3, t_max, 2), F.StepController(rtol=1e-6))
    # a single step far past every time scale (h lam_d >> 1) lands on the minimum
    w, s, u = traj.w_final, *P.overlaps(traj.w_final, lam, ws)
    work = [np.empty_like(w) for _ in range(5)]
    ok, err = F._extrapolated_step(lam, ws, w, 1e12, s, u, 1.0, 1e-6, 1e-12, *work)
    assert ok
    assert np.all(np.isfinite(work[0]))
    np.testing.assert_allclose(np.abs(work[0]), np.abs(ws), rtol=1e-8)


def test_extrapolated_step_is_third_order():
    lam, ws, w0 = problem(1.5, 30, 4)
    w = F.integrate_flow(lam, ws, w0, np.array([2.0]), F.StepController(rtol=1e-11)).w_final
    s, u = P.overlaps(w, lam, ws)

    def one_step(h):
        work = [np.empty_like(w) for _ in range(5)]
        ok, _ = F._extrapolated_step(lam, ws, w, h, s, u, 1.0, 1e-6, 1e-12, *work)
        assert ok
        return work[0]

    def exact(h):
        return F.integrate_flow(lam, ws, w, np.array([h]), F.StepController(rtol=1e-12)).w_final

    errs = [np.max(np.abs(one_step(h) - exact(h))) for h in (0.04, 0.02)]
    order = np.log2(errs[0] / errs[1]) - 1  # local error ~ h^(p+1)
    assert order > 2.6


def test_log_time_grid():
    t = F.log_time_grid(1e-3, 1e3, 10)
    assert t[0] == pytest.approx(1e-3) and t[-1] == pytest.approx(1e3)
    assert len(t) == 61
    np.testing.assert_allclose(np.diff(np.log10(t)), 0.1)
    for bad in [(0, 1, 10), (1, 1, 10), (1e-3, 1, 0), (1e-3, np.inf, 10)]:
        with pytest.raises(ValueError):
            F.log_time_grid(*bad)


def test_bad_inputs_raise():
    lam, ws, w0 = problem(2.0, 10, 0)
    with pytest.raises(ValueError, match="increasing"):
        F.integrate_flow(lam, ws, w0, np.array([2.0, 1.0]))
    with pytest.raises(ValueError, match="non-finite"):
        F.integrate_flow(lam, ws, np.full(10, np.nan), np.array([1.0]))
    with pytest.raises(ValueError, match="one length"):
        F.integrate_flow(lam, ws[:5], w0, np.array([1.0]))
    with pytest.raises(ValueError, match="eta"):
        F.integrate_gd(lam, ws, w0, np.array([1.0]), eta=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        F.StepController(rtol=0.0)


def test_gd_divergence_is_reported():
    lam, ws, w0 = problem(2.0, 10, 0)
    with pytest.raises(FloatingPointError, match="diverged"):
        F.integrate_gd(lam, ws, w0 * 10, np.array([1e3]), eta=5.0)
