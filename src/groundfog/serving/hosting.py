"""The hosting loop: runs the worker processes of the endpoints this process owns, and
drives their status and deployments.

An endpoint's row has a lease (``owner``, ``heartbeat_at``). A hosting process — the
server, or a library process that created or invoked an endpoint — claims endpoints
whose owner is gone, heartbeats them, and on every tick:

1. starts a worker for every instance slot that has none, notes which became ready
   or failed to load, and replaces a worker that died (its instance is ``Pending``
   until the new one is up: the router skips it meanwhile);
2. lets the deployment controller (``deployment.advance``) move the status and the
   traffic on;
3. writes the document back (optimistic, see ``records``), appends history lines and
   emits events, tells this process's router, and stops workers no longer wanted.

On close it stops its workers and releases its leases, so the next host (the server)
takes the endpoints over at once.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from groundfog.core.errors import GroundfogError
from groundfog.core.leases import claim_lease, lease_lost
from groundfog.serving import deployment
from groundfog.serving.fleets import instance, instance_slots
from groundfog.serving.model_files import ModelFiles, prepare
from groundfog.serving.records import append_history, load, save
from groundfog.serving.tables import endpoints
from groundfog.serving.workers import Worker

if TYPE_CHECKING:
    from groundfog.serving.service import ServingService

log = logging.getLogger("groundfog.serving")

TICK_SECONDS = 0.05
HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 15.0
CLAIM_SECONDS = 1.0
Key = tuple[str, str, str, int]  # endpoint, fleet id, variant, slot


class EndpointHost:
    def __init__(self, service: "ServingService") -> None:
        self.service = service
        self.owner = service.owner
        self.workers: dict[Key, Worker] = {}
        # Workers asked to stop, with the time by which they must be gone: the loop
        # reaps them, so that stopping a fleet never holds up a tick.
        self.stopping: list[tuple[Worker, float]] = []
        self.owned: set[str] = set()
        # Endpoints claimed from another host: an InService one is SystemUpdating until
        # this host has restarted its workers.
        self.taken_over: set[str] = set()
        self._files: dict[str, ModelFiles] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._claimed_at = self._beat_at = self._scaled_at = float("-inf")
        # The server hosts every endpoint; a library process only those it was asked to.
        self.claim_all = False
        self.wanted: set[str] = set()

    # -- the loop ------------------------------------------------------------------------

    def start(self, *, claim_all: bool = False) -> None:
        with self._lock:
            self.claim_all = self.claim_all or claim_all
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="groundfog-serving-host", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - hosting must outlive one bad tick
                log.exception("endpoint hosting tick failed")
            self._wake.wait(TICK_SECONDS)
            self._wake.clear()

    def tick(self) -> None:
        with self._lock:
            now = self.service.clock.time()
            if now - self._claimed_at >= CLAIM_SECONDS:
                self._claim(now)
                self._claimed_at = now
            if now - self._beat_at >= HEARTBEAT_SECONDS:
                self._heartbeat(now)
                self._beat_at = now
            for name in sorted(self.owned):
                self._reconcile(name)
            self.stopping = [(w, d) for w, d in self.stopping if not w.reap(d)]
            if self.owned and now - self._scaled_at >= self.service.scaling_interval_seconds:
                self._scaled_at = now
                self.service.scale(set(self.owned))

    def host(self, name: str) -> None:
        """Take ``name`` now if its owner is gone (the caller just created or needs it)."""
        with self._lock:
            if not self._claim(self.service.clock.time(), only=name):
                return  # no such endpoint: nothing to host, nothing to remember
            self.wanted.add(name)
        self.start()
        self.wake()

    # -- leases ----------------------------------------------------------------------------

    def _claim(self, now: float, only: str | None = None) -> bool:
        """Take the endpoints whose owner is gone; whether any row was looked at."""
        c = endpoints.c
        query = sa.select(c.name, c.owner, c.heartbeat_at)
        if only is not None:
            query = query.where(c.name == only)
        elif not self.claim_all:
            query = query.where(c.name.in_(self.wanted))
        with self.service.state.read() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            if row.owner == self.owner:
                self.owned.add(row.name)
                continue
            if not lease_lost(row.owner, row.heartbeat_at, me=self.owner, now=now, stale_seconds=STALE_SECONDS):
                continue
            with self.service.state.write() as conn:
                if claim_lease(conn, endpoints, c.name == row.name, owner=row.owner, heartbeat_at=row.heartbeat_at,
                               me=self.owner, now=now):  # fmt: skip
                    self.owned.add(row.name)
                    self.taken_over.add(row.name)
                    log.info("hosting endpoint %s", row.name)
        return bool(rows)

    def _heartbeat(self, now: float) -> None:
        if not self.owned:
            return
        with self.service.state.write() as conn:
            conn.execute(endpoints.update().where(endpoints.c.owner == self.owner).values(heartbeat_at=now))
            held = {r.name for r in conn.execute(sa.select(endpoints.c.name).where(endpoints.c.owner == self.owner))}
        for lost in self.owned - held:
            self._release(lost)

    def _retire(self, key: Key) -> None:
        worker = self.workers.pop(key)
        self.stopping.append((worker, worker.terminate()))

    def _release(self, name: str) -> None:
        self.owned.discard(name)
        self.taken_over.discard(name)
        for key in [k for k in self.workers if k[0] == name]:
            self._retire(key)
        self.service.router.forget(name)

    # -- one endpoint ----------------------------------------------------------------------

    def _reconcile(self, name: str) -> None:
        service = self.service
        try:
            with service.state.read() as conn:
                doc = load(conn, name)
        except GroundfogError:
            self._release(name)
            return
        if doc["owner"] != self.owner:
            self._release(name)
            return
        if doc["status"] == "Deleting":
            self._delete(name)
            return
        before = copy.deepcopy({k: doc[k] for k in ("status", "fleets", "deployment")})
        events = self._take_over(doc) if name in self.taken_over else []
        events += self._sync_workers(doc)
        now = service.clock.time()
        if doc["status"] not in ("Failed",):
            events += [(s.stage, s.message, s.detail) for s in deployment.advance(doc, now, service.alarm_reason)]
        changed = events or before != {k: doc[k] for k in ("status", "fleets", "deployment")}
        # The router learns before anyone can read the change from the state store, and
        # before a worker is stopped, so no request goes where traffic no longer goes.
        service.router.update(doc)
        if changed:
            with service.state.write() as conn:
                if not save(conn, doc, now):
                    return  # someone else wrote: read again next tick
                for stage, message, detail in events:
                    append_history(conn, name, now, stage, message, detail)
        self.taken_over.discard(name)
        if changed:
            service.announce(doc, before["status"], events)
        self._stop_unwanted(doc)

    def _take_over(self, doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """An endpoint that was in service elsewhere is SystemUpdating while its workers
        start here (SageMaker's status for maintenance that changes nothing the user set)."""
        if doc["status"] != "InService":
            return []  # Creating: nothing ran yet; a deployment resumes where it was
        doc["status"] = "SystemUpdating"
        count = sum(1 for _ in instance_slots(doc["fleets"]))
        return [("SystemUpdating", f"the endpoint's host is gone; restarting its {count} instance(s) on a new host",
                 {"Instances": count})]  # fmt: skip

    def _sync_workers(self, doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """Start, watch and replace workers; record instance states in the document."""
        events: list[tuple[str, str, dict[str, Any]]] = []
        if doc["status"] == "Failed":
            return events
        for fleet, variant, slot in instance_slots(doc["fleets"]):
            key = (doc["name"], fleet["id"], variant["name"], slot)
            item = instance(variant, slot)
            if item is None:
                item = {"slot": slot, "status": "Pending", "port": None, "pid": None, "setup_seconds": None,
                        "error": None, "restarts": 0}  # fmt: skip
                variant["instances"].append(item)
            if item["status"] == "Failed":
                continue
            worker = self.workers.get(key)
            if worker is None:
                try:
                    files = self._model_files(variant["model"])
                except GroundfogError as exc:
                    item.update(status="Failed", error=exc.message)
                    continue
                worker = Worker(files, self.service.run_dir(doc["name"]), f"{fleet['id']}-{variant['name']}-{slot}")
                worker.start()
                self.workers[key] = worker
                item.update(status="Pending", port=None, pid=worker.process.pid if worker.process else None)
            state = worker.poll()
            if state.status == "InService" and item["status"] != "InService":
                item.update(status="InService", port=state.port, pid=state.pid, setup_seconds=state.setup_seconds)
                self.service.metrics_sink.record_setup(doc["name"], variant["name"], state.setup_seconds or 0.0)
            elif state.status == "Failed":
                item.update(status="Failed", error=state.error, port=None)
                self.workers.pop(key, None)
            elif state.status == "Exited":
                self.workers.pop(key, None)
                item.update(status="Pending", port=None, restarts=item["restarts"] + 1)
                events.append(("InstanceReplaced", f"variant {variant['name']} instance {slot} stopped ({state.error}); "
                                                   "starting a new one", {"Variant": variant["name"], "Slot": slot}))  # fmt: skip
        for fleet in doc["fleets"]:
            for variant in fleet["variants"] + fleet["shadows"]:
                variant["instances"] = [i for i in variant["instances"] if i["slot"] < variant["count"]]
        return events

    def _model_files(self, model_name: str) -> ModelFiles:
        files = self._files.get(model_name)
        if files is None or not files.model_dir.exists():
            model = self.service.registry.describe_model(model_name=model_name)
            files = prepare(self.service.storage, model, self.service.models_dir)
            self._files[model_name] = files
        return files

    def _stop_unwanted(self, doc: dict[str, Any]) -> None:
        wanted = {(doc["name"], f["id"], v["name"], slot) for f, v, slot in instance_slots(doc["fleets"])}
        if doc["status"] == "Failed":
            wanted = set()
        for key in [k for k in self.workers if k[0] == doc["name"] and k not in wanted]:
            self._retire(key)

    def _delete(self, name: str) -> None:
        for key in [k for k in self.workers if k[0] == name]:
            self._retire(key)
        self.service.finish_delete(name)
        self.owned.discard(name)
        self.wanted.discard(name)
        self.service.router.forget(name)

    def stop_endpoint_workers(self, name: str) -> None:
        with self._lock:
            for key in [k for k in self.workers if k[0] == name]:
                self.workers.pop(key).stop()
            self.owned.discard(name)

    def kill_worker(self, name: str, variant: str, slot: int = 0) -> int | None:
        """SIGKILL one worker (the labs' and tests' way to lose an instance); its pid."""
        with self._lock:
            for key, worker in self.workers.items():
                if key[0] == name and key[2] == variant and key[3] == slot and worker.process is not None:
                    pid = worker.process.pid
                    worker.process.kill()
                    return pid
        return None

    # -- shutdown --------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            self.stopping += [(w, w.terminate()) for w in self.workers.values()]
            self.workers.clear()
            for worker, deadline in self.stopping:
                while not worker.reap(deadline):
                    time.sleep(0.01)
            self.stopping.clear()
            if self.owned:
                with self.service.state.write() as conn:
                    conn.execute(endpoints.update().where(endpoints.c.owner == self.owner)
                                 .values(owner=None, heartbeat_at=None))  # fmt: skip
            self.owned.clear()
