"""Measurements of the non-Gaussian input study (inputs x = sqrt(lam) * z, i.i.d. standardised z).

Pure functions on recorded trajectories and end states; the dynamics themselves are
``robustness.integrate_flow_product`` (exact population flow of a law) and ``sgd.run_sgd``.

* ``classify_endpoint``: where a flow ended: at the global minimum (loss ~ 0), at another local
  minimum (stationary, positive-definite Hessian, loss > 0), at another stationary point, or
  still moving.
* ``tail_exponent``: the late-time loss decay exponent beta in L ~ t^-beta, fitted on a window
  fixed by the recovery index x_d(t) = (16 t / H_{d,a})^{1/a} (``theory.recovery_index``): the
  Gaussian theory predicts beta = 1 - 1/a for 1 << x_d << d.  For another law the Phase III
  rates of the modes change from 8 lam_i to 8 lam_i (1 + kappa lam_i w*_i^2) (the Hessian at w*,
  module ``robustness``), a correction that vanishes for the tail modes (lam_i -> 0), so the
  exponent is expected to survive; the fit measures it.
* ``log_gap``: the largest |log L_a(t) - log L_b(t)| between two loss curves on a's times
  (b interpolated linearly in log t): a value distance, in e-folds, between SGD and a flow.
"""

from __future__ import annotations

import math

import numpy as np

from ..robustness import gradient_product, hessian_product, loss_product
from ..theory import recovery_index

#: Outcomes of ``classify_endpoint``.
ENDPOINTS = ("global", "local_min", "stationary_other", "moving")


def classify_endpoint(
    w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float, loss_tol: float, grad_tol: float
) -> dict:
    """Classify a flow's end state w by its exact loss, gradient norm and Hessian spectrum.

    global            L(w) <= loss_tol (the only zeros of L >= 0 are +-w*, up to the tolerance)
    local_min         L > loss_tol, ||grad L|| <= grad_tol, smallest Hessian eigenvalue > 0
    stationary_other  L > loss_tol, ||grad L|| <= grad_tol, a Hessian eigenvalue <= 0
    moving            L > loss_tol, ||grad L|| > grad_tol (the run has not settled)
    Returns {"status", "loss", "grad_norm", "hess_min_eig"} (hess_min_eig: NaN unless stationary).
    """
    if not (loss_tol > 0 and grad_tol > 0):
        raise ValueError(f"loss_tol and grad_tol must be positive, got {loss_tol}, {grad_tol}")
    w = np.asarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError("w must be finite (a failed run has no end point to classify)")
    loss = loss_product(w, lam, wstar, kappa)
    grad = float(np.linalg.norm(gradient_product(w, lam, wstar, kappa)))
    hmin = float("nan")
    if loss <= loss_tol:
        status = "global"
    elif grad > grad_tol:
        status = "moving"
    else:
        hmin = float(np.linalg.eigvalsh(hessian_product(w, lam, wstar, kappa))[0])
        status = "local_min" if hmin > 0 else "stationary_other"
    return {"status": status, "loss": loss, "grad_norm": grad, "hess_min_eig": hmin}


def tail_window(t: np.ndarray, d: int, a: float, x_min: float, x_max_frac: float) -> np.ndarray:
    """Mask of the times with x_min <= x_d(t) <= x_max_frac * d (the Phase III power-law window).

    Empty when x_min > x_max_frac * d: d is then too small for a power-law window.
    """
    if not (x_min > 0 and 0 < x_max_frac <= 1):
        raise ValueError(f"need x_min > 0 and 0 < x_max_frac <= 1, got x_min = {x_min}, "
                         f"x_max_frac = {x_max_frac}")
    x = recovery_index(np.asarray(t, dtype=np.float64), int(d), float(a))
    return (x >= x_min) & (x <= x_max_frac * d)


def tail_exponent(
    t: np.ndarray, loss: np.ndarray, d: int, a: float, x_min: float, x_max_frac: float, min_points: int = 5
) -> tuple[float, int]:
    """(beta, n): least-squares slope -d log L / d log t on the tail window, and its sample count.

    beta is NaN when the window holds fewer than min_points samples or a loss there is not
    positive and finite (a run stuck away from w* is classified by ``classify_endpoint`` instead).
    """
    t, loss = np.asarray(t, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    if t.shape != loss.shape or t.ndim != 1:
        raise ValueError(f"t and loss must be 1-D of one length, got {t.shape} and {loss.shape}")
    if int(min_points) != min_points or min_points < 2:
        raise ValueError(f"min_points must be an integer >= 2, got {min_points}")
    window = tail_window(t, d, a, x_min, x_max_frac)
    n = int(window.sum())
    if n < min_points or not np.all(np.isfinite(loss[window]) & (loss[window] > 0)):
        return float("nan"), n
    slope, _ = np.polyfit(np.log(t[window]), np.log(loss[window]), 1)
    return float(-slope), n


def log_gap(t: np.ndarray, loss: np.ndarray, t_ref: np.ndarray, loss_ref: np.ndarray) -> float:
    """max_k |log loss_k - log loss_ref(t_k)| over the t_k inside t_ref's range (inf if a value is not
    positive and finite: a diverged SGD replica); loss_ref is interpolated linearly in log-log."""
    t, loss = np.asarray(t, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    t_ref, loss_ref = np.asarray(t_ref, dtype=np.float64), np.asarray(loss_ref, dtype=np.float64)
    if t.shape != loss.shape or t_ref.shape != loss_ref.shape or t.ndim != 1 or t_ref.ndim != 1:
        raise ValueError("t, loss and t_ref, loss_ref must be 1-D pairs of one length each")
    inside = (t >= t_ref[0]) & (t <= t_ref[-1])
    if not inside.any():
        raise ValueError("no time of t lies inside the reference's time range")
    # only the reference samples that bracket the compared times enter the interpolation
    lo = max(int(np.searchsorted(t_ref, t[inside][0], side="right")) - 1, 0)
    hi = min(int(np.searchsorted(t_ref, t[inside][-1], side="left")) + 1, t_ref.size)
    t_ref, loss_ref = t_ref[lo:hi], loss_ref[lo:hi]
    if not (np.all(np.isfinite(loss_ref)) and np.all(loss_ref > 0)):
        raise ValueError("the reference loss must be positive and finite over the compared times")
    vals = loss[inside]
    if not (np.all(np.isfinite(vals)) and np.all(vals > 0)):
        return math.inf
    ref = np.interp(np.log(t[inside]), np.log(t_ref), np.log(loss_ref))
    return float(np.max(np.abs(np.log(vals) - ref)))
