from datetime import datetime, timedelta, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from events.canonical import chain_hash, document, dumps, parse_utc, utc_text

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)

texts = st.text(min_size=1)


@given(
    author=texts, data=st.dictionaries(st.text(), json_values, max_size=5), event_id=texts, occurred=texts,
    hi=st.none() | texts, lo=st.none() | texts, position=st.integers(1, 2**62), prev=texts, recorded=texts,
    sources=st.lists(json_values, max_size=3), stream=texts, type_=texts, version=st.integers(1, 2**31),
    hash_=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_document_is_the_canonical_json_of_the_row(author, data, event_id, occurred, hi, lo, position, prev,
                                                    recorded, sources, stream, type_, version, hash_):
    row = dict(author=author, data=data, event_id=event_id, occurred=occurred, occurred_hi=hi, occurred_lo=lo,
               position=position, prev_hash=prev, recorded_at=recorded, sources=sources, stream=stream,
               type=type_, version=version)
    if hash_ is not None:
        row["hash"] = hash_
    built = document(**{**row, "data": dumps(data), "sources": dumps(sources), "hash": hash_})
    assert built == orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
    assert orjson.loads(built) == row
    # Columns that are not bytes take the joined path: it must write the same document.
    joined = document(**{**row, "data": bytearray(dumps(data)), "sources": memoryview(dumps(sources)),
                         "hash": hash_})
    assert joined == built


def test_chain_hash_is_sha256_hex():
    assert chain_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@given(st.datetimes(min_value=datetime(1970, 1, 2), timezones=st.just(timezone(timedelta(hours=9)))))
def test_utc_text_is_fixed_width_and_round_trips(moment):
    text = utc_text(moment)
    assert len(text) == 27 and text.endswith("Z")
    assert parse_utc(text) == moment
