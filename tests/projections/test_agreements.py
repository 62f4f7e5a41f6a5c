from datetime import UTC, date, datetime, timedelta

import pytest

import events
import projections
from events import store
from projections import agreements as model
from seeds.catalog import event_id_for

SOURCE = [{"url": "https://www.mod.go.jp/example", "quote": "entered into force on 26 June 2019", "kind": "official"}]


def by_name(as_of, known_at=None):
    return {a.name: a for a in model.agreements(as_of, known_at)}


def append(*new, author="editor"):
    recorded = events.append(list(new), author=author)
    projections.catch_up()
    return recorded


def test_the_transfer_agreement_is_in_force_from_december_2016(seeded):
    transfer = "Defence equipment transfer agreement"
    assert by_name(date(2017, 6, 30))[transfer].active == "yes"
    assert by_name(date(2016, 6, 30))[transfer].active == "no"
    view = by_name(date(2017, 6, 30))[transfer]
    assert view.status.since.occurred == "2016-12-01"
    assert {s["document"] for s in view.stages[0].sources} == {
        "joint-statement-2017-2plus2", "ifri-pajon-2018", "news-2017-third-2plus2"}


def test_the_acsa_is_negotiated_in_2017_and_signed_after_july_2018(seeded):
    negotiated = by_name(date(2017, 6, 30))["ACSA"]
    assert (negotiated.status.text, negotiated.active, negotiated.status.reason) == (
        "under negotiation", "no", "before its signature (July 2018)")
    assert by_name(date(2018, 7, 15))["ACSA"].status.text == "under negotiation (possibly signed)"
    signed = by_name(date(2018, 8, 1))["ACSA"]
    assert (signed.status.text, signed.active) == ("signed", "unknown")


def test_the_acsa_in_2020_is_unknown_with_its_reason_for_no_source_records_its_entry_into_force(seeded):
    acsa = by_name(date(2020, 1, 1))["ACSA"]
    assert (acsa.active, acsa.status.reason) == ("unknown", "signed in July 2018; entry into force not on record")
    assert acsa.category == "treaty" and acsa.status.when == "July 2018"


def test_appending_the_acsa_entry_into_force_makes_it_in_force_from_that_date(seeded):
    append(events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-06-26",
                           {"title": "ACSA entered into force"}, SOURCE))
    assert by_name(date(2019, 6, 25))["ACSA"].active == "no"
    in_force = by_name(date(2019, 6, 26))["ACSA"]
    assert (in_force.status.text, in_force.active) == ("in force", "yes")


def test_roadmaps_expire_with_their_term_without_any_event(seeded):
    assert by_name(date(2027, 12, 31))["Roadmap 2023-2027"].active == "yes"
    expired = by_name(date(2028, 1, 1))["Roadmap 2023-2027"]
    assert (expired.status.text, expired.active, expired.status.by_term) == ("expired", "no", True)
    assert by_name(date(2018, 12, 31))["Roadmap 2013-2018"].active == "yes"
    ended = by_name(date(2019, 1, 1))["Roadmap 2013-2018"]
    assert (ended.active, ended.status.when, ended.status.reason) == (
        "no", "the end of 2018", "expired at the end of 2018, by its term")
    assert ended.to_dict()["since"]["when"] == "the end of 2018"


def test_eu_japan_instruments_are_listed(seeded):
    names = by_name(date(2026, 11, 23))
    assert names["SPA"].parties == ["European Union", "Japan"]
    assert names["SPA"].active == "yes"
    assert "Security and Defence Partnership" in names


def test_known_at_answers_as_the_log_stood_then(seeded):
    before = datetime.now(UTC)
    append(events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-06-26",
                           {"title": "ACSA entered into force"}, SOURCE))
    assert by_name(date(2020, 1, 1))["ACSA"].active == "yes"
    assert by_name(date(2020, 1, 1), known_at=before)["ACSA"].active == "unknown"
    assert model.agreements(date(2020, 1, 1), known_at=datetime(2000, 1, 1, tzinfo=UTC)) == []


def test_corrections_and_retractions_change_the_view(seeded):
    signed = event_id_for("ifri-pajon-2018/acsa-signed")
    append(events.NewEvent("agreement/acsa", "EventCorrected", "2026-11-23",
                           {"target": signed, "reason": "signed on 19 July", "changes": {"occurred": "2018-07-19"}}))
    assert by_name(date(2018, 7, 19))["ACSA"].status.text == "signed"
    append(events.NewEvent("agreement/acsa", "EventRetracted", "2026-11-23", {"target": signed, "reason": "test"}))
    view = by_name(date(2026, 11, 23))["ACSA"]
    assert view.status.text == "under negotiation"
    assert signed not in [s.event_id for s in view.stages]
    # The retracted claim stays reachable in the log.
    assert events.state(signed).retracted


def test_a_corrected_stage_shows_its_corrected_sources_and_known_at_before_the_original_ones(seeded):
    signed = event_id_for("ifri-pajon-2018/acsa-signed")
    logged = events.get(signed).sources
    before = datetime.now(UTC)
    append(events.NewEvent("agreement/acsa", "EventCorrected", "2026-11-23",
                           {"target": signed, "reason": "the official text", "changes": {"sources": SOURCE}}))

    def stage(known_at=None):
        view = model.agreement("agreement/acsa", date(2026, 11, 23), known_at)
        return next(s for s in view.stages if s.event_id == signed)

    assert stage().sources == [{**SOURCE[0], "quote": {"type": "TextQuoteSelector", "exact": SOURCE[0]["quote"]}}]
    assert stage(before).sources == logged != stage().sources
    projections.rebuild("agreements")
    assert stage().sources != logged and stage(before).sources == logged


def test_rival_dates_show_the_official_claim_and_mark_the_fact_disputed(seeded):
    press = {"url": "https://press.example/acsa", "quote": "ACSA was signed on 13 July 2018", "kind": "press"}
    official = {"url": "https://www.diplomatie.gouv.fr/acsa", "quote": "signé le 13 juillet 2018", "kind": "official"}
    append(
        events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-07-01", {"title": "press", "fact": "f"},
                        [press]),
        events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-06-26", {"title": "mofa", "fact": "f"},
                        [official]),
    )
    view = by_name(date(2026, 1, 1))["ACSA"]
    in_force = [s for s in view.stages if s.type == "AgreementEnteredIntoForce"]
    assert [s.occurred for s in in_force] == ["2019-06-26"]
    assert in_force[0].disputed and in_force[0].rivals[0]["occurred"] == "2019-07-01"
    assert view.disputed
    assert view.to_dict()["disputed"] is True


def test_the_json_form_carries_event_ids_and_sources(seeded):
    row = by_name(date(2026, 11, 23))["ACSA"].to_dict()
    assert row["status"] == "signed" and row["active"] == "unknown"
    assert row["reason"] == "signed in July 2018; entry into force not on record"
    assert [(h["from"], h["to"], h["valid"], h["when"]) for h in row["history"]] == [
        (None, "under negotiation", "2017-01-06", "6 January 2017"),
        ("under negotiation", "signed", "2018-07", "July 2018")]
    assert event_id_for("ifri-pajon-2018/acsa-signed") in row["event_ids"]
    assert all(stage["sources"] and stage["event_id"] for stage in row["stages"])


def test_status_changes_are_dated_in_the_world_apart_from_when_they_were_recorded(seeded):
    now = datetime.now(UTC)
    rows = projections.get("agreements").changes(now, limit=100)
    acsa = [r for r in rows if r.stream == "agreement/acsa"]
    # Ifri's signing is appended before the joint statement's negotiations: the history is restated, in order.
    assert sorted(r.title for r in acsa) == ["ACSA: signed (July 2018)", "ACSA: under negotiation (6 January 2017)",
                                             "ACSA: under negotiation → signed (July 2018)"]
    assert {r.valid for r in acsa} == {"July 2018", "6 January 2017"} and all(r.occurred for r in acsa)
    seed_time = events.get(event_id_for("ifri-pajon-2018/acsa-signed")).recorded_at
    assert {r.updated for r in acsa} == {seed_time}
    assert next(r for r in acsa if "→ signed" in r.title).note == (
        "In force from then on: unknown (signed in July 2018; entry into force not on record).")
    ended = next(r for r in rows if r.stream == "agreement/roadmap-2013-2018" and "expired" in r.title)
    assert ended.title == "Roadmap 2013-2018: adopted → expired (the end of 2018, by its term)"
    assert (ended.effective, ended.cause, ended.occurred) == (date(2019, 1, 1), "event", "2018")
    # The 2023-2027 roadmap's expiry is on the calendar: invisible until its day comes.
    expiry = [r for r in projections.get("agreements").changes(datetime(2028, 1, 1, tzinfo=UTC), limit=100)
              if r.cause == "calendar"]
    assert [(r.title, r.effective) for r in expiry] == [
        ("Roadmap 2023-2027: adopted → expired (the end of 2027, by its term)", date(2028, 1, 1))]
    assert expiry[0].updated == datetime(2028, 1, 1, tzinfo=UTC)
    assert not [r for r in rows if r.cause == "calendar"]


def test_a_retraction_withdraws_what_it_took_off_the_record_and_a_correction_redates_it(seeded):
    signed = event_id_for("ifri-pajon-2018/acsa-signed")
    append(events.NewEvent("agreement/acsa", "EventCorrected", "2026-11-23",
                           {"target": signed, "reason": "signed on 19 July", "changes": {"occurred": "2018-07-19"}}))
    model = projections.get("agreements")
    newest = model.changes(datetime.now(UTC), limit=1, descending=True)
    assert [r.title for r in newest] == [
        "ACSA: under negotiation → signed (19 July 2018; previously dated July 2018)"]
    append(events.NewEvent("agreement/acsa", "EventRetracted", "2026-11-23", {"target": signed, "reason": "test"}))
    newest = model.changes(datetime.now(UTC), limit=1, descending=True)
    assert [(r.title, r.change) for r in newest] == [("ACSA: signed (19 July 2018) no longer on record", "withdrawn")]


def test_a_rebuild_gives_the_same_rows_ids_and_times(seeded):
    agreements = projections.get("agreements")
    before = agreements.dump()
    projections.rebuild("agreements")
    assert agreements.dump() == before


def test_new_facts_replace_planned_calendar_changes(seeded, monkeypatch):
    later = datetime(2027, 6, 1, tzinfo=UTC)
    monkeypatch.setattr(store, "utc_now", lambda: later)
    append(events.NewEvent("agreement/roadmap-2023-2027", "AgreementTerminated", "2027-05",
                           {"title": "Roadmap replaced early"}, SOURCE))
    model = projections.get("agreements")
    calendar = [r for r in model.changes(later + timedelta(days=3650), limit=100) if r.cause == "calendar"]
    assert calendar == []
    terminated = [r for r in model.changes(later, limit=100) if r.stream == "agreement/roadmap-2023-2027"]
    assert terminated[-1].title.endswith(" → terminated (May 2027)")


@pytest.mark.parametrize("stream", ["agreement/acsa", "agreement/roadmap-2013-2018"])
def test_one_agreement_can_be_asked_alone(seeded, stream):
    view = model.agreement(stream, date(2026, 11, 23))
    assert view is not None and view.stream == stream
    assert model.agreement("agreement/none", date(2026, 11, 23)) is None


def test_agreements_come_a_keyset_page_at_a_time_in_name_order(seeded):
    day = date(2026, 11, 23)
    whole = model.agreements(day, limit=1000)
    assert len(whole) > 4 and whole.next_after is None
    keys = [(model.Agreement.get_by_id(a.stream).sort_name, a.stream) for a in whole]
    assert keys == sorted(keys)
    seen, after = [], None
    while True:
        page = model.agreements(day, after=after, limit=3)
        seen += [a.stream for a in page]
        if page.next_after is None:
            break
        assert len(page) == 3 and page.next_after == page[-1].stream
        after = page.next_after
    assert seen == [a.stream for a in whole]
    assert [a.to_dict() for a in model.agreements(day, after=whole[1].stream, limit=2)] == [
        a.to_dict() for a in whole[2:4]]


def test_an_unknown_cursor_or_limit_is_refused(seeded):
    with pytest.raises(ValueError, match="after: 'agreement/nothing'"):
        model.agreements(date(2020, 1, 1), after="agreement/nothing")
    with pytest.raises(ValueError, match="limit"):
        model.agreements(date(2020, 1, 1), limit=0)
