"""Result files: npz with a required schema, provenance, and atomic writes.

A result is a flat dict of arrays and scalars.  Provenance (the inputs that
made it, package versions, git commit, creation time) is stored as one JSON
string under the key ``provenance`` so that the numbers stay comparable
byte-for-byte between reruns while the metadata changes.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__

#: Keys every trajectory result holds (design.md data contract).
TRAJECTORY_KEYS = ("t", "s", "u", "mse", "loss", "lam", "wstar", "w0", "a", "d", "seed")

#: Keys every committee result holds (scripts/simulate_committee.py, prdynamics.committee).
COMMITTEE_KEYS = ("t", "loss", "error", "error_metric", "M", "R", "lam", "W0", "Wstar", "W_final", "a", "d",
                  "p", "k", "seed", "base_seed", "activation", "method", "diverged")
#: And those of a flow result: the tail origins t0 and T_last and the levels that define them.
COMMITTEE_FLOW_KEYS = (*COMMITTEE_KEYS, "t0", "phase3_loss", "T_last", "learn_level")


class CorruptResultError(ValueError):
    """A result file that cannot be read or does not follow its schema."""


class WriteError(OSError):
    """A file that could not be written (disk full, I/O error, ...): the previous file of that name,
    if any, is unchanged and no temporary is left. The message names the file and the cause."""

    def __init__(self, path: str | os.PathLike, cause: OSError):
        reason = cause.strerror or str(cause) or type(cause).__name__
        message = f"{path}: not written ({reason}); the previous file, if any, is unchanged"
        super().__init__(cause.errno, message)
        self.filename = str(path)

    def __str__(self) -> str:
        return self.strerror


def provenance(inputs: dict, repo_dir: str | os.PathLike | None = None) -> dict:
    """Inputs, versions, git commit (and dirty flag) and creation time."""
    import numba
    import scipy

    commit, dirty = _git_state(repo_dir)
    return {
        "inputs": inputs,
        "package": "prdynamics",
        "package_version": __version__,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "numba": numba.__version__,
        },
        "git_commit": commit,
        "git_dirty": dirty,
        "locked_environment": locked_environment(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


#: The lock files of the reproduction environment, one per Python minor version.
LOCK_DIR = Path(__file__).resolve().parents[2] / "requirements"


def normalised_name(name: str) -> str:
    """A distribution name as PEP 503 compares it (runs of -, _ and . as one -, lower case)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(path: str | os.PathLike) -> dict[str, str]:
    """{normalised name: version} of the exact pins of a lock file (uv pip compile output)."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", line)
        if match:
            pins[normalised_name(match.group(1))] = match.group(2)
    return pins


def locked_environment() -> bool | None:
    """Whether every package of this Python's lock file is installed at its pinned version
    (None when there is no lock for this Python, e.g. an installed package without the repo)."""
    from importlib import metadata

    lock = LOCK_DIR / f"lock-py{sys.version_info.major}.{sys.version_info.minor}.txt"
    if not lock.is_file():
        return None
    for name, version in lock_pins(lock).items():
        try:
            if _installed_version(metadata.distribution(name)) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def _installed_version(dist) -> str | None:
    """metadata.version's answer, read from the Version field of the metadata's header alone (the
    full email parse of all ~110 locked distributions cost ~30 ms of every run's start-up)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if text is None:
        return dist.version
    match = re.search(r"^Version:[ \t]*(\S+)", text.split("\n\n", 1)[0], re.MULTILINE)
    return match.group(1) if match else dist.version


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb"):
    """A file object on a temporary file beside path: on success it replaces path, on error it
    is removed, so readers see the old file or the whole new one. An OSError while writing,
    flushing or renaming (ENOSPC, EIO) is raised as WriteError, naming path and the cause.

    A writer killed before its rename (SIGKILL runs no cleanup) leaves its .<name>.*.tmp
    behind; the next writer of the same path removes it first (one writer per path at a time,
    as every pipeline job owns its outputs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the mode a plain open() would (0666 less the umask)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from exc
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_result(path: str | os.PathLike, arrays: dict, prov: dict) -> None:
    """Write arrays and provenance to path atomically (temporary file, then rename)."""
    if "provenance" in arrays:
        raise ValueError("'provenance' is a reserved key")
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload["provenance"] = np.asarray(json.dumps(prov, sort_keys=True, default=_json_default))
    with atomic_file(path) as fh:
        np.savez(fh, **payload)


def load_result(path: str | os.PathLike, required: tuple[str, ...] = TRAJECTORY_KEYS) -> dict:
    """Read a result into a dict (arrays, Python scalars, and 'provenance' as a dict).

    Raises CorruptResultError, naming the file, if it is missing, truncated,
    not an npz, or lacks a required key.
    """
    path = Path(path)
    if not path.exists():
        raise CorruptResultError(f"{path}: result file does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise CorruptResultError(f"{path}: corrupt or truncated npz ({exc})") from exc
    missing = [k for k in (*required, "provenance") if k not in out]
    if missing:
        raise CorruptResultError(f"{path}: missing keys {missing}")
    try:
        out["provenance"] = json.loads(str(out["provenance"]))
    except json.JSONDecodeError as exc:
        raise CorruptResultError(f"{path}: unreadable provenance ({exc})") from exc
    for k, v in out.items():
        if isinstance(v, np.ndarray) and v.ndim == 0:
            out[k] = v.item()
    return out


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    with atomic_file(path, "w") as fh:
        fh.write(text)


def save_claims(path: str | os.PathLike, claims) -> None:
    """Write a list of ``prdynamics.claims.Claim`` as a JSON list, atomically."""
    write_text_atomic(path, json.dumps([c.as_dict() for c in claims], indent=2) + "\n")


def load_claims(path: str | os.PathLike) -> list:
    """Read a claims file written by ``save_claims``; refuse one that is malformed, by name."""
    from .claims import Claim

    try:
        items = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CorruptResultError(f"{path}: unreadable claims file ({exc})") from exc
    fields = set(Claim.__dataclass_fields__)
    if not isinstance(items, list) or not all(isinstance(c, dict) and set(c) == fields for c in items):
        raise CorruptResultError(f"{path}: not a list of claims with fields {sorted(fields)}")
    return [Claim(**c) for c in items]


def _git_state(repo_dir) -> tuple[str, bool | None]:
    cwd = str(repo_dir) if repo_dir is not None else None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, check=True,
        ).stdout
        return commit, bool(status.strip())
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")
