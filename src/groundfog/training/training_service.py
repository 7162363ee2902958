"""Training jobs (SageMaker CreateTrainingJob): script mode and the built-in XGBoost
algorithm, File and FastFile channels, metric definitions, managed spot with
checkpoints, several hosts with torch.distributed.

>>> job = platform.training.create_training_job(                        # doctest: +SKIP
...     training_job_name="rf-1",
...     algorithm_specification={"TrainingImage": "sklearn", "TrainingInputMode": "File"},
...     hyper_parameters={"sagemaker_program": "train.py",
...                       "sagemaker_submit_directory": "s3://code/rf/sourcedir.tar.gz",
...                       "n-estimators": "100"},
...     input_data_config=[{"ChannelName": "train",
...                         "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
...     output_data_config={"S3OutputPath": "s3://models/"},
...     resource_config={"InstanceType": "ml.m5.large", "InstanceCount": 1})
>>> platform.training.wait_for_training_job("rf-1")["TrainingJobStatus"]  # doctest: +SKIP
'Completed'
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceInUse, ValidationError
from groundfog.core.job_models import with_transition
from groundfog.core.paging import with_token
from groundfog.core.names import arn
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.training import catalog, requests
from groundfog.training.builtin import validate_builtin_request
from groundfog.training.jobs_base import TERMINAL, JobsBase
from groundfog.training.spot import InterruptionModel
from groundfog.training.tables import jobs
from groundfog.training.training_recipe import TrainingRecipe
from groundfog.training.uris import check_bucket




class TrainingService(JobsBase):
    """SageMaker's training jobs, run as local processes under the job runner."""

    name = "training"
    kind = "training"
    detail_type = "SageMaker Training Job State Change"

    def recipe(self, spec: dict[str, Any]) -> TrainingRecipe:
        return TrainingRecipe()

    def next_interruption(self, spec: dict[str, Any], running_seconds: float) -> float | None:
        if not spec.get("EnableManagedSpotTraining"):
            return None
        return InterruptionModel(spec.get("SpotInterruptions", {})).next_after(running_seconds)

    @operation
    def create_training_job(
        self,
        training_job_name: str,
        algorithm_specification: dict[str, Any],
        output_data_config: dict[str, Any],
        resource_config: dict[str, Any] | None = None,
        hyper_parameters: dict[str, Any] | None = None,
        input_data_config: list[dict[str, Any]] | None = None,
        stopping_condition: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
        enable_managed_spot_training: bool = False,
        checkpoint_config: dict[str, Any] | None = None,
        tags: list[dict[str, Any]] | None = None,
        role_arn: str | None = None,
        spot_interruptions: dict[str, Any] | None = None,
        tuning_job_name: str | None = None,
    ) -> dict[str, str]:
        """Start a training job (CreateTrainingJob); everything is checked first.

        ``spot_interruptions`` (groundfog's, not SageMaker's) sets when spot capacity
        is reclaimed: ``{"Schedule": [seconds of training, ...]}`` or ``{"RatePerHour":
        0.5, "Seed": 7}``, with ``RestartDelaySeconds``; the platform's default is
        ``Config.spot_interruptions``.
        """
        self._ensure_reconciled()
        spec = self._validate(
            training_job_name, algorithm_specification, output_data_config, resource_config, hyper_parameters,
            input_data_config, stopping_condition, environment, enable_managed_spot_training, checkpoint_config,
            tags, role_arn, spot_interruptions,
        )  # fmt: skip
        now = self.clock.time()
        job_arn = arn("sagemaker", "training-job", training_job_name)
        progress = {"next_interruption": self.next_interruption(spec, 0.0)}
        row = {
            "name": training_job_name, "arn": job_arn, "status": "InProgress", "secondary_status": "Starting",
            "transitions": with_transition([], "Starting", now, "Launching requested ML instances"),
            "spec": spec, "progress": progress, "resources": spec["LocalResources"], "result": {},
            "tuning_job_name": tuning_job_name, "created_at": now, "modified_at": now,
        }  # fmt: skip
        try:
            self._insert(row)
        except sa.exc.IntegrityError:
            raise ResourceInUse(f"a training job named {training_job_name!r} already exists", field="TrainingJobName") from None
        return {"TrainingJobArn": job_arn}

    def _validate(
        self, name: Any, algorithm: Any, output: Any, resources: Any, hyperparameters: Any, channels: Any,
        stopping: Any, environment: Any, spot: Any, checkpoints: Any, tags: Any, role_arn: Any, interruptions: Any,
    ) -> dict[str, Any]:  # fmt: skip
        requests.training_job_name(name)
        if not isinstance(spot, bool):
            raise ValidationError("EnableManagedSpotTraining must be true or false", field="EnableManagedSpotTraining")
        algorithm = requests._mapping(algorithm, "AlgorithmSpecification")
        requests._only(
            algorithm, "AlgorithmSpecification",
            ("TrainingImage", "AlgorithmName", "TrainingInputMode", "MetricDefinitions", "EnableSageMakerMetricsTimeSeries", "ContainerEntrypoint", "ContainerArguments"),
        )  # fmt: skip
        image = algorithm.get("TrainingImage") or algorithm.get("AlgorithmName")
        framework = requests.framework_of(image)
        mode = algorithm.get("TrainingInputMode", "File")
        if mode not in requests.INPUT_MODES:
            raise ValidationError(
                f"AlgorithmSpecification.TrainingInputMode {mode!r} is not supported; expected File, FastFile or Pipe",
                field="AlgorithmSpecification.TrainingInputMode",
            )
        hps = requests._str_map(hyperparameters, "HyperParameters")
        source = requests.source_code(self.storage, hps, framework)
        definitions = requests.metric_definitions(algorithm.get("MetricDefinitions"))
        resource = requests.resource_config(resources)
        channel_list = requests.channels(self.storage, channels, mode)
        if source is None:
            definitions = validate_builtin_request("xgboost", hps, channel_list, definitions, resource["InstanceCount"])
        output = requests._mapping(output, "OutputDataConfig")
        requests._only(output, "OutputDataConfig", ("S3OutputPath", "KmsKeyId", "CompressionType"))
        check_bucket(self.storage, output.get("S3OutputPath"), "OutputDataConfig.S3OutputPath")
        local = catalog.local_resources(resource["InstanceType"], resource["InstanceCount"])
        default_interruptions = getattr(self.config, "spot_interruptions", None) or {}
        return {
            "Framework": framework, "TrainingImage": image, "TrainingInputMode": mode, "Source": source,
            "HyperParameters": hps, "MetricDefinitions": definitions, "ResourceConfig": resource,
            "InputDataConfig": channel_list, "OutputDataConfig": {"S3OutputPath": output["S3OutputPath"]},
            "StoppingCondition": requests.stopping_condition(stopping, spot),
            "Environment": requests._str_map(environment, "Environment"),
            "EnableManagedSpotTraining": spot,
            "CheckpointConfig": requests.checkpoint_config(self.storage, checkpoints),
            "SpotInterruptions": requests.spot_interruptions(interruptions, default_interruptions) if spot else {},
            "Tags": requests.tags(tags), "RoleArn": role_arn if isinstance(role_arn, str) else None,
            "LocalResources": local.model_dump(),
        }  # fmt: skip

    @operation
    def describe_training_job(self, training_job_name: str) -> dict[str, Any]:
        """The job as SageMaker's DescribeTrainingJob shows it, plus ``LocalResources`` and ``Cost``."""
        self._ensure_reconciled()
        return self._describe(self._row(training_job_name))

    def _describe(self, row: Any) -> dict[str, Any]:
        spec, result, progress = row.spec, row.result, row.progress
        algorithm: dict[str, Any] = {"TrainingImage": spec["TrainingImage"], "TrainingInputMode": spec["TrainingInputMode"]}
        if spec["MetricDefinitions"]:
            algorithm["MetricDefinitions"] = spec["MetricDefinitions"]
        channels = [
            {"ChannelName": c["ChannelName"], "InputMode": c["InputMode"], "CompressionType": c["CompressionType"],
             **({"ContentType": c["ContentType"]} if c["ContentType"] else {}),
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": c["S3Uri"],
                                             "S3DataDistributionType": c["S3DataDistributionType"]}}}
            for c in spec["InputDataConfig"]
        ]  # fmt: skip
        out: dict[str, Any] = {
            "TrainingJobName": row.name, "TrainingJobArn": row.arn,
            "TrainingJobStatus": row.status, "SecondaryStatus": row.secondary_status,
            "AlgorithmSpecification": algorithm, "HyperParameters": spec["HyperParameters"],
            "InputDataConfig": channels, "OutputDataConfig": spec["OutputDataConfig"],
            "ResourceConfig": spec["ResourceConfig"], "StoppingCondition": spec["StoppingCondition"],
            "Environment": spec["Environment"], "EnableManagedSpotTraining": spec["EnableManagedSpotTraining"],
            "CreationTime": utc_datetime(row.created_at), "TrainingStartTime": utc_datetime(row.started_at),
            "TrainingEndTime": utc_datetime(row.ended_at), "LastModifiedTime": utc_datetime(row.modified_at),
            "SecondaryStatusTransitions": [
                {**t, "StartTime": utc_datetime(t["StartTime"]), "EndTime": utc_datetime(t.get("EndTime"))} for t in row.transitions
            ],
            "ModelArtifacts": result.get("ModelArtifacts", {"S3ModelArtifacts": None}),
            "FinalMetricDataList": [{**m, "Timestamp": utc_datetime(m["Timestamp"])} for m in result.get("FinalMetricDataList", [])],
            "LocalResources": row.resources, "Framework": spec["Framework"],
            "SpotInterruptions": progress.get("interruptions", []),
        }  # fmt: skip
        if row.failure_reason:
            out["FailureReason"] = row.failure_reason
        if spec.get("CheckpointConfig"):
            out["CheckpointConfig"] = spec["CheckpointConfig"]
        if row.tuning_job_name:
            out["TuningJobArn"] = arn("sagemaker", "hyper-parameter-tuning-job", row.tuning_job_name)
        for key in ("TrainingTimeInSeconds", "BillableTimeInSeconds", "Cost", "SavingsPercent", "OutputDataUri"):
            if key in result:
                out[key] = result[key]
        if spec["Tags"]:
            out["Tags"] = spec["Tags"]
        return out

    @operation
    def list_training_jobs(
        self,
        status_equals: str | None = None,
        name_contains: str | None = None,
        max_results: int = 100,
        tuning_job_name: str | None = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Training jobs, newest first by default (ListTrainingJobs); ``NextToken`` pages on."""
        extra = [] if tuning_job_name is None else [jobs.c.tuning_job_name == tuning_job_name]
        rows, token = self._listed(status_equals, name_contains, max_results, *extra, sort_by=sort_by,
                                   sort_order=sort_order, next_token=next_token)  # fmt: skip
        return with_token({
            "TrainingJobSummaries": [
                {"TrainingJobName": r.name, "TrainingJobArn": r.arn, "TrainingJobStatus": r.status,
                 "SecondaryStatus": r.secondary_status, "CreationTime": utc_datetime(r.created_at),
                 "TrainingEndTime": utc_datetime(r.ended_at), "LastModifiedTime": utc_datetime(r.modified_at)}
                for r in rows
            ]
        }, token)  # fmt: skip

    @operation
    def stop_training_job(self, training_job_name: str) -> None:
        """Stop a running job (StopTrainingJob): SIGTERM, 120 s grace, then ``Stopped``;
        the model saved so far is uploaded. A job that has ended is left as it is."""
        self._stop(training_job_name)

    @operation
    def wait_for_training_job(self, training_job_name: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the job ends (or ``timeout`` seconds); returns its description."""
        return self._wait_and_describe(training_job_name, timeout)

    @operation
    def get_training_job_logs(self, training_job_name: str, start: int = 0) -> dict[str, Any]:
        """The job's log from byte ``start``: ``{"Text", "NextStart", "Done"}``; call again
        with ``NextStart`` to follow it until ``Done``."""
        return self._log_page(training_job_name, start)

    @operation
    def get_training_job_metrics(self, training_job_name: str, metric_name: str | None = None, host: str = "algo-1") -> dict[str, list[float]]:
        """Every value the metric definitions matched in ``host``'s log, in order."""
        return self.metric_series(training_job_name, metric_name, host)

    def training_jobs_of_tuning_job(self, tuning_job_name: str) -> list[dict[str, Any]]:
        return [self._describe(r) for r in self._rows(jobs.c.tuning_job_name == tuning_job_name)]

    def is_done(self, training_job_name: str) -> bool:
        return self._row(training_job_name).status in TERMINAL
