import threading
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import events

SOURCE = [{"url": "https://example.org/ifri-pajon-2018",
           "quote": "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed"}]


def event_body(**overrides):
    body = {"event_id": str(uuid.uuid4()), "stream": "agreement/acsa", "type": "AgreementSigned",
            "occurred": "2018-07", "data": {"title": "ACSA signed"}, "sources": SOURCE}
    body.update(overrides)
    return body


@pytest.fixture
def post(client, api_token):
    def send(body, token=api_token, headers=(), **kwargs):
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post("/api/events", json=body, headers={**sent, **dict(headers)}, **kwargs)

    return send


def log_size(app):
    with app.app_context():
        return events.store.head_position()


def test_append_returns_the_position_and_where_the_event_is(app, client, post, editor_account):
    body = event_body()
    response = post(body)
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["position"] == 1 and answer["event_id"] == body["event_id"] and answer["created"] is True
    assert response.headers["Location"] == f"/api/events/{body['event_id']}"
    shown = client.get(response.headers["Location"]).get_json()
    assert shown["author"] == editor_account[0]
    assert shown["hash"] == answer["hash"] and shown["data"] == {"title": "ACSA signed"}


def test_an_appended_event_is_already_in_the_read_models(app, post):
    import projections

    post(event_body())
    with app.app_context():
        assert all(s.lag == 0 for s in projections.status())


def test_simultaneous_identical_posts_record_once_and_only_one_says_created(app, client, api_token):
    body = event_body()
    gate, answers = threading.Barrier(8), []

    def send():
        gate.wait()
        answers.append(app.test_client().post("/api/events", json=body,
                                              headers={"Authorization": f"Bearer {api_token}"}))

    senders = [threading.Thread(target=send) for _ in range(8)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert {a.get_json()["position"] for a in answers} == {1}
    assert [a.get_json()["created"] for a in answers].count(True) == 1
    assert log_size(app) == 1


def test_an_append_behind_a_backlog_answers_without_folding_it_all_and_says_how_far_views_lag(app, post, new_event):
    from service import pipeline

    with app.app_context():
        events.append([new_event(title=f"imported {i}", event_id=None) for i in range(pipeline.FOLD_AFTER_APPEND * 3)],
                      author="import")
    answer = post(event_body())
    assert answer.status_code == 201
    lag = answer.get_json()["views_lag"]
    assert lag == pipeline.FOLD_AFTER_APPEND * 2 + 1  # one batch folded; the catch-up job folds the rest
    with app.app_context():
        import projections

        projections.catch_up()
    assert post(event_body(event_id=str(uuid.uuid4()))).get_json()["views_lag"] == 0


def test_resending_the_same_event_is_idempotent(app, post):
    body = event_body()
    first = post(body)
    again = post(body)
    assert again.status_code == 200
    assert again.get_json()["position"] == first.get_json()["position"]
    assert again.get_json()["created"] is False
    assert log_size(app) == 1


def test_the_same_event_id_with_other_content_is_a_conflict(app, post):
    body = event_body()
    post(body)
    response = post({**body, "data": {"title": "something else"}})
    assert response.status_code == 409
    assert response.get_json()["event_id"] == body["event_id"]
    assert "different content" in response.get_json()["error"]
    assert log_size(app) == 1


def test_an_expected_version_conflict_names_the_current_version(app, post):
    post(event_body())
    response = post(event_body(expected_version=0))
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["current_version"] == 1 and answer["expected_version"] == 0
    assert "is at version 1, not at the expected version 0" in answer["error"]
    assert post(event_body(expected_version=1)).status_code == 201


@pytest.mark.parametrize(("change", "field"), [
    ({"occurred": "2018-02-30"}, "occurred"),
    ({"type": "AgreementSmashed"}, "type"),
    ({"sources": [{"document": "ifri-pajon-2018", "quote": 5}]}, "sources[0].quote"),
    ({"position": 3}, "position"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_events_are_refused_naming_the_field(app, post, change, field):
    response = post(event_body(**change))
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert response.get_json()["error"].startswith(f"{field}:")
    assert log_size(app) == 0


def test_a_missing_field_is_named(app, post):
    body = event_body()
    del body["stream"]
    response = post(body)
    assert response.status_code == 422 and response.get_json()["field"] == "stream"


def test_every_wrong_data_field_is_listed_with_the_first_in_field(app, post):
    response = post(event_body(data={"title": "ACSA signed", "term": "2018", "parties": "France", "short": 3}))
    assert response.status_code == 422
    answer = response.get_json()
    listed = {e["field"]: e["reason"] for e in answer["errors"]}
    assert set(listed) == {"data.term", "data.parties", "data.short"}
    assert answer["field"] == answer["errors"][0]["field"]
    assert "interval" in listed["data.term"] and "list" in listed["data.parties"]
    assert log_size(app) == 0


def test_an_event_without_event_id_or_idempotency_key_is_refused(app, post):
    body = event_body()
    del body["event_id"]
    response = post(body)
    assert response.status_code == 422
    assert response.get_json()["field"] == "event_id"
    assert "Idempotency-Key" in response.get_json()["error"]
    assert log_size(app) == 0


def test_an_idempotency_key_makes_a_retry_append_once(app, post):
    body = event_body()
    del body["event_id"]
    first = post(body, headers={"Idempotency-Key": "job-42/attempt"})
    again = post(body, headers={"Idempotency-Key": "job-42/attempt"})
    other = post(body, headers={"Idempotency-Key": "job-43"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.get_json()["event_id"] == again.get_json()["event_id"] != other.get_json()["event_id"]
    assert str(uuid.UUID(first.get_json()["event_id"])) == first.get_json()["event_id"]
    assert log_size(app) == 2


def test_the_same_idempotency_key_with_another_body_is_a_conflict(app, post):
    body = event_body()
    del body["event_id"]
    assert post(body, headers={"Idempotency-Key": "k1"}).status_code == 201
    response = post({**body, "occurred": "2018-07-13"}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 409 and log_size(app) == 1


def test_idempotency_keys_of_two_editors_are_two_events(app, client, post, api_token):
    from service.editing import accounts

    with app.app_context():
        accounts.create_editor("grace", "correct horse battery staple")
        other_token = accounts.create_token("grace")
    body = event_body()
    del body["event_id"]
    ids = {post(body, token=token, headers={"Idempotency-Key": "same"}).get_json()["event_id"]
           for token in (api_token, other_token)}
    assert len(ids) == 2 and log_size(app) == 2


@pytest.mark.parametrize(("key", "with_event_id"), [("", False), ("a b", False), ("x" * 256, False),
                                                    ("é", False), ("fine", True)])
def test_a_bad_idempotency_key_or_one_sent_with_an_event_id_is_400(app, post, key, with_event_id):
    body = event_body()
    if not with_event_id:
        del body["event_id"]
    response = post(body, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "Idempotency-Key"
    assert log_size(app) == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer chr_not-a-real-token"},
                                     {"Authorization": "Basic YWRhOnB3"}])
def test_writes_need_a_valid_bearer_token(app, client, headers):
    response = client.post("/api/events", json=event_body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]
    assert log_size(app) == 0


def test_a_revoked_token_no_longer_writes(app, post, api_token, editor_account):
    from service.editing import accounts

    with app.app_context():
        accounts.revoke_tokens(editor_account[0])
    assert post(event_body()).status_code == 401


def test_the_api_needs_no_csrf_token(app, post):
    assert app.config.get("WTF_CSRF_ENABLED", True)
    assert post(event_body()).status_code == 201


def test_bodies_that_are_not_one_json_event_are_refused(app, client, api_token):
    auth = {"Authorization": f"Bearer {api_token}"}
    as_form = client.post("/api/events", data={"stream": "agreement/acsa"}, headers=auth)
    assert as_form.status_code == 415 and "application/json" in as_form.get_json()["error"]
    broken = client.post("/api/events", data=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.get_json()["error"]
    a_list = client.post("/api/events", json=[event_body()], headers=auth)
    assert a_list.status_code == 400 and "JSON object" in a_list.get_json()["error"]
    assert log_size(app) == 0


def test_a_body_too_large_is_413(app, post):
    response = post(event_body(data={"title": "big", "summary": "x" * (300 * 1024)}))
    assert response.status_code == 413
    assert "larger than the limit" in response.get_json()["error"]
    assert log_size(app) == 0


def test_reading_pages_the_log_by_position(app, client, post):
    ids = [post(event_body(occurred=f"2018-0{m}")).get_json()["event_id"] for m in range(1, 6)]
    first = client.get("/api/events?limit=2")
    assert first.status_code == 200
    page = first.get_json()
    assert [e["event_id"] for e in page["events"]] == ids[:2]
    assert page["events"][0]["position"] == 1 and page["head"] == 5
    assert page["next"] == "/api/events?after=2&limit=2"
    assert first.headers["Link"] == '</api/events?after=2&limit=2>; rel="next"'
    seen = [e["event_id"] for e in page["events"]]
    url = page["next"]
    while True:
        page = client.get(url).get_json()
        if not page["events"]:
            break
        seen += [e["event_id"] for e in page["events"]]
        url = page["next"]
    assert seen == ids
    assert page["next"] == "/api/events?after=5&limit=2"  # an empty page keeps the cursor


def test_read_events_have_the_export_shape(app, client, post):
    post(event_body())
    (event,) = client.get("/api/events").get_json()["events"]
    with app.app_context():
        assert event == events.store.read()[0].to_dict()


@pytest.mark.parametrize(("query", "name"), [
    ("after=-1", "after"), ("after=abc", "after"), ("after=1.5", "after"), ("limit=0", "limit"),
    ("limit=5000", "limit"), ("wait=31", "wait"), ("wait=soon", "wait"), ("wait=nan", "wait"),
    ("limit=²", "limit"), ("after=٣", "after"), ("after=9223372036854775808", "after"), ("wait=1e3", "wait"),
])
def test_bad_read_parameters_are_400_naming_them(client, query, name):
    response = client.get(f"/api/events?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == name
    assert response.get_json()["error"].startswith(f"{name}: ")


def test_a_cursor_beyond_the_head_is_400_naming_the_head(app, client, post):
    """A follower whose cursor is wrong would otherwise wait in vain, or skip the events it missed."""
    post(event_body())
    for query in ("after=2", "after=999999999&wait=30"):
        start = time.monotonic()
        response = client.get(f"/api/events?{query}")
        assert response.status_code == 400 and time.monotonic() - start < 2
        assert response.get_json()["head"] == 1 and "beyond the head of the log (position 1)" in \
            response.get_json()["error"]
    assert client.get("/api/events?after=1").status_code == 200


def test_long_polls_past_the_budget_are_answered_at_once_with_retry_after(sqlite_url, tmp_path):
    from tests.conftest import make_app

    application = make_app(sqlite_url, tmp_path / "instance", LONG_POLL_BUDGET=2)
    held, answers = [], []

    def follow():
        answers.append(application.test_client().get("/api/events?after=0&wait=3"))

    for _ in range(2):
        held.append(threading.Thread(target=follow))
        held[-1].start()
    time.sleep(0.5)
    start = time.monotonic()
    turned_away = application.test_client().get("/api/events?after=0&wait=3")
    assert time.monotonic() - start < 1
    assert turned_away.status_code == 200 and turned_away.headers["Retry-After"] == "5"
    assert turned_away.get_json()["events"] == [] and turned_away.get_json()["retry_after"] == 5
    for thread in held:
        thread.join(timeout=10)
    assert [a.status_code for a in answers] == [200, 200] and all("Retry-After" not in a.headers for a in answers)
    again = application.test_client().get("/api/events?after=0&wait=0.2")  # the held ones were released
    assert "Retry-After" not in again.headers


def test_an_unknown_event_is_a_json_404(client):
    assert client.get(f"/api/events/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/events/not-a-uuid").get_json()["error"] == "no event with id not-a-uuid"


def test_a_long_poll_returns_as_soon_as_an_event_is_committed(app, client, api_token):
    results = {}

    def follow():
        start = time.monotonic()
        results["page"] = app.test_client().get("/api/events?after=0&wait=20").get_json()
        results["took"] = time.monotonic() - start

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.5)
    client.post("/api/events", json=event_body(), headers={"Authorization": f"Bearer {api_token}"})
    follower.join(timeout=25)
    assert [e["position"] for e in results["page"]["events"]] == [1]
    assert 0.4 < results["took"] < 5


def test_a_long_poll_sees_appends_made_by_another_process(app, client, new_event):
    import projections  # noqa: F401  (the app's read models exist; this append bypasses the service)

    def append_elsewhere():
        time.sleep(0.5)
        with app.app_context():
            # Write behind the process's own listener, as another process would.
            listeners, events.store._listeners[:] = list(events.store._listeners), []
            try:
                events.append([new_event()], author="elsewhere")
            finally:
                events.store._listeners[:] = listeners

    writer = threading.Thread(target=append_elsewhere)
    writer.start()
    start = time.monotonic()
    page = client.get("/api/events?after=0&wait=20").get_json()
    writer.join()
    assert [e["author"] for e in page["events"]] == ["elsewhere"]
    assert time.monotonic() - start < 5


def test_a_long_poll_with_nothing_new_returns_an_empty_page_after_the_wait(client):
    start = time.monotonic()
    page = client.get("/api/events?after=0&wait=0.5").get_json()
    assert page["events"] == [] and page["next"] == "/api/events?after=0&limit=100"
    assert 0.45 < time.monotonic() - start < 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@st.composite
def mangled_bodies(draw):
    """A valid event with some fields replaced by arbitrary JSON, removed, or added."""
    body = event_body()
    for key in draw(st.lists(st.sampled_from([*body, "expected_version", "position", "extra"]), max_size=4)):
        if draw(st.booleans()):
            body[key] = draw(json_values)
        else:
            body.pop(key, None)
    return body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=mangled_bodies())
def test_no_body_gets_a_500_and_a_refusal_writes_nothing(app, post, body):
    before = log_size(app)
    response = post(body)
    assert response.status_code in (200, 201, 400, 409, 413, 415, 422), response.get_data(as_text=True)
    assert response.get_json()
    grew = log_size(app) - before
    assert grew == (1 if response.status_code == 201 else 0)
