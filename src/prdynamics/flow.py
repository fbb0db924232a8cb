"""Population gradient flow: the exponential integrator, its output grid and trajectory statistics.

The flow  dw_i/dt = 4 lam_i sigma(t) w_i + 8 lam_i u(t) w*_i,  sigma = s* - 3 s,
is diagonal in w once the two scalars sigma and u are given, and its stiffness
is of two kinds: the diagonal rates 4 lam_i sigma (up to 8 lam_1 in Phase III,
down to lam_d ~ d^-a), and the rank-two coupling through (s, u) that pins the
learned modes to w* in Phase III.  The integrator treats both exactly or
implicitly, so steps can grow geometrically once a mode is learned:

* base step: over [t0, t1 = t0 + h] let sigma and u vary linearly between their
  start values (sigma0, u0) and unknown end values (sigma1, u1).  With
  r = t1 - tau, Theta(t1) - Theta(tau) = sigma1 r - Dsig r^2 / (2h), and each
  mode is solved in closed form up to the small factor exp(-2 lam_i Dsig r^2 / h),
  linearised (relative size O(Dsig / (lam_i h)) for stiff modes,
  O(lam_i h Dsig) otherwise):
      w_i(t1) = e^{z_i - b_i} w_i(t0) + c_i [u1 chi_0 - Du chi_1 - b_i (u1 chi_2 - Du chi_3)],
  z_i = 4 lam_i h sigma1, b_i = 2 lam_i h Dsig, c_i = 8 lam_i h w*_i, Du = u1 - u0,
  chi_k(z) = int_0^1 e^{z x} x^k dx.  w(t1) is affine in u1, and (s1, u1) solve
  the 2x2 fixed point s(w(t1)) = s1, u(w(t1)) = u1 by Newton's method (exact
  Jacobian, d chi_k / d s1 via chi_{k+1}); every iteration is one fused O(d)
  pass.  The step is second order uniformly in lam_i h (the frozen-end-value
  step it replaces lost an order where lam_i h ~ 1), nearly symmetric, exact
  for constant (sigma, u), and L-stable in the coupling: for lam_i h -> inf the
  end state depends on (sigma1, u1) only.
* step (Richardson): one step of h and two of h/2; (4 T_{h/2} - T_h) / 3 is
  kept (order 4 where all lam_i h are small, between 2 and 3 where lam_i h ~ 1),
  and (T_{h/2} - T_h) / 3 is the local error estimate of the base step.
* controller: I-controller on that estimate (~h^3) with explicit rtol and
  atol; steps are clipped to hit the output grid exactly (no interpolation).

Modes with |z_i| <= 0.5 (nearly all of them when d is large) take e^z and chi_4
from Taylor polynomials in branch-free, vectorised loops, so a Newton pass
costs a few ns per mode; the rest call libm.  Memory is O(d): four work arrays
allocated once, nothing of size d inside the step loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .model import check_problem

STAT_NAMES = ("s", "u", "s2", "u2", "mse", "loss")

#: (first time, points per decade) of the bracketing grid of ``overlap_crossing``.
CROSSING_SEARCH_GRID = (1e-3, 50)

_MAX_NEWTON = 30
_NEWTON_FRAC = 1e-3  # Newton stops when its update is below this fraction of the local tolerance
_NEWTON_EPS = 1e-14  # ... or below this relative size (rounding)

# Modes with |z|, |z - b| <= _SMALL (resp. _TINY) take e^x from its Taylor polynomial to x^14
# (x^6) and chi_4(z) = sum_j z^j / (j! (j + 5)) to z^13 (z^5): truncation errors < 4e-17.
_SMALL = 0.5
_TINY = 0.01
_EXP_SMALL = tuple(1.0 / math.factorial(k) for k in range(15))
_CHI4_SMALL = tuple(1.0 / (math.factorial(j) * (j + 5)) for j in range(14))
_EXP_TINY = _EXP_SMALL[:7]
_CHI4_TINY = _CHI4_SMALL[:6]


@dataclass(frozen=True)
class StepController:
    """Step-size control for the Richardson-extrapolated exponential step."""

    rtol: float
    atol: float
    safety: float = 0.9
    grow_max: float = 4.0
    shrink_min: float = 0.2
    h_init: float = 1e-4
    h_min: float = 1e-14

    def __post_init__(self):
        if not (0 < self.rtol < 1) or self.atol < 0:
            raise ValueError(f"need 0 < rtol < 1 and atol >= 0, got rtol={self.rtol}, atol={self.atol}")

    def next_step(self, h: float, err: float) -> float:
        """Proposed next step from the base step's local error estimate, ~h^3 (err = 1 is the tolerance)."""
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


@njit(cache=True)
def trajectory_statistics(lam, wstar, w, sstar):
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


@njit(cache=True, inline="always")
def _poly(x, coeffs):
    """sum_j coeffs[j] x^j by Horner's rule."""
    acc = coeffs[len(coeffs) - 1]
    for j in range(len(coeffs) - 2, -1, -1):
        acc = coeffs[j] + x * acc
    return acc


@njit(cache=True, inline="always")
def _chi_poly(z, exp_coeffs, chi4_coeffs):
    """(e^z, chi_0, ..., chi_4) for small |z| without libm: Taylor polynomials for e^z and chi_4,
    then the downward recursion chi_{k-1} = (e^z - z chi_k) / k, which damps errors (by |z| / k)."""
    ez = _poly(z, exp_coeffs)
    c4 = _poly(z, chi4_coeffs)
    c3 = (ez - z * c4) * 0.25
    c2 = (ez - z * c3) * (1.0 / 3.0)
    c1 = (ez - z * c2) * 0.5
    c0 = ez - z * c1
    return c0, c1, c2, c3, c4


@njit(cache=True, inline="always")
def _chi(z):
    """(chi_0, ..., chi_4) with chi_k(z) = int_0^1 e^{z x} x^k dx (chi_0 = phi1, chi_k' = chi_{k+1}).

    |z| < _SMALL: _chi_poly.  Otherwise the upward recursion chi_k = (e^z - k chi_{k-1}) / z from
    chi_0 = expm1(z) / z; it amplifies rounding by at most k! / |z|^k <= 384 (relative errors
    measured below 2e-13 for chi_3, 2e-12 for chi_4, which only enter multiplied by b or in the
    Jacobian).  For z -> -inf it gives chi_k -> k! / (-z)^{k+1}.
    """
    if abs(z) < _SMALL:
        return _chi_poly(z, _EXP_SMALL, _CHI4_SMALL)
    em1 = math.expm1(z)
    ez = em1 + 1.0
    iz = 1.0 / z
    c0 = em1 * iz
    c1 = (ez - c0) * iz
    c2 = (ez - 2.0 * c1) * iz
    c3 = (ez - 3.0 * c2) * iz
    c4 = (ez - 4.0 * c3) * iz
    return c0, c1, c2, c3, c4


@njit(cache=True, inline="always")
def _mode(lh, wsi, wi, b, e, c0, c1, c2, c3, c4, u0, u1):
    """One mode at the end of a base step: (w_i, d w_i / d s1, d w_i / d u1).

    w_i = e w_i(t0) + c [u1 chi_0 - Du chi_1 - b (u1 chi_2 - Du chi_3)] with c = 8 lh w*_i,
    Du = u1 - u0, lh = lam_i h, e = exp(z - b), z = 4 lh sigma1, b = 2 lh (sigma1 - sigma0);
    d z / d s1 = g = -12 lh, d b / d s1 = d log e / d s1 = g / 2.
    """
    c = 8.0 * lh * wsi
    cu0 = c * u0
    ew = e * wi
    wa = ew + cu0 * (c1 - b * c3)
    wb = c * (c0 - c1 - b * (c2 - c3))
    g = -12.0 * lh
    dwa = g * (0.5 * ew + cu0 * (c2 - 0.5 * c3 - b * c4))
    dwb = g * c * (c1 - 1.5 * c2 + 0.5 * c3 - b * (c3 - c4))
    return wa + u1 * wb, dwa + u1 * dwb, wb


@njit(cache=True, inline="always")
def _factors_libm(lh, sig0, sig1, exp_coeffs, chi4_coeffs):
    """(e, chi_0, ..., chi_4) of a mode, any lam_i h (libm; the coefficients are unused)."""
    c0, c1, c2, c3, c4 = _chi(4.0 * lh * sig1)
    return math.exp(2.0 * lh * (sig0 + sig1)), c0, c1, c2, c3, c4


@njit(cache=True, inline="always")
def _factors_poly(lh, sig0, sig1, exp_coeffs, chi4_coeffs):
    """(e, chi_0, ..., chi_4) of a mode whose |z_i|, |z_i - b_i| lie within the polynomials' range."""
    c0, c1, c2, c3, c4 = _chi_poly(4.0 * lh * sig1, exp_coeffs, chi4_coeffs)
    return _poly(2.0 * lh * (sig0 + sig1), exp_coeffs), c0, c1, c2, c3, c4


def _mode_pass(factors, fastmath):
    """A kernel over the modes [start, stop) of one Newton pass that returns the six sums of
    _base_step, with the mode factors of ``factors``.  Slicing makes the index provably
    non-negative: with range(start, stop) numba's wraparound handling blocks vectorisation (5x
    slower)."""

    @njit(cache=True, fastmath=fastmath)
    def kernel(lam, wstar, w, start, stop, h, sig0, sig1, u0, u1, w_out, exp_coeffs, chi4_coeffs):
        lam = lam[start:stop]
        wstar = wstar[start:stop]
        w = w[start:stop]
        w_out = w_out[start:stop]
        s_out = u_out = sd = sb = ud = ub = 0.0
        for i in range(lam.shape[0]):
            li = lam[i]
            lh = li * h
            e, c0, c1, c2, c3, c4 = factors(lh, sig0, sig1, exp_coeffs, chi4_coeffs)
            wi, dw, wb = _mode(lh, wstar[i], w[i], 2.0 * lh * (sig1 - sig0), e, c0, c1, c2, c3, c4, u0, u1)
            w_out[i] = wi
            lwi = li * wi
            lws = li * wstar[i]
            s_out += lwi * wi
            u_out += lws * wi
            sd += lwi * dw
            sb += lwi * wb
            ud += lws * dw
            ub += lws * wb
        return s_out, u_out, sd, sb, ud, ub

    return kernel


#: Any lam_i h (libm's expm1 and exp, no fast math).
_pass_libm = _mode_pass(_factors_libm, fastmath=False)
#: Branch-free, so it vectorises (reassociated sums and fused multiply-adds, no other fast-math assumption).
_pass_poly = _mode_pass(_factors_poly, fastmath={"reassoc", "contract"})



def _tail_max(lam: np.ndarray) -> np.ndarray:
    """max(lam[k:]) for every k: non-increasing, so the tail of small modes is found by bisection
    (for the sorted spectrum of the model it is lam itself)."""
    return np.ascontiguousarray(np.maximum.accumulate(lam[::-1])[::-1])


@njit(cache=True)
def _tail_start(lam_tailmax, lam_bound):
    """First k with lam_tailmax[k] <= lam_bound; len(lam_tailmax) if none (also for a NaN bound)."""
    lo = 0
    hi = lam_tailmax.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if lam_tailmax[mid] <= lam_bound:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _base_step(lam, lam_tailmax, wstar, w, h, s0, u0, s_guess, u_guess, sstar, tol_s, tol_u, w_out):
    """One exponential step with sigma and u linear in time between their start and end values.

    (s0, u0) must be the statistics of w.  Each Newton iteration on the end values (s1, u1) is one
    O(d) pass that also writes w_out; it stops when the next update would be below (tol_s, tol_u)
    and keeps that pass.  Returns (ok, s, u, passes) with (s, u) the statistics of w_out.
    """
    d = lam.shape[0]
    sig0 = sstar - 3.0 * s0
    s1 = s_guess
    u1 = u_guess
    for it in range(_MAX_NEWTON):
        sig1 = sstar - 3.0 * s1
        # |z_i|, |z_i - b_i| <= lam_i * rate: modes [k_small, d) fit _SMALL, [k_tiny, d) fit _TINY
        rate = h * max(4.0 * abs(sig1), 2.0 * abs(sig0 + sig1))
        k_small = _tail_start(lam_tailmax, _SMALL / rate) if rate > 0.0 else 0
        k_tiny = max(k_small, _tail_start(lam_tailmax, _TINY / rate) if rate > 0.0 else 0)
        s_out, u_out, sd, sb, ud, ub = _pass_libm(
            lam, wstar, w, 0, k_small, h, sig0, sig1, u0, u1, w_out, _EXP_SMALL, _CHI4_SMALL
        )
        s_p, u_p, sd_p, sb_p, ud_p, ub_p = _pass_poly(
            lam, wstar, w, k_small, k_tiny, h, sig0, sig1, u0, u1, w_out, _EXP_SMALL, _CHI4_SMALL
        )
        s_t, u_t, sd_t, sb_t, ud_t, ub_t = _pass_poly(
            lam, wstar, w, k_tiny, d, h, sig0, sig1, u0, u1, w_out, _EXP_TINY, _CHI4_TINY
        )
        s_out += s_p + s_t
        u_out += u_p + u_t
        f1 = s_out - s1
        f2 = u_out - u1
        j11 = 2.0 * (sd + sd_p + sd_t) - 1.0
        j12 = 2.0 * (sb + sb_p + sb_t)
        j21 = ud + ud_p + ud_t
        j22 = ub + ub_p + ub_t - 1.0
        det = j11 * j22 - j12 * j21
        if not (math.isfinite(det) and math.isfinite(f1) and math.isfinite(f2)) or det == 0.0:
            return False, s1, u1, it + 1
        ds = -(f1 * j22 - j12 * f2) / det
        du = -(j11 * f2 - j21 * f1) / det
        if abs(ds) <= tol_s + _NEWTON_EPS * s1 and abs(du) <= tol_u + _NEWTON_EPS * abs(u1):
            return True, s_out, u_out, it + 1
        s_new = s1 + ds
        s1 = s_new if s_new >= 0.0 else 0.5 * s1  # s = w^T Q w >= 0: damp instead of leaving the domain
        u1 += du
    return False, s1, u1, _MAX_NEWTON


@njit(cache=True)
def _richardson_step(lam, lam_tailmax, wstar, w, h, s0, u0, s_pred, u_pred, w_rms, sstar, rtol, atol,
                     w_out, w_full, w_half):
    """One base step of h and two of h/2 from w (statistics s0, u0), extrapolated.

    (s_pred, u_pred) predict the statistics at t + h for the first Newton iteration.  Returns
    (ok, err, s, u, sumsq, passes): err = 1 at the tolerance, (s, u) and sumsq = |w|^2 of the
    extrapolated w_out, passes the number of Newton passes made.
    """
    tol_s = _NEWTON_FRAC * (atol + rtol * abs(s0))
    tol_u = _NEWTON_FRAC * (atol + rtol * abs(u0))
    ok, sf, uf, passes = _base_step(lam, lam_tailmax, wstar, w, h, s0, u0, s_pred, u_pred, sstar,
                                    tol_s, tol_u, w_full)
    if not ok:  # a bad predictor: start again from the current statistics
        ok, sf, uf, n = _base_step(lam, lam_tailmax, wstar, w, h, s0, u0, s0, u0, sstar, tol_s, tol_u, w_full)
        passes += n
        if not ok:
            return False, np.inf, s0, u0, 0.0, passes
    ok, sm, um, n = _base_step(lam, lam_tailmax, wstar, w, 0.5 * h, s0, u0, 0.5 * (s0 + sf), 0.5 * (u0 + uf),
                               sstar, tol_s, tol_u, w_half)
    passes += n
    if not ok:
        return False, np.inf, s0, u0, 0.0, passes
    ok, s_lo, u_lo, n = _base_step(lam, lam_tailmax, wstar, w_half, 0.5 * h, sm, um, sf, uf, sstar,
                                   tol_s, tol_u, w_out)
    passes += n
    if not ok:
        return False, np.inf, s0, u0, 0.0, passes
    err_w, s_hi, u_hi, sumsq = _extrapolate(lam, wstar, w, w_full, w_out, w_rms, rtol, atol)
    err_s = abs(s_hi - s_lo) / (atol + rtol * abs(s_hi))
    err_u = abs(u_hi - u_lo) / (atol + rtol * abs(u_hi))
    err = max(err_w, err_s, err_u)
    if not math.isfinite(err):  # a NaN or inf anywhere in w_out reaches s_hi
        return False, np.inf, s0, u0, 0.0, passes
    return True, err, s_hi, u_hi, sumsq, passes


@njit(cache=True)
def _extrapolate(lam, wstar, w, w_full, w_out, w_rms, rtol, atol):
    """w_out <- w_out + (w_out - w_full) / 3 in place; returns (max scaled |change|, s, u, |w_out|^2).

    NaN in w_out is not seen by the max but makes s NaN, which _richardson_step rejects.
    """
    err = 0.0
    s = 0.0
    u = 0.0
    sumsq = 0.0
    for i in range(lam.shape[0]):
        lo = w_out[i]
        hi = lo + (lo - w_full[i]) * (1.0 / 3.0)
        err = max(err, abs(hi - lo) / (atol + rtol * max(abs(w[i]), abs(hi), w_rms)))
        w_out[i] = hi
        lh = lam[i] * hi
        s += lh * hi
        u += lh * wstar[i]
        sumsq += hi * hi
    return err, s, u, sumsq


# --------------------------------------------------------------------------- drivers


ProgressFn = Callable[[float, int], None]


def integrate_flow(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t_eval: np.ndarray,
    controller: StepController,
    progress: ProgressFn | None = None,
) -> Trajectory:
    """Integrate the population gradient flow from w0 at t = 0 and record at t_eval.

    t_eval must be positive and strictly increasing; every time is hit exactly.
    progress(t, n_steps), when given, is called after each recorded time.
    info["passes"] counts the O(d) Newton passes (about 6 per step, plus one to extrapolate).
    """
    lam, wstar, w = check_problem(lam, wstar, w0)
    t_eval = check_times(t_eval)
    ctl = controller
    sstar = float(np.sum(lam * wstar * wstar))
    w_next, w_full, w_half = (np.empty_like(w) for _ in range(3))
    lam_tailmax = _tail_max(lam)
    stats = np.empty((len(t_eval), len(STAT_NAMES)))
    t, h = 0.0, ctl.h_init
    s, u = float(np.sum(lam * w * w)), float(np.sum(lam * w * wstar))
    w_rms = float(np.sqrt(np.mean(w * w)))
    t_prev, s_prev, u_prev = None, s, u
    n_steps = n_rejected = n_passes = 0
    for k, t_out in enumerate(t_eval):
        while t < t_out:
            clipped = t + h >= t_out
            h_try = t_out - t if clipped else h
            if t_prev is None:
                s_pred, u_pred = s, u
            else:  # extrapolate the last accepted step (a bad guess costs a restart, not accuracy)
                r = h_try / (t - t_prev)
                s_pred, u_pred = s + r * (s - s_prev), u + r * (u - u_prev)
            ok, err, s_new, u_new, sumsq, passes = _richardson_step(
                lam, lam_tailmax, wstar, w, h_try, s, u, s_pred, u_pred, w_rms, sstar, ctl.rtol, ctl.atol,
                w_next, w_full, w_half,
            )
            n_passes += passes
            if ok and err <= 1.0:
                w, w_next = w_next, w
                t_prev, s_prev, u_prev = t, s, u
                t = t_out if clipped else t + h_try
                s, u, w_rms = s_new, u_new, math.sqrt(sumsq / len(w))
                h_new = ctl.next_step(h_try, err)
                h = max(h, h_new) if clipped else h_new
                n_steps += 1
            else:
                h = h_try * (ctl.shrink_min if not ok else max(ctl.shrink_min, ctl.next_step(1.0, err)))
                n_rejected += 1
                if h < ctl.h_min * max(1.0, t):
                    raise FloatingPointError(f"step size underflow at t = {t:.6g} (h = {h:.3g})")
        stats[k] = trajectory_statistics(lam, wstar, w, sstar)
        if progress is not None:
            progress(t, n_steps)
    return Trajectory(
        t=t_eval.copy(),
        stats={name: stats[:, j].copy() for j, name in enumerate(STAT_NAMES)},
        w_final=w.copy(),
        n_steps=n_steps,
        n_rejected=n_rejected,
        info={"method": "flow", "rtol": ctl.rtol, "atol": ctl.atol, "passes": n_passes},
    )


def overlap_crossing(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    level: float,
    t_max: float,
    controller: StepController,
) -> tuple[float, np.ndarray]:
    """First time T with |u(T)| = level, and the state w(T), to the integrator tolerance.

    Brackets the crossing on a log grid (CROSSING_SEARCH_GRID), then bisects by integrating
    from the state at the bracket's left end; the bracket grid only sets the cost, not T.
    """
    t_min, points_per_decade = CROSSING_SEARCH_GRID
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
    lam, wstar, w = check_problem(lam, wstar, w_start)
    target_signed = np.sign(np.sum(lam * w * wstar)) * wstar
    err0 = w - target_signed
    tau = np.asarray(tau, dtype=np.float64)
    mse = np.empty(tau.shape)
    loss = np.empty(tau.shape)
    sstar = float(np.sum(lam * wstar * wstar))
    for k, tk in enumerate(tau):
        w_k = target_signed + err0 * np.exp(-8.0 * lam * tk)
        _, _, _, _, mse[k], loss[k] = trajectory_statistics(lam, wstar, w_k, sstar)
    return {"mse": mse, "loss": loss}


def check_times(t_eval) -> np.ndarray:
    """t_eval as a float array: non-empty, positive, finite and strictly increasing."""
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim != 1 or len(t_eval) == 0 or t_eval[0] <= 0 or np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be a non-empty, positive, strictly increasing 1-D array")
    if not np.all(np.isfinite(t_eval)):
        raise ValueError("t_eval must be finite")
    return t_eval
