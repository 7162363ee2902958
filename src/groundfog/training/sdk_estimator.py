"""The SageMaker SDK's ``Estimator`` and its framework shortcuts, on groundfog's training jobs.

The same script-mode code runs unchanged: ``fit`` packs the entry point (or its
``source_dir``) into ``sourcedir.tar.gz``, uploads it to the default bucket, sends the
hyperparameters JSON-encoded with ``sagemaker_program`` / ``sagemaker_submit_directory``
as the SDK does, and waits while the job's log streams.

>>> import groundfog as gf
>>> est = gf.SKLearn(entry_point="train.py", hyperparameters={"n-estimators": 100})  # doctest: +SKIP
>>> est.fit({"train": "s3://data/train/"})                                           # doctest: +SKIP
>>> est.model_data                                                                   # doctest: +SKIP
's3://sagemaker-local-000000000000/sklearn-2026-01-31-12-00-00-123/output/model.tar.gz'

The built-in XGBoost algorithm needs no script:

>>> gf.Estimator(image_uri="xgboost", hyperparameters={"num_round": 50, "objective": "binary:logistic"})  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from groundfog.core.errors import ValidationError
from groundfog.training.sdk import (
    Job,
    base_name_from_image,
    default_bucket,
    name_from_base,
    resolve_platform,
    s3_join,
    source_archive,
    tags_list,
    upload_bytes,
)

# The SDK's own hyperparameters in script mode; the container log level is logging.INFO.
PROGRAM, SUBMIT_DIRECTORY = "sagemaker_program", "sagemaker_submit_directory"
LOG_LEVEL, JOB_NAME = "sagemaker_container_log_level", "sagemaker_job_name"


def is_pipeline_variable(value: Any) -> bool:
    """Whether ``value`` is known only when a pipeline runs (a parameter, a step property,
    ``Join``...): such values pass through the request builders untouched and are never
    ``str()``-ed (see ``groundfog.pipelines.sdk``)."""
    return getattr(type(value), "__pipeline_variable__", False) is True


def encode_hyperparameters(hyperparameters: dict[str, Any] | None, *, as_json: bool = True) -> dict[str, Any]:
    """Each value as text: JSON for script mode (``100`` → ``"100"``, ``"gini"`` → ``'"gini"'``), as
    the SDK's framework estimators send them, plain ``str`` for a built-in algorithm. A pipeline
    variable becomes its ``to_string()``, as in the SDK."""
    encode = json.dumps if as_json else str
    return {str(k): v.to_string() if is_pipeline_variable(v) else encode(v) for k, v in (hyperparameters or {}).items()}


class TrainingInput:
    """One input channel, as the SDK's ``sagemaker.inputs.TrainingInput``.

    >>> TrainingInput("s3://data/train/", content_type="text/csv").config["ContentType"]
    'text/csv'
    """

    def __init__(
        self,
        s3_data: str,
        distribution: str | None = None,
        compression: str | None = None,
        content_type: str | None = None,
        record_wrapping: str | None = None,
        s3_data_type: str = "S3Prefix",
        input_mode: str | None = None,
    ) -> None:
        self.s3_data = s3_data
        self.distribution = distribution
        self.compression = compression
        self.content_type = content_type
        self.record_wrapping = record_wrapping
        self.s3_data_type = s3_data_type
        self.input_mode = input_mode

    @property
    def config(self) -> dict[str, Any]:
        """The channel as CreateTrainingJob's ``InputDataConfig`` holds it, without its name."""
        source = {"S3DataType": self.s3_data_type, "S3Uri": self.s3_data,
                  "S3DataDistributionType": self.distribution or "FullyReplicated"}  # fmt: skip
        channel: dict[str, Any] = {"DataSource": {"S3DataSource": source}}
        for key, value in (("CompressionType", self.compression), ("ContentType", self.content_type),
                           ("RecordWrapperType", self.record_wrapping), ("InputMode", self.input_mode)):  # fmt: skip
            if value is not None:
                channel[key] = value
        return channel


def input_channels(inputs: Any) -> list[dict[str, Any]]:
    """``fit``'s inputs as channels: a URI or ``TrainingInput`` is the ``training`` channel
    (as in the SDK); a dict names each channel."""
    if inputs is None:
        return []
    if isinstance(inputs, (str, TrainingInput)) or is_pipeline_variable(inputs):
        inputs = {"training": inputs}
    if not isinstance(inputs, dict):
        raise ValidationError(
            f"inputs must be an s3:// URI, a TrainingInput or a dict of them by channel name, got {type(inputs).__name__}",
            field="inputs",
        )
    out = []
    for name, value in inputs.items():
        if isinstance(value, str) or is_pipeline_variable(value):
            value = TrainingInput(value)
        if not isinstance(value, TrainingInput):
            raise ValidationError(f"inputs[{name!r}] must be an s3:// URI or a TrainingInput", field=f"inputs.{name}")
        out.append({"ChannelName": name, **value.config})
    return out


class TrainingJob(Job):
    """A training job by name: ``describe()``, ``wait()``, ``stop()``, ``logs()``, ``metrics()``."""

    kind = "training"

    def metrics(self, metric_name: str | None = None, host: str = "algo-1") -> dict[str, list[float]]:
        """Every value each metric definition matched in the log, in order."""
        return self.platform.training.get_training_job_metrics(training_job_name=self.name, metric_name=metric_name, host=host)

    @property
    def model_data(self) -> str | None:
        return self.describe()["ModelArtifacts"]["S3ModelArtifacts"]


class Estimator:
    """A training job's definition; ``fit`` runs it (SageMaker's ``Estimator`` / ``Framework``).

    Parameters keep the SDK's names and are stored unchanged; ``framework`` (``sklearn``,
    ``xgboost``, ``pytorch``) or ``image_uri`` says what runs the script. ``role``,
    ``framework_version``, ``py_version`` and ``sagemaker_session`` are accepted so that
    SDK code runs as written; they change nothing here. ``spot_interruptions`` is
    groundfog's: when the simulated spot capacity is reclaimed (see ``create_training_job``).
    """

    def __init__(
        self,
        entry_point: str | None = None,
        source_dir: str | None = None,
        framework: str = "sklearn",
        image_uri: str | None = None,
        instance_type: str = "ml.m5.large",
        instance_count: int = 1,
        hyperparameters: dict[str, Any] | None = None,
        output_path: str | None = None,
        metric_definitions: list[dict[str, str]] | None = None,
        environment: dict[str, str] | None = None,
        use_spot_instances: bool = False,
        max_run: int = 86400,
        max_wait: int | None = None,
        checkpoint_s3_uri: str | None = None,
        checkpoint_local_path: str | None = None,
        input_mode: str = "File",
        base_job_name: str | None = None,
        role: str | None = None,
        framework_version: str | None = None,
        py_version: str | None = None,
        tags: list[dict[str, str]] | dict[str, str] | None = None,
        volume_size: int = 30,
        code_location: str | None = None,
        spot_interruptions: dict[str, Any] | None = None,
        sagemaker_session: Any = None,
        platform: Any = None,
    ) -> None:
        self.entry_point = entry_point
        self.source_dir = source_dir
        self.framework = framework
        self.image_uri = image_uri
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.hyperparameters = dict(hyperparameters or {})
        self.output_path = output_path
        self.metric_definitions = metric_definitions
        self.environment = environment
        self.use_spot_instances = use_spot_instances
        self.max_run = max_run
        self.max_wait = max_wait
        self.checkpoint_s3_uri = checkpoint_s3_uri
        self.checkpoint_local_path = checkpoint_local_path
        self.input_mode = input_mode
        self.base_job_name = base_job_name
        self.role = role
        self.framework_version = framework_version
        self.py_version = py_version
        self.tags = tags
        self.volume_size = volume_size
        self.code_location = code_location
        self.spot_interruptions = spot_interruptions
        self.sagemaker_session = sagemaker_session
        self.platform = platform
        self.latest_training_job: TrainingJob | None = None

    @property
    def training_image(self) -> str:
        return self.image_uri or self.framework

    def set_hyperparameters(self, **kwargs: Any) -> None:
        """Add or replace hyperparameters, as the SDK's ``set_hyperparameters``."""
        self.hyperparameters.update(kwargs)

    def fit(self, inputs: Any = None, wait: bool = True, logs: bool = True, job_name: str | None = None) -> Any:
        """Start a training job on ``inputs`` (an ``s3://`` URI, a ``TrainingInput``, or a dict of
        them by channel name); with ``wait``, block until it ends, printing its log when ``logs``,
        and raise a ``GroundfogError`` carrying the ``FailureReason`` if it failed.

        With ``sagemaker_session=PipelineSession()`` no job starts: the step arguments for a
        ``TrainingStep(step_args=...)`` come back instead, as in the SDK."""
        if hasattr(self.sagemaker_session, "defer_job"):
            return self.sagemaker_session.defer_job(self, inputs=inputs)
        platform = resolve_platform(self.platform)
        name = job_name or name_from_base(self.base_job_name or base_name_from_image(self.training_image))
        request = self.training_job_request(name, inputs, platform=platform)
        platform.training.create_training_job(**request)
        self.latest_training_job = TrainingJob(platform, name)
        if wait:
            self.latest_training_job.wait(logs=logs)

    def training_job_request(
        self, job_name: str | None, inputs: Any = None, *, platform: Any = None,
        upload_code: Callable[[bytes], str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The ``create_training_job`` arguments for a job named ``job_name``; uploads the code.

        A tuning job passes its own name, so its code lands under it, as in the SDK. A pipeline
        step passes no name (the pipeline names the job when it runs) and its own
        ``upload_code(archive) -> uri``; with no ``output_path`` the request then has no
        ``S3OutputPath`` either, for the pipeline to fill in."""
        platform = resolve_platform(platform if platform is not None else self.platform)
        bucket = default_bucket(platform)
        if upload_code is None:
            code_uri = s3_join(self.code_location or f"s3://{bucket}", str(job_name), "source", "sourcedir.tar.gz")
            upload_code = functools.partial(upload_bytes, platform, code_uri, field="code_location")
        output_path = self.output_path or (f"s3://{bucket}/" if job_name is not None else None)
        algorithm: dict[str, Any] = {"TrainingImage": self.training_image, "TrainingInputMode": self.input_mode}
        if self.metric_definitions:
            algorithm["MetricDefinitions"] = list(self.metric_definitions)
        stopping = {"MaxRuntimeInSeconds": self.max_run}
        if self.max_wait is not None:
            stopping["MaxWaitTimeInSeconds"] = self.max_wait
        request: dict[str, Any] = {
            "training_job_name": job_name,
            "algorithm_specification": algorithm,
            "output_data_config": {"S3OutputPath": output_path} if output_path is not None else {},
            "resource_config": {"InstanceType": self.instance_type, "InstanceCount": self.instance_count,
                                "VolumeSizeInGB": self.volume_size},
            "hyper_parameters": self._encoded_hyperparameters(job_name, upload_code),
            "input_data_config": input_channels(inputs),
            "stopping_condition": stopping,
            "environment": dict(self.environment or {}),
            "enable_managed_spot_training": self.use_spot_instances if is_pipeline_variable(self.use_spot_instances)
                                            else bool(self.use_spot_instances),
            "tags": tags_list(self.tags),
            "role_arn": self.role if isinstance(self.role, str) else None,
        }  # fmt: skip
        if job_name is None:
            del request["training_job_name"]
        if self.checkpoint_s3_uri is not None:
            request["checkpoint_config"] = {"S3Uri": self.checkpoint_s3_uri,
                                            **({"LocalPath": self.checkpoint_local_path} if self.checkpoint_local_path else {})}  # fmt: skip
        if self.use_spot_instances and self.spot_interruptions is not None:
            request["spot_interruptions"] = self.spot_interruptions
        return request

    def _encoded_hyperparameters(self, job_name: str | None, upload_code: Callable[[bytes], str]) -> dict[str, Any]:
        if self.entry_point is None:
            if "xgboost" not in self.training_image.lower():
                raise ValidationError(
                    f"entry_point is required to run {self.training_image!r} in script mode; only the built-in "
                    "XGBoost algorithm (image_uri='xgboost') runs without one",
                    field="entry_point",
                )
            # The SDK's generic Estimator sends a built-in algorithm's values as plain text.
            return encode_hyperparameters(self.hyperparameters, as_json=False)
        program, submit = self.code(upload_code)
        own = {PROGRAM: program, SUBMIT_DIRECTORY: submit, LOG_LEVEL: 20, **({JOB_NAME: job_name} if job_name else {})}
        return {**encode_hyperparameters(self.hyperparameters), **encode_hyperparameters(own)}

    def code(self, upload_code: Callable[[bytes], str]) -> tuple[str, str]:
        """``(program, submit directory URI)`` of a script-mode estimator: ``source_dir`` when it
        is already in S3, else ``sourcedir.tar.gz`` packed and handed to ``upload_code``."""
        if self.entry_point is None:
            raise ValidationError(f"{type(self).__name__} has no entry_point, so no code", field="entry_point")
        if self.source_dir is not None and self.source_dir.startswith("s3://"):
            return self.entry_point, self.source_dir
        archive, program = source_archive(self.entry_point, self.source_dir)
        return program, upload_code(archive)

    def _job(self) -> TrainingJob:
        if self.latest_training_job is None:
            raise ValidationError("this estimator has not started a training job; call fit() first", field="fit")
        return self.latest_training_job

    @property
    def model_data(self) -> str | None:
        """The ``model.tar.gz`` URI of the latest training job (None until it has completed)."""
        return self._job().model_data

    def logs(self) -> None:
        """Print the latest job's log from the start, following it until the job ends."""
        self._job().wait(logs=True)

    def register(
        self, content_types: list[str] | None = None, response_types: list[str] | None = None,
        inference_instances: list[str] | None = None, transform_instances: list[str] | None = None,
        image_uri: str | None = None, model_package_group_name: str | None = None, model_metrics: Any = None,
        approval_status: str = "PendingManualApproval", description: str | None = None,
        customer_metadata_properties: dict[str, str] | None = None, domain: str | None = None,
        task: str | None = None, sample_payload_url: str | None = None, **_: Any,
    ) -> Any:
        """Register the latest training job's model as a new version of
        ``model_package_group_name`` (SageMaker's ``Estimator.register``); a ``ModelPackage``."""
        from groundfog.registry.sdk import register

        if not model_package_group_name:
            raise ValidationError("model_package_group_name is required to register a model",
                                  field="model_package_group_name")  # fmt: skip
        job = self._job()
        described, model_data = self._trained()
        return register(
            job.platform, model_data=model_data, image_uri=image_uri or self.training_image,
            model_package_group_name=model_package_group_name, content_types=content_types,
            response_types=response_types, inference_instances=inference_instances,
            transform_instances=transform_instances, approval_status=approval_status, model_metrics=model_metrics,
            description=description, customer_metadata_properties=customer_metadata_properties, domain=domain,
            task=task, sample_payload_url=sample_payload_url, lineage={"TrainingJobArn": described["TrainingJobArn"]},
        )  # fmt: skip

    def _trained(self) -> tuple[dict[str, Any], str]:
        """The latest job's description and model artifact; refused until it has one."""
        job = self._job()
        described = job.describe()
        model_data = (described.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if described.get("TrainingJobStatus") != "Completed" or not model_data:
            raise ValidationError(f"training job {job.name} has no model yet ({described.get('TrainingJobStatus')})",
                                  field="fit")  # fmt: skip
        return described, model_data

    def create_model(
        self, role: str | None = None, image_uri: str | None = None, entry_point: str | None = None,
        source_dir: str | None = None, name: str | None = None, env: dict[str, str] | None = None,
        predictor_cls: Any = None, code_location: str | None = None, **_: Any,
    ) -> Any:
        """The latest training job's model, not yet created (the SDK's ``create_model``): the
        framework's model class, whose inference code is the training script and its
        ``source_dir`` as the job ran them (the script's ``model_fn`` and friends, or the
        framework's defaults), unless ``entry_point`` names other code. The built-in
        XGBoost algorithm's model has none.

        >>> est.fit({"train": "s3://data/train/"}); est.create_model().model_data  # doctest: +SKIP
        's3://sagemaker-local-000000000000/sklearn-2026-01-31-12-00-00-123/output/model.tar.gz'
        """
        from groundfog.serving.sdk_model import Model, PyTorchModel, SKLearnModel, XGBoostModel

        described, model_data = self._trained()
        if entry_point is None:
            ran = {k: _decoded(v) for k, v in (described.get("HyperParameters") or {}).items()}
            if PROGRAM in ran:
                entry_point, source_dir = str(ran[PROGRAM]), source_dir or str(ran[SUBMIT_DIRECTORY])
        image = str(image_uri or self.training_image)
        kind = next((k for k in ("xgboost", "pytorch", "sklearn", "scikit") if k in image.lower()), None)
        cls = {"xgboost": XGBoostModel, "pytorch": PyTorchModel, "sklearn": SKLearnModel, "scikit": SKLearnModel}.get(kind, Model)  # fmt: skip
        return cls(model_data=model_data, image_uri=image if cls is Model or image_uri or self.image_uri else None,
                   role=role or self.role, entry_point=entry_point, source_dir=source_dir, name=name, env=env,
                   predictor_cls=predictor_cls, platform=self._job().platform, code_location=code_location,
                   sagemaker_session=self.sagemaker_session)  # fmt: skip

    def deploy(
        self, initial_instance_count: int = 1, instance_type: str = "ml.m5.large", serializer: Any = None,
        deserializer: Any = None, endpoint_name: str | None = None, model_name: str | None = None,
        tags: Any = None, kms_key: str | None = None, wait: bool = True, data_capture_config: Any = None,
        **model_args: Any,
    ) -> Any:
        """Deploy the latest training job's model to a real-time endpoint and return its
        ``Predictor`` (the SDK's ``Estimator.deploy``). The endpoint and the model are named
        after the training job unless ``endpoint_name`` / ``model_name`` say otherwise;
        ``model_args`` go to ``create_model`` (e.g. another ``entry_point``).

        >>> predictor = est.deploy(initial_instance_count=1, instance_type="ml.m5.large")  # doctest: +SKIP
        >>> predictor.predict(rows)                                                      # doctest: +SKIP
        """
        job_name = self._job().name
        model = self.create_model(name=model_name or job_name, **model_args)
        return model.deploy(initial_instance_count=initial_instance_count, instance_type=instance_type,
                            serializer=serializer, deserializer=deserializer,
                            endpoint_name=endpoint_name or job_name, tags=tags, kms_key=kms_key, wait=wait,
                            data_capture_config=data_capture_config)  # fmt: skip

    @classmethod
    def attach(cls, training_job_name: str, platform: Any = None) -> "Estimator":
        """An estimator rebuilt from an existing training job, with it as ``latest_training_job``."""
        platform = resolve_platform(platform)
        d = platform.training.describe_training_job(training_job_name=training_job_name)
        hps = {k: _decoded(v) for k, v in d["HyperParameters"].items()}
        algorithm, resources, stopping = d["AlgorithmSpecification"], d["ResourceConfig"], d["StoppingCondition"]
        estimator = Estimator(
            entry_point=hps.get(PROGRAM), source_dir=hps.get(SUBMIT_DIRECTORY) if PROGRAM in hps else None,
            image_uri=algorithm["TrainingImage"], instance_type=resources["InstanceType"],
            instance_count=resources["InstanceCount"], volume_size=resources.get("VolumeSizeInGB", 30),
            hyperparameters={k: v for k, v in hps.items() if not k.startswith("sagemaker_")},
            output_path=d["OutputDataConfig"]["S3OutputPath"], metric_definitions=algorithm.get("MetricDefinitions"),
            environment=d.get("Environment") or None, use_spot_instances=d.get("EnableManagedSpotTraining", False),
            max_run=stopping.get("MaxRuntimeInSeconds", 86400), max_wait=stopping.get("MaxWaitTimeInSeconds"),
            input_mode=algorithm.get("TrainingInputMode", "File"), platform=platform,
        )  # fmt: skip
        estimator.latest_training_job = TrainingJob(platform, training_job_name)
        return estimator


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class SKLearn(Estimator):
    """``Estimator`` running a scikit-learn script (the SDK's ``sagemaker.sklearn.SKLearn``)."""

    def __init__(self, entry_point: str | None = None, **kwargs: Any) -> None:
        super().__init__(entry_point, framework="sklearn", **kwargs)


class PyTorch(Estimator):
    """``Estimator`` running a PyTorch script (the SDK's ``sagemaker.pytorch.PyTorch``)."""

    def __init__(self, entry_point: str | None = None, **kwargs: Any) -> None:
        super().__init__(entry_point, framework="pytorch", **kwargs)


class XGBoost(Estimator):
    """``Estimator`` running an XGBoost script, or, with no ``entry_point``, the built-in
    XGBoost algorithm (the SDK's ``sagemaker.xgboost.XGBoost``)."""

    def __init__(self, entry_point: str | None = None, **kwargs: Any) -> None:
        super().__init__(entry_point, framework="xgboost", **kwargs)
