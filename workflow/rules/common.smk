# Config -> file names and parameters. Grids expand here, never in rule bodies.
import json
import math

from prdynamics.model import full_recovery_time

FLOW_NPZ = "results/sims/flow/a{a}_d{d}/seed{seed}.npz"
GD_NPZ = "results/sims/gd/eta{eta}/a{a}_d{d}/seed{seed}.npz"
FIG2 = "figures/fig2_population_dynamics"


wildcard_constraints:
    a=r"[0-9]+(\.[0-9]+)?",
    d=r"[0-9]+",
    seed=r"[0-9]+",
    eta=r"[0-9.e+-]+",


def num(x):
    """Canonical spelling of a number in a file name (2.0 -> '2', 0.01 -> '0.01')."""
    return f"{float(x):g}"


def flow_t_max(wildcards):
    a, d = float(wildcards.a), int(wildcards.d)
    return config["flow"]["t_max_factor"] * full_recovery_time(d, a)


def fig2_flow_files():
    c = config["fig2"]
    return expand(FLOW_NPZ, a=num(c["a"]), d=c["d"], seed=c["seeds"])


def fig2_gd_files():
    c = config["fig2"]
    return expand(GD_NPZ, eta=num(c["gd_eta"]), a=num(c["a"]), d=c["d"], seed=c["seeds"])


def notebook_parameters(**params):
    """Papermill parameters as one JSON (valid YAML) string for `papermill -y`."""
    return json.dumps(params)


def all_targets():
    return [f"{FIG2}.pdf", f"{FIG2}.png"]
