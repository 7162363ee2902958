"""What a job is: its statuses, the ``Job`` model, and its status transitions.

A job's status goes ``Pending → InProgress → Completed | Failed | Stopped``, with
``Stopping`` between a stop request and the end. Services record their own steps
(``Downloading``, ``Training``...) as secondary statuses, kept in SageMaker's
``SecondaryStatusTransitions`` shape:

>>> with_transition([], "Starting", 10.0, "Preparing")
[{'Status': 'Starting', 'StartTime': 10.0, 'EndTime': None, 'StatusMessage': 'Preparing'}]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ACTIVE", "TERMINAL", "Job", "Listener", "StatusTransition", "with_transition"]

ACTIVE = ("Pending", "InProgress", "Stopping")
TERMINAL = ("Completed", "Failed", "Stopped")


class StatusTransition(BaseModel):
    """One entry of SageMaker's ``SecondaryStatusTransitions``."""

    model_config = ConfigDict(populate_by_name=True)

    status: str = Field(alias="Status")
    start_time: float = Field(alias="StartTime")
    end_time: float | None = Field(default=None, alias="EndTime")
    status_message: str = Field(default="", alias="StatusMessage")


class Job(BaseModel):
    """One job as the runner knows it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    kind: str
    name: str
    status: str
    secondary_status: str
    status_transitions: list[StatusTransition] = []
    failure_reason: str | None = None
    exit_code: int | None = None  # < 0: killed by that signal
    command: list[str]
    env: dict[str, str] = {}
    job_dir: Path
    workdir: Path
    log_path: Path
    executor: str
    resources: dict[str, Any] = {}
    handle: dict[str, Any] = {}
    pid: int | None = None
    host: str | None = None
    boot_id: str | None = None
    process_start: int | None = None
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    stop_deadline: float | None = None
    owner: str | None = None
    heartbeat_at: float | None = None
    attempts: int = 0
    spec: dict[str, Any] = {}

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


Listener = Callable[[Job], None]


def with_transition(transitions: list[dict[str, Any]], status: str, now: float, message: str) -> list[dict[str, Any]]:
    """A copy of ``transitions`` with the open one ended at ``now`` and ``status`` begun."""
    out = [dict(t) for t in transitions]
    if out and out[-1].get("EndTime") is None:
        out[-1]["EndTime"] = now
    end = now if status in TERMINAL else None
    out.append({"Status": status, "StartTime": now, "EndTime": end, "StatusMessage": message})
    return out
