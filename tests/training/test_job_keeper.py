"""A job started by a process that then exits is finished by the job keeper."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import sqlalchemy as sa
from training_helpers import make_platform, source_tarball

import groundfog as gf
from groundfog.core.config import Config
from groundfog.core.state import StateStore
from groundfog.training.tables import jobs

TICKS = b'import time\nfor i in range(6):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.3)\n'


def test_cli_create_without_wait_is_finished_by_the_keeper(tmp_path, breast_cancer_csv):
    home = tmp_path / "home"
    with make_platform(home) as p:
        p.storage.put_object("data", "train/train.csv", breast_cancer_csv[0])
        p.storage.put_object("code", "ticks.tar.gz", source_tarball(("ticks.py", TICKS)))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GROUNDFOG_")}, **Config(home=home).to_env()}
    done = subprocess.run(
        [sys.executable, "-c", "from groundfog.cli.main import main; main()", "training", "create", "--name", "kept-1",
         "--entry-point", "ticks.py", "--source-dir", "s3://code/ticks.tar.gz", "--framework", "sklearn",
         "--channel", "train=s3://data/train/", "--output-path", "s3://models/out", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The CLI has exited; nobody but the keeper drives the job now. Look without claiming:
    deadline = time.time() + 60
    while True:
        store = StateStore(Config(home=home).state_url)
        with store.read() as conn:
            row = conn.execute(sa.select(jobs.c.status, jobs.c.result).where(jobs.c.name == "kept-1")).first()
        store.dispose()
        if row.status == "Completed":
            break
        assert time.time() < deadline, f"the job stayed {row.status}: {(home / 'logs' / 'job-keeper.log').read_text(errors='replace')[-2000:]}"
        time.sleep(0.3)
    assert row.result["ModelArtifacts"]["S3ModelArtifacts"].endswith("kept-1/output/model.tar.gz")
    with gf.Platform(Config(home=home)) as p:
        assert "tick 5" in p.training.get_training_job_logs("kept-1")["Text"]
