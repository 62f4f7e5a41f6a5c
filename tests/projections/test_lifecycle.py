from datetime import date

import pytest

from projections.lifecycle import NOT_YET, Stage, status_on, term_end, transitions_after


def stage(type_, occurred, term=None, event_id="e"):
    return Stage.of(type_, occurred, event_id, term)


ACSA = [stage("AgreementNegotiationsOpened", "2017-01-06"), stage("AgreementSigned", "2018-07")]


@pytest.mark.parametrize(
    ("day", "text", "active"),
    [
        (date(2016, 6, 30), NOT_YET, "no"),
        (date(2017, 1, 6), "under negotiation", "no"),
        (date(2018, 7, 15), "under negotiation (possibly signed)", "no"),
        (date(2018, 8, 1), "signed", "no"),
    ],
)
def test_status_follows_the_stages_with_honest_precision(day, text, active):
    status = status_on(ACSA, day)
    assert (status.text, status.active) == (text, active)


def test_an_entry_into_force_known_only_to_the_month_is_possibly_active_within_it():
    stages = [*ACSA, stage("AgreementEnteredIntoForce", "2019-06")]
    assert status_on(stages, date(2019, 6, 15)).active == "possibly"
    assert status_on(stages, date(2019, 7, 1)).active == "yes"


def test_a_term_ends_the_force_the_day_after_it_closes():
    roadmap = [stage("AgreementAdopted", "2023/2027", term="2023/2027")]
    assert status_on(roadmap, date(2023, 1, 1)).active == "yes"
    assert status_on(roadmap, date(2027, 12, 31)).active == "yes"
    ended = status_on(roadmap, date(2028, 1, 1))
    assert (ended.text, ended.active, ended.by_term) == ("expired", "no", True)


def test_an_unknown_end_makes_the_force_possible_not_certain():
    assert term_end("AgreementEnteredIntoForce", "2011/", None).hi is None
    since = [stage("AgreementEnteredIntoForce", "2011/")]
    assert status_on(since, date(2015, 1, 1)).active == "possibly"
    open_ended = [stage("AgreementEnteredIntoForce", "2011/..")]
    assert status_on(open_ended, date(2030, 1, 1)).active == "yes"


def test_terminal_stages_end_the_force():
    stages = [stage("AgreementEnteredIntoForce", "2016-12-01"), stage("AgreementTerminated", "2020-03-01")]
    assert status_on(stages, date(2020, 2, 29)).active == "yes"
    assert (status_on(stages, date(2020, 3, 1)).text, status_on(stages, date(2020, 3, 1)).active) == (
        "terminated", "no")


def test_a_range_is_possibly_reached_until_its_upper_bound():
    stages = [stage("AgreementSigned", "[..2017-01-06]")]
    assert status_on(stages, date(2016, 1, 1)).text == f"{NOT_YET} (possibly signed)"
    assert status_on(stages, date(2017, 1, 6)).text == "signed"


def test_calendar_transitions_are_the_days_the_status_changes_without_an_event():
    roadmap = [stage("AgreementAdopted", "2013-06-07", term="2013/2018")]
    steps = transitions_after(roadmap, date(2013, 6, 7))
    assert [(d, before.text, after.text) for d, before, after in steps] == [
        (date(2019, 1, 1), "in force", "expired")]
    assert transitions_after(roadmap, date(2026, 11, 23)) == []
