"""The committee study's measurements (prdynamics.studies.committee) against independent computations:
exact linear Phase I data, a direct projection for the captured fraction, synthetic curves with known
times, exponents and gaps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from prdynamics.committee import overlaps, problem
from prdynamics.committee.theory import committee_escape_rates, escape_operator
from prdynamics.studies import committee as C


def _linear_run(a=2.0, d=40, p=2, k=2, seed=0, scale=1e-3):
    lam, Ws, W0 = problem(a, d, p, k, seed, 0, False)
    W0 = scale * W0
    L = escape_operator(lam, Ws, p)
    t = np.geomspace(1e-3, 8.0, 120)
    Ms, Rs = [], []
    for ti in t:
        W = W0 @ expm(L * ti)  # L symmetric: W(t) = W0 e^{L t}
        M, R, _ = overlaps(W, lam, Ws)
        Ms.append(M), Rs.append(R)
    return t, np.array(Ms), np.array(Rs), lam, Ws, W0


def test_phase1_rate_of_the_exact_linear_flow_is_the_top_eigenvalue():
    t, M, R, lam, Ws, W0 = _linear_run()
    out = C.phase1_rate(t, R, M, lam, Ws, W0, s_max=0.05, e_max=0.5)
    assert out["entries"] == 4
    assert abs(out["rho"] - committee_escape_rates(lam, Ws, 2, "quadratic")[0]) <= 1e-12 * out["rho"]
    assert abs(out["ratio"] - 1.0) <= 1e-8  # the linear share is divided out exactly
    assert out["allowance"] > 0 and np.all(out["own_ratio"] >= 1.0 - 1e-12)


def test_phase1_rate_without_a_window_is_nan():
    t, M, R, lam, Ws, W0 = _linear_run()
    out = C.phase1_rate(t, R, M, lam, Ws, W0, s_max=1e-12, e_max=0.5)
    assert out["entries"] == 0 and np.isnan(out["ratio"])


def test_captured_fraction_is_the_q_projection_on_the_student_span():
    rng = np.random.default_rng(1)
    lam, Ws, _ = problem(1.5, 12, 3, 2, 0, 0, False)
    W = rng.standard_normal((3, 12))
    M, R, P = overlaps(W, lam, Ws)
    got = C.captured_fraction(M[None], R[None], np.diag(P))[0]
    S = np.sqrt(lam)  # Q-inner product = Euclidean after scaling by sqrt(lam)
    for m in range(2):
        coef, *_ = np.linalg.lstsq((W * S).T, Ws[m] * S, rcond=None)
        proj = (W * S).T @ coef
        assert abs(got[m] - proj @ proj / P[m, m]) <= 1e-12
    W_full = np.vstack([W, Ws])  # a span holding the teachers captures all of them
    M, R, P = overlaps(W_full, lam, Ws)
    np.testing.assert_allclose(C.captured_fraction(M[None], R[None], np.diag(P))[0], 1.0, rtol=1e-10)


def test_learning_times_of_logistic_curves():
    t = np.linspace(0, 100, 10001)
    frac = np.stack([1 / (1 + np.exp(-(t - c))) for c in (10.0, 40.0)], axis=1)
    level = 0.9
    np.testing.assert_allclose(C.learning_times(t, frac, level), [10 + np.log(9), 40 + np.log(9)], atol=1e-4)
    assert np.isnan(C.learning_times(t, 0.5 * frac, level)).all()


def test_tail_fit_recovers_a_power_law():
    d, a, beta = 1000, 2.0, 0.5
    t = np.geomspace(1e-2, 1e5, 300)
    t0 = 10.0
    loss = np.where(t <= t0, 1.0, 0.009 * np.maximum(t - t0, 1e-9) ** -beta)
    got, n, origin = C.tail_fit(t, loss, d, a, 0.01, 10.0, 0.1, 5)
    assert origin == t[np.flatnonzero(loss <= 0.01)[0]]
    assert n >= 5 and abs(got - beta) <= 0.05  # origin on the grid, not exactly t0


def test_early_exponent_of_a_constant_force():
    t = np.geomspace(1e-3, 0.1, 30)
    R0 = np.array([[0.1, -0.2]])
    R = R0[None] + 3.0 * t[:, None, None] * np.array([[1.0, 2.0]])[None]
    assert abs(C.early_exponent(t, R, R0, 0.1) - 1.0) <= 1e-10


def test_sgd_gap_is_the_largest_log_ratio():
    t = np.geomspace(1e-2, 10, 50)
    flow = 1.0 / (1 + t)
    sgd = flow * np.exp(0.1 * np.sin(t))
    assert abs(C.sgd_gap(t, sgd, t, flow) - np.max(np.abs(0.1 * np.sin(t)))) <= 1e-12
    assert np.isnan(C.sgd_gap(t, np.full_like(t, np.nan), t, flow))
    # an SGD time past the flow's last (its first step after t_max) is left out, not extrapolated
    assert C.sgd_gap(np.append(t, 10.001), np.append(sgd, 1.0), t, flow) == C.sgd_gap(t, sgd, t, flow)


def test_departure_is_the_first_time_outside_the_band():
    """SGD = flow until t = 2, then its loss ratio grows like exp(t - 2): it leaves log(1.5) at
    t = 2 + log 1.5 (the first grid time after), where the flow's loss is 1 / (1 + t) of its start."""
    t_flow = np.geomspace(1e-3, 10, 400)
    flow = 1.0 / (1 + t_flow)
    t = np.linspace(0.0, 10, 1001)[1:]
    sgd = (1.0 / (1 + t)) * np.exp(np.maximum(t - 2, 0.0))
    t_leave, frac, end = C.departure(t, sgd, t_flow, flow, 0.5)
    expected = t[np.argmax(t - 2 > np.log(1.5))]
    assert t_leave == expected and abs(expected - (2 + np.log(1.5))) <= 0.01
    assert abs(frac - (1 / (1 + t_leave)) / flow[0]) <= 1e-3 and abs(end - 8.0) <= 1e-3
    inside = C.departure(t, (1.0 / (1 + t)) * 1.2, t_flow, flow, 0.5)  # within the band all along
    assert np.isnan(inside[0]) and np.isnan(inside[1]) and abs(inside[2] - np.log(1.2)) <= 1e-3
    assert all(np.isnan(C.departure(t, np.full_like(t, np.nan), t_flow, flow, 0.5)))
    with pytest.raises(ValueError, match="rtol"):
        C.departure(t, sgd, t_flow, flow, 0.0)


@pytest.mark.parametrize("shift, passes", [(1.0, True), (1.3, False)])
def test_escape_rate_check_criterion(shift, passes):
    summary = {"activation": np.array(["quadratic"] * 4), "a": np.full(4, 2.0), "p": np.full(4, 2),
               "k": np.full(4, 2), "rate_ratio": shift * np.array([0.99, 1.0, 1.01, 1.0]),
               "rate_allowance": np.full(4, 0.02)}
    assert C.claim_escape_rate(summary, level=0.95).passed is passes
