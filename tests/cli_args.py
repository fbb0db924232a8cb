"""Every option the simulation scripts require, at small values that run by hand in a test.

The scripts have no defaults for config values (the pipeline passes each one), so a test gives
them all; `options` changes or adds some, `without` drops some.
"""

FLOW = ["--method", "flow", "--base-seed", "0", "--t-max", "10", "--t-min", "1e-3",
        "--points-per-decade", "20", "--rtol", "1e-7", "--atol", "1e-12"]
PHASE3 = ["--base-seed", "0", "--u-start", "0.9", "--tau-max-factor", "10", "--tau-min", "1e-3",
          "--points-per-decade", "20", "--rtol", "1e-7", "--atol", "1e-12"]
SGD = ["--base-seed", "0", "--eta", "0.001", "--batch", "1", "--sigma2", "0", "--input-law", "gaussian",
       "--t-max", "1", "--t-min", "1e-3", "--points-per-decade", "20", "--blowup", "1e6", "--backend", "cpu",
       "--sgd-rng", "numpy"]
INPUTS = ["--base-seed", "0", "--input-law", "gaussian", "--t-max", "10", "--t-min", "1e-2",
          "--points-per-decade", "20", "--rtol", "1e-8", "--atol", "1e-12"]
INIT = ["--base-seed", "0", "--t-max", "10", "--t-min", "1e-3", "--points-per-decade", "40", "--rtol", "1e-7",
        "--atol", "1e-12"]
FINITE = ["--base-seed", "0", "--sigma2", "0", "--eta", "0.1", "--horizon-factor", "2",
          "--points-per-decade", "10"]


def options(base, **changes):
    """base with some options changed or added: options(FLOW, **{"--t-max": "50"})."""
    out = list(base)
    for flag, value in changes.items():
        if flag in out:
            out[out.index(flag) + 1] = value
        else:
            out += [flag, value]
    return out


def without(base, *flags):
    """base without the named options and their values."""
    drop = {i + k for i, word in enumerate(base) if word in flags for k in (0, 1)}
    return [word for i, word in enumerate(base) if i not in drop]
