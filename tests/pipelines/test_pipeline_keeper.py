"""An execution started by a process that then exits is finished by the job keeper."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import sqlalchemy as sa
from pipeline_helpers import HERE, definition, lam, register_functions

from groundfog import Platform
from groundfog.core.config import Config
from groundfog.core.state import StateStore
from groundfog.pipelines.tables import executions


def test_cli_start_without_wait_is_finished_by_the_keeper(tmp_path):
    home = tmp_path / "home"
    record = tmp_path / "max"
    with Platform(Config(home=home)) as p:
        fns = register_functions(p)
        document = definition(lam("Slow", fns["sleepy"], {"record": str(record), "seconds": 1.5}),
                              lam("After", fns["noop"], DependsOn=["Slow"]))
        p.pipelines.upsert_pipeline(pipeline_name="kept", pipeline_definition=document)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GROUNDFOG_")}, **Config(home=home).to_env(),
           "PYTHONPATH": str(HERE)}
    done = subprocess.run(
        [sys.executable, "-c", "from groundfog.cli.main import main; main()", "pipelines", "start", "kept", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The CLI has exited; nobody but the keeper drives the execution now. Look without claiming:
    deadline = time.time() + 60
    while True:
        store = StateStore(Config(home=home).state_url)
        with store.read() as conn:
            row = conn.execute(sa.select(executions.c.status, executions.c.failure_reason)).first()
        store.dispose()
        if row.status not in ("Executing", "Stopping"):
            break
        log = (home / "logs" / "job-keeper.log")
        assert time.time() < deadline, f"stayed {row.status}: {log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
        time.sleep(0.3)
    assert row.status == "Succeeded", row.failure_reason


def _keepers_of(home) -> list[int]:
    """Pids of the job keepers whose GROUNDFOG_HOME is ``home``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if b"groundfog.training.keeper" not in f.read():
                    continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                if f"GROUNDFOG_HOME={home}".encode() in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def test_a_keeper_whose_home_is_deleted_leaves_and_recreates_nothing(tmp_path):
    import shutil

    home = tmp_path / "home"
    with Platform(Config(home=home)) as p:
        document = definition({"Name": "Gate", "Type": "Callback", "Arguments": {}})
        p.pipelines.upsert_pipeline(pipeline_name="gated", pipeline_definition=document)
        p.pipelines.start_pipeline_execution(pipeline_name="gated")
    # The execution waits for a callback nobody will send; the keeper drives it meanwhile.
    deadline = time.time() + 20
    while not _keepers_of(home):
        assert time.time() < deadline, "no keeper started"
        time.sleep(0.1)
    time.sleep(2)  # the keeper is up and polling
    shutil.rmtree(home)
    deadline = time.time() + 20
    while _keepers_of(home):
        assert time.time() < deadline, "the keeper outlived its home"
        time.sleep(0.1)
    time.sleep(0.5)
    assert not home.exists()
