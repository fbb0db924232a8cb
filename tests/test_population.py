import numpy as np
import pytest
from scipy.integrate import solve_ivp

from prdynamics import population as P
from prdynamics.flow import StepController, integrate_flow, log_time_grid
from prdynamics.seeding import problem


@pytest.mark.parametrize("a,d", [(0.0, 10), (1.5, 20), (3.0, 15)])
def test_loss_matches_monte_carlo(a, d, rng):
    lam, ws, _ = problem(a, d, 1, base_seed=0)
    w = rng.standard_normal(d) * 0.7
    n = 400_000
    x = rng.standard_normal((n, d)) * np.sqrt(lam)
    samples = ((x @ w) ** 2 - (x @ ws) ** 2) ** 2
    mc, se = samples.mean(), samples.std() / np.sqrt(n)
    assert abs(P.loss(w, lam, ws) - mc) < 5 * se


def test_loss_zero_at_target_and_value_at_origin(small_problem):
    lam, ws, _ = small_problem
    assert P.loss(ws, lam, ws) == pytest.approx(0.0, abs=1e-13)
    assert P.loss(-ws, lam, ws) == pytest.approx(0.0, abs=1e-13)
    assert P.loss(np.zeros_like(ws), lam, ws) == pytest.approx(3.0)  # 3 s*^2 = E (x.w*)^4


def test_gradient_matches_central_differences(small_problem, rng):
    lam, ws, _ = small_problem
    w = rng.standard_normal(lam.size)
    h = 1e-6
    fd = np.array([
        (P.loss(w + h * e, lam, ws) - P.loss(w - h * e, lam, ws)) / (2 * h) for e in np.eye(lam.size)
    ])
    np.testing.assert_allclose(P.gradient(w, lam, ws), fd, rtol=1e-7, atol=1e-8)


def test_hessian_matches_differences_of_gradient(small_problem, rng):
    lam, ws, _ = small_problem
    w = rng.standard_normal(lam.size)
    h = 1e-6
    fd = np.array([(P.gradient(w + h * e, lam, ws) - P.gradient(w - h * e, lam, ws)) / (2 * h)
                   for e in np.eye(lam.size)])
    np.testing.assert_allclose(P.hessian(w, lam, ws), fd, rtol=1e-6, atol=1e-8)


def test_critical_points(small_problem, rng):
    lam, ws, _ = small_problem
    zero = np.zeros_like(ws)
    saddle = P.saddle_point(lam, ws, rng)
    s, u = P.overlaps(saddle, lam, ws)
    assert s == pytest.approx(1 / 3) and u == pytest.approx(0.0, abs=1e-14)
    for point in (zero, ws, -ws, saddle):
        np.testing.assert_allclose(P.gradient(point, lam, ws), 0.0, atol=1e-14)
    assert np.all(np.linalg.eigvalsh(P.hessian(zero, lam, ws)) < 0)  # strict local max
    assert np.all(np.linalg.eigvalsh(P.hessian(ws, lam, ws)) > 0)  # global min
    ev = np.linalg.eigvalsh(P.hessian(saddle, lam, ws))
    assert ev.min() < -1e-3 and ev.max() > 1e-3  # a saddle


def test_flow_stays_at_fixed_points(small_problem, rng):
    lam, ws, _ = small_problem
    saddle = P.saddle_point(lam, ws, rng)
    for point in (ws, saddle):
        traj = integrate_flow(lam, ws, point, np.array([1.0, 1e3]), StepController(rtol=1e-10, atol=1e-12))
        np.testing.assert_allclose(traj.w_final, point, atol=1e-9)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_hierarchy_derivatives_match_finite_differences_along_trajectory(k):
    lam, ws, w0 = problem(1.5, 30, 2, base_seed=0)
    t0, h = 3.0, 1e-4
    ctl = StepController(rtol=1e-11, atol=1e-15)
    ws_at = {}
    for t in (t0 - h, t0, t0 + h):
        ws_at[t] = integrate_flow(lam, ws, w0, np.array([t]), ctl).w_final
    w = ws_at[t0]
    s, u = P.overlaps(w, lam, ws)
    sk1, uk1 = P.hierarchy(w, lam, ws, k + 1)
    ss_k1 = float(np.sum(lam ** (k + 1) * ws * ws))
    ds_formula = 8 * (1 - 3 * s) * sk1 + 16 * u * uk1
    du_formula = 4 * (1 - 3 * s) * uk1 + 8 * u * ss_k1
    sp, up = P.hierarchy(ws_at[t0 + h], lam, ws, k)
    sm, um = P.hierarchy(ws_at[t0 - h], lam, ws, k)
    assert (sp - sm) / (2 * h) == pytest.approx(ds_formula, rel=1e-5, abs=1e-9)
    assert (up - um) / (2 * h) == pytest.approx(du_formula, rel=1e-5, abs=1e-9)


def test_isotropic_flow_matches_closed_two_dimensional_ode():
    d = 40
    lam, ws, w0 = problem(0.0, d, 5, base_seed=0)
    t_eval = log_time_grid(1e-2, 200.0, 10)
    traj = integrate_flow(lam, ws, w0, t_eval, StepController(rtol=1e-10, atol=1e-12))
    s0, u0 = P.overlaps(w0, lam, ws)
    ref = solve_ivp(lambda t, y: P.isotropic_rhs(y[0], y[1], d), (0, t_eval[-1]), [s0, u0],
                    method="DOP853", rtol=1e-12, atol=1e-14, t_eval=t_eval)
    np.testing.assert_allclose(traj.stats["s"], ref.y[0], atol=1e-7)
    np.testing.assert_allclose(traj.stats["u"], ref.y[1], atol=1e-7)
