"""docs/benchmarks.md is renewed a section at a time: the sections not measured keep their last numbers."""

from pathlib import Path

import pytest

from bench import run

SHIPPED_PAGE = Path(run.__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def test_a_page_keeps_the_sections_it_was_not_asked_to_measure(tmp_path, monkeypatch):
    page = tmp_path / "benchmarks.md"
    page.write_text(run.page({"calls": "## DynamoDB calls per request\n\nold calls", "load": "## Load\n\nold load"}))
    monkeypatch.setattr(run, "DOC", page)
    monkeypatch.setitem(run.SECTIONS, "load", lambda _: ["## Load", "", "new load"])

    run.main(["load"])

    sections = run.sections_of(page.read_text())
    assert sections["calls"] == "## DynamoDB calls per request\n\nold calls"
    assert sections["load"].startswith("## Load\n\n_Measured by `python -m bench.run load` on ")
    assert sections["load"].endswith("\nnew load")
    assert "_Not measured yet: `python -m bench.run cost`._" in page.read_text()


def test_a_section_that_fails_keeps_the_sections_measured_before_it(tmp_path, monkeypatch):
    page = tmp_path / "benchmarks.md"
    monkeypatch.setattr(run, "DOC", page)
    monkeypatch.setitem(run.SECTIONS, "calls", lambda _: ["## Calls", "", "new calls"])
    monkeypatch.setitem(run.SECTIONS, "load", lambda _: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        run.main(["calls", "load"])

    assert run.sections_of(page.read_text())["calls"].endswith("\nnew calls")


def test_an_unknown_section_is_refused_before_anything_is_measured(tmp_path, monkeypatch, capsys):
    page = tmp_path / "benchmarks.md"
    monkeypatch.setattr(run, "DOC", page)

    with pytest.raises(SystemExit) as refused:
        run.main(["cost", "speed"])

    assert refused.value.code == 2
    assert "no section speed; the sections are cost, calls" in capsys.readouterr().err
    assert not page.exists()


def test_the_shipped_page_holds_every_section_in_order():
    assert list(run.sections_of(SHIPPED_PAGE.read_text(encoding="utf-8"))) == list(run.SECTIONS)
