"""The fused generator's draws: tables, moments, KS, tails to 6 sigma, independence, determinism.

Every test has fixed seeds and sizes, so it is deterministic; the levels say how unlikely a failure
would be for an exact normal generator (Bonferroni over the statistics of one test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import erfc

from prdynamics import fused_rng as F

LEVEL = 1e-3  # family-wise level of every statistical test below


def _normals(n_blocks, block=1024, *coords):
    return F.draw_normals(F.stream_state(7, *coords), n_blocks, block).ravel()


def test_tables_close_and_layers_have_equal_area():
    x, f = F.XW, F.XF
    areas = [x[i] * (f[i - 1] - f[i]) for i in range(1, F.LAYERS)]
    np.testing.assert_allclose(areas, F.V, rtol=1e-8)
    base = F.R * f[-1] + 0.5 * math.sqrt(2 * math.pi) * erfc(F.R / math.sqrt(2))  # strip + tail
    assert math.isclose(base, F.V, rel_tol=1e-8)
    assert np.all((F.XK >= 0) & (F.XK < 1)) and F.XK[1] == 0.0
    assert np.all(np.diff(x[1:]) > 0) and x[-1] == F.R


def test_moments_up_to_8():
    z = _normals(2000, 1024, 1)  # 2e6 draws
    n = z.size
    exact = [0, 1, 0, 3, 0, 15, 0, 105]  # E z^k, k = 1..8
    exact2 = [1, 3, 15, 105, 945, 10395, 135135, 2027025]  # E z^2k
    crit = stats.norm.isf(LEVEL / 2 / 8)
    zk = np.ones_like(z)
    for k in range(1, 9):
        zk *= z
        se = math.sqrt((exact2[k - 1] - exact[k - 1] ** 2) / n)
        assert abs(np.mean(zk) - exact[k - 1]) < crit * se, k


def test_ks_against_the_normal():
    assert stats.kstest(_normals(1000, 1024, 2), "norm").pvalue > LEVEL


def _poisson_ok(count, mean, tests):
    lo, hi = stats.poisson.ppf(LEVEL / 2 / tests, mean), stats.poisson.isf(LEVEL / 2 / tests, mean)
    return lo <= count <= hi


def test_tail_frequencies_to_5_sigma_and_the_tail_mass():
    z = np.abs(_normals(20000, 1024, 3))  # 2e7 draws
    ks = (3.0, 4.0, F.R, 5.0)
    for k in ks:
        assert _poisson_ok(int(np.sum(z > k)), z.size * erfc(k / math.sqrt(2)), len(ks)), k


def test_tail_sampler_to_6_sigma():
    """The exact tail beyond R, where 4.5 to 6 sigma come from: counts against P(z > k | z > R)."""
    t = F.draw_tail(F.stream_state(7, 4, lanes=1), 4_000_000)
    assert t.min() > F.R
    ks = (4.0, 4.5, 5.0, 5.5, 6.0)
    for k in ks:
        p = erfc(k / math.sqrt(2)) / erfc(F.R / math.sqrt(2))
        assert _poisson_ok(int(np.sum(t > k)), t.size * p, len(ks)), k


def test_streams_lanes_and_lags_are_uncorrelated():
    """16 streams (seeds and replicas) pairwise, and lags 1..16 within a stream (lane neighbours
    and the same lane at lag 8): |r| below the normal critical value over all pairs."""
    n = 65536
    Z = np.stack([F.draw_normals(F.stream_state(0, 1000, seed, 4, 0), 64, 1024).ravel()
                  for seed in range(16)])
    r = np.corrcoef(Z)[np.triu_indices(16, 1)]
    lags = [np.corrcoef(Z[0, :-lag], Z[0, lag:])[0, 1] for lag in range(1, 17)]
    crit = stats.norm.isf(LEVEL / 2 / (r.size + len(lags))) / math.sqrt(n)
    assert np.max(np.abs(r)) < crit and np.max(np.abs(lags)) < crit


@pytest.mark.parametrize("source", ["normals", "bits"])
def test_serial_pairs_are_uniform(source):
    """Pairs test: consecutive values (normals through Phi; raw bits of one lane, top 4 bits) in a
    16 x 16 grid, chi-square with 255 degrees of freedom."""
    if source == "normals":
        cells = np.minimum((stats.norm.cdf(_normals(512, 1024, 5)) * 16).astype(int), 15)
    else:
        bits = F.draw_bits(F.stream_state(7, 6, lanes=1), 2**19)
        cells = (bits >> np.uint64(60)).astype(int)
    pairs = cells[0::2] * 16 + cells[1::2]
    assert stats.chisquare(np.bincount(pairs, minlength=256)).pvalue > LEVEL


def test_streams_are_fixed_by_their_coordinates_and_split_invariant():
    a = F.draw_normals(F.stream_state(3, 100, 2, 4, 0), 6, 104)
    s = F.stream_state(3, 100, 2, 4, 0)
    b = np.concatenate([F.draw_normals(s, 1, 104), F.draw_normals(s, 5, 104)])
    assert np.array_equal(a, b)
    assert not np.array_equal(a, F.draw_normals(F.stream_state(3, 100, 3, 4, 0), 6, 104))
    with pytest.raises(ValueError):
        F.stream_state(0, -1)
    with pytest.raises(ValueError):
        F.draw_normals(F.stream_state(0, 1), 1, 12)  # not a multiple of the 8 lanes
