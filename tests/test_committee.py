"""The committee engine (prdynamics.committee) against independent computations.

Loss against Monte Carlo, gradient and Hessian against finite differences, p = k = 1 against the
paper's single-neuron code, the isotropic case against the closed ODE of the overlaps, the
integrator against scipy's Radau on the full W ODE, online SGD against the flow, and the CLI.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm
from scipy.special import erf

from prdynamics import population
from prdynamics.committee import (
    ACTIVATIONS,
    coefficients,
    gradient,
    hessian,
    integrate_committee_flow,
    loss,
    loss_from_overlaps,
    overlaps,
    problem,
    run_committee_sgd,
    teachers,
)
from prdynamics.committee.flow import _coefficients, _linear_forcing, linear_forcing_step
from prdynamics.committee.sgd import _advance as _sgd_advance
from prdynamics.committee.sgd import committee_sgd_step_reference
from prdynamics.flow import StepController, integrate_flow, log_time_grid
from prdynamics.fused_rng import LANES, draw_normals, stream_state
from prdynamics.io import COMMITTEE_FLOW_KEYS, COMMITTEE_KEYS, load_result
from prdynamics.seeding import FUSED_STREAM, rng_for
from prdynamics.seeding import problem as single_problem
from prdynamics.sgd import SGD_RNGS, run_sgd

ROOT = Path(__file__).resolve().parents[1]


def _sigma(activation, z):
    return {"quadratic": lambda: z * z, "erf": lambda: erf(z / np.sqrt(2.0)),
            "relu": lambda: np.maximum(z, 0.0)}[activation]()


def _perturbed(a, d, p, k, seed, scale):
    """A committee problem with W moved off the sphere start (so no overlap is special)."""
    lam, Ws, W0 = problem(a, d, p, k, seed, 0, False)
    W = W0 + scale * np.random.default_rng(seed).standard_normal(W0.shape)
    return lam, Ws, W


# --------------------------------------------------------------------------- loss, gradient, Hessian


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_matches_monte_carlo(activation):
    """E (f - y*)^2 by direct sampling of x ~ N(0, Q): within 5 standard errors of the mean.

    The sampled value is a plain mean of n i.i.d. squares, so its standard error is
    std / sqrt(n); a correct formula fails this with probability ~6e-7.
    """
    lam, Ws, W = _perturbed(1.5, 10, 3, 2, 4, 0.5)
    rng = np.random.default_rng(7)
    vals = []
    for _ in range(4):
        x = rng.standard_normal((100_000, lam.shape[0])) * np.sqrt(lam)
        f = _sigma(activation, x @ W.T).mean(axis=1)
        y = _sigma(activation, x @ Ws.T).mean(axis=1)
        vals.append((f - y) ** 2)
    vals = np.concatenate(vals)
    se = vals.std(ddof=1) / np.sqrt(vals.size)
    assert abs(loss(W, lam, Ws, activation) - vals.mean()) <= 5 * se
    assert se < 0.01 * vals.mean()  # the test has resolution


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_matches_finite_differences(activation):
    """Central differences of the loss, step 1e-6: truncation ~h^2 L''' ~1e-12, rounding
    ~eps L / h ~1e-10; the bound 1e-8 (relative to the largest entry) leaves room for both."""
    lam, Ws, W = _perturbed(1.5, 10, 3, 2, 1, 0.3)
    g = gradient(W, lam, Ws, activation)
    fd = np.zeros_like(W)
    h = 1e-6
    for idx in np.ndindex(W.shape):
        e = np.zeros_like(W)
        e[idx] = h
        fd[idx] = (loss(W + e, lam, Ws, activation) - loss(W - e, lam, Ws, activation)) / (2 * h)
    assert np.max(np.abs(g - fd)) <= 1e-8 * np.max(np.abs(g))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hessian_matches_finite_differences_of_the_gradient(activation):
    """Central differences of the gradient, step 1e-5 (errors ~1e-10 as above): <= 1e-8 relative.
    The Hessian is symmetric to rounding, as the Hessian of a smooth loss must be."""
    lam, Ws, W = _perturbed(1.5, 8, 2, 3, 2, 0.3)
    H = hessian(W, lam, Ws, activation)
    Hf = np.zeros_like(H)
    h = 1e-5
    for col in range(W.size):
        e = np.zeros(W.size)
        e[col] = h
        e = e.reshape(W.shape)
        Hf[:, col] = ((gradient(W + e, lam, Ws, activation) - gradient(W - e, lam, Ws, activation))
                      / (2 * h)).ravel()
    scale = np.max(np.abs(H))
    assert np.max(np.abs(H - Hf)) <= 1e-8 * scale
    assert np.max(np.abs(H - H.T)) <= 1e-14 * scale


def test_p_k_1_quadratic_is_the_paper():
    """Same streams, same numbers: the problem bit for bit, loss, gradient and Hessian to rounding."""
    lam, Ws, W0 = problem(2.0, 30, 1, 1, 5, 0, False)
    lam1, ws1, w01 = single_problem(2.0, 30, 5, 0)
    assert np.array_equal(lam, lam1) and np.array_equal(Ws[0], ws1) and np.array_equal(W0[0], w01)
    for w in (w01, 0.3 * w01 + 0.5 * ws1):
        W = w[None, :]
        assert abs(loss(W, lam, Ws, "quadratic") - population.loss(w, lam1, ws1)) <= 1e-13
        g1 = population.gradient(w, lam1, ws1)
        assert np.max(np.abs(gradient(W, lam, Ws, "quadratic")[0] - g1)) <= 1e-14 * np.max(np.abs(g1))
        h1 = population.hessian(w, lam1, ws1)
        assert np.max(np.abs(hessian(W, lam, Ws, "quadratic") - h1)) <= 1e-13 * np.max(np.abs(h1))


def test_orthogonal_teachers_have_identity_overlap():
    lam, Ws, _ = problem(1.5, 12, 2, 4, 0, 0, True)
    _, _, P = overlaps(Ws, lam, Ws)
    assert np.max(np.abs(P - np.eye(4))) <= 1e-13
    lam, Ws, _ = problem(1.5, 12, 2, 4, 0, 0, False)
    assert np.allclose(np.diagonal(overlaps(Ws, lam, Ws)[2]), 1.0, rtol=1e-14)
    assert np.max(np.abs(overlaps(Ws, lam, Ws)[2] - np.eye(4))) > 1e-3  # i.i.d. rows are not orthogonal


def test_bad_inputs_are_refused_by_name():
    lam, Ws, W = _perturbed(1.5, 6, 2, 2, 0, 0.1)
    with pytest.raises(ValueError, match="activation"):
        loss(W, lam, Ws, "relu6")
    with pytest.raises(ValueError, match="p must be"):
        problem(1.5, 6, 0, 2, 0, 0, False)
    with pytest.raises(ValueError, match="k must be"):
        problem(1.5, 6, 2, 1.5, 0, 0, False)
    with pytest.raises(ValueError, match="k <= d"):
        teachers(lam, 7, rng_for(0, 6, 0, 0), True)
    bad = W.copy()
    bad[0, 0] = np.nan
    t_eval = np.array([1.0])
    with pytest.raises(ValueError, match="W has non-finite"):
        integrate_committee_flow(lam, Ws, bad, "quadratic", t_eval, StepController(rtol=1e-6, atol=1e-9))


# --------------------------------------------------------------------------- integrator pieces


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kernel_coefficients_equal_the_numpy_ones(activation):
    lam, Ws, W = _perturbed(1.5, 10, 3, 2, 3, 0.3)
    M, R, P = overlaps(W, lam, Ws)
    A, B = coefficients(M, R, P, activation)
    A2, B2 = np.empty_like(A), np.empty_like(B)
    _coefficients(M, R, P, ACTIVATIONS.index(activation), A2, B2)
    assert np.max(np.abs(A - A2)) <= 1e-14 * np.max(np.abs(A))
    assert np.max(np.abs(B - B2)) <= 1e-14 * np.max(np.abs(B))


def test_linear_forcing_step_is_the_exact_linear_flow():
    """Given the end coefficients (A1, B1), each column obeys y' = -lam_i (A1 y + g(s)) with g linear
    in s from g0 = B0 w*_i + (A0 - A1) y(0) to g1 = B1 w*_i: in vec W (column-major) a linear ODE
    with the forcing -vec(Q-scaled g0) + s/h times the change, whose solution is the exponential of
    the augmented matrix [[L, f0, f1 - f0], [0, 0, 0], [0, 1/h, 0]] (states W, 1, s/h), L = -(Q kron A1),
    from scipy's expm.  Growth (indefinite A1) and stiff steps (lam_1 h alpha ~ 1e2) included; the
    kernel and the numpy form agree with it to 1e-12 relative.  A0 = A1, B0 = B1 is the
    frozen-coefficient step."""
    lam, Ws, W = _perturbed(1.0, 6, 3, 2, 3, 0.5)
    M, R, P = overlaps(W, lam, Ws)
    A, B = coefficients(M, R, P, "quadratic")
    rng = np.random.default_rng(0)
    E = rng.standard_normal((3, 3))
    A_end, B_end = A + 0.1 * (E + E.T), B + 0.1 * rng.standard_normal(B.shape)
    cases = [(A, B, A + np.diag([0.0, -0.5, 0.3]), B, h) for h in (1e-2, 1.0)]  # frozen, indefinite
    cases += [(A, B, A_end + np.diag([0.0, -0.5, 0.3]), B_end, h) for h in (1e-2, 1.0)]
    cases += [(A, B, A_end + 0.5 * np.eye(3), B_end, h) for h in (1.0, 300.0)]  # positive: stiff
    for A0, B0, A1, B1, h in cases:
        n = W.size
        aug = np.zeros((n + 2, n + 2))
        aug[:n, :n] = -np.kron(np.diag(lam), A1)
        f0 = -((B0 @ Ws + (A0 - A1) @ W) * lam).ravel(order="F")
        f1 = -((B1 @ Ws) * lam).ravel(order="F")
        aug[:n, n], aug[:n, n + 1], aug[n + 1, n] = f0, f1 - f0, 1.0 / h
        start = np.concatenate([W.ravel(order="F"), [1.0, 0.0]])
        ref = (expm(h * aug) @ start)[:n].reshape(W.shape, order="F")
        out = np.empty_like(W)
        _linear_forcing(W, lam, Ws, A0, B0, A1, B1, h, out)
        scale = np.max(np.abs(ref))
        assert np.max(np.abs(linear_forcing_step(W, lam, Ws, A0, B0, A1, B1, h) - ref)) <= 1e-12 * scale
        assert np.max(np.abs(out - ref)) <= 1e-12 * scale


# --------------------------------------------------------------------------- the flow


def test_p_k_1_quadratic_flow_matches_integrate_flow():
    """Same seed, two integrators of the paper's flow (different methods): the recorded s = M, u = R
    and loss agree to <= 1e-10 relative at every output time through Phases I-III (t to 300 at
    d = 40, a = 2).  The committee integrator runs at rtol 1e-11 (its global error measured about
    1.5 rtol), the paper's at 1e-13; measured gap 1.5e-11."""
    lam, ws, w0 = single_problem(2.0, 40, 3, 0)
    t_eval = log_time_grid(1e-2, 300.0, 10)
    ref = integrate_flow(lam, ws, w0, t_eval, StepController(rtol=1e-13, atol=1e-16))
    lam_c, Ws, W0 = problem(2.0, 40, 1, 1, 3, 0, False)
    tr = integrate_committee_flow(lam_c, Ws, W0, "quadratic", t_eval, StepController(rtol=1e-11, atol=1e-14))
    assert ref.stats["loss"][-1] < 1e-2 and ref.stats["u"][-1] > 0.99  # Phase III reached
    for mine, theirs in ((tr.M[:, 0, 0], ref.stats["s"]), (np.abs(tr.R[:, 0, 0]), np.abs(ref.stats["u"])),
                         (tr.loss, ref.stats["loss"])):
        assert np.max(np.abs(mine - theirs) / np.abs(theirs)) <= 1e-10
    np.testing.assert_allclose(tr.error, 1 - 2 * ref.stats["u"] ** 2 + ref.stats["s"] ** 2, rtol=1e-9)


def test_the_flow_does_not_depend_on_the_order_of_the_modes():
    """The kernels sort the modes by lam (their series tail needs it): a problem given with its modes
    permuted gives the same record and W_final permuted back, to rounding (the start's overlaps are
    summed in another order: 1e-12 of the O(1) entries; a wrong permutation moves them by O(1))."""
    lam, Ws, W0 = problem(2.0, 20, 2, 2, 1, 0, False)
    perm = np.random.default_rng(0).permutation(20)
    t_eval = log_time_grid(1e-2, 100.0, 5)
    ctl = StepController(rtol=1e-9, atol=1e-13)
    ref = integrate_committee_flow(lam, Ws, W0, "quadratic", t_eval, ctl)
    out = integrate_committee_flow(lam[perm], Ws[:, perm], W0[:, perm], "quadratic", t_eval, ctl)
    np.testing.assert_allclose(out.loss, ref.loss, rtol=1e-12)
    np.testing.assert_allclose(out.M, ref.M, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.W_final, ref.W_final[:, perm], rtol=0, atol=1e-12)


def test_late_phase3_steps_grow_with_t():
    """The coupling through the overlaps is stiff once modes are learned (rate ~ lam_1); treated
    implicitly (end-value Newton solve), the step grows with t: a second-order step at rtol needs
    h / t ~ rtol^(1/3), ln(10) / rtol^(1/3) ~ 500 steps per decade.  a = 3, d = 200, p = k = 2,
    rtol 1e-7: at most 1500 steps from t = 1e4 to 1e5 (measured 437; the integrator that froze the
    coefficients at a predicted midpoint took 16,068 in the decade before, its step capped near
    1 / lam_1) and the loss, 1e-4 there, still falls."""
    lam, Ws, W0 = problem(3.0, 200, 2, 2, 0, 0, False)
    steps = {}
    tr = integrate_committee_flow(lam, Ws, W0, "quadratic", np.array([1e4, 1e5]),
                                  StepController(rtol=1e-7, atol=1e-12),
                                  progress=lambda t, n: steps.__setitem__(float(t), n))
    assert steps[1e5] - steps[1e4] <= 1500
    assert tr.loss[1] < 0.5 * tr.loss[0]


def _isotropic_overlap_rhs(d, p, k, P, activation):
    """The closed ODE of (M, R) for Q = I / d.

    With Q = I / d, dW/dt = -(A W + B W*) / d and M = W W^T / d, R = W W*^T / d, P = W* W*^T / d:
        dM/dt = (dW W^T + W dW^T) / d = -(A M + M A + B R^T + R B^T) / d,
        dR/dt = dW W*^T / d = -(A R + B P) / d,
    and A, B depend on (M, R, P) only, so (M, R) obey a closed ODE of p^2 + pk unknowns for any
    activation (p = k = 1, quadratic: population.isotropic_rhs).
    """
    def rhs(t, y):
        M = y[: p * p].reshape(p, p)
        R = y[p * p:].reshape(p, k)
        A, B = coefficients(M, R, P, activation)
        dM = -(A @ M + M @ A + B @ R.T + R @ B.T) / d
        dR = -(A @ R + B @ P) / d
        return np.concatenate([dM.ravel(), dR.ravel()])
    return rhs


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_isotropic_flow_matches_the_closed_overlap_ode(activation):
    """a = 0: M(t), R(t) of the W flow (d = 30, p = 3, k = 2, rtol 1e-10) against the closed
    overlap ODE by DOP853 at rtol 1e-12: max gap <= 1e-9 (absolute, overlaps are O(1); measured
    9e-11 quadratic, 3e-11 erf)."""
    d, p, k = 30, 3, 2
    lam, Ws, W0 = problem(0.0, d, p, k, 2, 0, False)
    M0, R0, P = overlaps(W0, lam, Ws)
    t_eval = log_time_grid(1e-1, 2000.0, 8)
    ref = solve_ivp(_isotropic_overlap_rhs(d, p, k, P, activation), (0, t_eval[-1]),
                    np.concatenate([M0.ravel(), R0.ravel()]), method="DOP853", t_eval=t_eval,
                    rtol=1e-12, atol=1e-14)
    assert ref.success
    tr = integrate_committee_flow(lam, Ws, W0, activation, t_eval, StepController(rtol=1e-10, atol=1e-13))
    gap_m = np.max(np.abs(tr.M.reshape(len(t_eval), -1) - ref.y[: p * p].T))
    gap_r = np.max(np.abs(tr.R.reshape(len(t_eval), -1) - ref.y[p * p:].T))
    assert max(gap_m, gap_r) <= 1e-9
    assert tr.loss[-1] < 0.1 * tr.loss[0]  # the run learns: the comparison covers the dynamics


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_integrator_matches_radau_on_the_full_ode(activation):
    """d = 20, p = k = 2, a = 1.5: the full W ODE by scipy's Radau (rtol 1e-10, atol 1e-12, Jacobian
    -hessian) against the integrator at rtol 1e-10: M, R and loss within 1e-9 absolute, about ten
    times the measured gap (1.2e-10 quadratic, 1e-11 erf), which is of the order of both tolerances."""
    d, p, k = 20, 2, 2
    lam, Ws, W0 = problem(1.5, d, p, k, 1, 0, False)
    t_eval = log_time_grid(1e-2, 200.0, 8)
    sol = solve_ivp(lambda t, w: -gradient(w.reshape(p, d), lam, Ws, activation).ravel(), (0, t_eval[-1]),
                    W0.ravel(), method="Radau", t_eval=t_eval, rtol=1e-10, atol=1e-12,
                    jac=lambda t, w: -hessian(w.reshape(p, d), lam, Ws, activation))
    assert sol.success
    tr = integrate_committee_flow(lam, Ws, W0, activation, t_eval, StepController(rtol=1e-10, atol=1e-13))
    for j in range(len(t_eval)):
        W = sol.y[:, j].reshape(p, d)
        M, R, P = overlaps(W, lam, Ws)
        assert np.max(np.abs(tr.M[j] - M)) <= 1e-9
        assert np.max(np.abs(tr.R[j] - R)) <= 1e-9
        assert abs(tr.loss[j] - loss_from_overlaps(M, R, P, activation)) <= 1e-9
    assert tr.loss[-1] < 0.1 * tr.loss[0]


# --------------------------------------------------------------------------- online SGD


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_sgd_kernel_equals_the_numpy_reference_step(activation):
    """Five batch-4 steps with label noise on identical draws: the kernel and plain numpy agree to
    rounding (1e-13; only the order of the sums may differ)."""
    lam, Ws, W0 = problem(1.5, 12, 3, 2, 0, 0, False)
    rng = np.random.default_rng(1)
    Z, XI = rng.standard_normal((5, 4, 12)), rng.standard_normal((5, 4))
    W = W0.copy()
    assert _sgd_advance(W, np.sqrt(lam), lam, np.sqrt(lam) * Ws, Z, XI, 5, 0.01, 0.3, 1e6,
                        ACTIVATIONS.index(activation)) == -1
    Wr = W0.copy()
    for s in range(5):
        Wr = committee_sgd_step_reference(Wr, lam, Ws, Z[s], XI[s], 0.01, 0.09, activation)
    assert np.max(np.abs(W - Wr)) <= 1e-13
    assert np.max(np.abs(W - W0)) > 1e-4  # the steps moved W


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch", [1, 3])
def test_fused_sgd_equals_the_numpy_reference_step_on_the_streams_draws(activation, batch):
    """The fused kernel draws sample j's inputs as the next block of its stream (d = 13 padded to 16
    lanes) and its label noise from the noise stream: plain numpy steps on those draws (taken from
    fused_rng.draw_normals) give the same W to rounding (1e-12)."""
    d, seed, n, eta, sigma2 = 13, 4, 6, 0.01, 0.09
    lam, Ws, W0 = problem(1.5, d, 3, 2, seed, 0, False)
    m = -(-d // LANES) * LANES
    Z = draw_normals(stream_state(0, d, seed, FUSED_STREAM, 0), n * batch, m)[:, :d].reshape(n, batch, d)
    XI = draw_normals(stream_state(0, d, seed, FUSED_STREAM, 1, lanes=1), n * batch, 1).reshape(n, batch)
    Wr = W0.copy()
    for s in range(n):
        Wr = committee_sgd_step_reference(Wr, lam, Ws, Z[s], XI[s], eta, sigma2, activation)
    res = run_committee_sgd(1.5, d, 3, 2, activation, [seed], eta, batch, sigma2, np.array([n * eta]),
                            base_seed=0, blowup=1e6, orthogonal_teacher=False, rng="fused")
    assert res.info["n_steps"] == n
    assert np.max(np.abs(res.W_final[0] - Wr)) <= 1e-12
    assert np.max(np.abs(Wr - W0)) > 1e-4  # the steps moved W


@pytest.mark.parametrize("rng", SGD_RNGS)
def test_p_k_1_quadratic_sgd_is_the_paper_sgd(rng):
    """Same streams, same per-sample gradient: committee SGD with p = k = 1 is run_sgd's run of the
    same seeds (batch 2, label noise), to rounding (1e-12 relative; measured ~1e-15), with either
    generator."""
    t_eval = log_time_grid(1e-2, 2.0, 10)
    mine = run_committee_sgd(1.5, 30, 1, 1, "quadratic", [0, 2], 1e-3, 2, 0.05, t_eval, base_seed=0,
                             blowup=1e6, orthogonal_teacher=False, rng=rng)
    paper = run_sgd(1.5, 30, [0, 2], 1e-3, 2, np.sqrt(0.05), t_eval, base_seed=0, blowup=1e6, rng=rng)
    np.testing.assert_array_equal(mine.t, paper.t)
    np.testing.assert_allclose(mine.M[:, :, 0, 0], paper.stats["s"], rtol=1e-12)
    np.testing.assert_allclose(mine.R[:, :, 0, 0], paper.stats["u"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mine.loss, paper.stats["loss"], rtol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_small_eta_sgd_follows_the_flow(activation):
    """16 replicas (seeds), eta = 2.5e-4, batch 1, no label noise, d = 20, p = k = 2, t to 30: the
    replica mean of L_sgd / L_flow - 1 (each replica against the flow of its own seed) is within
    5 standard errors of 0 at every recorded time.  The SGD bias is O(eta) (at eta = 1e-3 it
    reaches ~2 SE for quadratic units, at 2.5e-4 it is below 2 SE); SE <= 1% keeps the test sharp."""
    seeds = list(range(16))
    t_eval = log_time_grid(1e-1, 30.0, 6)
    res = run_committee_sgd(1.5, 20, 2, 2, activation, seeds, 2.5e-4, 1, 0.0, t_eval, base_seed=0,
                            blowup=1e6, orthogonal_teacher=False, rng="fused")
    assert not res.diverged.any()
    flows = []
    for s in seeds:
        lam, Ws, W0 = problem(1.5, 20, 2, 2, s, 0, False)
        flows.append(integrate_committee_flow(lam, Ws, W0, activation, res.t,
                                              StepController(rtol=1e-8, atol=1e-11)).loss)
    rel = res.loss / np.array(flows) - 1
    se = rel.std(axis=0, ddof=1) / np.sqrt(len(seeds))
    assert np.all(np.abs(rel.mean(axis=0)) <= 5 * se)
    assert np.max(se) <= 0.01
    assert np.array(flows)[:, -1].mean() < 0.5 * np.array(flows)[:, 0].mean()  # the loss moved


@pytest.mark.parametrize("rng", SGD_RNGS)
def test_sgd_is_reproducible_and_replicas_are_independent(rng):
    """Same seeds, same numbers; a replica alone equals that replica in a group; the chunk size
    does not change the numbers (bit for bit: split-invariant draws, per-replica streams)."""
    t_eval = log_time_grid(1e-2, 1.0, 10)
    kw = dict(base_seed=0, blowup=1e6, orthogonal_teacher=True, rng=rng)
    group = run_committee_sgd(1.5, 16, 3, 2, "erf", [1, 3, 5], 2e-3, 4, 0.1, t_eval, **kw)
    again = run_committee_sgd(1.5, 16, 3, 2, "erf", [1, 3, 5], 2e-3, 4, 0.1, t_eval, **kw)
    alone = run_committee_sgd(1.5, 16, 3, 2, "erf", [3], 2e-3, 4, 0.1, t_eval, chunk_steps=7, **kw)
    for name in ("loss", "error", "M", "R", "W_final", "Wstar", "W0"):
        np.testing.assert_array_equal(getattr(group, name), getattr(again, name))
        np.testing.assert_array_equal(getattr(group, name)[1], getattr(alone, name)[0])
    assert not np.array_equal(group.loss[0], group.loss[1])


@pytest.mark.parametrize("rng", SGD_RNGS)
def test_sgd_divergence_is_flagged_and_recorded_as_nan(rng):
    """eta = 5 on quadratic units blows up at once: every replica is marked diverged at a step
    and its statistics are NaN from the first recorded time after that step."""
    t_eval = log_time_grid(1e-1, 100.0, 5)
    res = run_committee_sgd(1.5, 10, 2, 2, "quadratic", [0, 1], 5.0, 1, 0.0, t_eval, base_seed=0,
                            blowup=1e6, orthogonal_teacher=False, rng=rng)
    assert res.diverged.all() and np.all(res.diverged_step >= 1)
    for r in range(2):
        after = res.t >= res.diverged_step[r] * 5.0
        assert after.any() and np.all(np.isnan(res.loss[r, after])) and np.all(np.isnan(res.M[r, after]))
        assert np.all(np.isfinite(res.loss[r, ~after]))


@pytest.mark.parametrize("bad", [dict(eta=np.nan), dict(sigma2=-1.0), dict(batch=0), dict(activation="relu6"),
                                 dict(p=0), dict(blowup=0.0), dict(rng="mt19937")])
def test_sgd_refuses_bad_values_by_name(bad):
    args = dict(a=1.5, d=10, p=2, k=2, activation="quadratic", seeds=[0], eta=1e-3, batch=1, sigma2=0.0,
                t_eval=np.array([0.1, 1.0])) | bad
    name = next(iter(bad))
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        blowup, rng = args.pop("blowup", 1e6), args.pop("rng", "fused")
        run_committee_sgd(**args, base_seed=0, blowup=blowup, orthogonal_teacher=False, rng=rng)


# --------------------------------------------------------------------------- CLI

CLI_FLOW = ["--method", "flow", "--a", "1.5", "--d", "12", "--p", "2", "--k", "2",
            "--activation", "quadratic", "--base-seed", "0", "--t-max", "100", "--t-min", "1e-2",
            "--points-per-decade", "5",
            "--rtol", "1e-8", "--atol", "1e-11", "--phase3-loss", "0.5", "--learn-level", "0.6"]
CLI_SGD = ["--method", "sgd", "--a", "1.5", "--d", "12", "--p", "3", "--k", "2", "--activation", "erf",
           "--base-seed", "0", "--t-max", "1", "--t-min", "1e-2", "--points-per-decade", "5",
           "--eta", "1e-2", "--batch", "2", "--sigma2", "0.01", "--blowup", "1e6", "--sgd-rng", "fused",
           "--orthogonal-teacher"]


def _cli():
    path = ROOT / "scripts" / "simulate_committee.py"
    spec = importlib.util.spec_from_file_location("simulate_committee", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_flow_writes_every_key_and_the_library_numbers(tmp_path):
    outs = [str(tmp_path / "s0.npz"), str(tmp_path / "s1.npz")]
    assert _cli().main([*CLI_FLOW, "--seed", "0", "1", "--out", *outs]) == 0
    for seed, out in zip((0, 1), outs, strict=True):
        res = load_result(out, required=COMMITTEE_FLOW_KEYS)
        lam, Ws, W0 = problem(1.5, 12, 2, 2, seed, 0, False)
        np.testing.assert_array_equal(res["Wstar"], Ws)
        np.testing.assert_array_equal(res["W0"], W0)
        ctl = StepController(rtol=1e-8, atol=1e-11)
        t = log_time_grid(1e-2, 100.0, 5)
        tr = integrate_committee_flow(lam, Ws, W0, "quadratic", t, ctl, tail_level=0.5, learn_level=0.6,
                                      tail_taus=t)
        assert np.isfinite(tr.t0) and res["t0"] == tr.t0 and res["phase3_loss"] == 0.5
        assert np.isfinite(tr.t_last) and res["T_last"] == tr.t_last and res["learn_level"] == 0.6
        np.testing.assert_array_equal(res["t"], tr.t)
        np.testing.assert_array_equal(res["M"], tr.M)
        np.testing.assert_array_equal(res["loss"], tr.loss)
        assert res["M"].shape == (len(res["t"]), 2, 2) and res["R"].shape == (len(res["t"]), 2, 2)
        assert res["provenance"]["inputs"]["seed"] == seed and res["diverged"] is False


def test_cli_sgd_writes_one_file_per_replica(tmp_path):
    outs = [str(tmp_path / "a.npz"), str(tmp_path / "b.npz")]
    assert _cli().main([*CLI_SGD, "--seed", "4", "7", "--out", *outs]) == 0
    alone = run_committee_sgd(1.5, 12, 3, 2, "erf", [7], 1e-2, 2, 0.01, log_time_grid(1e-2, 1.0, 5),
                              base_seed=0, blowup=1e6, orthogonal_teacher=True, rng="fused")
    res = load_result(outs[1], required=COMMITTEE_KEYS)
    np.testing.assert_array_equal(res["loss"], alone.loss[0])
    np.testing.assert_array_equal(res["R"], alone.R[0])
    assert res["M"].shape == (len(res["t"]), 3, 3) and res["orthogonal_teacher"] is True
    _, _, P = overlaps(res["Wstar"], res["lam"], res["Wstar"])
    assert np.max(np.abs(P - np.eye(2))) <= 1e-13


@pytest.mark.parametrize("change, flag", [
    ({"--p": "0"}, "--p"), ({"--k": "-1"}, "--k"), ({"--activation": "tanh"}, "--activation"),
    ({"--t-max": "nan"}, "--t-max"), ({"--a": "nan"}, "--a"), ({"--rtol": "nan"}, "--rtol"),
    ({"--atol": "-1"}, "--atol"), ({"--eta": "nan"}, "--eta"), ({"--sigma2": "-0.1"}, "--sigma2"),
    ({"--batch": "0"}, "--batch"), ({"--blowup": "nan"}, "--blowup"), ({"--k": "20"}, "--orthogonal-teacher"),
    ({"--sgd-rng": "mt19937"}, "--sgd-rng"), ({"--learn-level": "1"}, "--learn-level"),
    ({"--phase3-loss": "0"}, "--phase3-loss"),
])
def test_cli_refuses_bad_values_by_name(change, flag, tmp_path, capsys):
    base = CLI_FLOW if flag in ("--rtol", "--atol", "--learn-level", "--phase3-loss") else CLI_SGD
    argv = [*base, "--seed", "0", "--out", str(tmp_path / "x.npz")]
    for key, value in change.items():
        argv[argv.index(key) + 1] = value
    with pytest.raises(SystemExit) as exc:
        _cli().main(argv)
    assert exc.value.code == 2 and flag in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_cli_needs_the_options_of_its_method(tmp_path, capsys):
    out = ["--seed", "0", "--out", str(tmp_path / "x.npz")]
    argv = [a for a in CLI_FLOW if a not in ("--rtol", "1e-8", "--learn-level", "0.6")] + out
    with pytest.raises(SystemExit):
        _cli().main(argv)
    assert "--rtol --learn-level" in capsys.readouterr().err
    argv = [*CLI_SGD[: CLI_SGD.index("--eta")], "--seed", "0", "--out", str(tmp_path / "x.npz")]
    with pytest.raises(SystemExit):
        _cli().main(argv)
    assert "--eta --batch --sigma2 --blowup --sgd-rng" in capsys.readouterr().err
