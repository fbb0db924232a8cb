"""Population loss, gradient and Hessian of a committee, through the Q-overlaps.

Model.  x ~ N(0, Q), Q = diag(lam).  Student f_W(x) = (1/p) sum_j sigma(w_j . x) with W (p x d),
teacher y = (1/k) sum_m sigma(w*_m . x) + xi, W* (k x d), xi ~ N(0, sigma2) independent of x.
Overlaps M = W Q W^T (p x p), R = W Q W*^T (p x k), P = W* Q W*^T (k x k).  ``loss`` is the excess
risk E (f - y)^2 - sigma2 = E (f - y*)^2 (y* the noiseless label): no 1/2 or other factor.  The
label noise only adds sigma2 to the risk and nothing to its gradient.

Every pre-activation is Gaussian: (w_j . x, w*_m . x) is jointly centred Gaussian with covariance
the matching entries of [[M, R], [R^T, P]], so E sigma(a . x) sigma(b . x) is a function of
(C_aa, C_bb, C_ab) only, and
    L = (1/p^2) sum_jl I(M_jj, M_ll, M_jl) - (2/(pk)) sum_jm I(M_jj, P_mm, R_jm)
        + (1/k^2) sum_mn I(P_mm, P_nn, P_mn),          I(a, b, c) = E sigma(u) sigma(v),
with (u, v) centred Gaussian of variances a, b and covariance c.

Gradient through the overlaps.  Write L = F(M, R) with the p^2 entries of M taken as independent
variables (F is written symmetric in them) and G_M = dF/dM, G_R = dF/dR.  From
dM = dW Q W^T + W Q dW^T and dR = dW Q W*^T,
    dL = tr(G_M^T dM) + tr(G_R^T dR) = tr[((G_M + G_M^T) W Q + G_R W* Q) dW^T],
so  grad_W L = (A W + B W*) Q  with  A = G_M + G_M^T (symmetric, p x p) and B = G_R (p x k).
``coefficients`` returns (A, B); the gradient has W's shape (p, d), row j the gradient in w_j.

quadratic, sigma(z) = z^2.  f - y* = x^T D x with D = W^T W / p - W*^T W* / k, and for a symmetric
D, E (x^T D x)^2 = 2 tr(QDQD) + tr(QD)^2 (Isserlis: E x_a x_b x_c x_d = Q_ab Q_cd + Q_ac Q_bd +
Q_ad Q_bc).  With tr(Q W^T W Q W^T W) = |M|_F^2, tr(Q W^T W Q W*^T W*) = |R|_F^2:
    tr(QDQD) = |M|^2 / p^2 - 2 |R|^2 / (pk) + |P|^2 / k^2,   tr(QD) = tr M / p - tr P / k,
    L = 2 tr(QDQD) + tr(QD)^2.
dL/dD = 4 QDQ + 2 tr(QD) Q and dD = (dW^T W + W^T dW) / p give grad_W = (2/p) W (4 QDQ + 2 tr(QD) Q),
and W Q D = M W / p - R W* / k, so
    A = (2/p) (4 M / p + 2 tr(QD) I_p),   B = -8 R / (pk).
p = k = 1 is the paper's model: s = M, u = R, s* = P, L = 2 (s^2 - 2 u^2 + s*^2) + (s - s*)^2
= 3 s^2 + 3 s*^2 - 4 u^2 - 2 s* s, and A w + B w* = (12 s - 4 s*) w - 8 u w* (population.gradient).

erf, sigma(z) = erf(z / sqrt 2).  For (u, v) as above (Saad & Solla 1995; Williams 1998, via
erf(z / sqrt 2) = 2 Phi(z) - 1 and E Phi(u) Phi(v) = P(g_1 <= u, g_2 <= v) with independent
standard g, a bivariate normal orthant probability 1/4 + arcsin(rho) / (2 pi)):
    I(a, b, c) = (2/pi) arcsin(c / sqrt((1 + a)(1 + b))).
With Delta = (1 + a)(1 + b) - c^2 (> 0 for a covariance matrix):
    I_c = dI/dc = (2/pi) / sqrt(Delta),    I_a = dI/da = -(1/pi) c / ((1 + a) sqrt(Delta)).
The diagonal M_jj enters term (j, j) through all three arguments and terms (j, l), (l, j) through
one each; by the symmetry of I in (a, b):
    G_M[j, l] = I_c(M_jj, M_ll, M_jl) / p^2 + delta_jl [ (2/p^2) sum_l' I_a(M_jj, M_l'l', M_jl')
                - (2/(pk)) sum_m I_a(M_jj, P_mm, R_jm) ],
    G_R[j, m] = -(2/(pk)) I_c(M_jj, P_mm, R_jm).
erf is odd, so E f = E y = 0 and L(W = 0) = (1/k^2) sum_mn I(P_mm, P_nn, P_mn).

relu, sigma(z) = max(z, 0).  The arc-cosine kernel of degree 1 (Cho & Saul 2009): with
rho = c / sqrt(ab) = cos(theta), theta in [0, pi],
    I(a, b, c) = sqrt(ab) / (2 pi) J(theta),   J = sin(theta) + (pi - theta) cos(theta).
(Write u = sqrt(a) g_1, v = sqrt(b) (rho g_1 + sin(theta) g_2) and integrate over the wedge where
both are positive in polar coordinates.)  J' = -(pi - theta) sin(theta) and dtheta/drho = -1/sin(theta):
    I_c = dI/dc = (pi - theta) / (2 pi),
    I_a = dI/da = sqrt(b/a) J / (4 pi) + sqrt(ab) / (2 pi) (pi - theta) (-rho / (2a))
        = sqrt(b/a) sin(theta) / (4 pi).
A unit with itself has theta = 0 and I(a, a, a) = E relu(u)^2 = a / 2; these self terms (j = l,
m = n) are written as a / 2, I_c = 1/2, I_a = 0 (their total derivative I_c + 2 I_a = 1/2), not
through arccos, whose derivative is singular at rho = 1 (the complex-step Hessian needs them exact).
G_M and G_R are those of erf with this I.  relu is not odd: E f, E y != 0, and L(W = 0) = E y*^2 =
(1/k^2) sum_mn I(P_mm, P_nn, P_mn).  Near W = 0, I_a grows like sqrt(P_mm / M_jj): the flow moves
the start at a finite speed in |w_j| and towards the teachers (no saddle at 0, as for erf).

Hessian.  ``hessian`` differentiates ``gradient`` by the complex step, H e = Im grad(W + i h e) / h
with h = 1e-30: every operation in the gradient is analytic (products, sqrt, arcsin, with plain
transposes), so this is exact to rounding, with no truncation error (Squire & Trapp 1998).

Error metric (``error_from_overlaps``).  Quadratic units are symmetric under W -> O W (O
orthogonal p x p), so rows cannot be compared; the metric is the relative squared Q-norm of D,
    error = tr(QDQD) / tr(Q T Q T),   T = W*^T W* / k,   tr(QTQT) = |P|_F^2 / k^2,
1 at W = 0, 0 exactly when W^T W / p = W*^T W* / k on the support of Q.  For erf and relu, D = 0 does
not mean f = y (w -> -w changes the unit), so the metric is the normalised loss L(W) / L(0), which
is invariant under permutations of the units.
"""

from __future__ import annotations

import numpy as np

from ..model import check_memory, spectrum
from ..seeding import INIT_STREAM, TARGET_STREAM, rng_for

ACTIVATIONS = ("quadratic", "erf", "relu")

#: What ``error_from_overlaps`` measures, per activation (stored beside the numbers in result files).
ERROR_METRICS = {
    "quadratic": "tr(QDQD) / tr(QTQT), D = W^T W / p - W*^T W* / k, T = W*^T W* / k",
    "erf": "L(W) / L(0), the population loss relative to the zero student",
    "relu": "L(W) / L(0), the population loss relative to the zero student",
}

_COMPLEX_STEP = 1e-30


def check_activation(activation: str) -> str:
    """The activation name, or a ValueError naming the known ones."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


# --------------------------------------------------------------------------- problem


def teachers(lam: np.ndarray, k: int, rng: np.random.Generator, orthogonal: bool) -> np.ndarray:
    """W* (k x d): rows w*_m = g_m / ||Q^{1/2} g_m|| with g_m ~ N(0, I_d) drawn one after another.

    The first row is the paper's w* of the same generator (model.target).  With orthogonal, the
    g_m are first made Q-orthogonal by Gram-Schmidt in the Q inner product (two passes, so the
    rounding of the first is removed), then normalised: P = W* Q W*^T = I_k to rounding (k <= d).
    """
    lam = np.asarray(lam, dtype=np.float64)
    k = _check_count(k, "k")
    if orthogonal and k > lam.shape[0]:
        raise ValueError(f"orthogonal teachers need k <= d, got k={k}, d={lam.shape[0]}")
    G = np.empty((k, lam.shape[0]))
    for m in range(k):
        G[m] = rng.standard_normal(lam.shape[0])
    if orthogonal:
        for m in range(k):
            for _ in range(2):
                for n in range(m):
                    G[m] -= (np.sum(lam * G[m] * G[n]) / np.sum(lam * G[n] * G[n])) * G[n]
    for m in range(k):
        G[m] = G[m] / np.sqrt(np.sum(lam * G[m] * G[m]))
    return G


def students_sphere(d: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """W(0) (p x d): rows uniform on the unit sphere, drawn one after another (model.init_sphere)."""
    p = _check_count(p, "p")
    W = np.empty((p, int(d)))
    for j in range(p):
        g = rng.standard_normal(int(d))
        W[j] = g / np.linalg.norm(g)
    return W


def problem(a: float, d: int, p: int, k: int, seed: int, base_seed: int, orthogonal_teacher: bool):
    """(lam, Wstar, W0) of one committee run, from the paper's streams (seeding.problem).

    The teachers come from the target stream and the students from the start stream of (d, seed),
    so with p = k = 1 (and any orthogonal_teacher: one row is trivially orthogonal) this is exactly
    seeding.problem(a, d, seed, base_seed).
    """
    lam = spectrum(d, a)
    check_memory(d * (_check_count(p, "p") + _check_count(k, "k")))
    Wstar = teachers(lam, k, rng_for(base_seed, d, seed, TARGET_STREAM), orthogonal_teacher)
    W0 = students_sphere(d, p, rng_for(base_seed, d, seed, INIT_STREAM))
    return lam, Wstar, W0


def check_committee(lam, Wstar, W):
    """(lam, Wstar, W) as float arrays: lam (d,) positive, Wstar (k, d), W (p, d), all finite.

    W is returned as a fresh copy.
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    Wstar = np.ascontiguousarray(Wstar, dtype=np.float64)
    W = np.array(W, dtype=np.float64, copy=True)
    if lam.ndim != 1 or Wstar.ndim != 2 or W.ndim != 2:
        raise ValueError(f"need lam (d,), Wstar (k, d), W (p, d); got shapes {lam.shape}, {Wstar.shape}, "
                         f"{W.shape}")
    if Wstar.shape[1] != lam.shape[0] or W.shape[1] != lam.shape[0] or min(W.shape[0], Wstar.shape[0]) < 1:
        raise ValueError(f"W and Wstar need d = {lam.shape[0]} columns and at least one row, got "
                         f"{W.shape} and {Wstar.shape}")
    for name, arr in (("lam", lam), ("Wstar", Wstar), ("W", W)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} has non-finite entries")
    if np.any(lam <= 0):
        raise ValueError("the spectrum lam must be positive")
    return lam, Wstar, W


def _check_count(n, name: str) -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n}")
    return int(n)


# --------------------------------------------------------------------------- overlaps


def overlaps(W: np.ndarray, lam: np.ndarray, Wstar: np.ndarray):
    """(M, R, P) = (W Q W^T, W Q W*^T, W* Q W*^T); plain transposes, so complex W works."""
    WQ = W * lam
    return WQ @ W.T, WQ @ Wstar.T, (Wstar * lam) @ Wstar.T


def _erf_pair(a, b, c):
    """(I, I_a, I_c) of the erf kernel at variances a (rows), b (columns) and covariances c."""
    one_a = 1.0 + a[:, None]
    prod = one_a * (1.0 + b[None, :])
    root = np.sqrt(prod - c * c)
    value = (2.0 / np.pi) * np.arcsin(c / np.sqrt(prod))
    return value, -(1.0 / np.pi) * c / (one_a * root), (2.0 / np.pi) / root


def _relu_pair(a, b, c, self_pairs: bool):
    """(I, I_a, I_c) of the relu kernel at variances a (rows), b (columns) and covariances c; with
    self_pairs (a square block of one unit set) the diagonal holds the self terms a / 2, 0, 1/2."""
    root = np.sqrt(a[:, None] * b[None, :])
    rho = c / root
    if np.isrealobj(rho):
        rho = np.clip(rho, -1.0, 1.0)  # rounding can put an aligned pair just past 1
    theta = np.arccos(rho)
    sin = np.sqrt(1.0 - rho * rho)
    value = root * (sin + (np.pi - theta) * rho) / (2.0 * np.pi)
    ia = np.sqrt(b[None, :] / a[:, None]) * sin / (4.0 * np.pi)
    ic = (np.pi - theta) / (2.0 * np.pi) + 0.0 * c
    if self_pairs:
        i = np.arange(a.size)
        value[i, i], ia[i, i], ic[i, i] = a / 2.0, 0.0, 0.5
    return value, ia, ic


def _pair(activation: str, a, b, c, self_pairs: bool = False):
    """(I, I_a, I_c) of a non-polynomial activation's kernel (module docstring)."""
    return _erf_pair(a, b, c) if activation == "erf" else _relu_pair(a, b, c, self_pairs)


def loss_from_overlaps(M, R, P, activation: str):
    """The excess risk E (f - y*)^2 as a function of the overlaps (module docstring)."""
    check_activation(activation)
    p, k = R.shape
    if activation == "quadratic":
        tqd = np.trace(M) / p - np.trace(P) / k
        tqdqd = np.sum(M * M) / p**2 - 2.0 * np.sum(R * R) / (p * k) + np.sum(P * P) / k**2
        return 2.0 * tqdqd + tqd * tqd
    dm, dp = np.diagonal(M), np.diagonal(P)
    return (np.sum(_pair(activation, dm, dm, M, True)[0]) / p**2
            - 2.0 * np.sum(_pair(activation, dm, dp, R)[0]) / (p * k)
            + np.sum(_pair(activation, dp, dp, P, True)[0]) / k**2)


def coefficients(M, R, P, activation: str):
    """(A, B) with grad_W L = (A W + B W*) Q: A (p x p) symmetric, B (p x k) (module docstring)."""
    check_activation(activation)
    p, k = R.shape
    if activation == "quadratic":
        tqd = np.trace(M) / p - np.trace(P) / k
        A = (8.0 / p**2) * M + (4.0 / p) * tqd * np.eye(p)
        return A, (-8.0 / (p * k)) * R
    dm, dp = np.diagonal(M), np.diagonal(P)
    _, ia_ss, ic_ss = _pair(activation, dm, dm, M, True)
    _, ia_st, ic_st = _pair(activation, dm, dp, R)
    G = ic_ss / p**2
    G = G + np.diag((2.0 / p**2) * np.sum(ia_ss, axis=1) - (2.0 / (p * k)) * np.sum(ia_st, axis=1))
    return G + G.T, (-2.0 / (p * k)) * ic_st


def learned_operator(R, P, p: int, k: int) -> np.ndarray:
    """G = (k/p) P^{-1/2} R^T R P^{-1/2}, shape (..., k, k) for R (..., p, k): the student's part of the
    target along the teacher span, with scale, in the basis where the target's is P; G = P at every
    global minimum with W^T W / p = W*^T W* / k.

    Derivation.  With whitened inputs z = Q^{-1/2} x, f = z^T A z with A = Q^{1/2} (W^T W / p) Q^{1/2}
    and the target's A* = Q^{1/2} (W*^T W* / k) Q^{1/2} (the loss is built from A - A*).  A* has rank k
    and range spanned by the columns of Q^{1/2} W*^T; B = Q^{1/2} W*^T P^{-1/2} is an orthonormal basis
    of it (B^T B = P^{-1/2} P P^{-1/2} = I).  Compressed to that range, k B^T A B = (k/p) P^{-1/2} W* Q
    W^T W Q W*^T P^{-1/2} = G and k B^T A* B = P^{-1/2} P^2 P^{-1/2} = P.  So G = P where
    W^T W / p = W*^T W* / k (the zero-loss minima of quadratic units, p >= k; for erf and relu the
    minima with each teacher copied p / k times).  G grows with the scale of W (|W|^2), unlike the
    cosine of W's span with the teachers, which a random start can already make close to 1 when Q is
    steep.  Invariant under W -> O W (R -> O R) and, up to the rotation, under W* -> A W* with A
    orthogonal (G -> A G A^T, P -> A P A^T)."""
    R, P = np.asarray(R, float), np.asarray(P, float)
    p_, k_ = R.shape[-2:]
    if (p_, k_) != (p, k) or P.shape != (k, k):
        raise ValueError(f"R must be (..., {p}, {k}) and P ({k}, {k}), got R {R.shape}, P {P.shape}")
    pi, V = np.linalg.eigh(P)
    root = (V / np.sqrt(pi)) @ V.T  # P^{-1/2}
    X = R @ root
    G = (k / p) * np.swapaxes(X, -1, -2) @ X
    return 0.5 * (G + np.swapaxes(G, -1, -2))


def learned_spectrum(R, P, p: int, k: int) -> np.ndarray:
    """l_r = g_r / pi_r, shape (..., k): the r-th largest eigenvalue of ``learned_operator`` over the
    r-th largest of P, r = 1 .. k (column r - 1).  The student's r-th strongest direction on the
    teacher span against the target's r-th: l_r >= level means the student carries r directions at
    least that fraction as strong as the target's r strongest; every l_r is 1 at a global minimum.  A
    student of rank q < r has l_r = 0 (G has rank <= q), and a direction the escaped units only lean
    into adds to g_r only its squared share (no division by the weak direction's own pi_r, which would
    count a small leak into a weak teacher direction as learning it).  Not monotone in r in general.
    Basis-free: a degenerate P (Q-orthogonal teachers) needs no choice of directions."""
    pi = np.linalg.eigvalsh(np.asarray(P, float))[::-1]
    return np.linalg.eigvalsh(learned_operator(R, P, p, k))[..., ::-1] / pi


def error_from_overlaps(M, R, P, activation: str):
    """The error metric of the module docstring: quadratic tr(QDQD) / tr(QTQT), else L(W) / L(0)."""
    check_activation(activation)
    p, k = R.shape
    if activation == "quadratic":
        ref = np.sum(P * P) / k**2
        return (np.sum(M * M) / p**2 - 2.0 * np.sum(R * R) / (p * k)) / ref + 1.0
    dp = np.diagonal(P)
    at_zero = np.sum(_pair(activation, dp, dp, P, True)[0]) / k**2  # L(W = 0) = E y*^2: f = 0
    return loss_from_overlaps(M, R, P, activation) / at_zero


# --------------------------------------------------------------------------- loss, gradient, Hessian


def loss(W, lam, Wstar, activation: str):
    """Excess population risk E (f_W - y*)^2 (add sigma2 for the risk on noisy labels)."""
    return loss_from_overlaps(*overlaps(W, lam, Wstar), activation)


def gradient(W, lam, Wstar, activation: str):
    """grad_W L (p x d, row j the gradient in w_j) = (A W + B W*) Q."""
    A, B = coefficients(*overlaps(W, lam, Wstar), activation)
    return (A @ W + B @ Wstar) * lam


def hessian(W, lam, Wstar, activation: str) -> np.ndarray:
    """The (p d) x (p d) Hessian in W's row-major order (index j d + i for W[j, i]), by the complex
    step on ``gradient`` (exact to rounding; p d gradient evaluations, for small p d)."""
    W = np.asarray(W, dtype=np.float64)
    n = W.size
    check_memory(n * n // 12)  # H is 8 n^2 bytes; check_memory counts 96 bytes per unit
    H = np.empty((n, n))
    for col in range(n):
        Wc = W.astype(np.complex128)
        Wc.flat[col] += 1j * _COMPLEX_STEP
        H[:, col] = np.imag(gradient(Wc, lam, Wstar, activation)).ravel() / _COMPLEX_STEP
    return H
