"""The pipeline's config loading, shared by the rules (workflow/rules/common.smk) and the tools
that check its results (scripts/check_artifacts.py, tests), so that all of them read one config.

Plain Python with no Snakemake globals: every function takes the merged config as an argument.
"""

from __future__ import annotations

from pathlib import Path

from snakemake.common.configfile import load_configfile
from snakemake.utils import update_config

ROOT = Path(__file__).resolve().parents[1]
#: The Snakefile's `configfile:`; every other config file is merged on top of it.
CONFIG = ROOT / "config/config.yaml"


def load_config(*overrides: str | Path) -> dict:
    """config/config.yaml with each override merged on top, key by key (a list replaces the whole
    list), as `snakemake --configfile <overrides>` merges them."""
    cfg = load_configfile(CONFIG)
    for path in overrides:
        update_config(cfg, load_configfile(path))
    return cfg
