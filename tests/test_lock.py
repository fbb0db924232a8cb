"""The pinned reproduction environment: each lock satisfies pyproject's bounds, environment.yml pins
the lock's versions, and provenance says whether a run used the locked set."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

from prdynamics import io

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"3.11": ROOT / "requirements/lock-py3.11.txt", "3.12": ROOT / "requirements/lock-py3.12.txt"}


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def unmet(pins: dict[str, str], python: str) -> list[str]:
    env = default_environment() | {"python_version": python, "python_full_version": f"{python}.0"}
    problems = []
    for req in project_requirements():
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        version = pins.get(io.normalised_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req}: lock has {version}")
    return problems


@pytest.mark.parametrize("python", sorted(LOCKS))
def test_lock_satisfies_the_project_bounds(python):
    text = LOCKS[python].read_text()
    assert f"--python-version {python}" in text  # generated for this Python (header of uv pip compile)
    pins = io.lock_pins(LOCKS[python])
    assert all("--hash=sha256:" in block for block in re.split(r"\n(?=\S)", text) if "==" in block)
    assert unmet(pins, python) == []


def test_bound_check_can_fail():
    pins = io.lock_pins(LOCKS["3.11"]) | {"pandas": "3.0.0", "numpy": "1.20.0"}
    assert sorted(unmet(pins, "3.11")) == ["numpy>=1.26: lock has 1.20.0", "pandas<3,>=2.0: lock has 3.0.0"]


def test_environment_yml_pins_the_lock_versions():
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = dict(d.split("=", 1) for d in deps if isinstance(d, str) and "=" in d)
    assert conda.pop("python") == "3.11"
    pins = io.lock_pins(LOCKS["3.11"])
    assert {name: pins.get(io.normalised_name(name)) for name in conda} == conda
    direct = {io.normalised_name(r.name) for r in project_requirements()}
    assert direct <= {io.normalised_name(n) for n in conda}, direct - {io.normalised_name(n) for n in conda}


def test_provenance_says_whether_the_locked_set_is_installed(tmp_path, monkeypatch):
    from importlib import metadata

    version = metadata.version("numpy")
    lock = tmp_path / f"lock-py{io.sys.version_info.major}.{io.sys.version_info.minor}.txt"
    monkeypatch.setattr(io, "LOCK_DIR", tmp_path)
    assert io.locked_environment() is None  # no lock for this Python
    lock.write_text(f"numpy=={version} \\\n    --hash=sha256:00\n")
    assert io.locked_environment() is True
    lock.write_text("numpy==0.0.1 \\\n    --hash=sha256:00\n")
    assert io.locked_environment() is False
    assert io.provenance({})["locked_environment"] is False
