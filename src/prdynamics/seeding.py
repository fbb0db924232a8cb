"""Random streams derived from (base seed, run coordinates), independent of scheduling."""

from __future__ import annotations

import numpy as np

# Every stream id of the project, in one table, so that no two kinds of draw of one run share
# a stream: rng_for(base_seed, d, seed, <id>, ...).
TARGET_STREAM = 0  # w* (a committee's W*: its rows, drawn one after another)
INIT_STREAM = 1  # the paper's start, a committee's W(0) (rows in turn), the init study's rescaled spheres
SGD_STREAM = 2  # online SGD inputs z, single neuron and committee alike (label noise: a spawned child)
CUDA_STREAM = 3  # online SGD inputs on the GPU backend (its own generator)
FUSED_STREAM = 4  # online SGD, sgd_rng fused (prdynamics.fused_rng): inputs (.., 4, 0), noise (.., 4, 1)
FINITE_STREAM = 5  # the finite-sample study: the sample z (and, with a trailing 1, its noise)
START_STREAMS = {"gaussian": 41, "warm_u0.1": 42, "top_k10": 43}  # the init study's other starts


def rng_for(base_seed: int, *coordinates: int) -> np.random.Generator:
    """Generator seeded by SeedSequence([base_seed, *coordinates]).

    Coordinates are integers that name the run (d, seed, stream id, ...). The
    spectrum exponent a is deliberately not one of them: runs that differ only
    in a share their Gaussian draws (common random numbers across a).
    """
    entropy = [int(base_seed), *(int(c) for c in coordinates)]
    if any(c < 0 for c in entropy):
        raise ValueError(f"seeds and coordinates must be non-negative, got {entropy}")
    return np.random.default_rng(np.random.SeedSequence(entropy))


def problem(a: float, d: int, seed: int, base_seed: int):
    """The spectrum, target and sphere start of one run: (lam, wstar, w0)."""
    from .model import init_sphere, spectrum, target

    lam = spectrum(d, a)
    wstar = target(lam, rng_for(base_seed, d, seed, TARGET_STREAM))
    w0 = init_sphere(d, rng_for(base_seed, d, seed, INIT_STREAM))
    return lam, wstar, w0
