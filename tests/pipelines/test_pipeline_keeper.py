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
