from datetime import date

import pytest

from events import declaration
from events.vocabulary import applies_on_signature
from projections.lifecycle import NOT_YET, Stage, history, status_on, term_end


def stage(type_, occurred, term=None, event_id="e"):
    return Stage.of(type_, occurred, event_id, term)


ACSA = [stage("AgreementNegotiationsOpened", "2017-01-06"), stage("AgreementSigned", "2018-07")]


@pytest.mark.parametrize(
    ("day", "text", "active", "reason"),
    [
        (date(2016, 6, 30), NOT_YET, "no", "before its negotiations opened (6 January 2017)"),
        (date(2017, 6, 30), "under negotiation", "no", "before its signature (July 2018)"),
        (date(2018, 7, 15), "under negotiation (possibly signed)", "unknown",
         "negotiations opened on 6 January 2017; entry into force not on record"),
        (date(2020, 1, 1), "signed", "unknown", "signed in July 2018; entry into force not on record"),
    ],
)
def test_a_treaty_signed_with_no_entry_into_force_on_record_is_unknown_never_not_in_force(day, text, active, reason):
    status = status_on(ACSA, day, "treaty")
    assert (status.text, status.active, status.reason) == (text, active, reason)


def test_what_a_signature_does_is_the_vocabularys_rule_by_category():
    signed = [stage("AgreementSigned", "2021")]
    applied = status_on(signed, date(2022, 1, 1), "roadmap")
    assert (applied.active, applied.reason) == ("yes", "signed in 2021; a roadmap applies from its signature")
    assert status_on(signed, date(2021, 6, 1), "roadmap").active == "possibly"
    for category in ("treaty", "arrangement", None, ["treaty"]):  # an old log's list is no category
        assert status_on(signed, date(2022, 1, 1), category).active == "unknown"
    assert status_on(signed, date(2020, 12, 31), "treaty").active == "no"  # before its signature: a recorded ground
    assert {c for c in declaration.CATEGORIES if applies_on_signature(c)} == declaration.SIGNATURE_APPLIES
    assert set(declaration.CATEGORIES) == declaration.SIGNATURE_APPLIES | declaration.ENTRY_INTO_FORCE_NEEDED
    assert not declaration.SIGNATURE_APPLIES & declaration.ENTRY_INTO_FORCE_NEEDED


def test_an_entry_into_force_known_only_to_the_month_is_possibly_active_within_it():
    stages = [*ACSA, stage("AgreementEnteredIntoForce", "2019-06")]
    assert status_on(stages, date(2019, 5, 31), "treaty").active == "no"
    within = status_on(stages, date(2019, 6, 15), "treaty")
    assert (within.active, within.reason) == ("possibly", "entered into force in June 2019: that day may be before "
                                                          "or after it")
    assert status_on(stages, date(2019, 7, 1), "treaty").active == "yes"


def test_a_term_bounds_the_force_on_both_sides():
    roadmap = [stage("AgreementAdopted", "[..2025]", term="2023/2027")]
    before = status_on(roadmap, date(2022, 12, 31), "roadmap")
    assert (before.active, before.reason) == ("no", "before its term began (2023)")
    assert status_on(roadmap, date(2024, 6, 1), "roadmap").active == "possibly"  # adopted on or before 2025
    assert status_on(roadmap, date(2027, 12, 31), "roadmap").active == "yes"
    ended = status_on(roadmap, date(2028, 1, 1), "roadmap")
    assert (ended.text, ended.active, ended.by_term) == ("expired", "no", True)
    assert ended.reason == "expired at the end of 2027, by its term" and ended.when == "the end of 2027"


def test_roadmap_2013_2018_ends_at_the_end_of_2018_not_on_its_adoption_day():
    roadmap = [stage("AgreementAdopted", "2013-06-07", term="2013/2018")]
    assert status_on(roadmap, date(2018, 12, 31), "roadmap").active == "yes"
    ended = status_on(roadmap, date(2019, 1, 1), "roadmap")
    assert (ended.label, ended.when, ended.active) == ("expired", "the end of 2018", "no")
    day_term = status_on([stage("AgreementAdopted", "2013-06-07", term="2013-06-07/2018-06-30")], date(2019, 1, 1))
    assert day_term.when == "1 July 2018" and day_term.reason == "expired on 1 July 2018, by its term"


def test_an_unknown_end_makes_the_force_possible_not_certain():
    assert term_end("AgreementEnteredIntoForce", "2011/", None).hi is None
    since = [stage("AgreementEnteredIntoForce", "2011/")]
    assert status_on(since, date(2015, 1, 1)).active == "possibly"
    open_ended = [stage("AgreementEnteredIntoForce", "2011/..")]
    assert status_on(open_ended, date(2030, 1, 1)).active == "yes"


def test_recorded_ends_are_grounds_for_not_in_force():
    stages = [stage("AgreementEnteredIntoForce", "2016-12-01"), stage("AgreementTerminated", "2020-03")]
    assert status_on(stages, date(2020, 2, 29)).active == "yes"
    assert status_on(stages, date(2020, 3, 15)).active == "possibly"
    ended = status_on(stages, date(2020, 4, 1))
    assert (ended.text, ended.active, ended.reason) == ("terminated", "no", "terminated in March 2020")


def test_without_any_ground_the_answer_is_unknown_with_the_reason():
    amended = [stage("AgreementAmended", "2020")]
    assert (status_on(amended, date(2019, 1, 1)).active, status_on(amended, date(2019, 1, 1)).reason) == (
        "unknown", "no stage on record by that day; entry into force not on record")
    approved = status_on([stage("AgreementApproved", "2019-05-02")], date(2019, 1, 1))
    assert approved.active == "unknown"  # a party's later approval does not show it was not in force


def test_a_range_is_possibly_reached_until_its_upper_bound():
    stages = [stage("AgreementSigned", "[..2017-01-06]")]
    assert status_on(stages, date(2016, 1, 1)).text == "no stage on record yet (possibly signed)"
    assert status_on(stages, date(2017, 1, 6)).text == "signed"


def test_history_is_the_lifecycle_in_valid_time_at_each_stages_precision():
    signed_first = [stage("AgreementSigned", "2018-07"), stage("AgreementNegotiationsOpened", "2017-01-06")]
    assert [(t.before, t.after, t.when_words) for t in history(signed_first)] == [
        ("", "under negotiation", "6 January 2017"), ("under negotiation", "signed", "July 2018")]
    roadmap = history([stage("AgreementAdopted", "2013-06-07", term="2013/2018")])
    assert [(t.before, t.after, t.when_words, t.lo) for t in roadmap] == [
        ("", "adopted", "7 June 2013", date(2013, 6, 7)),
        ("adopted", "expired", "the end of 2018, by its term", date(2019, 1, 1))]
    ended = history([stage("AgreementEnteredIntoForce", "2016-12-01", term="2016/2030"),
                     stage("AgreementAmended", "2018"), stage("AgreementAmended", "2019"),
                     stage("AgreementTerminated", "2020-03")])
    assert [t.after for t in ended] == ["in force", "amended", "amended", "terminated"]  # the first end ends it
