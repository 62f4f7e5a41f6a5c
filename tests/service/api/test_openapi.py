"""The API's own description: a valid OpenAPI 3.1 document that names every route, and the API fuzzed from it."""

import uuid

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from events import declaration

YEARS = st.integers(1000, 2999).map(str)
DAYS = st.dates().filter(lambda d: 1000 <= d.year <= 2999).map(lambda d: d.isoformat())
EDTF = st.one_of(YEARS, DAYS, DAYS.map(lambda d: d[:7]))
schemathesis.openapi.format("edtf", st.one_of(EDTF, st.tuples(YEARS, YEARS).map("/".join)))
schemathesis.openapi.format("edtf-interval", st.tuples(EDTF, st.one_of(EDTF, st.just(".."))).map("/".join))


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_api_route_of_the_app_is_described(app, client):
    described = set(client.get("/api/openapi.json").get_json()["paths"])
    served = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") or rule.rule == "/log.jsonl"}
    assert served == described


def test_every_method_of_every_route_is_described(app, client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<", "{").replace(">", "}")
        served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert {path: set(operations) for path, operations in paths.items()} == {p: served[p] for p in paths}


@pytest.mark.parametrize("type_name", sorted(declaration.TYPES))
def test_each_type_schema_is_served_and_is_the_declarations(client, type_name):
    response = client.get(f"/api/schema/{type_name}.json")
    assert response.status_code == 200
    assert response.get_json() == declaration.json_schema(type_name)
    jsonschema.Draft202012Validator.check_schema(response.get_json())


GOOD_BODY = {"event_id": str(uuid.uuid4()), "stream": "meeting/2plus2", "type": "MeetingHeld",
             "occurred": "2017-01-06", "data": {"title": "Third 2+2", "session": 3, "mechanism": "2+2"},
             "sources": [{"url": "https://www.mofa.go.jp/", "quote": "the third 2+2"}]}


def test_a_type_schema_accepts_a_good_body_and_refuses_an_ill_typed_field(client):
    schema = client.get("/api/schema/MeetingHeld.json").get_json()
    body = GOOD_BODY
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(body))
    wrong = {**body, "data": {**body["data"], "session": "3"}}
    assert [list(e.absolute_path) for e in validator.iter_errors(wrong)] == [["data", "session"]]


def test_an_unknown_type_schema_is_a_json_404(client):
    response = client.get("/api/schema/AgreementSmashed.json")
    assert response.status_code == 404 and "AgreementSmashed" in response.get_json()["error"]


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_the_api_answers_as_it_is_described(app, api_token, mode):
    """Requests made from the document, valid and invalid: no 5xx, every status and body as documented, and what
    the document forbids refused."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    described = app.test_client().get("/api/openapi.json").get_json()["paths"]
    assert {o.label for o in operations} == {f"{method.upper()} {path}" for path, methods in described.items()
                                             for method in methods} - {"GET /api/openapi.json"}  # it reads that one
    if mode is schemathesis.GenerationMode.NEGATIVE:  # an operation that takes nothing cannot be sent it wrong
        operations = [o for o in operations if o.body or any(True for _ in o.iter_parameters())]
    seen: dict[str, set[int]] = {}
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_described(case):
            response = case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"}, checks=CHECKS)
            seen.setdefault(case.operation.label, set()).add(response.status_code)

        answers_as_described()
    assert not [label for label, statuses in seen.items() if any(status >= 500 for status in statuses)]


@pytest.mark.parametrize("sent_twice", [False, True])
def test_an_event_appended_and_sent_again_is_answered_as_described(app, api_token, sent_twice):
    """The fuzzed bodies are rarely all valid: a known good one checks the 201 and 200 answers too."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    append = schema["/api/events"]["POST"]
    case = append.Case(body=GOOD_BODY, media_type="application/json",
                       headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"})
    first = case.call_and_validate(checks=CHECKS)
    assert first.status_code == 201
    if sent_twice:
        assert case.call_and_validate(checks=CHECKS).status_code == 200
