"""The SageMaker SDK's processors, on groundfog's processing jobs.

``ScriptProcessor.run(code=...)`` uploads the script and mounts it as the input ``code``
at ``/opt/ml/processing/input/code``; local input paths are uploaded and unnamed
outputs go to ``s3://<default bucket>/<job name>/output/<output name>``, as in the SDK.

>>> import groundfog as gf
>>> proc = gf.SKLearnProcessor(framework_version="1.2-1", instance_type="ml.m5.large", instance_count=1)  # doctest: +SKIP
>>> proc.run(code="preprocess.py",                                                                       # doctest: +SKIP
...          inputs=[gf.ProcessingInput(source="s3://data/raw/", destination="/opt/ml/processing/input")],
...          outputs=[gf.ProcessingOutput(source="/opt/ml/processing/train", output_name="train")])
>>> proc.latest_job.describe()["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]           # doctest: +SKIP
's3://sagemaker-local-000000000000/sagemaker-scikit-learn-2026-...-123/output/train'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from groundfog.training.sdk import (
    Job,
    base_name_from_image,
    default_bucket,
    name_from_base,
    resolve_platform,
    s3_join,
    tags_list,
    upload_path,
)
from groundfog.training.sdk_estimator import is_pipeline_variable

# How a local input gets to S3: ``upload(local path, input name) -> uri``.
Uploader = Callable[[Path, str], str]

CODE_INPUT_NAME = "code"
CODE_CONTAINER_PATH = "/opt/ml/processing/input/code"
# The job-name base the SDK derives from the scikit-learn image.
SKLEARN_BASE_NAME = "sagemaker-scikit-learn"


class ProcessingInput:
    """Data copied in before the job runs: ``source`` (an ``s3://`` URI or a local path,
    uploaded first) to ``destination`` under ``/opt/ml/processing/``."""

    def __init__(
        self,
        source: str | None = None,
        destination: str | None = None,
        input_name: str | None = None,
        s3_data_type: str = "S3Prefix",
        s3_input_mode: str = "File",
    ) -> None:
        self.source = source
        self.destination = destination
        self.input_name = input_name
        self.s3_data_type = s3_data_type
        self.s3_input_mode = s3_input_mode

    def to_request(self, s3_uri: str, name: str) -> dict[str, Any]:
        return {"InputName": name, "S3Input": {"S3Uri": s3_uri, "LocalPath": self.destination,
                                                "S3DataType": self.s3_data_type, "S3InputMode": self.s3_input_mode}}  # fmt: skip


class ProcessingOutput:
    """Files the job writes under ``source`` (in ``/opt/ml/processing/``), uploaded to
    ``destination`` at the end (``EndOfJob``) or as they appear (``Continuous``)."""

    def __init__(
        self,
        source: str | None = None,
        destination: str | None = None,
        output_name: str | None = None,
        s3_upload_mode: str = "EndOfJob",
    ) -> None:
        self.source = source
        self.destination = destination
        self.output_name = output_name
        self.s3_upload_mode = s3_upload_mode


class ProcessingJob(Job):
    """A processing job by name: ``describe()``, ``wait()``, ``stop()``, ``logs()``."""

    kind = "processing"

    @property
    def outputs(self) -> dict[str, str]:
        """Where each output was uploaded, by output name."""
        return {o["OutputName"]: o["S3Output"]["S3Uri"] for o in self.describe()["ProcessingOutputConfig"]["Outputs"]}


class Processor:
    """A container entrypoint run on inputs, writing outputs (SageMaker's ``Processor``).

    ``role``, ``volume_kms_key`` and ``sagemaker_session`` are accepted and change nothing."""

    def __init__(
        self,
        role: str | None = None,
        image_uri: str = "sklearn",
        instance_count: int = 1,
        instance_type: str = "ml.m5.large",
        entrypoint: list[str] | None = None,
        volume_size_in_gb: int = 30,
        max_runtime_in_seconds: int | None = None,
        base_job_name: str | None = None,
        env: dict[str, str] | None = None,
        tags: list[dict[str, str]] | dict[str, str] | None = None,
        sagemaker_session: Any = None,
        platform: Any = None,
    ) -> None:
        self.role = role
        self.image_uri = image_uri
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.entrypoint = entrypoint
        self.volume_size_in_gb = volume_size_in_gb
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.base_job_name = base_job_name
        self.env = env
        self.tags = tags
        self.sagemaker_session = sagemaker_session
        self.platform = platform
        self.jobs: list[ProcessingJob] = []
        self.latest_job: ProcessingJob | None = None

    def run(
        self,
        inputs: list[ProcessingInput] | None = None,
        outputs: list[ProcessingOutput] | None = None,
        arguments: list[str] | None = None,
        wait: bool = True,
        logs: bool = True,
        job_name: str | None = None,
    ) -> Any:
        """Start the job; with ``wait``, block until it ends (printing its log when ``logs``)
        and raise a ``GroundfogError`` with the ``FailureReason`` if it failed.

        With ``sagemaker_session=PipelineSession()`` no job starts: the step arguments for a
        ``ProcessingStep(step_args=...)`` come back instead, as in the SDK."""
        if hasattr(self.sagemaker_session, "defer_job"):
            return self.sagemaker_session.defer_job(self, inputs=inputs, outputs=outputs, arguments=arguments)
        self._start(self.entrypoint, list(inputs or []), outputs, arguments, job_name, wait, logs)

    def _start(
        self, entrypoint: list[str] | None, inputs: list[ProcessingInput], outputs: list[ProcessingOutput] | None,
        arguments: list[str] | None, job_name: str | None, wait: bool, logs: bool,
    ) -> None:  # fmt: skip
        platform = resolve_platform(self.platform)
        name = job_name or name_from_base(self.base_job_name or self._default_base())
        request = self.processing_job_request(name, entrypoint, inputs, outputs, arguments, platform=platform)
        platform.processing.create_processing_job(**request)
        self.latest_job = ProcessingJob(platform, name)
        self.jobs.append(self.latest_job)
        if wait:
            self.latest_job.wait(logs=logs)

    def processing_job_request(
        self, job_name: str | None, entrypoint: list[str] | None, inputs: list[ProcessingInput],
        outputs: list[ProcessingOutput] | None, arguments: list[Any] | None, *, platform: Any = None,
        upload: Uploader | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The ``create_processing_job`` arguments; uploads local inputs (under the job's name,
        unless ``upload(path, input_name) -> uri`` says where).

        A pipeline step passes no ``job_name`` (the pipeline names the job when it runs): an
        output without an ``s3://`` destination then has no ``S3Uri``, for the pipeline to fill in."""
        platform = resolve_platform(platform if platform is not None else self.platform)
        bucket = default_bucket(platform)

        def upload_under_job(path: Path, input_name: str) -> str:
            prefix = s3_join(f"s3://{bucket}", str(job_name), "input", input_name)
            return upload_path(platform, path, prefix, "ProcessingInput.source")

        app: dict[str, Any] = {"ImageUri": self.image_uri, "ContainerEntrypoint": list(entrypoint or [])}
        if arguments:
            app["ContainerArguments"] = [a if is_pipeline_variable(a) else str(a) for a in arguments]
        request: dict[str, Any] = {
            "processing_job_name": job_name,
            "app_specification": app,
            "processing_resources": {"ClusterConfig": {"InstanceType": self.instance_type, "InstanceCount": self.instance_count,
                                                       "VolumeSizeInGB": self.volume_size_in_gb}},
            "processing_inputs": self._inputs(inputs, upload or upload_under_job),
            "processing_output_config": {"Outputs": self._outputs(bucket, job_name, outputs or [])},
            "environment": dict(self.env or {}),
            "tags": tags_list(self.tags),
            "role_arn": self.role if isinstance(self.role, str) else None,
        }  # fmt: skip
        if job_name is None:
            del request["processing_job_name"]
        if self.max_runtime_in_seconds is not None:
            request["stopping_condition"] = {"MaxRuntimeInSeconds": self.max_runtime_in_seconds}
        return request

    def _default_base(self) -> str:
        return base_name_from_image(self.image_uri)

    @staticmethod
    def _inputs(inputs: list[ProcessingInput], upload: Uploader) -> list[dict[str, Any]]:
        out = []
        for count, item in enumerate(inputs, 1):
            name = item.input_name or f"input-{count}"
            source = item.source if is_pipeline_variable(item.source) else str(item.source)
            if isinstance(source, str) and not source.startswith("s3://"):
                source = upload(Path(source), name)
            out.append(item.to_request(source, name))
        return out

    @staticmethod
    def _outputs(bucket: str, job_name: str | None, outputs: list[ProcessingOutput]) -> list[dict[str, Any]]:
        out = []
        for count, item in enumerate(outputs, 1):
            name = item.output_name or f"output-{count}"
            destination = item.destination
            s3_output: dict[str, Any] = {"LocalPath": item.source, "S3UploadMode": item.s3_upload_mode}
            if is_pipeline_variable(destination) or (destination and destination.startswith("s3://")):
                s3_output = {"S3Uri": destination, **s3_output}
            elif job_name is not None:
                s3_output = {"S3Uri": s3_join(f"s3://{bucket}", job_name, "output", name), **s3_output}
            out.append({"OutputName": name, "S3Output": s3_output})
        return out


class ScriptProcessor(Processor):
    """Runs one script with ``command`` (SageMaker's ``ScriptProcessor``)."""

    def __init__(
        self, role: str | None = None, image_uri: str = "sklearn", command: list[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(role=role, image_uri=image_uri, **kwargs)
        self.command = command if command is not None else ["python3"]

    def run(  # type: ignore[override]
        self,
        code: str,
        inputs: list[ProcessingInput] | None = None,
        outputs: list[ProcessingOutput] | None = None,
        arguments: list[str] | None = None,
        wait: bool = True,
        logs: bool = True,
        job_name: str | None = None,
    ) -> Any:
        """Run ``code`` (a local file or an ``s3://`` URI): uploaded to
        ``s3://<bucket>/<job>/input/code/`` and mounted as the input ``code``, as in the SDK.
        With ``sagemaker_session=PipelineSession()``, the step arguments come back instead."""
        if hasattr(self.sagemaker_session, "defer_job"):
            return self.sagemaker_session.defer_job(self, code=code, inputs=inputs, outputs=outputs, arguments=arguments)
        name = job_name or name_from_base(self.base_job_name or self._default_base())
        entrypoint, inputs = self.with_code(code, inputs)
        self._start(entrypoint, inputs, outputs, arguments, name, wait, logs)

    def with_code(self, code: str, inputs: list[ProcessingInput] | None) -> tuple[list[str], list[ProcessingInput]]:
        """``(entrypoint, inputs)`` that run ``code``: the script added as the input ``code``."""
        script = code.rsplit("/", 1)[-1]
        inputs = [*(inputs or []), ProcessingInput(source=code, destination=CODE_CONTAINER_PATH, input_name=CODE_INPUT_NAME)]
        return [*self.command, f"{CODE_CONTAINER_PATH}/{script}"], inputs


class SKLearnProcessor(ScriptProcessor):
    """A ``ScriptProcessor`` on the scikit-learn image (SageMaker's ``SKLearnProcessor``)."""

    def __init__(
        self,
        framework_version: str | None = None,
        role: str | None = None,
        instance_type: str = "ml.m5.large",
        instance_count: int = 1,
        command: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("image_uri", "sklearn")
        super().__init__(role=role, command=command, instance_type=instance_type, instance_count=instance_count, **kwargs)
        self.framework_version = framework_version

    def _default_base(self) -> str:
        return SKLEARN_BASE_NAME if self.image_uri == "sklearn" else base_name_from_image(self.image_uri)
