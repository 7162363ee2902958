"""Labs: each seed note as a runnable scenario that checks its own claim.

>>> from groundfog.labs import run_lab
>>> run_lab("s3-events-need-eventbridge").passed
True
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from groundfog.core.errors import ResourceNotFound

if TYPE_CHECKING:
    from groundfog.platform import Platform


@dataclass
class Check:
    claim: str
    passed: bool
    detail: str = ""


@dataclass
class LabResult:
    name: str
    note: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, claim: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(claim, bool(passed), detail))
        return bool(passed)


@dataclass(frozen=True)
class Lab:
    name: str
    note: str  # the seed's own words
    target: str  # "module:function" taking (platform, result)


LABS: dict[str, Lab] = {
    lab.name: lab
    for lab in (
        Lab(
            "s3-events-need-eventbridge",
            "Automatic model training when data is uploaded to S3: EventBridge to monitor the bucket "
            "for object creation [...] S3 event notification cannot trigger SG pipeline",
            "groundfog.labs.s3_events_need_eventbridge:run",
        ),
        Lab(
            "instance-families",
            "Instance types: Standard (t), Compute optimized (c), Memory optimized (r), "
            "Accelerated computing (like for images) (p, g, t), Inference (inf)",
            "groundfog.labs.instance_families:run",
        ),
        Lab("spot-instances", "To save on costs: spot instances", "groundfog.labs.spot_instances:run"),
        Lab(
            "retrain-on-upload",
            "Automatic model training when data is uploaded to S3: EventBridge to monitor the bucket for "
            "object creation, trigger SG Pipeline. SG Pipeline for preprocessing, training and evaluation",
            "groundfog.labs.retrain_on_upload:run",
        ),
        Lab(
            "blue-green",
            "Blue/green deployment: deploy new model to a separate environment and switch all traffic to it "
            "after testing it. Easy rollback",
            "groundfog.labs.blue_green:run",
        ),
        Lab("real-time-low-latency", "Real-time: low-latency, high cost", "groundfog.labs.real_time:run"),
        # Last, so that `groundfog demo` ends with the retrained model going out as a canary.
        Lab(
            "canary",
            "Canary: first direct a small percentage of traffic to the new deployment, then increase or decrease "
            "based on performance. good rollout, allows real-world traffic testing",
            "groundfog.labs.canary:run",
        ),
    )
}


def run_lab(name: str, platform: "Platform | None" = None) -> LabResult:
    """Run one lab; on a throwaway home directory unless a platform is given."""
    lab = LABS.get(name)
    if lab is None:
        raise ResourceNotFound(f"no lab named {name!r}; labs: {', '.join(sorted(LABS))}")
    module, _, attr = lab.target.partition(":")
    fn: Callable[["Platform", LabResult], None] = getattr(importlib.import_module(module), attr)
    result = LabResult(lab.name, lab.note)
    if platform is not None:
        fn(platform, result)
        return result
    from groundfog.platform import Platform

    with tempfile.TemporaryDirectory(prefix=f"groundfog-lab-{name}-") as home, Platform(home=home) as p:
        fn(p, result)
    return result
