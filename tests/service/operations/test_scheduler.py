import time

import pytest

from service import create_app
from service.operations import jobs, scheduler
from service.operations.jobs import JobRun


@pytest.fixture
def make_app(seeded, tmp_path):
    def make():
        app = create_app({"DATABASE_URL": seeded, "TESTING": True, "SECRET_KEY": "test"})
        app.instance_path = str(tmp_path / "instance")
        with app.app_context():
            jobs.create_tables()
        return app

    return make


def test_only_one_process_can_hold_the_deployment_lock(make_app):
    first, second = scheduler.Leadership(make_app()), scheduler.Leadership(make_app())
    assert first.acquire()
    try:
        assert not second.acquire()
        assert first.still_held()
    finally:
        first.release()
    assert second.acquire()
    second.release()


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_one_scheduler_leads_and_another_takes_over_when_it_stops(make_app):
    app = make_app()
    a = scheduler.DeploymentScheduler(app, retry=0.1).start()
    b = scheduler.DeploymentScheduler(make_app(), retry=0.1).start()
    try:
        assert _wait_for(lambda: a.leading or b.leading)
        time.sleep(0.5)
        assert a.leading != b.leading
        leader, follower = (a, b) if a.leading else (b, a)
        with app.app_context():
            assert _wait_for(lambda: JobRun.select().where(JobRun.name == "catch-up").count() >= 1)
        leader.stop()
        assert _wait_for(lambda: follower.leading)
    finally:
        a.stop()
        b.stop()


def test_missed_work_runs_at_once_and_recent_work_waits(make_app):
    app = make_app()
    s = scheduler.DeploymentScheduler(app)
    now = jobs.now()
    assert s._first_run(jobs.JOBS["backup"], now) == now
    jobs.run(app, "backup")
    assert s._first_run(jobs.JOBS["backup"], now) > now


def test_create_app_starts_no_scheduler(make_app):
    make_app()
    assert scheduler._started is None
