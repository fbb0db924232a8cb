# Phase retrieval under power-law data: simulations -> npz -> notebooks -> figures and tables.
# Run everything:      snakemake --cores all
# Small-scale run:     snakemake --cores all --configfile config/quick.yaml
#
# `snakemake --lint` asks for a conda environment or container per rule. Every rule runs the
# project's own command-line scripts in the one environment that `pip install -e .` (or
# environment.yml) creates, so a per-rule environment would only duplicate it; that is the one
# lint this workflow leaves, on purpose.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


check_config(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/simulate.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/sgd_grid.smk"
include: "workflow/rules/init.smk"
include: "workflow/rules/inputs.smk"
include: "workflow/rules/finite.smk"
include: "workflow/rules/committee.smk"
include: "workflow/rules/checks.smk"


# A failed job keeps the previous good files: every output is update()-flagged (not removed before
# the job, restored from Snakemake's backup after a failure), and Snakemake records a failed job's
# outputs as current, so they are marked incomplete here; the profiles' rerun-incomplete then reruns
# exactly those jobs (and what reads them).
onerror:
    scheduler = getattr(workflow, "scheduler", None)
    for job in scheduler.failed if scheduler is not None else ():
        workflow.persistence.started(job)


rule all:
    default_target: True
    input:
        all_targets(),
