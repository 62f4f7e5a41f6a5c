"""Whatever the API accepts, every page and feed that holds it renders, and no read model stops on it.

Hypothesis posts events with arbitrary Unicode in every text field, any date
the log accepts and data values of every JSON shape, then reads each event's
page, its subject's page, the timeline page holding it, every feed holding it
(the log's, its subject's, its type's, its read model's) and the archive page
of the log holding it.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from events import dates
from events.vocabulary import EVENT_TYPES, META_TYPES
from tests.conftest import make_app

pytestmark = pytest.mark.slow

PAGE = 2  # feed pages of two entries: every few events fill an archive page
STREAMS = ("agreement/prop-a", "exercise/prop-x", "meeting/prop-m", "context/prop-c", "institution/prop-i")
TYPES = {stream: sorted(t for t, spec in EVENT_TYPES.items() if stream.split("/")[0] in spec.kinds
                        and t not in META_TYPES) for stream in STREAMS}
ATOM = "{http://www.w3.org/2005/Atom}"

years = st.integers(dates.MIN_YEAR, dates.MAX_YEAR)
single = st.one_of(
    years.map(lambda y: f"{y:04d}"),
    st.tuples(years, st.integers(1, 12)).map(lambda t: f"{t[0]:04d}-{t[1]:02d}"),
    st.tuples(years, st.integers(1, 12), st.integers(1, 28)).map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"),
    st.tuples(years, st.integers(21, 24)).map(lambda t: f"{t[0]:04d}-{t[1]}"),
    st.integers(dates.MIN_YEAR // 10, dates.MAX_YEAR // 10).map(lambda d: f"{d:03d}X"),
)
qualified = st.tuples(single, st.sampled_from(("", "", "?", "~", "%"))).map(lambda t: t[0] + t[1])
accepted_dates = st.one_of(
    qualified,
    st.tuples(single, single).map(lambda t: f"{t[0]}/{t[1]}"),
    single.map(lambda d: f"{d}/.."),
    single.map(lambda d: f"{d}/"),
    single.map(lambda d: f"[..{d}]"),
    st.tuples(single, single).map(lambda t: f"[{t[0]}..{t[1]}]"),
)

# Mostly text an editor could mean (any script, emoji, combining marks, RTL, HTML and XML metacharacters), now and
# then every code point hypothesis draws (controls, surrogates, U+FFFE), which must be refused naming the field.
writable = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff")
any_text = st.one_of(st.text(writable, min_size=1, max_size=60), st.text(writable, min_size=1, max_size=60),
                     st.sampled_from(("<script>alert(1)</script>", "]]>&amp;", "\u202eevil", "Pégase 2023 ✈")),
                     st.text(max_size=60))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
participants = st.lists(st.fixed_dictionaries(
    {"name": any_text}, optional={"role": st.sampled_from(("participant", "observer", "host", "organizer")),
                                  "country": any_text}), max_size=3)
extra_fields = st.dictionaries(
    st.sampled_from(("agreement", "short", "category", "parties", "term", "series", "edition", "domains", "first",
                     "mechanism", "session", "level", "outcomes", "name", "fact", "planned_for")),
    json_values, max_size=4)
sources = st.lists(st.one_of(
    st.fixed_dictionaries({"quote": any_text, "document": any_text}),
    st.fixed_dictionaries({"quote": any_text, "url": st.just("https://example.org/a?b=c&d=é")}),
).flatmap(lambda source: st.fixed_dictionaries({k: st.just(v) for k, v in source.items()}, optional={
    "title": any_text,
    "language": st.sampled_from(("en", "fr", "ja")), "kind": st.sampled_from(("official", "press"))})),
    min_size=1, max_size=2)


@st.composite
def api_events(draw):
    stream = draw(st.sampled_from(STREAMS))
    data = {**draw(extra_fields), "title": draw(any_text)}
    for key in ("summary", "place"):
        if draw(st.booleans()):
            data[key] = draw(any_text)
    if draw(st.booleans()):
        data["participants"] = draw(participants)
    return {"event_id": str(uuid.uuid4()), "stream": stream, "type": draw(st.sampled_from(TYPES[stream])),
            "occurred": draw(accepted_dates), "data": data, "sources": draw(sources)}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from service.editing import accounts

    root = tmp_path_factory.mktemp("render")
    app = make_app(f"sqlite:///{root / 'log.sqlite3'}", root / "instance", FEED_PAGE_SIZE=PAGE)
    with app.app_context():
        accounts.create_editor("prop", "property test password")
        token = accounts.create_token("prop")
    return app, {"Authorization": f"Bearer {token}"}


def ok(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.data[:300])
    return response.data


def atom(client, path: str) -> etree._Element:
    return etree.fromstring(ok(client, path))


def archive_holding(client, position: int) -> str:
    """The log's archive page that holds ``position`` (walked from the subscription document, as a reader does)."""
    url = next((link.get("href") for link in atom(client, "/feed.atom").findall(f"{ATOM}link")
                if link.get("rel") == "prev-archive"), None)
    while url is not None:
        path = url.removeprefix("http://localhost")
        page = atom(client, path)
        held = [int(e.findtext("{*}position")) for e in page.findall(f"{ATOM}entry")]
        if position in held:
            return path
        url = next((link.get("href") for link in page.findall(f"{ATOM}link") if link.get("rel") == "prev-archive"),
                   None)
    return "/feed.atom"


def timeline_page_holding(client, event_id: str) -> str:
    rows, after = [], None
    while True:
        answer = client.get("/api/timeline", query_string={"limit": 1000, **({"after": after} if after else {})})
        rows += answer.get_json()["entries"]
        after = answer.get_json()["next"]
        if after is None:
            break
    at = next(i for i, row in enumerate(rows) if row["event_id"] == event_id)
    return f"/timeline?after={rows[at - 1]['cursor']}" if at else "/timeline"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(body=api_events())
def test_every_accepted_event_renders_everywhere_it_is_shown(site, body):
    app, auth = site
    client = app.test_client()
    response = client.post("/api/events", json=body, headers=auth)
    assert response.status_code in (201, 422), (response.status_code, response.data[:300])
    if response.status_code == 422:
        event(f"refused: {response.get_json()['error'][:60]}")
        assert response.get_json()["field"]  # refused at the door, naming the field
        return
    event("accepted")
    answer = response.get_json()
    stream, event_id, position = answer["stream"], answer["event_id"], answer["position"]
    status = client.get("/api/status").get_json()
    assert all(p["failed_position"] is None and p["lag"] == 0 for p in status["projections"]), status
    assert status["set_aside"] == [], status["set_aside"]
    ok(client, f"/events/{event_id}")
    ok(client, f"/subjects/{stream}?order=recorded&after={(answer['version'] - 1) // 60 * 60}")
    ok(client, f"/subjects/{stream}")
    ok(client, "/")
    kind = stream.split("/")[0]
    if body["type"] not in ("PolicyReviewed",):  # every fact is on the timeline
        ok(client, timeline_page_holding(client, event_id))
    for path in ("/feed.atom", f"/subjects/{stream}/feed.atom", f"/types/{body['type']}/feed.atom",
                 archive_holding(client, position)):
        atom(client, path)
    if kind in ("agreement", "exercise", "meeting"):
        atom(client, f"/{kind}s/feed.atom")
        ok(client, f"/{kind}s")
