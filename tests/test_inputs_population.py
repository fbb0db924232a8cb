"""The exact population of product-measure inputs (studies.inputs): loss, derivatives, flow."""

import itertools
import math

import numpy as np
import pytest

from prdynamics import flow as F
from prdynamics import population as P
from prdynamics.seeding import problem
from prdynamics.sgd import draw_standardised
from prdynamics.studies import inputs as R
from prdynamics.theory import escape_rate

KAPPAS = (-2.0, -1.2, 0.0, 0.75, 27.0)


def test_kappa_of_each_law():
    assert R.kappa_of("gaussian") == 0.0
    assert R.kappa_of("rademacher") == -2.0
    assert R.kappa_of("uniform") == pytest.approx(-1.2)
    assert R.kappa_of("student_t", 10.0) == pytest.approx(1.0)  # 6 / (nu - 4)
    assert R.kappa_of("sparse", 0.25) == pytest.approx(9.0)  # 3 / p - 3


@pytest.mark.parametrize("a", [0.0, 2.0])
def test_loss_is_exact_for_rademacher_by_enumeration(a, rng):
    d = 8
    lam, ws, _ = problem(a, d, 4, base_seed=0)
    z = np.array(list(itertools.product([-1.0, 1.0], repeat=d)))  # all 2^d inputs, equally likely
    x = z * np.sqrt(lam)
    for w in (rng.standard_normal(d), ws + 0.3 * rng.standard_normal(d), np.eye(d)[0] * 2.0):
        exact = np.mean(((x @ w) ** 2 - (x @ ws) ** 2) ** 2)
        assert R.loss_product(w, lam, ws, -2.0) == pytest.approx(exact, rel=1e-12, abs=1e-13)


LAWS = [("gaussian", None), ("rademacher", None), ("uniform", None), ("student_t", 12.0), ("sparse", 0.3)]


@pytest.mark.parametrize("law,param", LAWS)
@pytest.mark.parametrize("a,d", [(0.0, 5), (2.0, 8)])
def test_loss_matches_monte_carlo(law, param, a, d):
    rng = np.random.default_rng([LAWS.index((law, param)), int(a), d])
    lam, ws, _ = problem(a, d, 2, base_seed=0)
    kappa = R.kappa_of(law, param)
    n = 200_000
    x = draw_standardised(rng, law, (n, d), param) * np.sqrt(lam)
    y = (x @ ws) ** 2
    for w in (0.8 * rng.standard_normal(d), ws + 0.5 * rng.standard_normal(d)):
        samples = ((x @ w) ** 2 - y) ** 2
        mc, se = samples.mean(), samples.std() / math.sqrt(n)
        assert abs(R.loss_product(w, lam, ws, kappa) - mc) < 5 * se, (law, w)


@pytest.mark.parametrize("law,param", [("rademacher", None), ("sparse", 0.3)])
def test_monte_carlo_tells_the_laws_apart(law, param):
    """The kappa term is resolved: the Gaussian formula misses the Monte Carlo mean."""
    rng = np.random.default_rng(7)
    lam, ws, _ = problem(2.0, 8, 2, base_seed=0)
    n = 200_000
    x = draw_standardised(rng, law, (n, 8), param) * np.sqrt(lam)
    w = ws + 0.1 * rng.standard_normal(8)
    w[0] += 1.5  # the kappa term lives on the top modes
    samples = ((x @ w) ** 2 - (x @ ws) ** 2) ** 2
    mc, se = samples.mean(), samples.std() / math.sqrt(n)
    assert abs(R.loss_product(w, lam, ws, R.kappa_of(law, param)) - mc) < 5 * se
    assert abs(P.loss(w, lam, ws) - mc) > 20 * se


def test_kappa_zero_is_the_gaussian_model(small_problem, rng):
    lam, ws, _ = small_problem
    for w in (rng.standard_normal(lam.size), ws, np.zeros_like(ws)):
        assert R.loss_product(w, lam, ws, 0.0) == pytest.approx(P.loss(w, lam, ws), rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(R.gradient_product(w, lam, ws, 0.0), P.gradient(w, lam, ws),
                                   rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(R.hessian_product(w, lam, ws, 0.0), P.hessian(w, lam, ws),
                                   rtol=1e-13, atol=1e-14)
        summ, ref = R.summary_product(w, lam, ws, 0.0), P.summary(w, lam, ws)
        for key in ref:
            assert summ[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-14), key


@pytest.mark.parametrize("kappa", KAPPAS)
def test_gradient_matches_central_differences(kappa, small_problem, rng):
    lam, ws, _ = small_problem
    w = rng.standard_normal(lam.size)
    h = 1e-6
    fd = np.array([(R.loss_product(w + h * e, lam, ws, kappa) - R.loss_product(w - h * e, lam, ws, kappa))
                   / (2 * h) for e in np.eye(lam.size)])
    np.testing.assert_allclose(R.gradient_product(w, lam, ws, kappa), fd, rtol=1e-7, atol=1e-8)
    rhs = R.flow_rhs_product(w, lam, ws, kappa)
    np.testing.assert_array_equal(rhs, -R.gradient_product(w, lam, ws, kappa))


@pytest.mark.parametrize("kappa", KAPPAS)
def test_jacobian_matches_differences_of_the_rhs(kappa, small_problem, rng):
    lam, ws, _ = small_problem
    w = rng.standard_normal(lam.size)
    h = 1e-6
    def rhs(v):
        return R.flow_rhs_product(v, lam, ws, kappa)

    fd = np.array([(rhs(w + h * e) - rhs(w - h * e)) / (2 * h) for e in np.eye(lam.size)]).T  # column j
    jac = R.jacobian_product(w, lam, ws, kappa)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jac, jac.T, rtol=0, atol=1e-15)  # minus a Hessian
    np.testing.assert_array_equal(R.hessian_product(w, lam, ws, kappa), -jac)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_target_stays_a_global_minimum(kappa, small_problem):
    lam, ws, _ = small_problem
    ss = P.target_norm(lam, ws)
    for point in (ws, -ws):
        assert R.loss_product(point, lam, ws, kappa) == pytest.approx(0.0, abs=1e-13)
        np.testing.assert_allclose(R.gradient_product(point, lam, ws, kappa), 0.0, atol=1e-14)
        hess = R.hessian_product(point, lam, ws, kappa)
        qws = lam * ws
        expected = 8 * (ss * np.diag(lam) + 2 * np.outer(qws, qws) + kappa * np.diag(lam**2 * ws**2))
        np.testing.assert_allclose(hess, expected, rtol=1e-12, atol=1e-14)  # 8 E[(x.w*)^2 x x^T]
        assert np.linalg.eigvalsh(hess).min() > -1e-12


@pytest.mark.parametrize("kappa", KAPPAS)
def test_escape_rate_is_the_top_eigenvalue_at_the_origin(kappa):
    lam, ws, _ = problem(2.0, 40, 5, base_seed=0)
    jac0 = R.jacobian_product(np.zeros_like(ws), lam, ws, kappa)
    assert R.escape_rate_product(lam, ws, kappa) == pytest.approx(np.linalg.eigvalsh(jac0).max(), rel=1e-10)
    if kappa == 0.0:
        assert R.escape_rate_product(lam, ws, kappa) == pytest.approx(escape_rate(lam, ws), rel=1e-12)


@pytest.mark.parametrize("kappa", [-2.0, 0.75, 27.0])
def test_flow_escapes_the_origin_at_the_escape_rate(kappa):
    lam, ws, w0 = problem(2.0, 100, 0, base_seed=0)
    rho = R.escape_rate_product(lam, ws, kappa)
    second = np.linalg.eigvalsh(R.jacobian_product(np.zeros_like(ws), lam, ws, kappa))[-2]
    t1 = 10.0 / (rho - second)  # the other modes have decayed by e^-10 relative to the top one
    t_eval = np.array([t1, t1 + 1.0 / rho])
    scale = 1e-6 * math.exp(-rho * t_eval[-1])  # keeps |w| ~ 1e-6: the cubic terms stay negligible
    traj = R.integrate_flow_product(lam, ws, scale * w0, t_eval, kappa, atol=1e-12 * scale, rtol=1e-9)
    assert traj.stats["s"][-1] < 1e-9
    slope = np.diff(np.log(np.abs(traj.stats["u"])))[0] / np.diff(t_eval)[0]
    assert slope == pytest.approx(rho, rel=1e-3)


def test_neutral_levels(small_problem, rng):
    lam, ws, _ = small_problem
    ss = P.target_norm(lam, ws)
    w = rng.standard_normal(lam.size)
    np.testing.assert_allclose(R.neutral_levels(w, lam, ws, 0.0), ss / 3)
    np.testing.assert_allclose(R.neutral_levels(ws, lam, ws, 3.0), ss / 3)
    np.testing.assert_allclose(R.neutral_levels(np.zeros_like(ws), lam, ws, -2.0),
                               (ss - 2.0 * lam * ws**2) / 3)
    # the self-coupling of each mode in the flow vanishes at s = s_i (u's coupling left aside)
    levels = R.neutral_levels(w, lam, ws, 3.0)
    s = float(np.sum(lam * w * w))
    self_rate = 4 * lam * (ss - 3 * s - 3.0 * lam * (w * w - ws * ws))
    np.testing.assert_allclose(self_rate, 12 * lam * (levels - s), rtol=1e-12, atol=1e-15)


def test_bad_kappa_and_shapes_raise(small_problem):
    lam, ws, w0 = small_problem
    for kappa in (-2.5, math.nan, math.inf):
        with pytest.raises(ValueError, match="kappa"):
            R.loss_product(w0, lam, ws, kappa)
    with pytest.raises(ValueError, match="one length"):
        R.gradient_product(w0[:-1], lam, ws, 0.0)
    with pytest.raises(ValueError, match="method"):
        R.integrate_flow_product(lam, ws, w0, np.array([1.0]), 0.0, method="RK45", rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="rtol"):
        R.integrate_flow_product(lam, ws, w0, np.array([1.0]), 0.0, rtol=0.0, atol=1e-12)
    with pytest.raises(ValueError, match="t_eval"):
        R.integrate_flow_product(lam, ws, w0, np.array([2.0, 1.0]), 0.0, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("a", [1.5, 2.0])
def test_flow_at_kappa_zero_matches_integrate_flow(a):
    lam, ws, w0 = problem(a, 50, 0, base_seed=0)
    t_eval = F.log_time_grid(1e-2, 1e4, 10)
    ref = F.integrate_flow(lam, ws, w0, t_eval, F.StepController(rtol=1e-11, atol=1e-14))
    traj = R.integrate_flow_product(lam, ws, w0, t_eval, 0.0, rtol=1e-9, atol=1e-12)
    for key in F.STAT_NAMES:
        np.testing.assert_allclose(traj.stats[key], ref.stats[key], rtol=1e-6, atol=1e-8, err_msg=key)
    np.testing.assert_allclose(traj.w_final, ref.w_final, rtol=0, atol=1e-6)
    assert traj.stats["mse"][-1] < 1e-3 * traj.stats["mse"][0]  # the run reached recovery


@pytest.mark.parametrize("kappa", [-1.2, 3.0])
def test_flow_bdf_and_radau_agree_and_the_loss_decreases(kappa):
    lam, ws, w0 = problem(2.0, 30, 1, base_seed=0)
    t_eval = F.log_time_grid(1e-2, 1e4, 10)
    bdf = R.integrate_flow_product(lam, ws, w0, t_eval, kappa, rtol=1e-10, atol=1e-12)
    radau = R.integrate_flow_product(lam, ws, w0, t_eval, kappa, rtol=1e-10, method="Radau", atol=1e-12)
    for key in F.STAT_NAMES:
        np.testing.assert_allclose(bdf.stats[key], radau.stats[key], rtol=1e-6, atol=1e-8, err_msg=key)
    loss = bdf.stats["loss"]
    assert np.all(np.diff(loss) <= 1e-9 * loss[:-1] + 1e-13)  # a gradient flow (up to rounding)
    assert loss[-1] < 1e-6 and abs(bdf.stats["u"][-1]) == pytest.approx(1.0, abs=1e-5)
    for k in (0, len(t_eval) // 2):  # the recorded loss is loss_product of the state
        w = R.integrate_flow_product(lam, ws, w0, t_eval[: k + 1], kappa, rtol=1e-10, atol=1e-12).w_final
        assert loss[k] == pytest.approx(R.loss_product(w, lam, ws, kappa), rel=1e-6)


def test_rademacher_flow_can_end_in_a_spurious_minimum():
    """Documented in the module: a = 2, d = 100, seed 0 is trapped near the axis e_1."""
    lam, ws, w0 = problem(2.0, 100, 0, base_seed=0)
    traj = R.integrate_flow_product(lam, ws, w0, np.array([1e2, 1e6]), -2.0, rtol=1e-9, atol=1e-12)
    w = traj.w_final
    assert traj.stats["loss"][-1] == pytest.approx(0.297, abs=1e-3)
    assert np.linalg.norm(R.gradient_product(w, lam, ws, -2.0)) < 1e-10
    assert np.linalg.eigvalsh(R.hessian_product(w, lam, ws, -2.0)).min() > 0
    assert lam[0] * w[0] ** 2 > 0.9 * traj.stats["s"][-1]  # almost all of s on the first axis
