"""A bad configuration stops `snakemake -n` before any job, naming the key."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BAD_CONFIGS = {
    "negative a": ("fig2:\n  a: -1\n", "fig2.a"),
    "d below 2": ("fig2:\n  d: 1\n", "fig2.d"),
    "negative time": ("time_grid:\n  t_min: -1.0\n", "time_grid.t_min"),
    "negative GD time": ("fig2:\n  gd_t_max: -5\n", "fig2.gd_t_max"),
    "unknown key": ("fig2:\n  colour: red\n", "colour"),
    "unknown section": ("extras: 1\n", "extras"),
    "wrong type": ("fig2:\n  d: many\n", "fig2.d"),
    "wrong list item type": ("stopping:\n  eps: [0.1, big]\n", "stopping.eps.1"),
}


def dry_run(*args):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--nolock", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_fails_fast_naming_the_key(case, tmp_path):
    text, key = BAD_CONFIGS[case]
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    res = dry_run("--configfile", str(cfg))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "invalid configuration" in out
    assert key in out
    assert "Job stats" not in out  # no job was scheduled


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/quick.yaml"])
def test_shipped_configs_are_valid(configfile):
    res = dry_run("--configfile", configfile)
    assert res.returncode == 0, res.stderr
