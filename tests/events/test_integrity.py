import pytest

import events
from events.integrity import verify


def _append_three(new_event):
    return events.append([new_event(), new_event(title="Second"), new_event(title="Third")], author="seed")


def test_an_intact_log_verifies(log, new_event):
    recorded = _append_three(new_event)
    result = verify()
    assert result.ok and result.checked == 3
    assert result.head_hash == recorded[-1].hash


def test_an_empty_log_verifies(log):
    assert verify().ok


@pytest.mark.parametrize(
    ("statement", "position", "fragment"),
    [
        ("UPDATE event SET data = replace(data, 'Second', 'Altered') WHERE position = 2", 2, "was altered"),
        ("UPDATE event SET author = 'mallory' WHERE position = 3", 3, "was altered"),
        ("UPDATE event SET occurred = '2019' WHERE position = 1", 1, "was altered"),
        ("DELETE FROM event WHERE position = 2", 2, "position 2 is missing"),
        ("UPDATE event SET prev_hash = hash WHERE position = 2", 2, "prev_hash"),
    ],
)
def test_verify_names_the_first_broken_position(log, new_event, tamper, statement, position, fragment):
    _append_three(new_event)
    tamper(statement)
    result = verify()
    assert not result.ok
    assert result.broken_at == position
    assert fragment in result.reason
    assert f"BROKEN at position {position}" in str(result)
