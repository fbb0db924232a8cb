"""A bad configuration stops `snakemake -n` before any job, naming the key."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
    "inputs: one Gaussian reference missing": ("inputs:\n  laws: [rademacher, uniform]\n", "inputs.laws"),
    "inputs: sparse p = 0": ("inputs:\n  sparse_p: 0\n", "inputs.sparse_p"),
    "inputs: Student t without a fourth moment": ("inputs:\n  student_t_nu: 4\n", "inputs.student_t_nu"),
    "inputs: negative SGD step": ("inputs:\n  sgd:\n    eta: [-1.0e-3]\n", "inputs.sgd.eta.0"),
    "sgd_grid: negative step": ("sgd_grid:\n  eta: [0.01, -0.02]\n", "sgd_grid.eta.1"),
    "sgd_grid: batch 0": ("sgd_grid:\n  batch: [0]\n", "sgd_grid.batch.0"),
    "sgd_grid: edge factor below 1": ("sgd_grid:\n  claims: {edge_factor: 0.5}\n",
                                      "sgd_grid.claims.edge_factor"),
    "init: x_hi above 1": ("init:\n  x_hi: 2\n", "init.x_hi"),
    "init: one d only": ("init:\n  d: [300]\n", "init.d"),
    "init: a below 1": ("init:\n  a: [0.5]\n", "init.a.0"),
    "init: negative p_min": ("init:\n  claims: {p_min: -1}\n", "init.claims.p_min"),
    "init: phase3_eps not a stopping eps": ("init:\n  phase3_eps: 0.02\n", "init.phase3_eps"),
    "finite: no noiseless reference": ("finite:\n  sigma2: [0.5]\n", "finite.sigma2"),
    "finite: floor factor 1": ("finite:\n  claims:\n    floor_factor: 1.0\n", "finite.claims.floor_factor"),
    "scaling: a at most 1": ("scaling:\n  a: [1.0]\n", "scaling.a.0"),
    "scaling: loss window beyond d": ("scaling:\n  loss_x_hi_frac: 2\n", "scaling.loss_x_hi_frac"),
    "fig1: second row on the first row's files": ("fig1:\n  large_d: {d: 1000, eta: 1.0e-3}\n",
                                                  "fig1.large_d"),
    "fig5: second row's d below 2": ("fig5:\n  large_d: {d: 1}\n", "fig5.large_d.d"),
    "committee: larger d not larger": ("committee:\n  large_d: {d: 1000}\n", "committee.large_d.d"),
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


def test_quick_config_holds_only_what_differs():
    """config/config.yaml holds every value; quick.yaml, merged on top of it, only the ones it changes
    (and its own known failures: that list is per scale)."""
    full = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    quick = yaml.safe_load((ROOT / "config/quick.yaml").read_text())

    def leaves(node, path=()):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from leaves(value, (*path, key))
            else:
                yield (*path, key), value

    full_values = dict(leaves(full))
    extra = [".".join(p) for p, _ in leaves(quick) if p not in full_values and p[0] != "known_failures"]
    restated = [".".join(p) for p, v in leaves(quick) if p in full_values and full_values[p] == v]
    assert not extra, f"quick.yaml keys that config/config.yaml lacks: {extra}"
    assert not restated, f"quick.yaml restates config/config.yaml: {restated}"


def test_second_rows_take_their_own_values_and_the_sections_seeds():
    """The large_d row of Figs 1 and 5: its own files (its d and eta), its jobs its own t_max with the
    section's seeds, batch and label noise; Fig. 1's row has its flows."""
    import pipeline

    cfg = pipeline.load_config()
    for section in pipeline.SGD_SECTIONS:
        c, row = cfg[section], cfg[section][pipeline.LARGE_D]
        files = pipeline.sgd_files(cfg, section, row=pipeline.LARGE_D)
        assert len(files) == len(row["a"]) and set(files) <= set(pipeline.all_sgd_files(cfg))
        assert not set(files) & set(pipeline.sgd_files(cfg, section))
        for f in files:
            opts = pipeline.simulate_sgd(cfg, pipeline.wildcards_of(pipeline.SGD_NPZ, f))
            assert (int(opts["d"]), float(opts["eta"]), opts["t_max"]) == (row["d"], row["eta"], row["t_max"])
            assert opts["seed"] == c["seeds"] and int(opts["batch"]) == c["batch"]
            assert float(opts["sigma2"]) == c.get("sigma2", 0.0)
    flows = pipeline.flow_files(cfg, "fig1", pipeline.LARGE_D)
    assert flows and set(flows) <= set(pipeline.all_flow_files(cfg))
    assert not set(flows) & set(pipeline.population_files(cfg))  # the tables and claims keep d = fig1.d


def test_missing_key_is_named(tmp_path):
    """The schema has no defaults: a config without a key stops the run, naming it."""
    text = (ROOT / "config/config.yaml").read_text()
    cfg = tmp_path / "no_s0.yaml"
    cfg.write_text("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("s0:")))
    res = dry_run("--configfile", str(cfg), "--replace-workflow-config")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "config key 'stopping': 's0' is a required property" in out


def criteria_without_basis(text: str) -> list[str]:
    """Keys inside a `claims:` block of a YAML text whose line carries no comment (the criterion's basis)."""
    missing, block_indent, path = [], None, []
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        key = stripped.split(":", 1)[0]
        while path and path[-1][0] >= indent:
            path.pop()
        if block_indent is not None and indent <= block_indent:
            block_indent = None
        if block_indent is not None and "#" not in line:
            missing.append(".".join([p[1] for p in path] + [key]))
        if key == "claims" and block_indent is None:
            block_indent = indent
        path.append((indent, key))
    return missing


def test_every_criterion_states_its_basis():
    """Every key of a claims section in config.yaml has a comment saying where the value comes from."""
    assert criteria_without_basis((ROOT / "config/config.yaml").read_text()) == []
    injected = "claims:\n  good: 0.1   # derived: ...\n  bad: 0.2\nother:\n  x: 1\n"
    assert criteria_without_basis(injected) == ["claims.bad"]


def test_quick_config_uses_the_same_criteria():
    """The quick config changes no criterion: the checks are the same at both scales."""
    quick = yaml.safe_load((ROOT / "config/quick.yaml").read_text())

    def claims_sections(node, where=""):
        for key, value in node.items():
            if key == "claims":
                yield where + key
            elif isinstance(value, dict):
                yield from claims_sections(value, f"{where}{key}.")

    assert list(claims_sections(quick)) == []
