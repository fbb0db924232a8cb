"""The committee study's measurements (prdynamics.studies.committee) against independent computations:
exact linear Phase I data, the whitened operator in R^d for the learned spectrum, synthetic curves with known
times, exponents and gaps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from prdynamics.committee import overlaps, problem
from prdynamics.committee.theory import committee_escape_rates, escape_operator, phase3_loss, tail_constant
from prdynamics.phases import tail_exponent, tail_window
from prdynamics.statistics import binomial_interval
from prdynamics.studies import StudyInputError
from prdynamics.studies import committee as C


def _linear_run(a=2.0, d=40, p=2, k=2, seed=0, scale=1e-3):
    lam, Ws, W0 = problem(a, d, p, k, seed, 0, False)
    W0 = scale * W0
    L = escape_operator(lam, Ws, p)
    t = np.geomspace(1e-3, 8.0, 120)
    Ms, Rs = [], []
    for ti in t:
        W = W0 @ expm(L * ti)  # L symmetric: W(t) = W0 e^{L t}
        M, R, _ = overlaps(W, lam, Ws)
        Ms.append(M), Rs.append(R)
    return t, np.array(Ms), np.array(Rs), lam, Ws, W0


def test_phase1_rate_of_the_exact_linear_flow_is_the_top_eigenvalue():
    t, M, R, lam, Ws, W0 = _linear_run()
    out = C.phase1_rate(t, R, M, lam, Ws, W0, s_max=0.05, e_max=0.5)
    assert out["entries"] == 4
    assert abs(out["rho"] - committee_escape_rates(lam, Ws, 2, "quadratic")[0]) <= 1e-12 * out["rho"]
    assert abs(out["ratio"] - 1.0) <= 1e-8  # the linear share is divided out exactly
    assert out["allowance"] > 0 and np.all(out["own_ratio"] >= 1.0 - 1e-12)


def test_phase1_rate_without_a_window_is_nan():
    t, M, R, lam, Ws, W0 = _linear_run()
    out = C.phase1_rate(t, R, M, lam, Ws, W0, s_max=1e-12, e_max=0.5)
    assert out["entries"] == 0 and np.isnan(out["ratio"])


def test_learned_operator_is_the_whitened_student_on_the_teacher_span():
    """learned_operator against k B^T A B computed in R^d (A = Q^1/2 W^T W Q^1/2 / p, B = Q^1/2 W*^T P^-1/2);
    learned_spectrum 1 at a minimum (W^T W / p = W*^T W* / k), and for a rank-one student
    sqrt(p/k) (u_1 + delta u_2 / sqrt(pi_2)) (u_r = v_r . W*, v_r the eigenvectors of P, pi_1 > pi_2: the
    strong direction learned, a leak of Q-norm delta into the weak one) the closed form
    l_1 = 1 + delta^2 / pi_1, l_2 = 0.  Injected defect: P^-1 on both sides (the generalised eigenvalue
    of (R^T R / p, P^2 / k)) gives 1 + delta^2 / pi_2, the leak amplified by pi_1 / pi_2.  Invariant under
    W -> O W and W* -> A W* (O, A orthogonal)."""
    from scipy.linalg import eigh
    from scipy.stats import ortho_group

    from prdynamics.committee import learned_operator, learned_spectrum

    d, p, k = 30, 3, 2
    lam, Ws, W = problem(2.0, d, p, k, 3, 0, False)
    _, R, P = overlaps(W, lam, Ws)
    pi, V = np.linalg.eigh(P)
    sq = np.sqrt(lam)
    A = (W * sq).T @ (W * sq) / p
    B = (Ws * sq).T @ ((V / np.sqrt(pi)) @ V.T)
    np.testing.assert_allclose(B.T @ B, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(learned_operator(R, P, p, k), k * B.T @ A @ B, rtol=1e-12, atol=1e-14)
    rot = ortho_group.rvs(p, random_state=1)
    minimum = np.sqrt(p / k) * rot @ np.vstack([Ws, np.zeros((p - k, d))])
    np.testing.assert_allclose(learned_spectrum(overlaps(minimum, lam, Ws)[1], P, p, k), 1.0, rtol=1e-12)
    delta, (u2, u1) = 0.3, V.T @ Ws  # eigh: ascending, so u1 is the strong direction
    _, R1, _ = overlaps(np.sqrt(1 / k) * (u1 + delta * u2 / np.sqrt(pi[0]))[None], lam, Ws)
    l1 = learned_spectrum(R1, P, 1, k)
    np.testing.assert_allclose(l1, [1 + delta**2 / pi[1], 0.0], atol=1e-12)
    generalised = eigh(R1.T @ R1, P @ P / k, eigvals_only=True)[::-1]
    assert abs(generalised[0] - (1 + delta**2 / pi[0])) <= 1e-12 and pi[1] / pi[0] > 1.3
    Arot = ortho_group.rvs(k, random_state=2)
    _, R2, P2 = overlaps(rot @ W, lam, Arot @ Ws)
    np.testing.assert_allclose(learned_spectrum(R2, P2, p, k), learned_spectrum(R, P, p, k), rtol=1e-10)
    with pytest.raises(ValueError, match="R must be"):
        learned_operator(R, P, k, p)


def _record_with_learned_operator(G_of_t, P, p, k):
    """R (T, p, k) whose learned operator is G_of_t (T, k, k): R = sqrt(p/k) U G^(1/2) P^(1/2) with U (p, k)
    orthonormal columns, so (k/p) P^-1/2 R^T R P^-1/2 = G."""
    U = np.linalg.qr(np.random.default_rng(0).standard_normal((p, k)))[0]
    pi, V = np.linalg.eigh(P)
    P_root = (V * np.sqrt(pi)) @ V.T
    out = []
    for G in G_of_t:
        w, E = np.linalg.eigh(G)
        out.append(np.sqrt(p / k) * U @ (E * np.sqrt(np.clip(w, 0, None))) @ E.T @ P_root)
    return np.array(out)


def test_learned_order_is_the_overlap_with_the_strongest_teacher_directions():
    """k = 3: the student builds directions x_1, x_2, x_3 one after another with P's strengths pi_1 >
    pi_2 > pi_3 (G(t) = sum_j ramp_j(t) pi_j x_j x_j^T).  x = (v_1, v_2, v_3), P's eigenvectors: learning
    times at 0.9 of each ramp, overlaps 1; x_1 = v_3 (the weakest direction first): overlap 0 at r = 1,
    1/2 at r = 2; x_1 = (v_1 + v_3) / sqrt 2: 1/2 and 3/4; degenerate P (Q-orthogonal teachers): NaN."""
    from prdynamics.committee import learned_spectrum

    p, k = 4, 3
    lam, Ws, _ = problem(2.0, 30, p, k, 0, 0, False)
    P = (Ws * lam) @ Ws.T
    pi, V = np.linalg.eigh(P)
    pi, V = pi[::-1], V[:, ::-1]
    v1, v2, v3 = V.T
    t = np.linspace(0.0, 30.0, 301)
    ramp = lambda c: np.clip((t - c) / 5.0, 1e-3, 1.0)  # noqa: E731 - 0.9 at c + 4.5

    def run(*x):
        G = sum(ramp(10.0 * j)[:, None, None] * pi[j] * np.outer(x[j], x[j]) for j in range(k))
        R = _record_with_learned_operator(G, P, p, k)
        T = C.learning_times(t, learned_spectrum(R, P, p, k), 0.9)
        return T, C.learned_order(t, R, P, p, k, T)

    T, order = run(v1, v2, v3)
    np.testing.assert_allclose(T, [4.5, 14.5, 24.5], atol=1e-9)
    np.testing.assert_allclose(order, [1.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(run(v3, v2, v1)[1], [0.0, 0.5], atol=1e-9)
    mix, other = (v1 + v3) / np.sqrt(2), (v1 - v3) / np.sqrt(2)
    np.testing.assert_allclose(run(mix, v2, other)[1], [0.5, 0.75], atol=1e-9)
    lam_o, Wo, _ = problem(2.0, 30, p, k, 0, 0, True)
    Po = (Wo * lam_o) @ Wo.T
    Ro = _record_with_learned_operator(np.broadcast_to(Po, (t.size, k, k)), Po, p, k)
    assert np.isnan(C.learned_order(t, Ro, Po, p, k, np.zeros(k))).all()


def test_learning_times_of_logistic_curves():
    t = np.linspace(0, 100, 10001)
    frac = np.stack([1 / (1 + np.exp(-(t - c))) for c in (10.0, 40.0)], axis=1)
    level = 0.9
    np.testing.assert_allclose(C.learning_times(t, frac, level), [10 + np.log(9), 40 + np.log(9)], atol=1e-4)
    assert np.isnan(C.learning_times(t, 0.5 * frac, level)).all()


def test_tail_fit_recovers_a_power_law():
    d, a, beta = 1000, 2.0, 0.5
    t = np.geomspace(1e-2, 1e5, 300)
    t0 = 10.0
    loss = np.where(t <= t0, 1.0, 0.009 * np.maximum(t - t0, 1e-9) ** -beta)
    got, n, origin = C.tail_fit(t, loss, d, a, 0.01, 10.0, 0.1, 5)
    assert origin == t[np.flatnonzero(loss <= 0.01)[0]]
    assert n >= 5 and abs(got - beta) <= 0.05  # origin on the grid, not exactly t0


def test_early_exponent_of_a_constant_force():
    t = np.geomspace(1e-3, 0.1, 30)
    R0 = np.array([[0.1, -0.2]])
    R = R0[None] + 3.0 * t[:, None, None] * np.array([[1.0, 2.0]])[None]
    assert abs(C.early_exponent(t, R, R0, 0.1) - 1.0) <= 1e-10


def test_sgd_gap_is_the_largest_log_ratio():
    t = np.geomspace(1e-2, 10, 50)
    flow = 1.0 / (1 + t)
    sgd = flow * np.exp(0.1 * np.sin(t))
    assert abs(C.sgd_gap(t, sgd, t, flow) - np.max(np.abs(0.1 * np.sin(t)))) <= 1e-12
    assert np.isnan(C.sgd_gap(t, np.full_like(t, np.nan), t, flow))
    # an SGD time past the flow's last (its first step after t_max) is left out, not extrapolated
    assert C.sgd_gap(np.append(t, 10.001), np.append(sgd, 1.0), t, flow) == C.sgd_gap(t, sgd, t, flow)


def test_departure_is_the_first_time_outside_the_band():
    """SGD = flow until t = 2, then its loss ratio grows like exp(t - 2): it leaves log(1.5) at
    t = 2 + log 1.5 (the first grid time after), where the flow's loss is 1 / (1 + t) of its start."""
    t_flow = np.geomspace(1e-3, 10, 400)
    flow = 1.0 / (1 + t_flow)
    t = np.linspace(0.0, 10, 1001)[1:]
    sgd = (1.0 / (1 + t)) * np.exp(np.maximum(t - 2, 0.0))
    t_leave, frac, end = C.departure(t, sgd, t_flow, flow, 0.5)
    expected = t[np.argmax(t - 2 > np.log(1.5))]
    assert t_leave == expected and abs(expected - (2 + np.log(1.5))) <= 0.01
    assert abs(frac - (1 / (1 + t_leave)) / flow[0]) <= 1e-3 and abs(end - 8.0) <= 1e-3
    inside = C.departure(t, (1.0 / (1 + t)) * 1.2, t_flow, flow, 0.5)  # within the band all along
    assert np.isnan(inside[0]) and np.isnan(inside[1]) and abs(inside[2] - np.log(1.2)) <= 1e-3
    assert all(np.isnan(C.departure(t, np.full_like(t, np.nan), t_flow, flow, 0.5)))
    with pytest.raises(ValueError, match="rtol"):
        C.departure(t, sgd, t_flow, flow, 0.0)


@pytest.mark.parametrize("shift, passes", [(1.0, True), (1.3, False)])
def test_escape_rate_check_criterion(shift, passes):
    summary = {"activation": np.array(["quadratic"] * 4), "a": np.full(4, 2.0), "p": np.full(4, 2),
               "k": np.full(4, 2), "rate_ratio": shift * np.array([0.99, 1.0, 1.01, 1.0]),
               "rate_allowance": np.full(4, 0.02)}
    assert C.claim_escape_rate(summary, level=0.95).passed is passes


def test_tail_fit_takes_the_located_origin():
    d, a, beta, t0 = 1000, 2.0, 0.5, 10.3
    t = np.union1d(np.geomspace(1e-2, 1e5, 300), t0 + np.geomspace(1e-2, 1e5, 300))
    loss = np.where(t <= t0, 1.0, 0.009 * np.maximum(t - t0, 1e-9) ** -beta)
    got, n, origin = C.tail_fit(t, loss, d, a, 0.01, 10.0, 0.1, 5, t0=t0)
    assert origin == t0 and n >= 40 and abs(got - beta) <= 1e-12


def test_tail_constant_fit_of_a_power_law_with_noise():
    """L = C tau^-beta e^{eps}: the fit with beta fixed is exp(mean(log L + beta log tau)), so it
    returns C times the geometric mean of e^{eps} over the window, computed here directly."""
    d, a, t0 = 1000, 2.0, 7.0
    beta = 1 - 1 / a
    t = t0 + np.geomspace(1e-3, 1e5, 400)
    eps = 0.05 * np.sin(np.arange(t.size))
    loss = 0.37 * (t - t0) ** -beta * np.exp(eps)
    window = tail_window(t, t0, d, a, 10.0, 0.1)
    want = 0.37 * np.exp(np.mean(eps[window]))
    assert abs(C.tail_constant_fit(t, loss, t0, d, a, 10.0, 0.1, 5, beta) / want - 1) <= 1e-12
    assert np.isnan(C.tail_constant_fit(t, loss, t0, d, a, 10.0, 0.1, 10**6, beta))
    assert np.isnan(C.tail_constant_fit(t, loss, np.nan, d, a, 10.0, 0.1, 5, beta))


def _tail_summary(C_fit, beta):
    n = len(C_fit)
    return {"activation": np.array(["quadratic"] * n), "a": np.full(n, 2.0),
            "p": np.array([2, 2, 2, 4, 4, 4]), "k": np.full(n, 2), "seed": np.array([0, 1, 2, 0, 1, 2]),
            "C_fit": np.asarray(C_fit, float), "C_law": np.array([1.0, 1.0, 1.0, 2**0.5, 2**0.5, 2**0.5]),
            "C_lin": np.full(n, 1.0), "C_single": np.full(n, 0.5), "beta": np.asarray(beta, float),
            "beta_lin": np.full(n, 0.5), "origin_depth": np.full(n, 0.1),
            "beta_last": np.asarray(beta, float), "C_last": np.asarray(C_fit, float),
            "beta_lin_last": np.full(n, 0.5), "beta_own": np.full(n, 0.5), "L_over_own": np.full(n, 1.0),
            "origin_depth_last": np.full(n, 0.1)}


def test_tail_constant_finding_on_the_law():
    """Runs exactly on the law: C / C_law = 1, and the p = 4 over p = 2 ratio is the law's 2^(1/2)."""
    s = _tail_summary([1.0, 1.0, 1.0, 2**0.5, 2**0.5, 2**0.5], [0.5] * 6)
    f = C.claim_tail_constant(s, level=0.95)
    m = f.measured
    assert abs(m["a=2,p=2,k=2"]["C_over_law"] - 1) <= 1e-12
    assert abs(m["a=2,p=2,k=2"]["C_over_k_C_single"] - 1) <= 1e-12  # C_single k = 1 here
    assert abs(m["a=2,p=4,k=2"]["C_over_C_p_eq_k_over_law"] - 1) <= 1e-12
    assert abs(m["a=2,p=4,k=2"]["C_last_over_C_last_p_eq_k_over_law"] - 1) <= 1e-12
    assert abs(m["a=2,p=4,k=2"]["law_p_over_k"] - 2**0.5) <= 1e-12


def test_larger_d_runs_are_reported_apart():
    """Rows at a d above the smallest (committee.large_d) stay out of the other claims' groups and are
    reported per (a, p, k, d) by committee.large_d, with their own means."""
    s = _tail_summary([1.0] * 6, [0.50, 0.52, 0.48, 0.30, 0.40, 0.35])
    s |= {"d": np.array([1000] * 3 + [10000] * 3), "T_last": np.array([5.0, 6.0, 7.0, 10.0, 20.0, 40.0])}
    assert list(C.claim_tail_exponent(s, level=0.95).measured) == ["quadratic:a=2,p=2,k=2"]
    assert list(C.claim_tail_constant(s, level=0.95).measured) == ["a=2,p=2,k=2"]
    f = C.claim_large_d(s, level=0.95)
    assert f.kind == "finding" and list(f.measured) == ["a=2,p=4,k=2,d=10000"]
    m = f.measured["a=2,p=4,k=2,d=10000"]
    assert m["runs"] == 3 and abs(m["beta_last"] - 0.35) <= 1e-12 and abs(m["T_last"] - 20.0) <= 1e-9
    assert abs(m["C_last_over_law"] - 2**-0.5) <= 1e-12  # C_last = 1, C_law = 2^(1/2) for p = 4 here
    assert C.claim_large_d(_tail_summary([1.0] * 6, [0.5] * 6), level=0.95).measured == {}  # one d: nothing


def test_tail_exponent_finding_pairs_by_seed():
    s = _tail_summary([1.0] * 6, [0.50, 0.52, 0.48, 0.55, 0.56, 0.54])
    m = C.claim_tail_exponent(s, level=0.95).measured
    assert abs(m["quadratic:a=2,p=4,k=2"]["minus_p_eq_k"] - 0.05) <= 1e-12
    assert abs(m["quadratic:a=2,p=4,k=2"]["last_minus_p_eq_k"] - 0.05) <= 1e-12
    assert m["quadratic:a=2,p=2,k=2"]["fitted_runs"] == 3


def test_summarise_refuses_a_flow_located_at_another_level():
    t, M, R, lam, Ws, W0 = _linear_run()
    run = {"t": t, "loss": np.ones_like(t), "M": M, "R": R, "lam": lam, "Wstar": Ws, "W0": W0, "a": 2.0,
           "d": 40, "p": 2, "k": 2, "seed": 0, "activation": "quadratic", "t0": np.nan, "phase3_loss": 0.05,
           "T_last": np.nan, "learn_level": 0.9}
    measure = {"tail_x_lo": 3.0, "tail_x_hi_frac": 0.3, "tail_min_points": 5, "phase3_loss": 0.01,
               "learn_level": 0.9, "phase1_s_max": 0.05, "early_t_max": 0.1, "rate_e_max": 0.5,
               "leave_rtol": 0.5}
    with pytest.raises(StudyInputError, match="phase3_loss"):
        C.summarise([run], [], **measure)
    with pytest.raises(StudyInputError, match="learn_level"):
        C.summarise([run | {"phase3_loss": 0.01, "learn_level": 0.8}], [], **measure)
    out = C.summarise([run | {"phase3_loss": 0.01}], [], **measure)
    assert np.isnan(out["t0"][0]) and np.isnan(out["beta"][0]) and np.isnan(out["C_fit"][0])
    assert out["C_law"][0] == tail_constant(2.0, lam, Ws, 2)


def test_summarise_names_runs_by_d_and_fits_phase1_at_the_smallest_d():
    """The same (activation, a, p, k, seed) at two d are two rows (d column); the Phase I rate is fitted at
    the smallest d only (NaN at the larger: its d x d diagonalisation is what committee.large_d avoids);
    an SGD run matches the flow of its own d, and one at a d with no flow is refused."""
    measure = {"tail_x_lo": 3.0, "tail_x_hi_frac": 0.3, "tail_min_points": 5, "phase3_loss": 0.01,
               "learn_level": 0.9, "phase1_s_max": 0.05, "early_t_max": 0.1, "rate_e_max": 0.5,
               "leave_rtol": 0.5}
    runs = []
    for d in (40, 60):
        t, M, R, lam, Ws, W0 = _linear_run(d=d)
        runs.append({"t": t, "loss": np.ones_like(t), "M": M, "R": R, "lam": lam, "Wstar": Ws, "W0": W0,
                     "a": 2.0, "d": d, "p": 2, "k": 2, "seed": 0, "activation": "quadratic"})
    out = C.summarise(runs[::-1], [], **measure)
    assert list(out["d"]) == [60, 40] and np.isnan(out["rate_ratio"][0])
    assert abs(out["rate_ratio"][1] - 1) <= 1e-8
    sgd = {"t": runs[1]["t"], "loss": np.ones_like(runs[1]["t"]), "eta": 1e-3, "a": 2.0, "d": 60, "p": 2,
           "k": 2, "seed": 0, "activation": "quadratic", "diverged": False}
    assert C.summarise(runs, [sgd], **measure)["sgd_gap"][0] == 0.0
    with pytest.raises(StudyInputError, match="no flow run"):
        C.summarise(runs[:1], [sgd], **measure)


def test_own_origin_tail_recovers_the_directions_head_starts():
    """On a loss that is exactly the linearised loss with the stronger direction of P learned at
    T_learn[1] and the weaker at T_learn[2] = T_last, L_over_own = 1 and beta_own equals the fit of the
    loss itself; the one-origin loss from T_last decays faster on the window (beta_lin_last > beta_own:
    the direction learned first has relaxed for longer).  Injected defect: the lags of the two
    directions swapped in the loss (the eigenvalue order of P mixed up) moves L_over_own off 1."""
    d, a, p, T_learn, T_last = 1000, 2.0, 2, np.array([20.0, 300.0]), 300.0
    lam, Ws, _ = problem(a, d, p, 2, 0, 0, False)
    t = np.union1d(np.linspace(0.0, T_last, 41)[1:], T_last + np.geomspace(1e-2, 1e5, 400))
    after = t > T_last
    lags = np.array([0.0, 280.0])  # P's eigenvalues ascending: the weaker direction first
    tail = (d, a, 10.0, 0.1, 5)
    for swap, ratio_is_one in ((False, True), (True, False)):
        loss = np.ones_like(t)
        loss[after] = phase3_loss(t[after] - T_last, lam, Ws, p, lags=lags[::-1] if swap else lags)
        out = C.own_origin_tail(t, loss, lam, Ws, p, T_learn, T_last, *tail)
        assert (abs(out["L_over_own"] - 1) <= 1e-12) == ratio_is_one
    loss[after] = phase3_loss(t[after] - T_last, lam, Ws, p, lags=lags)
    out = C.own_origin_tail(t, loss, lam, Ws, p, T_learn, T_last, *tail)
    assert abs(out["beta_own"] - tail_exponent(t, loss, T_last, *tail)[0]) <= 1e-12
    assert out["beta_lin_last"] > out["beta_own"] + 0.05


def test_origin_depth_is_where_the_law_meets_the_origin_loss():
    """The law C tau^-(1-1/a) equals L(t0) at tau_eff; at a = 2, d = 1000, x_lo = 10 the window starts
    at tau_lo = H 100 / 16, so a loss at t0 of C tau_lo^-(1/2) (the law at the window start) is depth 1."""
    from prdynamics.model import harmonic

    tau_lo = harmonic(1000, 2.0) * 100 / 16
    assert abs(C.origin_depth(0.7 * tau_lo**-0.5, 0.7, 1000, 2.0, 10.0) - 1) <= 1e-12
    assert abs(C.origin_depth(0.7 * (4 * tau_lo) ** -0.5, 0.7, 1000, 2.0, 10.0) - 4) <= 1e-12


def test_threshold_crossings_of_a_rotating_rank_one_overlap():
    """M(t) = m(t) v v^T with a known m(t): its top eigenvalue is m(t), whose crossings of the level
    are counted directly."""
    t = np.linspace(0, 10, 501)
    v = np.array([0.6, 0.8])
    wave = 0.5 + 0.4 * np.sin(t)
    for m, want in ((1 / (1 + np.exp(-(t - 5))), (1, True, True)),
                    (wave, (int(np.sum(np.diff(wave > 0.6) != 0)), True, False)),
                    (np.full_like(t, 0.1), (0, True, False))):
        M = m[:, None, None] * np.outer(v, v)[None]
        assert C.threshold_crossings(M, 0.6) == want


def test_threshold_finding_counts_once_and_stays():
    s = {"activation": np.array(["quadratic"] * 4), "a": np.full(4, 2.0), "p": np.full(4, 2),
         "k": np.full(4, 2), "thr_once": np.array([1.0, 1.0, 0.0, 1.0]),
         "thr_crossings": np.array([1, 1, 3, 1]), "thr_level": np.full(4, 1 / 3)}
    # the per-rank columns (rank 1 as above, rank 2 never crossed) and the plateaus
    s |= {"thr_levels": np.tile([1 / 3, 1 / 4], (4, 1)),
          "thr_crossings_r": np.stack([s["thr_crossings"], np.zeros(4)], axis=1).astype(float),
          "thr_starts_below": np.ones((4, 2)), "thr_ends_above": np.tile([1.0, 0.0], (4, 1)),
          "T_cross": np.tile([1.0, np.nan], (4, 1)), "thr_end_ratio": np.tile([2.0, 0.5], (4, 1)),
          "thr_end_law": np.tile([2.0, 0.5], (4, 1)), "plateau": np.full((4, 2), 3.0)}
    m = C.claim_threshold(s, level=0.95)
    got = m.measured["a=2,p=2,k=2"]
    assert (got["once_and_stays"], got["more_than_once"], got["never"], got["runs"]) == (3, 1, 0, 4)
    assert m.interval["a=2,p=2,k=2"]["once_and_stays"]["fraction_ci"] == list(binomial_interval(3, 4, 0.95))
