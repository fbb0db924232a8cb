"""Phase III of a committee: the tail record of the flow integrator (t0 and T_last located on the fly,
a log grid in tau after each merged into the record), the linearised tail law (committee.theory) and
the tail fits of the study, each against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest

from prdynamics import theory
from prdynamics.committee import (
    integrate_committee_flow,
    learned_spectrum,
    loss_from_overlaps,
    overlaps,
    problem,
)
from prdynamics.committee.theory import phase3_loss, saddle_level, tail_constant
from prdynamics.flow import StepController, log_time_grid

LEVEL, LEARN, RTOL = 0.01, 0.9, 1e-9


def _tail_run(p, k, d=40, a=2.0, t_max=600.0):
    lam, Ws, W0 = problem(a, d, p, k, 0, 0, False)
    t = log_time_grid(1e-3, t_max, 20)
    tr = integrate_committee_flow(lam, Ws, W0, "quadratic", t, StepController(rtol=RTOL, atol=1e-13),
                                  tail_level=LEVEL, learn_level=LEARN, tail_taus=t)
    return lam, Ws, W0, t, tr


def _anchored(t, origin):
    return np.concatenate([[origin], origin + t[origin + t <= t[-1]]])


@pytest.mark.parametrize("p, k", [(1, 1), (2, 2), (4, 2)])
def test_tail_record_is_the_flow_on_those_times(p, k):
    """The record is the sorted union of t_eval, and t0, T_last and each plus t_eval (<= t_eval[-1]).  The
    same tolerance on that explicit grid takes the same steps (equal to rounding: the tail search only
    retakes the crossing step); against rtol 1e-12 the record is within the integrator's tolerance:
    measured gaps at rtol 1e-9 (d = 40, a = 2) are <= 3.8e-10 relative in the loss and 1.4e-9, 7e-9
    absolute in M, R (O(1) overlaps); bounds 3e-9 and 3e-8."""
    lam, Ws, W0, t, tr = _tail_run(p, k)
    assert np.isfinite(tr.t0) and tr.info["t0"] == tr.t0
    assert np.isfinite(tr.t_last) and tr.info["t_last"] == tr.t_last
    want = np.union1d(t, np.concatenate([_anchored(t, tr.t0), _anchored(t, tr.t_last)]))
    np.testing.assert_array_equal(tr.t, want)
    same = integrate_committee_flow(lam, Ws, W0, "quadratic", tr.t, StepController(rtol=RTOL, atol=1e-13))
    np.testing.assert_allclose(same.loss, tr.loss, rtol=1e-12, atol=0)
    np.testing.assert_allclose(same.M, tr.M, rtol=0, atol=1e-12)
    ref = integrate_committee_flow(lam, Ws, W0, "quadratic", tr.t, StepController(rtol=1e-12, atol=1e-16))
    np.testing.assert_allclose(tr.loss, ref.loss, rtol=3e-9, atol=0)
    np.testing.assert_allclose(tr.M, ref.M, rtol=0, atol=3e-8)
    np.testing.assert_allclose(tr.R, ref.R, rtol=0, atol=3e-8)
    for origin in (tr.t0, tr.t_last):
        tau = tr.t - origin
        assert np.sum((tau >= 1.0) & (tau <= 10.0)) >= 20  # 20 per decade of tau (t_max - origin >= 29 here)


@pytest.mark.parametrize("p, k", [(1, 1), (2, 2), (4, 2)])
def test_t0_is_the_first_crossing_of_a_fine_grid(p, k):
    """Brute force: the same flow on a grid of 4001 points over t0 (1 +- 0.01), the crossing of
    log L by linear interpolation between the bracketing samples (spacing 1.5e-3 t0: its error is
    second order, ~1e-12 in the loss).  The gap in t0, times |d log L / dt| (the loss it stands for),
    is within rtol (measured 0.9-1.9e-12 at rtol 1e-9), and the loss is above the level before."""
    lam, Ws, W0, t, tr = _tail_run(p, k)
    L0 = loss_from_overlaps(*overlaps(W0, lam, Ws), "quadratic")
    fine = np.union1d(t, np.linspace(0.99 * tr.t0, 1.01 * tr.t0, 4001))
    f = integrate_committee_flow(lam, Ws, W0, "quadratic", fine, StepController(rtol=RTOL, atol=1e-13))
    j = int(np.flatnonzero(f.loss <= LEVEL * L0)[0])
    assert f.t[j - 1] >= 0.99 * tr.t0  # the first crossing lies inside the fine window
    y, tt = np.log(f.loss[j - 1:j + 1]), f.t[j - 1:j + 1]
    slope = (y[1] - y[0]) / (tt[1] - tt[0])
    t_bf = tt[0] + (np.log(LEVEL * L0) - y[0]) / slope
    assert abs(tr.t0 - t_bf) * abs(slope) <= RTOL
    i0 = int(np.flatnonzero(tr.t == tr.t0)[0])
    assert np.all(tr.loss[:i0] > LEVEL * L0)
    assert abs(tr.loss[i0] / (LEVEL * L0) - 1) <= RTOL


@pytest.mark.parametrize("p, k", [(1, 1), (2, 2), (4, 2)])
def test_t_last_is_the_first_crossing_of_a_fine_grid(p, k):
    """As for t0: the smallest l_r of learned_spectrum, l_min, on a fine grid over T_last (1 +- 0.01),
    its crossing of learn_level by linear interpolation; the gap in T_last times |d l_min / dt| within
    rtol, and l_min below the level before."""
    lam, Ws, W0, t, tr = _tail_run(p, k)
    fine = np.union1d(t, np.linspace(0.99 * tr.t_last, 1.01 * tr.t_last, 4001))
    f = integrate_committee_flow(lam, Ws, W0, "quadratic", fine, StepController(rtol=RTOL, atol=1e-13))
    P = overlaps(W0, lam, Ws)[2]
    c = learned_spectrum(f.R, P, p, k).min(axis=1)
    j = int(np.flatnonzero(c >= LEARN)[0])
    assert f.t[j - 1] >= 0.99 * tr.t_last
    slope = (c[j] - c[j - 1]) / (f.t[j] - f.t[j - 1])
    t_bf = f.t[j - 1] + (LEARN - c[j - 1]) / slope
    assert abs(tr.t_last - t_bf) * abs(slope) <= RTOL
    c_rec = learned_spectrum(tr.R, P, p, k).min(axis=1)
    i0 = int(np.flatnonzero(tr.t == tr.t_last)[0])
    assert np.all(c_rec[:i0] < LEARN) and abs(c_rec[i0] - LEARN) <= RTOL


def test_no_crossing_gives_nan_and_the_plain_record():
    lam, Ws, W0 = problem(2.0, 40, 2, 2, 0, 0, False)
    t = log_time_grid(1e-3, 5.0, 20)  # still in Phase I
    ctl = StepController(rtol=RTOL, atol=1e-13)
    tr = integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, tail_level=LEVEL, learn_level=LEARN,
                                  tail_taus=t)
    plain = integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl)
    assert np.isnan(tr.t0) and np.isnan(tr.t_last)
    np.testing.assert_array_equal(tr.t, t)
    np.testing.assert_array_equal(tr.loss, plain.loss)


def test_tail_options_go_together():
    lam, Ws, W0 = problem(2.0, 10, 1, 1, 0, 0, False)
    t = log_time_grid(1e-3, 1.0, 5)
    ctl = StepController(rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="tail_taus"):
        integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, tail_level=LEVEL)
    with pytest.raises(ValueError, match="tail_taus"):
        integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, learn_level=LEARN)
    with pytest.raises(ValueError, match="tail_taus"):
        integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, tail_taus=t)
    with pytest.raises(ValueError, match="tail_level"):
        integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, tail_level=1.5, tail_taus=t)
    with pytest.raises(ValueError, match="learn_level"):
        integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, learn_level=0.0, tail_taus=t)


def test_fewer_students_than_teachers_never_capture_the_span():
    """p < k: R^T R has rank p < k, so the smallest l_r is 0 and T_last is NaN."""
    lam, Ws, W0 = problem(2.0, 30, 1, 2, 0, 0, False)
    t = log_time_grid(1e-3, 300.0, 10)
    tr = integrate_committee_flow(lam, Ws, W0, "quadratic", t, StepController(rtol=1e-8, atol=1e-12),
                                  learn_level=LEARN, tail_taus=t)
    assert np.isnan(tr.t_last) and np.isnan(tr.t0)
    np.testing.assert_array_equal(tr.t, t)
    assert np.max(learned_spectrum(tr.R, overlaps(W0, lam, Ws)[2], 1, 2).min(axis=1)) <= 1e-10


# --------------------------------------------------------------------------- the linearised tail law


def test_phase3_loss_of_one_unit_is_the_single_neuron_law():
    lam, Ws, _ = problem(2.0, 50, 1, 1, 0, 0, False)
    tau = np.array([0.5, 3.0, 40.0])
    np.testing.assert_allclose(phase3_loss(tau, lam, Ws, 1), theory.phase3_loss(tau, lam, Ws[0]), rtol=1e-13)
    C1 = theory.loss_law_constant(2.0, 50) * (Ws[0] @ Ws[0]) / 50
    assert abs(tail_constant(2.0, lam, Ws, 1) / C1 - 1) <= 1e-13


@pytest.mark.parametrize("p, k", [(1, 1), (2, 2), (4, 2)])
def test_phase3_loss_is_the_flow_from_a_phase3_state(p, k):
    """The flow from W = sqrt(p/k) U W* with the modes i >= i0 unlearned (W[:, i] = 0) against
    phase3_loss with E0 = W* on those modes.  The dropped terms are products of two tail sums, so the
    relative gap is first order in the tail mass q0 = sum_{i >= i0} lam_i |W*[:, i]|^2 / k: measured
    0.33-1.23 q0 (d = 200, a = 2, i0 = 10, 40); bound 2 q0, and it shrinks with q0."""
    d, a = 200, 2.0
    lam, Ws, _ = problem(a, d, p, k, 0, 0, False)
    U = np.linalg.qr(np.random.default_rng(1).standard_normal((p, k)))[0]
    t = log_time_grid(1e-2, 1e4, 10)
    gaps, masses = [], []
    for i0 in (10, 40):
        E0 = Ws.copy()
        E0[:, :i0] = 0.0
        W = np.sqrt(p / k) * U @ (Ws - E0)
        tr = integrate_committee_flow(lam, Ws, W, "quadratic", t, StepController(rtol=1e-10, atol=1e-14))
        gap = np.max(np.abs(tr.loss / phase3_loss(t, lam, Ws, p, E0) - 1))
        q0 = float(np.sum(lam * E0**2)) / k
        assert gap <= 2 * q0
        gaps.append(gap), masses.append(q0)
    assert gaps[1] < gaps[0]


@pytest.mark.parametrize("p", [3, 6])
def test_tail_constant_is_the_limit_of_phase3_loss(p):
    """d = 2e5, three teachers with entries of fixed magnitude (periodic signs, so the mean of
    (v_r . W*[:, i])^2 over ~x_d modes is s_r to O(1 / x_d)): L(tau) tau^{1 - 1/a} / C at
    x_d = 100, 300, 1000 within the missing tail a (x/d)^{a-1} / ((a-1) Gamma(1 - 1/a)) at the largest
    effective x = x_d sqrt(pi_max / (pk)) plus 1 / x_eff (smallest), the derived corrections."""
    from scipy.special import gamma

    from prdynamics.model import harmonic, spectrum

    d, a, k = 200000, 2.0, 3
    lam = spectrum(d, a)
    i = np.arange(d)
    Ws = np.vstack([1.3 * np.ones(d), 0.7 * np.where(i % 2, 1.0, -1.0), np.where(i % 3 == 0, 1.0, -0.5)])
    pi = np.linalg.eigvalsh((Ws * lam) @ Ws.T)
    C = tail_constant(a, lam, Ws, p)
    for x in (100, 300, 1000):
        tau = harmonic(d, a) * x**a / 16
        x_hi, x_lo = x * np.sqrt(pi.max() / (p * k)), x * np.sqrt(pi.min() / (p * k))
        bound = a * (x_hi / d) ** (a - 1) / ((a - 1) * gamma(1 - 1 / a)) + 1 / x_lo
        assert abs(phase3_loss(tau, lam, Ws, p) * tau ** (1 - 1 / a) / C - 1) <= bound


@pytest.mark.parametrize("p, k", [(2, 2), (4, 3)])
def test_phase3_loss_lags_are_each_directions_head_start(p, k):
    """With lags the loss is (4 / k^2) sum_i lam_i c_i^T P^(1/2) expm(-16 lam_i (tau P + P Lag) / (pk))
    P^(1/2) c_i, Lag = V diag(lags) V^T (commuting with P), by scipy's expm; equal lags l shift tau by l."""
    from scipy.linalg import expm, sqrtm

    d = 25
    lam, Ws, _ = problem(1.5, d, p, k, 2, 0, False)
    P = (Ws * lam) @ Ws.T
    V = np.linalg.eigh(P)[1]
    lags = np.linspace(0.0, 7.0, k)
    Lag = V @ np.diag(lags) @ V.T
    half = np.real(sqrtm(P))
    for tau in (0.3, 5.0):
        want = sum(lam[i] * Ws[:, i] @ half @ expm(-16 * lam[i] * (tau * P + P @ Lag) / (p * k)) @ half
                   @ Ws[:, i] for i in range(d)) * 4 / k**2
        assert abs(phase3_loss(tau, lam, Ws, p, lags=lags) / want - 1) <= 1e-12
    assert abs(phase3_loss(2.0, lam, Ws, p, lags=np.full(k, 3.0)) / phase3_loss(5.0, lam, Ws, p) - 1) <= 1e-13
    with pytest.raises(ValueError, match="lags"):
        phase3_loss(1.0, lam, Ws, p, lags=-np.ones(k))


def test_tail_constant_needs_p_at_least_k():
    lam, Ws, _ = problem(2.0, 20, 1, 2, 0, 0, False)
    with pytest.raises(ValueError, match="p >= k"):
        tail_constant(2.0, lam, Ws, 1)


# --------------------------------------------------------------------------- the saddles R = 0


@pytest.mark.parametrize("p, k, r", [(1, 1, 1), (2, 2, 1), (2, 2, 2), (4, 2, 3), (3, 5, 2)])
def test_saddle_level_is_a_stationary_point_of_the_population_flow(p, k, r):
    """W with rows Q-orthogonal to every teacher (R = 0) and M = mu_r times a rank-r projector:
    population.gradient (the numpy formula, not the derivation) vanishes to rounding; a 1% larger
    level does not."""
    from prdynamics.committee import gradient

    d = 30
    lam, Ws, _ = problem(1.5, d, p, k, 0, 0, False)
    rng = np.random.default_rng(3)
    S = np.sqrt(lam)
    T = np.linalg.qr((Ws * S).T)[0]  # orthonormal basis of the teachers in the Q-scaled space
    Z = rng.standard_normal((d, r))
    Z = np.linalg.qr(Z - T @ (T.T @ Z))[0]  # r orthonormal directions orthogonal to them
    iso = np.linalg.qr(rng.standard_normal((p, r)))[0]  # p x r isometry
    trp = float(np.trace(overlaps(Ws, lam, Ws)[2]))
    for scale, zero in ((1.0, True), (1.01, False)):
        mu = scale * saddle_level(trp, p, k, r)
        W = np.sqrt(mu) * iso @ Z.T / S  # M = W Q W^T = mu iso iso^T, R = 0
        M, R, _ = overlaps(W, lam, Ws)
        assert np.max(np.abs(R)) <= 1e-13
        np.testing.assert_allclose(np.linalg.eigvalsh(M)[-r:], mu, rtol=1e-12)
        g = np.max(np.abs(gradient(W, lam, Ws, "quadratic")))
        assert bool(g <= 1e-13) == zero


def test_saddle_level_of_one_unit_is_one_third():
    assert saddle_level(1.0, 1, 1, 1) == 1 / 3
    with pytest.raises(ValueError, match="rank"):
        saddle_level(1.0, 2, 2, 3)
