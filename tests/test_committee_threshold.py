"""The committee threshold and plateau measurements (prdynamics.studies.committee) against independent
computations: overlaps M(t) built from known eigenvalue paths in a random basis, learning curves
with known learning times, a W at a zero-loss minimum, and a real small flow (d = 100, p = k = 2)."""

from __future__ import annotations

import numpy as np
import pytest

from prdynamics.committee import integrate_committee_flow, overlaps, problem
from prdynamics.committee.theory import saddle_level
from prdynamics.flow import StepController, log_time_grid
from prdynamics.statistics import binomial_interval
from prdynamics.studies import committee as C


def _basis(p, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((p, p)))
    return q


def _build(paths, seed=0):
    """M(t) = V diag(paths(t)) V^T, V a random orthogonal basis: its spectrum is the paths'."""
    paths = np.asarray(paths, float)  # (p, T)
    V = _basis(paths.shape[0], seed)
    return np.einsum("ij,jt,kj->tik", V, paths, V)


def _count(x, level):
    """Crossings of a known path, counted on its own values (no eigensolver)."""
    above = x > level
    return int(np.sum(above[1:] != above[:-1])), bool(not above[0]), bool(above[-1])


def test_rth_eigenvalue_crossings_of_paths_that_exchange_order():
    """Three paths whose order changes (a rising one overtakes two): the r-th largest is the r-th of
    the sorted known values at each time, and its crossings are counted on that sorted path."""
    t = np.linspace(0.0, 10.0, 401)
    paths = np.array([0.05 + 0.3 * t, 1.5 + 0.4 * np.sin(t), np.full_like(t, 0.8)])
    M = _build(paths, seed=3)
    ranked = -np.sort(-paths, axis=0)  # ranked[r - 1] is the r-th largest
    for r in (1, 2, 3):
        np.testing.assert_allclose(C.ranked_eigenvalue(M, r), ranked[r - 1], atol=1e-12)
        for level in (0.7, 1.2, 1.6):
            assert C.threshold_crossings(M, level, r) == _count(ranked[r - 1], level)
    # r = 2 at 1.2: the middle path starts at 0.8 (below) and ends at min(3.05, 1.5 + 0.4 sin 10) > 1.2
    assert C.threshold_crossings(M, 1.2, 2)[1:] == (True, True)
    assert C.threshold_crossings(M, 1.2) == C.threshold_crossings(M, 1.2, 1)  # r = 1 is the default
    with pytest.raises(ValueError, match="rank"):
        C.threshold_crossings(M, 1.2, 4)


def test_threshold_time_is_the_first_upward_crossing():
    """A path linear between records is crossed exactly where the line meets the level, also off the
    grid; a path that dips back is timed at its first crossing; starting above or never reaching: NaN."""
    t = np.geomspace(1e-2, 10.0, 37)
    line = 0.1 + 0.2 * t  # crosses 0.5 at t = 2 (not a grid time)
    assert not np.any(np.isclose(t, 2.0))
    M = _build([line, 0.05 * np.ones_like(t)], seed=1)
    assert C.threshold_time(t, M, 0.5, 1) == pytest.approx(2.0, abs=1e-12)
    # second path: up through 0.5 at t = 1, back below, up again later (the first crossing counts)
    t2 = np.linspace(0.0, 6.0, 61)
    bump = np.where(t2 < 2, 0.25 + 0.25 * t2, np.where(t2 < 3, 0.75 - 0.4 * (t2 - 2), 0.35 + 0.1 * (t2 - 3)))
    M2 = _build([np.full_like(t2, 5.0), bump], seed=2)
    assert C.threshold_crossings(M2, 0.5, 2)[0] == 3
    assert C.threshold_time(t2, M2, 0.5, 2) == pytest.approx(1.0, abs=1e-12)
    assert np.isnan(C.threshold_time(t2, M2, 0.5, 1))  # starts above: no crossing from below
    # starts above, dips below and returns: still NaN (the start is already past the level)
    vee = 0.6 + 0.1 * np.abs(t2 - 3.0) - 0.3  # 0.6 at t = 0, 0.3 at t = 3, 0.6 at t = 6
    M3 = _build([vee, np.zeros_like(t2)], seed=4)
    assert C.threshold_crossings(M3, 0.5, 1) == (2, False, True)
    assert np.isnan(C.threshold_time(t2, M3, 0.5, 1))
    assert np.isnan(C.threshold_time(t2, M2, 0.9, 2))  # never reaches


def _minimum(p, k, seed=0, a=2.0, d=30):
    """W = sqrt(p/k) U W* with U a p x k isometry (p >= k): W^T W / p = W*^T W* / k, zero loss."""
    lam, Ws, _ = problem(a, d, p, k, seed, 0, False)
    U = _basis(p, seed + 7)[:, :k]
    W = np.sqrt(p / k) * U @ Ws
    return lam, Ws, W


@pytest.mark.parametrize("p, k", [(1, 1), (2, 2), (4, 2), (3, 3), (6, 4)])
def test_threshold_end_law_is_the_spectrum_at_a_minimum(p, k):
    lam, Ws, W = _minimum(p, k, seed=p + k)
    M, _, P = overlaps(W, lam, Ws)
    eig = np.sort(np.linalg.eigvalsh(M))[::-1]
    direct = [eig[r - 1] / saddle_level(np.trace(P), p, k, r) for r in range(1, k + 1)]
    np.testing.assert_allclose(C.threshold_end_law(P, p, k), direct, rtol=1e-10)


def test_threshold_end_law_cases():
    """Isotropic P = c I_k: rank 1 ends at 3/k of mu_1 (below for k >= 4), rank k at (k + 2)/k;
    p < k has no zero-loss minimum (NaN)."""
    for k in (1, 2, 3, 4, 8):
        law = C.threshold_end_law(0.7 * np.eye(k), k, k)
        np.testing.assert_allclose(law, (np.arange(1, k + 1) + 2) / k, rtol=1e-12)
    assert C.threshold_end_law(np.eye(4), 4, 4)[0] == pytest.approx(0.75)
    under = C.threshold_end_law(np.eye(3), 2, 3)
    assert under.size == 2 and np.isnan(under).all()


def _logistic_fractions(t, centres):
    return np.stack([1 / (1 + np.exp(-(t - c))) for c in centres], axis=1)


def test_plateau_times_of_a_known_learning_sequence():
    """Learning curves logistic(t - c_m) reach 0.9 at c_m + log 9; learned out of index order; plateaus
    are the gaps of (T_cross, sorted learning times), written out by hand."""
    t = np.linspace(0, 200, 200001)
    frac = _logistic_fractions(t, (60.0, 15.0, 100.0))
    T = C.learning_times(t, frac, 0.9)
    np.testing.assert_allclose(T, np.array([60.0, 15.0, 100.0]) + np.log(9), atol=1e-6)
    got = C.plateau_times(5.0, T)
    np.testing.assert_allclose(got, [15 + np.log(9) - 5, 45.0, 40.0], atol=1e-6)
    # a teacher never learned: the gap before it is NaN, the others stay
    frac[:, 2] *= 0.5
    got = C.plateau_times(5.0, C.learning_times(t, frac, 0.9))
    np.testing.assert_allclose(got[:2], [15 + np.log(9) - 5, 45.0], atol=1e-6)
    assert np.isnan(got[2])
    # a first teacher learned before the level is reached: a negative first plateau, not clipped
    np.testing.assert_allclose(C.plateau_times(30.0, [20.0, 50.0]), [-10.0, 30.0])
    assert np.isnan(C.plateau_times(np.nan, [20.0, 50.0])[0])
    assert C.plateau_times(np.nan, [20.0, 50.0])[1] == 30.0


def _threshold_summary():
    """Two groups, four runs of (2, 2): rank-2 crossings [1, 0, 3, 1], ends above [1, 0, 1, 0]."""
    n = 4
    nan = np.nan
    return {"activation": np.array(["quadratic"] * n), "a": np.full(n, 2.0), "p": np.full(n, 2),
            "k": np.full(n, 2), "thr_once": np.array([1.0, 1.0, 0.0, 1.0]),
            "thr_crossings": np.array([1, 1, 3, 1]), "thr_level": np.full(n, 2 / 3),
            "thr_levels": np.tile([2 / 3, 0.5], (n, 1)),
            "thr_crossings_r": np.array([[1, 1], [1, 0], [3, 3], [1, 1]], float),
            "thr_starts_below": np.ones((n, 2)),
            "thr_ends_above": np.array([[1, 1], [1, 0], [0, 1], [1, 0]], float),
            "T_cross": np.array([[1.0, 4.0], [2.0, nan], [4.0, 16.0], [8.0, 2.0]]),
            "thr_end_ratio": np.array([[2.0, 1.2], [2.0, 0.5], [0.9, 1.1], [2.0, 0.8]]),
            "thr_end_law": np.array([[2.0, 1.3], [2.0, 0.6], [2.0, 1.2], [2.0, 1.1]]),
            "plateau": np.array([[10.0, 1.0], [40.0, nan], [-3.0, 4.0], [nan, 16.0]])}


def test_threshold_finding_per_rank_and_plateau():
    f = C.claim_threshold(_threshold_summary(), level=0.95)
    m, iv = f.measured["a=2,p=2,k=2"], f.interval["a=2,p=2,k=2"]
    assert f.passed is None  # a finding
    assert (m["once_and_stays"], m["more_than_once"], m["never"], m["runs"]) == (3, 1, 0, 4)
    r2 = m["rank"]["2"]
    # once and stays: run 0 only (run 3 crosses once but ends below)
    assert (r2["once_and_stays"], r2["never"], r2["more_than_once"], r2["ends_above"]) == (1, 1, 1, 2)
    assert r2["ends_above_at_minimum"] == 3 and r2["crossed"] == 3 and r2["level"] == pytest.approx(0.5)
    assert r2["T_cross"] == pytest.approx((4.0 * 16.0 * 2.0) ** (1 / 3))
    assert r2["end_over_level"] == pytest.approx((1.2 * 0.5 * 1.1 * 0.8) ** 0.25)
    assert iv["rank"]["2"]["ends_above"]["fraction_ci"] == list(binomial_interval(2, 4, 0.95))
    r1 = m["rank"]["1"]
    assert (r1["once_and_stays"], r1["ends_above"], r1["crossed"]) == (3, 3, 4)
    p1, p2 = m["plateau"]["1"], m["plateau"]["2"]
    assert (p1["defined"], p1["nonpositive"]) == (3, 1) and p1["geometric_mean"] == pytest.approx(20.0)
    assert (p2["defined"], p2["nonpositive"]) == (3, 0) and p2["geometric_mean"] == pytest.approx(4.0)
    lo, hi = iv["plateau"]["2"]["lower"], iv["plateau"]["2"]["upper"]
    assert lo < 4.0 < hi


@pytest.fixture(scope="module")
def small_flow():
    """d = 100, a = 2, p = k = 2, seeds 0 and 2, to the quick config's t_max (about 920)."""
    runs = []
    for seed in (0, 2):
        lam, Ws, W0 = problem(2.0, 100, 2, 2, seed, 0, False)
        t = log_time_grid(1e-3, 920.0, 20)
        tr = integrate_committee_flow(lam, Ws, W0, "quadratic", t, StepController(rtol=1e-6, atol=1e-12),
                                      tail_level=0.01, learn_level=0.9, tail_taus=t)
        runs.append({"t": tr.t, "loss": tr.loss, "M": tr.M, "R": tr.R, "lam": lam, "Wstar": Ws, "W0": W0,
                     "a": 2.0, "d": 100, "p": 2, "k": 2, "seed": seed, "activation": "quadratic",
                     "t0": tr.t0, "phase3_loss": 0.01, "T_last": tr.t_last, "learn_level": 0.9})
    return runs


def test_threshold_and_plateaus_of_a_real_flow(small_flow):
    """The escape takes the top eigenvalue of M from near 0 through mu_1 once; each rank ends near the
    value of the zero-loss minimum it approaches, on the side of mu_r that minimum predicts; the
    plateaus are the gaps of T_cross[1] and the learning times."""
    s = C.summarise(small_flow, [], tail_x_lo=3.0, tail_x_hi_frac=0.3, tail_min_points=5, phase3_loss=0.01,
                    learn_level=0.9, phase1_s_max=0.05, early_t_max=0.1, rate_e_max=0.5, leave_rtol=0.5)
    assert s["T_cross"].shape == (2, 2) and s["plateau"].shape == (2, 2)
    for i, run in enumerate(small_flow):
        P = (run["Wstar"] * run["lam"]) @ run["Wstar"].T
        np.testing.assert_allclose(s["thr_levels"][i], [2 * np.trace(P) / 6, 2 * np.trace(P) / 8], rtol=1e-12)
        assert s["thr_crossings_r"][i, 0] == 1 and s["thr_once"][i] == 1.0
        assert 0 < s["T_cross"][i, 0] < np.nanmax(s["T_learn"][i])
        assert s["thr_starts_below"][i].all()
        # the loss at t_max is ~1% of its start: each rank within 20% of the minimum's value
        np.testing.assert_allclose(s["thr_end_ratio"][i], s["thr_end_law"][i], rtol=0.2)
        assert np.array_equal(s["thr_ends_above"][i] == 1, s["thr_end_law"][i] > 1)
        T = np.sort(s["T_learn"][i])
        np.testing.assert_allclose(s["plateau"][i], [T[0] - s["T_cross"][i, 0], T[1] - T[0]], rtol=1e-12)
        assert np.all(s["plateau"][i] > 0)
    # the two seeds differ at rank 2: the minimum of seed 0 lies below mu_2 (never crossed), seed 2's above
    assert s["thr_end_law"][0, 1] < 1 < s["thr_end_law"][1, 1]
    assert s["thr_crossings_r"][0, 1] == 0 and np.isnan(s["T_cross"][0, 1])
    assert s["thr_crossings_r"][1, 1] >= 1 and s["T_cross"][1, 1] > s["T_cross"][1, 0]
    f = C.claim_threshold(s, level=0.95).measured["a=2,p=2,k=2"]
    assert f["rank"]["1"]["once_and_stays"] == 2 and f["rank"]["2"]["ends_above"] == 1
    assert f["plateau"]["2"]["defined"] == 2


def test_t_last_on_the_record_when_the_run_has_none(small_flow):
    """A run without T_last (older files, hand-made records) gets the same definition on its record: the
    first record time where the span's smallest squared Q-cosine reaches learn_level, within one record
    step (20 per decade: 12%) of the flow's located value."""
    measure = {"tail_x_lo": 3.0, "tail_x_hi_frac": 0.3, "tail_min_points": 5, "phase3_loss": 0.01,
               "learn_level": 0.9, "phase1_s_max": 0.05, "early_t_max": 0.1, "rate_e_max": 0.5,
               "leave_rtol": 0.5}
    located = C.summarise(small_flow, [], **measure)["T_last"]
    bare = [{k: v for k, v in r.items() if k != "T_last"} for r in small_flow]
    on_record = C.summarise(bare, [], **measure)["T_last"]
    assert np.all(np.isfinite(located))
    np.testing.assert_allclose(on_record, located, rtol=0.13)
