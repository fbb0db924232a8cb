"""Phase I of a committee: the flow linearised at W = 0 and its escape rates.

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


def committee_escape_modes(lam, Wstar, p: int, activation: str):
    """(rates (k,), V (d, k)): the k largest eigenvalues of L, descending, and unit eigenvectors.

    rates[0] is rho_c.  Exact to rounding (the symmetric eigensolver on the d x d matrix L,
    O(d^3)); needs k <= d.  Only the quadratic activation has an escape (module docstring: for
    erf, W = 0 is not a critical point and the linearised flow has no growing mode).
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
    k, d = Wstar.shape
    if k > d:
        raise ValueError(f"the escape rates need k <= d, got k={k}, d={d}")
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
