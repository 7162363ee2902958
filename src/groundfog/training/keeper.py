"""The job keeper: keeps jobs moving after the process that started them exits.

A job advances while some platform drives it. A server (``groundfog up``) always does;
but ``groundfog training create`` without ``--wait``, or a script that calls ``fit(wait=
False)`` and ends, closes its platform while its jobs run. Closing hands them over and
starts this keeper, a detached process that claims them, drives them to their end
(uploads, spot restarts, tuning trials) and exits once no job is left running. One
keeper per home: a second one finds the lock taken and leaves at once.

    python -m groundfog.training.keeper     # configured by the GROUNDFOG_* variables
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundfog.core.config import Config

POLL_SECONDS = 1.0


def spawn(config: "Config") -> None:
    """Start a keeper for ``config``'s home, detached from this process."""
    logs = config.logs_dir
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDFOG_")}
    env.update(config.to_env())
    with open(logs / "job-keeper.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "groundfog.training.keeper"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def main() -> int:
    from groundfog.core.config import Config
    from groundfog.platform import Platform

    config = Config.from_env()
    if not config.home.exists():
        return 0  # deleted since it was spawned: nothing to keep, nothing to make anew
    with open(config.home / "job-keeper.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another keeper drives this home's jobs
        platform = Platform(config)
        try:
            services = platform.driven_services
            while True:
                platform.jobs.reconcile()
                for service in services:
                    service.reconcile()
                if not any(service.active_jobs() for service in services):
                    return 0
                if not config.home.exists():
                    # The home was deleted under it (a throwaway one, say): nobody can ask
                    # for these jobs' results any more, and a job waiting on a callback
                    # would keep this process forever.
                    print(f"job keeper: {config.home} is gone; leaving its jobs", flush=True)
                    return 0
                time.sleep(POLL_SECONDS)
        finally:
            # A keeper that fails hands its jobs to the next; one whose home is gone (its
            # state store with it) hands nothing, and must not make the home anew.
            platform.close(hand_over=config.home.exists())


if __name__ == "__main__":
    sys.exit(main())
