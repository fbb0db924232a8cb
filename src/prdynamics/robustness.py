"""Robustness of the model: product-measure inputs and other initialisations.

Product-measure inputs
----------------------
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

Initialisations
---------------
``initial_state(kind, lam, wstar, rng, **params)``; the paper's start is kind="sphere", r = 1.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import BDF, Radau
from scipy.optimize import brentq

from .flow import STAT_NAMES, Trajectory, _check_problem, _check_times
from .model import init_sphere
from .sgd import fourth_moment

#: The most negative fourth cumulant: E z^4 >= (E z^2)^2 = 1, with equality for Rademacher only.
KAPPA_MIN = -2.0

#: Initialisation kinds of ``initial_state``.
INIT_KINDS = ("sphere", "gaussian", "warm", "top")

#: Stiff solve_ivp methods that take the analytic Jacobian.
STIFF_METHODS = ("BDF", "Radau")
_SOLVERS = {"BDF": BDF, "Radau": Radau}


# --------------------------------------------------------------------------- loss and derivatives


def kappa_of(law: str, param: float | None = None) -> float:
    """Fourth cumulant kappa = E z^4 - 3 of a standardised input law (see sgd.INPUT_LAWS)."""
    return fourth_moment(law, param) - 3.0


def loss_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> float:
    """L(w) = 3 s^2 + 3 s*^2 - 4 u^2 - 2 s s* + kappa sum_i lam_i^2 (w_i^2 - w*_i^2)^2."""
    w, lam, wstar = _check_vectors(w, lam, wstar)
    kappa = _check_kappa(kappa)
    s, u, ss = _stats(w, lam, wstar)
    excess = lam * (w * w - wstar * wstar)
    return float(3 * s * s + 3 * ss * ss - 4 * u * u - 2 * ss * s + kappa * (excess @ excess))


def gradient_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """grad L = (12 s - 4 s*) Q w - 8 u Q w* + 4 kappa lam^2 w (w^2 - w*^2)."""
    w, lam, wstar = _check_vectors(w, lam, wstar)
    kappa = _check_kappa(kappa)
    return _gradient(w, lam, wstar, kappa, _stats(w, lam, wstar))


def flow_rhs_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """dw/dt = -grad L: 4 lam (s* - 3 s) w + 8 lam u w* - 4 kappa lam^2 w (w^2 - w*^2)."""
    return -gradient_product(w, lam, wstar, kappa)


def hessian_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """Hess L = diag((12 s - 4 s*) lam + 4 kappa lam^2 (3 w^2 - w*^2)) + 24 qw qw^T - 8 qw* qw*^T (dense)."""
    w, lam, wstar = _check_vectors(w, lam, wstar)
    kappa = _check_kappa(kappa)
    return -_jacobian(w, lam, wstar, kappa)


def jacobian_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """Jacobian of flow_rhs_product, -Hess L: what the stiff integrator factorises (dense d x d)."""
    w, lam, wstar = _check_vectors(w, lam, wstar)
    kappa = _check_kappa(kappa)
    return _jacobian(w, lam, wstar, kappa)


def summary_product(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> dict[str, float]:
    """flow's statistics s, u, s2, u2, mse and loss, with loss = loss_product."""
    w, lam, wstar = _check_vectors(w, lam, wstar)
    kappa = _check_kappa(kappa)
    row = _summary_rows(w[None, :], lam, wstar, kappa)[0]
    return {name: float(row[j]) for j, name in enumerate(STAT_NAMES)}


def neutral_levels(w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, kappa: float) -> np.ndarray:
    """Per mode, the s at which its self-coupling 4 lam_i [s* - 3 s - kappa lam_i (w_i^2 - w*_i^2)] vanishes.

    s_i = [s* - kappa lam_i (w_i^2 - w*_i^2)] / 3: the Gaussian threshold s*/3 for every mode
    when kappa = 0; for kappa != 0 it depends on the mode and on how far it is learned, which
    is why no single saddle level replaces 1/3 (module docstring).
    """
    w, lam, wstar = _check_vectors(w, lam, wstar)
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
    lam, wstar = _check_vectors(lam, lam, wstar)[1:]
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


# --------------------------------------------------------------------------- gradient flow


def integrate_flow_product(
    lam: np.ndarray,
    wstar: np.ndarray,
    w0: np.ndarray,
    t_eval: np.ndarray,
    kappa: float,
    rtol: float = 1e-9,
    atol: float = 1e-12,
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
    lam, wstar, w = _check_problem(lam, wstar, w0)
    t_eval = _check_times(t_eval)
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


# --------------------------------------------------------------------------- initialisations


def initial_state(
    kind: str, lam: np.ndarray, wstar: np.ndarray, rng: np.random.Generator, **params
) -> np.ndarray:
    """A start w(0) of the given kind; the paper's is kind="sphere" with r = 1.

    sphere    uniform on the sphere of radius r (default 1); model.init_sphere, so with
              r = 1 and the run's init stream it is exactly the paper's (seeding.problem) start.
    gaussian  N(0, I_d / d) (norm about 1, not exactly).
    warm      prescribed overlap u0 = w^T Q w* (required) and norm r (optional):
              w = alpha e + beta v, e = w* / ||w*||, v a uniform unit vector Euclidean-orthogonal
              to both w* and Q w* (so v.e = 0 and v^T Q w* = 0).  Then u = alpha e^T Q w*
              = alpha s* / ||w*||, so alpha = u0 ||w*|| / s*, and ||w||^2 = alpha^2 + beta^2,
              so beta = sqrt(r^2 - alpha^2), which needs |u0| <= r s* / ||w*||.  With r
              omitted, beta = 1 (the signal is added to a unit-norm random part; ||w||^2 =
              1 + alpha^2).  Note ||w*|| ~ sqrt(d), so at r = 1 only u0 <~ d^-1/2 is possible.
    top       uniform on the sphere of radius r (default 1) within the first k coordinates
              (k required, 1 <= k <= d), zero elsewhere.
    """
    lam, wstar = _check_vectors(lam, lam, wstar)[1:]
    if kind not in INIT_KINDS:
        raise ValueError(f"unknown initialisation {kind!r}; choose one of {', '.join(INIT_KINDS)}")
    allowed = {"sphere": {"r"}, "gaussian": set(), "warm": {"u0", "r"}, "top": {"k", "r"}}[kind]
    extra = set(params) - allowed
    if extra:
        raise ValueError(f"initialisation {kind!r} takes parameters {sorted(allowed)}, got {sorted(extra)}")
    d = lam.shape[0]
    if kind == "sphere":
        return init_sphere(d, rng, _check_radius(params.get("r", 1.0)))
    if kind == "gaussian":
        return rng.standard_normal(d) / math.sqrt(d)
    if kind == "top":
        k, r = params.get("k"), _check_radius(params.get("r", 1.0))
        if k is None or int(k) != k or not (1 <= k <= d):
            raise ValueError(f"top needs an integer k with 1 <= k <= d = {d}, got {k}")
        w = np.zeros(d)
        w[: int(k)] = init_sphere(int(k), rng, r)
        return w
    return _warm(lam, wstar, rng, params.get("u0"), params.get("r"))


def named_starts(d: int) -> dict[str, tuple[str, dict]]:
    """The study's named starts: name -> (kind, params) for initial_state.

    sphere_r1 is the paper's start.  sphere_rsqrtd (norm sqrt(d), entries O(1) like w*) is
    also the reviewer's "norm sqrt(d)" start: one run serves both.
    """
    if int(d) != d or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d}")
    return {
        "sphere_r1": ("sphere", {"r": 1.0}),
        "sphere_rinvsqrtd": ("sphere", {"r": 1.0 / math.sqrt(d)}),
        "sphere_rsqrtd": ("sphere", {"r": math.sqrt(d)}),
        "gaussian": ("gaussian", {}),
        "warm_u0.1": ("warm", {"u0": 0.1}),
        "top_k10": ("top", {"k": min(10, int(d))}),
    }


def _warm(lam, wstar, rng, u0, r):
    if u0 is None or not math.isfinite(u0):
        raise ValueError(f"warm needs a finite overlap u0, got {u0}")
    d = lam.shape[0]
    if d < 3:
        raise ValueError(f"warm needs d >= 3 (a direction orthogonal to w* and Q w*), got d = {d}")
    norm_ws = float(np.linalg.norm(wstar))
    ss = float(np.sum(lam * wstar * wstar))
    if not ss > 0:
        raise ValueError("warm needs s* = w*^T Q w* > 0")
    alpha = u0 * norm_ws / ss
    if r is None:
        beta = 1.0
    else:
        r = _check_radius(r)
        if abs(alpha) > r:
            raise ValueError(
                f"|u0| = {abs(u0):g} is not reachable with ||w|| = {r:g} along w*: need "
                f"|u0| <= r s* / ||w*|| = {r * ss / norm_ws:.4g} (or r >= {abs(alpha):.4g})"
            )
        beta = math.sqrt(max(0.0, r * r - alpha * alpha))
    basis, tri = np.linalg.qr(np.stack([wstar, lam * wstar], axis=1))
    if abs(tri[1, 1]) <= 1e-12 * abs(tri[0, 1]):  # Q w* parallel to w* (a = 0): one constraint
        basis = basis[:, :1]
    g = rng.standard_normal(d)
    v = g - basis @ (basis.T @ g)  # Q-orthogonal to w* (and Euclidean-orthogonal to it)
    v /= np.linalg.norm(v)
    return alpha * wstar / norm_ws + beta * v


# --------------------------------------------------------------------------- internals


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


def _check_vectors(w, lam, wstar):
    w = np.asarray(w, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    wstar = np.asarray(wstar, dtype=np.float64)
    if not (w.ndim == lam.ndim == wstar.ndim == 1 and w.shape == lam.shape == wstar.shape):
        raise ValueError(f"w, lam and wstar must be 1-D arrays of one length, got shapes "
                         f"{w.shape}, {lam.shape}, {wstar.shape}")
    if np.any(lam < 0):
        raise ValueError("the spectrum lam must be non-negative")
    return w, lam, wstar


def _check_kappa(kappa):
    kappa = float(kappa)
    if not (math.isfinite(kappa) and kappa >= KAPPA_MIN):
        raise ValueError(f"kappa = E z^4 - 3 must be finite and >= {KAPPA_MIN} (E z^4 >= 1), got {kappa}")
    return kappa


def _check_radius(r):
    r = float(r)
    if not (math.isfinite(r) and r > 0):
        raise ValueError(f"the radius r must be positive and finite, got {r}")
    return r
