"""Code conventions: snakefmt-clean rules, ruff-clean Python, and only the explained lint left."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workflow/rules").glob("*.smk"))
SNAKE_FILES = ["Snakefile", *RULE_FILES]


def run(*cmd):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_rules_are_snakefmt_clean():
    res = run(sys.executable, "-m", "snakefmt", "--check", *SNAKE_FILES)
    assert res.returncode == 0, res.stdout + res.stderr


def test_python_is_ruff_clean():
    res = run(sys.executable, "-m", "ruff", "check", "src", "scripts", "tests", "workflow")
    assert res.returncode == 0, res.stdout + res.stderr


def test_only_the_explained_lint_remains():
    res = run(sys.executable, "-m", "snakemake", "--lint", "--nolock", "--configfile", "config/quick.yaml")
    lints = set(re.findall(r"^\s+\* (.+?):?$", res.stdout + res.stderr, flags=re.M))
    assert lints <= {"Specify a conda environment or container for each rule."}, lints
    assert "conda environment or container per rule" in (ROOT / "Snakefile").read_text()
