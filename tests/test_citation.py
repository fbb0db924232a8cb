"""CITATION.cff is valid Citation File Format 1.2.0 and cites the paper as its preferred citation."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests/data/cff-1.2.0-schema.json").read_text())


class _NoDates(yaml.SafeLoader):
    """YAML as CFF tools read it for validation: dates stay strings (the schema's format: date)."""


_NoDates.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def cff_errors(doc) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def citation():
    return yaml.load((ROOT / "CITATION.cff").read_text(), Loader=_NoDates)


def test_vendored_schema_is_cff_1_2_0():
    assert SCHEMA["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_citation_validates(citation):
    assert cff_errors(citation) == []
    assert citation["cff-version"] == "1.2.0"


def test_preferred_citation_is_the_paper(citation):
    paper = citation["preferred-citation"]
    assert paper["title"] == ("Fast Escape, Slow Convergence: Learning Dynamics of Phase Retrieval under "
                              "Power-Law Data")
    assert [a["family-names"] for a in paper["authors"]] == ["Braun", "Loureiro", "Ha", "Imaizumi"]
    assert paper["year"] == 2026 and "ICLR 2026" in paper["collection-title"]
    assert any("2511.18661" in i["value"] for i in paper["identifiers"])


def test_software_version_is_the_package_version(citation):
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert citation["version"] == project["version"]


@pytest.mark.parametrize("change", [
    lambda d: d.pop("message"),
    lambda d: d.__setitem__("cff-version", "1.2"),
    lambda d: d["preferred-citation"].pop("type"),
    lambda d: d["preferred-citation"].__setitem__("type", "paper"),
    lambda d: d.__setitem__("colour", "red"),
    lambda d: d["preferred-citation"]["identifiers"][1].__setitem__("value", "not a url"),
])
def test_validation_can_fail(citation, change):
    import copy

    doc = copy.deepcopy(citation)
    change(doc)
    assert cff_errors(doc)
