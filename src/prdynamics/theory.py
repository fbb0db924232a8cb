"""Theory predictions: Phase I escape, Phase II exponents, Phase III laws (s* = 1).

Spectrum lam_i = i^-a / H_{d,a}.  Statements about power laws need a > 1 and raise a
ValueError otherwise; the escape rate holds for any spectrum.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import gamma

from .model import harmonic

# --------------------------------------------------------------------------- Phase I


def escape_rate(lam: np.ndarray, wstar: np.ndarray) -> float:
    """rho_true: the root above 4 lam_top of 1 = 8 sum_i (w*_i)^2 lam_i^2 / (rho - 4 lam_i).

    lam_top is the largest lam_i carrying weight c_i = lam_i^2 (w*_i)^2 > 0 (a degenerate top
    eigenvalue, as for a = 0, simply pools its weights C_top = sum_{lam_i = lam_top} c_i).
    On rho > 4 lam_top the right side f(rho) decreases strictly from +inf to 0, so the root
    is unique.  Solved for x = rho - 4 lam_top (keeps relative precision when the root hugs
    the pole) by brentq on the bracket
        x_lo = 4 C_top:          f >= 8 C_top / x_lo = 2 > 1 (the other terms are positive),
        x_hi = 16 sum_i c_i:     f <= 8 sum_i c_i / x_hi = 1/2 < 1 (every denominator >= x).
    """
    lam, wstar = _check_pair(lam, wstar)
    c = lam**2 * wstar**2
    keep = c > 0
    if not np.any(keep):
        raise ValueError("w* has no weight on a positive eigenvalue: the escape rate is undefined")
    lam, c = lam[keep], c[keep]
    top = float(lam.max())
    gap = 4.0 * (top - lam)
    c_top = float(c[lam == top].sum())

    def excess(x):
        return 8.0 * np.sum(c / (x + gap)) - 1.0

    x_lo, x_hi = 4.0 * c_top, 16.0 * float(c.sum())
    x = brentq(excess, x_lo, x_hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return 4.0 * top + x


def escape_amplitude(lam: np.ndarray, wstar: np.ndarray, w0: np.ndarray) -> tuple[float, float]:
    """(rho, A) with u(t) ~ A e^{rho t} in the Phase I form (Theta = t).

    Laplace transform of u = a0 + 8 K * u:  u_hat(p) = a0_hat(p) / (1 - 8 K_hat(p)),
        a0_hat(p) = sum_i b_i / (p - 4 lam_i),  b_i = lam_i w*_i w_i(0),
        K_hat(p)  = sum_i c_i / (p - 4 lam_i),  c_i = lam_i^2 (w*_i)^2.
    The poles of u_hat are the roots of 8 K_hat(p) = 1 (those of a0_hat cancel against
    K_hat's).  They are real (Im K_hat(x + iy) = -y sum_i c_i / |p - 4 lam_i|^2 != 0 for
    y != 0), one in each gap between consecutive 4 lam_i and one, rho, above 4 lam_top.
    rho is simple (K_hat' < 0), so the residue there is
        A = a0_hat(rho) / (-8 K_hat'(rho))
          = [sum_i b_i / (rho - 4 lam_i)] / [8 sum_i c_i / (rho - 4 lam_i)^2],
    and u(t) = A e^{rho t} + sum over the other poles, all below 4 lam_top < rho: their
    share decays like e^{-(rho - 4 lam_top) t}.  (For lam_i all equal, A = u(0).)
    """
    lam, wstar = _check_pair(lam, wstar)
    w0 = _check_like(w0, lam, "w0")
    rho = escape_rate(lam, wstar)
    den = rho - 4.0 * lam
    c = lam**2 * wstar**2
    amp = np.sum(lam * wstar * w0 / den) / (8.0 * np.sum(c / den**2))
    return rho, float(amp)


def escape_time_prediction(lam: np.ndarray, wstar: np.ndarray, w0: np.ndarray, delta: float) -> float:
    """Predicted time at which the dominant term |A| e^{rho t} of u reaches delta.

    t = log(delta / |A|) / rho (escape_amplitude; Phase I form, Theta = t).  0 when
    |A| >= delta already; inf when A = 0.
    """
    if not (0 < delta and math.isfinite(delta)):
        raise ValueError(f"delta must be positive and finite, got {delta}")
    rho, amp = escape_amplitude(lam, wstar, w0)
    if amp == 0.0:
        return math.inf
    return max(0.0, math.log(delta / abs(amp)) / rho)


# --------------------------------------------------------------------------- Phase II


def phase2_exponents(a: float) -> tuple[float, float]:
    """(2a/(a-1), a/(a-1)): the paper's bound exponent and the tail-mass heuristic for T2(eps).

    Paper (Phase II): T2(eps) - T1' = O(eps^{-2a/(a-1)} log(1/eps)).
    Heuristic: once s ~ 1, mode i is learned as e_i(t) ~ w*_i e^{-8 lam_i t}, so
        1 - u(t) ~ sum_i lam_i (w*_i)^2 e^{-8 lam_i t}                       (``tail_mass``)
               ~ int_0^inf (y^-a / H) e^{-8 t y^-a / H} dy = Gamma(1 - 1/a) x / (8 a t),
    with x = (8 t / H)^{1/a} the index of the modes being learned (the sum is an integral
    for 1 << x << d).  So 1 - u ~ t^{-(1 - 1/a)}, and 1 - u = eps at
        T2(eps) ~ eps^{-1/(1 - 1/a)} = eps^{-a/(a-1)},
    half the paper's exponent.  Both need a > 1 (the tail must be summable).
    """
    _check_a(a)
    return 2.0 * a / (a - 1.0), a / (a - 1.0)


def phase2_eps_floor(d: int, a: float, kind: str = "bound") -> float:
    """Smallest eps for which the Phase II power laws apply.

    kind="bound": d^{-(a-1)/2}, the paper's floor: there eps^{-2a/(a-1)} = d^a, the order of
    the full recovery time d^a H / 16, after which every mode is learned and convergence is
    exponential.  kind="tail_mass": d^{-(a-1)}, the tail mass sum_{i > x} lam_i ~ x^{1-a}
    when the learning front x reaches d, i.e. where the heuristic time eps^{-a/(a-1)}
    reaches d^a.
    """
    _check_a(a)
    if kind == "bound":
        return float(d) ** (-(a - 1.0) / 2.0)
    if kind == "tail_mass":
        return float(d) ** (-(a - 1.0))
    raise ValueError(f"kind must be 'bound' or 'tail_mass', got {kind!r}")


def tail_mass(t, lam: np.ndarray, wstar: np.ndarray | None = None):
    """sum_i lam_i (w*_i)^2 e^{-8 lam_i t}: the unlearned part of u at time t (w*_i = 1 by default)."""
    lam = _check_lam(lam)
    weight = lam if wstar is None else lam * _check_like(wstar, lam, "wstar") ** 2
    return _exp_sum(t, weight, 8.0 * lam)


# --------------------------------------------------------------------------- Phase III


def S_d(tau, lam: np.ndarray):
    """S_d(tau) = d^-1 sum_i e^{-16 lam_i tau}: MSE(T2 + tau) / MSE(T2) in Phase III."""
    lam = _check_lam(lam)
    return _exp_sum(tau, np.full(lam.shape, 1.0 / lam.shape[0]), 16.0 * lam)


def recovery_index(tau, d: int, a: float):
    """x_d = (16 tau / H_{d,a})^{1/a}: modes i < x_d are learned by time tau (16 lam_i tau = (x_d / i)^a)."""
    _check_a(a)
    tau = _check_tau(tau)
    return (16.0 * tau / harmonic(d, a)) ** (1.0 / a)


def gamma_law(tau, d: int, a: float):
    """S_d(tau) ~ 1 - Gamma(1 - 1/a) x_d / d for 1 << x_d << d (needs a > 1).

    d (1 - S_d) = sum_i (1 - e^{-(x_d/i)^a}) ~ int_0^inf (1 - e^{-(x_d/y)^a}) dy = Gamma(1 - 1/a) x_d.
    Next orders: -1/2 from Euler-Maclaurin at y = 0 (f(0) = 1, all derivatives vanish), and
    -x_d^a d^{1-a} / (a - 1) from the missing tail y > d: relative corrections
    -1 / (2 Gamma(1 - 1/a) x_d) - (x_d / d)^{a-1} / ((a - 1) Gamma(1 - 1/a)).
    """
    x = recovery_index(tau, d, a)
    return 1.0 - gamma(1.0 - 1.0 / a) * x / d


def loss_law_constant(a: float, d: int) -> float:
    """C in L(tau) ~ C tau^{-(1 - 1/a)} (Phase III, 1 << x_d << d, e_i(T2)^2 = 1); needs a > 1.

    Linearisation: with w = w* + e, p = w*^T Q e and q = e^T Q e, s = 1 + 2p + q and
    u = 1 + p, so exactly
        L(w* + e) = 4 q + 8 p^2 + 12 p q + 3 q^2
    (Hessian 8 Q + 16 Q w* w*^T Q at w*; the quadratic form is half of it, hence 8 p^2).
    In Phase III the unlearned modes have e_i ~ -w*_i, so p ~ -q ~ -(tail mass) ~ x_d^{1-a}:
    8 p^2, 12 p q and 3 q^2 are O(x_d^{1-a}) relative to 4 q and vanish in the window
    x_d >> 1.  Hence L ~ 4 sum_i lam_i e_i^2 with e_i(T2 + tau) = e_i(T2) e^{-8 lam_i tau}:
        L(tau) ~ 4 sum_i lam_i e_i(T2)^2 e^{-16 lam_i tau}.
    With e_i(T2)^2 -> 1 (see ``loss_law`` for the scale) and 16 lam_i tau = (x/i)^a,
    lam_i = (x/i)^a / (16 tau):
        sum_i lam_i e^{-16 lam_i tau} ~ (1 / (16 tau)) int_0^inf (x/y)^a e^{-(x/y)^a} dy
                                     = (x / (16 tau a)) int_0^inf v^{-1/a} e^{-v} dv   (v = (x/y)^a)
                                     = Gamma(1 - 1/a) x / (16 a tau),
    and x = (16 tau / H)^{1/a} gives
        L(tau) ~ Gamma(1 - 1/a) x_d / (4 a tau) = C tau^{-(1 - 1/a)},
        C = Gamma(1 - 1/a) 16^{1/a} / (4 a H_{d,a}^{1/a}).
    (Also L = (1/4) d/dtau [d (1 - S_d)].)  The integrand vanishes with all its
    derivatives at y = 0, so the only sizeable correction is the missing tail y > d:
    relative -a (x_d / d)^{a-1} / ((a - 1) Gamma(1 - 1/a)).
    """
    _check_a(a)
    return gamma(1.0 - 1.0 / a) * 16.0 ** (1.0 / a) / (4.0 * a * harmonic(d, a) ** (1.0 / a))


def loss_law(tau, a: float, d: int, scale: float = 1.0):
    """L(tau) ~ scale * C tau^{-(1 - 1/a)} (``loss_law_constant``); needs a > 1.

    scale is the mean e_i(T2)^2 of the unlearned modes, e_i(T2) ~ w*_i = g_i / sqrt(S) with
    S = sum_j lam_j g_j^2.  For one target, scale = ||w*||^2 / d (= 1/S up to O(d^{-1/2}),
    the paper's sigma*^2).  Averaged over targets, scale = E[1/S] (``target_scale``):
    that is NOT 1 for a > 1, because S does not concentrate there (Var S = 2 sum_j lam_j^2
    -> 2 zeta(2a) / zeta(a)^2, dominated by the first modes), and E[1/S] > 1/E[S] = 1.
    """
    _check_a(a)
    tau = _check_tau(tau)
    return scale * loss_law_constant(a, d) * tau ** (-(1.0 - 1.0 / a))


def phase3_loss(tau, lam: np.ndarray, e0: np.ndarray | None = None):
    """4 sum_i lam_i e_i(T2)^2 e^{-16 lam_i tau}: linearised Phase III loss (e_i(T2) = 1 by default)."""
    lam = _check_lam(lam)
    weight = 4.0 * lam if e0 is None else 4.0 * lam * _check_like(e0, lam, "e0") ** 2
    return _exp_sum(tau, weight, 16.0 * lam)


def target_scale(lam: np.ndarray) -> float:
    """E[1/S], S = sum_j lam_j g_j^2, g ~ N(0, I): the target average of (w*_i)^2 / g_i^2.

    E[1/S] = int_0^inf E[e^{-r S}] dr = int_0^inf prod_j (1 + 2 lam_j r)^{-1/2} dr (finite for
    at least three positive lam_j).  For a mode with negligible lam_i, E[(w*_i)^2] =
    E[g_i^2 / S] -> E[1/S].
    """
    lam = _check_lam(lam)
    pos = lam[lam > 0]
    if pos.size < 3:
        raise ValueError("E[1/S] needs at least three positive eigenvalues to be finite")

    def integrand(r):
        return math.exp(-0.5 * np.sum(np.log1p(2.0 * pos * r)))

    value, _ = quad(integrand, 0.0, np.inf, epsabs=0.0, epsrel=1e-10, limit=200)
    return float(value)


# --------------------------------------------------------------------------- helpers


def _exp_sum(t, weight, rate):
    """sum_i weight_i e^{-rate_i t} for a scalar or an array of t >= 0."""
    t = _check_tau(t)
    flat = np.atleast_1d(t).ravel()
    out = np.array([np.sum(weight * np.exp(-rate * tk)) for tk in flat])
    return float(out[0]) if np.ndim(t) == 0 else out.reshape(np.shape(t))


def _check_tau(tau):
    arr = np.asarray(tau, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("times must be finite and non-negative")
    return arr if arr.ndim else float(arr)


def _check_a(a):
    if not (np.isfinite(a) and a > 1):
        raise ValueError(f"this power law needs a > 1 (a summable spectrum tail), got a = {a}")


def _check_lam(lam):
    lam = np.asarray(lam, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("lam must be a non-empty 1-D array of finite, non-negative eigenvalues")
    return lam


def _check_like(x, lam, name):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != lam.shape or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite and have the shape of lam {lam.shape}")
    return x


def _check_pair(lam, wstar):
    lam = _check_lam(lam)
    return lam, _check_like(wstar, lam, "wstar")
