import sys
from pathlib import Path

import numpy as np
import pytest

# Tests that load a CLI in-process see scripts/ on the path, as the CLIs do when run: they import
# their shared helpers (_cli) from their own folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
# ... and the pipeline's config loading, file lists and job options (workflow/pipeline.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from prdynamics.seeding import problem


@pytest.fixture
def small_problem():
    """(lam, wstar, w0) for a = 1.5, d = 20."""
    return problem(1.5, 20, 3, base_seed=0)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
