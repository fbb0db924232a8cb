"""Phase I of the committee (prdynamics.committee.theory) against independent computations.

The escape rates against the paper's secular equation (p = k = 1) and the k x k secular
determinant, the linearised flow against the exact Hessian and gradient of committee.population,
and the growth of the overlaps in the exact committee flow against the rates, with tolerances
derived from the subleading spectrum and from the next order of the expansion.
"""

from __future__ import annotations

import numpy as np
import pytest

from prdynamics import model
from prdynamics.committee import gradient, hessian, integrate_committee_flow, overlaps, problem, theory
from prdynamics.committee.theory import (
    committee_escape_modes,
    committee_escape_rates,
    escape_count,
    escape_operator,
    linearised_flow,
    own_escape_rates,
    secular_matrix,
)
from prdynamics.flow import StepController
from prdynamics.model import spectrum
from prdynamics.theory import escape_rate

START = 1e-6  # |w_j(0)|: Phase I lasts ~ log(1 / START) / rho_c


def _linear_coefficients(L, W0, lam, w):
    """(mu, a) with W0[j] e^{L t} Q w = sum_r a_r e^{mu_r t}, for every row j: a is (p, d)."""
    mu, V = np.linalg.eigh(L)
    return mu, (W0 @ V) * (V.T @ (lam * w))[None, :]


def _gap_bound(mu, a, t1, t2):
    """Bound on |two-point slope of log|sum_r a_r e^{mu_r t}| on [t1, t2] - mu_top|.

    With r = 0 the top mode and eps(t) = sum_{r>0} (a_r / a_0) e^{-(mu_0 - mu_r) t}, the slope is
    mu_0 + [log|1 + eps(t2)| - log|1 + eps(t1)|] / (t2 - t1), and |eps(t)| <= E(t), E decreasing.
    """
    order = np.argsort(mu)[::-1]
    mu, a = mu[order], a[order]
    E = np.sum(np.abs(a[1:] / a[0]) * np.exp(-(mu[0] - mu[1:]) * t1))
    assert E < 0.5, "the window starts before the top mode dominates"
    return -2.0 * np.log1p(-E) / (t2 - t1)


def _slope(y, t, i1, i2):
    return (np.log(np.abs(y[i2])) - np.log(np.abs(y[i1]))) / (t[i2] - t[i1])


# --------------------------------------------------------------------------- rates


@pytest.mark.parametrize("a, d, seed", [(0.0, 50, 0), (1.5, 100, 1), (2.0, 200, 2), (3.0, 300, 3)])
def test_single_unit_is_the_papers_escape_rate(a, d, seed):
    lam, Ws, _ = problem(a, d, 1, 1, seed, 0, False)
    rho = committee_escape_rates(lam, Ws, 1, "quadratic")
    assert rho.shape == (1,)
    ref = escape_rate(lam, Ws[0])
    assert abs(rho[0] - ref) <= 1e-12 * ref
    assert abs(own_escape_rates(lam, Ws, 1)[0] - ref) <= 1e-12 * ref


@pytest.mark.parametrize("p, k, orthogonal", [(2, 2, False), (1, 3, True), (4, 2, True), (3, 1, False)])
def test_rates_solve_the_secular_determinant(p, k, orthogonal):
    lam, Ws, _ = problem(2.0, 150, p, k, 5, 0, orthogonal)
    rates, vecs = committee_escape_modes(lam, Ws, p, "quadratic")
    assert np.all(np.diff(rates) < 0)
    L = escape_operator(lam, Ws, p)
    c = 4.0 * np.trace((Ws * lam) @ Ws.T) / (p * k)
    for r, (rho, v) in enumerate(zip(rates, vecs.T, strict=True)):
        assert np.min(np.abs(np.linalg.svd(secular_matrix(rho, lam, Ws, p), compute_uv=False))) <= 1e-11
        np.testing.assert_allclose(L @ v, rho * v, atol=1e-13)
        # the eigenvector is the resolvent applied to the Q-projections of the teachers
        QW = (Ws * lam).T
        z, *_ = np.linalg.lstsq(QW, (rho - c * lam) * v, rcond=None)
        np.testing.assert_allclose(QW @ z / (rho - c * lam), v, atol=1e-10)
        assert rho >= c * lam[r] - 1e-14  # interlacing: lifted above the bare rate c lam_r
    if k == 1:  # the top root of the one-teacher secular equation, rescaled
        assert abs(rates[0] - own_escape_rates(lam, Ws, p)[0]) <= 1e-12 * rates[0]


@pytest.mark.parametrize("p, k", [(1, 3), (2, 2), (3, 4)])
def test_isotropic_orthogonal_teachers_share_one_rate(p, k):
    """a = 0, P = I_k: L = (4 k / (pkd)) I + (8 / (pkd^2)) T, k-fold rate (4 k + 8) / (pkd) on the span."""
    d = 40
    lam, Ws, _ = problem(0.0, d, p, k, 1, 0, True)
    rates = committee_escape_rates(lam, Ws, p, "quadratic")
    np.testing.assert_allclose(rates, (4.0 * k + 8.0) / (p * k * d), rtol=1e-12)
    np.testing.assert_allclose(own_escape_rates(lam, Ws, p), rates, rtol=1e-12)


def test_erf_has_no_escape():
    lam, Ws, _ = problem(2.0, 20, 2, 2, 0, 0, False)
    with pytest.raises(ValueError, match="not a critical point"):
        committee_escape_rates(lam, Ws, 2, "erf")


def test_relu_has_no_escape_and_no_linearisation():
    lam, Ws, _ = problem(2.0, 20, 2, 2, 0, 0, False)
    with pytest.raises(ValueError, match="relu has no Phase I escape"):
        committee_escape_rates(lam, Ws, 2, "relu")
    with pytest.raises(ValueError, match="no linearisation"):
        linearised_flow(lam, Ws, 2, "relu")


# --------------------------------------------------------------------------- linearisation vs Hessian


@pytest.mark.parametrize("p, k", [(1, 1), (2, 2), (3, 2), (2, 3)])
def test_quadratic_hessian_at_zero_is_the_escape_operator(p, k):
    d = 25
    lam, Ws, _ = problem(2.0, d, p, k, 7, 0, False)
    H = hessian(np.zeros((p, d)), lam, Ws, "quadratic")
    L = escape_operator(lam, Ws, p)
    assert np.max(np.abs(-H - np.kron(np.eye(p), L))) <= 1e-14 * np.max(np.abs(L))
    top = np.linalg.eigvalsh(-H)[::-1]
    rates = committee_escape_rates(lam, Ws, p, "quadratic")
    # the flow d vec W / dt = -H vec W: every rate of L, p-fold (one copy per student unit)
    np.testing.assert_allclose(top[:p], rates[0], rtol=1e-12)
    if k > 1:
        np.testing.assert_allclose(top[p: 2 * p], rates[1], rtol=1e-12)


@pytest.mark.parametrize("activation", ["quadratic", "erf"])
def test_linearised_flow_against_the_gradient(activation):
    p, k, d = 3, 2, 30
    lam, Ws, W0 = problem(1.5, d, p, k, 4, 0, False)
    lin = linearised_flow(lam, Ws, p, activation)
    H = hessian(np.zeros((p, d)), lam, Ws, activation)
    np.testing.assert_allclose(H, np.kron(lin.A0, np.diag(lam)) - np.kron(np.eye(p), lin.S), atol=1e-15)
    np.testing.assert_allclose(-gradient(np.zeros((p, d)), lam, Ws, activation), lin.F, atol=1e-16)
    # remainder O(|W|^3) for quadratic units (odd in W), O(|W|^2) for erf
    order = 3 if activation == "quadratic" else 2
    rem = []
    for h in (1e-2, 5e-3):
        W = h * W0
        rem.append(np.max(np.abs(-gradient(W, lam, Ws, activation) - (lin.F - lin.A0 @ W * lam + W @ lin.S))))
    assert 0.9 * 2**order <= rem[0] / rem[1] <= 1.1 * 2**order


# --------------------------------------------------------------------------- the flow in Phase I


def _run(lam, Ws, W0, t):
    scale = np.max(np.abs(W0))
    ctl = StepController(rtol=1e-10, atol=1e-20 * scale * scale)  # relative control down to M ~ |W0|^2
    return integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl)


def _nonlinear_allowance(lam, p, rho, trm1, trm2):
    """Bound on the slope change by the cubic term: the relative gap of R is <= 1.5 kappa tr M at
    each end (test_flow_follows_the_linear_solution), kappa <= 6 lam_max / (p^2 rho_c)."""
    return 1.5 * 6.0 * np.max(lam) / (p**2 * rho) * (trm1 + trm2)


def _check_growth(tr, t, i1, i2, lam, Ws, W0, L, rates_by_teacher, rho_c, rel_tol):
    """Every R[j, m] grows at rates_by_teacher[m] on [t[i1], t[i2]], within the derived tolerance."""
    p = W0.shape[0]
    trm = np.trace(tr.M, axis1=1, axis2=2)
    extra = _nonlinear_allowance(lam, p, rho_c, trm[i1], trm[i2]) / (t[i2] - t[i1])
    slopes = np.empty((p, Ws.shape[0]))
    for m, (block, rate) in enumerate(rates_by_teacher):
        mu, a = _linear_coefficients(L[block, block], W0[:, block], lam[block], Ws[m, block])
        assert abs(np.max(mu) - rate) <= 1e-12 * rate
        for j in range(p):
            tol = _gap_bound(mu, a[j], t[i1], t[i2]) + extra
            assert tol <= rel_tol * rate
            slopes[j, m] = _slope(tr.R[:, j, m], t, i1, i2)
            assert abs(slopes[j, m] - rate) <= tol
    return slopes


@pytest.fixture(scope="module")
def generic_run():
    p = k = 2
    lam, Ws, W0 = problem(2.0, 200, p, k, 3, 0, False)
    W0 = START * W0
    t = 0.5 * np.arange(1, 14)  # 0.5 .. 6.5
    return lam, Ws, W0, t, _run(lam, Ws, W0, t)


def test_flow_follows_the_linear_solution(generic_run):
    """R(t) against W0 e^{L t} Q W*^T, to the next order of the expansion.

    Once W is along the top eigenvector v, the cubic term -(1/p^2) Q (8 M W + 4 tr(M) W) of the flow
    lowers the rate by (12 / p^2) tr(M) v^T Q v; tr M ~ e^{2 rho_c t}, so the relative gap of R is
    kappa tr M(t), kappa = 6 v^T Q v / (p^2 rho_c).
    """
    lam, Ws, W0, t, tr = generic_run
    p = W0.shape[0]
    L = escape_operator(lam, Ws, p)
    mu, V = np.linalg.eigh(L)
    kappa = 6.0 * np.sum(lam * V[:, -1] ** 2) / (p**2 * mu[-1])
    assert kappa <= 6.0 * np.max(lam) / (p**2 * mu[-1])
    checked = 0
    for ti, M, R in zip(t, tr.M, tr.R, strict=True):
        Rl = overlaps((W0 @ V) * np.exp(mu * ti) @ V.T, lam, Ws)[1]
        gap = np.max(np.abs(R - Rl)) / np.max(np.abs(Rl))
        trm = np.trace(M)
        assert gap <= 1e-9 + 1.5 * kappa * trm
        if 1e-6 <= trm <= 1e-3:  # past the integrator's floor, before the next orders matter
            assert abs(gap / (kappa * trm) - 1.0) <= 0.05
            checked += 1
    assert checked >= 3


def test_overlaps_grow_at_the_escape_rate(generic_run):
    """log|R_jm| grows at rho_c and log tr M at 2 rho_c on t in [4, 6] (tr M <= 1e-3)."""
    lam, Ws, W0, t, tr = generic_run
    p = W0.shape[0]
    rho = committee_escape_rates(lam, Ws, p, "quadratic")
    i1, i2 = 7, 11
    trm = np.trace(tr.M, axis1=1, axis2=2)
    assert trm[i2] <= 1e-3
    L = escape_operator(lam, Ws, p)
    everything = slice(None)
    _check_growth(tr, t, i1, i2, lam, Ws, W0, L, [(everything, rho[0])] * Ws.shape[0], rho[0], 0.015)
    # tr M = sum of e^{(mu_r + mu_s) t} terms: the same relative gap bound, twice the rate
    assert abs(_slope(trm, t, i1, i2) - 2.0 * rho[0]) <= 0.015 * rho[0]


def test_q_orthogonal_teachers_do_not_escape_at_their_own_rates():
    """P = I_k, but G(rho) is not diagonal: both teacher overlaps grow at the common top rate."""
    p = k = 2
    lam, Ws, W0 = problem(2.0, 200, p, k, 3, 0, True)
    np.testing.assert_allclose((Ws * lam) @ Ws.T, np.eye(k), atol=1e-12)
    rates, own = committee_escape_rates(lam, Ws, p, "quadratic"), own_escape_rates(lam, Ws, p)
    assert own[1] - rates[1] > 0.5  # the coupling moves the second rate far from teacher 2's own
    W0 = START * W0
    t = 0.5 * np.arange(1, 13)
    tr = _run(lam, Ws, W0, t)
    L = escape_operator(lam, Ws, p)
    everything = slice(None)
    slopes = _check_growth(tr, t, 7, 11, lam, Ws, W0, L, [(everything, rates[0])] * k, rates[0], 0.015)
    assert np.all(np.abs(slopes[:, 1] - own[1]) > 0.5)


def test_disjoint_teachers_escape_at_their_own_rates():
    """Teachers on disjoint modes: L is block diagonal, each R[:, m] grows at teacher m's own rate."""
    p = k = 2
    lam, Ws, W0 = problem(2.0, 200, p, k, 3, 0, False)
    Ws[0, 1::2], Ws[1, 0::2] = 0.0, 0.0
    Ws = Ws / np.sqrt(np.sum(lam * Ws * Ws, axis=1))[:, None]
    rates, own = committee_escape_rates(lam, Ws, p, "quadratic"), own_escape_rates(lam, Ws, p)
    np.testing.assert_allclose(rates, np.sort(own)[::-1], rtol=1e-12)
    W0 = 1e-20 * W0  # teacher 2's rate is a quarter of teacher 1's: a longer Phase I
    t = 2.0 * np.arange(1, 9)  # 2 .. 16
    tr = _run(lam, Ws, W0, t)
    L = escape_operator(lam, Ws, p)
    assert np.trace(tr.M[-1]) <= 1e-5
    blocks = [(slice(m, None, 2), own[m]) for m in range(k)]
    _check_growth(tr, t, 3, 7, lam, Ws, W0, L, blocks, rates[0], 0.01)  # t in [8, 16]


# --------------------------------------------------------------------------- the secular solver


def _no_dense(monkeypatch):
    """Make the dense fallback impossible, so that a result can only come from the secular solver."""

    def refuse(*args):
        raise AssertionError("the d x d escape operator was formed")

    monkeypatch.setattr(theory, "escape_operator", refuse)


def _dense_modes(lam, Ws, p):
    """Every eigenvalue of L, descending, and its eigenvectors, by the dense symmetric eigensolver."""
    mu, U = np.linalg.eigh(escape_operator(lam, Ws, p))
    return mu[::-1], U[:, ::-1]


def _assert_same_modes(rates, X, mu, U, tie):
    """rates, X (k of them) against the dense mu, U (all d): rates to 1e-12 relative, eigenvectors up
    to sign; for eigenvalues within tie * rho_1 of each other, where the eigenvectors are only
    determined up to a rotation, the returned vectors must lie in the dense eigenspace."""
    k = rates.shape[0]
    assert np.all(np.abs(rates - mu[:k]) <= 1e-12 * mu[:k])
    np.testing.assert_allclose(X.T @ X, np.eye(k), atol=1e-12)
    start = 0
    for r in range(1, mu.shape[0] + 1):
        if r < mu.shape[0] and mu[r - 1] - mu[r] <= tie * mu[0]:
            continue
        cosines = np.linalg.svd(U[:, start:r].T @ X[:, start:min(r, k)], compute_uv=False)
        assert np.min(cosines) >= 1.0 - 1e-10
        start = r
        if start >= k:
            break


@pytest.mark.parametrize("orthogonal", [False, True])
@pytest.mark.parametrize("a", [0.5, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("p", [1, 5])
@pytest.mark.parametrize("d, k", [(d, k) for d in (5, 50, 400) for k in (1, 2, 4, 8) if k <= d])
def test_secular_solver_matches_dense_eigh(d, k, p, a, orthogonal, monkeypatch):
    lam, Ws, _ = problem(a, d, p, k, d + k, 0, orthogonal)
    mu, U = _dense_modes(lam, Ws, p)
    _no_dense(monkeypatch)
    rates, X = committee_escape_modes(lam, Ws, p, "quadratic")
    assert rates.shape == (k,) and X.shape == (d, k)
    _assert_same_modes(rates, X, mu, U, 1e-8)


def _twin_teachers(d, a, seed):
    """Two teachers with identical weights on disjoint modes of a spectrum whose values come in equal
    pairs: L is two identical blocks, so every rate is exactly double."""
    half = spectrum(d // 2, a)
    lam = np.repeat(half, 2) / 2.0
    g = np.random.default_rng(seed).standard_normal(d // 2)
    Ws = np.zeros((2, d))
    Ws[0, 0::2], Ws[1, 1::2] = g, g
    return lam, Ws / np.sqrt(np.sum(lam * Ws * Ws, axis=1))[:, None]


@pytest.mark.parametrize("case", ["twins", "twins_four", "isotropic"])
def test_repeated_rates_keep_their_multiplicity(case, monkeypatch):
    if case == "isotropic":  # a = 0, P = I_3: one 3-fold rate (4 k + 8) / (pkd)
        p, k = 2, 3
        lam, Ws, _ = problem(0.0, 40, p, k, 1, 0, True)
        tied = [(0, 3)]
    else:
        p = 2
        lam, Ws = _twin_teachers(60, 2.0, 3)
        if case == "twins_four":  # a second pair of twins: rates (r1, r1, r2, r2)
            lam2, Ws2 = _twin_teachers(60, 2.0, 4)
            Ws = np.vstack([Ws, Ws2])
        k = Ws.shape[0]
        tied = [(2 * i, 2 * i + 2) for i in range(k // 2)]
    mu, U = _dense_modes(lam, Ws, p)
    for i, j in tied:  # the construction: exact multiplicity j - i, separated from the rest
        assert mu[i] - mu[j - 1] <= 1e-14 * mu[0] and mu[j - 1] - mu[j] > 1e-6 * mu[0]
        assert i == 0 or mu[i - 1] - mu[i] > 1e-6 * mu[0]
    _no_dense(monkeypatch)
    rates, X = committee_escape_modes(lam, Ws, p, "quadratic")
    for i, j in tied:
        assert np.ptp(rates[i:j]) <= 1e-14 * rates[0]
    _assert_same_modes(rates, X, mu, U, 1e-8)
    if case == "isotropic":
        np.testing.assert_allclose(rates, (4.0 * k + 8.0) / (p * k * 40), rtol=1e-12)


@pytest.mark.parametrize("case", ["generic", "orthogonal", "twins", "isotropic"])
def test_escape_count_against_dense_counts(case):
    p = 3
    if case == "twins":
        lam, Ws = _twin_teachers(40, 1.5, 0)
    else:
        lam, Ws, _ = problem(0.0 if case == "isotropic" else 2.0, 40, p, 4, 2, 0, case != "generic")
    mu = np.linalg.eigvalsh(escape_operator(lam, Ws, p))[::-1]
    # the bare rates c lam_i as the solver rounds them (c = 4 tr P / (pk)): a probe must hit its float
    # exactly, and another summation order of tr P can differ in the last bit
    bare = theory._lifted_diagonal(lam, Ws, p)[0]
    np.testing.assert_allclose(bare, 4.0 * np.trace((Ws * lam) @ Ws.T) / (p * Ws.shape[0]) * lam, rtol=1e-14)
    top = mu[:12][np.diff(mu[:13]) < -1e-12 * mu[0]]  # distinct values, one copy of a repeated rate
    probes = np.concatenate([0.5 * (top[1:] + top[:-1]), [1.5 * mu[0], 0.5 * mu[-1]],
                             top[:4] * (1 + 1e-9), top[:4] * (1 - 1e-9)])
    for rho in probes:
        if np.any(bare == rho):
            continue
        assert escape_count(rho, lam, Ws, p) == np.count_nonzero(mu > rho), rho
    with pytest.raises(ValueError, match="pole"):
        escape_count(bare[3], lam, Ws, p)


def _spy_dense(monkeypatch):
    calls = []

    def spy(*args):
        calls.append(args)
        return escape_operator(*args)

    monkeypatch.setattr(theory, "escape_operator", spy)
    return calls


@pytest.mark.parametrize("case", ["zero_component", "dependent_isotropic"])
def test_rates_at_a_bare_rate_fall_back_to_dense(case, monkeypatch):
    """A rate equal to some c lam_i: the eigenvector e_i (every teacher zero on mode i), or the bare
    rate of a = 0 left in the top k when the teachers span fewer than k directions."""
    p, k = 2, 2
    if case == "zero_component":
        lam, Ws, _ = problem(2.0, 50, p, k, 0, 0, False)
        Ws[:, 0] = 0.0
    else:
        lam, Ws, _ = problem(0.0, 50, p, k, 0, 0, False)
        Ws[1] = Ws[0]
    c = 4.0 * np.trace((Ws * lam) @ Ws.T) / (p * k)
    mu, U = _dense_modes(lam, Ws, p)
    assert np.min(np.abs(mu[:k, None] - c * lam[None, :])) <= 1e-15 * mu[0]
    calls = _spy_dense(monkeypatch)

    def no_vectors(*args):
        raise AssertionError("a rate on a bare rate must be detected before any resolvent vector")

    monkeypatch.setattr(theory, "_secular_vectors", no_vectors)
    rates, X = committee_escape_modes(lam, Ws, p, "quadratic")
    assert len(calls) == 1
    _assert_same_modes(rates, X, mu, U, 1e-8)
    # the fallback is guarded: without memory for the d x d operator it refuses instead
    monkeypatch.setattr(model, "_available_memory", lambda: 8 * 50 * 50)
    with pytest.raises(MemoryError):
        committee_escape_modes(lam, Ws, p, "quadratic")


def test_large_d_never_forms_the_operator(monkeypatch):
    """d = 20000, p = k = 8 with 1 GiB of memory (L alone would need 3.2 GB): eigenpairs checked by
    their residuals through L v = c Q v + V (V^T v), and the top k by the count above and below."""
    d, p, k = 20_000, 8, 8
    lam, Ws, _ = problem(2.0, d, p, k, 0, 0, False)
    monkeypatch.setattr(model, "_available_memory", lambda: 2**30)
    with pytest.raises(MemoryError):
        model.check_memory(d * d // 12)
    _no_dense(monkeypatch)
    rates, X = committee_escape_modes(lam, Ws, p, "quadratic")
    c = 4.0 * np.sum(lam * Ws * Ws) / (p * k)
    V = np.sqrt(8.0 / (p * k)) * (Ws * lam).T
    assert np.all(np.diff(rates) < 0) and np.all(rates >= c * lam[:k])
    np.testing.assert_allclose(X.T @ X, np.eye(k), atol=1e-12)
    residual = c * lam[:, None] * X + V @ (V.T @ X) - X * rates
    assert np.max(np.linalg.norm(residual, axis=0)) <= 1e-13 * rates[0]
    assert escape_count(rates[0] * (1 + 1e-12), lam, Ws, p) == 0
    assert escape_count(rates[-1] * (1 - 1e-12), lam, Ws, p) >= k
    for r in range(1, k):
        assert escape_count(0.5 * (rates[r - 1] + rates[r]), lam, Ws, p) == r


def _ulps(x, n):
    """The float n steps above x (below for n < 0)."""
    for _ in range(abs(n)):
        x = np.nextafter(x, np.inf if n > 0 else -np.inf)
    return x


def test_a_midpoint_on_a_bare_rate_moves_to_the_next_float():
    """The bisection probe never evaluates S at a pole: a midpoint equal to c lam_i moves up to the next
    float, where the count is the dense one; with no non-pole float left inside the bracket it gives up."""
    p, k = 2, 3
    lam, Ws, _ = problem(2.0, 30, p, k, 0, 0, False)
    D, V = theory._lifted_diagonal(lam, Ws, p)
    mu = np.linalg.eigvalsh(escape_operator(lam, Ws, p))
    for i in (0, 4, 29):
        lo, hi = _ulps(D[i], -2), _ulps(D[i], 2)
        assert 0.5 * (lo + hi) == D[i]
        mid, n = theory._probe(lo, hi, D, V)
        assert mid == _ulps(D[i], 1) and n == np.count_nonzero(mu > mid)
        # a second bare rate on the next float (a mode no teacher touches): nothing left in (lo, hi)
        D2, V2 = np.append(D, _ulps(D[i], 1)), np.vstack([V, np.zeros((1, k))])
        assert theory._probe(lo, hi, D2, V2) is None
        assert theory._probe(lo, _ulps(D[i], 3), D2, V2)[0] == _ulps(D[i], 2)
