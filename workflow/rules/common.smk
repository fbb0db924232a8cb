# Config -> file names and parameters. Grids expand here and in workflow/pipeline.py (the
# simulation files and job options, shared with scripts/check_artifacts.py), never in rule bodies.
import json
import os
import sys


sys.path.insert(0, os.path.join(workflow.basedir, "workflow"))
from pipeline import (  # simulation file patterns, file lists and job options
    ESCAPE_NPZ,
    FINITE_NPZ,
    FLOW_NPZ,
    FLOW_SECTIONS,
    GD_NPZ,
    INIT_NPZ,
    INPUTS_FLOW_NPZ,
    INPUTS_SGD_NPZ,
    PHASE3_NPZ,
    SCALING_NPZ,
    SGD_NPZ,
    SIMULATIONS,
    VOLTERRA_NPZ,
    WILDCARDS,
    check_config,
    cli,
    escape_files,
    finite_files,
    flow_files,
    gd_files,
    init_files,
    inputs_flow_files,
    inputs_sgd_files,
    phase3_files,
    population_files,
    scaling_files,
    seed_outputs,
    sgd_files,
    sgd_grid_files,
    sgd_grid_outputs,
    volterra_files,
)

THEORY_ESCAPE = "results/theory/escape.npz"
THEORY_VOLTERRA = "results/theory/volterra.npz"
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
    **WILDCARDS,


def job_options(rule):
    """A simulation rule's options (pipeline.SIMULATIONS) as command-line text, per job."""
    return lambda wildcards: cli(SIMULATIONS[rule].options(config, wildcards))


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
    """Papermill parameters as one JSON (valid YAML) string for `papermill -y`.

    Rules build it at parse time from the same helpers as their input, never from `input`: Snakemake
    leaves params derived from input out of its params-change trigger, and a changed value (e.g.
    fig2.eps) must rerun the notebook."""
    return json.dumps(params)


def all_targets():
    figures = [out for name in FIGURES for out in figure_outputs(name)]
    tables = [f"{stem}.{ext}" for stem in TABLES.values() for ext in ("csv", "md")]
    return figures + tables + [CHECKS, "results/checks.ok"]


# ---- studies beyond the paper: outputs and claims, one block each ----

# study: scaling
THEORY_SCALING = "results/theory/scaling.npz"
FIGURES["theory_phase3"] = "figures/theory_phase3_collapse"
FIGURES["theory_loss_law"] = "figures/theory_loss_law"
FIGURES["theory_phase2"] = "figures/theory_phase2_T2"
TABLES["scaling_laws"] = "results/tables/scaling_laws"
CLAIM_STUDIES.append("scaling")

# study: sgd_grid
SGD_GRID_STUDY = "results/studies/sgd_grid.npz"
FIGURES["sgd_grid"] = "figures/sgd_grid"
TABLES["sgd_grid_table"] = "results/tables/sgd_grid"
CLAIM_STUDIES.append("sgd_grid")

# study: init
INIT_STUDY = "results/studies/init.npz"
FIGURES["init"] = "figures/init"
TABLES["init_table"] = "results/tables/init"
CLAIM_STUDIES.append("init")

# study: inputs
INPUTS_STUDY = "results/studies/inputs.npz"
FIGURES["inputs"] = "figures/inputs"
TABLES["inputs_table"] = "results/tables/inputs"
CLAIM_STUDIES.append("inputs")

# study: finite
FINITE_STUDY = "results/studies/finite.npz"
FIGURES["finite"] = "figures/finite"
TABLES["finite_table"] = "results/tables/finite"
CLAIM_STUDIES.append("finite")
