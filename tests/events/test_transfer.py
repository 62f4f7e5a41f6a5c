import io

import orjson
import pytest

import events
from events.errors import ImportRejected
from events.integrity import verify
from events.transfer import export, import_lines
from tests.conftest import written_by_an_earlier_version


def _export() -> bytes:
    out = io.BytesIO()
    export(out)
    return out.getvalue()


@pytest.fixture
def exported(log, new_event):
    events.append([new_event(), new_event(stream="meeting/2plus2", type_="MeetingHeld", occurred="2017-01-06",
                                          title="Third 2+2 «Paris»", data={"session": 3})], author="seed")
    first = events.read()[0]
    events.append([events.NewEvent("agreement/acsa", "EventRetracted", "2026-11-23",
                                   {"target": first.event_id, "reason": "test"})], author="editor")
    return _export()


def _fresh(backend: str, request) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('tmp_path') / 'restored.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")()
    events.connect(url)
    events.create_schema()


def test_export_writes_every_column_in_position_order(exported):
    lines = [orjson.loads(line) for line in exported.splitlines()]
    assert [line["position"] for line in lines] == [1, 2, 3]
    assert set(lines[0]) == {"author", "data", "event_id", "hash", "occurred", "occurred_hi", "occurred_lo",
                             "position", "prev_hash", "recorded_at", "sources", "stream", "type", "version"}
    assert lines[1]["data"]["title"] == "Third 2+2 «Paris»"
    assert lines[0]["hash"] == events.read()[0].hash


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_export_import_round_trips_byte_for_byte(exported, request, target):
    _fresh(target, request)
    report = import_lines(exported.splitlines())
    assert (report.imported, report.skipped, report.head) == (3, 0, 3)
    assert _export() == exported
    assert verify().ok
    again = import_lines(exported.splitlines())
    assert (again.imported, again.skipped) == (0, 3)


def _tampered(exported: bytes, index: int, **changes) -> list[bytes]:
    lines = exported.splitlines()
    line = orjson.loads(lines[index])
    line.update(changes)
    lines[index] = orjson.dumps(line, option=orjson.OPT_SORT_KEYS)
    return lines


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda e: _tampered(e, 1, author="mallory"), "line 2: hash does not match"),
        (lambda e: _tampered(e, 1, occurred="2018-02-30"), "line 2: occurred"),
        (lambda e: _tampered(e, 2, position=7), "line 3: position 7 does not continue"),
        (lambda e: _tampered(e, 1, version=5), "line 2: version 5"),
        (lambda e: _tampered(e, 0, extra=1), "line 1: fields differ"),
        (lambda e: [*e.splitlines()[:2], b"{not json"], "line 3: not JSON"),
        (lambda e: _tampered(e, 1, recorded_at="2026-02-30T10:00:00.000000Z"), "line 2: recorded_at '2026-02-30T"),
        (lambda e: _tampered(e, 1, recorded_at="2026-11-23T24:00:00.000000Z"), "line 2: recorded_at "),
        (lambda e: _tampered(e, 1, recorded_at="2026-11-23T10:00:00.000000+00:00"), "line 2: recorded_at is not in "
                                                                                    "canonical form"),
        (lambda e: _tampered(e, 1, recorded_at="2026-11-23T10:00:00Z"), "line 2: recorded_at is not in canonical"),
        (lambda e: e.splitlines()[1:], "line 1: position 2 does not continue"),
    ],
)
def test_a_bad_line_refuses_the_whole_file(exported, request, change, fragment):
    lines = change(exported)
    _fresh("sqlite", request)
    with pytest.raises(ImportRejected) as info:
        import_lines(lines)
    assert fragment in str(info.value)
    assert events.head() is None


def test_import_refuses_a_different_history(exported, request, new_event):
    _fresh("sqlite", request)
    events.append([new_event(title="Another log")], author="seed")
    with pytest.raises(ImportRejected, match="line 1: position 1 is already in the log with a different hash"):
        import_lines(exported.splitlines())


@pytest.fixture
def validated_in_workers(monkeypatch):
    """Make every import big enough to validate its lines in worker processes."""
    from events import transfer

    monkeypatch.setattr(transfer, "PARALLEL_FROM", 2)


def test_a_large_import_validated_in_worker_processes_round_trips(sqlite_log, new_event, request,
                                                                     validated_in_workers):
    events.append([new_event(stream=f"agreement/a{i}", title=f"Agreement {i}") for i in range(9)], author="seed")
    exported = _export()
    _fresh("sqlite", request)
    report = import_lines(exported.splitlines(), batch=2)
    assert (report.imported, report.head) == (9, 9)
    assert _export() == exported


def test_a_bad_line_in_a_later_chunk_refuses_the_whole_large_import(sqlite_log, new_event, request,
                                                                       validated_in_workers):
    events.append([new_event(stream=f"agreement/a{i}", title=f"Agreement {i}") for i in range(9)], author="seed")
    lines = _tampered(_export(), 7, occurred="2018-02-30")
    _fresh("sqlite", request)
    with pytest.raises(ImportRejected) as info:
        import_lines(lines, batch=2)
    assert "line 8: occurred" in str(info.value)
    assert events.head() is None


def test_a_large_import_read_from_a_file_counts_blank_lines_as_lines(sqlite_log, new_event, request,
                                                                      validated_in_workers):
    """A file is read as it goes (its lines are sent to the workers); a list is shared with them: same answers."""
    events.append([new_event(stream=f"agreement/a{i}", title=f"Agreement {i}") for i in range(9)], author="seed")
    exported = _export()
    lines = _tampered(exported, 7, occurred="2018-02-30")
    lines[3:3] = [b"", b"  \t"]
    _fresh("sqlite", request)
    for given in (lines, iter(lines)):
        with pytest.raises(ImportRejected, match="line 10: occurred"):
            import_lines(given, batch=2)
    assert events.head() is None
    report = import_lines(iter([b"", *exported.splitlines(), b"   "]), batch=2)
    assert (report.imported, report.head) == (9, 9)
    assert _export() == exported


def test_an_import_stores_data_and_sources_as_text_like_an_append(sqlite_log, new_event, request):
    """SQLite is handed the validated JSON as bytes and stores it as TEXT: the same column values as an append."""
    events.append([new_event(title="Café «crème»"), new_event(stream="agreement/b", title="日本")], author="seed")
    exported = _export()
    query = "SELECT typeof(data), typeof(sources), data, sources FROM event ORDER BY position"
    appended = events.db.database.execute_sql(query).fetchall()
    _fresh("sqlite", request)
    import_lines(exported.splitlines())
    assert events.db.database.execute_sql(query).fetchall() == appended
    assert {row[:2] for row in appended} == {("text", "text")}


def test_a_backup_holding_text_xml_cannot_carry_still_restores(log, new_event, request, monkeypatch):
    """Appends now refuse a form feed, but a log written before that rule must stay restorable."""
    with written_by_an_earlier_version():
        events.append([new_event(data={"summary": "pasted from a PDF\x0cpage 2"})], author="seed")
    with pytest.raises(events.ValidationError, match="U\\+000C"):
        events.append([new_event(data={"summary": "again\x0cpage 3"})], author="seed")
    backup = _export()
    _fresh("sqlite", request)
    assert import_lines(backup.splitlines()).imported == 1
    assert events.read()[0].data["summary"] == "pasted from a PDF\x0cpage 2"
    assert _export() == backup


def test_an_import_line_the_log_cannot_store_is_refused_naming_the_line_and_field(exported, request):
    lines = exported.splitlines()
    first = orjson.loads(lines[0])
    first["occurred"] = "2018-07" + " " * 300
    _fresh("sqlite", request)
    with pytest.raises(ImportRejected, match=r"line 1: .*occurred: is 307 characters long"):
        import_lines([orjson.dumps(first), *lines[1:]])
