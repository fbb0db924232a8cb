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
