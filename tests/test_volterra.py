import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from prdynamics import flow as F
from prdynamics import theory as T
from prdynamics import volterra as V
from prdynamics.model import full_recovery_time
from prdynamics.seeding import problem


def orders(errors):
    errors = np.asarray(errors)
    return np.log2(errors[:-1] / errors[1:])


def s_smooth(t):
    """A synthetic s(t) rising through the saddle level, with Theta known in closed form."""
    return 0.6 * (1 - np.exp(-t))


def theta_smooth(t):
    return t - 1.8 * (t - (1 - np.exp(-t)))


# --------------------------------------------------------------------------- (a) fast vs direct


@pytest.fixture(scope="module")
def small_case():
    """d = 20, a = 2: exact u on a coarse set of times, Phase I form (expm) and with s(t) (ODE)."""
    lam, ws, w0 = problem(2.0, 20, 0, base_seed=0)
    t_end = 3.0
    t_check = np.linspace(0.0, t_end, 7)
    m = 4 * np.diag(lam) + 8 * np.outer(lam * ws, lam * ws)  # Phase I form: dw/dt = M w
    phase1 = np.array([(lam * ws) @ expm(m * t) @ w0 for t in t_check])

    def rhs(t, w):
        return 4 * lam * (1 - 3 * s_smooth(t)) * w + 8 * lam * ws * (lam @ (ws * w))

    sol = solve_ivp(rhs, (0, t_end), w0, method="DOP853", rtol=1e-13, atol=1e-15, t_eval=t_check)
    assert sol.success
    return lam, ws, w0, t_end, t_check, {"phase1": phase1, "theta": (lam * ws) @ sol.y}


@pytest.mark.parametrize("form", ["phase1", "theta"])
def test_fast_and_direct_converge_to_each_other_and_to_the_exact_u(small_case, form):
    lam, ws, w0, t_end, t_check, refs = small_case
    ref = refs[form]
    scale = np.max(np.abs(ref))
    err = {"quadratic": [], "linear": [], "direct": [], "fast-direct": []}
    for n in (240, 480, 960):
        t = np.linspace(0.0, t_end, n + 1)
        s = None if form == "phase1" else s_smooth(t)
        fast = V.solve_u(lam, ws, w0, t, s)
        lin = V.solve_u(lam, ws, w0, t, s, interp="linear")
        direct = V.solve_u_direct(lam, ws, w0, t, s)
        k = n // 6
        err["quadratic"].append(np.max(np.abs(fast[::k] - ref)) / scale)
        err["linear"].append(np.max(np.abs(lin[::k] - ref)) / scale)
        err["direct"].append(np.max(np.abs(direct[::k] - ref)) / scale)
        err["fast-direct"].append(np.max(np.abs(fast - direct)) / scale)
    # measured (phase1): quadratic 2.98, linear 2.00, direct 2.00, difference 1.62 -> 1.92
    # measured (theta):  quadratic 2.09 (s is linear between nodes), others 2.00, 1.92 -> 1.98
    fast_order = 2.8 if form == "phase1" else 1.9
    assert np.all(orders(err["quadratic"]) > fast_order)
    np.testing.assert_allclose(orders(err["linear"]), 2.0, atol=0.1)
    np.testing.assert_allclose(orders(err["direct"]), 2.0, atol=0.1)
    assert np.all(orders(err["fast-direct"]) > 1.5)
    assert err["fast-direct"][-1] < 1e-5
    assert err["quadratic"][-1] < 1e-5


def test_fast_solver_handles_log_grids_and_a_start_away_from_zero(small_case):
    lam, ws, w0, t_end, t_check, refs = small_case
    t = np.concatenate(([0.0], np.geomspace(1e-4, t_end, 2000)))
    u = V.solve_u(lam, ws, w0, t)
    np.testing.assert_allclose(u[-1], refs["phase1"][-1], rtol=1e-5)  # measured 3.1e-6
    # restarting at t1 from the state there continues the same solution
    t1 = 1.0
    m = 4 * np.diag(lam) + 8 * np.outer(lam * ws, lam * ws)
    w1 = expm(m * t1) @ w0
    tail = np.linspace(t1, t_end, 801)
    u_tail = V.solve_u(lam, ws, w1, tail)
    np.testing.assert_allclose(u_tail[-1], refs["phase1"][-1], rtol=1e-6)


# --------------------------------------------------------------------------- (e) closed forms


@pytest.mark.parametrize("lam_value, d", [(0.5, 1), (1.0 / 30, 30)])
def test_equal_eigenvalues_closed_form(lam_value, d):
    """All lam_i = lam: v = u e^{-4 lam Theta} solves v = u0 + 8 lam^2 W int v, W = |w*|^2, so
    u(t) = u(0) exp(4 lam Theta(t) + 8 lam^2 W t)  (= u(0) e^{12 lam t} in Phase I, s* = 1),
    and rho = 12 lam with amplitude A = u(0)."""
    rng = np.random.default_rng(7)
    lam = np.full(d, lam_value)
    ws = rng.standard_normal(d)
    ws /= np.sqrt(np.sum(lam * ws * ws))  # s* = 1
    w0 = 0.05 * rng.standard_normal(d) / np.sqrt(d)
    u0 = float(np.sum(lam * ws * w0))
    rate = 4 * lam_value + 8 * lam_value**2 * np.sum(ws**2)
    np.testing.assert_allclose(rate, 12 * lam_value, rtol=1e-12)
    t_end = 2.0 / lam_value
    t = np.linspace(0.0, t_end, 2001)
    exact = u0 * np.exp(rate * t)
    for u, tol in ((V.solve_u(lam, ws, w0, t), 3e-6), (V.solve_u_direct(lam, ws, w0, t), 1e-4)):
        assert np.max(np.abs(u / exact - 1)) < tol
    # exact-Theta form with a given s(t)
    exact_theta = u0 * np.exp(4 * lam_value * theta_smooth(t) + 8 * lam_value**2 * np.sum(ws**2) * t)
    u = V.solve_u(lam, ws, w0, t, s_smooth(t))
    assert np.max(np.abs(u / exact_theta - 1)) < 5e-5
    rho, amp = T.escape_amplitude(lam, ws, w0)
    np.testing.assert_allclose([rho, amp], [12 * lam_value, u0], rtol=1e-12)


def test_phi_functions_are_continuous_across_the_series_cut():
    for z in (-2.0, 2.0):
        below = np.array(V._phis(np.nextafter(z, 0.0)))
        above = np.array(V._phis(z))
        np.testing.assert_allclose(below, above, rtol=1e-13)
    ez, *phis = V._phis(-1e4)
    assert ez == 0.0 and np.all(np.isfinite(phis))


# --------------------------------------------------------------------------- simulated trajectory


@pytest.fixture(scope="module")
def simulated():
    """d = 1000, a = 2, seed 0, flow at rtol 1e-7 up to full recovery, in two legs split at t0.

    Grid: uniform 0.01 up to t = 5 (Phases I and II, where s moves fast), then 300 points
    per decade.  The second leg restarts from w(t0) (the flow is autonomous), which gives
    the state the Phase IIb equation starts from.
    """
    d, a = 1000, 2.0
    lam, ws, w0 = problem(a, d, 0, base_seed=0)
    t_end = full_recovery_time(d, a)
    h0, t_switch = 0.01, 5.0
    grid = np.concatenate(
        (np.arange(1, int(round(t_switch / h0))) * h0, F.log_time_grid(t_switch, t_end, 300))
    )
    t0 = 2.0
    ctl = F.StepController(rtol=1e-7, atol=1e-12)
    k0 = int(np.argmin(np.abs(grid - t0)))
    grid[k0] = t0
    leg1 = F.integrate_flow(lam, ws, w0, grid[: k0 + 1], ctl)
    leg2 = F.integrate_flow(lam, ws, leg1.w_final, grid[k0 + 1 :] - t0, ctl)
    t = np.concatenate(([0.0], grid))
    stats = {
        key: np.concatenate(([v0], leg1.stats[key], leg2.stats[key]))
        for key, v0 in (("s", lam @ (w0 * w0)), ("u", lam @ (w0 * ws)))
    }
    return {"lam": lam, "ws": ws, "w0": w0, "t": t, "k0": k0 + 1, "w_t0": leg1.w_final, **stats}


def test_phase1_form_tracks_the_flow_while_s_is_small(simulated):
    """Phase I form against the flow while s < 0.05.

    The only difference is Theta = t instead of t - 3 int s, so the relative error should
    follow the first-order estimate exp(3 rho int_0^t s) - 1 (u ~ e^{rho Theta}).  Measured:
    max relative error 5.6e-2 at s = 0.05 (t = 0.56), 1.3e-2 at s = 0.011, ratio to the
    estimate between 0.65 and 1.0; tolerance: below 1.2 x the estimate, and below 6 %.
    """
    r = simulated
    t, s, u_sim = r["t"], r["s"], r["u"]
    u = V.solve_u(r["lam"], r["ws"], r["w0"], t)
    n_keep = int(np.argmax(s >= 0.05))
    keep = np.arange(len(t)) < n_keep
    assert np.all(s[keep] < 0.05) and np.all(s[~keep] >= 0.05)  # s < 0.05 is an initial interval
    rel = np.abs(u[keep] / u_sim[keep] - 1)
    rho = T.escape_rate(r["lam"], r["ws"])
    int_s = np.concatenate(([0.0], np.cumsum(np.diff(t) * 0.5 * (s[1:] + s[:-1]))))[keep]
    estimate = np.expm1(3 * rho * int_s)
    assert np.all(rel <= 1.2 * estimate + 1e-9)
    assert rel.max() < 0.06
    early = s[keep] < 0.011
    assert rel[early].max() < 0.015


def test_exact_theta_form_reproduces_the_flow_through_all_phases(simulated):
    """Fed the simulated s(t), the Volterra u matches the flow's u to 1e-4 up to full recovery.

    Measured: 1.4e-5 (max, reached in Phases I-II; 2.9e-5 late in Phase III when the flow is
    run in one leg instead of two; 8.1e-5 with interp="linear").  Phase III is the hard
    part: u - 1 comes from a near cancellation of size 1 - s, so the slope 1 - 3 s must be
    followed within each step (see the volterra module docstring).
    """
    r = simulated
    t, s, u_sim = r["t"], r["s"], r["u"]
    assert s[-1] > 0.999 and abs(u_sim[-1]) > 0.999  # the run reaches Phase III
    u = V.solve_u(r["lam"], r["ws"], r["w0"], t, s)
    assert np.max(np.abs(u - u_sim)) < 1e-4


def test_phase2b_delta_equation_is_one_minus_u(simulated):
    """Measured: Delta vs 1 - u from t0 2.2e-13, vs the flow 2.3e-5, vs u solved from 0 1.7e-5."""
    r = simulated
    k0 = r["k0"]
    t, s, u_sim = r["t"][k0:], r["s"][k0:], r["u"][k0:]
    assert 1 / 3 < s[0] < 0.9  # started in Phase II
    sign = np.sign(u_sim[-1])  # the flow may converge to -w*: Delta = 1 - u for target sign * w*
    ws = sign * r["ws"]
    delta = V.solve_delta(r["lam"], ws, r["w_t0"], t, s)
    u_from_t0 = V.solve_u(r["lam"], ws, r["w_t0"], t, s)
    np.testing.assert_allclose(delta, 1 - u_from_t0, rtol=0, atol=1e-11)  # same equation
    assert np.max(np.abs(delta - (1 - sign * u_sim))) < 1e-4  # against the flow
    u_from_zero = V.solve_u(r["lam"], r["ws"], r["w0"], r["t"], r["s"])[k0:]
    assert np.max(np.abs(delta - (1 - sign * u_from_zero))) < 1e-4
    assert delta[-1] > 0 and delta[-1] < 1e-3


def test_delta_forcing_is_the_phase3_mode_decay_when_s_is_one():
    lam, ws, w0 = problem(2.0, 50, 1, base_seed=0)
    rng = np.random.default_rng(3)
    w_t0 = ws + 0.1 * rng.standard_normal(50)
    t = 5.0 + np.geomspace(1e-3, 1e3, 400) - 1e-3
    forcing = V.delta_forcing(lam, ws, w_t0, t, np.ones_like(t))
    expected = np.array([np.sum(lam * ws * (ws - w_t0) * np.exp(-8 * lam * (tk - t[0]))) for tk in t])
    np.testing.assert_allclose(forcing, expected, rtol=0, atol=1e-13)


# --------------------------------------------------------------------------- input checks


def test_bad_input_is_refused():
    lam, ws, w0 = problem(2.0, 10, 0, base_seed=0)
    t = np.linspace(0, 1, 11)
    with pytest.raises(ValueError, match="strictly increasing"):
        V.solve_u(lam, ws, w0, t[::-1])
    with pytest.raises(ValueError, match="on the grid"):
        V.solve_u(lam, ws, w0, t, np.zeros(5))
    with pytest.raises(ValueError, match="uniform"):
        V.solve_u_direct(lam, ws, w0, np.geomspace(1e-3, 1, 11))
    with pytest.raises(ValueError, match="interp"):
        V.solve_u(lam, ws, w0, t, interp="cubic")
    with pytest.raises(ValueError, match="one length"):
        V.solve_u(lam, ws[:5], w0, t)
    with pytest.raises(ValueError, match="non-negative"):
        V.solve_u(-lam, ws, w0, t)
