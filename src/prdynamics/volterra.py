"""Volterra equations for the overlap u(t) = w^T Q w* (s* = 1).

Each mode of the flow  dw_i/dt = 4 lam_i (1 - 3 s) w_i + 8 lam_i u w*_i  is linear
once s(t) and u(t) are given.  With Theta(t) = int_{t0}^t (1 - 3 s(r)) dr, variation
of constants from a time t0 gives

    w_i(t) = e^{4 lam_i Theta(t)} w_i(t0)
             + 8 lam_i w*_i int_{t0}^t e^{4 lam_i (Theta(t) - Theta(tau))} u(tau) dtau,

and projecting on Q w* closes an equation for u alone:

    u(t) = a0(t) + 8 int_{t0}^t K(t, tau) u(tau) dtau,
    a0(t) = sum_i w_i(t0) w*_i lam_i e^{4 lam_i Theta(t)},
    K(t, tau) = sum_i (w*_i)^2 lam_i^2 e^{4 lam_i (Theta(t) - Theta(tau))}.

This is exact given s(t).  Phase I replaces Theta(t) by t - t0 (s << 1), which is the
paper's convolution form; pass s=None for it.

Fast solver (``solve_u``, ``solve_delta``, ``solve_sum_exp``).  The kernel is a sum of
exponentials, so one history state per mode,
    H_i(t) = int_{t0}^t e^{4 lam_i (Theta(t) - Theta(tau))} u(tau) dtau,
is carried from grid point to grid point, O(N d) in all, on any increasing grid:
    H_i(t_{n+1}) = e^{z} H_i(t_n) + h int_0^1 k_i(th) u(t_n + th h) dth,
    z = 4 lam_i (Theta_{n+1} - Theta_n),
with k_i(th) = e^{4 lam_i (Theta_{n+1} - Theta(t_n + th h))} integrated exactly against
the interpolant of u.  u_{n+1} enters linearly, so every step solves one scalar linear
equation exactly.  Only per-step factors e^z are formed (never e^{4 lam_i Theta}), so the
history neither overflows unless u does nor suffers when e^z underflows to 0.

* Theta: the slope 1 - 3 s is piecewise LINEAR between grid points (s given on the
  grid), so Theta is the trapezoid rule at the nodes and quadratic inside a step.  In a
  step, th in [0, 1], the exponent is
      4 lam_i (Theta_{n+1} - Theta) = z (1 - th) + q th (1 - th) = zeta (1 - th) - q (1 - th)^2,
      q = 2 lam_i h (sigma_{n+1} - sigma_n),  zeta = z + q = 4 lam_i h sigma_{n+1},
  with sigma = 1 - 3 s.  The solver uses e^{zeta (1 - th)} (1 - q (1 - th)^2), dropping
  O(q^2 (1 - th)^4): small for slow modes (q ~ lam h^2 s' is small) and for stiff ones
  (the weight sits at 1 - th ~ 1 / |zeta|).  The q term is what keeps Phase III right:
  there a learned (stiff) mode follows the local rate 4 lam_i sigma(t), u - 1 is set by a
  near cancellation of size 1 - s, and a slope frozen at its step mean (Theta piecewise
  linear) gives an O(h s' / (1 - s)) = O(h / t) error, i.e. first order on a log grid.
* u: interpolated quadratically through (t_{n-1}, t_n, t_{n+1}) (``interp="quadratic"``,
  the default; the first step is linear) or linearly (``interp="linear"``).  The moments
  int_0^1 e^{zeta (1 - th)} th^k dth = k! phi_{k+1}(zeta) use the phi-functions, from
  their Taylor series for |zeta| < 2 and from phi_{k+1} = (phi_k - 1/k!)/zeta above.
* The forcing a0 is evaluated in closed form at the nodes (Theta there is exact for the
  piecewise-linear slope).

Direct solver (``solve_u_direct``): independent, classical trapezoid rule on a uniform
grid with the kernel matrix K(t_n, t_m) built explicitly from the node values of Theta,
O(N^2 d); second order.  For small cases and for checking the fast solver.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .model import check_problem

#: Below this |zeta| the phi-functions are summed from their Taylor series (no cancellation).
_SERIES_CUT = 2.0
_SERIES_TERMS = 34

#: How u is interpolated inside a step.
INTERPOLATIONS = ("linear", "quadratic")


# --------------------------------------------------------------------------- kernels


@njit(cache=True, inline="always")
def _phis(z):
    """(e^z, phi1, ..., phi5), phi_k(z) = int_0^1 e^{(1 - th) z} th^{k-1} / (k-1)! dth, stable at z -> 0."""
    if abs(z) < _SERIES_CUT:
        term = 1.0  # z^k / k!
        p1 = 0.0
        p2 = 0.0
        p3 = 0.0
        p4 = 0.0
        p5 = 0.0
        for k in range(_SERIES_TERMS):
            c1 = term / (k + 1)
            c2 = c1 / (k + 2)
            c3 = c2 / (k + 3)
            c4 = c3 / (k + 4)
            p1 += c1
            p2 += c2
            p3 += c3
            p4 += c4
            p5 += c4 / (k + 5)
            term *= z / (k + 1)
            if abs(term) < 1e-17:  # the rest is below rounding (|z| < 2)
                break
        return math.exp(z), p1, p2, p3, p4, p5
    em1 = math.expm1(z)
    p1 = em1 / z
    p2 = (p1 - 1.0) / z
    p3 = (p2 - 0.5) / z
    p4 = (p3 - 1.0 / 6.0) / z
    p5 = (p4 - 1.0 / 24.0) / z
    return em1 + 1.0, p1, p2, p3, p4, p5


@njit(cache=True, inline="always")
def _step_weights(rate, h, dtheta, dslope, ratio, quadratic):
    """(e^z, w_prev, w_now, w_next, n0) for one mode and one step.

    w_* are the weights of x_{n-1}, x_n, x_{n+1} in int_0^1 k(th) x(t_n + th h) dth with
    k(th) ~ e^{zeta (1 - th)} (1 - q (1 - th)^2) (module docstring); n0 = int_0^1 k.
    Quadratic: x through th = -ratio, 0, 1 (ratio = h_{n-1} / h_n); linear: through 0, 1.
    """
    z = rate * dtheta
    q = 0.5 * rate * h * dslope
    ez = math.exp(z)
    _, p1, p2, p3, p4, p5 = _phis(z + q)
    m0 = p1  # M_k = int e^{zeta (1 - th)} th^k = k! phi_{k+1}(zeta)
    m1 = p2
    m2 = 2.0 * p3
    m3 = 6.0 * p4
    m4 = 24.0 * p5
    n0 = m0 - q * (m0 - 2.0 * m1 + m2)  # N_k = int k(th) th^k
    n1 = m1 - q * (m1 - 2.0 * m2 + m3)
    n2 = m2 - q * (m2 - 2.0 * m3 + m4)
    if not quadratic:
        return ez, 0.0, n0 - n1, n1, n0
    w_prev = (n2 - n1) / (ratio * (ratio + 1.0))
    w_now = (ratio * n0 - (ratio - 1.0) * n1 - n2) / ratio
    w_next = (n2 + ratio * n1) / (1.0 + ratio)
    return ez, w_prev, w_now, w_next, n0


@njit(cache=True)
def _solve_sum_exp(f, weight, rate, h, dtheta, dslope, quadratic):
    """x_n for x(t) = f(t) + sum_i weight_i int_{t0}^t e^{rate_i (Theta(t) - Theta(tau))} x(tau) dtau.

    The first step is always linear (no earlier point); later ones quadratic when asked.
    """
    n_pts = f.shape[0]
    d = weight.shape[0]
    x = np.empty(n_pts)
    x[0] = f[0]
    hist = np.zeros(d)
    w_next_h = np.empty(d)
    for n in range(n_pts - 1):
        hn = h[n]
        quad = quadratic and n > 0
        ratio = h[n - 1] / hn if n > 0 else 1.0
        x_prev = x[n - 1] if n > 0 else 0.0
        num = f[n + 1]
        den = 1.0
        for i in range(d):
            ez, wp, wn, wx, _ = _step_weights(rate[i], hn, dtheta[n], dslope[n], ratio, quad)
            hist[i] = ez * hist[i] + hn * (wp * x_prev + wn * x[n])  # the x_{n+1} part comes below
            w_next_h[i] = hn * wx
            num += weight[i] * hist[i]
            den -= weight[i] * w_next_h[i]
        xn1 = num / den
        x[n + 1] = xn1
        for i in range(d):
            hist[i] += w_next_h[i] * xn1
    return x


@njit(cache=True)
def _exp_forcing(coef, rate, theta):
    """sum_i coef_i e^{rate_i Theta_n} on the grid."""
    out = np.empty(theta.shape[0])
    for n in range(theta.shape[0]):
        acc = 0.0
        for i in range(coef.shape[0]):
            acc += coef[i] * math.exp(rate[i] * theta[n])
        out[n] = acc
    return out


@njit(cache=True)
def _unit_history(weight, rate, h, dtheta, dslope):
    """sum_i weight_i int_{t0}^{t_n} e^{rate_i (Theta(t_n) - Theta(tau))} dtau, with the solver's kernel."""
    n_pts = dtheta.shape[0] + 1
    d = weight.shape[0]
    g = np.zeros(d)
    out = np.zeros(n_pts)
    for n in range(n_pts - 1):
        acc = 0.0
        for i in range(d):
            ez, _, _, _, n0 = _step_weights(rate[i], h[n], dtheta[n], dslope[n], 1.0, False)
            g[i] = ez * g[i] + h[n] * n0
            acc += weight[i] * g[i]
        out[n + 1] = acc
    return out


# --------------------------------------------------------------------------- public API


def theta_from_s(t: np.ndarray, s: np.ndarray | None = None) -> np.ndarray:
    """Theta(t_n) = int_{t_0}^{t_n} (1 - 3 s), trapezoid rule (exact for s linear between nodes).

    Theta = t - t_0 when s is None (Phase I form).
    """
    t = _check_grid(t)
    return _theta(t, _slope(t, s))


def solve_sum_exp(
    f: np.ndarray,
    weight: np.ndarray,
    rate: np.ndarray,
    t: np.ndarray,
    slope: np.ndarray | None = None,
    interp: str = "quadratic",
) -> np.ndarray:
    """Fast solver for x(t) = f(t) + sum_i weight_i int_{t0}^t e^{rate_i (Theta(t) - Theta(tau))} x dtau.

    f and slope = Theta' are given on the grid t (any increasing grid, t0 = t[0]); slope is
    piecewise linear between nodes (default 1: Theta = t - t0); x is interpolated as
    ``interp`` says.  O(N d).
    """
    quadratic = _check_interp(interp)
    t = _check_grid(t)
    f = _as_grid_array(f, t, "f")
    slope = np.ones_like(t) if slope is None else _as_grid_array(slope, t, "slope")
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    rate = np.ascontiguousarray(rate, dtype=np.float64)
    if weight.ndim != 1 or weight.shape != rate.shape:
        raise ValueError("weight and rate must be 1-D arrays of one length")
    if not (np.all(np.isfinite(weight)) and np.all(np.isfinite(rate))):
        raise ValueError("weight and rate must be finite")
    return _solve(f, weight, rate, t, slope, quadratic)


def solve_u(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t: np.ndarray,
    s: np.ndarray | None = None,
    interp: str = "quadratic",
) -> np.ndarray:
    """u on the grid t from the Volterra equation, w0 being the state at t[0] (fast, O(N d)).

    s=None: Phase I form Theta(t) = t - t[0]; s on the grid: exact form, Theta = int (1 - 3 s)
    with s linear between nodes.  Where u overflows (Phase I form run far past the escape)
    the result is inf or nan.
    """
    quadratic = _check_interp(interp)
    lam, wstar, w0 = check_problem(lam, wstar, w0)
    t = _check_grid(t)
    slope = _slope(t, s)
    rate = 4.0 * lam
    a0 = _exp_forcing(lam * wstar * w0, rate, _theta(t, slope))
    return _solve(a0, 8.0 * lam**2 * wstar**2, rate, t, slope, quadratic)


def solve_u_direct(
    lam: np.ndarray, wstar: np.ndarray, w0: np.ndarray, t: np.ndarray, s: np.ndarray | None = None
) -> np.ndarray:
    """u from the trapezoid rule with the kernel matrix built explicitly (uniform grid, O(N^2 d)).

    Independent check of ``solve_u``: only the node values Theta(t_n) are shared; the
    quadrature (classical trapezoid on K(t_n, t_m) u_m) is different.  For small cases.
    """
    lam, wstar, w0 = check_problem(lam, wstar, w0)
    t = _check_grid(t)
    steps = np.diff(t)
    h = float(steps.mean()) if steps.size else 0.0
    if steps.size and np.max(np.abs(steps - h)) > 1e-9 * max(h, abs(t[-1])):
        raise ValueError("solve_u_direct needs a uniform grid")
    theta = theta_from_s(t, s)
    rate = 4.0 * lam
    c = lam**2 * wstar**2
    a0 = _exp_forcing(lam * wstar * w0, rate, theta)
    u = np.empty(t.shape[0])
    u[0] = a0[0]
    k_diag = float(c.sum())
    for n in range(1, t.shape[0]):
        row = np.exp(np.outer(theta[n] - theta[:n], rate)) @ c  # K(t_n, t_m), m < n
        quad = 0.5 * row[0] * u[0] + row[1:] @ u[1:n]
        u[n] = (a0[n] + 8.0 * h * quad) / (1.0 - 4.0 * h * k_diag)
    return u


def delta_forcing(
    lam: np.ndarray, wstar: np.ndarray, w_t0: np.ndarray, t: np.ndarray, s: np.ndarray | None = None
) -> np.ndarray:
    """Forcing F of the Phase IIb equation for Delta = 1 - u, started at t0 = t[0] from w(t0).

    The mode solution started at t0 (module docstring) gives u(t) = b0(t) + int K_Theta u
    with b0(t) = sum_i lam_i w*_i w_i(t0) e^{4 lam_i Theta(t)}, Theta(t) = int_{t0}^t (1 - 3 s).
    Substituting u = 1 - Delta and moving the constant 1 through the kernel,

        Delta(t) = F(t) + int_{t0}^t K_Theta(t, tau) Delta(tau) dtau,
        K_Theta(t, tau) = sum_i 8 lam_i^2 (w*_i)^2 e^{4 lam_i (Theta(t) - Theta(tau))},
        F(t) = 1 - sum_i lam_i w*_i w_i(t0) e^{4 lam_i Theta(t)}
                 - sum_i 8 lam_i^2 (w*_i)^2 int_{t0}^t e^{4 lam_i (Theta(t) - Theta(tau))} dtau.

    It is the u equation from t0 written for 1 - u.  With s* = sum_i lam_i (w*_i)^2 = 1 and
    e_i = w*_i - w_i, F(t) = sum_i lam_i w*_i [e_i(t0) e^{4 lam_i Theta(t)} + w*_i (1 -
    e^{4 lam_i Theta(t)} - 8 lam_i int_{t0}^t e^{4 lam_i (Theta(t) - Theta)})]; if s = 1
    (Theta' = -2) the second part vanishes and F(t) = sum_i lam_i w*_i e_i(t0) e^{-8 lam_i
    (t - t0)}, the Phase III decay of the mode errors.  The kernel integral uses the
    solver's own quadrature (exact for the constant), so the discrete Delta equals 1 minus
    the discrete u of ``solve_u`` started at t0 from w(t0), up to rounding.
    """
    lam, wstar, w_t0 = check_problem(lam, wstar, w_t0)
    t = _check_grid(t)
    slope = _slope(t, s)
    rate = 4.0 * lam
    b0 = _exp_forcing(lam * wstar * w_t0, rate, _theta(t, slope))
    g = _unit_history(8.0 * lam**2 * wstar**2, rate, np.diff(t), _dtheta(t, slope), np.diff(slope))
    return 1.0 - b0 - g


def solve_delta(
    lam: np.ndarray,
    wstar: np.ndarray,
    w_t0: np.ndarray,
    t: np.ndarray,
    s: np.ndarray | None = None,
    interp: str = "quadratic",
) -> np.ndarray:
    """Delta = 1 - u on the grid t from the Phase IIb Volterra equation, started at t[0] from w(t0).

    Same fast machinery as ``solve_u`` with kernel K_Theta and forcing ``delta_forcing``.
    """
    quadratic = _check_interp(interp)
    lam, wstar, w_t0 = check_problem(lam, wstar, w_t0)
    t = _check_grid(t)
    forcing = delta_forcing(lam, wstar, w_t0, t, s)
    return _solve(forcing, 8.0 * lam**2 * wstar**2, 4.0 * lam, t, _slope(t, s), quadratic)


# --------------------------------------------------------------------------- helpers


def _solve(f, weight, rate, t, slope, quadratic):
    return _solve_sum_exp(f, weight, rate, np.diff(t), _dtheta(t, slope), np.diff(slope), quadratic)


def _slope(t, s):
    """sigma = 1 - 3 s on the grid (1 when s is None)."""
    if s is None:
        return np.ones_like(t)
    return 1.0 - 3.0 * _as_grid_array(s, t, "s")


def _dtheta(t, slope):
    return np.diff(t) * 0.5 * (slope[1:] + slope[:-1])


def _theta(t, slope):
    return np.concatenate(([0.0], np.cumsum(_dtheta(t, slope))))


def _check_interp(interp):
    if interp not in INTERPOLATIONS:
        raise ValueError(f"interp must be one of {INTERPOLATIONS}, got {interp!r}")
    return interp == "quadratic"


def _check_grid(t):
    t = np.ascontiguousarray(t, dtype=np.float64)
    if t.ndim != 1 or t.shape[0] < 1:
        raise ValueError("the time grid t must be a non-empty 1-D array")
    if not np.all(np.isfinite(t)):
        raise ValueError("the time grid t must be finite")
    if np.any(np.diff(t) <= 0):
        raise ValueError("the time grid t must be strictly increasing")
    return t


def _as_grid_array(x, t, name):
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.shape != t.shape:
        raise ValueError(f"{name} must be given on the grid t: shapes {x.shape} and {t.shape} differ")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has non-finite entries")
    return x
