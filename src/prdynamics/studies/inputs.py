"""Non-Gaussian input study: inputs x = sqrt(lam) * z with i.i.d. standardised z.

The exact population flow of a product law (``integrate_flow_product``), then measurements
on its trajectories and end states (SGD under the same law is ``sgd.run_sgd``), then the claims.

The population of a product law
-------------------------------
x = sqrt(lam) * z with z_i i.i.d., E z = 0, E z^2 = 1, E z^4 = m4, and kappa = m4 - 3
(the fourth cumulant; 0 for the Gaussian, the paper's case, -2 for Rademacher, -6/5 for
the uniform law, 6 / (nu - 4) for the standardised Student t, 3/p - 3 for the sparse law;
``kappa_of``).  Since m4 >= (E z^2)^2 = 1, kappa >= -2.  Labels are y = (x.w*)^2.

Fourth moments.  With alpha_i = sqrt(lam_i) a_i, beta_i = sqrt(lam_i) b_i,
    E[(x.a)^2 (x.b)^2] = sum_{ijkl} alpha_i alpha_j beta_k beta_l E[z_i z_j z_k z_l],
and for i.i.d. standardised z_i,
    E[z_i z_j z_k z_l] = d_ij d_kl + d_ik d_jl + d_il d_jk + kappa d_ijkl
(the three pairings give 3 = m4 - kappa when all four indices agree).  Hence
    E[(x.a)^2 (x.b)^2] = (sum lam a^2)(sum lam b^2) + 2 (sum lam a b)^2 + kappa sum lam_i^2 a_i^2 b_i^2,
    E[(x.a)^4]         = 3 (sum lam a^2)^2 + kappa sum lam_i^2 a_i^4.

Loss.  With s = w^T Q w, u = w^T Q w*, s* = w*^T Q w*,
    L(w) = E(x.w)^4 - 2 E[(x.w)^2 (x.w*)^2] + E(x.w*)^4
         = [3 s^2 + kappa S4(w)] - 2 [s s* + 2 u^2 + kappa S22] + [3 s*^2 + kappa S4(w*)]
         = L_gauss + kappa sum_i lam_i^2 (w_i^2 - w*_i^2)^2,
    L_gauss = 3 s^2 + 3 s*^2 - 4 u^2 - 2 s s*        (population.loss),
with S4(w) = sum lam_i^2 w_i^4 and S22 = sum lam_i^2 w_i^2 w*_i^2; the kappa term is the
brief's kappa [S4(w) - 2 S22 + S4(w*)], a perfect square per coordinate.

Gradient, flow, Jacobian (Q = diag(lam), qw = Q w, qw* = Q w*, all products per coordinate):
    grad L  = (12 s - 4 s*) Q w - 8 u Q w* + 4 kappa lam^2 w (w^2 - w*^2),
    dw/dt   = -grad L,
    dw_i/dt = 4 lam_i (s* - 3 s) w_i + 8 lam_i u w*_i - 4 kappa lam_i^2 w_i (w_i^2 - w*_i^2),
    Hess L  = diag((12 s - 4 s*) lam + 4 kappa lam^2 (3 w^2 - w*^2)) + 24 qw qw^T - 8 qw* qw*^T,
    J       = d(dw/dt)/dw = -Hess L  (a diagonal plus a rank-two part; kappa only adds to the diagonal).

Stationary points (kappa != 0).
* +-w* stay global minima: L >= 0 is an expectation of a square, L(+-w*) = 0, and the
  gradient vanishes there (both the Gaussian part and w_i^2 - w*_i^2 = 0).  The Hessian there
  is 8 E[(x.w*)^2 x x^T] = 8 [s* Q + 2 qw* qw*^T + kappa diag(lam^2 w*^2)], positive semidefinite.
* w = 0 is critical with J(0) = diag(4 lam (s* + kappa lam w*^2)) + 8 qw* qw*^T.  For kappa < 0
  a diagonal entry can be negative (lam_i w*_i^2 > 1/|kappa|, possible for the top modes when
  a > 1); then 0 is a saddle rather than a strict local maximum.  Phase I escapes along the top
  eigenvector of J(0) at the rate ``escape_rate_product``.
* Saddles.  Critical points solve, per coordinate with lam_i > 0,
      kappa lam_i w_i^3 + [3 s - s* - kappa lam_i w*_i^2] w_i = 2 u w*_i,
  a cubic in w_i given (s, u), closed by s = sum lam_i w_i^2 and u = sum lam_i w_i w*_i.  With
  u = 0 every coordinate has w_i = 0 or w_i^2 = w*_i^2 + (s* - 3 s) / (kappa lam_i): for
  kappa = 0 this forces s = s*/3 (the paper's saddle manifold, dimension d - 2); for
  kappa != 0 the manifold breaks up and u = 0 then needs sum_i (+-) lam_i |w_i| |w*_i| = 0 over
  a discrete set of signs, which fails for generic w*, so apart from w = 0 the critical points
  have u != 0 and are isolated, with a spread of s values.  (Newton from 1500 random starts,
  d in {6, 8}, a in {0, 2}, kappa in {-2, -1.2, 0.75, 3}: the only u = 0 critical point found
  is w = 0; the index-one saddles have 0.004 <= |u| <= 0.37 and 0.32 <= s <= 0.76, mostly
  above 1/3.)  There is therefore no clean replacement for the
  threshold s = s*/3, and no ``threshold_level`` function here.  What to measure instead is
  the minimum of s after its first upcrossing of 1/3 (``phases.threshold_report``'s
  min_margin, on a trajectory of ``integrate_flow_product``), and, per mode, the level at
  which the self-coupling of mode i changes sign (``neutral_levels``):
      s_i = [s* - kappa lam_i (w_i^2 - w*_i^2)] / 3,
  which is s*/3 for learned modes (w_i^2 = w*_i^2) and (s* + kappa lam_i w*_i^2) / 3 for
  unlearned ones (w_i ~ 0).
* Rademacher (kappa = -2) has spurious local minima: (x.e_j)^2 = lam_j does not depend on z,
  so w ~ c e_j predicts a constant (E y at best, with loss Var(y) = 2 s*^2 - 2 sum lam_i^2 w*_i^4)
  and small other components lower the loss further to a local minimum.  Found by Newton at
  d = 6 (a = 0 and 2) and reached by the flow from the paper's start at a = 2, d = 100,
  seed 0 (w_1 = -1.259 ~ -lam_1^-1/2, loss 0.297 < Var(y) = 0.355, gradient 0, Hessian
  positive definite); none found for kappa = -1.2, 0.75, 3.

Measurements
------------

* ``classify_endpoint``: where a flow ended: at the global minimum (loss ~ 0), at another local
  minimum (stationary, positive-definite Hessian, loss > 0), at another stationary point, or
  still moving.
* ``tail_exponent``: the late-time loss decay exponent beta in L ~ t^-beta, fitted on a window
  fixed by the recovery index x_d(t) = (16 t / H_{d,a})^{1/a} (``theory.recovery_index``): the
  Gaussian theory predicts beta = 1 - 1/a for 1 << x_d << d.  For another law the Phase III
  rates of the modes change from 8 lam_i to 8 lam_i (1 + kappa lam_i w*_i^2) (the Hessian at w*,
  above), a correction that vanishes for the tail modes (lam_i -> 0), so the
  exponent is expected to survive; the fit measures it.
* ``log_gap``: the largest |log L_a(t) - log L_b(t)| between two loss curves on a's times
  (b interpolated linearly in log t): a value distance, in e-folds, between SGD and a flow.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import BDF, Radau
from scipy.optimize import brentq

from .. import phases
from ..claims import Claim, finding
from ..flow import STAT_NAMES, Trajectory, check_times
from ..model import check_problem, spectrum
from ..phases import stopping_times, threshold_report
from ..sgd import fourth_moment
from ..statistics import count_interval, mean_ci
from . import StudyInputError

#: Outcomes of ``classify_endpoint``.
ENDPOINTS = ("global", "local_min", "stationary_other", "moving")


#: The most negative fourth cumulant: E z^4 >= (E z^2)^2 = 1, with equality for Rademacher only.
KAPPA_MIN = -2.0


#: Stiff solve_ivp methods that take the analytic Jacobian.
STIFF_METHODS = ("BDF", "Radau")


_SOLVERS = {"BDF": BDF, "Radau": Radau}


def kappa_of(law: str, param: float | None = None) -> float:
    """Fourth cumulant kappa = E z^4 - 3 of a standardised input law (see sgd.INPUT_LAWS)."""
    return fourth_moment(law, param) - 3.0


def loss_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> float:
    """L(w) = 3 s^2 + 3 s*^2 - 4 u^2 - 2 s s* + kappa sum_i lam_i^2 (w_i^2 - w*_i^2)^2."""
    lam, wstar, w = check_problem(lam, wstar, w)
    kappa = _check_kappa(kappa)
    s, u, ss = _stats(w, lam, wstar)
    excess = lam * (w * w - wstar * wstar)
    return float(3 * s * s + 3 * ss * ss - 4 * u * u - 2 * ss * s + kappa * (excess @ excess))


def gradient_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """grad L = (12 s - 4 s*) Q w - 8 u Q w* + 4 kappa lam^2 w (w^2 - w*^2)."""
    lam, wstar, w = check_problem(lam, wstar, w)
    kappa = _check_kappa(kappa)
    return _gradient(w, lam, wstar, kappa, _stats(w, lam, wstar))


def flow_rhs_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """dw/dt = -grad L: 4 lam (s* - 3 s) w + 8 lam u w* - 4 kappa lam^2 w (w^2 - w*^2)."""
    return -gradient_product(w, lam, wstar, kappa)


def hessian_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """Hess L = diag((12 s - 4 s*) lam + 4 kappa lam^2 (3 w^2 - w*^2)) + 24 qw qw^T - 8 qw* qw*^T (dense)."""
    lam, wstar, w = check_problem(lam, wstar, w)
    kappa = _check_kappa(kappa)
    return -_jacobian(w, lam, wstar, kappa)


def jacobian_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """Jacobian of flow_rhs_product, -Hess L: what the stiff integrator factorises (dense d x d)."""
    lam, wstar, w = check_problem(lam, wstar, w)
    kappa = _check_kappa(kappa)
    return _jacobian(w, lam, wstar, kappa)


def summary_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> dict[str, float]:
    """flow's statistics s, u, s2, u2, mse and loss, with loss = loss_product."""
    lam, wstar, w = check_problem(lam, wstar, w)
    kappa = _check_kappa(kappa)
    row = _summary_rows(w[None, :], lam, wstar, kappa)[0]
    return {name: float(row[j]) for j, name in enumerate(STAT_NAMES)}


def neutral_levels(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """Per mode, the s at which its self-coupling 4 lam_i [s* - 3 s - kappa lam_i (w_i^2 - w*_i^2)] vanishes.

    s_i = [s* - kappa lam_i (w_i^2 - w*_i^2)] / 3: the Gaussian threshold s*/3 for every mode
    when kappa = 0; for kappa != 0 it depends on the mode and on how far it is learned, which
    is why no single saddle level replaces 1/3 (module docstring).
    """
    lam, wstar, w = check_problem(lam, wstar, w)
    kappa = _check_kappa(kappa)
    ss = float(np.sum(lam * wstar * wstar))
    return (ss - kappa * lam * (w * w - wstar * wstar)) / 3.0


def escape_rate_product(lam: np.ndarray, wstar: np.ndarray, kappa: float) -> float:
    """Top eigenvalue of J(0) = diag(D) + 8 c c^T, D_i = 4 lam_i (s* + kappa lam_i w*_i^2), c = Q w*.

    Near w = 0 the flow is dw/dt = J(0) w + O(|w|^3), so u grows like e^{rho t} with rho the
    root above max{D_i : c_i != 0} of 1 = 8 sum_i c_i^2 / (rho - D_i) (theory.escape_rate
    for kappa = 0).  Solved for x = rho - D_top on the bracket of theory.escape_rate:
    x_lo = 4 C_top gives a sum >= 2, x_hi = 16 sum c_i^2 a sum <= 1/2.
    """
    lam, wstar, _ = check_problem(lam, wstar)
    kappa = _check_kappa(kappa)
    ss = float(np.sum(lam * wstar * wstar))
    weight = (lam * wstar) ** 2
    keep = weight > 0
    if not np.any(keep):
        raise ValueError("w* has no weight on a positive eigenvalue: the escape rate is undefined")
    diag = (4.0 * lam * (ss + kappa * lam * wstar * wstar))[keep]
    weight = weight[keep]
    top = float(diag.max())
    gap = top - diag
    c_top = float(weight[diag == top].sum())

    def excess(x):
        return 8.0 * np.sum(weight / (x + gap)) - 1.0

    x = brentq(excess, 4.0 * c_top, 16.0 * float(weight.sum()), xtol=1e-300,
               rtol=4 * np.finfo(float).eps, maxiter=500)
    return top + x


def integrate_flow_product(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t_eval: np.ndarray,
    kappa: float,
    rtol: float,
    atol: float,
    method: str = "BDF",
) -> Trajectory:
    """Exact population gradient flow for product-measure inputs, recorded at t_eval.

    The cubic terms kappa lam_i^2 w_i^3 break the (s, u) structure of flow.integrate_flow, so
    this is one of scipy's stiff solvers ("BDF" by default, or "Radau") with the analytic dense
    Jacobian -Hess L.  Its cost is the dense LU of I - c J (tens of ms at d = 1000, about 120 of
    them for a = 2 up to t = 1e4: ~3 s, against ~0.1 s at d = 100); Radau factorises a real and a
    complex matrix (3-4x slower) and is the better choice for rtol << 1e-9 at small d.  Many runs
    side by side on few cores should set OPENBLAS_NUM_THREADS=1 (threaded LUs then slow down ~5x).
    The solver steps freely to t_eval[-1]; outputs inside a step come from its dense output
    (error of the order of the local tolerance), an output at a step's end from the state.
    Returns a flow.Trajectory: s, u, s2, u2, mse and loss = loss_product; w_final is the
    state at t_eval[-1]; n_steps the accepted steps; info the solver counts.
    """
    lam, wstar, w = check_problem(lam, wstar, w0)
    t_eval = check_times(t_eval)
    kappa = _check_kappa(kappa)
    if method not in STIFF_METHODS:
        raise ValueError(f"method must be one of {', '.join(STIFF_METHODS)}, got {method!r}")
    if not (0 < rtol < 1) or not (atol >= 0):
        raise ValueError(f"need 0 < rtol < 1 and atol >= 0, got rtol={rtol}, atol={atol}")

    def rhs(t, y):
        return -_gradient(y, lam, wstar, kappa, _stats(y, lam, wstar))

    def jac(t, y):
        return _jacobian(y, lam, wstar, kappa)

    solver = _SOLVERS[method](rhs, 0.0, w, float(t_eval[-1]), rtol=rtol, atol=atol, jac=jac)
    if method == "BDF" and getattr(solver, "D", None) is not None:
        # scipy allocates BDF's difference table with np.empty: rows above the current order are
        # overwritten before they are read, but NaN or inf garbage there raises spurious warnings
        solver.D[2:] = 0.0
    paths = np.empty((len(t_eval), w.shape[0]))
    k = n_steps = 0
    while k < len(t_eval):
        message = solver.step()
        if solver.status == "failed":
            raise FloatingPointError(f"{method} failed at t = {solver.t:.6g} with kappa = {kappa}: {message}")
        n_steps += 1
        stop = int(np.searchsorted(t_eval, solver.t, side="right"))
        if stop > k:  # outputs inside the step come from its interpolant, one at its end exactly
            if t_eval[stop - 1] == solver.t:
                paths[stop - 1] = solver.y
                inner = slice(k, stop - 1)
            else:
                inner = slice(k, stop)
            if inner.stop > inner.start:
                paths[inner] = solver.dense_output()(t_eval[inner]).T
            k = stop
    stats = _summary_rows(paths, lam, wstar, kappa)
    return Trajectory(
        t=t_eval.copy(),
        stats={name: stats[:, j].copy() for j, name in enumerate(STAT_NAMES)},
        w_final=paths[-1].copy(),
        n_steps=n_steps,
        info={"method": f"product_flow/{method}", "kappa": kappa, "rtol": rtol, "atol": atol,
              "nfev": int(solver.nfev), "njev": int(solver.njev), "nlu": int(solver.nlu)},
    )


def _stats(w, lam, wstar):
    qw = lam * w
    return float(qw @ w), float(qw @ wstar), float(np.sum(lam * wstar * wstar))


def _gradient(w, lam, wstar, kappa, stats):
    s, u, ss = stats
    grad = lam * ((12 * s - 4 * ss) * w - 8 * u * wstar)
    if kappa != 0.0:
        grad += 4 * kappa * lam * lam * w * (w * w - wstar * wstar)
    return grad


def _jacobian(w, lam, wstar, kappa):
    s, _, ss = _stats(w, lam, wstar)
    qw, qws = lam * w, lam * wstar
    jac = -24.0 * np.outer(qw, qw)
    jac += 8.0 * np.outer(qws, qws)
    diag = (4 * ss - 12 * s) * lam - 4 * kappa * lam * lam * (3 * w * w - wstar * wstar)
    jac[np.diag_indices_from(jac)] += diag
    return jac


def _summary_rows(W, lam, wstar, kappa):
    """Rows (s, u, s2, u2, mse, loss) for the states in the rows of W."""
    d = lam.shape[0]
    qw = W * lam
    s, u = np.sum(qw * W, axis=1), qw @ wstar
    s2, u2 = np.sum(qw * lam * W, axis=1), qw @ (lam * wstar)
    ss = float(np.sum(lam * wstar * wstar))
    mse = np.minimum(np.sum((W - wstar) ** 2, axis=1), np.sum((W + wstar) ** 2, axis=1)) / d
    excess = lam * (W * W - wstar * wstar)
    loss = 3 * s * s + 3 * ss * ss - 4 * u * u - 2 * ss * s + kappa * np.sum(excess * excess, axis=1)
    return np.stack([s, u, s2, u2, mse, loss], axis=1)


def _check_kappa(kappa):
    kappa = float(kappa)
    if not (math.isfinite(kappa) and kappa >= KAPPA_MIN):
        raise ValueError(f"kappa = E z^4 - 3 must be finite and >= {KAPPA_MIN} (E z^4 >= 1), got {kappa}")
    return kappa


# --------------------------------------------------------------------------- measurements



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


def tail_window(t: np.ndarray, t_origin: float, d: int, a: float, x_min: float,
                x_max_frac: float) -> np.ndarray:
    """Mask of the times with x_min <= x_d(t - t_origin) <= x_max_frac * d (``phases.tail_window``).

    Empty when x_min > x_max_frac * d: d is then too small for a power-law window.
    """
    return phases.tail_window(t, t_origin, d, a, x_min, x_max_frac)


def tail_exponent(t: np.ndarray, loss: np.ndarray, t_origin: float, d: int, a: float, x_min: float,
                  x_max_frac: float, min_points: int) -> tuple[float, int]:
    """(beta, n): the library's one tail exponent (``phases.tail_exponent``: origin T2, the window
    x_min <= x_d(t - T2) <= x_max_frac d on the grid samples), and its sample count.

    beta is NaN when the window holds fewer than min_points samples or a loss there is not
    positive and finite (a run stuck away from w* is classified by ``classify_endpoint`` instead).
    """
    return phases.tail_exponent(t, loss, t_origin, d, a, x_min, x_max_frac, min_points)


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


# ---- summary ----

#: What summarise reads from each product-flow file (scripts/simulate_inputs.py) and SGD file.
FLOW_KEYS = ("t", "s", "u", "u2", "loss", "lam", "wstar", "w_final", "seed", "d", "a", "input_dist", "kappa",
             "failed")
SGD_KEYS = ("t", "loss", "seed", "d", "eta", "input_dist", "diverged", "diverged_step")


def _time_names(eps) -> list[str]:
    return ["T1", "T_third", "T1_prime"] + [f"T2_eps{e:g}" for e in eps]


def flow_rows(flows: list[dict], *, delta: float, eps, s0: float, loss_tol: float, grad_tol: float,
              phase3_eps: float, tail_x_min: float, tail_x_max_frac: float,
              tail_min_points: int) -> list[dict]:
    """One row per flow run: stopping times, threshold report, end point (``classify_endpoint``)
    and, for runs at the global minimum, the tail exponent (``tail_exponent``) from T2(phase3_eps)."""
    rows = []
    for f in flows:
        law, d, a, kappa = f["input_dist"], int(f["d"]), float(f["a"]), float(f["kappa"])
        for r, seed in enumerate(np.atleast_1d(f["seed"])):
            row = {"law": law, "d": d, "seed": int(seed), "kappa": kappa, "failed": bool(f["failed"][r])}
            stats = {k: f[k][r] for k in ("s", "u", "u2", "loss")}
            if row["failed"]:
                row |= {"crossings": 0, "min_margin": float("nan"), "status": "failed", "loss": float("nan"),
                        "grad_norm": float("nan"), "hess_min_eig": float("nan"), "beta": float("nan"),
                        "tail_points": 0}
                row |= dict.fromkeys(_time_names(eps), float("nan"))
                rows.append(row)
                continue
            row |= stopping_times(f["t"], stats, delta, eps, s0)
            rep = threshold_report(f["t"], stats["s"])
            row |= {"crossings": rep["crossings"], "min_margin": rep["min_margin"]}
            row |= classify_endpoint(f["w_final"][r], f["lam"], f["wstar"][r], kappa, loss_tol, grad_tol)
            if row["status"] == "global":
                t2 = phases.tail_origin(f["t"], stats["s"], stats["u"], phase3_eps)
                row["beta"], row["tail_points"] = tail_exponent(f["t"], stats["loss"], t2, d, a, tail_x_min,
                                                                tail_x_max_frac, tail_min_points)
            else:
                row["beta"], row["tail_points"] = float("nan"), 0
            rows.append(row)
    return rows


def sgd_rows(sgds: list[dict], flows: dict) -> list[dict]:
    """One row per SGD replica: its log_gap to the flow of its law and to the Gaussian flow (same
    seed), and the signed log ratio to its law's flow at its last time; flows: {(law, d): flow file}."""
    rows = []
    for g in sgds:
        law, d = g["input_dist"], int(g["d"])
        if (law, d) not in flows or ("gaussian", d) not in flows:
            raise StudyInputError(f"the SGD file of {law}, eta = {float(g['eta']):g}: needs the flow files "
                                  f"of {law} and gaussian at d = {d}")
        own, gauss = flows[(law, d)], flows[("gaussian", d)]
        for r, seed in enumerate(np.atleast_1d(g["seed"])):
            i_own = int(np.flatnonzero(own["seed"] == seed)[0])
            i_g = int(np.flatnonzero(gauss["seed"] == seed)[0])
            gap_own = log_gap(g["t"], g["loss"][r], own["t"], own["loss"][i_own])
            gap_g = log_gap(g["t"], g["loss"][r], gauss["t"], gauss["loss"][i_g])
            ok = np.isfinite(g["loss"][r])
            # signed log ratio at the last SGD time (> 0: SGD above its flow); the clip only guards
            # flow samples that reached rounding level long after the SGD horizon
            ref = np.log(np.maximum(own["loss"][i_own], 1e-300))
            final = float(np.log(g["loss"][r][-1]) - np.interp(np.log(g["t"][-1]), np.log(own["t"]), ref)) \
                if ok[-1] else np.nan
            rows.append({"law": law, "eta": float(g["eta"]), "d": d, "seed": int(seed),
                         "diverged": bool(g["diverged"][r]),
                         "diverged_time": (float(g["diverged_step"][r] * g["eta"]) if g["diverged"][r]
                                           else np.nan),
                         "gap_own": gap_own, "gap_gauss": gap_g, "final_log_ratio_own": final})
    return rows


def summarise(flows: list[dict], sgds: list[dict], *, delta: float, eps, s0: float, loss_tol: float,
              grad_tol: float, phase3_eps: float, tail_x_min: float, tail_x_max_frac: float,
              tail_min_points: int) -> dict:
    """The study's arrays: one run_* entry per flow run (``flow_rows``), one sgd_* entry per SGD
    replica (``sgd_rows``), and the linearised Gaussian theory of the tail exponent.

    flows: one file per (law, d), one spectrum a, the Gaussian at every d (FLOW_KEYS); sgds: one
    file per (law, eta) (SGD_KEYS).  Raises StudyInputError when they do not fit together.
    """
    by_law_d = {(f["input_dist"], int(f["d"])): f for f in flows}
    if len(by_law_d) != len(flows):
        raise StudyInputError("two flow files share one (law, d)")
    a_values = {float(f["a"]) for f in flows}
    if len(a_values) != 1:
        raise StudyInputError(f"the flow files mix spectra a = {sorted(a_values)}")
    (a,) = a_values
    for _, d in by_law_d:
        if ("gaussian", d) not in by_law_d:
            raise StudyInputError(f"no Gaussian flow file at d = {d} (the reference of every law)")
    tail = {"tail_x_min": tail_x_min, "tail_x_max_frac": tail_x_max_frac, "tail_min_points": tail_min_points}
    rows = flow_rows(flows, delta=delta, eps=eps, s0=s0, loss_tol=loss_tol, grad_tol=grad_tol,
                     phase3_eps=phase3_eps, **tail)
    srows = sgd_rows(sgds, by_law_d)

    theory = 1.0 - 1.0 / a if a > 1 else float("nan")
    window_theory = {}
    if a > 1:  # the same fit on the linearised Gaussian Phase III loss: 1 - 1/a plus the window's bias
        for d in sorted({d for _, d in by_law_d}):
            t = by_law_d[("gaussian", d)]["t"]
            window_theory[d] = phases.tail_exponent_exact(t, 0.0, spectrum(d, a), None, a, tail_x_min,
                                                          tail_x_max_frac, tail_min_points)
    return {
        "a": a, "beta_theory": theory, "eps": np.asarray(eps),
        "window_theory_d": np.asarray(sorted(window_theory), dtype=np.int64),
        "window_theory_beta": np.asarray([window_theory[d] for d in sorted(window_theory)], dtype=float),
        "run_law": np.asarray([r["law"] for r in rows]), "run_d": np.asarray([r["d"] for r in rows]),
        "run_seed": np.asarray([r["seed"] for r in rows]),
        "run_kappa": np.asarray([r["kappa"] for r in rows]),
        "run_status": np.asarray([r["status"] for r in rows]),
        **{f"run_{k}": np.asarray([float(r[k]) for r in rows]) for k in
           (*_time_names(eps), "min_margin", "loss", "grad_norm", "hess_min_eig", "beta")},
        "run_crossings": np.asarray([r["crossings"] for r in rows]),
        "run_tail_points": np.asarray([r["tail_points"] for r in rows]),
        "sgd_law": np.asarray([r["law"] for r in srows], dtype=str),
        "sgd_eta": np.asarray([r["eta"] for r in srows], dtype=float),
        "sgd_d": np.asarray([r["d"] for r in srows], dtype=np.int64),
        "sgd_seed": np.asarray([r["seed"] for r in srows], dtype=np.int64),
        "sgd_diverged": np.asarray([r["diverged"] for r in srows], dtype=bool),
        **{f"sgd_{k}": np.asarray([r[k] for r in srows], dtype=float) for k in
           ("diverged_time", "gap_own", "gap_gauss", "final_log_ratio_own")},
    }


def summary_rows(summary: dict) -> tuple[list[dict], list[dict]]:
    """The flow rows and SGD rows of a summary (its run_* and sgd_* arrays), as the claims read them:
    a failed run is one with status "failed"."""
    def unpack(prefix):
        cols = {k[len(prefix):]: np.asarray(v).tolist() for k, v in summary.items() if k.startswith(prefix)}
        n = len(next(iter(cols.values())))
        return [{k: v[i] for k, v in cols.items()} for i in range(n)]

    runs = [r | {"failed": r["status"] == "failed"} for r in unpack("run_")]
    return runs, unpack("sgd_")


# ---- claims ----


def _inputs_key(law: str, d: int | None = None) -> str:
    return law if d is None else f"{law}/d={int(d)}"


def claim_threshold(rows: list[dict], *, level: float) -> Claim:
    """Finding: per input law, upward crossings of s = 1/3 and the smallest s - 1/3 after the first.

    rows: one per flow run with law, d, crossings, min_margin (phases.threshold_report) and failed.
    For kappa != 0 the saddle manifold {u = 0, s = 1/3} breaks up (module docstring), so whether the
    Gaussian picture (one crossing, s stays above 1/3) survives is measured, not assumed.
    complete: every run was integrated and every (law, d) group has runs, the Gaussian included.
    """
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    measured, kept, intervals = {}, [], {}
    for key, rs in sorted(groups.items()):
        ok = [r for r in rs if not r["failed"]]
        margins = [r["min_margin"] for r in ok if math.isfinite(r["min_margin"])]
        single = sum(r["crossings"] == 1 for r in ok)
        stays = sum(math.isfinite(r["min_margin"]) and r["min_margin"] > 0 for r in ok)
        measured[key] = {"runs": len(rs), "single_crossing": single, "never_crossed": sum(r["crossings"] == 0
                         for r in ok), "stays_above_third": stays,
                         "min_s_minus_third_after_crossing": min(margins) if margins else float("nan"),
                         "max_crossings": max((r["crossings"] for r in ok), default=0)}
        if ok and single == len(rs) and stays == len(rs):
            kept.append(key)
        intervals[key] = {"single_crossing_and_stays_above": count_interval(
            sum(r["crossings"] == 1 and math.isfinite(r["min_margin"]) and r["min_margin"] > 0 for r in ok),
            len(rs), level)}
    measured["threshold_kept"] = kept
    valid = bool(groups) and all(not r["failed"] for r in rows) and any(r["law"] == "gaussian" for r in rows)
    return finding(
        "inputs.threshold",
        "Finding: for each input law, does s cross 1/3 exactly once and stay above it afterwards "
        "(the Gaussian s = 1/3 threshold)? Listed per (law, d): crossings and the smallest s - 1/3 "
        "after the first upcrossing; threshold_kept names the groups where every run keeps the picture.",
        measured={**measured, "complete": valid,
                  "reference": {"single_crossing": "= runs",
                                "min_s_minus_third_after_crossing": "> 0 (Gaussian picture)"}},
        interval=intervals,
    )


def claim_phases(rows: list[dict], *, eps_list, level: float) -> Claim:
    """Finding: per (law, d), how many runs show each phase (T1, T_1/3, T2(eps) finite), and their
    median times over the Gaussian runs of the same seeds (the targets and starts are shared)."""
    by_key: dict[str, list[dict]] = {}
    gauss = {(r["d"], r["seed"]): r for r in rows if r["law"] == "gaussian"}
    for r in rows:
        by_key.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    names = ["T1", "T_third"] + [f"T2_eps{e:g}" for e in eps_list]
    measured = {}
    for key, rs in sorted(by_key.items()):
        entry = {"runs": len(rs)}
        for n in names:
            vals = [r[n] for r in rs]
            entry[f"{n}_finite"] = int(sum(math.isfinite(v) for v in vals))
            ratios = [r[n] / gauss[(r["d"], r["seed"])][n] for r in rs if (r["d"], r["seed"]) in gauss
                      and math.isfinite(r[n]) and math.isfinite(gauss[(r["d"], r["seed"])][n])]
            entry[f"{n}_median_over_gaussian"] = float(np.median(ratios)) if ratios else float("nan")
        measured[key] = entry
    intervals = {key: {f"{n}_finite": count_interval(e[f"{n}_finite"], e["runs"], level) for n in names}
                 for key, e in measured.items()}
    valid = bool(gauss) and all(not r["failed"] for r in rows)
    return finding(
        "inputs.phases",
        "Finding: per (law, d), the number of runs that escape (T1), cross s = 1/3 and converge "
        "(T2(eps)) -- the three phases -- and the median over seeds of each time divided by the "
        "Gaussian run's from the same target and start.",
        measured={**measured, "complete": valid,
                  "reference": {"all_phases": "T1, T_third and T2(eps) finite in every run (Gaussian)"}},
        interval=intervals,
    )


def claim_spurious_minimum(rows: list[dict], *, loss_tol: float, grad_tol: float, level: float) -> Claim:
    """Finding: per (law, d), how many flows from the paper's start end at a non-global minimum.

    rows: law, d, seed, status (product_study.classify_endpoint), loss, hess_min_eig, failed.
    complete: every run was classified (none failed, none still moving at t_max).
    """
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    measured, intervals = {}, {}
    for key, rs in sorted(by_key.items()):
        counts = {s: sum(r["status"] == s for r in rs) for s in ("global", "local_min", "stationary_other",
                                                                  "moving", "failed")}
        trapped = [{"seed": int(r["seed"]), "loss": float(r["loss"]),
                    "hess_min_eig": float(r["hess_min_eig"])}
                   for r in rs if r["status"] in ("local_min", "stationary_other")]
        measured[key] = counts | {"runs": len(rs), "non_global": trapped}
        intervals[key] = {"non_global_minimum": count_interval(len(trapped), len(rs), level)}
    valid = bool(rows) and all(r["status"] in ("global", "local_min", "stationary_other") for r in rows)
    return finding(
        "inputs.spurious_minimum",
        "Finding: per (law, d), how many gradient flows from the paper's start end at a non-global "
        "minimum: final exact loss above loss_tol, gradient norm below grad_tol and a positive-definite "
        "Hessian (local_min); global means loss <= loss_tol.",
        measured={**measured, "complete": valid,
                  "reference": {"local_min": "0 for the Gaussian (its only minima are +-w*)"},
                  "thresholds": {"loss_tol": loss_tol, "grad_tol": grad_tol}},
        interval=intervals,
    )


def claim_tail_exponent(rows: list[dict], *, theory: float, atol: float, level: float,
                        window_theory: dict[int, float] | None = None) -> Claim:
    """Finding: the late-time loss exponent per (law, d) against the Gaussian one of the same seeds.

    rows: law, d, seed, status, beta (product_study.tail_exponent; NaN if the window is too short).
    Only runs that reached the global minimum have a tail; trapped runs are counted apart.
    window_theory[d]: the same fit on the linearised Gaussian Phase III loss 4 sum lam e^{-16 lam t}
    (theory.phase3_loss), i.e. 1 - 1/a with the finite-d correction of the window.
    complete: every converging run has a fitted exponent and the Gaussian runs are there.
    """
    gauss = {(r["d"], r["seed"]): r["beta"] for r in rows
             if r["law"] == "gaussian" and r["status"] == "global"}
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(_inputs_key(r["law"], r["d"]), []).append(r)
    measured, same, intervals = {}, [], {}
    for key, rs in sorted(by_key.items()):
        conv = [r for r in rs if r["status"] == "global"]
        betas = [r["beta"] for r in conv if math.isfinite(r["beta"])]
        diffs = [r["beta"] - gauss[(r["d"], r["seed"])] for r in conv
                 if (r["d"], r["seed"]) in gauss and math.isfinite(r["beta"])]
        med_diff = float(np.median(diffs)) if diffs else float("nan")
        measured[key] = {"converged_runs": len(conv), "median_beta": float(np.median(betas)) if betas else
                         float("nan"), "min_beta": min(betas, default=float("nan")),
                         "max_beta": max(betas, default=float("nan")),
                         "median_beta_minus_gaussian": med_diff,
                         "max_abs_beta_minus_gaussian": max((abs(x) for x in diffs), default=float("nan"))}
        if math.isfinite(med_diff) and abs(med_diff) <= atol:
            same.append(key)
        mean, lo, hi = mean_ci(diffs, level)
        intervals[key] = {"mean_beta_minus_gaussian": mean, "ci": [lo, hi], "level": level}
    measured["same_as_gaussian"] = same
    if window_theory:
        measured["linearised_theory_same_window"] = {f"d={int(d)}": float(b)
                                                     for d, b in sorted(window_theory.items())}
    conv_all = [r for r in rows if r["status"] == "global"]
    valid = bool(gauss) and bool(conv_all) and all(math.isfinite(r["beta"]) for r in conv_all)
    return finding(
        "inputs.tail_exponent",
        "Finding: the late-time decay exponent beta of the exact loss, L ~ t^-beta on the window "
        "tail_x_min <= x_d(t) <= tail_x_max_frac d, per (law, d), against the Gaussian exponent of "
        "the same seeds; same_as_gaussian lists the groups whose median difference is within atol.",
        measured={**measured, "complete": valid,
                  "reference": {"theory_gaussian": theory, "median_beta_minus_gaussian": 0.0},
                  "thresholds": {"atol": atol}},
        interval=intervals,
    )


def claim_sgd_matches_population(rows: list[dict], *, atol: float, level: float) -> Claim:
    """Finding: does online SGD follow the exact population flow of its own law (and not the Gaussian)?

    rows: law, eta, seed, diverged, gap_own, gap_gauss (product_study.log_gap of SGD's exact loss
    against the flow of its law / of the Gaussian, same seed).  Per (law, eta): replicas,
    diverged, the largest gap to its own flow, the smallest to the Gaussian flow.
    complete: every replica was compared (a diverged replica counts as compared: gap inf).
    """
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(f"{r['law']}/eta={r['eta']:g}", []).append(r)
    measured, tracks, intervals = {}, [], {}
    for key, rs in sorted(by_key.items()):
        own = [r["gap_own"] for r in rs]
        gauss = [r["gap_gauss"] for r in rs]
        kept = [o for o in own if math.isfinite(o)]
        finals = np.asarray([r.get("final_log_ratio_own", float("nan")) for r in rs], dtype=float)
        # for the Gaussian law its own flow is the Gaussian one: nothing to tell apart
        closer = (None if rs[0]["law"] == "gaussian"
                  else int(sum(o < g for o, g in zip(own, gauss, strict=True))))
        entry = {"replicas": len(rs), "diverged": int(sum(bool(r["diverged"]) for r in rs)),
                 "max_gap_own": max(own), "max_gap_own_not_diverged": max(kept, default=float("nan")),
                 "median_gap_own": float(np.median(own)),
                 "min_gap_gaussian": min(gauss), "median_gap_gaussian": float(np.median(gauss)),
                 "closer_to_own_than_gaussian": closer,
                 "median_final_log_ratio_own": float(np.nanmedian(finals)) if np.isfinite(finals).any()
                 else float("nan")}
        measured[key] = entry
        if max(own) <= atol:
            tracks.append(key)
        intervals[key] = {"replicas_within_atol": count_interval(sum(o <= atol for o in own), len(rs), level)}
    measured["tracks_own_flow"] = tracks
    valid = bool(rows) and all(not (math.isnan(r["gap_own"]) or math.isnan(r["gap_gauss"])) for r in rows)
    return finding(
        "inputs.sgd_matches_population",
        "Finding: per (law, eta), the largest distance max_t |log L_SGD(t) - log L_flow(t)| between "
        "online SGD's exact loss and the exact population flow of its own law, from the same target "
        "and start, against the distance to the Gaussian flow; tracks_own_flow lists the groups "
        "where every replica is within atol of its own law's flow.",
        measured={**measured, "complete": valid,
                  "reference": {"max_gap_own": f"<= {atol}",
                                "min_gap_gaussian": "> max_gap_own (the law matters)"},
                  "thresholds": {"atol": atol}},
        interval=intervals,
    )


def claims(summary: dict, *, loss_tol: float, grad_tol: float, tail_atol: float,
           sgd_log_atol: float, confidence_level: float) -> list[Claim]:
    """The study's claims on a summary of ``summarise`` (loss_tol, grad_tol: its end-point rule)."""
    rows, srows = summary_rows(summary)
    window_theory = dict(zip(np.asarray(summary["window_theory_d"]).tolist(),
                             np.asarray(summary["window_theory_beta"]).tolist(), strict=True))
    found = [
        claim_threshold(rows, level=confidence_level),
        claim_phases(rows, eps_list=np.asarray(summary["eps"]).tolist(), level=confidence_level),
        claim_spurious_minimum(rows, loss_tol=loss_tol, grad_tol=grad_tol, level=confidence_level),
        claim_tail_exponent(rows, theory=float(summary["beta_theory"]), atol=tail_atol,
                            level=confidence_level,
                            window_theory=window_theory),
    ]
    if srows:
        found.append(claim_sgd_matches_population(srows, atol=sgd_log_atol, level=confidence_level))
    return found
