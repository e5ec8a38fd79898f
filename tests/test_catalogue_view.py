"""The catalogue readable at any width: a table where the terminal has room for it, one
block per entry where it has not, the entries' notes in both, nothing cut; and a progress
bar on stderr only where stderr is a terminal."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest
from rich.console import Console

from bpcheck.derive.commands.catalogue import check_catalogue
from bpcheck.derive.present.catalogue import CatalogueView, table_width
from bpcheck.derive.present.console import ProgressBar
from bpcheck.equations import Expectation

# a note each, several networks, and the catalogue's longest mistake id among them
IDS = ("nielsen-38", "bishop-5.54", "bishop-5.48")


@pytest.fixture(scope="module")
def rows():
    return [r for id in IDS for r in check_catalogue(id=id)]


def shown(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def words(text: str) -> str:
    return " ".join(text.split())


def test_narrow_view_is_one_block_per_entry_with_its_note_and_whole_mistake_ids(rows):
    text = shown(CatalogueView(rows), 60)
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 60
    assert "expected    now" not in text  # not the table's header
    starts = [i for i, line in enumerate(lines) if line.split()[:1] in ([id] for id in IDS)]
    assert [lines[i].split()[0] for i in starts] == list(IDS)  # one block an entry, in order
    blocks = ["\n".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]
    for block, id in zip(blocks, IDS):
        entry_rows = [r for r in rows if r.entry.id == id]
        e = entry_rows[0].entry
        assert f"{e.source} {e.number}" in block
        assert words(e.latex) in words(block)
        assert "note: " + words(e.note) in words(block)
        for r in entry_rows:
            line = f"{r.expectation.describe()}: expected {r.expectation.verdict}, now {r.verdict}"
            assert line in words(block)
            if r.expectation.mistake:  # whole, on one line, not cut to a few characters
                assert re.search(rf"(^|\s){re.escape(r.mistake)}(\s|,|$)", block, re.M)
                assert f"mistake {r.mistake}" in words(block)
    assert "missing-activation-derivative" in text and "softmax-as-elementwise" in text


def test_wide_view_is_the_table_with_each_entrys_note(rows):
    text = shown(CatalogueView(rows), 200)
    header = next(line for line in text.splitlines() if line.strip())
    assert header.split() == ["id", "source,", "equation", "as", "printed", "network",
                              "expected", "now", "mistake"]
    for id in IDS:
        e = next(r.entry for r in rows if r.entry.id == id)
        assert "note: " + words(e.note) in words(text)  # a row of its own: nothing beside it
        assert len(re.findall(rf"^\s+{re.escape(id)}\s", text, re.M)) == 1  # once, not per network
    assert re.search(r"output=softmax, loss=ce\s+refuted\s+refuted\s+softmax-as-elementwise\s*$",
                     text, re.M)
    assert re.search(r"output=sigmoid, loss=sse\s+refuted\s+refuted\s+"
                     r"missing-activation-derivative", text)


def test_the_table_is_shown_from_the_width_it_needs(rows):
    need = table_width(rows)
    assert 100 <= need <= 200
    assert shown(CatalogueView(rows), need).splitlines()[1].split()[0] == "id"
    assert shown(CatalogueView(rows), need - 1).splitlines()[0].split()[0] == IDS[0]
    for width in (need, need - 1, 40):  # no line is cropped to the console
        assert max(len(x.rstrip()) for x in shown(CatalogueView(rows), width).splitlines()) <= width


def test_a_row_that_differs_from_the_catalogue_says_so_in_both_views(rows):
    real = next(r for r in rows if r.mistake == "softmax-as-elementwise")
    wrong = replace(real, expectation=Expectation(real.expectation.network, "proved"))
    assert not wrong.agrees
    narrow = words(shown(CatalogueView([wrong]), 60))
    assert ("output=softmax, loss=ce: expected proved, now refuted, mistake "
            "softmax-as-elementwise (expected none) DIFFERS") in narrow
    wide = shown(CatalogueView([wrong]), 200)
    assert re.search(r"proved\s+refuted\s+softmax-as-elementwise", wide)
    assert "DIFFERS" in wide and "(expected none)" in wide


def test_the_progress_bar_is_silent_where_stderr_is_not_a_terminal():
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "60"}  # rich alone would draw it
    p = subprocess.run([sys.executable, "-m", "bpcheck", "catalogue", "--id", "nielsen-38"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert "note: The step from (37) drops" in p.stdout  # the narrow view, on a pipe of 60
    assert "mistake softmax-as-elementwise" in p.stdout


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100), out


def test_the_progress_bar_shows_each_entry_on_a_terminal():
    console, out = terminal()
    with ProgressBar(console, "catalogue", delay=0) as bar:
        rows = check_catalogue(id="nielsen-36", progress=bar)
    assert [r.verdict for r in rows] == ["proved"]
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "catalogue" in drawn and "0/1" in drawn and "1/1" in drawn
    assert "nielsen-36" in drawn  # the entry being checked
    assert out.getvalue().endswith("\x1b[2K")  # and gone when done


def test_the_progress_bar_tracks_a_loop_over_files():
    console, out = terminal()
    with ProgressBar(console, "checking", delay=0) as bar:
        files = bar.track(["notes.tex", "lecture.md"])
        assert len(files) == 2 and [f for f in files] == ["notes.tex", "lecture.md"]
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "checking" in drawn and "2/2" in drawn


def test_the_progress_bar_waits_a_second_and_needs_a_terminal():
    console, out = terminal()
    with ProgressBar(console, "catalogue") as bar:  # a quick run: no bar at all
        bar(0, 1, "x")
        bar(1, 1)
    assert out.getvalue() == ""
    out = io.StringIO()
    with ProgressBar(Console(file=out), "catalogue", delay=0) as bar:  # not a terminal
        bar(0, 1, "x")
        bar(1, 1)
    assert out.getvalue() == ""
    with ProgressBar(None, "catalogue", delay=0) as bar:  # no console: the command line's pipe
        bar(0, 1, "x")


def test_a_report_tells_its_bar_each_stage_and_each_notation_in_order():
    from bpcheck.derive.commands.report import build_report
    from bpcheck.derive.io.notation_file import load_notations
    from bpcheck.derive.model.network import make_network
    told = []
    build_report(make_network(), load_notations("bishop,nielsen"),
                 progress=lambda done, total, stage: told.append((done, total, stage)))
    assert [d for d, _, _ in told] == list(range(7)) and {t for _, t, _ in told} == {6}
    assert [s for _, _, s in told][3:6] == ["the notations compared", "in bishop", "in nielsen"]
    console, out = terminal()
    with ProgressBar(console, "report", delay=0) as bar:
        build_report(make_network(), load_notations("eglen"), progress=bar)
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "report" in drawn and "in eglen" in drawn and "5/5" in drawn
