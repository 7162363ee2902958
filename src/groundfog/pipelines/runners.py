"""What each step type does: launch its work, look at it, and say how it ended.

Job steps (Processing, Training, Tuning) create a job under a name fixed before the
job exists, so a driver resuming after a crash attaches to the job rather than start a
second one. Model and RegisterModel call the registry; Lambda steps run a function on
the service's small thread pool; Callback steps wait for ``SendPipelineExecutionStep
Success/Failure``. Condition and Fail steps are decided by the engine itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from groundfog.core.errors import AlreadyExists, Conflict, GroundfogError, ResourceInUse, ResourceNotFound, ValidationError
from groundfog.core.serialize import to_jsonable
from groundfog.pipelines.definition import Step, coerce_parameter
from groundfog.pipelines.expressions import as_text
from groundfog.training.sdk import DEFAULT_BUCKET, default_bucket

if TYPE_CHECKING:
    from groundfog.pipelines.service import PipelinesService

JOB_FAILURE = "SageMaker.JOB_INTERNAL_ERROR"
FUNCTION_FAILURE = "Step.SERVICE_FAULT"
# SageMaker request keys that configure what does not exist locally; accepted, not passed on.
IGNORED_KEYS = frozenset((
    "VpcConfig", "DebugHookConfig", "DebugRuleConfigurations", "ProfilerConfig", "ProfilerRuleConfigurations",
    "NetworkConfig", "ExperimentConfig", "RetryStrategy", "TensorBoardOutputConfig", "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption", "InfraCheckConfig", "RemoteDebugConfig", "SessionChainingConfig",
    "Autotune",
))  # fmt: skip
_JOB_STATUS = {"Processing": "ProcessingJobStatus", "Training": "TrainingJobStatus",
               "Tuning": "HyperParameterTuningJobStatus"}  # fmt: skip
_METADATA_KEY = {"Processing": "ProcessingJob", "Training": "TrainingJob", "Tuning": "TuningJob"}


@dataclass
class Outcome:
    """How a step ended (or ``None`` from ``poll``: still running)."""

    status: str  # Succeeded | Failed | Stopped
    properties: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None
    exception_type: str | None = None  # for retry policies


def snake(key: str) -> str:
    """``HyperParameterTuningJobConfig`` → ``hyper_parameter_tuning_job_config``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def job_name(execution_id: str, step: str, attempt: int) -> str:
    """A SageMaker-valid job name (≤63 characters) unique to the execution, step and attempt."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", step).strip("-")
    name = f"pipelines-{execution_id}-{slug}-{attempt}"
    if len(name) > 63 or not slug:
        digest = hashlib.sha256(step.encode()).hexdigest()[:8]
        name = f"pipelines-{execution_id}-{slug[:63 - 23 - len(execution_id) - len(str(attempt))]}-{digest}-{attempt}"
        name = re.sub(r"-+", "-", name)
    return name


def arguments_hash(step: Step, arguments: Any) -> str:
    text = json.dumps({"Type": step.type, "Arguments": arguments}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def with_default_outputs(step: Step, arguments: dict[str, Any], pipeline: str, digest: str) -> dict[str, Any]:
    """Where outputs go when the definition leaves it open: a place named by the hash of
    the resolved arguments, so that identical steps (cache hits) share one location."""
    base = f"s3://{DEFAULT_BUCKET}/pipelines/{pipeline}/{step.name}/{digest[:16]}"
    args = json.loads(json.dumps(arguments))
    # Resolved arguments: any JSON at all until the job service has checked them.
    if step.type == "Processing":
        config = args.get("ProcessingOutputConfig")
        outputs = config.get("Outputs") if isinstance(config, dict) else None
        for out in outputs if isinstance(outputs, list) else []:
            if isinstance(out, dict) and isinstance(out.get("S3Output"), dict) and not out["S3Output"].get("S3Uri"):
                out["S3Output"]["S3Uri"] = f"{base}/{out.get('OutputName', 'output')}"
    elif step.type == "Training":
        config = args.setdefault("OutputDataConfig", {})
        if isinstance(config, dict) and not config.get("S3OutputPath"):
            config["S3OutputPath"] = base
    elif step.type == "Tuning":
        definition = args.get("TrainingJobDefinition")
        if isinstance(definition, dict):
            config = definition.setdefault("OutputDataConfig", {})
            if isinstance(config, dict) and not config.get("S3OutputPath"):
                config["S3OutputPath"] = base
    return args


class Runners:
    """Step work against the platform's other services (through their operations)."""

    def __init__(self, service: "PipelinesService") -> None:
        self.service = service

    # -- job steps ----------------------------------------------------------------------------

    def create_job(self, step: Step, name: str, arguments: dict[str, Any], tags: list[dict[str, str]]) -> str:
        """Create the step's job (or find it, when a previous driver already did); its ARN."""
        kwargs = {snake(k): v for k, v in arguments.items() if k not in IGNORED_KEYS}
        if not isinstance(kwargs.get("tags") or [], list):
            raise ValidationError("Tags must be a list of {Key, Value}", field="Tags")
        kwargs["tags"] = [*(kwargs.get("tags") or []), *tags]
        s = self.service
        if f"s3://{DEFAULT_BUCKET}/" in json.dumps(arguments):
            default_bucket(s)  # created on first use, as SageMaker's SDK does (it needs only .storage)
        try:
            if step.type == "Processing":
                created = s.processing.create_processing_job(processing_job_name=name, **kwargs)
            elif step.type == "Training":
                created = s.training.create_training_job(training_job_name=name, **kwargs)
            else:
                created = s.tuning.create_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name, **kwargs)
        except (ResourceInUse, AlreadyExists, Conflict):
            return self._describe_job(step, name)[_arn_key(step)]
        return next(iter(created.values())) if isinstance(created, dict) and created else ""

    def poll_job(self, step: Step, name: str) -> Outcome | None:
        try:
            described = self._describe_job(step, name)
        except ResourceNotFound:
            return Outcome("Failed", failure_reason=f"the step's job {name} no longer exists", exception_type=JOB_FAILURE)
        status = described[_JOB_STATUS[step.type]]
        if status not in ("Completed", "Failed", "Stopped"):
            return None
        properties = to_jsonable(described)
        if step.type == "Tuning":
            properties["TrainingJobSummaries"] = self._trials(name)
        metadata = {_METADATA_KEY[step.type]: {"Arn": described[_arn_key(step)]}}
        if status == "Completed":
            return Outcome("Succeeded", properties, metadata)
        if status == "Stopped":
            return Outcome("Stopped", properties, metadata, failure_reason="the step's job was stopped")
        reason = described.get("FailureReason") or "the job failed"
        return Outcome("Failed", properties, metadata, failure_reason=f"{name}: {reason}", exception_type=JOB_FAILURE)

    def stop_job(self, step: Step, name: str) -> None:
        s = self.service
        with contextlib.suppress(GroundfogError):  # already ended, or never created: nothing to stop
            if step.type == "Processing":
                s.processing.stop_processing_job(processing_job_name=name)
            elif step.type == "Training":
                s.training.stop_training_job(training_job_name=name)
            else:
                s.tuning.stop_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name)

    def _describe_job(self, step: Step, name: str) -> dict[str, Any]:
        s = self.service
        if step.type == "Processing":
            return s.processing.describe_processing_job(processing_job_name=name)
        if step.type == "Training":
            return s.training.describe_training_job(training_job_name=name)
        return s.tuning.describe_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name)

    def _trials(self, name: str) -> list[dict[str, Any]]:
        listed = self.service.tuning.list_training_jobs_for_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name=name)  # fmt: skip
        summaries = to_jsonable(listed.get("TrainingJobSummaries", []))

        def objective(s: dict[str, Any]) -> float:
            value = (s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
            return float("-inf") if value is None else float(value)

        # Best first, as SageMaker's TuningStep.get_top_model_s3_uri reads them.
        maximize = True
        try:
            described = self.service.tuning.describe_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name)
            objective_type = described["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["Type"]
            maximize = objective_type == "Maximize"
        except (GroundfogError, KeyError, TypeError):
            pass
        done = [s for s in summaries if s.get("TrainingJobStatus") == "Completed"]
        rest = [s for s in summaries if s.get("TrainingJobStatus") != "Completed"]
        done.sort(key=objective, reverse=maximize)
        return done + rest

    # -- registry steps -----------------------------------------------------------------------

    def create_model(self, name: str, arguments: dict[str, Any]) -> Outcome:
        registry = self.service.registry
        kwargs = {snake(k): v for k, v in arguments.items() if k not in IGNORED_KEYS}
        try:
            created = registry.create_model(model_name=name, **kwargs)
            arn = created["ModelArn"]
        except (AlreadyExists, Conflict, ResourceInUse):
            arn = registry.describe_model(model_name=name)["ModelArn"]
        properties = {"ModelName": name, "ModelArn": arn}
        return Outcome("Succeeded", properties, {"Model": {"Arn": arn}})

    def register_model(self, arguments: dict[str, Any], lineage: dict[str, Any], resumed: bool) -> Outcome:
        registry = self.service.registry
        kwargs = {snake(k): v for k, v in arguments.items() if k not in IGNORED_KEYS}
        arn = self._registered_before(kwargs.get("model_package_group_name"), lineage) if resumed else None
        if arn is None:
            arn = registry.create_model_package(**kwargs, lineage=lineage)["ModelPackageArn"]
        described = to_jsonable(registry.describe_model_package(model_package_name=arn))
        return Outcome("Succeeded", described, {"RegisterModel": {"Arn": arn}})

    def _registered_before(self, group: Any, lineage: dict[str, Any]) -> str | None:
        """The version a crashed driver registered for this very step, if it got that far."""
        if not isinstance(group, str):
            return None
        try:
            listed = self.service.registry.list_model_packages(model_package_group_name=group)
        except GroundfogError:
            return None
        for summary in listed.get("ModelPackageSummaryList", []):
            described = self.service.registry.describe_model_package(model_package_name=summary["ModelPackageArn"])
            mine = described.get("Lineage") or {}
            if all(mine.get(k) == lineage[k] for k in ("PipelineExecutionArn", "PipelineStepName")):
                return summary["ModelPackageArn"]
        return None

    # -- function and callback steps ----------------------------------------------------------

    def call_function(self, step: Step, arguments: Any) -> Outcome:
        """Run a Lambda step's function here and pick its declared outputs from what it returned."""
        arn = step.raw["FunctionArn"]
        try:
            returned = self.service.events.invoke(name=arn, payload=arguments)
        except ResourceNotFound as exc:
            return Outcome("Failed", failure_reason=f"function {arn}: {exc}")
        except GroundfogError as exc:
            return Outcome("Failed", failure_reason=str(exc), exception_type=FUNCTION_FAILURE,
                           metadata={"Lambda": {"Arn": arn}})  # fmt: skip
        try:
            outputs = output_parameters(step, returned if isinstance(returned, dict) else {}, "the function's result")
        except ValueError as exc:
            return Outcome("Failed", failure_reason=f"function {arn}: {exc}", metadata={"Lambda": {"Arn": arn}})
        listed = [{"Name": k, "Value": as_text(v)} for k, v in outputs.items()]
        return Outcome("Succeeded", {"OutputParameters": outputs},
                       {"Lambda": {"Arn": arn, "OutputParameters": listed}})  # fmt: skip


def output_parameters(step: Step, given: dict[str, Any], source: str) -> dict[str, Any]:
    """The step's declared outputs from ``given``, each as its declared type."""
    found: dict[str, Any] = {}
    for name, kind in step.output_parameters.items():
        if name not in given:
            raise ValueError(f"{source} has no output {name!r} (it has: {', '.join(map(str, given)) or 'nothing'})")
        try:
            found[name] = coerce_parameter(name, kind, given[name], f"OutputParameters.{name}")
        except GroundfogError as exc:
            raise ValueError(f"{source}: {exc}") from None
    return found


def _arn_key(step: Step) -> str:
    return {"Processing": "ProcessingJobArn", "Training": "TrainingJobArn",
            "Tuning": "HyperParameterTuningJobArn"}[step.type]  # fmt: skip
