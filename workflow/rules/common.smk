# Config -> file names and parameters. Grids expand here and in workflow/pipeline.py (the
# simulation files and job options, shared with scripts/check_artifacts.py), never in rule bodies.
import json
import os
import shlex
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "workflow"))
from pipeline import (  # simulation file patterns, file lists, job options, notebook parameters
    CHECKS,
    COMMITTEE_FLOW_NPZ,
    COMMITTEE_SGD_NPZ,
    COMMITTEE_STUDY,
    ESCAPE_NPZ,
    FIGURES,
    FINITE_STUDY,
    FINITE_NPZ,
    FLOW_NPZ,
    FLOW_SECTIONS,
    GD_NPZ,
    INIT_NPZ,
    INIT_STUDY,
    INPUTS_STUDY,
    INPUTS_FLOW_NPZ,
    INPUTS_SGD_NPZ,
    LARGE_D,
    PHASE3_LEVELS_NPZ,
    PHASE3_NPZ,
    SCALING_NPZ,
    SGD_GRID_STUDY,
    SGD_LIMIT_NPZ,
    SGD_NPZ,
    SIDECAR,
    SIMULATIONS,
    TABLES,
    THEORY_ESCAPE,
    THEORY_SCALING,
    THEORY_VOLTERRA,
    VOLTERRA_NPZ,
    WILDCARDS,
    check_config,
    cli,
    committee_flow_files,
    committee_sgd_files,
    escape_files,
    finite_files,
    flow_files,
    gd_files,
    init_files,
    inputs_flow_files,
    inputs_sgd_files,
    phase3_files,
    phase3_level_files,
    population_files,
    recorded_params,
    scaling_files,
    seed_outputs,
    sgd_files,
    sgd_grid_files,
    sgd_grid_outputs,
    sgd_limit_files,
    volterra_files,
)

# Studies beyond the paper figures register their claims here; each writes its claims to
# CLAIMS_FRAGMENT, and the claims rule merges every fragment into CHECKS. Figures, tables and the
# files the notebooks read are named in workflow/pipeline.py (FIGURES, TABLES), with the parameters
# of each notebook rule (RECORDED), which its job records beside what it makes.
CLAIM_STUDIES = []
CLAIMS_FRAGMENT = "results/claims/{study}.json"
CHECKS_TABLE = "results/checks_table"  # the claims as a table, shown in the report


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
    return [f"{stem}.pdf", png, SIDECAR.format(stem=stem)]


def table_outputs(*names):
    """CSV, Markdown and provenance of the named tables; the CSV goes into the HTML report
    with its caption workflow/report/<name>.rst."""
    out = []
    for name in names:
        stem = TABLES[name]
        csv = report(f"{stem}.csv", caption=report_caption(name), category="Tables")
        out += [csv, f"{stem}.md", SIDECAR.format(stem=stem)]
    return out


def notebook_parameters(rule):
    """Papermill parameters of a notebook job, as one shell-quoted JSON (valid YAML) string for `papermill -y`,
    pipeline.RECORDED's, from config, which the job also records (scripts/record_params.py).

    Rules build it at parse time, never from `input`: Snakemake leaves params derived from input out
    of its params-change trigger, and a changed value (e.g. fig2.eps) must rerun the notebook.
    """
    return shell_json(recorded_params(config, rule))


def shell_json(obj):
    """obj as JSON, quoted for the shell (a config text may hold an apostrophe)."""
    return shlex.quote(json.dumps(obj))


def all_targets():
    figures = [out for name in FIGURES for out in figure_outputs(name)]
    tables = [f"{stem}.{ext}" for stem in TABLES.values() for ext in ("csv", "md")]
    claims = [CHECKS, f"{CHECKS_TABLE}.csv", f"{CHECKS_TABLE}.md"]
    claims += expand(CLAIMS_FRAGMENT, study=CLAIM_STUDIES)
    # the README's theory and study results: a deleted one is rebuilt by a plain run
    results = [THEORY_ESCAPE, THEORY_VOLTERRA, THEORY_SCALING]
    results += [SGD_GRID_STUDY, INIT_STUDY, INPUTS_STUDY, FINITE_STUDY, COMMITTEE_STUDY]
    return figures + tables + claims + results + ["results/checks.ok"]


# ---- studies beyond the paper: their claims, one block each (figures and tables: pipeline.py) ----

# study: scaling
CLAIM_STUDIES.append("scaling")

# study: sgd_grid
CLAIM_STUDIES.append("sgd_grid")

# study: init
CLAIM_STUDIES.append("init")

# study: inputs
CLAIM_STUDIES.append("inputs")

# study: finite
CLAIM_STUDIES.append("finite")

# study: committee
CLAIM_STUDIES.append("committee")
