"""The driver: carries one training or processing job from its row to its end.

A job is a resumable state machine kept in its ``training_jobs`` row. Its phase is
the secondary status: ``Starting`` → ``Downloading`` → ``Training`` (host processes run
under the core job runner) → [``Interrupted`` → ``Downloading`` → ``Training``]* →
``Uploading`` → ``Completed`` | ``Failed`` | ``Stopped``. Every step is idempotent and
recorded before the next begins, so whichever platform owns the row (the one that
created it, or the one that claimed it after its owner died) picks up where the row
says and finishes it: host processes keep running without a platform and are
adopted, downloads and uploads are simply done again.

What differs between kinds (inputs, commands, artifacts) is a ``Recipe``
(``training_recipe``, ``processing_recipe``); this module is the common loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from groundfog.core.errors import GroundfogError, ResourceInUse
from groundfog.core.job_models import with_transition
from groundfog.training.log_metrics import read_new_lines
from groundfog.training.tables import jobs, metric_values

if TYPE_CHECKING:
    from groundfog.training.jobs_base import JobsBase

log = logging.getLogger("groundfog.training")

TICK = 0.1
SYNC_SECONDS = 1.0
STOP_GRACE = 120.0  # SageMaker's SIGTERM-to-SIGKILL window on a stop


@dataclass
class HostCommand:
    host: str
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    cpus: int | None = None
    memory_mb: int | None = None


@dataclass
class Ending:
    """How the host processes of an attempt ended, as the recipe is told at upload."""

    status: str  # Completed | Stopped | Failed
    stop_reason: str | None = None
    failure_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Recipe(Protocol):
    core_kind: str

    def prepare(self, driver: "Driver", attempt: int) -> None:
        """Download inputs (and checkpoints) for ``attempt``; write config files."""

    def commands(self, driver: "Driver", attempt: int) -> list[HostCommand]:
        """The host processes of ``attempt``."""

    def during(self, driver: "Driver") -> None:
        """Called about once a second while hosts run (checkpoint / output sync)."""

    def after_interruption(self, driver: "Driver") -> None:
        """The instances are gone: save what a real one would have synced, clear the rest."""

    def upload(self, driver: "Driver", ending: Ending) -> dict[str, Any]:
        """Upload artifacts; returns fields for the job's result."""


class Driver:
    """One job's loop, in a thread of the platform that owns the job's row."""

    def __init__(self, service: "JobsBase", kind: str, name: str, recipe: Recipe) -> None:
        self.service = service
        self.kind = kind
        self.name = name
        self.recipe = recipe
        self.row: Any = None
        self._stop_sent: set[str] = set()
        self._last_sync = 0.0
        self._pending_log = ""

    # -- the row ---------------------------------------------------------------------

    @property
    def spec(self) -> dict[str, Any]:
        return self.row.spec

    @property
    def progress(self) -> dict[str, Any]:
        return dict(self.row.progress)

    @property
    def job_dir(self) -> Path:
        return self.service.job_dir(self.kind, self.name)

    @property
    def log_path(self) -> Path:
        return self.job_dir / "logs" / "output.log"

    def load(self) -> Any:
        with self.service.state.read() as conn:
            self.row = conn.execute(
                sa.select(jobs).where(jobs.c.kind == self.kind, jobs.c.name == self.name)
            ).first()
        return self.row

    def update(self, *, secondary: str | None = None, message: str = "", announce: bool = False, **values: Any) -> bool:
        """Write ``values`` if this platform still owns the job; False if it does not.

        ``announce`` emits the job's state-change event first, so a crash in between
        repeats the event (at least once) rather than losing it."""
        now = self.service.clock.time()
        values = {**values, "modified_at": now, "heartbeat_at": now}
        if secondary is not None and secondary != self.row.secondary_status:
            values["secondary_status"] = secondary
            values["transitions"] = with_transition(self.row.transitions, secondary, now, message)
        elif secondary is not None and message:
            transitions = [dict(t) for t in self.row.transitions]
            transitions[-1]["StatusMessage"] = message
            values["transitions"] = transitions
        if announce:
            self.service.emit_state_change(SimpleNamespace(**{**self.row._mapping, **values}))
        with self.service.state.write() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.kind == self.kind, jobs.c.name == self.name, jobs.c.owner == self.service.owner)
                .values(**values)
            )
        if done.rowcount != 1:
            return False
        self.load()
        self.service.changed()
        return True

    def say(self, line: str) -> None:
        """A line of the platform's own in the job's log, as SageMaker's toolkit writes."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.service.clock.time()))
        with open(self.log_path, "a") as f:
            f.write(f"{stamp} groundfog: {line}\n")

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.service.closing.is_set():
                if self.load() is None or self.row.owner != self.service.owner or self.row.status in ("Completed", "Failed", "Stopped"):
                    return
                phase = self.row.secondary_status
                self.step()
                if self.row is not None and self.row.secondary_status != phase:
                    continue  # a new phase starts at once
                self.service.closing.wait(TICK)
        except Exception as exc:  # noqa: BLE001 - a job must end, never hang InProgress
            log.exception("driver of %s job %s failed", self.kind, self.name)
            try:
                self.load()
                if self.row is not None and self.row.owner == self.service.owner:
                    self.fail(f"groundfog could not run the job: {type(exc).__name__}: {exc}")
            except Exception:  # noqa: BLE001
                log.exception("could not record the failure of %s", self.name)

    def step(self) -> None:
        phase = self.row.secondary_status
        if phase in ("Starting", "Downloading"):
            self.download()
        elif phase in ("Training", "Processing") or (phase == "Stopping" and self.progress.get("hosts")):
            self.watch()
        elif phase == "Interrupted":
            self.wait_for_capacity()
        elif phase == "Uploading":
            self.upload()
        elif phase == "Stopping":  # stopped before any host started
            self.update(progress={**self.progress, "ending": {"status": "Stopped", "stop_reason": "Stopped"}}, secondary="Uploading")

    def download(self) -> None:
        progress = self.progress
        attempt = progress.get("attempt", 0) + 1
        if self.row.secondary_status != "Downloading":
            self.update(secondary="Downloading", message="Downloading input data")
        try:
            self.recipe.prepare(self, attempt)
        except GroundfogError as exc:
            self.fail(str(exc))
            return
        if self.load().status == "Stopping":
            self.update(progress={**self.progress, "ending": {"status": "Stopped", "stop_reason": "Stopped"}}, secondary="Uploading")
            return
        self.launch(attempt)

    def launch(self, attempt: int) -> None:
        commands = self.recipe.commands(self, attempt)
        hosts: dict[str, str] = {}
        runner = self.service.jobs
        for command in commands:
            core_name = f"{self.name}-{command.host}-{attempt}"
            try:
                core = runner.submit(
                    self.recipe.core_kind, core_name, command.argv, env=command.env, workdir=command.workdir,
                    cpus=command.cpus, memory_mb=command.memory_mb,
                    spec={"kind": self.kind, "name": self.name, "host": command.host, "attempt": attempt},
                )  # fmt: skip
            except ResourceInUse:  # launched before a crash, but not yet recorded
                core = runner.lookup(self.recipe.core_kind, core_name)
            hosts[command.host] = core.id
        now = self.service.clock.time()
        progress = {**self.progress, "attempt": attempt, "hosts": hosts, "attempt_started_at": now, "interrupting": False}
        progress.setdefault("training_started_at", now)
        progress.setdefault("running_seconds", 0.0)
        phase = "Training" if self.kind == "training" else "Processing"
        message = "Training image download completed. Training in progress." if attempt == 1 else f"Restarted (attempt {attempt})"
        self.update(progress=progress, secondary=phase, message=message, started_at=self.row.started_at or now)

    def watch(self) -> None:
        runner = self.service.jobs
        cores = {host: runner.describe(job_id) for host, job_id in self.progress["hosts"].items()}
        self.tail_logs(cores)
        progress = self.progress  # after the tail, which records its log offsets
        now = self.service.clock.time()
        if now - self._last_sync >= SYNC_SECONDS:
            self._last_sync = now
            self.recipe.during(self)
        running = progress["running_seconds"] + (now - progress["attempt_started_at"])
        limits = self.spec.get("StoppingCondition", {})
        reason = progress.get("stop_reason")
        if reason is None:
            if self.row.status == "Stopping":
                reason = "Stopped"
            elif running > limits.get("MaxRuntimeInSeconds", float("inf")):
                reason = "MaxRuntimeExceeded"
            elif now - progress["training_started_at"] > limits.get("MaxWaitTimeInSeconds", float("inf")):
                reason = "MaxWaitTimeExceeded"
            if reason is not None:
                self.say(f"Stopping the job: {reason}")
                progress["stop_reason"] = reason
                self.update(progress=progress)
        interruption = progress.get("next_interruption")
        if reason is None and not progress.get("interrupting") and interruption is not None and running >= interruption:
            self.say(f"Spot instance interrupted after {running:.1f} s of training (capacity reclaimed)")
            progress["interrupting"] = True
            self.update(progress=progress)
        if reason is not None or progress.get("interrupting"):
            grace = STOP_GRACE if reason else float(self.spec.get("SpotInterruptions", {}).get("GraceSeconds", 2.0))
            for core in cores.values():
                if core.id not in self._stop_sent and not core.done:
                    runner.stop(core.id, grace_seconds=grace)
                    self._stop_sent.add(core.id)
        failed = [c for c in cores.values() if c.status == "Failed"]
        if failed and reason is None and not progress.get("interrupting"):
            for core in cores.values():  # one host failing ends the job, as on SageMaker
                if not core.done and core.id not in self._stop_sent:
                    runner.stop(core.id, grace_seconds=5.0)
                    self._stop_sent.add(core.id)
        if not all(c.done for c in cores.values()):
            return
        cores = {host: runner.describe(core.id) for host, core in cores.items()}
        self.tail_logs(cores)
        progress = self.progress  # what changed above is recorded already
        self.recipe.during(self)
        ended = max((c.ended_at or now) for c in cores.values())
        progress["running_seconds"] = progress["running_seconds"] + max(0.0, ended - progress["attempt_started_at"])
        progress["hosts_done"] = {h: {"status": c.status, "failure_reason": c.failure_reason} for h, c in cores.items()}
        if progress.get("interrupting") and reason is None:
            self.recipe.after_interruption(self)
            interruptions = progress.get("interruptions", []) + [round(progress["running_seconds"], 3)]
            delay = float(self.spec.get("SpotInterruptions", {}).get("RestartDelaySeconds", 2.0))
            progress.update(interruptions=interruptions, hosts={}, interrupting=False, resume_at=now + delay)
            progress["next_interruption"] = self.service.next_interruption(self.spec, progress["running_seconds"])
            self.update(progress=progress, secondary="Interrupted", message=f"Spot interruption {len(interruptions)}; waiting for capacity")
            return
        self._stop_sent.clear()
        if reason is not None:
            ending = {"status": "Stopped", "stop_reason": reason}
        elif failed:
            first = sorted(failed, key=lambda c: c.ended_at or now)[0]
            ending = {"status": "Failed", "failure_reason": self.recipe_failure(first)}
        else:
            ending = {"status": "Completed"}
        progress["ending"] = ending
        message = "Uploading generated training model" if self.kind == "training" else "Uploading outputs"
        self.update(progress=progress, secondary="Uploading", message=message)

    def recipe_failure(self, core: Any) -> str:
        """The script's own words: ``<output>/failure`` if it wrote one, else its last error."""
        host = core.spec.get("host", "algo-1")
        failure_file = self.job_dir / host / "opt" / "ml" / "output" / "failure"
        try:
            text = failure_file.read_text(errors="replace").strip()
        except OSError:
            text = ""
        return (text[:1024] if text else core.failure_reason) or "the job's process failed"

    def wait_for_capacity(self) -> None:
        progress = self.progress
        now = self.service.clock.time()
        limit = self.spec.get("StoppingCondition", {}).get("MaxWaitTimeInSeconds")
        if self.row.status == "Stopping":
            progress["ending"] = {"status": "Stopped", "stop_reason": "Stopped"}
            self.update(progress=progress, secondary="Uploading")
        elif limit is not None and now - progress["training_started_at"] > limit:
            self.say("Stopping the job: MaxWaitTimeExceeded while waiting for spot capacity")
            progress["ending"] = {"status": "Stopped", "stop_reason": "MaxWaitTimeExceeded"}
            self.update(progress=progress, secondary="Uploading")
        elif now >= progress.get("resume_at", 0):
            self.say("Spot capacity is back: restarting from the latest checkpoint")
            self.update(secondary="Downloading", message="Restoring checkpoints and input data")

    def upload(self) -> None:
        progress = self.progress
        ending = Ending(**progress.get("ending", {"status": "Completed"}))
        try:
            result = self.recipe.upload(self, ending)
        except GroundfogError as exc:
            self.fail(f"could not upload the job's artifacts: {exc}")
            return
        now = self.service.clock.time()
        result = {**self.row.result, **result}
        status = ending.status
        secondary = ending.stop_reason if status == "Stopped" else status
        message = {"Completed": f"{self.kind.capitalize()} job completed", "Stopped": f"The job stopped ({ending.stop_reason})"}.get(
            status, ending.failure_reason or ""
        )
        self.say(message if status != "Failed" else f"The job failed: {ending.failure_reason}")
        self.update(
            status=status, secondary=secondary or status, message=message, failure_reason=ending.failure_reason,
            stop_reason=ending.stop_reason, result=result, ended_at=now, owner=None, announce=True,
        )  # fmt: skip

    def fail(self, reason: str) -> None:
        for job_id in self.progress.get("hosts", {}).values():
            try:
                self.service.jobs.stop(job_id, grace_seconds=5.0)
            except GroundfogError:
                pass
        self.say(f"The job failed: {reason}")
        now = self.service.clock.time()
        self.update(status="Failed", secondary="Failed", message=reason, failure_reason=reason, ended_at=now, owner=None, announce=True)

    # -- logs and metrics -----------------------------------------------------------

    def tail_logs(self, cores: dict[str, Any]) -> None:
        """Copy the hosts' new log lines into the job's log and record the metrics they show."""
        progress = self.progress
        batch = read_new_lines(
            cores, progress.get("log_offsets", {}), progress.get("metric_steps", {}),
            self.spec.get("MetricDefinitions", []), self.name, self.service.clock.time(),
        )  # fmt: skip
        if not batch.lines:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as f:
            f.write("\n".join(batch.lines) + "\n")
        if batch.values:
            with self.service.state.write() as conn:
                conn.execute(metric_values.insert(), batch.values)
            self.service.publish_metrics(self.name, batch.values)
        self.update(progress={**progress, "log_offsets": batch.offsets, "metric_steps": batch.steps})
