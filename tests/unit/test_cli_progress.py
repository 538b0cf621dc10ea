"""The CLI's progress: a bar on a terminal, nothing when stderr is piped."""

import io

from rich.console import Console

from nurture.cli.progress import counted, terminal_progress


def test_piped_output_gets_no_progress(capsys):
    with terminal_progress("importing leads") as report:
        for done in range(4):
            report(done, 3)
    assert capsys.readouterr() == ("", "")


def test_a_terminal_sees_what_is_done_of_how_many():
    screen = io.StringIO()
    with terminal_progress("importing leads", Console(file=screen, force_terminal=True, width=100)) as report:
        report(1, 3)
        report(3, 3)
    drawn = screen.getvalue()
    assert "importing leads" in drawn and "3/3" in drawn


def test_a_total_that_grows_past_the_estimate_is_shown_as_done_of_done():
    screen = io.StringIO()
    with terminal_progress("rescoring leads", Console(file=screen, force_terminal=True, width=100)) as report:
        report(5, 4)  # more leads than counted when it started
    assert "5/5" in screen.getvalue()


def test_what_is_shown_is_text_not_markup():
    screen = io.StringIO()
    with terminal_progress("scanning for [bold]vip[/bold]", Console(file=screen, force_terminal=True)) as report:
        report(1, 1)
    assert "[bold]vip[/bold]" in screen.getvalue()


def test_a_scan_of_unknown_length_is_shown_as_done_of_unknown():
    seen: list[tuple[int, int]] = []
    assert list(counted(iter("abc"), lambda done, total: seen.append((done, total)))) == ["a", "b", "c"]
    assert seen == [(1, 0), (2, 0), (3, 0)]
    screen = io.StringIO()
    with terminal_progress("exporting leads", Console(file=screen, force_terminal=True, width=100)) as report:
        for _ in counted(range(3), report):
            pass
    assert "3/?" in screen.getvalue()
