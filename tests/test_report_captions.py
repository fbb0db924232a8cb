"""Every caption of the HTML report builds with docutils without an error or warning, and every
table caption shows its table in the page (its Markdown rendering as a literal block, so no cell is
read as reST), not only as a download."""

import io
import re
from pathlib import Path

import jinja2
import pipeline
import pytest
from docutils.core import publish_parts

ROOT = Path(__file__).resolve().parents[1]
CAPTIONS = sorted(p.name for p in (ROOT / "workflow/report").glob("*.rst"))


class Snakemake:
    """What a caption's template sees (snakemake.report renders captions with Jinja first)."""

    config = pipeline.load_config()
    output = []


def build(text: str, cwd: Path) -> tuple[str, str]:
    """(HTML body, docutils messages) of a caption, rendered as snakemake --report renders it."""
    text = jinja2.Environment().from_string(text).render(snakemake=Snakemake, categories={}, files={})
    for stem in re.findall(r"\.\. include:: (\S+)", text):  # the table a caption shows: a stand-in
        (cwd / stem).parent.mkdir(parents=True, exist_ok=True)
        (cwd / stem).write_text("| id | statement |\n|---|---|\n| x | |u| above *delta |\n")
    messages = io.StringIO()
    body = publish_parts(text, writer="html", settings_overrides={
        "warning_stream": messages, "report_level": 1, "halt_level": 5, "_disable_config": True,
    })["body"]
    return body, messages.getvalue()


@pytest.mark.parametrize("caption", CAPTIONS)
def test_caption_builds_without_messages(caption, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body, messages = build((ROOT / "workflow/report" / caption).read_text(), tmp_path)
    assert messages == "", messages
    assert "system-message" not in body and "problematic" not in body


@pytest.mark.parametrize("text", ["T1 for |u| above delta.", "*unclosed emphasis",
                                  ".. include:: missing.md\n   :literal:\n"])
def test_bad_caption_is_caught(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    messages = io.StringIO()
    publish_parts(text, writer="html", settings_overrides={
        "warning_stream": messages, "report_level": 1, "halt_level": 5, "_disable_config": True})
    assert messages.getvalue()


def test_every_table_caption_renders_its_table():
    tables = dict(pipeline.TABLES)
    tables["checks_table"] = "results/checks_table"
    assert len(tables) > 1, tables  # the loop below covers every table the pipeline lists
    for name, stem in tables.items():
        text = (ROOT / "workflow/report" / f"{name}.rst").read_text()
        assert f".. include:: {stem}.md\n   :literal:\n" in text, name


def test_landing_text_counts_the_seeds_of_every_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body, _ = build((ROOT / "workflow/report/workflow.rst").read_text(), tmp_path)
    cfg = Snakemake.config
    for name, section in cfg.items():
        if isinstance(section, dict) and "seeds" in section:
            assert f"{name} {len(section['seeds'])}" in body
    assert "sgd_grid 3" in body and "5 seeds" not in body
