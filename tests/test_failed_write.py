"""A failed write (disk full, I/O error) loses nothing: the previous good file stays, no temporary is
left, and the error names the file and the cause; a CLI ends with that one line, not a traceback."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from cli_args import FLOW

import prdynamics.io as pio
from prdynamics.io import WriteError, load_result, provenance, save_result

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import prfigures  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FAIL_WRITE = ROOT / "tests/data/fail_write"  # sitecustomize: PRDYNAMICS_FAIL_WRITE=<name> fails np.savez


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_npz_write_failing_midway_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "run.npz"
    save_result(out, {"x": np.arange(3.0)}, provenance({"n": 1}))
    before = out.read_bytes()

    def savez_then_fail(fh, **payload):
        fh.write(b"PK\x03\x04 half a zip")  # some bytes reach the temporary, then the disk is full
        full_disk()

    monkeypatch.setattr(pio.np, "savez", savez_then_fail)
    with pytest.raises(WriteError) as exc:
        save_result(out, {"x": np.arange(5.0)}, provenance({"n": 2}))
    assert str(exc.value).startswith(f"{out}: not written (No space left on device)")
    assert exc.value.errno == errno.ENOSPC and isinstance(exc.value, OSError)
    assert out.read_bytes() == before and load_result(out, required=("x",))["x"].size == 3
    assert leftovers(tmp_path) == []


def test_table_write_failing_keeps_every_old_file(tmp_path, monkeypatch):
    stem = tmp_path / "table"
    prfigures.write_table(pd.DataFrame({"a": [1.0, 2.0]}), stem, inputs={"k": 1})
    files = [stem.with_suffix(s) for s in (".csv", ".md", ".provenance.json")]
    before = [f.read_bytes() for f in files]

    def eio(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(pio.os, "fsync", eio)  # the data is written, the flush to disk fails
    with pytest.raises(WriteError, match=r"table\.provenance\.json: not written \(Input/output error\)"):
        prfigures.write_table(pd.DataFrame({"a": [3.0, 4.0, 5.0]}), stem, inputs={"k": 2})
    assert [f.read_bytes() for f in files] == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing", ["pdf", "png"])
def test_figure_write_failing_keeps_the_old_figure(tmp_path, monkeypatch, failing):
    stem = tmp_path / "fig"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    prfigures.save_figure(fig, stem)
    before = {ext: stem.with_suffix(f".{ext}").read_bytes() for ext in ("pdf", "png")}
    savefig = fig.savefig

    def savefig_then_fail(fh, format, **kw):
        if format == failing:
            fh.write(b"%PDF-1.4 half" if format == "pdf" else b"\x89PNG half")
            full_disk()
        savefig(fh, format=format, **kw)

    monkeypatch.setattr(fig, "savefig", savefig_then_fail)
    ax.plot([0, 1], [1, 0])
    with pytest.raises(WriteError, match=rf"fig\.{failing}: not written \(No space left on device\)"):
        prfigures.save_figure(fig, stem)
    plt.close(fig)
    assert stem.with_suffix(f".{failing}").read_bytes() == before[failing]
    assert leftovers(tmp_path) == []


def test_other_errors_pass_through_unchanged(tmp_path):
    """Only OSErrors become WriteError; a bug in the writer keeps its own type."""
    with pytest.raises(ZeroDivisionError), pio.atomic_file(tmp_path / "x.bin") as fh:
        fh.write(b"x")
        1 / 0  # noqa: B018
    assert list(tmp_path.iterdir()) == []


def test_cli_failed_write_is_one_line_and_keeps_the_old_file(tmp_path):
    out = tmp_path / "seed0.npz"
    cmd = [sys.executable, "scripts/simulate_flow.py", "--a", "2", "--d", "10", "--seed", "0", *FLOW,
           "--out", str(out)]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300).returncode == 0
    before = out.read_bytes()
    env = os.environ | {"PRDYNAMICS_FAIL_WRITE": "seed0.npz",
                        "PYTHONPATH": os.pathsep.join([str(FAIL_WRITE), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        f"error: {out}: not written (No space left on device); the previous file, if any, is unchanged")
    assert out.read_bytes() == before and leftovers(tmp_path) == []
