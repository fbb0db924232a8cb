"""Population loss, gradient and summary statistics (the paper's normalisation).

With s = w^T Q w, u = w^T Q w*, s* = w*^T Q w* and Gaussian x ~ N(0, Q),
  L(w)      = E[((x.w)^2 - (x.w*)^2)^2] = 3 s^2 + 3 s*^2 - 4 u^2 - 2 s* s,
  grad L    = 12 s Q w - 4 s* Q w - 8 u Q w*,
  dw/dt     = -grad L = 4 (s* - 3 s) Q w + 8 u Q w*.
Critical points: 0 (strict local maximum), +-w* (global minima) and the
saddle set {u = 0, s = s*/3}.
"""

from __future__ import annotations

import numpy as np


def overlaps(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray) -> tuple[float, float]:
    """(s, u) = (w^T Q w, w^T Q w*)."""
    qw = lam * w
    return float(qw @ w), float(qw @ wstar)


def hierarchy(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, k: int) -> tuple[float, float]:
    """(s^(k), u^(k)) = (w^T Q^k w, w^T Q^k w*) for an integer k >= 0."""
    if int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k}")
    qk = lam ** int(k)
    return float(np.sum(qk * w * w)), float(np.sum(qk * w * wstar))


def target_norm(lam: np.ndarray, wstar: np.ndarray) -> float:
    """s* = w*^T Q w* (1 under the paper's normalisation)."""
    return float(np.sum(lam * wstar * wstar))


def loss(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray) -> float:
    """Population loss L(w) = 3 s^2 + 3 s*^2 - 4 u^2 - 2 s* s (zero at +-w*)."""
    s, u = overlaps(w, lam, wstar)
    ss = target_norm(lam, wstar)
    return 3 * s * s + 3 * ss * ss - 4 * u * u - 2 * ss * s


def gradient(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray) -> np.ndarray:
    """grad L = 12 s Q w - 4 s* Q w - 8 u Q w*."""
    s, u = overlaps(w, lam, wstar)
    ss = target_norm(lam, wstar)
    return lam * ((12 * s - 4 * ss) * w - 8 * u * wstar)


def hessian(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray) -> np.ndarray:
    """Hessian 12 s Q + 24 Qw (Qw)^T - 4 s* Q - 8 Qw* (Qw*)^T (dense, for small d)."""
    s, _ = overlaps(w, lam, wstar)
    ss = target_norm(lam, wstar)
    qw, qws = lam * w, lam * wstar
    return np.diag((12 * s - 4 * ss) * lam) + 24 * np.outer(qw, qw) - 8 * np.outer(qws, qws)


def mse(w: np.ndarray, wstar: np.ndarray) -> float:
    """The paper's metric min(||w - w*||^2, ||w + w*||^2) / d."""
    d = w.shape[0]
    return float(min(np.sum((w - wstar) ** 2), np.sum((w + wstar) ** 2)) / d)


def saddle_point(lam: np.ndarray, wstar: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random point of the saddle set {u = 0, s = s*/3}."""
    v = rng.standard_normal(lam.shape[0])
    v -= (np.sum(lam * v * wstar) / target_norm(lam, wstar)) * wstar  # Q-orthogonal to w*
    return v * np.sqrt(target_norm(lam, wstar) / 3.0 / np.sum(lam * v * v))


def summary(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray) -> dict[str, float]:
    """The statistics every trajectory records: s, u, s2, u2, mse, loss."""
    s, u = overlaps(w, lam, wstar)
    s2, u2 = hierarchy(w, lam, wstar, 2)
    ss = target_norm(lam, wstar)
    return {
        "s": s,
        "u": u,
        "s2": s2,
        "u2": u2,
        "mse": mse(w, wstar),
        "loss": 3 * s * s + 3 * ss * ss - 4 * u * u - 2 * ss * s,
    }


def isotropic_rhs(s: float, u: float, d: int) -> tuple[float, float]:
    """Closed (s, u) dynamics for a = 0, where Q = I/d and s* = 1.

    With Q = I/d the hierarchy closes: s^(k+1) = s^(k)/d and u^(k+1) = u^(k)/d.
    From d s/dt = 8 (s* - 3 s) s^(2) + 16 u u^(2) and
    d u/dt = 4 (s* - 3 s) u^(2) + 8 u s*^(2) with s*^(2) = s*/d = 1/d:
        ds/dt = (8/d) [(1 - 3 s) s + 2 u^2],
        du/dt = (4/d) u [(1 - 3 s) + 2] = (12/d) u (1 - s).
    """
    return 8.0 / d * ((1 - 3 * s) * s + 2 * u * u), 12.0 / d * u * (1 - s)
