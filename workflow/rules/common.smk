# Config -> file names and parameters. Grids expand here, never in rule bodies.
import json

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError

from prdynamics.model import full_recovery_time

FLOW_NPZ = "results/sims/flow/a{a}_d{d}/seed{seed}.npz"
GD_NPZ = "results/sims/gd/eta{eta}/a{a}_d{d}/seed{seed}.npz"
FIG2 = "figures/fig2_population_dynamics"


wildcard_constraints:
    a=r"[0-9]+(\.[0-9]+)?",
    d=r"[0-9]+",
    seed=r"[0-9]+",
    eta=r"[0-9.e+-]+",


def check_config(cfg, schema_path):
    """Stop before any job runs, naming every bad key in one short line each."""
    with open(schema_path) as fh:
        schema = yaml.safe_load(fh)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [
            f"  config key '{'.'.join(map(str, e.absolute_path)) or '<top level>'}': {e.message}"
            for e in errors
        ]
        raise WorkflowError("invalid configuration:\n" + "\n".join(lines))


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
