"""Witnesses: an earlier export, or a saved Atom page, catches what the hash chain alone cannot."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import events
from events import store
from events.canonical import chain_hash, dumps
from events.integrity import verify
from events.transfer import export
from events.witness import WitnessError, compare, read_claims

NS = "urn:example:chronology"
ATOM = "http://www.w3.org/2005/Atom"
README = Path(__file__).resolve().parents[2] / "README.md"


def exported(after: int = 0) -> bytes:
    out = io.BytesIO()
    export(out, after)
    return out.getvalue()


def against(data: bytes, name: str = "the witness", **kwargs: object):
    return compare(read_claims(io.BytesIO(data), namespace=NS, **kwargs), witness=name)  # type: ignore[arg-type]


def five(new_event) -> list[events.RecordedEvent]:
    return events.append([new_event(title=f"Fact {i}") for i in range(5)], author="seed")


def atom_page(entries: list[tuple[int, str | None]]) -> bytes:
    body = "".join(f"<entry><id>urn:uuid:{i}</id><c:position>{p}</c:position>"
                   + (f"<c:hash>{h}</c:hash>" if h is not None else "") + "</entry>"
                   for i, (p, h) in enumerate(entries))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="{ATOM}" xmlns:c="{NS}">'
            f"<id>urn:x</id>{body}</feed>").encode()


def test_hashes_gives_the_hash_of_each_position_the_log_holds(log, new_event, monkeypatch):
    recorded = five(new_event)
    assert store.hashes([5, 1, 3, 99, 3]) == {1: recorded[0].hash, 3: recorded[2].hash, 5: recorded[4].hash}
    assert store.hashes([]) == {}
    monkeypatch.setattr(store, "HASHES_PER_QUERY", 2)
    assert store.hashes(range(1, 7)) == {e.position: e.hash for e in recorded}


def test_a_log_matches_its_own_export_and_later_appends_do_not_matter(log, new_event):
    five(new_event)
    earlier = exported()
    events.append([new_event(title="Later")], author="seed")
    result = against(earlier)
    assert result.ok and result.compared == 5 and result.head == 6
    assert str(result) == "matches the witness: 5 positions compared, 1 to 5 (the log's head is 6)"


def test_an_earlier_export_catches_a_chain_rewritten_from_an_altered_row(log, new_event, rewrite):
    five(new_event)
    earlier = exported()
    rewrite(3, "UPDATE event SET data = replace(data, 'Fact 2', 'Forged') WHERE position = 3")
    assert verify().ok  # the chain alone cannot tell
    assert b"Forged" in exported()
    result = against(earlier)
    assert not result.ok and result.position == 3 and result.compared == 2
    assert "the record was altered, or the chain rewritten" in result.reason
    assert str(result).startswith("DIFFERS from the witness at position 3: ")


def test_an_earlier_export_catches_a_truncated_tail(log, new_event, tamper):
    five(new_event)
    earlier = exported()
    tamper("DELETE FROM event WHERE position > 3")
    assert verify().ok
    result = against(earlier)
    assert not result.ok and result.position == 4
    assert result.reason == ("the log ends at position 3, but the witness holds positions up to 5: "
                             "events were removed from the end of the log")


def test_a_partial_export_witnesses_the_hash_its_first_line_links_to(log, new_event, rewrite):
    five(new_event)
    partial = exported(after=3)
    assert against(partial).ok
    rewrite(3, "UPDATE event SET author = 'mallory' WHERE position = 3")
    assert against(partial).position == 3


def test_an_empty_witness_has_nothing_to_compare(log, new_event):
    five(new_event)
    result = against(b"")
    assert result.ok and result.compared == 0
    assert str(result) == "nothing to compare: the witness holds no positions"


def _line(raw: bytes, **changes: object) -> bytes:
    """An export line with ``changes``, its hash recomputed so it is consistent on its own."""
    doc = {**orjson.loads(raw), **changes}
    doc.pop("hash")
    return dumps({**doc, "hash": chain_hash(dumps(doc))})


def test_a_forged_witness_line_is_refused_not_believed(log, new_event):
    five(new_event)
    lines = exported().splitlines()
    altered = [*lines[:1], lines[1].replace(b"Fact 1", b"Fact X"), *lines[2:]]
    with pytest.raises(WitnessError, match=r"line 2 \(position 2\): its hash is not the hash of its content"):
        against(b"\n".join(altered))
    relinked = [lines[0], _line(lines[1], data={"title": "Fact X"}), *lines[2:]]  # consistent alone, not linked
    with pytest.raises(WitnessError, match=r"line 3 \(position 3\): prev_hash is not the hash of the line before"):
        against(b"\n".join(relinked))
    with pytest.raises(WitnessError, match=r"line 1 \(position 1\): prev_hash must be 64 zeros"):
        against(_line(lines[0], prev_hash="1" * 64))
    with pytest.raises(WitnessError, match="line 2: position 1 does not come after position 1"):
        against(lines[0] + b"\n" + lines[0])


@pytest.mark.parametrize(("data", "message"), [
    (b"hello\n", "line 1: neither JSON Lines"),
    (b"\n{not json\n", "line 2: not JSON"),
    (b'{"position": 1}\n', "line 1: not an export line (missing ["),
    (b"<feed", "not well-formed XML"),
    (b'<rss version="2.0"/>', "not an Atom feed document"),
])
def test_a_witness_that_is_not_one_says_why(log, data, message):
    with pytest.raises(WitnessError, match=message.replace("(", r"\(").replace("[", r"\[")):
        against(data)


def test_a_witness_larger_than_its_bound_is_refused(log, new_event):
    five(new_event)
    with pytest.raises(WitnessError, match="larger than 100 bytes"):
        against(exported(), max_bytes=100)


def test_a_saved_atom_page_is_a_witness(log, new_event, rewrite):
    recorded = five(new_event)
    claims = [(e.position, e.hash) for e in reversed(recorded)] + [(3, recorded[2].hash), (2, None)]
    page = atom_page(claims)
    result = against(page)
    assert result.ok and result.compared == 5
    rewrite(2, "UPDATE event SET data = replace(data, 'Fact 1', 'Forged') WHERE position = 2")
    assert verify().ok
    assert against(page).position == 2


def test_a_saved_atom_page_catches_a_truncated_tail(log, new_event, tamper):
    recorded = five(new_event)
    page = atom_page([(e.position, e.hash) for e in recorded[3:]])  # an archive page of positions 4 and 5
    tamper("DELETE FROM event WHERE position > 2")
    result = against(page)
    assert result.position == 3 and "holds positions up to 5" in result.reason


def test_an_atom_page_that_contradicts_itself_or_carries_no_hash_is_refused(log):
    with pytest.raises(WitnessError, match="position 2 two different hashes"):
        against(atom_page([(2, "a" * 64), (2, "b" * 64)]))
    with pytest.raises(WitnessError, match="saved before entries carried their event's hash"):
        against(atom_page([(1, None), (2, None)]))
    with pytest.raises(WitnessError, match="entry 1: hash 'zz' is not 64"):
        against(atom_page([(1, "zz")]))


def test_an_atom_witness_never_resolves_entities(log, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("a" * 64)
    page = (f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file://{secret}">]>'
            f'<feed xmlns="{ATOM}" xmlns:c="{NS}"><entry><c:position>1</c:position><c:hash>&x;</c:hash></entry>'
            "</feed>").encode()
    with pytest.raises(WitnessError, match="entry 1: hash '' is not 64"):
        against(page)


# --- the README's algorithm, checked without this code -------------------------------


def readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("```python\n# check_export.py") + len("```python\n")
    return text[start:text.index("```", start)]


def test_the_readme_snippet_checks_a_real_export_without_this_code(seeded, tmp_path):
    script = tmp_path / "check_export.py"
    script.write_text(readme_snippet(), encoding="utf-8")
    assert len(readme_snippet().splitlines()) <= 20
    download = tmp_path / "log.jsonl"
    download.write_bytes(exported())
    run = subprocess.run([sys.executable, str(script), str(download)], capture_output=True, text=True, check=False)
    head = events.head()
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"ok: {head.position} events, head {head.hash}\n"
    lines = download.read_bytes().splitlines(keepends=True)
    lines[6] = lines[6].replace(b'"author":"seed"', b'"author":"sEEd"')
    download.write_bytes(b"".join(lines))
    run = subprocess.run([sys.executable, str(script), str(download)], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "line 7: position 7 was altered" in run.stderr
    download.write_bytes(b"".join(lines[:3] + lines[4:]))
    run = subprocess.run([sys.executable, str(script), str(download)], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "line 4: position 4 is missing" in run.stderr


def test_python_json_writes_the_same_bytes_as_the_log_for_every_line_of_a_real_export(seeded):
    for line in exported().splitlines():
        doc = json.loads(line)
        assert json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == line


def _python(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_python_json_and_the_canonical_form_differ_only_where_the_readme_says():
    """Every string and integer the log can hold is written alike; floats only outside 1e-9 <= |x| < 1e-4."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert _python({"é": everything, "a": [2**63 - 1, -(2**63), 0, True, None]}) == dumps(
        {"é": everything, "a": [2**63 - 1, -(2**63), 0, True, None]})
    assert (dumps(1e-7), _python(1e-7)) == (b"1e-7", b"1e-07")  # the README's examples
    assert (dumps(2e-5), _python(2e-5)) == (b"0.00002", b"2e-05")
    rng = random.Random(16)
    values = [struct.unpack("d", rng.randbytes(8))[0] for _ in range(20_000)]
    values += [m * 10.0**e for e in range(-300, 300) for m in (1, 1.5, 9.99)]
    for value in values:
        if value != value or abs(value) == float("inf"):
            continue
        assert (dumps(value) == _python(value)) == (not 1e-9 <= abs(value) < 1e-4), value
