from datetime import UTC, date, datetime, timedelta

import pytest
from peewee import DatabaseError

import events
from events import ConcurrencyConflict, IdempotencyConflict, ValidationError, store
from events.canonical import GENESIS_HASH

ID = "6b1b7c2e-1111-4111-8111-111111111111"


def count() -> int:
    return events.db.database.execute_sql("SELECT COUNT(*) FROM event").fetchone()[0]


def test_append_assigns_gap_free_positions_versions_and_a_chain(log, new_event):
    first = events.append([new_event(), new_event(stream="agreement/defence-equipment-transfer")], author="seed")
    second = events.append([new_event(title="ACSA signed, again")], author="editor")
    recorded = first + second
    assert [e.position for e in recorded] == [1, 2, 3]
    assert [e.version for e in recorded] == [1, 1, 2]
    assert recorded[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in recorded[1:]] == [e.hash for e in recorded[:-1]]
    assert recorded[2].author == "editor"
    assert recorded[0].recorded_at.tzinfo is not None
    assert events.read() == recorded


def test_recorded_at_never_goes_backwards(log, new_event, monkeypatch):
    first = events.append([new_event()], author="seed")[0]
    monkeypatch.setattr(store, "utc_now", lambda: datetime(2000, 1, 1, tzinfo=UTC))
    second = events.append([new_event()], author="seed")[0]
    assert second.recorded_at >= first.recorded_at


def test_same_event_id_and_content_returns_the_original(log, new_event):
    original = events.append([new_event(event_id=ID)], author="seed")[0]
    again = events.append([new_event(event_id=ID)], author="someone else")[0]
    assert again == original
    assert count() == 1


def test_same_event_id_with_other_content_is_refused(log, new_event):
    events.append([new_event(event_id=ID)], author="seed")
    with pytest.raises(IdempotencyConflict, match="already recorded at position 1"):
        events.append([new_event(event_id=ID, title="Something else")], author="seed")
    assert count() == 1


def test_expected_version_mismatch_names_the_current_version(log, new_event):
    events.append([new_event(expected_version=0)], author="seed")
    with pytest.raises(ConcurrencyConflict) as info:
        events.append([new_event(expected_version=0)], author="seed")
    assert info.value.current == 1
    assert "is at version 1" in str(info.value)
    events.append([new_event(expected_version=1)], author="seed")
    assert events.stream_version("agreement/acsa") == 2


def test_a_batch_is_all_or_nothing(log, new_event):
    events.append([new_event()], author="seed")
    with pytest.raises(ValidationError) as info:
        events.append([new_event(stream="agreement/x"), new_event(occurred="2018-02-30")], author="seed")
    assert info.value.index == 1
    with pytest.raises(ConcurrencyConflict):
        events.append([new_event(stream="agreement/y"), new_event(expected_version=0)], author="seed")
    with pytest.raises(ValidationError, match="appears twice"):
        events.append([new_event(event_id=ID), new_event(event_id=ID)], author="seed")
    assert count() == 1
    assert events.streams() == [("agreement/acsa", 1)]


def test_author_is_required(log, new_event):
    with pytest.raises(ValidationError, match="author"):
        events.append([new_event()], author=" ")


def test_database_refuses_update_and_delete(log, new_event):
    events.append([new_event()], author="seed")
    for statement in ("UPDATE event SET author = 'mallory'", "DELETE FROM event"):
        with pytest.raises(DatabaseError, match="append-only"), events.db.database.atomic():
            events.db.database.execute_sql(statement)
    assert events.read()[0].author == "seed"


def test_postgres_refuses_truncate(postgres_url, new_event):
    events.connect(postgres_url)
    events.create_schema()
    events.append([new_event()], author="seed")
    with pytest.raises(DatabaseError, match="append-only"), events.db.database.atomic():
        events.db.database.execute_sql("TRUNCATE event")
    assert count() == 1


def test_create_schema_is_idempotent(log, new_event):
    events.append([new_event()], author="seed")
    events.create_schema()
    assert count() == 1


def _timeline(new_event):
    return events.append([
        new_event(stream="agreement/defence-equipment-transfer", type_="AgreementEnteredIntoForce",
                  occurred="2016-12-01", title="Transfer agreement in force"),
        new_event(stream="meeting/2plus2", type_="MeetingHeld", occurred="2017-01-06", title="Third 2+2"),
        new_event(occurred="2018-07"),
        new_event(stream="agreement/roadmap-2023-2027", type_="AgreementAdopted", occurred="2023/2027",
                  title="Roadmap"),
        new_event(stream="institution/djibouti-bases", type_="InstitutionEstablished", occurred="2011/..",
                  title="Neighbouring bases"),
    ], author="seed")


def test_reads_by_position_keyset(log, new_event):
    recorded = _timeline(new_event)
    assert [e.position for e in events.read(after=2, limit=2)] == [3, 4]
    assert [e.position for e in events.read(limit=2, descending=True)] == [5, 4]
    assert [e.position for e in events.read(before=3)] == [1, 2]
    assert list(events.read_all(batch=2)) == recorded


def test_reads_by_stream_and_type(log, new_event):
    _timeline(new_event)
    assert [e.title for e in events.read_stream("meeting/2plus2")] == ["Third 2+2"]
    assert [e.position for e in events.read(types=["AgreementSigned", "MeetingHeld"])] == [2, 3]
    assert events.streams("agreement") == [("agreement/acsa", 1), ("agreement/defence-equipment-transfer", 1),
                                           ("agreement/roadmap-2023-2027", 1)]


def test_reads_pages_in_position_order(log, new_event):
    recorded = _timeline(new_event)
    assert [[e.position for e in page] for page in store.pages(batch=2)] == [[1, 2], [3, 4], [5]]
    assert [e.position for page in store.pages(1, batch=2, before=5) for e in page] == [2, 3, 4]
    assert [e for page in store.pages(batch=10) for e in page] == recorded


def test_reads_one_kind_of_subject_whole_streams_at_a_time(log, new_event):
    """Pages end between streams, even when a stream is longer than a page; other kinds are never read."""
    for n in range(4):
        events.append([new_event(stream="agreement/b", title=f"b{n}"),
                       new_event(stream="context/other", title="other kind"),
                       new_event(stream="agreement/a", title=f"a{n}")], author="t")
    events.append([new_event(stream="agreement/c", title="c0")], author="t")
    pages = list(store.subjects("agreement", store.head_position(), batch=3))
    assert [[e.title for e in page] for page in pages] == [
        ["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"], ["c0"]]
    assert [e.title for page in store.subjects("agreement", 6) for e in page] == ["a0", "a1", "b0", "b1"]
    assert list(store.subjects("exercise", store.head_position())) == []


def test_reads_by_valid_time_window(log, new_event):
    _timeline(new_event)
    in_2017 = events.read(valid_from=date(2017, 1, 1), valid_until=date(2017, 12, 31))
    # The 2+2 of January 2017, and the bases open since 2011.
    assert [e.title for e in in_2017] == ["Third 2+2", "Neighbouring bases"]
    in_2025 = events.read(valid_from=date(2025, 6, 1), valid_until=date(2025, 6, 30))
    assert [e.title for e in in_2025] == ["Roadmap", "Neighbouring bases"]


def test_reads_as_known_at_a_recorded_time(log, new_event, monkeypatch):
    clock = [datetime(2020, 1, 1, tzinfo=UTC)]
    monkeypatch.setattr(store, "utc_now", lambda: clock[0])
    events.append([new_event(type_="AgreementNegotiationsOpened", occurred="2017-01-06", title="ACSA talks")],
                  author="seed")
    clock[0] += timedelta(days=30)
    events.append([new_event()], author="seed")
    moment = datetime(2020, 1, 15, tzinfo=UTC)
    assert [e.title for e in events.read(known_at=moment)] == ["ACSA talks"]
    assert [e.title for e in events.read_stream("agreement/acsa", known_at=moment)] == ["ACSA talks"]
    assert [e.title for e in events.read(types=["AgreementSigned"], known_at=moment)] == []
    assert events.head(known_at=moment).position == 1
    assert events.head(known_at=datetime(2019, 1, 1, tzinfo=UTC)) is None


def test_the_head_as_known_at_any_moment_is_the_last_event_recorded_by_then(log, new_event, monkeypatch):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    clock = [start]
    monkeypatch.setattr(store, "utc_now", lambda: clock[0])
    for day in (0, 0, 1, 3, 3, 3, 7, 8, 8, 20, 21):  # several events share a recorded time
        clock[0] = start + timedelta(days=day)
        events.append([new_event(stream=f"agreement/a{len(events.read())}")], author="seed")
    recorded = [e.recorded_at for e in events.read()]
    for moment in [start - timedelta(seconds=1), *recorded, *(t + timedelta(hours=1) for t in recorded)]:
        expected = max((e.position for e in events.read() if e.recorded_at <= moment), default=None)
        found = events.head(known_at=moment)
        assert (found.position if found else None) == expected, moment


def test_recorded_time_never_goes_back_even_when_the_clock_does(log, new_event, monkeypatch):
    clock = [datetime(2020, 1, 2, tzinfo=UTC)]
    monkeypatch.setattr(store, "utc_now", lambda: clock[0])
    events.append([new_event(stream="agreement/a")], author="seed")
    clock[0] = datetime(2020, 1, 1, tzinfo=UTC)
    events.append([new_event(stream="agreement/b")], author="seed")
    first, second = events.read()
    assert second.recorded_at == first.recorded_at
    assert events.head(known_at=datetime(2020, 1, 1, 12, tzinfo=UTC)) is None


def _correct(target, changes, reason="source misread", stream="agreement/acsa"):
    return events.NewEvent(stream, "EventCorrected", "2026-11-23",
                           {"target": target, "changes": changes, "reason": reason})


def test_corrections_change_the_current_form_and_keep_the_history(log, new_event):
    original = events.append([new_event(occurred="2018")], author="seed")[0]
    events.append([_correct(original.event_id, {"occurred": "2018-07", "data": {"summary": "Signed in Paris."}})],
                  author="editor")
    state = events.state(original.event_id)
    assert state.current.occurred == "2018-07"
    assert state.current.data == {"title": "ACSA signed", "summary": "Signed in Paris."}
    assert state.original.occurred == "2018"
    assert state.corrected and not state.retracted
    assert len(state.revisions) == 1
    assert events.get(original.event_id).occurred == "2018"  # the log itself is unchanged


def test_retraction_withdraws_the_event_but_keeps_it_reachable(log, new_event):
    original = events.append([new_event()], author="seed")[0]
    events.append([events.NewEvent("agreement/acsa", "EventRetracted", "2026-11-23",
                                   {"target": original.event_id, "reason": "duplicate"})], author="editor")
    state = events.state(original.event_id)
    assert state.retracted and state.retraction.data["reason"] == "duplicate"
    assert events.current_form(original.event_id) is None
    with pytest.raises(ValidationError, match="already retracted"):
        events.append([_correct(original.event_id, {"occurred": "2018"})], author="editor")


@pytest.mark.parametrize(
    ("make_correction", "field", "fragment"),
    [
        (lambda t: _correct("6b1b7c2e-2222-4222-8222-222222222222", {"occurred": "2018"}), "data.target", "no event"),
        (lambda t: _correct(t, {"occurred": "2018"}, stream="agreement/other"), "stream", "stream of the target"),
        (lambda t: _correct(t, {"data": {"title": None}}), "data.changes.data.title", "required"),
        (lambda t: _correct(t, {"sources": [{"document": "d"}]}), "data.changes.sources[0].quote", "required"),
        (lambda t: _correct(t, {"occurred": "2018-07"}), "data.changes", "changes nothing"),
    ],
)
def test_bad_corrections_are_refused(log, new_event, make_correction, field, fragment):
    original = events.append([new_event()], author="seed")[0]
    with pytest.raises(ValidationError) as info:
        events.append([make_correction(original.event_id)], author="editor")
    assert info.value.field == field
    assert fragment in info.value.reason
    assert count() == 1


def test_a_correction_may_follow_its_target_in_the_same_batch(log, new_event):
    target = new_event(event_id=ID, occurred="2018")
    recorded = events.append([target, _correct(ID, {"occurred": "2018-07"})], author="seed")
    assert events.current_form(recorded[0].event_id).occurred == "2018-07"


def test_listeners_hear_committed_appends_only(log, new_event):
    heard = []
    store.on_append(heard.append)
    try:
        events.append([new_event()], author="seed")
        with pytest.raises(ValidationError):
            events.append([new_event(occurred="nope")], author="seed")
        events.append([new_event(event_id=ID)], author="seed")
        events.append([new_event(event_id=ID)], author="seed")  # idempotent: nothing new to hear
    finally:
        store._listeners.remove(heard.append)
    assert [[e.position for e in batch] for batch in heard] == [[1], [2]]


def test_streams_page_by_keyset_within_a_kind(log, new_event):
    _timeline(new_event)
    every = events.streams()
    assert events.streams(limit=2) == every[:2]
    assert events.streams(after=every[1][0], limit=2) == every[2:4]
    assert events.streams("agreement", after="agreement/acsa") == [("agreement/defence-equipment-transfer", 1),
                                                                   ("agreement/roadmap-2023-2027", 1)]
    assert events.streams("agreement", after="agreement/acsa", limit=1) == [("agreement/defence-equipment-transfer", 1)]
    assert events.streams("agreement", after="agreement/roadmap-2023-2027") == []


def test_recent_streams_are_the_latest_written_newest_first(log, new_event):
    _timeline(new_event)
    events.append([new_event(stream="agreement/acsa", type_="AgreementSigned", expected_version=None)], author="seed")
    newest_first = [e.stream for e in events.read(limit=100, descending=True)]
    assert store.recent_streams()[0] == "agreement/acsa"
    assert store.recent_streams() == list(dict.fromkeys(newest_first))
    assert store.recent_streams(limit=2) == list(dict.fromkeys(newest_first))[:2]
    assert store.recent_streams(scan=1) == ["agreement/acsa"]


def _signed_and_held(new_event) -> tuple[list, list]:
    """Signings and meetings interleaved, some of each corrected or retracted (a revision in the same batch too)."""
    signed, held = [], []
    for i in range(4):
        signed += events.append([new_event(stream=f"agreement/a{i}", occurred=f"201{i}")], author="seed")
        held += events.append([new_event(stream="meeting/2plus2", type_="MeetingHeld", occurred=f"201{i}",
                                         title=f"Session {i}")], author="seed")
    revisions = events.append([_correct(signed[0].event_id, {"occurred": "2010-07"}, stream="agreement/a0"),
                               _correct(held[1].event_id, {"occurred": "2011-07"}, stream="meeting/2plus2")],
                              author="editor")
    revisions += events.append([events.NewEvent("agreement/a2", "EventRetracted", "2026-11-23",
                                                {"target": signed[2].event_id, "reason": "duplicate"})],
                               author="editor")
    late, correction = events.append([new_event(stream="agreement/late", occurred="2019", event_id=ID),
                                      _correct(ID, {"occurred": "2019-07"}, stream="agreement/late")], author="editor")
    return [*signed, late], [*revisions, correction]


def test_a_types_sequence_holds_its_events_and_their_revisions_in_position_order(log, new_event):
    signed, revisions = _signed_and_held(new_event)
    expected = sorted([e.position for e in signed] + [revisions[0].position, revisions[2].position,
                                                      revisions[3].position])
    assert [e.position for e in store.read_type("AgreementSigned", limit=100)] == expected
    assert store.count_type("AgreementSigned") == len(expected)
    assert store.count_type("AgreementSigned", upto=expected[4]) == 5
    pages, after = [], 0
    while page := store.read_type("AgreementSigned", after, limit=3):
        pages.append([e.position for e in page])
        after = page[-1].position
    assert pages == [expected[:3], expected[3:6], expected[6:]]
    newest = store.read_type("AgreementSigned", limit=3, before=expected[-1], descending=True)
    assert [e.position for e in newest] == expected[-4:-1][::-1]
    assert [e.type for e in store.read_type("MeetingHeld", limit=100)].count("EventCorrected") == 1
    assert [e.position for e in store.read_type("EventRetracted", limit=100)] == [revisions[2].position]


def test_revision_targets_are_filled_for_an_old_log_and_after_an_import(log, new_event, request):
    from events.transfer import export, import_lines

    signed, _ = _signed_and_held(new_event)
    expected = [e.position for e in store.read_type("AgreementSigned", limit=100)]
    events.db.database.execute_sql("DELETE FROM revision_target")  # a log written before the table existed
    events.schema.drop_revision_trigger()
    assert store.count_type("AgreementSigned") == len(signed)
    events.create_schema()
    assert [e.position for e in store.read_type("AgreementSigned", limit=100)] == expected
    import io
    out = io.BytesIO()
    export(out)
    if log.startswith("sqlite"):
        url = f"sqlite:///{request.getfixturevalue('tmp_path') / 'restored.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")()
    events.connect(url)
    events.create_schema()
    lines = out.getvalue().splitlines()
    import_lines(lines[:-2])  # into an empty log: the trigger is suspended, the table filled at the end
    import_lines(lines)  # onto a log: row by row, by the trigger
    assert [e.position for e in store.read_type("AgreementSigned", limit=100)] == expected
    events.append([events.NewEvent("agreement/a3", "EventRetracted", "2026-11-23",
                                   {"target": signed[3].event_id, "reason": "duplicate"})], author="editor")
    assert store.count_type("AgreementSigned") == len(expected) + 1
    assert store.read_type("AgreementSigned", limit=1, descending=True)[0].type == "EventRetracted"
