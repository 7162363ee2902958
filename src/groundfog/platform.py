"""The ``Platform``: one object that wires the core and every service from a ``Config``.

The SDK, the CLI and the server all build this same object, so library use needs no
server running.

>>> import tempfile
>>> import groundfog as gf
>>> home = tempfile.TemporaryDirectory()
>>> p = gf.Platform(home=home.name)
>>> p.storage.create_bucket("data").name
'data'
>>> p.close()
>>> home.cleanup()
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from groundfog.core.clock import Clock
from groundfog.core.config import Config
from groundfog.core.jobs import JobRunner
from groundfog.core.service import Service
from groundfog.core.state import StateStore
from groundfog.events import EventsService
from groundfog.metrics import MetricsService
from groundfog.pipelines.service import PipelinesService
from groundfog.registry import RegistryService
from groundfog.serving.service import ServingService
from groundfog.storage import StorageService
from groundfog.training.instances_service import InstancesService
from groundfog.training.processing_service import ProcessingService
from groundfog.training.training_service import TrainingService
from groundfog.training.tuning_service import TuningService


class Platform:
    """Everything groundfog runs, in one process, on the given configuration."""

    def __init__(self, config: Config | None = None, *, clock: Clock | None = None, **overrides: Any) -> None:
        if config is None:
            config = Config.from_env(**overrides)
        elif overrides:
            config = config.with_(**overrides)
        self.config = config
        self.clock = clock or Clock()
        config.home.mkdir(parents=True, exist_ok=True)
        self.state = StateStore(config.state_url, fsync=config.fsync)
        self.state.migrate()
        shared = {"config": config, "state": self.state, "clock": self.clock}
        self.events = EventsService(**shared)
        self.topics = self.events.topics
        self.storage = StorageService(**shared, bus=self.events)
        self.metrics = MetricsService(**shared, bus=self.events)
        self.registry = RegistryService(**shared, storage=self.storage, bus=self.events)
        self.instances = InstancesService(**shared)
        self.jobs = JobRunner(**shared)
        job_services = {"storage": self.storage, "metrics": self.metrics, "jobs": self.jobs, "bus": self.events}
        self.training = TrainingService(**shared, **job_services)
        self.processing = ProcessingService(**shared, **job_services)
        self.tuning = TuningService(**shared, training=self.training, bus=self.events)
        self.pipelines = PipelinesService(
            **shared, storage=self.storage, training=self.training, processing=self.processing, tuning=self.tuning,
            registry=self.registry, events=self.events,
        )
        self.serving = ServingService(
            **shared, storage=self.storage, registry=self.registry, metrics=self.metrics, bus=self.events
        )
        self._started = False
        self._lock = threading.Lock()

    @property
    def services(self) -> dict[str, Service]:
        """The services the API and the CLI expose, by their URL/CLI name."""
        return {
            "storage": self.storage,
            "events": self.events,
            "topics": self.topics,
            "metrics": self.metrics,
            "instances": self.instances,
            "training": self.training,
            "processing": self.processing,
            "tuning": self.tuning,
            "pipelines": self.pipelines,
            "registry": self.registry,
            "serving": self.serving,
        }

    @property
    def driven_services(self) -> tuple[Any, ...]:
        """The services whose jobs or executions a platform drives (and a keeper takes over)."""
        return (self.training, self.processing, self.tuning, self.pipelines)

    def start(self) -> "Platform":
        """Start the background loops: scheduler, deliveries, alarms, job supervisor."""
        with self._lock:
            if not self._started:
                self.jobs.start_background()
                for service in self.services.values():
                    service.start_background()
                self._started = True
        return self

    def close(self, *, hand_over: bool = True) -> None:
        """Stop loops, deliver what is pending, release the state store. Jobs this
        (non-server) process still drives go to a detached keeper, which finishes them
        (unless ``hand_over`` is False)."""
        job_services = self.driven_services
        hand_over = hand_over and not self._started and any(s.active_jobs(owned=True) for s in job_services)
        for service in reversed(list(self.services.values())):
            service.close()
        self.jobs.close()
        self.state.dispose()
        if hand_over:
            from groundfog.training import keeper

            keeper.spawn(self.config)

    def __enter__(self) -> "Platform":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def home(self) -> Path:
        return self.config.home
