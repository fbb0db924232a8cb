"""The starts of the init study (studies.init.initial_state, named_starts)."""

import math

import numpy as np
import pytest

from prdynamics import population as P
from prdynamics.seeding import INIT_STREAM, problem, rng_for
from prdynamics.studies import init as I


@pytest.fixture
def spectrum_target():
    lam, ws, _ = problem(2.0, 100, 3, base_seed=0)
    return lam, ws


@pytest.mark.parametrize("r", [0.1, 1.0, 10.0])
def test_sphere_start(r, spectrum_target):
    lam, ws = spectrum_target
    w = I.initial_state("sphere", lam, ws, np.random.default_rng(0), r=r)
    assert np.linalg.norm(w) == pytest.approx(r, rel=1e-14)


def test_sphere_default_is_the_papers_start():
    lam, ws, w0 = problem(2.0, 100, 3, base_seed=0)
    w = I.initial_state("sphere", lam, ws, rng_for(0, 100, 3, INIT_STREAM))
    np.testing.assert_array_equal(w, w0)


def test_gaussian_start(spectrum_target):
    lam, ws = spectrum_target
    w = I.initial_state("gaussian", lam, ws, np.random.default_rng(1))
    assert w.shape == lam.shape and np.all(w != 0)
    assert np.mean(w**2) * lam.size == pytest.approx(1.0, abs=0.3)  # N(0, I/d): |w|^2 ~ 1 +- sqrt(2/d)


@pytest.mark.parametrize("u0,r", [(0.05, 1.0), (-0.05, 1.0), (0.1, None), (0.1, 5.0), (0.0, 1.0)])
@pytest.mark.parametrize("a", [0.0, 2.0])
def test_warm_start(u0, r, a):
    lam, ws, _ = problem(a, 100, 3, base_seed=0)
    params = {"u0": u0} if r is None else {"u0": u0, "r": r}
    w = I.initial_state("warm", lam, ws, np.random.default_rng(2), **params)
    s, u = P.overlaps(w, lam, ws)
    assert u == pytest.approx(u0, abs=1e-14)
    alpha = u0 * np.linalg.norm(ws) / P.target_norm(lam, ws)
    expected_norm = math.sqrt(1 + alpha**2) if r is None else r
    assert np.linalg.norm(w) == pytest.approx(expected_norm, rel=1e-13)
    random_part = w - alpha * ws / np.linalg.norm(ws)
    assert abs(random_part @ ws) < 1e-12 * np.linalg.norm(ws)  # Euclidean- and Q-orthogonal to w*
    assert abs(random_part @ (lam * ws)) < 1e-14


def test_warm_start_out_of_reach_raises(spectrum_target):
    lam, ws = spectrum_target
    u_max = P.target_norm(lam, ws) / np.linalg.norm(ws)
    I.initial_state("warm", lam, ws, np.random.default_rng(0), u0=0.999 * u_max, r=1.0)
    with pytest.raises(ValueError, match="not reachable"):
        I.initial_state("warm", lam, ws, np.random.default_rng(0), u0=1.001 * u_max, r=1.0)


@pytest.mark.parametrize("k", [1, 10, 100])
def test_top_start(k, spectrum_target):
    lam, ws = spectrum_target
    w = I.initial_state("top", lam, ws, np.random.default_rng(3), k=k, r=2.0)
    assert np.linalg.norm(w) == pytest.approx(2.0, rel=1e-14)
    assert np.all(w[k:] == 0) and np.all(w[:k] != 0)


@pytest.mark.parametrize("kind,params", [
    ("sphere", {"r": 1.0}), ("gaussian", {}), ("warm", {"u0": 0.01}), ("top", {"k": 10}),
])
def test_starts_are_deterministic(kind, params, spectrum_target):
    lam, ws = spectrum_target
    w1 = I.initial_state(kind, lam, ws, np.random.default_rng(11), **params)
    w2 = I.initial_state(kind, lam, ws, np.random.default_rng(11), **params)
    w3 = I.initial_state(kind, lam, ws, np.random.default_rng(12), **params)
    np.testing.assert_array_equal(w1, w2)
    assert not np.array_equal(w1, w3)


@pytest.mark.parametrize("kind,params,match", [
    ("ball", {}, "unknown initialisation"),
    ("sphere", {"r": 0.0}, "radius"),
    ("sphere", {"r": -1.0}, "radius"),
    ("sphere", {"r": math.inf}, "radius"),
    ("sphere", {"k": 3}, "takes parameters"),
    ("gaussian", {"r": 2.0}, "takes parameters"),
    ("warm", {}, "u0"),
    ("warm", {"u0": math.nan}, "u0"),
    ("warm", {"u0": 0.01, "r": -1.0}, "radius"),
    ("top", {}, "k"),
    ("top", {"k": 0}, "k"),
    ("top", {"k": 101}, "k"),
    ("top", {"k": 2.5}, "k"),
])
def test_bad_start_parameters_raise(kind, params, match, spectrum_target):
    lam, ws = spectrum_target
    with pytest.raises(ValueError, match=match):
        I.initial_state(kind, lam, ws, np.random.default_rng(0), **params)


def test_named_starts():
    d = 100
    lam, ws, _ = problem(2.0, d, 3, base_seed=0)
    starts = I.named_starts(d)
    assert set(starts) == {"sphere_r1", "sphere_rinvsqrtd", "sphere_rsqrtd", "gaussian", "warm_u0.1",
                           "top_k10"}
    norms = {"sphere_r1": 1.0, "sphere_rinvsqrtd": d**-0.5, "sphere_rsqrtd": d**0.5}
    for name, (kind, params) in starts.items():
        w = I.initial_state(kind, lam, ws, np.random.default_rng(0), **params)
        assert w.shape == (d,) and np.all(np.isfinite(w)), name
        if name in norms:
            assert np.linalg.norm(w) == pytest.approx(norms[name], rel=1e-13)
    kind, params = starts["warm_u0.1"]
    w = I.initial_state(kind, lam, ws, np.random.default_rng(0), **params)
    assert P.overlaps(w, lam, ws)[1] == pytest.approx(0.1, abs=1e-14)
    with pytest.raises(ValueError, match="d must be"):
        I.named_starts(1)
