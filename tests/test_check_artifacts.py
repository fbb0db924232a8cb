"""check_artifacts checks a simulation's recorded inputs against the options its rule passes."""

import shlex
from pathlib import Path

import check_artifacts
import numpy as np
import simulate_finite
from pipeline import FINITE_NPZ, cli, load_config, recorded_inputs, wildcards_of

from prdynamics.io import provenance, save_result

ROOT = Path(__file__).resolve().parents[1]
FILE = "results/sims/finite/a2_d30_noise0.npz"


def write_finite(root: Path, rel: str, cfg: dict, **changes) -> None:
    """A finite-sample file whose provenance is what simulate_finite.py records for the rule's options."""
    options = cli(recorded_inputs(cfg, "simulate_finite", wildcards_of(FINITE_NPZ, rel)))
    args = simulate_finite.parse_args([*shlex.split(options), "--out", "x.npz"])
    inputs = {k: v for k, v in vars(args).items() if k != "out"} | changes
    save_result(root / rel, {"t": np.arange(3.0)}, provenance(inputs))


def test_a_result_of_the_config_passes_and_one_of_another_value_is_refused(tmp_path):
    cfg = load_config(ROOT / "config/quick.yaml")
    write_finite(tmp_path, FILE, cfg)
    assert check_artifacts.provenance_mismatches(tmp_path, cfg) == []
    write_finite(tmp_path, FILE, cfg, horizon_factor=3.0)
    assert check_artifacts.provenance_mismatches(tmp_path, cfg) == [
        f"{FILE}: made with horizon_factor = 3.0, the config now gives 2"]


def test_leftovers_of_another_grid_pass_and_unknown_files_are_named(tmp_path):
    cfg = load_config(ROOT / "config/quick.yaml")
    write_finite(tmp_path, "results/sims/finite/a1.5_d30_noise0.npz", cfg, horizon_factor=3.0)
    save_result(tmp_path / "results/sims/elsewhere/x.npz", {"t": np.arange(3.0)}, provenance({}))
    assert check_artifacts.provenance_mismatches(tmp_path, cfg) == [
        "results/sims/elsewhere/x.npz: no simulation rule of the pipeline writes this file"]


# ---- figures, tables and checks.json: the parameters their job read (<stem>.provenance.json) ----


def record_figure(root: Path, rule: str, params: dict) -> Path:
    """A figure (or claims file) of the rule with the record scripts/record_params.py writes."""
    import json
    import subprocess
    import sys

    from pipeline import RECORDED

    for stem in RECORDED[rule].stems:
        (root / stem).parent.mkdir(parents=True, exist_ok=True)
        (root / f"{stem}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    res = subprocess.run([sys.executable, str(ROOT / "scripts/record_params.py"), rule, json.dumps(params)],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return root / f"{RECORDED[rule].stems[0]}.provenance.json"


def test_recorded_params_of_the_config_pass_and_a_tampered_record_is_refused(tmp_path):
    import json

    from pipeline import recorded_params

    cfg = load_config(ROOT / "config/quick.yaml")
    sidecar = record_figure(tmp_path, "figure2", recorded_params(cfg, "figure2"))
    assert check_artifacts.stale_records(tmp_path, cfg) == []
    record = json.loads(sidecar.read_text())
    assert record["rule"] == "figure2" and record["params"]["eps"] == cfg["fig2"]["eps"]
    assert {"git_commit", "versions", "inputs"} <= set(record)  # the provenance of prdynamics.io
    record["params"]["eps"] = 0.2
    sidecar.write_text(json.dumps(record))
    assert check_artifacts.stale_records(tmp_path, cfg) == [
        "figures/fig2_population_dynamics.provenance.json: figures/fig2_population_dynamics was made with "
        f"eps = 0.2, the config now gives {cfg['fig2']['eps']!r}"]


def test_changed_config_value_makes_the_record_stale(tmp_path):
    from pipeline import recorded_params

    cfg = load_config(ROOT / "config/quick.yaml")
    record_figure(tmp_path, "claims", recorded_params(cfg, "claims"))
    other = load_config(ROOT / "config/quick.yaml")
    other["claims"]["frozen_mse_rtol"] = 0.5
    [problem] = check_artifacts.stale_records(tmp_path, other)
    assert problem.startswith("results/checks.provenance.json: results/checks was made with "
                              "claims.frozen_mse_rtol = ")


def test_artifact_without_a_record_is_named(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures/fig4_phase3_frozen.png").write_bytes(b"x")
    cfg = load_config(ROOT / "config/quick.yaml")
    [problem] = check_artifacts.stale_records(tmp_path, cfg)
    assert problem.startswith("figures/fig4_phase3_frozen.provenance.json: no readable record")


def test_param_differences_name_nested_keys():
    from pipeline import param_differences

    diff = param_differences({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 1, "c": [1, 3]}})
    assert diff == [("a.c", [1, 2], [1, 3])]
    assert param_differences({"x": 1}, {"x": 1, "y": 2}) == [("y", "<absent>", 2)]
