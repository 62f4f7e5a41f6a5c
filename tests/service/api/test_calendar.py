"""The meetings calendars: they parse with icalendar and hold every session held or planned, at its precision."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest

import events
import projections
from tests.conftest import make_event


@pytest.fixture
def api(seeded_app):
    return seeded_app.test_client()


def calendar(api, path: str) -> icalendar.Calendar:
    response = api.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.get_data())


def sessions(api) -> dict[str, tuple[dict, bool]]:
    """Every session held and every plan pending, by event id, from the meetings JSON."""
    out = {}
    for m in api.get("/api/meetings?limit=1000").get_json()["mechanisms"]:
        out.update({s["event_id"]: (s, False) for s in m["sessions"]})
        out.update({p["event_id"]: (p, True) for p in m["planned"]})
    return out


def test_the_calendar_holds_every_session_held_or_planned(api):
    found = {str(e["UID"]).split("@")[0]: e for e in calendar(api, "/meetings/calendar.ics").walk("VEVENT")}
    expected = sessions(api)
    assert set(found) == set(expected) and found
    for event_id, (item, planned) in expected.items():
        event = found[event_id]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert isinstance(start, date) and not hasattr(start, "hour")  # all-day: the record has no times
        first, last = item["lo"] or item["hi"], item["hi"] or item["lo"]
        assert (start.isoformat(), (end - timedelta(days=1)).isoformat()) == (first, last)
        assert str(event["STATUS"]) == ("TENTATIVE" if planned else "CONFIRMED")
        assert str(event["URL"]).endswith(f"/events/{event_id}")


def test_a_session_known_to_the_month_spans_the_month_and_the_day_one_day(api):
    found = {str(e["SUMMARY"]): e for e in calendar(api, "/meetings/2plus2/calendar.ics").walk("VEVENT")}
    third = found["2+2 — Third France-Japan 2+2 held in Paris"]
    assert (third.decoded("DTSTART"), third.decoded("DTEND")) == (date(2017, 1, 6), date(2017, 1, 7))
    assert str(third["LOCATION"]) == "Paris"
    planned = [e for s, e in found.items() if s.startswith("Planned: ")]
    assert planned and all(e.decoded("DTEND") - e.decoded("DTSTART") > timedelta(days=1) for e in planned)


def test_uids_and_stamps_are_stable_across_requests(api):
    first, second = api.get("/meetings/calendar.ics").get_data(), api.get("/meetings/calendar.ics").get_data()
    assert first == second


def test_one_mechanism_holds_only_its_own_sessions_and_an_unknown_one_is_404(app):
    with app.app_context():
        projections.catch_up()
        events.append([
            make_event(stream="meeting/maritime-dialogue", type_="MeetingHeld", occurred="2019-10", title="First",
                       data={"session": 1, "place": "Tokyo"}),
            make_event(stream="meeting/other-talks", type_="MeetingHeld", occurred="2020", title="Other"),
        ], author="seed")
        projections.catch_up()
    client = app.test_client()
    one = list(calendar(client, "/meetings/maritime-dialogue/calendar.ics").walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in one] == ["maritime dialogue — First"]
    assert (one[0].decoded("DTSTART"), one[0].decoded("DTEND")) == (date(2019, 10, 1), date(2019, 11, 1))
    assert len(list(calendar(client, "/meetings/calendar.ics").walk("VEVENT"))) == 2
    assert client.get("/meetings/nothing/calendar.ics").status_code == 404


def test_the_meetings_page_links_its_calendars(api):
    html = api.get("/meetings").get_data(as_text=True)
    assert 'href="/meetings/calendar.ics"' in html and 'href="/meetings/2plus2/calendar.ics"' in html
    assert 'type="text/calendar"' in html
