from datetime import UTC, datetime

import pytest

import events
import projections
from events.integrity import verify
from events.transfer import import_lines
from service import create_app, pipeline
from service.operations import integrity, jobs
from service.operations.jobs import CalendarPublication, JobRun


@pytest.fixture
def jobs_app(seeded, tmp_path):
    app = create_app({"DATABASE_URL": seeded, "TESTING": True, "SECRET_KEY": "test", "BACKUP_KEEP": 2})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        jobs.create_tables()
    return app


def test_each_job_runs_under_an_app_context_and_records_its_outcome(jobs_app):
    for name in jobs.JOBS:
        run = jobs.run(jobs_app, name)
        assert run.outcome == "ok", run.detail
        assert run.finished_at >= run.started_at
    with jobs_app.app_context():
        assert set(jobs.last_runs()) == set(jobs.JOBS)


def test_a_failing_job_is_recorded_with_its_traceback_and_does_not_raise(jobs_app, monkeypatch):
    def broken() -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(jobs.JOBS, "verify", jobs.Job("verify", broken, jobs.JOBS["verify"].every, "x"))
    run = jobs.run(jobs_app, "verify")
    assert run.outcome == "failed"
    assert "RuntimeError: disk on fire" in run.detail and "Traceback" in run.detail
    monkeypatch.undo()
    assert jobs.run(jobs_app, "verify").outcome == "ok"  # retried on the next run


def test_catch_up_brings_read_models_level_with_appends_from_elsewhere(jobs_app, new_event):
    events.append([new_event(stream="agreement/new-one", title="A new agreement")], author="other-host")
    assert jobs.run(jobs_app, "catch-up").outcome == "ok"
    with jobs_app.app_context():
        assert all(s.lag == 0 for s in projections.status())


def test_verify_job_fails_visibly_on_a_broken_chain(jobs_app, tamper):
    with jobs_app.app_context():
        tamper("UPDATE event SET author = 'mallory' WHERE position = 3")
    run = jobs.run(jobs_app, "verify")
    assert run.outcome == "failed" and "BROKEN at position 3" in run.detail


def test_backups_are_dated_rotated_and_restore_to_the_same_hashes(jobs_app, tmp_path, new_event):
    for i in range(3):
        with jobs_app.app_context():
            events.append([new_event(title=f"Fact {i}")], author="editor")
        assert jobs.run(jobs_app, "backup").outcome == "ok"
    files = sorted((tmp_path / "instance" / "backups").glob("chronology-*.jsonl"))
    assert len(files) == 2  # BACKUP_KEEP
    with jobs_app.app_context():
        original = [e.hash for e in events.read_all()]
    events.connect(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    events.create_schema()
    import_lines(files[-1].read_bytes().splitlines())
    assert [e.hash for e in events.read_all()] == original
    assert verify().ok


def test_calendar_transitions_are_published_once_when_due(jobs_app, monkeypatch):
    notified = []
    monkeypatch.setattr(pipeline, "ping_hubs", notified.append)
    with jobs_app.app_context():
        assert jobs.run(jobs_app, "calendar").detail == "published 0 calendar transitions"
        monkeypatch.setattr(jobs, "now", lambda: datetime(2028, 1, 2, tzinfo=UTC))
        assert jobs.run(jobs_app, "calendar").detail == "published 1 calendar transitions"
        assert jobs.run(jobs_app, "calendar").detail == "published 0 calendar transitions"
        [published] = CalendarPublication.select()
        assert published.model == "agreements"
        assert published.effective_at == datetime(2028, 1, 1, tzinfo=UTC)
        assert JobRun.select().where(JobRun.name == "calendar").count() == 3
    assert notified == [["agreements"]]


def test_job_history_is_pruned_to_the_newest_runs_of_each_job(jobs_app, monkeypatch):
    monkeypatch.setattr(jobs, "KEEP_RUNS", 3)
    runs = [jobs.run(jobs_app, "catch-up").id for _ in range(5)]
    jobs.run(jobs_app, "verify")
    with jobs_app.app_context():
        kept = [r.id for r in JobRun.select().where(JobRun.name == "catch-up").order_by(JobRun.id)]
        assert kept == runs[-3:]
        assert JobRun.select().where(JobRun.name == "verify").count() == 1


# --- the scheduled check holds the log against the newest backup ------------------------


def test_the_verify_job_catches_a_rewritten_chain_through_the_newest_backup(jobs_app, rewrite):
    assert jobs.run(jobs_app, "backup").outcome == "ok"
    with jobs_app.app_context():
        rewrite(50, "UPDATE event SET author = 'mallory' WHERE position = 50")
        assert verify().ok  # the chain alone cannot tell
    run = jobs.run(jobs_app, "verify")
    assert run.outcome == "failed"
    assert "DIFFERS from backup chronology-" in run.detail and "at position 50: the hash there" in run.detail
    with jobs_app.app_context():
        verdict = integrity.latest()
    assert verdict.broken_at == 50 and "the record was altered, or the chain rewritten" in verdict.reason


def test_the_verify_job_catches_a_truncated_tail_through_the_newest_backup(jobs_app, tamper):
    assert jobs.run(jobs_app, "backup").outcome == "ok"
    with jobs_app.app_context():
        tamper("DELETE FROM event WHERE position > 80")
    run = jobs.run(jobs_app, "verify")
    assert run.outcome == "failed" and "at position 81: the log ends at position 80" in run.detail
    with jobs_app.app_context():
        assert integrity.latest().broken_at == 81


def test_no_backup_is_taken_of_a_log_that_differs_from_the_last_one(jobs_app, tmp_path, rewrite):
    assert jobs.run(jobs_app, "backup").outcome == "ok"
    with jobs_app.app_context():
        rewrite(30, "UPDATE event SET author = 'mallory' WHERE position = 30")
    run = jobs.run(jobs_app, "backup")
    assert run.outcome == "failed" and "no backup taken: the record failed verification at position 30" in run.detail
    assert len(list((tmp_path / "instance" / "backups").glob("chronology-*.jsonl"))) == 1  # the evidence is kept


def test_a_clean_check_clears_the_verdict_and_a_forged_backup_fails_the_job_alone(jobs_app, tmp_path, tamper):
    with jobs_app.app_context():
        tamper("UPDATE event SET author = 'mallory' WHERE position = 3")
    assert jobs.run(jobs_app, "verify").outcome == "failed"
    with jobs_app.app_context():
        assert integrity.latest().broken_at == 3
        tamper("UPDATE event SET author = 'seed' WHERE position = 3")  # restored
    assert jobs.run(jobs_app, "verify").outcome == "ok"
    with jobs_app.app_context():
        assert integrity.latest().ok
    folder = tmp_path / "instance" / "backups"
    folder.mkdir(parents=True)
    (folder / "chronology-99991231T000000Z-p1.jsonl").write_bytes(b'{"position": 1}\n')
    run = jobs.run(jobs_app, "verify")
    assert run.outcome == "failed" and "cannot serve as a witness: line 1: not an export line" in run.detail
    with jobs_app.app_context():
        assert integrity.latest().ok  # the log itself verified
    assert jobs.run(jobs_app, "backup").outcome == "failed"
