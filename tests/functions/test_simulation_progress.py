"""`nurture simulate` tells its progress in virtual days."""

from datetime import date

from nurture.local.simulation import simulate
from tests.conftest import CONFIG_DIR


def test_the_simulation_reports_each_virtual_day_up_to_the_last():
    seen: list[tuple[int, int]] = []
    report = simulate(CONFIG_DIR, leads=2, days=2, seed=1, start=date(2027, 4, 26),
                      progress=lambda done, total: seen.append((done, total)))
    assert report.leads == 2
    assert {total for _, total in seen} == {2}
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)  # forward only
    assert {done for done, _ in seen} == {0, 1, 2} and seen[-1] == (2, 2)  # each day while it runs, then done
