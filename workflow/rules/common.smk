# Config -> file names and parameters. Grids expand here, never in rule bodies.
import json
import os

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError

from prdynamics.model import escape_time_scale, full_recovery_time

FLOW_NPZ = "results/sims/flow/a{a}_d{d}/seed{seed}.npz"
GD_NPZ = "results/sims/gd/eta{eta}/a{a}_d{d}/seed{seed}.npz"
PHASE3_NPZ = "results/sims/phase3/a{a}_d{d}/seed{seed}.npz"
ESCAPE_NPZ = "results/sims/escape/a{a}_d{d}/seed{seed}.npz"
THEORY_ESCAPE = "results/theory/escape.npz"
VOLTERRA_NPZ = "results/sims/volterra/a{a}_d{d}/seed{seed}.npz"
THEORY_VOLTERRA = "results/theory/volterra.npz"
SGD_NPZ = "results/sims/sgd/{law}/eta{eta}_b{batch}_noise{sigma2}/a{a}_d{d}.npz"
FIGURES = {
    "fig1": "figures/fig1_sgd_mse",
    "fig2": "figures/fig2_population_dynamics",
    "fig3": "figures/fig3_escape_over_a",
    "fig4": "figures/fig4_phase3_frozen",
    "fig5": "figures/fig5_sgd_label_noise",
    "fig6": "figures/fig6_one_minus_u",
    "theory_escape": "figures/theory_escape",
    "theory_volterra": "figures/theory_volterra",
}
TABLES = {
    "stopping_times": "results/tables/stopping_times",
    "threshold_check": "results/tables/threshold_check",
}
# Studies beyond the paper figures register here from workflow/rules/<study>.smk; each writes its
# claims to CLAIMS_FRAGMENT, and the claims rule merges every fragment into CHECKS.
CLAIM_STUDIES = []
CLAIMS_FRAGMENT = "results/claims/{study}.json"
CHECKS = "results/checks.json"


wildcard_constraints:
    a=r"[0-9]+(\.[0-9]+)?",
    d=r"[0-9]+",
    seed=r"[0-9]+",
    eta=r"[0-9.e+-]+",
    batch=r"[0-9]+",
    sigma2=r"[0-9.e+-]+",
    law=r"[a-z_]+",


def check_config(cfg, schema_path):
    """Stop before any job runs, naming every bad key in one short line each."""
    with open(schema_path) as fh:
        schema = yaml.safe_load(fh)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(
        validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path))
    )
    if errors:
        lines = [
            f"  config key '{'.'.join(map(str, e.absolute_path)) or '<top level>'}': {e.message}"
            for e in errors
        ]
        raise WorkflowError("invalid configuration:\n" + "\n".join(lines))


def num(x):
    """Canonical spelling of a number in a file name (2.0 -> '2', 0.01 -> '0.01')."""
    return f"{float(x):g}"


def as_list(x):
    return x if isinstance(x, list) else [x]


def flow_t_max(wildcards):
    """t_max_factor times (escape scale + recovery time): covers all three phases for any a."""
    a, d = float(wildcards.a), int(wildcards.d)
    return config["flow"]["t_max_factor"] * (
        escape_time_scale(d, a) + full_recovery_time(d, a)
    )


# Sections whose population-flow runs share FLOW_NPZ; a study that uses them appends itself.
FLOW_SECTIONS = ["fig1", "fig2", "fig3", "fig6"]


def seeds_of(*sections):
    """Every seed any of the sections asks for, sorted: one job runs them all for one (a, d)."""
    return sorted(set().union(*(config[s]["seeds"] for s in sections)))


def seed_outputs(pattern, *sections):
    """One job's outputs: the pattern's file for every seed of the sections ({a}, {d} kept)."""
    return expand(pattern, seed=seeds_of(*sections), allow_missing=True)


def seed_arguments(*sections):
    """The same seeds, in the same order, as the script's --seed values."""
    return " ".join(map(str, seeds_of(*sections)))


def flow_files(section):
    """Flow runs of a figure section: every (a, d, seed) of its grid."""
    c = config[section]
    return expand(
        FLOW_NPZ,
        a=[num(a) for a in as_list(c["a"])],
        d=as_list(c["d"]),
        seed=c["seeds"],
    )


def gd_files():
    c = config["fig2"]
    return expand(
        GD_NPZ, eta=num(c["gd_eta"]), a=num(c["a"]), d=c["d"], seed=c["seeds"]
    )


def sgd_files(section, law="gaussian"):
    """One SGD file per a of a figure section; each holds every seed as a replica."""
    c = config[section]
    return expand(
        SGD_NPZ,
        law=law,
        eta=num(c["eta"]),
        batch=c["batch"],
        sigma2=num(c.get("sigma2", 0.0)),
        a=[num(a) for a in as_list(c["a"])],
        d=c["d"],
    )


def sgd_section(wildcards):
    """The config section whose grid produced this SGD file (for its seeds and t_max)."""
    for section in ("fig1", "fig5"):
        if SGD_NPZ.format(**wildcards) in sgd_files(section, wildcards.law):
            return config[section]
    raise WorkflowError(f"no config section produces {SGD_NPZ.format(**wildcards)}")


def escape_files():
    c = config["escape"]
    return expand(ESCAPE_NPZ, a=[num(a) for a in c["a"]], d=c["d"], seed=c["seeds"])


def volterra_files():
    c = config["volterra"]
    return expand(VOLTERRA_NPZ, a=num(c["a"]), d=c["d"], seed=c["seeds"])


def phase3_files():
    c = config["fig4"]
    return expand(PHASE3_NPZ, a=num(c["a"]), d=c["d"], seed=c["seeds"])


def population_files():
    """Every population-flow run of the paper figures, once each (tables and claims)."""
    return sorted(
        set(
            flow_files("fig1")
            + flow_files("fig2")
            + flow_files("fig3")
            + flow_files("fig6")
        )
    )


def report_caption(name):
    """Absolute path of a caption: rules in several files share these helpers."""
    return os.path.join(workflow.basedir, "workflow", "report", f"{name}.rst")


def figure_outputs(name):
    """PDF and PNG of a figure; the PNG goes into the HTML report with its caption."""
    stem = FIGURES[name]
    png = report(f"{stem}.png", caption=report_caption(name), category="Figures")
    return [f"{stem}.pdf", png]


def table_outputs(*names):
    """CSV, Markdown and provenance of the named tables; the CSV goes into the HTML report
    with its caption workflow/report/<name>.rst."""
    out = []
    for name in names:
        stem = TABLES[name]
        csv = report(f"{stem}.csv", caption=report_caption(name), category="Tables")
        out += [csv, f"{stem}.md", f"{stem}.provenance.json"]
    return out


def notebook_parameters(**params):
    """Papermill parameters as one JSON (valid YAML) string for `papermill -y`."""
    return json.dumps(params)


def all_targets():
    figures = [out for name in FIGURES for out in figure_outputs(name)]
    tables = [f"{stem}.{ext}" for stem in TABLES.values() for ext in ("csv", "md")]
    return figures + tables + [CHECKS, "results/checks.ok"]


# ---- studies beyond the paper: file names and grids, one block each ----

# study: scaling
SCALING_NPZ = "results/sims/scaling/a{a}_d{d}/seed{seed}.npz"
THEORY_SCALING = "results/theory/scaling.npz"
FIGURES["theory_phase3"] = "figures/theory_phase3_collapse"
FIGURES["theory_loss_law"] = "figures/theory_loss_law"
FIGURES["theory_phase2"] = "figures/theory_phase2_T2"
TABLES["scaling_laws"] = "results/tables/scaling_laws"
CLAIM_STUDIES.append("scaling")


def scaling_files():
    c = config["scaling"]
    return expand(SCALING_NPZ, a=[num(a) for a in c["a"]], d=c["d"], seed=c["seeds"])


# study: sgd_grid

SGD_GRID_NPZ = "results/sims/sgd_grid/b{batch}_noise{sigma2}/a{a}_d{d}/eta{eta}.npz"
SGD_GRID_STUDY = "results/studies/sgd_grid.npz"
FIGURES["sgd_grid"] = "figures/sgd_grid"
TABLES["sgd_grid_table"] = "results/tables/sgd_grid"
CLAIM_STUDIES.append("sgd_grid")
FLOW_SECTIONS.append("sgd_grid")


def sgd_grid_outputs():
    """Outputs of one (batch, sigma2) job: every eta of the grid, run in one process."""
    etas = [num(e) for e in config["sgd_grid"]["eta"]]
    return expand(SGD_GRID_NPZ, eta=etas, allow_missing=True)


def sgd_grid_files():
    """Every SGD run of the study: (batch, sigma2, eta), all seeds as replicas of one file."""
    c = config["sgd_grid"]
    return expand(
        SGD_GRID_NPZ,
        batch=c["batch"],
        sigma2=[num(s) for s in c["sigma2"]],
        a=num(c["a"]),
        d=c["d"],
        eta=[num(e) for e in c["eta"]],
    )


def sgd_grid_flow_files():
    """The population-flow reference of every seed (same target and start)."""
    c = config["sgd_grid"]
    return expand(FLOW_NPZ, a=num(c["a"]), d=c["d"], seed=c["seeds"])


# study: init
INIT_NPZ = "results/sims/init/a{a}_d{d}.npz"
INIT_STUDY = "results/studies/init.npz"
FIGURES["init"] = "figures/init"
TABLES["init_table"] = "results/tables/init"
CLAIM_STUDIES.append("init")


def init_files():
    """One flow file per (a, d) of the init grid; each holds every start and seed."""
    c = config["init"]
    if c["phase3_eps"] not in config["stopping"]["eps"]:
        raise WorkflowError(
            f"invalid configuration: init.phase3_eps = {c['phase3_eps']} is not one of stopping.eps"
        )
    return expand(INIT_NPZ, a=[num(a) for a in c["a"]], d=c["d"])


# study: inputs
INPUTS_FLOW_NPZ = "results/sims/inputs/flow/{law}/a{a}_d{d}.npz"
INPUTS_SGD_NPZ = "results/sims/inputs/sgd/{law}/eta{eta}_a{a}_d{d}.npz"
INPUTS_STUDY = "results/studies/inputs.npz"
FIGURES["inputs"] = "figures/inputs"
TABLES["inputs_table"] = "results/tables/inputs"
CLAIM_STUDIES.append("inputs")


def inputs_law_option(law):
    """The --law-param option of a law of the inputs study ('' for the laws without one)."""
    c = config["inputs"]
    value = {"student_t": c["student_t_nu"], "sparse": c["sparse_p"]}.get(law)
    return "" if value is None else f"--law-param {value}"


def inputs_flow_dims():
    """Flow dimensions: the configured ones and the SGD dimension (SGD is compared with its flows)."""
    c = config["inputs"]
    return sorted(set(as_list(c["d"])) | {c["sgd"]["d"]})


def inputs_flow_files():
    c = config["inputs"]
    return expand(INPUTS_FLOW_NPZ, law=c["laws"], a=num(c["a"]), d=inputs_flow_dims())


def inputs_sgd_files():
    c = config["inputs"]
    return expand(
        INPUTS_SGD_NPZ,
        law=c["laws"],
        eta=[num(e) for e in c["sgd"]["eta"]],
        a=num(c["a"]),
        d=c["sgd"]["d"],
    )


def inputs_flow_t_max(wildcards):
    """t_max_factor times (escape scale + recovery time), as the paper-figure flows."""
    a, d = float(wildcards.a), int(wildcards.d)
    return config["inputs"]["t_max_factor"] * (
        escape_time_scale(d, a) + full_recovery_time(d, a)
    )


# study: finite
FINITE_NPZ = "results/sims/finite/a{a}_d{d}_noise{sigma2}.npz"
FINITE_STUDY = "results/studies/finite.npz"
FIGURES["finite"] = "figures/finite"
TABLES["finite_table"] = "results/tables/finite"
CLAIM_STUDIES.append("finite")


def finite_files():
    """One finite-sample file per (a, sigma^2); each holds every n/d and seed."""
    c = config["finite"]
    return expand(
        FINITE_NPZ,
        a=[num(a) for a in c["a"]],
        d=c["d"],
        sigma2=[num(s) for s in c["sigma2"]],
    )
