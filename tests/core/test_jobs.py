"""The job runner runs real processes: lifecycle, logs, stop, resources, listeners.

Crash recovery and reconciliation are in test_jobs_recovery.py.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.executors import process_alive
from groundfog.core.jobs import ACTIVE, JobRunner, failure_reason_from_log, jobs_table
from groundfog.core.state import StateStore

PY = sys.executable


def script(code: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code)]


def eventually(check: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


@pytest.fixture
def make_runner(tmp_path: Path, state_url: str) -> Iterator[Callable[..., JobRunner]]:
    """Runners on one home and state store; no job process outlives the test."""
    runners: list[JobRunner] = []

    def make(**attrs: object) -> JobRunner:
        state = StateStore(state_url)
        state.migrate()
        runner = JobRunner(config=Config(home=tmp_path / "home", state_url=state_url), state=state, clock=Clock())
        for key, value in attrs.items():
            setattr(runner, key, value)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.close()
    if runners:
        with runners[0].state.read() as conn:
            rows = conn.execute(sa.select(jobs_table).where(jobs_table.c.status.in_(ACTIVE))).all()
        for row in rows:
            if row.pid and process_alive(row.pid, row.process_start):
                os.killpg(row.pid, signal.SIGKILL)
    for runner in runners:
        runner.state.dispose()


@pytest.fixture
def runner(make_runner: Callable[..., JobRunner]) -> JobRunner:
    return make_runner()


def test_job_that_exits_zero_completes_with_its_output_in_its_own_log(runner: JobRunner) -> None:
    job = runner.submit("processing", "hello", script("print('hello from the job')"))
    assert job.status == "InProgress" and job.pid and job.attempts == 1

    done = runner.wait(job.id, timeout=20)

    assert done.status == "Completed" and done.secondary_status == "Completed"
    assert done.exit_code == 0 and done.failure_reason is None
    assert done.job_dir == runner.config.jobs_dir / "processing" / "hello"
    assert done.log_path == done.job_dir / "logs" / "output.log"
    assert runner.logs(job.id) == "hello from the job\n"
    assert done.created_at <= done.started_at <= done.ended_at
    status = json.loads((done.job_dir / ".exit_status").read_text())
    assert status["exit_code"] == 0 and status["signal"] is None
    assert [t.status for t in done.status_transitions] == ["Starting", "Completed"]
    assert done.status_transitions[0].end_time == done.status_transitions[1].start_time


def test_failing_script_fails_with_its_exception_line_as_failure_reason(runner: JobRunner) -> None:
    job = runner.submit(
        "training",
        "broken",
        script("""
            print("epoch 1")
            def train():
                raise ValueError("learning rate must be positive, got -0.1")
            train()
        """),
    )

    done = runner.wait(job.id, timeout=20)

    assert done.status == "Failed" and done.exit_code == 1
    assert done.failure_reason == "ValueError: learning rate must be positive, got -0.1"
    assert done.status_transitions[-1].status == "Failed"
    assert done.status_transitions[-1].status_message == done.failure_reason


def test_command_that_cannot_be_run_fails_with_the_reason(runner: JobRunner) -> None:
    job = runner.submit("processing", "missing", ["groundfog-no-such-program", "--x"])

    done = runner.wait(job.id, timeout=20)

    assert done.status == "Failed" and done.exit_code == 127
    assert "groundfog-no-such-program" in done.failure_reason
    assert "No such file" in done.failure_reason


def test_env_and_workdir_are_honoured(runner: JobRunner, tmp_path: Path) -> None:
    show = script("import os; print(os.getcwd()); print(os.environ['EPOCHS'], os.environ['HOME'] != '')")
    relative = runner.submit("training", "rel", show, env={"EPOCHS": "3"}, workdir="code")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    absolute = runner.submit("training", "abs", show, env={"EPOCHS": "5"}, workdir=elsewhere)

    assert runner.wait(relative.id, 20).status == "Completed"
    assert runner.wait(absolute.id, 20).status == "Completed"
    assert runner.logs(relative.id).splitlines() == [str(relative.job_dir / "code"), "3 True"]
    assert runner.logs(absolute.id).splitlines() == [str(elsewhere), "5 True"]
    assert not (elsewhere / ".exit_status").exists()  # the job's own directory keeps it


def test_cpus_pins_the_job_to_that_many_cpus(runner: JobRunner) -> None:
    job = runner.submit("training", "pinned", script("import os; print(sorted(os.sched_getaffinity(0)))"), cpus=1)

    done = runner.wait(job.id, timeout=20)

    assert done.status == "Completed"
    assert json.loads(runner.logs(job.id)) == done.resources["cpu_set"]
    assert len(done.resources["cpu_set"]) == 1 and done.resources["cpus"] == 1


def test_memory_mb_caps_the_jobs_address_space(runner: JobRunner) -> None:
    job = runner.submit("training", "greedy", script("block = bytearray(2 * 1024**3)"), memory_mb=300)

    done = runner.wait(job.id, timeout=20)

    assert done.status == "Failed"
    assert done.failure_reason == "MemoryError"


SPAWNS_AND_SLEEPS = """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    open("grandchild.pid", "w").write(str(child.pid))
    print("ready", flush=True)
    time.sleep(60)
"""


def test_stop_terminates_the_process_group_and_marks_the_job_stopped(runner: JobRunner) -> None:
    job = runner.submit("training", "long", script(SPAWNS_AND_SLEEPS))
    assert eventually(lambda: "ready" in runner.logs(job.id))
    grandchild = int((job.job_dir / "grandchild.pid").read_text())

    stopping = runner.stop(job.id, grace_seconds=30)
    done = runner.wait(job.id, timeout=20)

    assert stopping.status in ("Stopping", "Stopped")
    assert done.status == "Stopped" and done.failure_reason is None
    assert done.exit_code == -signal.SIGTERM
    assert [t.status for t in done.status_transitions] == ["Starting", "Stopping", "Stopped"]
    assert eventually(lambda: not process_alive(grandchild, None), timeout=5)
    assert runner.stop(job.id).status == "Stopped"  # stopping an ended job changes nothing


def test_stop_kills_a_job_that_ignores_sigterm_once_the_grace_period_is_over(runner: JobRunner) -> None:
    stubborn = """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open("grandchild.pid", "w").write(str(child.pid))
        print("ready", flush=True)
        time.sleep(60)
    """
    job = runner.submit("training", "stubborn", script(stubborn))
    assert eventually(lambda: "ready" in runner.logs(job.id))
    grandchild = int((job.job_dir / "grandchild.pid").read_text())

    started = time.monotonic()
    runner.stop(job.id, grace_seconds=0.5)
    assert runner.wait(job.id, timeout=0.3).status == "Stopping"
    done = runner.wait(job.id, timeout=20)

    assert done.status == "Stopped" and time.monotonic() - started >= 0.5
    assert done.exit_code == -signal.SIGKILL
    assert eventually(lambda: not process_alive(done.pid, done.process_start), timeout=5)
    assert eventually(lambda: not process_alive(grandchild, None), timeout=5)


def test_processes_a_finished_job_leaves_behind_are_killed(runner: JobRunner) -> None:
    leaves_child = """
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid)
    """
    done = runner.wait(runner.submit("processing", "leaky", script(leaves_child)).id, timeout=20)

    assert done.status == "Completed"
    assert eventually(lambda: not process_alive(int(runner.logs(done.id)), None), timeout=5)


def test_stop_asked_of_another_runner_is_carried_out_by_the_owner(make_runner: Callable[..., JobRunner]) -> None:
    owner, other = make_runner(), make_runner()
    job = owner.submit("training", "remote-stop", script("import time; print('ready', flush=True); time.sleep(60)"))
    assert eventually(lambda: "ready" in owner.logs(job.id))

    assert other.stop(job.id, grace_seconds=10).status == "Stopping"

    assert other.wait(job.id, timeout=20).status == "Stopped"


def test_status_listeners_hear_each_status_of_their_kind_in_order(runner: JobRunner) -> None:
    heard: list[tuple[str, str]] = []
    unsubscribe = runner.on_status_change(lambda job: heard.append((job.name, job.status)), kind="training")
    everything: list[str] = []
    runner.on_status_change(lambda job: everything.append(job.status))

    runner.wait(runner.submit("training", "t1", script("pass")).id, timeout=20)
    runner.wait(runner.submit("processing", "p1", script("raise SystemExit(2)")).id, timeout=20)
    unsubscribe()
    runner.wait(runner.submit("training", "t2", script("pass")).id, timeout=20)

    assert heard == [("t1", "Pending"), ("t1", "InProgress"), ("t1", "Completed")]
    assert everything.count("Completed") == 2 and everything.count("Failed") == 1


def test_a_failing_listener_does_not_stop_the_others(runner: JobRunner) -> None:
    heard: list[str] = []
    runner.on_status_change(lambda job: 1 / 0)
    runner.on_status_change(lambda job: heard.append(job.status))

    assert runner.wait(runner.submit("processing", "ok", script("pass")).id, timeout=20).status == "Completed"
    assert heard == ["Pending", "InProgress", "Completed"]


def test_logs_tail_and_follow_as_the_job_writes(runner: JobRunner) -> None:
    job = runner.submit(
        "processing",
        "chatty",
        script("""
            import time
            print("one"); time.sleep(0.3)
            print("two"); time.sleep(0.3)
            print("three", end="")
        """),
    )

    assert list(runner.follow(job.id)) == ["one", "two", "three"]
    assert runner.logs(job.id, tail=2) == "two\nthree"


def test_secondary_status_transitions_follow_sagemakers_shape(runner: JobRunner) -> None:
    job = runner.submit("training", "steps", script("import time; print('ready', flush=True); time.sleep(60)"))
    runner.set_secondary_status(job.id, "Downloading", "Downloading input data")
    runner.set_secondary_status(job.id, "Training", "Training image download completed. Training in progress.")
    runner.set_secondary_status(job.id, "Training", "Epoch 2")

    runner.stop(job.id, grace_seconds=5)
    done = runner.wait(job.id, timeout=20)

    shape = [t.model_dump(by_alias=True) for t in done.status_transitions]
    assert [t["Status"] for t in shape] == ["Starting", "Downloading", "Training", "Stopping", "Stopped"]
    assert set(shape[0]) == {"Status", "StartTime", "EndTime", "StatusMessage"}
    assert shape[2]["StatusMessage"] == "Epoch 2"
    assert all(a["EndTime"] == b["StartTime"] for a, b in zip(shape, shape[1:]))
    assert runner.set_secondary_status(job.id, "Uploading").secondary_status == "Stopped"


def test_describe_lookup_and_list(runner: JobRunner) -> None:
    first = runner.wait(runner.submit("training", "a", script("pass")).id, timeout=20)
    second = runner.wait(runner.submit("processing", "b", script("raise SystemExit(1)")).id, timeout=20)

    assert runner.describe(first.id).name == "a"
    assert runner.lookup("processing", "b").id == second.id
    assert [j.name for j in runner.list()] == ["b", "a"]
    assert [j.name for j in runner.list(kind="training")] == ["a"]
    assert [j.name for j in runner.list(status="Failed")] == ["b"]
    with pytest.raises(ResourceNotFound):
        runner.describe("no-such-id")
    with pytest.raises(ResourceNotFound):
        runner.lookup("training", "b")
    with pytest.raises(ValidationError, match="Running"):
        runner.list(status="Running")


def test_a_second_job_with_the_same_kind_and_name_is_refused(runner: JobRunner) -> None:
    first = runner.submit("training", "dup", script("print('first')"))
    runner.wait(first.id, timeout=20)

    with pytest.raises(ResourceInUse, match="dup"):
        runner.submit("training", "dup", script("print('second')"))

    assert runner.logs(first.id) == "first\n"  # the first job's directory is untouched
    assert runner.submit("processing", "dup", script("pass")).kind == "processing"


BAD_SUBMISSIONS = [
    ("kind", ("Training", "ok", ["true"]), {}),
    ("name", ("training", "not ok", ["true"]), {}),
    ("command", ("training", "ok", "python train.py"), {}),
    ("command", ("training", "ok", []), {}),
    ("command", ("training", "ok", ["python", 3]), {}),
    ("env", ("training", "ok", ["true"]), {"env": {"EPOCHS": 3}}),
    ("env", ("training", "ok", ["true"]), {"env": {"A=B": "1"}}),
    ("cpus", ("training", "ok", ["true"]), {"cpus": 0}),
    ("cpus", ("training", "ok", ["true"]), {"cpus": 4096}),
    ("memory_mb", ("training", "ok", ["true"]), {"memory_mb": -1}),
    ("spec", ("training", "ok", ["true"]), {"spec": {"when": object()}}),
    ("workdir", ("training", "ok", ["true"]), {"workdir": "/no/such/dir"}),
]


def test_bad_submissions_are_refused_naming_the_field_and_change_nothing(runner: JobRunner) -> None:
    for field, args, kwargs in BAD_SUBMISSIONS:
        with pytest.raises(ValidationError) as info:
            runner.submit(*args, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field, (field, args, kwargs, info.value)

    assert runner.list() == []
    assert not runner.config.jobs_dir.exists()


def test_the_ray_executor_is_refused_with_a_clear_message(tmp_path: Path, state_url: str) -> None:
    state = StateStore(state_url)
    state.migrate()
    runner = JobRunner(
        config=Config(home=tmp_path / "ray-home", state_url=state_url, executor="ray://127.0.0.1:10001"),
        state=state,
        clock=Clock(),
    )
    try:
        with pytest.raises(ValidationError, match="Ray executor arrives with a later issue"):
            runner.submit("training", "on-ray", ["true"])
        assert runner.list() == []
    finally:
        runner.close()
        state.dispose()


def test_stop_validates_its_grace_period(runner: JobRunner) -> None:
    job = runner.wait(runner.submit("processing", "quick", script("pass")).id, timeout=20)
    with pytest.raises(ValidationError):
        runner.stop(job.id, grace_seconds=-1)
    with pytest.raises(ResourceNotFound):
        runner.stop("no-such-id")


# -- failure reasons, as SageMaker's FailureReason (no process needed) -------------


@pytest.mark.parametrize(
    "log, exit_code, reason",
    [
        (
            'Traceback (most recent call last):\n  File "t.py", line 1, in <module>\n'
            '    raise KeyError("label")\nKeyError: \'label\'\n',
            1,
            "KeyError: 'label'",
        ),
        (
            "Traceback (most recent call last):\n  File \"t.py\", line 9\ntorch.cuda.OutOfMemoryError: CUDA out of memory\n",
            1,
            "torch.cuda.OutOfMemoryError: CUDA out of memory",
        ),
        (
            "  + Exception Group Traceback (most recent call last):\n  | ExceptionGroup: two (2 sub-exceptions)\n"
            "    | ValueError: first\n    +----\n",
            1,
            "ValueError: first",
        ),
        ("loading\nerror: input channel 'train' is empty\nbye\n", 2, "error: input channel 'train' is empty"),
        ("step 1\nstep 2\n", 3, "the job's process exited with code 3; its last output: step 2"),
        ("", 4, "the job's process exited with code 4"),
        ("anything", -9, "the job's process was killed by SIGKILL (out of memory, or killed from outside)"),
        ("anything", -15, "the job's process was killed by SIGTERM"),
    ],
)
def test_failure_reason_is_the_last_error_line_of_the_log(
    tmp_path: Path, log: str, exit_code: int, reason: str
) -> None:
    path = tmp_path / "output.log"
    path.write_text(log)
    assert failure_reason_from_log(path, exit_code) == reason


def test_failure_reason_is_at_most_1024_characters(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    path.write_text("RuntimeError: " + "x" * 5000 + "\n")
    reason = failure_reason_from_log(path, 1)
    assert len(reason) == 1024 and reason.startswith("RuntimeError: xxx") and reason.endswith("...")
