"""The CLI's tables: rich's on a terminal, the plain lines scripts read when piped."""

import io

from rich.console import Console

from nurture.cli.tables import print_table

ROWS = [("spring_2027", "scheduled", "[bold]株式会社[/bold]"), ("summer_2027", "draft", ":warning: 商事")]


def plain(row) -> str:
    return f"{row[0]:<12} {row[1]:<10} {row[2]}"


def test_piped_output_is_the_plain_lines(capsys):
    print_table(("campaign", "status", "company"), ROWS, plain)
    assert capsys.readouterr().out.splitlines() == [
        "spring_2027  scheduled  [bold]株式会社[/bold]", "summer_2027  draft      :warning: 商事"]


def test_a_terminal_gets_a_table_with_its_headers_and_values_as_text():
    screen = io.StringIO()
    print_table(("campaign", "status", "company"), ROWS, plain, Console(file=screen, force_terminal=True, width=100))
    drawn = screen.getvalue()
    assert "campaign" in drawn and "status" in drawn and "spring_2027" in drawn and "summer_2027" in drawn
    assert "[bold]株式会社[/bold]" in drawn and ":warning: 商事" in drawn  # text: no markup, no emoji codes
