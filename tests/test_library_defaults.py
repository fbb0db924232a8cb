"""Config is the only home of a value: no library default restates a config value.

A library parameter named like a config key (rtol, s0, base_seed, blowup, ...) has no default,
so the pipeline's value always comes from config and a test states its own.
"""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
import yaml

import prdynamics

ROOT = Path(__file__).resolve().parents[1]


def config_keys(node: dict) -> set[str]:
    keys = set()
    for key, value in node.items():
        keys.add(key)
        if isinstance(value, dict):
            keys |= config_keys(value)
    return keys


def library_callables():
    """(qualified name, callable) of every function and class defined in prdynamics."""
    for info in pkgutil.walk_packages(prdynamics.__path__, "prdynamics."):
        if info.name == "prdynamics.sgd_cuda":
            continue  # needs numba's CUDA target at import; its signatures mirror sgd.run_sgd
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{module.__name__}.{obj.__qualname__}", obj
            if inspect.isclass(obj):
                for member in vars(obj).values():
                    if inspect.isfunction(member):
                        yield f"{module.__name__}.{member.__qualname__}", member


def restated_defaults(keys: set[str]) -> list[str]:
    found = []
    for name, obj in library_callables():
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            continue
        found += [f"{name}({p.name}={p.default!r})" for p in params
                  if p.name in keys and p.default is not inspect.Parameter.empty and p.default is not None]
    return found


def test_no_library_default_restates_a_config_value():
    keys = config_keys(yaml.safe_load((ROOT / "config/config.yaml").read_text()))
    assert {"rtol", "s0", "base_seed", "sgd_blowup"} <= keys
    keys |= {"blowup"}  # the library's name of sgd_blowup
    assert restated_defaults(keys) == []


def test_an_injected_default_is_found(monkeypatch):
    from prdynamics import phases

    def stopping_times(t, stats, delta, eps_list, s0=0.05):  # the drift this test exists to catch
        return {}

    stopping_times.__module__ = phases.__name__
    stopping_times.__qualname__ = "stopping_times"
    monkeypatch.setattr(phases, "stopping_times", stopping_times)
    assert restated_defaults({"s0"}) == ["prdynamics.phases.stopping_times(s0=0.05)"]


@pytest.mark.parametrize("missing", ["rtol", "atol"])
def test_step_controller_needs_its_tolerances(missing):
    from prdynamics.flow import StepController

    given = {k: v for k, v in {"rtol": 1e-8, "atol": 1e-12}.items() if k != missing}
    with pytest.raises(TypeError):
        StepController(**given)
