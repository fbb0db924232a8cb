"""Population gradient flow and plain population gradient descent.

The flow  dw_i/dt = 4 lam_i (s* - 3 s) w_i + 8 lam_i u w*_i  is diagonal in w
once the two scalars sigma = s* - 3 s and u are given, and its stiffness is
of two kinds: the diagonal rates 4 lam_i sigma (up to 8 lam_1 in Phase III,
down to lam_d ~ d^-a), and the rank-two coupling through (s, u) that pins the
learned modes to w* in Phase III.  The integrator treats both exactly or
implicitly, so steps can grow geometrically once a mode is learned:

* base step (exponential implicit Euler): over [t, t + h] hold sigma and u at
  their unknown end values (s1, u1).  Each mode is then solved exactly,
      w_i(t+h) = e^{z_i} w_i + 8 h lam_i w*_i phi1(z_i) u1,  z_i = 4 lam_i sigma h,
  and the two scalars solve the 2x2 fixed point s(w(t+h)) = s1,
  u(w(t+h)) = u1 by Newton's method.  Every Newton iteration is one fused
  O(d) pass; the method is L-stable in the coupling and exact in the modes.
* step (extrapolation): Aitken-Neville on 1, 2 and 3 base steps gives an
  order-3 solution and, from the order-2 one, a local error estimate.
* controller: standard I-controller on that estimate with explicit rtol and
  atol; steps are clipped to hit the output grid exactly (no interpolation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .model import check_memory

STAT_NAMES = ("s", "u", "s2", "u2", "mse", "loss")

_MAX_NEWTON = 40
_NEWTON_RTOL = 1e-12


@dataclass(frozen=True)
class StepController:
    """Step-size control for the extrapolated exponential step."""

    rtol: float = 1e-8
    atol: float = 1e-12
    safety: float = 0.9
    grow_max: float = 4.0
    shrink_min: float = 0.2
    h_init: float = 1e-4
    h_min: float = 1e-14

    def __post_init__(self):
        if not (0 < self.rtol < 1) or self.atol < 0:
            raise ValueError(f"need 0 < rtol < 1 and atol >= 0, got rtol={self.rtol}, atol={self.atol}")

    def next_step(self, h: float, err: float) -> float:
        """Proposed next step from an order-3 local error estimate (err = 1 is the tolerance)."""
        if err == 0.0:
            return h * self.grow_max
        factor = self.safety * err ** (-1.0 / 3.0)
        return h * min(self.grow_max, max(self.shrink_min, factor))


@dataclass
class Trajectory:
    """Summary statistics on the output grid, plus the final state and solver counts."""

    t: np.ndarray
    stats: dict[str, np.ndarray]
    w_final: np.ndarray
    n_steps: int = 0
    n_rejected: int = 0
    info: dict = field(default_factory=dict)


def log_time_grid(t_min: float, t_max: float, points_per_decade: int) -> np.ndarray:
    """Log-spaced times from t_min to t_max inclusive, about points_per_decade per decade."""
    if not (0 < t_min < t_max) or not np.isfinite(t_max):
        raise ValueError(f"need 0 < t_min < t_max < inf, got t_min={t_min}, t_max={t_max}")
    if points_per_decade < 1:
        raise ValueError(f"points_per_decade must be >= 1, got {points_per_decade}")
    n = max(2, int(math.ceil(points_per_decade * math.log10(t_max / t_min))) + 1)
    return np.geomspace(t_min, t_max, n)


# --------------------------------------------------------------------------- kernels


@njit(cache=True, inline="always")
def _phi(z):
    """(e^z, phi1(z), psi(z)) with phi1 = (e^z - 1)/z and psi = phi1' = (z e^z - e^z + 1)/z^2."""
    if abs(z) < 0.05:
        term = 1.0
        phi1 = 0.0
        psi = 0.0
        for k in range(10):
            phi1 += term / (k + 1)
            psi += term / (k + 2)
            term *= z / (k + 1)
        return math.exp(z), phi1, psi
    em1 = math.expm1(z)
    ez = em1 + 1.0
    return ez, em1 / z, (z * ez - em1) / (z * z)


@njit(cache=True)
def _summary(lam, wstar, w, sstar):
    s = 0.0
    u = 0.0
    s2 = 0.0
    u2 = 0.0
    dm = 0.0
    dp = 0.0
    for i in range(lam.shape[0]):
        lw = lam[i] * w[i]
        s += lw * w[i]
        u += lw * wstar[i]
        s2 += lam[i] * lw * w[i]
        u2 += lam[i] * lw * wstar[i]
        dm += (w[i] - wstar[i]) ** 2
        dp += (w[i] + wstar[i]) ** 2
    d = lam.shape[0]
    loss = 3 * s * s + 3 * sstar * sstar - 4 * u * u - 2 * sstar * s
    return s, u, s2, u2, min(dm, dp) / d, loss


@njit(cache=True)
def _base_step(lam, wstar, w, h, s_guess, u_guess, sstar, w_out):
    """One exponential implicit Euler step; returns (ok, s1, u1) and fills w_out."""
    d = lam.shape[0]
    s1 = s_guess
    u1 = u_guess
    converged = False
    for _ in range(_MAX_NEWTON):
        sigma = sstar - 3.0 * s1
        pa = 0.0
        pb = 0.0
        dpa = 0.0
        dpb = 0.0
        saa = 0.0
        sab = 0.0
        sbb = 0.0
        daa = 0.0
        dab = 0.0
        dbb = 0.0
        for i in range(d):
            li = lam[i]
            ez, p1, ps = _phi(4.0 * li * sigma * h)
            g = -12.0 * li * h  # dz_i / ds1
            A = ez * w[i]
            c = 8.0 * h * li * wstar[i]
            B = c * p1
            dA = A * g
            dB = c * ps * g
            lws = li * wstar[i]
            pa += lws * A
            pb += lws * B
            dpa += lws * dA
            dpb += lws * dB
            saa += li * A * A
            sab += li * A * B
            sbb += li * B * B
            daa += li * A * dA
            dab += li * (dA * B + A * dB)
            dbb += li * B * dB
        f1 = saa + 2.0 * u1 * sab + u1 * u1 * sbb - s1
        f2 = pa + u1 * pb - u1
        j11 = 2.0 * daa + 2.0 * u1 * dab + 2.0 * u1 * u1 * dbb - 1.0
        j12 = 2.0 * sab + 2.0 * u1 * sbb
        j21 = dpa + u1 * dpb
        j22 = pb - 1.0
        det = j11 * j22 - j12 * j21
        if not (math.isfinite(det) and math.isfinite(f1) and math.isfinite(f2)) or det == 0.0:
            return False, s1, u1
        ds = -(f1 * j22 - j12 * f2) / det
        du = -(j11 * f2 - j21 * f1) / det
        s_new = s1 + ds
        if s_new < 0.0:  # s = w^T Q w >= 0: damp instead of leaving the domain
            s_new = 0.5 * s1
        u1 += du
        small_s = abs(s_new - s1) <= _NEWTON_RTOL * abs(s1)
        small_u = abs(du) <= _NEWTON_RTOL * (abs(u1) + 1e-8 * math.sqrt(s1 * sstar))
        s1 = s_new
        if small_s and small_u:
            converged = True
            break
    if not converged:
        return False, s1, u1
    sigma = sstar - 3.0 * s1
    for i in range(d):
        ez, p1, _ = _phi(4.0 * lam[i] * sigma * h)
        w_out[i] = ez * w[i] + 8.0 * h * lam[i] * wstar[i] * p1 * u1
    return True, s1, u1


@njit(cache=True)
def _extrapolated_step(lam, wstar, w, h, s0, u0, sstar, rtol, atol, w_out, t11, t21, t31, tmp):
    """Order-3 extrapolated step; returns (ok, err) with err = 1 at the tolerance."""
    ok, s, u = _base_step(lam, wstar, w, h, s0, u0, sstar, t11)
    if not ok:
        return False, np.inf
    ok, s, u = _base_step(lam, wstar, w, h / 2, s0, u0, sstar, tmp)
    if not ok:
        return False, np.inf
    ok, s, u = _base_step(lam, wstar, tmp, h / 2, s, u, sstar, t21)
    if not ok:
        return False, np.inf
    ok, s, u = _base_step(lam, wstar, w, h / 3, s0, u0, sstar, t31)
    if not ok:
        return False, np.inf
    ok, s, u = _base_step(lam, wstar, t31, h / 3, s, u, sstar, tmp)
    if not ok:
        return False, np.inf
    ok, s, u = _base_step(lam, wstar, tmp, h / 3, s, u, sstar, t31)
    if not ok:
        return False, np.inf
    err_w = 0.0
    w_rms = math.sqrt(np.mean(w * w))
    s_hi = 0.0
    u_hi = 0.0
    s_lo = 0.0
    u_lo = 0.0
    for i in range(lam.shape[0]):
        t22 = 2.0 * t21[i] - t11[i]
        t32 = 3.0 * t31[i] - 2.0 * t21[i]
        t33 = t32 + 0.5 * (t32 - t22)
        scale = atol + rtol * max(abs(w[i]), abs(t33), w_rms)
        e = abs(t33 - t32) / scale
        if not e <= err_w:  # also catches NaN
            err_w = e
        w_out[i] = t33
        li = lam[i]
        s_hi += li * t33 * t33
        u_hi += li * t33 * wstar[i]
        s_lo += li * t32 * t32
        u_lo += li * t32 * wstar[i]
    err_s = abs(s_hi - s_lo) / (atol + rtol * abs(s_hi))
    err_u = abs(u_hi - u_lo) / (atol + rtol * abs(u_hi))
    err = max(err_w, err_s, err_u)
    if not math.isfinite(err):
        return False, np.inf
    return True, err


@njit(cache=True)
def _gd_advance(lam, wstar, w, eta, n_steps, sstar):
    """n_steps of w <- w - eta grad L(w), in place; returns False on a non-finite value."""
    d = lam.shape[0]
    s = 0.0
    u = 0.0
    for i in range(d):
        s += lam[i] * w[i] * w[i]
        u += lam[i] * w[i] * wstar[i]
    for _ in range(n_steps):
        alpha = 4.0 * (sstar - 3.0 * s)
        beta = 8.0 * u
        s = 0.0
        u = 0.0
        for i in range(d):
            wi = w[i] + eta * lam[i] * (alpha * w[i] + beta * wstar[i])
            w[i] = wi
            s += lam[i] * wi * wi
            u += lam[i] * wi * wstar[i]
        if not (math.isfinite(s) and math.isfinite(u)):
            return False
    return True


# --------------------------------------------------------------------------- drivers


ProgressFn = Callable[[float, int], None]


def integrate_flow(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t_eval: np.ndarray,
    controller: StepController | None = None,
    progress: ProgressFn | None = None,
) -> Trajectory:
    """Integrate the population gradient flow from w0 at t = 0 and record at t_eval.

    t_eval must be positive and strictly increasing; every time is hit exactly.
    progress(t, n_steps), when given, is called after each recorded time.
    """
    lam, wstar, w = _check_problem(lam, wstar, w0)
    t_eval = _check_times(t_eval)
    ctl = controller or StepController()
    sstar = float(np.sum(lam * wstar * wstar))
    w_next, t11, t21, t31, tmp = (np.empty_like(w) for _ in range(5))
    stats = np.empty((len(t_eval), len(STAT_NAMES)))
    t, h = 0.0, ctl.h_init
    s, u = float(np.sum(lam * w * w)), float(np.sum(lam * w * wstar))
    n_steps = n_rejected = 0
    for k, t_out in enumerate(t_eval):
        while t < t_out:
            clipped = t + h >= t_out
            h_try = t_out - t if clipped else h
            ok, err = _extrapolated_step(
                lam, wstar, w, h_try, s, u, sstar, ctl.rtol, ctl.atol, w_next, t11, t21, t31, tmp
            )
            if ok and err <= 1.0:
                w, w_next = w_next, w
                t = t_out if clipped else t + h_try
                s, u = float(np.sum(lam * w * w)), float(np.sum(lam * w * wstar))
                h_new = ctl.next_step(h_try, err)
                h = max(h, h_new) if clipped else h_new
                n_steps += 1
            else:
                h = h_try * (ctl.shrink_min if not ok else max(ctl.shrink_min, ctl.next_step(1.0, err)))
                n_rejected += 1
                if h < ctl.h_min * max(1.0, t):
                    raise FloatingPointError(f"step size underflow at t = {t:.6g} (h = {h:.3g})")
        stats[k] = _summary(lam, wstar, w, sstar)
        if progress is not None:
            progress(t, n_steps)
    return Trajectory(
        t=t_eval.copy(),
        stats={name: stats[:, j].copy() for j, name in enumerate(STAT_NAMES)},
        w_final=w.copy(),
        n_steps=n_steps,
        n_rejected=n_rejected,
        info={"method": "flow", "rtol": ctl.rtol, "atol": ctl.atol},
    )


def overlap_crossing(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    level: float,
    t_max: float,
    controller: StepController | None = None,
    points_per_decade: int = 50,
    t_min: float = 1e-3,
) -> tuple[float, np.ndarray]:
    """First time T with |u(T)| = level, and the state w(T), to the integrator tolerance.

    Brackets the crossing on a log grid, then bisects by integrating from the
    state at the bracket's left end.
    """
    t_eval = log_time_grid(t_min, t_max, points_per_decade)
    traj = integrate_flow(lam, wstar, w0, t_eval, controller)
    hit = np.flatnonzero(np.abs(traj.stats["u"]) >= level)
    if hit.size == 0:
        raise ValueError(f"|u| never reaches {level} before t = {t_max:g}")
    k = int(hit[0])
    if k == 0:
        raise ValueError(f"|u| already exceeds {level} at the first output time {t_min:g}")
    t_left = t_eval[k - 1]
    w_left = integrate_flow(lam, wstar, w0, np.array([t_left]), controller).w_final
    lo, hi = 0.0, t_eval[k] - t_left
    w_hit = w_left
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        w_mid = integrate_flow(lam, wstar, w_left, np.array([mid]), controller).w_final
        if abs(float(np.sum(lam * w_mid * wstar))) >= level:
            hi, w_hit = mid, w_mid
        else:
            lo = mid
        if hi - lo <= 1e-12 * (t_left + hi):
            break
    if w_hit is w_left:
        w_hit = integrate_flow(lam, wstar, w_left, np.array([hi]), controller).w_final
    return t_left + hi, w_hit


def frozen_statistics(lam: np.ndarray, wstar: np.ndarray, w_start: np.ndarray, tau: np.ndarray) -> dict:
    """The Phase III flow with frozen statistics, dw_i/dt = 8 lam_i (w~*_i - w_i), in closed form.

    With s = u = s* = 1 the flow is linear and decoupled: every error
    e_i = w_i - w~*_i decays as e^{-8 lam_i tau}, where w~* = sign(u) w* is the
    minimum the run converges to. Returns mse and loss on the tau grid.
    """
    lam, wstar, w = _check_problem(lam, wstar, w_start)
    target_signed = np.sign(np.sum(lam * w * wstar)) * wstar
    err0 = w - target_signed
    tau = np.asarray(tau, dtype=np.float64)
    mse = np.empty(tau.shape)
    loss = np.empty(tau.shape)
    for k, tk in enumerate(tau):
        w_k = target_signed + err0 * np.exp(-8.0 * lam * tk)
        _, _, _, _, mse[k], loss[k] = _summary(lam, wstar, w_k, float(np.sum(lam * wstar * wstar)))
    return {"mse": mse, "loss": loss}


def gd_record_steps(t_eval: np.ndarray, eta: float) -> np.ndarray:
    """Step counts at which GD with step eta records: the first step at or after each time."""
    steps = np.unique(np.maximum(1, np.ceil(np.asarray(t_eval) / eta - 1e-9).astype(np.int64)))
    return steps


def integrate_gd(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t_eval: np.ndarray,
    eta: float,
    progress: ProgressFn | None = None,
) -> Trajectory:
    """Population GD w <- w - eta grad L(w), recorded at t = steps * eta near t_eval."""
    lam, wstar, w = _check_problem(lam, wstar, w0)
    t_eval = _check_times(t_eval)
    if not (eta > 0 and np.isfinite(eta)):
        raise ValueError(f"eta must be positive and finite, got {eta}")
    sstar = float(np.sum(lam * wstar * wstar))
    steps = gd_record_steps(t_eval, eta)
    stats = np.empty((len(steps), len(STAT_NAMES)))
    done = 0
    for k, n in enumerate(steps):
        if not _gd_advance(lam, wstar, w, eta, int(n - done), sstar):
            raise FloatingPointError(f"population GD diverged before step {n} (eta = {eta})")
        done = int(n)
        stats[k] = _summary(lam, wstar, w, sstar)
        if progress is not None:
            progress(done * eta, done)
    return Trajectory(
        t=steps * eta,
        stats={name: stats[:, j].copy() for j, name in enumerate(STAT_NAMES)},
        w_final=w.copy(),
        n_steps=int(steps[-1]),
        info={"method": "gd", "eta": eta},
    )


def _check_problem(lam, wstar, w0):
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    wstar = np.ascontiguousarray(wstar, dtype=np.float64)
    w = np.array(w0, dtype=np.float64, copy=True)
    if not (lam.ndim == wstar.ndim == w.ndim == 1 and lam.shape == wstar.shape == w.shape):
        raise ValueError("lam, wstar and w0 must be 1-D arrays of one length")
    check_memory(lam.shape[0])
    for name, arr in (("lam", lam), ("wstar", wstar), ("w0", w)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} has non-finite entries")
    if np.any(lam < 0):
        raise ValueError("the spectrum lam must be non-negative")
    return lam, wstar, w


def _check_times(t_eval):
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim != 1 or len(t_eval) == 0 or t_eval[0] <= 0 or np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be a non-empty, positive, strictly increasing 1-D array")
    if not np.all(np.isfinite(t_eval)):
        raise ValueError("t_eval must be finite")
    return t_eval
