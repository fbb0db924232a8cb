# Phase retrieval under power-law data: simulations -> npz -> notebooks -> figures and tables.
# Run everything:      snakemake --cores all
# Small-scale run:     snakemake --cores all --configfile config/quick.yaml
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


check_config(config, "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")  # fills in the schema's defaults


include: "workflow/rules/simulate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/checks.smk"


rule all:
    input:
        all_targets(),
    default_target: True
