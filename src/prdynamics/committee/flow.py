"""Population gradient flow of a committee: an exponential integrator in the modes of Q.

The flow dW/dt = -grad_W L = -(A W + B W*) Q (committee.population) reads, column by column in
the eigenbasis of Q,
    dW[:, i]/dt = -lam_i (A W[:, i] + B W*[:, i]),
with the p x p matrix A (symmetric) and the p x k matrix B depending on W only through the
overlaps M, R (P is constant).  For frozen (A, B) every column is a p-dimensional linear ODE with
constant coefficients, solved exactly: with A = V diag(alpha) V^T, y = V^T W[:, i] and
c = V^T B W*[:, i], each component obeys y' = -lam_i (alpha y + c), so over a step h
    y(h) = e^{z} y(0) - lam_i h phi1(z) c,   z = -lam_i h alpha,   phi1(z) = (e^z - 1) / z.
One eigendecomposition per frozen (A, B) (O(p^3)), then O(d p (p + k)) for all modes.  The
stiffness of the spectrum (lam_1 h >> 1 once the top modes are learned) is thereby handled
exactly: a stiff column relaxes to its quasi-static value -A^{-1} B W*[:, i] for any h (for A
positive on it), and steps can grow with the slow modes as in the single-neuron integrator.

* base step (exponential midpoint): freeze (A, B) at W(t + h/2), predicted by the frozen-start
  step of h/2, and take the exact frozen step of h.  Second order: it is the midpoint rule for the
  linear ODE with time-dependent coefficients A(t), B(t) along the solution, whose midpoint values
  the prediction gets to O(h^2).  Exact for constant coefficients, L-stable in the modes.
* step (Richardson, as flow.py): one base step of h and two of h/2; (4 T_{h/2} - T_h) / 3 is kept
  and (T_{h/2} - T_h) / 3 is the local error estimate of the base step (~h^3).
* controller: flow.StepController (I-controller on that estimate with explicit rtol, atol); the
  scaled error is the max over the entries of W (scale max(|W|, rms W)) and of the overlaps M, R
  (scale sqrt(M_jj M_ll), resp. sqrt(M_jj P_mm), their Cauchy-Schwarz bounds).  Steps are clipped
  to hit the output grid exactly.
* tail record (optional): the first time t0 the loss falls to a fraction of L(W0) is located inside
  the step that crosses it, on that step's own extrapolated solution, and t0 + tau for a grid of tau
  joins the output grid, so a Phase III fit in tau = t - t0 has samples however late t0 comes.

With p = k = 1 and the quadratic activation this integrates the paper's flow (flow.integrate_flow)
by another method; both converge to the same solution.
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
    loss_from_overlaps,
    overlaps,
)

ProgressFn = Callable[[float, int], None]


@dataclass
class CommitteeTrajectory:
    """loss, error (T,), M (T, p, p) and R (T, p, k) on the output grid t, the final W and counts;
    t0 the tail origin of a tail record (NaN without one)."""

    t: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    M: np.ndarray
    R: np.ndarray
    W_final: np.ndarray
    n_steps: int = 0
    n_rejected: int = 0
    t0: float = math.nan
    info: dict = field(default_factory=dict)


def phi1(z: np.ndarray) -> np.ndarray:
    """(e^z - 1) / z, 1 at z = 0 (expm1 keeps it accurate near 0; -1/z for z -> -inf)."""
    z = np.asarray(z, dtype=np.float64)
    out = np.ones_like(z)
    nz = z != 0.0
    out[nz] = np.expm1(z[nz]) / z[nz]
    return out


def frozen_step(W, lam, Wstar, A, B, h: float) -> np.ndarray:
    """W(h) of dW/dt = -(A W + B W*) Q with A (symmetric), B constant: exact in every mode.

    The plain numpy form of the step the integrator's kernel takes (_frozen below).
    """
    alpha, V = np.linalg.eigh(0.5 * (A + A.T))
    lh = h * lam
    z = -alpha[:, None] * lh[None, :]
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is a rejected step
        Y = np.exp(z) * (V.T @ W) - (lh * phi1(z)) * (V.T @ (B @ Wstar))
    return V @ Y


# --------------------------------------------------------------------------- kernels


@njit(cache=True)
def _overlaps(W, lam, Ws, M, R):
    """M = W Q W^T, R = W Q W*^T into the given arrays."""
    p, d = W.shape
    k = Ws.shape[0]
    M[:] = 0.0
    R[:] = 0.0
    for i in range(d):
        li = lam[i]
        for j in range(p):
            lw = li * W[j, i]
            for m in range(j + 1):
                M[j, m] += lw * W[m, i]
            for m in range(k):
                R[j, m] += lw * Ws[m, i]
    for j in range(p):
        for m in range(j):
            M[m, j] = M[j, m]


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


@njit(cache=True)
def _frozen(W, lam, Ws, A, B, h, out):
    """The exact frozen-coefficient step of frozen_step into out (out must not be W)."""
    p, d = W.shape
    k = Ws.shape[0]
    alpha, V = np.linalg.eigh(A)
    VB = np.zeros((p, k))
    for j in range(p):
        for m in range(k):
            for q in range(p):
                VB[j, m] += V[q, j] * B[q, m]
    y = np.empty(p)
    for i in range(d):
        lh = h * lam[i]
        for j in range(p):
            yj = 0.0
            for m in range(p):
                yj += V[m, j] * W[m, i]
            cj = 0.0
            for m in range(k):
                cj += VB[j, m] * Ws[m, i]
            z = -alpha[j] * lh
            ph = math.expm1(z) / z if z != 0.0 else 1.0
            y[j] = math.exp(z) * yj - lh * ph * cj
        for m in range(p):
            acc = 0.0
            for j in range(p):
                acc += V[m, j] * y[j]
            out[m, i] = acc


@njit(cache=True)
def _base_step(W, A0, B0, h, lam, Ws, P, act, mid, out, M, R, A, B):
    """Exponential midpoint into out: coefficients at the frozen-start prediction of W(t + h/2)."""
    _frozen(W, lam, Ws, A0, B0, 0.5 * h, mid)
    _overlaps(mid, lam, Ws, M, R)
    _coefficients(M, R, P, act, A, B)
    _frozen(W, lam, Ws, A, B, h, out)


@njit(cache=True)
def _richardson_step(W, A0, B0, h, lam, Ws, P, act, rtol, atol, W_hi, M_hi, R_hi):
    """One base step of h and two of h/2, extrapolated into W_hi (overlaps M_hi, R_hi).

    Returns the scaled error (1 = tolerance; inf when a state is not finite).
    """
    p, d = W.shape
    k = Ws.shape[0]
    full = np.empty((p, d))
    half = np.empty((p, d))
    mid = np.empty((p, d))
    M = np.empty((p, p))
    R = np.empty((p, k))
    A = np.empty((p, p))
    B = np.empty((p, k))
    _base_step(W, A0, B0, h, lam, Ws, P, act, mid, full, M, R, A, B)
    _base_step(W, A0, B0, 0.5 * h, lam, Ws, P, act, mid, half, M, R, A, B)
    _overlaps(half, lam, Ws, M, R)
    for j in range(p):
        for m in range(p):
            if not math.isfinite(M[j, m]):
                return math.inf
    A1 = np.empty((p, p))
    B1 = np.empty((p, k))
    _coefficients(M, R, P, act, A1, B1)
    _base_step(half, A1, B1, 0.5 * h, lam, Ws, P, act, mid, W_hi, M, R, A, B)  # W_hi <- T_{h/2}
    _overlaps(W_hi, lam, Ws, M, R)  # overlaps of T_{h/2}
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
    for j in range(p):
        for m in range(p):
            scale = math.sqrt(abs(M_hi[j, j] * M_hi[m, m]))
            err = max(err, abs(M_hi[j, m] - M[j, m]) / (atol + rtol * scale))
        for m in range(k):
            scale = math.sqrt(abs(M_hi[j, j] * P[m, m]))
            err = max(err, abs(R_hi[j, m] - R[j, m]) / (atol + rtol * scale))
    if not math.isfinite(err) or not math.isfinite(sumsq):
        return math.inf
    return err


def _loss_after(W, A, B, h, lam, Ws, P, act, activation, ctl, W_out, M_out, R_out) -> float:
    """Loss after one extrapolated step of h from W (coefficients A, B at W): the integrator's own
    interpolant inside an accepted step, accurate to its local error (smaller for h below the step)."""
    if h == 0.0:
        M, R, _ = overlaps(W, lam, Ws)
        return float(loss_from_overlaps(M, R, P, activation))
    _richardson_step(W, A, B, h, lam, Ws, P, act, ctl.rtol, ctl.atol, W_out, M_out, R_out)
    return float(loss_from_overlaps(M_out, R_out, P, activation))


def _crossing(W, A, B, h, lam, Ws, P, act, activation, ctl, level, t) -> float:
    """The h' in (0, h] where the loss after one extrapolated step of h' from W reaches level (brentq,
    to rounding in t + h'); the step of h crosses it and W lies above."""
    from scipy.optimize import brentq

    W_b, M_b, R_b = np.empty_like(W), np.empty_like(A), np.empty_like(B)

    def excess(hh):
        return _loss_after(W, A, B, hh, lam, Ws, P, act, activation, ctl, W_b, M_b, R_b) - level

    eps = np.finfo(float).eps
    return brentq(excess, 0.0, h, xtol=4 * eps * (t + h), rtol=4 * eps)


def integrate_committee_flow(
    lam: np.ndarray,
    Wstar: np.ndarray,
    W0: np.ndarray,
    activation: str,
    t_eval: np.ndarray,
    controller: StepController,
    progress: ProgressFn | None = None,
    tail_level: float | None = None,
    tail_taus: np.ndarray | None = None,
) -> CommitteeTrajectory:
    """Integrate dW/dt = -grad L from W0 at t = 0 and record loss, error, M, R at t_eval.

    t_eval must be positive and strictly increasing; every time is hit exactly.  loss is the
    excess risk, error the metric of committee.population (ERROR_METRICS[activation]).
    progress(t, n_steps), when given, is called after each recorded time.

    Tail record (tail_level and tail_taus, both or neither): t0 is the first time the loss falls
    to tail_level L(W0).  Each accepted step is checked; in the step that crosses, t0 is the root
    (scipy brentq, to rounding in t) of the loss after one extrapolated step of h' from the
    step's start, h' in (0, h], i.e. on the integrator's own solution inside that step (error of
    one step of the integrator, at most its local tolerance).  The step is then retaken to t0, and
    t0 and t0 + tau for every tau of tail_taus (positive, increasing) up to t_eval[-1] join the
    record: the result's t is the sorted union with t_eval, and t0 is NaN when the loss never
    falls to the level by t_eval[-1] (trajectory.t0, info["t0"]).
    """
    check_activation(activation)
    lam, Wstar, W = check_committee(lam, Wstar, W0)
    t_eval = check_times(t_eval)
    if (tail_level is None) != (tail_taus is None):
        raise ValueError("tail_level and tail_taus go together: give both or neither")
    if tail_level is not None:
        if not 0 < tail_level < 1:
            raise ValueError(f"tail_level must be in (0, 1), got {tail_level}")
        tail_taus = check_times(tail_taus)
    ctl = controller
    p, k = W.shape[0], Wstar.shape[0]
    M, R, P = overlaps(W, lam, Wstar)
    act = ACTIVATIONS.index(activation)
    A, B = np.empty((p, p)), np.empty((p, k))
    _coefficients(M, R, P, act, A, B)
    W_new, M_new, R_new = np.empty_like(W), np.empty_like(M), np.empty_like(R)
    level = None if tail_level is None else tail_level * float(loss_from_overlaps(M, R, P, activation))
    t0 = math.nan
    pending = list(t_eval[::-1])  # output times still to come, last first
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
        err = _richardson_step(W, A, B, h_try, lam, Wstar, P, act, ctl.rtol, ctl.atol, W_new, M_new, R_new)
        if err <= 1.0:
            crossed = level is not None and loss_from_overlaps(M_new, R_new, P, activation) <= level
            if crossed and math.isnan(t0):
                t0 = t + _crossing(W, A, B, h_try, lam, Wstar, P, act, activation, ctl, level, t)
                extra = t0 + tail_taus
                merged = np.union1d(np.asarray(pending), np.concatenate([[t0], extra[extra <= t_eval[-1]]]))
                pending = list(merged[merged > t][::-1])
                continue  # retake the step, now clipped to t0
            W, W_new, M, M_new, R, R_new = W_new, W, M_new, M, R_new, R
            _coefficients(M, R, P, act, A, B)
            t = t_out if clipped else t + h_try
            h_new = ctl.next_step(h_try, err)
            h = max(h, h_new) if clipped else h_new
            n_steps += 1
        else:
            shrink = ctl.shrink_min if err == math.inf else max(ctl.shrink_min, ctl.next_step(1.0, err))
            h = h_try * shrink
            n_rejected += 1
            if h < ctl.h_min * max(1.0, t):
                raise FloatingPointError(f"step size underflow at t = {t:.6g} (h = {h:.3g})")
    return CommitteeTrajectory(
        t=np.array(ts), loss=np.array(loss), error=np.array(error), M=np.array(Ms).reshape(-1, p, p),
        R=np.array(Rs).reshape(-1, p, k), W_final=W.copy(), n_steps=n_steps, n_rejected=n_rejected, t0=t0,
        info={"method": "flow", "activation": activation, "rtol": ctl.rtol, "atol": ctl.atol,
              "error_metric": ERROR_METRICS[activation], "tail_level": tail_level, "t0": t0},
    )
