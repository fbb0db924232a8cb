import numpy as np
import pytest

from prdynamics.seeding import problem


@pytest.fixture
def small_problem():
    """(lam, wstar, w0) for a = 1.5, d = 20."""
    return problem(1.5, 20, 3)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
