"""After a crash or restart, nothing stays InProgress forever and nothing is adopted twice.

Each "dead platform" here is a real separate Python process that builds its own
JobRunner on the same home and state store, submits a job, and dies (``os._exit`` or
SIGKILL) while the job's process runs on.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.executors import process_alive
from groundfog.core.jobs import ACTIVE, LOST, NEVER_STARTED, JobRunner, jobs_table
from groundfog.core.state import StateStore

PY = sys.executable

# The job waits for a "go" file, so the test decides when it ends (30 s at most).
WAITS_FOR_GO = textwrap.dedent("""
    import os, signal, sys, time
    if "--ignore-sigterm" in sys.argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ready", flush=True)
    deadline = time.time() + 30
    while not os.path.exists(sys.argv[1]):
        if time.time() > deadline:
            sys.exit(3)
        time.sleep(0.02)
    print("released", flush=True)
""")

# A platform that submits one job and dies: argv = home, url, name, how, command (JSON).
DYING_PLATFORM = textwrap.dedent("""
    import json, os, signal, sys
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.jobs import JobRunner
    from groundfog.core.state import StateStore
    home, url, name, how, command = sys.argv[1:6]
    state = StateStore(url)  # the test has migrated it
    runner = JobRunner(config=Config(home=home, state_url=url), state=state, clock=Clock())
    job = runner.submit("training", name, json.loads(command))
    print(job.id, flush=True)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(0)
""")


def eventually(check: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


class Env:
    """The shared home and state store, and ways to make platforms live and dead."""

    def __init__(self, home: Path, url: str) -> None:
        self.home, self.url = home, url
        self.state = StateStore(url)
        self.state.migrate()
        self.runners: list[JobRunner] = []

    def runner(self, **attrs: object) -> JobRunner:
        runner = JobRunner(
            config=Config(home=self.home, state_url=self.url), state=StateStore(self.url), clock=Clock()
        )
        for key, value in attrs.items():
            setattr(runner, key, value)
        self.runners.append(runner)
        return runner

    def go_file(self, name: str) -> Path:
        return self.home / f"go-{name}"

    def waiting_command(self, name: str, *flags: str) -> list[str]:
        return [PY, "-c", WAITS_FOR_GO, str(self.go_file(name)), *flags]

    def dying_platform(self, name: str, command: list[str] | None = None, how: str = "exit") -> str:
        """Submit a job from another process that then dies; returns the job id."""
        command = command or self.waiting_command(name)
        done = subprocess.run(
            [PY, "-c", DYING_PLATFORM, str(self.home), self.url, name, how, json.dumps(command)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.strip(), done.stderr
        return done.stdout.split()[0]

    def handed_over(self, name: str, command: list[str] | None = None) -> str:
        """Submit a job from a runner in this process that then closes; returns the job id."""
        first = self.runner()
        job_id = first.submit("training", name, command or self.waiting_command(name)).id
        first.close()
        return job_id

    def row(self, job_id: str) -> sa.Row:
        """The row as stored, without reconciling (describe would)."""
        with self.state.read() as conn:
            return conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id)).one()

    def update(self, job_id: str, **values: object) -> None:
        with self.state.write() as conn:
            conn.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(**values))

    def log(self, job_id: str) -> str:
        path = Path(self.row(job_id).log_path)
        return path.read_text() if path.exists() else ""

    def insert(self, name: str, **values: object) -> str:
        """A job row as a platform would have left it, without a process."""
        now = time.time()
        job_dir = self.home / "jobs" / "training" / name
        row = {
            "id": str(uuid.uuid4()), "kind": "training", "name": name, "status": "InProgress",
            "secondary_status": "Starting",
            "status_transitions": [{"Status": "Starting", "StartTime": now, "EndTime": None, "StatusMessage": ""}],
            "command": ["true"], "env": {}, "job_dir": str(job_dir), "workdir": str(job_dir),
            "log_path": str(job_dir / "logs" / "output.log"), "executor": "local", "resources": {},
            "handle": {}, "created_at": now, "owner": "elsewhere:boot:1:1:gone", "heartbeat_at": now - 3600,
            "boot_id": "an-earlier-boot",  # so no signal can reach a real process
            "attempts": 1, "spec": {}, **values,
        }  # fmt: skip
        with self.state.write() as conn:
            conn.execute(jobs_table.insert().values(**row))
        return str(row["id"])

    def close(self) -> None:
        for runner in self.runners:
            runner.close()
        with self.state.read() as conn:
            rows = conn.execute(sa.select(jobs_table).where(jobs_table.c.status.in_(ACTIVE))).all()
        for row in rows:
            if row.pid and process_alive(row.pid, row.process_start):
                os.killpg(row.pid, signal.SIGKILL)
        for runner in self.runners:
            runner.state.dispose()
        self.state.dispose()


@pytest.fixture
def env(tmp_path: Path, state_url: str) -> Iterator[Env]:
    e = Env(tmp_path / "home", state_url)
    yield e
    e.close()


def test_running_job_of_a_dead_platform_is_adopted_and_completes(env: Env) -> None:
    job_id = env.dying_platform("survivor", how="exit")
    assert env.row(job_id).status == "InProgress"

    runner = env.runner()
    runner.start_background()
    adopted = runner.describe(job_id)
    assert adopted.status == "InProgress" and adopted.owner == runner.owner
    assert eventually(lambda: "ready" in env.log(job_id))
    env.go_file("survivor").touch()
    done = runner.wait(job_id, timeout=20)

    assert done.status == "Completed" and done.exit_code == 0
    assert runner.logs(job_id).splitlines() == ["ready", "released"]


def test_job_whose_process_died_with_the_platform_fails_with_the_reason(env: Env) -> None:
    job_id = env.dying_platform("casualty", how="kill")
    row = env.row(job_id)
    os.killpg(row.pid, signal.SIGKILL)
    assert eventually(lambda: not process_alive(row.pid, row.process_start))

    runner = env.runner()
    assert runner.reconcile() == [job_id]
    done = runner.describe(job_id)

    assert done.status == "Failed" and done.failure_reason == LOST
    assert done.failure_reason == (
        "the job's process ended while groundfog was not running and left no exit status"
    )
    assert done.ended_at is not None and done.status_transitions[-1].status == "Failed"


def test_exit_status_file_settles_a_job_whose_row_still_says_in_progress(env: Env) -> None:
    job_id = env.dying_platform("finished-alone", [PY, "-c", "print('done'); raise SystemExit(3)"])
    exit_file = Path(env.row(job_id).job_dir) / ".exit_status"
    assert eventually(exit_file.exists)
    recorded = json.loads(exit_file.read_text())
    assert env.row(job_id).status == "InProgress"

    runner = env.runner()
    done = runner.describe(job_id)  # first use reconciles

    assert done.status == "Failed" and done.exit_code == 3
    assert done.failure_reason == "the job's process exited with code 3; its last output: done"
    assert done.ended_at == recorded["ended_at"]


def test_exit_status_file_of_a_stopping_job_settles_it_as_stopped(env: Env) -> None:
    job_id = env.insert("stopped-alone", status="Stopping", pid=4242, host=socket.gethostname())
    job_dir = Path(env.row(job_id).job_dir)
    job_dir.mkdir(parents=True)
    (job_dir / ".exit_status").write_text('{"exit_code": null, "signal": 15, "ended_at": 1.0}')

    done = env.runner().describe(job_id)

    assert done.status == "Stopped" and done.failure_reason is None
    assert done.exit_code == -signal.SIGTERM and done.ended_at == 1.0


def test_a_stopping_job_is_killed_when_adopted(env: Env) -> None:
    job_id = env.handed_over("stubborn", env.waiting_command("stubborn", "--ignore-sigterm"))
    assert eventually(lambda: "ready" in env.log(job_id))
    env.update(job_id, status="Stopping", stop_deadline=time.time() - 1)

    runner = env.runner()
    assert runner.reconcile() == [job_id]
    done = runner.wait(job_id, timeout=20)

    assert done.status == "Stopped"
    assert not process_alive(done.pid, done.process_start)


def test_stopping_an_orphaned_job_adopts_and_stops_it(env: Env) -> None:
    job_id = env.handed_over("orphan", env.waiting_command("orphan", "--ignore-sigterm"))
    assert eventually(lambda: "ready" in env.log(job_id))

    runner = env.runner()
    runner.stop(job_id, grace_seconds=0.3)
    done = runner.wait(job_id, timeout=20)

    assert done.status == "Stopped" and done.failure_reason is None
    assert not process_alive(done.pid, done.process_start)


def test_two_live_runners_never_both_adopt_a_job(env: Env) -> None:
    job_id = env.handed_over("contested")
    runners = [env.runner() for _ in range(4)]
    barrier = threading.Barrier(len(runners))
    claims: dict[str, list[str]] = {}

    def reconcile(runner: JobRunner) -> None:
        barrier.wait()
        claims[runner.owner] = runner.reconcile()

    threads = [threading.Thread(target=reconcile, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [owner for owner, ids in claims.items() if ids == [job_id]]
    assert len(claims) == 4 and len(winners) == 1
    assert env.row(job_id).owner == winners[0]
    env.go_file("contested").touch()
    assert runners[0].wait(job_id, timeout=20).status == "Completed"


def test_a_live_owner_keeps_its_jobs_until_its_heartbeat_goes_stale(env: Env) -> None:
    owner = env.runner(heartbeat_seconds=3600)  # goes quiet after submitting
    other = env.runner()
    finished: list[str] = []
    for runner in (owner, other):
        runner.on_status_change(lambda job: finished.append(job.status) if job.done else None)
    job = owner.submit("training", "quiet", env.waiting_command("quiet"))

    assert other.reconcile() == []
    env.update(job.id, heartbeat_at=time.time() - other.stale_seconds - 1)
    assert other.reconcile() == [job.id]
    assert other.reconcile() == []

    env.go_file("quiet").touch()
    done = other.wait(job.id, timeout=20)
    assert done.status == "Completed" and done.owner == other.owner
    time.sleep(0.6)  # both watchers have seen the end by now
    assert finished == ["Completed"]


def test_a_closed_runner_hands_its_jobs_to_the_next_one(env: Env) -> None:
    job_id = env.handed_over("handover")
    assert env.row(job_id).owner is None and env.row(job_id).status == "InProgress"

    second = env.runner()
    assert second.reconcile() == [job_id]
    env.go_file("handover").touch()

    assert second.wait(job_id, timeout=20).status == "Completed"


def test_a_job_never_launched_fails_once_its_owner_is_gone(env: Env) -> None:
    job_id = env.insert("never-launched", status="Pending")

    done = env.runner().describe(job_id)

    assert done.status == "Failed" and done.failure_reason == NEVER_STARTED


def test_jobs_of_another_host_wait_until_that_host_has_been_silent_long(env: Env) -> None:
    recent = env.insert("other-host-recent", pid=4242, host="other-host", heartbeat_at=time.time() - 60)
    silent = env.insert("other-host-silent", pid=4242, host="other-host", heartbeat_at=time.time() - 700)

    runner = env.runner()

    assert runner.reconcile() == [silent]
    assert runner.describe(recent).status == "InProgress"
    gone = runner.describe(silent)
    assert gone.status == "Failed"
    assert gone.failure_reason.startswith("the host other-host that ran the job has not reported for")


def test_background_supervision_settles_jobs_whose_platform_dies_later(env: Env) -> None:
    runner = env.runner(reconcile_seconds=0.2)
    runner.start_background()

    job_id = env.dying_platform("late-orphan", [PY, "-c", "import time; time.sleep(0.5)"], how="kill")

    completed = eventually(lambda: env.row(job_id).status == "Completed", timeout=20)
    assert completed, (env.row(job_id), env.log(job_id))
    assert env.row(job_id).owner == runner.owner
