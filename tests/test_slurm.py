"""The quick DAG on a real single-node SLURM through the executor plugin, bit-identical to a local run.

Opt-in: it installs Debian packages and starts slurmctld, slurmd and munged as root, and takes
about 9 minutes on 2 cores (most of it the SLURM run: ~110 jobs, each a fresh Snakemake). Run it with

    PRDYNAMICS_TEST_SLURM=1 python -m pytest tests/test_slurm.py
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts/slurm/run_local_slurm.sh"
TIMEOUT_S = 2400

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(
        os.environ.get("PRDYNAMICS_TEST_SLURM") != "1",
        reason="starts a local SLURM as root and takes ~9 min: set PRDYNAMICS_TEST_SLURM=1 to run it",
    ),
]


def test_slurm_run_matches_local_run_bit_for_bit():
    if os.geteuid() != 0:
        pytest.skip("scripts/slurm/run_local_slurm.sh must run as root")
    env = {**os.environ, "PYTHON": os.environ.get("PYTHON", sys.executable)}
    # its own session: on a timeout the whole group is stopped, and the script's trap
    # cancels the SLURM jobs and stops the daemons
    proc = subprocess.Popen(["bash", str(SCRIPT)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        pytest.fail(f"the SLURM run took more than {TIMEOUT_S} s:\n{out[-4000:]}")
    print(out[-3000:])  # shown with `pytest -rP`: timings, job counts, what was compared
    assert proc.returncode == 0, out[-6000:]
    assert "SLURM and local runs agree bit for bit" in out
    assert "identical:" in out
