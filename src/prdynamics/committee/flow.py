"""Population gradient flow of a committee: an exponential integrator in the modes of Q.

The flow dW/dt = -grad_W L = -(A W + B W*) Q (committee.population) reads, column by column in
the eigenbasis of Q,
    dW[:, i]/dt = -lam_i (A W[:, i] + B W*[:, i]),
with the p x p matrix A (symmetric) and the p x k matrix B depending on W only through the
overlaps M, R (P is constant).  Its stiffness is of two kinds, as in the single-neuron flow
(flow.py): the diagonal rates lam_i alpha (alpha an eigenvalue of A), up to ~ lam_1 once the top
modes are learned, and the coupling through the overlaps, which pins the learned columns to their
quasi-static values -A^{-1} B W*[:, i] with an O(1) rate.  Freezing (A, B) at a predicted value
treats the coupling explicitly and limits the step to h ~ 1/lam_1 for the rest of the run (the
integrator this one replaced took 67,524 steps at a = 3, p = k = 8 to t = 1.5e5); here both are
treated exactly or implicitly:

* base step (implicit exponential trapezoid): over [t, t + h] let A, B vary linearly between their
  start values (A0, B0) and unknown end values (A1, B1) = coefficients(x), x = (M1, R1) the end
  overlaps.  Freeze A at A1 and move the rest into the forcing: each column obeys
      y' = -lam_i (A1 y + g(s)),   g(s) = B(s) w*_i + (A(s) - A1) y(s),
  and g is replaced by its linear interpolant from g0 = B0 w*_i + (A0 - A1) y(0) to g1 = B1 w*_i
  (exact at both ends; the error is O(h^2) in g, so O(h^3) per step).  With A1 = V diag(alpha) V^T
  and z = -lam_i h alpha, component by component in the eigenbasis,
      y(h) = e^{z} y(0) - lam_i h [phi1(z) g0 + phi2(z) (g1 - g0)],
  phi1(z) = (e^z - 1)/z, phi2(z) = (e^z - 1 - z)/z^2 (``linear_forcing_step``).  The end overlaps
  solve x = overlaps(y(h; x)), p (p + 1)/2 + p k unknowns, by Newton's method from the start
  overlaps, with a forward-difference Jacobian kept across steps and recomputed only when Newton
  stalls (one kept matrix for steps of h and one for h/2).  For lam_i h -> inf (A1 positive) the
  step gives y(h) = -A1^{-1} B1 w*_i, the quasi-static value at the end: L-stable in the modes and
  in the coupling.  Exact for constant coefficients; second order.
* step (Richardson, as flow.py): one base step of h and two of h/2; (4 T_{h/2} - T_h) / 3 is kept
  and (T_{h/2} - T_h) / 3 is the local error estimate of the base step (~h^3).
* controller: flow.StepController (I-controller on that estimate with explicit rtol, atol); the
  scaled error is the max over the entries of W (scale max(|W|, rms W)) and of the overlaps M, R
  (scale sqrt(M_jj M_ll), resp. sqrt(M_jj P_mm), their Cauchy-Schwarz bounds).  Steps are clipped
  to hit the output grid exactly.  A base step whose Newton iteration fails is a rejected step.
* tail record (optional): the first time t0 the loss falls to a fraction of L(W0), and the time
  T_last the last teacher direction is learned, are located inside the step that crosses, on that
  step's own extrapolated solution, and origin + tau for a grid of tau joins the output grid, so a
  Phase III fit in tau = t - origin has samples however late the origin comes.

In late Phase III the overlaps still drift by O(10%) per decade of t (the learned units rotate
while the tail modes are learned), so a second-order step at rtol needs h / t ~ rtol^(1/3): a few
hundred steps per decade, however long the run.  With p = k = 1 and the quadratic activation this
integrates the paper's flow (flow.integrate_flow) by another method; both converge to the same
solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..flow import StepController, check_times
from .population import (
    ACTIVATIONS,
    ERROR_METRICS,
    check_activation,
    check_committee,
    error_from_overlaps,
    learned_spectrum,
    loss_from_overlaps,
    overlaps,
)

ProgressFn = Callable[[float, int], None]

_PHI_SERIES = 0.1  # |z| below: phi1, phi2 from their Taylor series
_PHI2_COEFFS = tuple(1.0 / math.factorial(n + 2) for n in range(10))
_FD_STEP = 1.5e-8  # relative finite-difference step of the Jacobian (~ sqrt of the unit roundoff)
_MAX_NEWTON = 8
_NEWTON_FRAC = 1e-3  # Newton stops when its update is below this fraction of the local tolerance
_NEWTON_EPS = 1e-13  # ... or below this size relative to the overlap's (rounding: eps times the condition
                     # number of Newton's matrix, ~1e4 late in Phase III)


@dataclass
class CommitteeTrajectory:
    """loss, error (T,), M (T, p, p) and R (T, p, k) on the output grid t, the final W and counts;
    t0 and t_last the origins of a tail record (NaN without one)."""

    t: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    M: np.ndarray
    R: np.ndarray
    W_final: np.ndarray
    n_steps: int = 0
    n_rejected: int = 0
    t0: float = math.nan
    t_last: float = math.nan
    info: dict = field(default_factory=dict)


def phi_functions(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(phi1, phi2)(z) = ((e^z - 1) / z, (e^z - 1 - z) / z^2), 1 and 1/2 at z = 0; Taylor series
    for |z| < 0.1 (no cancellation), -1/z for z -> -inf."""
    z = np.asarray(z, dtype=np.float64)
    ph1, ph2 = np.empty_like(z), np.empty_like(z)
    for idx, zz in np.ndenumerate(z):
        _, ph1[idx], ph2[idx] = _exp_phi12(float(zz))
    return ph1, ph2


def linear_forcing_step(W, lam, Wstar, A0, B0, A1, B1, h: float) -> np.ndarray:
    """The base step's map from given end coefficients (A1, B1): W(h) of, column by column,
        y' = -lam_i (A1 y + g(s)),  g linear in s from g0 = B0 w*_i + (A0 - A1) y(0) to g1 = B1 w*_i,
    solved exactly (y(h) = e^{-lam_i h A1} y(0) - lam_i h [phi1 g0 + phi2 (g1 - g0)] in the
    eigenbasis of A1).  The plain numpy form of the integrator's kernel (_linear_forcing below).
    """
    alpha, V = np.linalg.eigh(0.5 * (A1 + A1.T))
    lh = h * lam
    z = -alpha[:, None] * lh[None, :]
    ph1, ph2 = phi_functions(z)
    g0 = B0 @ Wstar + (A0 - A1) @ W
    g1 = B1 @ Wstar
    c0, c1 = V.T @ g0, V.T @ g1
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is a rejected step
        Y = np.exp(z) * (V.T @ W) - lh * (ph1 * c0 + ph2 * (c1 - c0))
    return V @ Y


# --------------------------------------------------------------------------- kernels


@njit(cache=True, fastmath={"reassoc", "contract"})
def _overlaps(W, lam, Ws, M, R):
    """M = W Q W^T, R = W Q W*^T into the given arrays (sums over the modes, vectorised)."""
    p, d = W.shape
    k = Ws.shape[0]
    for j in range(p):
        for m in range(j + 1):
            acc = 0.0
            for i in range(d):
                acc += lam[i] * W[j, i] * W[m, i]
            M[j, m] = acc
            M[m, j] = acc
        for m in range(k):
            acc = 0.0
            for i in range(d):
                acc += lam[i] * W[j, i] * Ws[m, i]
            R[j, m] = acc


@njit(cache=True, inline="always")
def _pair_derivatives(a, b, c, act, self_pair):
    """(I_a, I_c) of the erf (act 1) or relu (act 2) kernel, committee.population's formulas."""
    if act == 1:
        one_a = 1.0 + a
        root = math.sqrt(one_a * (1.0 + b) - c * c)
        return -(1.0 / math.pi) * c / (one_a * root), (2.0 / math.pi) / root
    if self_pair:
        return 0.0, 0.5
    rho = min(1.0, max(-1.0, c / math.sqrt(a * b)))
    theta = math.acos(rho)
    ia = math.sqrt(b / a) * math.sqrt(1.0 - rho * rho) / (4.0 * math.pi)
    return ia, (math.pi - theta) / (2.0 * math.pi)


@njit(cache=True)
def _coefficients(M, R, P, act, A, B):
    """(A, B) of committee.population.coefficients into the given arrays (act 0 quadratic, 1 erf,
    2 relu)."""
    p, k = R.shape
    if act == 0:
        tqd = 0.0
        for j in range(p):
            tqd += M[j, j] / p
        for m in range(k):
            tqd -= P[m, m] / k
        for j in range(p):
            for m in range(p):
                A[j, m] = (8.0 / (p * p)) * M[j, m]
            A[j, j] += (4.0 / p) * tqd
            for m in range(k):
                B[j, m] = (-8.0 / (p * k)) * R[j, m]
        return
    diag = np.zeros(p)
    for j in range(p):
        for m in range(p):
            ia, ic = _pair_derivatives(M[j, j], M[m, m], M[j, m], act, j == m)
            A[j, m] = ic / (p * p)
            diag[j] += (2.0 / (p * p)) * ia
        for m in range(k):
            ia, ic = _pair_derivatives(M[j, j], P[m, m], R[j, m], act, False)
            B[j, m] = -(2.0 / (p * k)) * ic
            diag[j] -= (2.0 / (p * k)) * ia
    for j in range(p):
        for m in range(j):
            s = A[j, m] + A[m, j]
            A[j, m] = s
            A[m, j] = s
        A[j, j] = 2.0 * (A[j, j] + diag[j])


@njit(cache=True, inline="always")
def _phi_series(z):
    """(e^z, phi1(z), phi2(z)) for |z| < 0.1, branch-free: phi2 from its Taylor series to z^9
    (truncation < 3e-18), phi1 = 1 + z phi2, e^z = 1 + z phi1."""
    p2 = _PHI2_COEFFS[9]
    for n in range(8, -1, -1):
        p2 = p2 * z + _PHI2_COEFFS[n]
    p1 = 1.0 + z * p2
    return 1.0 + z * p1, p1, p2


@njit(cache=True, inline="always")
def _exp_phi12(z):
    """(e^z, phi1(z), phi2(z)) with one transcendental: _phi_series for |z| < 0.1, else expm1."""
    if abs(z) < _PHI_SERIES:
        return _phi_series(z)
    em = math.expm1(z)
    return em + 1.0, em / z, (em - z) / (z * z)


@njit(cache=True)
def _linear_forcing(W, lam, Ws, A0, B0, A1, B1, h, out):
    """linear_forcing_step into out (p x d, not W); lam must be non-increasing.

    Loops run over the modes innermost (vectorised).  With lam sorted, |z| = |alpha_j| lam_i h
    falls below 0.1 on a tail of modes, which take e^z, phi1, phi2 from the series (branch-free,
    vectorised); the head calls expm1."""
    p, d = W.shape
    k = Ws.shape[0]
    alpha, V = np.linalg.eigh(A1)
    Y = np.zeros((p, d))  # V^T W, then the new state in the eigenbasis
    C0 = np.zeros((p, d))  # V^T g0
    C1 = np.zeros((p, d))  # V^T g1
    for j in range(p):
        for m in range(p):
            v = V[m, j]
            vd = 0.0  # (V^T (A0 - A1))[j, m]
            for q in range(p):
                vd += V[q, j] * (A0[q, m] - A1[q, m])
            for i in range(d):
                Y[j, i] += v * W[m, i]
                C0[j, i] += vd * W[m, i]
        for m in range(k):
            b0 = 0.0
            b1 = 0.0
            for q in range(p):
                b0 += V[q, j] * B0[q, m]
                b1 += V[q, j] * B1[q, m]
            for i in range(d):
                C0[j, i] += b0 * Ws[m, i]
                C1[j, i] += b1 * Ws[m, i]
    for j in range(p):
        ah = -alpha[j] * h
        head = 0
        while head < d and abs(ah * lam[head]) >= _PHI_SERIES:
            head += 1
        for i in range(head):
            e, p1, p2 = _exp_phi12(ah * lam[i])
            Y[j, i] = e * Y[j, i] - h * lam[i] * (p1 * C0[j, i] + p2 * (C1[j, i] - C0[j, i]))
        for i in range(head, d):
            e, p1, p2 = _phi_series(ah * lam[i])
            Y[j, i] = e * Y[j, i] - h * lam[i] * (p1 * C0[j, i] + p2 * (C1[j, i] - C0[j, i]))
    for m in range(p):
        for i in range(d):
            out[m, i] = 0.0
        for j in range(p):
            v = V[m, j]
            for i in range(d):
                out[m, i] += v * Y[j, i]


@njit(cache=True)
def _pack(M, R, x):
    """x <- (upper triangle of M row by row, R row by row): the unknowns of the end-value solve."""
    p, k = R.shape
    n = 0
    for j in range(p):
        for m in range(j, p):
            x[n] = M[j, m]
            n += 1
    for j in range(p):
        for m in range(k):
            x[n] = R[j, m]
            n += 1


@njit(cache=True)
def _overlap_scale(M, P, scale):
    """scale <- the Cauchy-Schwarz bound of each overlap in _pack's order, its natural size:
    sqrt(M_jj M_mm) for M[j, m], sqrt(M_jj P_mm) for R[j, m]."""
    p = M.shape[0]
    k = P.shape[0]
    q = 0
    for j in range(p):
        for m in range(j, p):
            scale[q] = math.sqrt(abs(M[j, j] * M[m, m]))
            q += 1
    for j in range(p):
        for m in range(k):
            scale[q] = math.sqrt(abs(M[j, j] * P[m, m]))
            q += 1


@njit(cache=True)
def _unpack(x, M, R):
    p, k = R.shape
    n = 0
    for j in range(p):
        for m in range(j, p):
            M[j, m] = x[n]
            M[m, j] = x[n]
            n += 1
    for j in range(p):
        for m in range(k):
            R[j, m] = x[n]
            n += 1


@njit(cache=True)
def _end_map(W, lam, Ws, P, act, A0, B0, h, x, out, M, R, A1, B1, F):
    """out <- the step of h with end overlaps x; M, R <- its overlaps; F <- (M, R) - x (NaN when x has
    no finite coefficients: a Newton iterate outside the Gram matrices, for erf)."""
    _unpack(x, M, R)
    _coefficients(M, R, P, act, A1, B1)
    if not (np.all(np.isfinite(A1)) and np.all(np.isfinite(B1))):
        F[:] = math.nan
        return
    _linear_forcing(W, lam, Ws, A0, B0, A1, B1, h, out)
    _overlaps(out, lam, Ws, M, R)
    _pack(M, R, F)
    for n in range(x.shape[0]):
        F[n] -= x[n]


@njit(cache=True)
def _jacobian(W, lam, Ws, P, act, A0, B0, h, x, F, scale, out, M, R, A1, B1, J):
    """J <- dF/dx at x by forward differences (F = F(x) given), n passes over the modes."""
    n = x.shape[0]
    xd = x.copy()
    Fd = np.empty(n)
    for q in range(n):
        dq = _FD_STEP * (abs(x[q]) + scale[q]) + 1e-300
        xd[q] = x[q] + dq
        _end_map(W, lam, Ws, P, act, A0, B0, h, xd, out, M, R, A1, B1, Fd)
        xd[q] = x[q]
        for r in range(n):
            J[r, q] = (Fd[r] - F[r]) / dq


@njit(cache=True)
def _newton(W, lam, Ws, P, act, A0, B0, h, x, F, thr, out, M, R, A1, B1, Jinv, jac):
    """Newton's method with the fixed inverse matrix Jinv from x (F = F(x) given): True when every
    update falls below its threshold thr while contracting (rate <= 1/2); x, F, out, M, R then hold
    the end."""
    n = x.shape[0]
    prev = math.inf
    for _ in range(_MAX_NEWTON):
        size = 0.0  # the update in units of the threshold
        for q in range(n):
            dxq = 0.0
            for r in range(n):
                dxq -= Jinv[q, r] * F[r]
            x[q] += dxq
            if not math.isfinite(x[q]):
                return False
            size = max(size, abs(dxq) / thr[q])
        _end_map(W, lam, Ws, P, act, A0, B0, h, x, out, M, R, A1, B1, F)
        jac[3] += 1
        if not np.all(np.isfinite(F)):
            return False
        if size <= 1.0:
            return True
        if size > 0.5 * prev:
            return False
        prev = size
    return False


@njit(cache=True)
def _base_step(W, M0, R0, A0, B0, x_guess, h, lam, Ws, P, act, rtol, atol, out, M, R, A1, B1, J, jac, slot):
    """Implicit exponential trapezoid from W (overlaps M0, R0, coefficients A0, B0) into out
    (module docstring): the end overlaps x solve x = overlaps(linear_forcing_step(x)) by Newton's
    method from x_guess (packed as _pack) with the kept Jacobian (its inverse J[slot]) when
    jac[slot] says it is set, else (or when that fails) a new one at the guess (counted in jac[2];
    jac[3] counts passes over the modes).  Slot 0 serves steps of h, slot 1 those of h/2: Newton's
    matrix depends on the step, and the controller changes it little from one step to the next.
    M, R <- the overlaps of out.  False when Newton does not converge or a value is not finite."""
    p, k = R0.shape
    n = p * (p + 1) // 2 + p * k
    x = x_guess.copy()
    scale = np.empty(n)
    _overlap_scale(M0, P, scale)
    thr = np.maximum(_NEWTON_FRAC * (atol + rtol * scale), _NEWTON_EPS * (np.abs(x) + scale))
    F = np.empty(n)
    _end_map(W, lam, Ws, P, act, A0, B0, h, x, out, M, R, A1, B1, F)
    jac[3] += 1
    for r in range(n):
        if not math.isfinite(F[r]):
            return False
    F_start = F.copy()
    if jac[slot] != 0 and _newton(W, lam, Ws, P, act, A0, B0, h, x, F, thr, out, M, R, A1, B1, J[slot], jac):
        return True
    x[:] = x_guess
    F[:] = F_start
    jac[slot] = 0
    Jd = np.empty((n, n))
    _jacobian(W, lam, Ws, P, act, A0, B0, h, x, F, scale, out, M, R, A1, B1, Jd)
    for r in range(n):
        for q in range(n):
            if not math.isfinite(Jd[r, q]):
                return False
    try:
        J[slot] = np.linalg.inv(Jd)
    except Exception:  # singular: no Newton step from here
        return False
    jac[slot] = 1
    jac[2] += 1
    jac[3] += n
    return _newton(W, lam, Ws, P, act, A0, B0, h, x, F, thr, out, M, R, A1, B1, J[slot], jac)


@njit(cache=True)
def _richardson_step(W, M0, R0, A0, B0, x_guess, h, lam, Ws, P, act, rtol, atol, W_hi, M_hi, R_hi, J, jac):
    """One base step of h and two of h/2, extrapolated into W_hi (overlaps M_hi, R_hi); the modes
    sorted by lam, non-increasing (_linear_forcing).  x_guess: Newton's start for the end overlaps
    of the step of h; the steps of h/2 start from the midpoint of its start and result, then from
    its result.

    Returns the scaled error (1 = tolerance; inf when a base step fails or a state is not finite).
    """
    p, d = W.shape
    k = Ws.shape[0]
    full = np.empty((p, d))
    half = np.empty((p, d))
    M = np.empty((p, p))
    R = np.empty((p, k))
    A = np.empty((p, p))
    B = np.empty((p, k))
    if not _base_step(W, M0, R0, A0, B0, x_guess, h, lam, Ws, P, act, rtol, atol, full, M, R, A, B, J, jac,
                      0):
        return math.inf
    x_end = np.empty(x_guess.shape[0])
    _pack(M, R, x_end)
    x_mid = np.empty(x_guess.shape[0])
    _pack(M0, R0, x_mid)  # the start, then the midpoint
    x_mid = 0.5 * (x_mid + x_end)
    if not _base_step(W, M0, R0, A0, B0, x_mid, 0.5 * h, lam, Ws, P, act, rtol, atol, half, M, R, A, B, J,
                      jac, 1):
        return math.inf
    M1, R1 = M.copy(), R.copy()
    A1 = np.empty((p, p))
    B1 = np.empty((p, k))
    _coefficients(M1, R1, P, act, A1, B1)
    # W_hi <- T_{h/2}, M, R its overlaps
    if not _base_step(half, M1, R1, A1, B1, x_end, 0.5 * h, lam, Ws, P, act, rtol, atol, W_hi, M, R, A, B, J,
                      jac, 1):
        return math.inf
    sumsq = 0.0
    for j in range(p):
        for i in range(d):
            lo = W_hi[j, i]
            full[j, i] = lo + (lo - full[j, i]) * (1.0 / 3.0)  # full <- extrapolated
            sumsq += full[j, i] * full[j, i]
    rms = math.sqrt(sumsq / (p * d))
    err = 0.0
    for j in range(p):
        for i in range(d):
            hi = full[j, i]
            scale = max(max(abs(W[j, i]), abs(hi)), rms)
            err = max(err, abs(hi - W_hi[j, i]) / (atol + rtol * scale))
            W_hi[j, i] = hi
    _overlaps(W_hi, lam, Ws, M_hi, R_hi)
    n = x_guess.shape[0]
    x_hi, x_lo, scale_hi = np.empty(n), np.empty(n), np.empty(n)
    _pack(M_hi, R_hi, x_hi)
    _pack(M, R, x_lo)
    _overlap_scale(M_hi, P, scale_hi)
    for q in range(n):
        err = max(err, abs(x_hi[q] - x_lo[q]) / (atol + rtol * scale_hi[q]))
    if not math.isfinite(err) or not math.isfinite(sumsq):
        return math.inf
    return err


def _jacobian_store(M, R) -> np.ndarray:
    """The two n x n Newton matrices of the end-value solves (steps of h and h/2), n = p (p + 1) / 2 + p k,
    and their state (set flags, count of Jacobians computed)."""
    p, k = R.shape
    n = p * (p + 1) // 2 + p * k
    return np.zeros((2, n, n)), np.zeros(4, np.int64)


def _overlaps_after(W, M, R, A, B, h, lam, Ws, P, act, ctl, work):
    """Overlaps (M, R) after one extrapolated step of h from W (overlaps M, R, coefficients A, B at W):
    the integrator's own interpolant inside an accepted step, accurate to its local error (smaller for
    h below the step).  work: (W_out, M_out, R_out, J, jac) of the step."""
    if h == 0.0:
        return M, R
    W_out, M_out, R_out, J, jac = work
    x = np.empty(J.shape[1])
    _pack(M, R, x)
    _richardson_step(W, M, R, A, B, x, h, lam, Ws, P, act, ctl.rtol, ctl.atol, W_out, M_out, R_out, J, jac)
    return M_out, R_out


def _crossing(W, M, R, A, B, h, lam, Ws, P, act, ctl, excess_of, t) -> float:
    """The h' in (0, h] where excess_of(M', R') changes sign, (M', R') the overlaps after one extrapolated
    step of h' from W (brentq, to rounding in t + h'); the step of h crosses it."""
    from scipy.optimize import brentq

    work = (np.empty_like(W), np.empty_like(M), np.empty_like(R), *_jacobian_store(M, R))

    def excess(hh):
        return excess_of(*_overlaps_after(W, M, R, A, B, hh, lam, Ws, P, act, ctl, work))

    eps = np.finfo(float).eps
    return brentq(excess, 0.0, h, xtol=4 * eps * (t + h), rtol=4 * eps)


def _with_anchor(pending, t, anchor: float, taus: np.ndarray, t_end: float) -> list:
    """The output times still to come (last first) merged with anchor and anchor + taus (<= t_end)."""
    extra = anchor + taus
    merged = np.union1d(np.asarray(pending), np.concatenate([[anchor], extra[extra <= t_end]]))
    return list(merged[merged >= t][::-1])


def integrate_committee_flow(
    lam: np.ndarray,
    Wstar: np.ndarray,
    W0: np.ndarray,
    activation: str,
    t_eval: np.ndarray,
    controller: StepController,
    progress: ProgressFn | None = None,
    tail_level: float | None = None,
    learn_level: float | None = None,
    tail_taus: np.ndarray | None = None,
) -> CommitteeTrajectory:
    """Integrate dW/dt = -grad L from W0 at t = 0 and record loss, error, M, R at t_eval.

    t_eval must be positive and strictly increasing; every time is hit exactly.  loss is the
    excess risk, error the metric of committee.population (ERROR_METRICS[activation]).
    progress(t, n_steps), when given, is called after each recorded time.

    Tail record (tail_taus with tail_level, learn_level or both): two origins, each located on the fly.
    t0 is the first time the loss falls to tail_level L(W0); T_last the first time every teacher
    direction is learned: the smallest l_r of ``learned_spectrum`` (the student's ranked strengths on
    the teacher span over the target's) reaches learn_level (0 if it starts there; never when p < k).
    Each accepted step is checked; in the step that crosses, the origin is the root (scipy brentq, to
    rounding in t) of the loss (of that smallest l_r) after one extrapolated step of h' from the
    step's start, h' in (0, h], i.e. on the integrator's own solution inside that step (error of one
    step of the integrator, at most its local tolerance).  The step is then retaken to the origin, and
    the origin and origin + tau for every tau of tail_taus (positive, increasing) up to t_eval[-1]
    join the record: the result's t is the sorted union with t_eval.  An origin not reached by
    t_eval[-1] is NaN (trajectory.t0, trajectory.t_last, info).
    """
    check_activation(activation)
    lam, Wstar, W = check_committee(lam, Wstar, W0)
    t_eval = check_times(t_eval)
    if (tail_level is None and learn_level is None) != (tail_taus is None):
        raise ValueError("tail_taus goes with tail_level or learn_level: give it with one or both, or none")
    for name, value in (("tail_level", tail_level), ("learn_level", learn_level)):
        if value is not None and not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value}")
    if tail_taus is not None:
        tail_taus = check_times(tail_taus)
    ctl = controller
    p, k = W.shape[0], Wstar.shape[0]
    M, R, P = overlaps(W, lam, Wstar)
    order = np.argsort(-lam, kind="stable")  # the kernels take the modes with lam non-increasing
    lam, W, Xs = lam[order], np.ascontiguousarray(W[:, order]), np.ascontiguousarray(Wstar[:, order])
    act = ACTIVATIONS.index(activation)
    A, B = np.empty((p, p)), np.empty((p, k))
    _coefficients(M, R, P, act, A, B)
    W_new, M_new, R_new = np.empty_like(W), np.empty_like(M), np.empty_like(R)
    J, jac = _jacobian_store(M, R)  # kept across steps (recomputed when Newton stalls)
    x, x_prev, h_prev = np.empty(J.shape[1]), np.empty(J.shape[1]), 0.0  # overlaps now and one step back
    extrapolate = False
    _pack(M, R, x)
    pending = list(t_eval[::-1])  # output times still to come, last first
    # tail origins: name -> g(M, R); the origin is the first time g <= 0 (NaN until then)
    origins = {}
    if tail_level is not None:
        level = tail_level * float(loss_from_overlaps(M, R, P, activation))
        origins["t0"] = lambda M1, R1: loss_from_overlaps(M1, R1, P, activation) - level
    if learn_level is not None:
        origins["t_last"] = lambda M1, R1: learn_level - learned_spectrum(R1, P, p, k).min()
    found = dict.fromkeys(origins, math.nan)
    for name, g in origins.items():
        if g(M, R) <= 0:  # reached at the start
            found[name] = 0.0
            pending = _with_anchor(pending, 0.0, 0.0, tail_taus, t_eval[-1])
    ts, loss, error, Ms, Rs = [], [], [], [], []
    t, h = 0.0, ctl.h_init
    n_steps = n_rejected = 0
    while pending:
        t_out = pending[-1]
        if t >= t_out:
            pending.pop()
            ts.append(t)
            loss.append(loss_from_overlaps(M, R, P, activation))
            error.append(error_from_overlaps(M, R, P, activation))
            Ms.append(M.copy()), Rs.append(R.copy())
            if progress is not None:
                progress(t, n_steps)
            continue
        clipped = t + h >= t_out
        h_try = t_out - t if clipped else h
        # Newton's start: the overlaps extrapolated along the last step (at most grow_max of it), or the
        # start's after a failed solve (a tiny last step, e.g. clipped to an output time, extrapolates wildly)
        ratio = min(h_try / h_prev, ctl.grow_max) if h_prev > 0 and extrapolate else 0.0
        guess = x + ratio * (x - x_prev) if ratio > 0 else x.copy()
        err = _richardson_step(W, M, R, A, B, guess, h_try, lam, Xs, P, act, ctl.rtol, ctl.atol, W_new, M_new,
                               R_new, J, jac)
        if err <= 1.0:
            reached = next((name for name, g in origins.items()
                            if math.isnan(found[name]) and g(M_new, R_new) <= 0), None)
            if reached is not None:
                g = origins[reached]
                found[reached] = t + _crossing(W, M, R, A, B, h_try, lam, Xs, P, act, ctl, g, t)
                pending = _with_anchor(pending, t, found[reached], tail_taus, t_eval[-1])
                continue  # retake the step, now clipped to the origin
            W, W_new, M, M_new, R, R_new = W_new, W, M_new, M, R_new, R
            _coefficients(M, R, P, act, A, B)
            x, x_prev, h_prev, extrapolate = x_prev, x, h_try, True
            _pack(M, R, x)
            t = t_out if clipped else t + h_try
            h_new = ctl.next_step(h_try, err)
            h = max(h, h_new) if clipped else h_new
            n_steps += 1
        else:
            extrapolate = extrapolate and err != math.inf
            shrink = ctl.shrink_min if err == math.inf else max(ctl.shrink_min, ctl.next_step(1.0, err))
            h = h_try * shrink
            n_rejected += 1
            if h < ctl.h_min * max(1.0, t):
                raise FloatingPointError(f"step size underflow at t = {t:.6g} (h = {h:.3g})")
    t0, t_last = found.get("t0", math.nan), found.get("t_last", math.nan)
    return CommitteeTrajectory(
        t=np.array(ts), loss=np.array(loss), error=np.array(error), M=np.array(Ms).reshape(-1, p, p),
        R=np.array(Rs).reshape(-1, p, k), W_final=W[:, np.argsort(order)], n_steps=n_steps,
        n_rejected=n_rejected, t0=t0, t_last=t_last,
        info={"method": "flow", "activation": activation, "rtol": ctl.rtol, "atol": ctl.atol,
              "error_metric": ERROR_METRICS[activation], "tail_level": tail_level, "t0": t0,
              "learn_level": learn_level, "t_last": t_last,
              "n_jacobians": int(jac[2]), "n_mode_passes": int(jac[3])},
    )
