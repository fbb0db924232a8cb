import numpy as np
import pytest

from prdynamics.model import check_memory, full_recovery_time, harmonic, init_sphere, spectrum, target
from prdynamics.seeding import problem, rng_for


@pytest.mark.parametrize("a", [0.0, 0.5, 1.0, 2.0, 3.5])
def test_spectrum_is_normalised_power_law(a):
    d = 37
    lam = spectrum(d, a)
    assert lam.dtype == np.float64
    assert lam.sum() == pytest.approx(1.0, abs=1e-14)
    i = np.arange(1, d + 1)
    np.testing.assert_allclose(lam, i**-a / np.sum(1.0 / i**a), rtol=1e-14)
    assert np.all(np.diff(lam) <= 0)


def test_isotropic_spectrum_is_flat():
    np.testing.assert_allclose(spectrum(8, 0.0), np.full(8, 1 / 8))


def test_harmonic_matches_known_values():
    assert harmonic(4, 1.0) == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4)
    # H_{d,2} -> pi^2/6 with tail ~ 1/d
    assert harmonic(100_000, 2.0) == pytest.approx(np.pi**2 / 6 - 1 / 100_000, rel=1e-9)
    assert full_recovery_time(1000, 2.0) == pytest.approx(1000**2 * harmonic(1000, 2.0) / 16)


def test_target_has_unit_q_norm(rng):
    lam = spectrum(500, 2.0)
    ws = target(lam, rng)
    assert np.sum(lam * ws * ws) == pytest.approx(1.0, abs=1e-13)
    # entries are O(1): ||Q^{1/2} g||^2 concentrates at tr Q = 1, so E (w*_i)^2 ~ 1
    assert 0.5 < np.mean(ws**2) < 2.0


def test_init_on_unit_sphere(rng):
    w = init_sphere(1000, rng)
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=1e-13)
    lam = spectrum(1000, 2.0)
    ws = target(lam, rng)
    # u(0) = w^T Q w* is O(d^-1/2) in size
    assert abs(np.sum(lam * w * ws)) < 10 / np.sqrt(1000)


@pytest.mark.parametrize("d,a", [(1, 1.0), (0, 1.0), (10, -0.1), (10, np.nan), (2.5, 1.0)])
def test_bad_spectrum_arguments(d, a):
    with pytest.raises(ValueError):
        spectrum(d, a)


def test_memory_check_refuses_huge_d():
    with pytest.raises(MemoryError, match="GiB"):
        check_memory(10**12, available_bytes=2**34)
    check_memory(1000, available_bytes=2**34)


def test_problem_is_deterministic_and_shares_draws_across_a():
    lam1, ws1, w01 = problem(2.0, 50, 7, base_seed=0)
    lam2, ws2, w02 = problem(2.0, 50, 7, base_seed=0)
    np.testing.assert_array_equal(ws1, ws2)
    np.testing.assert_array_equal(w01, w02)
    _, ws3, w03 = problem(1.5, 50, 7, base_seed=0)
    np.testing.assert_array_equal(w01, w03)  # same start for every a
    np.testing.assert_allclose(ws3 / ws3[0], ws1 / ws1[0])  # same direction g, other normalisation
    _, ws4, _ = problem(2.0, 50, 8, base_seed=0)
    assert not np.allclose(ws1, ws4)


def test_negative_seed_rejected():
    with pytest.raises(ValueError):
        rng_for(0, -1)
