"""Phase I of a committee: the flow linearised at W = 0 and its escape rates; Phase III (end of file):
the flow linearised at a minimum, its tail loss and the constant of its power law.

Notation of committee.population: W (p x d), W* (k x d), Q = diag(lam), M = W Q W^T,
R = W Q W*^T, P = W* Q W*^T, T = W*^T W* (d x d), and the flow dW/dt = -grad_W L = -(A W + B W*) Q.

Linearisation.  Expand A = A0 + A1[W] + ..., B = B0 + B1[W] + ... in powers of W.  To first order
    dW/dt = F - A0 W Q + W S + O(|W|^2),   F = -B0 W* Q,   -B1[W] W* Q = W S,
(``linearised_flow`` returns F, A0, S) and the Hessian of L at W = 0 is, in W's row-major order,
    H0 = A0 (x) Q - I_p (x) S.

quadratic.  A = (8/p^2) M + (4/p) tr(QD) I_p with tr(QD) = tr M / p - tr P / k, and
B = -8 R / (pk).  M is quadratic in W, so A0 = -(4 tr P / (pk)) I_p and (A - A0) W = O(|W|^3).
B0 = 0 (R = 0 at W = 0), but B is linear in W, so the teacher term does NOT vanish at first order:
    -B W* Q = (8 / (pk)) R W* Q = (8 / (pk)) W (Q W*^T W* Q) = W S,   S = (8 / (pk)) Q T Q.
Hence F = 0, W = 0 is a critical point, the remainder is O(|W|^3), and every student row evolves
on its own under the same symmetric d x d operator (Q, T symmetric):
    dw_j/dt = L w_j,   L = (1 / (pk)) (4 tr(P) Q + 8 Q T Q) = c Q + V V^T,
    c = 4 tr(P) / (pk),   V = sqrt(8 / (pk)) Q W*^T  (d x k),
so W(t) = W(0) e^{L t} to first order and H0 = -I_p (x) L: the growth rates are the eigenvalues of
L (each p-fold, one copy per student unit), the same for every unit, with the same eigenvectors.
L is the diagonal c Q lifted by the rank-k PSD matrix V V^T, so (Weyl interlacing, rates
rho_1 >= rho_2 >= ...)  c lam_r <= rho_r  and  rho_{r+k} <= c lam_r:  k eigenvalues are lifted by
the teachers and the others stay between consecutive bare rates c lam_i.  The escape rates are
those k largest, rho_c = rho_1 the top one.  A rate rho outside c spec(Q) solves the secular
equation (matrix determinant lemma, det(rho - c Q - V V^T) = det(rho - c Q) det(I_k - V^T
(rho - c Q)^{-1} V)):
    det(I_k - (8 / (pk)) G(rho)) = 0,   G_mn(rho) = sum_i lam_i^2 w*_mi w*_ni / (rho - c lam_i),
and the eigenvectors are v ~ (rho - c Q)^{-1} Q W*^T z with z in the null space of that k x k matrix,
i.e. Q-projections of the teacher directions filtered by the resolvent.  With p = k = 1 and
s* = w*^T Q w* = 1 this is the paper's 1 = 8 sum_i (w*_i)^2 lam_i^2 / (rho - 4 lam_i)
(theory.escape_rate) and L w = 4 s* Q w + 8 u Q w*, the paper's flow without its 12 s Q w term.
What grows at which rate: R = W Q W*^T ~ e^{rho_c t} and M = W Q W^T ~ e^{2 rho_c t} once the top
mode dominates, the rest decaying relative to it like e^{-(rho_1 - rho_2) t}.

Counting the rates without the d x d matrix.  For rho outside c spec(Q) the symmetric (d + k) x (d + k)
matrix K = [[rho - c Q, V], [V^T, I_k]] has two Schur complements: rho - c Q - V V^T = rho - L (of the
block I_k) and S(rho) = I_k - V^T (rho - c Q)^{-1} V = I_k - (8 / (pk)) G(rho) (of the block rho - c Q,
the secular matrix).  Haynsworth's inertia additivity, In K = In I_k + In(rho - L) = In(rho - c Q) +
In S(rho), counted in negative eigenvalues (I_k has none) gives
    N(rho) = #{rates > rho} = #{i : c lam_i > rho} + #{negative eigenvalues of S(rho)},
exact for every rho that is not a bare rate c lam_i, whatever the multiplicities, and O(d k^2) to
evaluate.  rho_r = sup{rho : N(rho) >= r}, so each of the k escape rates is found by bisection on N
inside Weyl's bracket c lam_(r) <= rho_r <= c lam_(r) + ||V||_2^2 (lam_(r) the r-th largest), and its
eigenvectors are (rho_r - c Q)^{-1} V z, z in the null space of S(rho_r) (``committee_escape_modes``).

Do the teacher directions decouple?  Only when G(rho) is diagonal for every rho, i.e. when the
teachers are orthogonal in every eigenspace of Q separately (for instance disjoint supports, or
a = 0 with Q-orthogonal teachers, where L = (4 tr P / (pkd)) I + (8 / (pkd^2)) T has the k-fold rate
(4 tr P / d + 8 / d) / (pk) on the teacher span).  Q-orthogonality alone (P diagonal) is not enough:
G_mn(rho) weighs lam_i^2 / (rho - c lam_i), not lam_i, and the power-law top modes carry O(1)
random weights of every teacher, so the k rates are those of the coupled operator.  Each teacher's
own rate, the top root of 1 = (8 / (pk)) G_mm(rho) (``own_escape_rates``), is what it would have
alone; the coupled rates differ from it.  In the linearised flow every R[j, m] grows at the common
top rate rho_c (as long as v_1^T Q w*_m != 0): no teacher escapes at its own rate.

erf, sigma(z) = erf(z / sqrt 2).  W = 0 is not a critical point: erf is odd with a nonzero linear
Hermite coefficient, so the teacher term is O(1).  At W = 0 (I_c = (2/pi) / sqrt((1+a)(1+b) - c^2),
I_a proportional to c, committee.population):
    B0[j, m] = -(2/(pk)) I_c(0, P_mm, 0) = -(4 / (pi pk)) / sqrt(1 + P_mm),
    A0 = G_M + G_M^T with G_M[j, l] = I_c(0, 0, 0) / p^2 = (2/pi) / p^2:  A0 = (4 / (pi p^2)) 1 1^T,
and S = 0 (I_c is even in its covariance argument, so B1 = 0).  Hence
    F = (4 / (pi pk)) 1_p (sum_m Q w*_m / sqrt(1 + P_mm))^T,   dW/dt = F - A0 W Q + O(|W|^2),
H0 = A0 (x) Q, positive semi-definite: rates -(4/(pi p)) lam_i on the mean unit, 0 on the p - 1
differences.  There is no unstable mode and no exponential escape: the start is driven away from 0
at once by the constant force F (information exponent 1), so ``committee_escape_rates`` has no
erf case; ``linearised_flow`` gives its F and A0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh

from ..model import check_memory
from ..theory import escape_rate
from .population import _check_count, check_activation


@dataclass
class LinearisedFlow:
    """dW/dt = F - A0 W Q + W S + O(|W|^2) at W = 0: F (p x d), A0 (p x p), S (d x d)."""

    F: np.ndarray
    A0: np.ndarray
    S: np.ndarray


def _check_teachers(lam, Wstar):
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    Wstar = np.ascontiguousarray(Wstar, dtype=np.float64)
    if lam.ndim != 1 or Wstar.ndim != 2 or Wstar.shape[1] != lam.shape[0] or Wstar.shape[0] < 1:
        raise ValueError(f"need lam (d,) and Wstar (k, d), got shapes {lam.shape} and {Wstar.shape}")
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(Wstar))) or np.any(lam <= 0):
        raise ValueError("lam must be positive and finite, Wstar finite")
    return lam, Wstar


def linearised_flow(lam, Wstar, p: int, activation: str) -> LinearisedFlow:
    """F, A0, S of the flow linearised at W = 0 (module docstring), quadratic or erf (relu's flow is
    not differentiable at W = 0)."""
    if check_activation(activation) == "relu":
        raise ValueError("relu: the flow has no linearisation at W = 0 (I_a grows like 1 / sqrt(M_jj))")
    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k, d = Wstar.shape
    check_memory(d * d // 12)  # S is 8 d^2 bytes; check_memory counts 96 bytes per unit
    P = (Wstar * lam) @ Wstar.T
    if activation == "quadratic":
        QW = (Wstar * lam).T  # Q W*^T, d x k
        return LinearisedFlow(F=np.zeros((p, d)), A0=-(4.0 * np.trace(P) / (p * k)) * np.eye(p),
                              S=(8.0 / (p * k)) * (QW @ QW.T))
    force = (4.0 / (np.pi * p * k)) * np.sum((Wstar * lam) / np.sqrt(1.0 + np.diagonal(P))[:, None], axis=0)
    return LinearisedFlow(F=np.tile(force, (p, 1)), A0=(4.0 / (np.pi * p * p)) * np.ones((p, p)),
                          S=np.zeros((d, d)))


def escape_operator(lam, Wstar, p: int) -> np.ndarray:
    """L = (4 tr(P) Q + 8 Q W*^T W* Q) / (pk) (d x d): dw_j/dt = L w_j near W = 0 (quadratic)."""
    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k = Wstar.shape[0]
    lin = linearised_flow(lam, Wstar, p, "quadratic")
    c = 4.0 * float(np.trace((Wstar * lam) @ Wstar.T)) / (p * k)
    return lin.S + np.diag(c * lam)


# Relative scales of the secular solver.  Rates closer than _TIE rho_1 are one multiple eigenvalue
# (bisection leaves ~1e-16 between equal ones; distinct rates of these problems are far apart).  A rate
# within _NEAR_POLE rho of a bare rate c lam_i, where the resolvent's component 1 / (rho - c lam_i)
# would carry a relative error eps rho / |rho - c lam_i| >= sqrt(eps), or an eigenpair with residual or
# non-orthogonality above _NEAR_POLE, means the secular form has degenerated (committee_escape_modes).
_TIE = 1e-10
_NEAR_POLE = float(np.sqrt(np.finfo(np.float64).eps))


def _lifted_diagonal(lam, Wstar, p: int):
    """(D, V) with L = diag(D) + V V^T: D = c lam (d,), V = sqrt(8 / (pk)) Q W*^T (d, k)."""
    k = Wstar.shape[0]
    QW = (Wstar * lam).T
    c = 4.0 * float(np.sum(QW.T * Wstar)) / (p * k)  # tr P = sum_m w*_m^T Q w*_m
    return c * lam, np.sqrt(8.0 / (p * k)) * QW  # Fortran-ordered: (W* Q) transposed


def _secular(rho: float, D, V) -> np.ndarray:
    """S(rho) = I_k - V^T (rho - diag(D))^{-1} V, k x k, for rho not in D."""
    return np.eye(V.shape[1]) - (V.T / (rho - D)) @ V  # V.T is C-ordered (_lifted_diagonal): one pass


def _count_above(rho: float, D, V) -> int | None:
    """N(rho), the number of eigenvalues of diag(D) + V V^T above rho (Haynsworth, module docstring);
    None when rho is one of the D_i (a pole of S)."""
    if np.any(D == rho):
        return None
    return int(np.count_nonzero(D > rho) + np.count_nonzero(np.linalg.eigvalsh(_secular(rho, D, V)) < 0))


def escape_count(rho: float, lam, Wstar, p: int) -> int:
    """The number of eigenvalues of L above rho, from the k x k secular matrix (O(d k^2), no d x d L).

    N(rho) = #{i : c lam_i > rho} + #{negative eigenvalues of S(rho)} (module docstring); rho must not
    be a bare rate c lam_i, where S has a pole.
    """
    lam, Wstar = _check_teachers(lam, Wstar)
    n = _count_above(float(rho), *_lifted_diagonal(lam, Wstar, _check_count(p, "p")))
    if n is None:
        raise ValueError(f"rho = {rho} is a bare rate c lam_i, a pole of the secular matrix")
    return n


def _top_roots(D, V, k: int) -> np.ndarray:
    """The k largest eigenvalues of diag(D) + V V^T, descending, by bisection on N to rounding.

    Weyl: D_(r) <= rho_r <= D_(r) + ||V||_2^2 (D_(r) the r-th largest D_i).  Every evaluation of N(mid)
    = n narrows all k brackets at once: rho_j > mid for j < n, rho_j <= mid for j >= n.  Repeated
    rates need nothing special: N jumps by the multiplicity and each rho_r is its own supremum.
    """
    eps = np.finfo(np.float64).eps
    lo = np.sort(D)[::-1][:k].copy()
    lift = float(np.linalg.eigvalsh(V.T @ V)[-1])  # ||V||_2^2
    hi = (lo + 2.0 * lift) * (1.0 + 4.0 * eps)  # margin for the rounding of lift and of the sum
    for r in range(k):
        while hi[r] - lo[r] > 2.0 * eps * hi[r]:
            probe = _probe(lo[r], hi[r], D, V)
            if probe is None:
                break
            mid, n = probe
            lo[:n] = np.maximum(lo[:n], mid)
            hi[n:] = np.minimum(hi[n:], mid)
    return 0.5 * (lo + hi)


def _probe(lo: float, hi: float, D, V):
    """(mid, N(mid)) for a float mid strictly inside (lo, hi) that is not a pole: the midpoint, or the
    next float above it when the midpoint is exactly a bare rate D_i (poles are isolated floats unless
    two D_i are adjacent floats, hence the loop); None when no such float is left in the bracket."""
    mid = 0.5 * (lo + hi)
    while lo < mid < hi:
        n = _count_above(mid, D, V)
        if n is not None:
            return mid, n
        mid = np.nextafter(mid, np.inf)
    return None


def _secular_vectors(rates, D, V) -> np.ndarray:
    """Unit eigenvectors (d, k) for the roots rates (descending): (rho - diag(D))^{-1} V z, z the
    null vector of S(rho).

    Rates within _TIE * rho_1 of each other form one cluster of m (a multiple eigenvalue, to rounding):
    its vectors come from the m eigenvectors of S(rho) of smallest |eigenvalue| at the cluster's mean,
    orthonormalised (QR): a basis of the eigenspace, all that a multiple eigenvalue defines.
    Outside a cluster the zero eigenvalue of S(rho) is simple, the next one of order
    (rate gap) x dS/drho (S increases with rho, dS/drho = V^T (rho - c Q)^{-2} V), far above the
    rounding of S, so its single null vector is accurate.
    """
    k = rates.shape[0]
    X = np.empty((D.shape[0], k))
    start = 0
    for r in range(1, k + 1):
        if r < k and rates[r - 1] - rates[r] <= _TIE * rates[0]:
            continue
        m, rho = r - start, float(np.mean(rates[start:r]))
        s, Z = np.linalg.eigh(_secular(rho, D, V))
        B = (V @ Z[:, np.argsort(np.abs(s))[:m]]) / (rho - D)[:, None]
        X[:, start:r] = np.linalg.qr(B)[0] if m > 1 else B / np.linalg.norm(B)
        start = r
    return X


def committee_escape_modes(lam, Wstar, p: int, activation: str):
    """(rates (k,), V (d, k)): the k largest eigenvalues of L, descending, and unit eigenvectors.

    rates[0] is rho_c.  Only the quadratic activation has an escape (module docstring: for erf,
    W = 0 is not a critical point and the linearised flow has no growing mode); needs k <= d.

    Secular solver, O(d k^2) per evaluation and O(d k) memory, never forming the d x d L: each rate
    by bisection to rounding on the count N(rho) of the module docstring (``_top_roots``, about 50
    evaluations per rate, shared by all k brackets), each eigenvector the resolvent image
    (rho - c Q)^{-1} V z of the null vector z of S(rho), clusters of equal rates as one
    orthonormalised block (``_secular_vectors``).  Eigenvectors have no sign convention.

    Degenerate case.  When a rate coincides with a bare rate c lam_i (a mode on which every teacher
    is zero, or equal lam_i, as for a = 0, of multiplicity above the rank of the teachers there), that
    eigenvector is not of the resolvent form and S(rho) is singular or ill-conditioned near the root.
    It is detected (a rate within sqrt(eps) rho_r of some c lam_i, or a returned pair with residual
    |L v - rho v| or non-orthogonality above sqrt(eps) rho_1 resp. sqrt(eps)) and answered by the
    dense symmetric eigensolver on ``escape_operator`` (O(d^3) time), guarded by check_memory.  a = 0
    with k linearly independent teachers is not degenerate: its lifted rates are (8 / (pk)) x the
    eigenvalues of W* Q^2 W*^T above the common bare rate.
    """
    check_activation(activation)
    if activation == "erf":
        raise ValueError("erf has no Phase I escape at W = 0: it is not a critical point (the constant "
                         "force F of linearised_flow moves the start at once) and -H0 = -A0 (x) Q has no "
                         "positive eigenvalue")
    if activation == "relu":
        raise ValueError("relu has no Phase I escape at W = 0: the flow is not differentiable there "
                         "(committee.population: I_a grows like 1 / sqrt(M_jj)) and moves the start at "
                         "a finite speed")
    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k, d = Wstar.shape
    if k > d:
        raise ValueError(f"the escape rates need k <= d, got k={k}, d={d}")
    D, V = _lifted_diagonal(lam, Wstar, p)
    rates = _top_roots(D, V, k)
    if all(np.min(np.abs(rho - D)) > _NEAR_POLE * rho for rho in rates):
        X = _secular_vectors(rates, D, V)
        residual = np.linalg.norm(X * D[:, None] + V @ (V.T @ X) - X * rates, axis=0)
        if np.max(residual) <= _NEAR_POLE * rates[0] and np.max(np.abs(X.T @ X - np.eye(k))) <= _NEAR_POLE:
            return rates, X
    check_memory(d * d // 3)  # S, diag(c lam), L and eigh's copy: 4 x 8 d^2 bytes, 96 bytes per unit
    vals, vecs = eigh(escape_operator(lam, Wstar, p), subset_by_index=[d - k, d - 1])
    return vals[::-1].copy(), vecs[:, ::-1].copy()


def committee_escape_rates(lam, Wstar, p: int, activation: str) -> np.ndarray:
    """The k escape rates of the committee at W = 0, descending; the first is rho_c.

    The k largest eigenvalues of L = (4 tr(P) Q + 8 Q W*^T W* Q) / (pk), the operator every
    student row evolves under near W = 0 (quadratic units; derivation in the module docstring).
    p = k = 1 with w*^T Q w* = 1 gives theory.escape_rate.
    """
    return committee_escape_modes(lam, Wstar, p, activation)[0]


def own_escape_rates(lam, Wstar, p: int) -> np.ndarray:
    """Per teacher m, the top root of 1 = (8 / (pk)) sum_i lam_i^2 w*_mi^2 / (rho - c lam_i).

    The rate teacher m would give the committee with the cross terms G_mn (n != m) dropped
    (c = 4 tr(P) / (pk) still counts every teacher).  With rho = (c/4) rho' the equation is
    1 = 8 sum_i lam_i^2 (w*_mi / sqrt(tr P))^2 / (rho' - 4 lam_i), theory.escape_rate's, so
    rho_m = (tr P / (pk)) escape_rate(lam, w*_m / sqrt(tr P)).
    """
    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k = Wstar.shape[0]
    trp = float(np.trace((Wstar * lam) @ Wstar.T))
    return np.array([(trp / (p * k)) * escape_rate(lam, w / np.sqrt(trp)) for w in Wstar])


def secular_matrix(rho: float, lam, Wstar, p: int) -> np.ndarray:
    """I_k - (8 / (pk)) G(rho), G_mn = sum_i lam_i^2 w*_mi w*_ni / (rho - c lam_i): singular at a rate."""
    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k = Wstar.shape[0]
    c = 4.0 * float(np.trace((Wstar * lam) @ Wstar.T)) / (p * k)
    QW = Wstar * lam
    G = (QW / (rho - c * lam)) @ QW.T
    return np.eye(k) - (8.0 / (p * k)) * G


# --------------------------------------------------------------------------- Phase III


def phase3_loss(tau, lam, Wstar, p: int, E0=None, lags=None):
    """Linearised Phase III loss of a quadratic committee with p >= k (derivation: ``tail_constant``):
        L(tau) = (4 / k^2) sum_i lam_i c_i^T P exp(-16 lam_i tau P / (pk)) c_i,
    c_i = E0[:, i] the error of mode i at the origin in teacher coordinates (k-vectors; default
    W*[:, i], every mode unlearned there).  p = k = 1, P = 1: theory.phase3_loss(tau, lam, E0[0]).
    In the eigenbasis (pi_r, v_r) of P (pi ascending, numpy.linalg.eigh) the sum splits into one
    single-neuron tail per direction r; lags (k,), >= 0, starts each at its own origin: direction r
    has relaxed for tau + lags[r] (the origin taken lags[r] after r was learned; default 0).
    """
    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k = Wstar.shape[0]
    E0 = Wstar if E0 is None else np.asarray(E0, float)
    if E0.shape != Wstar.shape:
        raise ValueError(f"E0 must have Wstar's shape {Wstar.shape}, got {E0.shape}")
    lags = np.zeros(k) if lags is None else np.asarray(lags, float)
    if lags.shape != (k,) or not np.all(np.isfinite(lags) & (lags >= 0)):
        raise ValueError(f"lags must be {k} finite values >= 0, got {lags}")
    pi, V = np.linalg.eigh((Wstar * lam) @ Wstar.T)
    c2 = (V.T @ E0) ** 2  # (k, d): squared components along the eigenvectors of P
    tau = np.asarray(tau, float)
    rate = 16.0 * np.outer(pi, lam) / (p * k)  # (k, d)
    weight = (4.0 / k**2) * pi[:, None] * lam[None, :] * c2
    out = np.array([np.sum(weight * np.exp(-rate * (x + lags[:, None]))) for x in np.ravel(tau)])
    return out.reshape(tau.shape) if tau.ndim else float(out[0])


def tail_constant(a: float, lam, Wstar, p: int) -> float:
    """C in L(tau) ~ C tau^{-(1 - 1/a)}: the Phase III law of a quadratic committee, p >= k.

    Normalisation f = (1/p) sum_j (w_j . x)^2, y = (1/k) sum_m (w*_m . x)^2, L = E (f - y)^2 =
    2 tr(QDQD) + tr(QD)^2, D = W^T W / p - W*^T W* / k (committee.population); the single neuron's
    C_1 = theory.loss_law_constant(a, d) is the constant of 4 sum_i lam_i e^{-16 lam_i tau}
    (e_i(T2)^2 = 1).

    Minima.  L = 0 iff W^T W / p = W*^T W* / k on the support of Q, i.e. (W* of rank k <= p)
    W = sqrt(p/k) U W* with U a p x k isometry (U^T U = I_k); then M = (p/k) U P U^T,
    R = sqrt(p/k) U P, tr(QD) = 0, so A = 8 M / p^2 = (8 / (pk)) U P U^T and B = -8 R / (pk).
    Linearisation.  Write W = sqrt(p/k) U W* + E.  Column i obeys dW[:, i]/dt = -lam_i (A W[:, i] +
    B W*[:, i]), and A sqrt(p/k) U + B = 0, so with (A, B) frozen at the minimum,
        de_i/dt = -lam_i (8 / (pk)) U P U^T e_i:
    the part of e_i in range(U) decays at rates 8 lam_i pi_r / (pk) (pi_r the eigenvalues of P),
    the rest not at all (it stays at its start, O(d^{-1/2}) per entry, and enters L at second
    order).  Loss: D = (sqrt(p/k) / p) (X + X^T) + E^T E / p with X = W*^T U^T E, and
    tr(Q X Q X^T) = tr(U P U^T E Q E^T) is (O(1) sum over all modes) x (tail sum), whereas
    tr(Q X Q X), tr(QD)^2 and the E^T E terms are products of two tail sums (the single neuron's
    8 p^2 + 12 p q + 3 q^2, O(x_d^{1-a}) relative; theory.loss_law_constant).  So
        L ~ (4 / (pk)) sum_i lam_i e_i^T U P U^T e_i.
    Phase III starts with the tail modes unlearned, e_i = -sqrt(p/k) U W*[:, i]; in teacher
    coordinates c_i = W*[:, i] and L(tau) = (4 / k^2) sum_i lam_i c_i^T P e^{-16 lam_i tau P/(pk)} c_i
    (``phase3_loss``).  In the eigenbasis (pi_r, v_r) of P, with (v_r . W*[:, i])^2 -> s_r, its mean
    over the modes, s_r = v_r^T (W* W*^T / d) v_r (the single neuron's scale ||w*||^2 / d,
    theory.loss_law), each r is the single-neuron sum at tau' = pi_r tau / (pk):
        L ~ (4 / k^2) sum_r pi_r s_r (C_1 / 4) (pi_r tau / (pk))^{-(1 - 1/a)}
          = C_1 p^{1 - 1/a} k^{-1 - 1/a} sum_r s_r pi_r^{1/a} tau^{-(1 - 1/a)}.
    The exponent is the single neuron's, 1 - 1/a, for every p >= k.  The constant is NOT k C_1:
    for Q-orthogonal teachers (P = I, s_r = s) C = s C_1 p^{1 - 1/a} k^{-1/a}, i.e. for p = k
    C = s C_1 k^{1 - 2/a} (independent of k at a = 2), and over-parameterisation p > k multiplies
    it by (p/k)^{1 - 1/a} (the slower rates 1/(pk) of the larger committee leave more of the tail).
    p = k = 1: C = C_1 ||w*||^2 / d, theory.loss_law's scale.
    """
    from ..theory import loss_law_constant

    lam, Wstar = _check_teachers(lam, Wstar)
    p = _check_count(p, "p")
    k, d = Wstar.shape
    if p < k:
        raise ValueError(f"the Phase III law needs p >= k (a zero-loss minimum), got p={p}, k={k}")
    pi, V = np.linalg.eigh((Wstar * lam) @ Wstar.T)
    s = np.einsum("mr,mn,nr->r", V, Wstar @ Wstar.T / d, V)
    return float(loss_law_constant(a, d) * p ** (1 - 1 / a) * k ** (-1 - 1 / a) * np.sum(s * pi ** (1 / a)))


# --------------------------------------------------------------------------- the saddles R = 0


def saddle_level(trace_p: float, p: int, k: int, r: int) -> float:
    """The nonzero eigenvalue mu_r of M at the stationary points of the quadratic flow with R = 0 and
    rank M = r (1 <= r <= p): mu_r = p tr(P) / (k (r + 2)).

    With R = 0, B = -8 R / (pk) = 0 and the flow is dW/dt = -A W Q, A = 8 M / p^2 + c I_p,
    c = (4/p) (tr M / p - tr P / k).  Stationary iff A W = 0 (Q > 0), hence A M = 0 and every
    eigenvalue mu of M has mu (8 mu / p^2 + c) = 0: mu = 0 or mu = -c p^2 / 8, one common nonzero
    value mu_r on a rank-r M.  Then tr M = r mu_r and mu_r = -(p/2) (r mu_r / p - tr P / k), so
        mu_r = p tr P / (k (r + 2)),   tr M / p = r tr P / (k (r + 2)).
    Conversely any W whose rows are Q-orthogonal to every teacher with M = mu_r (projector of rank r)
    is stationary (A W = 0 on the column space of M).  p = k = 1, tr P = 1: mu_1 = 1/3, the paper's
    saddles {u = 0, s = s*/3}.  In Phase I every row grows along the same top eigenvector of L
    (the module docstring), so M is rank one there, and the saddle the escape passes is r = 1: the
    top eigenvalue of M reaching mu_1 = p tr P / (3k) (each unit's Q-norm tr P / (3k) when the p
    rows coincide) is the committee's analogue of s crossing 1/3.
    """
    p, k, r = _check_count(p, "p"), _check_count(k, "k"), _check_count(r, "r")
    if r > p:
        raise ValueError(f"rank r must be <= p, got r={r}, p={p}")
    return float(p * trace_p / (k * (r + 2)))
