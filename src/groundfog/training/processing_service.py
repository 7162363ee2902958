"""Processing jobs (SageMaker CreateProcessingJob): a container entrypoint run on local
processes with inputs copied in and outputs uploaded; the runner of preprocessing,
evaluation, Model Monitor and Clarify.

>>> platform.processing.create_processing_job(                                  # doctest: +SKIP
...     processing_job_name="prep-1",
...     app_specification={"ImageUri": "sklearn",
...                        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prep.py"]},
...     processing_resources={"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}},
...     processing_inputs=[{"InputName": "code", "S3Input": {"S3Uri": "s3://code/prep.py",
...                         "LocalPath": "/opt/ml/processing/input/code"}}],
...     processing_output_config={"Outputs": [{"OutputName": "train", "S3Output": {
...         "S3Uri": "s3://data/train/", "LocalPath": "/opt/ml/processing/train", "S3UploadMode": "EndOfJob"}}]})
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import ResourceInUse, ValidationError
from groundfog.core.job_models import with_transition
from groundfog.core.paging import with_token
from groundfog.core.names import arn, validate_name
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.training import catalog, requests
from groundfog.training.jobs_base import JobsBase
from groundfog.training.processing_recipe import ProcessingRecipe
from groundfog.training.tables import jobs
from groundfog.training.uris import check_bucket, objects_under

_LOCAL = re.compile(r"^/opt/ml/processing/[^\0]+$")



def _local_path(value: object, field: str) -> str:
    if not isinstance(value, str) or not _LOCAL.match(value) or ".." in value.split("/") or len(value) > 256:
        raise ValidationError(f"{field} must be an absolute path under /opt/ml/processing/, got {value!r}", field=field)
    return value.rstrip("/")


def _strings(value: object, field: str, *, max_items: int = 100) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items or not all(isinstance(v, str) and "\0" not in v for v in value):
        raise ValidationError(f"{field} must be a list of at most {max_items} strings", field=field)
    return list(value)


class ProcessingService(JobsBase):
    """SageMaker's processing jobs, run as local processes under the job runner."""

    name = "processing"
    kind = "processing"
    detail_type = "SageMaker Processing Job State Change"

    def recipe(self, spec: dict[str, Any]) -> ProcessingRecipe:
        return ProcessingRecipe()

    @operation
    def create_processing_job(
        self,
        processing_job_name: str,
        app_specification: dict[str, Any],
        processing_resources: dict[str, Any] | None = None,
        processing_inputs: list[dict[str, Any]] | None = None,
        processing_output_config: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
        stopping_condition: dict[str, Any] | None = None,
        tags: list[dict[str, Any]] | None = None,
        role_arn: str | None = None,
    ) -> dict[str, str]:
        """Start a processing job (CreateProcessingJob); everything is checked first."""
        self._ensure_reconciled()
        validate_name(processing_job_name, "ProcessingJobName")
        spec = self._validate(app_specification, processing_resources, processing_inputs, processing_output_config,
                              environment, stopping_condition, tags, role_arn)  # fmt: skip
        now = self.clock.time()
        job_arn = arn("sagemaker", "processing-job", processing_job_name)
        row = {
            "name": processing_job_name, "arn": job_arn, "status": "InProgress", "secondary_status": "Starting",
            "transitions": with_transition([], "Starting", now, "Launching requested ML instances"),
            "spec": spec, "progress": {}, "resources": spec["LocalResources"], "result": {},
            "created_at": now, "modified_at": now,
        }  # fmt: skip
        try:
            self._insert(row)
        except sa.exc.IntegrityError:
            raise ResourceInUse(f"a processing job named {processing_job_name!r} already exists", field="ProcessingJobName") from None
        return {"ProcessingJobArn": job_arn}

    def _validate(self, app: Any, resources: Any, inputs: Any, outputs: Any, environment: Any, stopping: Any, tags: Any, role_arn: Any) -> dict[str, Any]:
        app = requests._mapping(app, "AppSpecification")
        requests._only(app, "AppSpecification", ("ImageUri", "ContainerEntrypoint", "ContainerArguments"))
        image = app.get("ImageUri")
        if not isinstance(image, str) or not image:
            raise ValidationError("AppSpecification.ImageUri is required", field="AppSpecification.ImageUri")
        entrypoint = _strings(app.get("ContainerEntrypoint"), "AppSpecification.ContainerEntrypoint")
        if not entrypoint:
            raise ValidationError(
                "AppSpecification.ContainerEntrypoint is required: groundfog runs no image of its own "
                "(e.g. [\"python3\", \"/opt/ml/processing/input/code/script.py\"])",
                field="AppSpecification.ContainerEntrypoint",
            )
        arguments = _strings(app.get("ContainerArguments"), "AppSpecification.ContainerArguments")
        resources = requests._mapping(resources, "ProcessingResources")
        requests._only(resources, "ProcessingResources", ("ClusterConfig",))
        cluster = requests.resource_config(resources.get("ClusterConfig"), "ProcessingResources.ClusterConfig")
        spec_inputs = []
        if inputs is not None and (not isinstance(inputs, list) or len(inputs) > 10):
            raise ValidationError("ProcessingInputs must be a list of at most 10 inputs", field="ProcessingInputs")
        for i, item in enumerate(inputs or []):
            at = f"ProcessingInputs[{i}]"
            item = requests._mapping(item, at)
            requests._only(item, at, ("InputName", "S3Input", "AppManaged", "DatasetDefinition"))
            name = validate_name(item.get("InputName"), f"{at}.InputName", pattern=re.compile(r"^[A-Za-z0-9\.\-_]+$"), max_length=64)
            s3 = requests._mapping(item.get("S3Input"), f"{at}.S3Input")
            if not s3:
                raise ValidationError(f"{at}.S3Input is required", field=f"{at}.S3Input")
            requests._only(s3, f"{at}.S3Input", ("S3Uri", "LocalPath", "S3DataType", "S3InputMode", "S3DataDistributionType", "S3CompressionType"))
            if s3.get("S3DataDistributionType", "FullyReplicated") != "FullyReplicated" or s3.get("S3CompressionType", "None") != "None":
                raise ValidationError(
                    f"{at}.S3Input: only S3DataDistributionType FullyReplicated and S3CompressionType None are supported",
                    field=f"{at}.S3Input",
                )
            mode = s3.get("S3InputMode", "File")
            if mode not in ("File", "FastFile"):
                raise ValidationError(f"{at}.S3Input.S3InputMode must be File or FastFile", field=f"{at}.S3Input.S3InputMode")
            if s3.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise ValidationError(f"{at}.S3Input.S3DataType must be S3Prefix", field=f"{at}.S3Input.S3DataType")
            found = objects_under(self.storage, s3.get("S3Uri"), f"{at}.S3Input.S3Uri")
            spec_inputs.append({
                "InputName": name, "S3Uri": s3["S3Uri"], "LocalPath": _local_path(s3.get("LocalPath"), f"{at}.S3Input.LocalPath"),
                "S3InputMode": mode, "ObjectCount": len(found),
            })  # fmt: skip
        spec_outputs = []
        outputs = requests._mapping(outputs, "ProcessingOutputConfig")
        requests._only(outputs, "ProcessingOutputConfig", ("Outputs", "KmsKeyId"))
        output_list = outputs.get("Outputs") or []
        if not isinstance(output_list, list) or len(output_list) > 10:
            raise ValidationError("ProcessingOutputConfig.Outputs must be a list of at most 10 outputs", field="ProcessingOutputConfig.Outputs")
        for i, item in enumerate(output_list):
            at = f"ProcessingOutputConfig.Outputs[{i}]"
            item = requests._mapping(item, at)
            requests._only(item, at, ("OutputName", "S3Output", "AppManaged", "FeatureStoreOutput"))
            name = validate_name(item.get("OutputName"), f"{at}.OutputName", pattern=re.compile(r"^[A-Za-z0-9\.\-_]+$"), max_length=64)
            s3 = requests._mapping(item.get("S3Output"), f"{at}.S3Output")
            requests._only(s3, f"{at}.S3Output", ("S3Uri", "LocalPath", "S3UploadMode"))
            check_bucket(self.storage, s3.get("S3Uri"), f"{at}.S3Output.S3Uri")
            mode = s3.get("S3UploadMode", "EndOfJob")
            if mode not in ("EndOfJob", "Continuous"):
                raise ValidationError(f"{at}.S3Output.S3UploadMode must be EndOfJob or Continuous", field=f"{at}.S3Output.S3UploadMode")
            spec_outputs.append({"OutputName": name, "S3Uri": s3["S3Uri"], "LocalPath": _local_path(s3.get("LocalPath"), f"{at}.S3Output.LocalPath"), "S3UploadMode": mode})
        names = [x["InputName"] for x in spec_inputs] + [x["OutputName"] for x in spec_outputs]
        if len(set(names)) != len(names):
            raise ValidationError("input and output names must be unique", field="ProcessingInputs")
        stopping = requests._mapping(stopping, "StoppingCondition")
        requests._only(stopping, "StoppingCondition", ("MaxRuntimeInSeconds",))
        local = catalog.local_resources(cluster["InstanceType"], cluster["InstanceCount"])
        return {
            "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": entrypoint, "ContainerArguments": arguments},
            "ProcessingResources": {"ClusterConfig": cluster}, "ProcessingInputs": spec_inputs,
            "ProcessingOutputs": spec_outputs, "Environment": requests._str_map(environment, "Environment"),
            "StoppingCondition": {"MaxRuntimeInSeconds": requests._positive_int(stopping.get("MaxRuntimeInSeconds"), "StoppingCondition.MaxRuntimeInSeconds", default=86400, maximum=7 * 86400)},
            "Tags": requests.tags(tags), "RoleArn": role_arn if isinstance(role_arn, str) else None,
            "LocalResources": local.model_dump(),
        }  # fmt: skip

    @operation
    def describe_processing_job(self, processing_job_name: str) -> dict[str, Any]:
        """The job as SageMaker's DescribeProcessingJob shows it."""
        self._ensure_reconciled()
        return self._describe(self._row(processing_job_name))

    def _describe(self, row: Any) -> dict[str, Any]:
        spec = row.spec
        out: dict[str, Any] = {
            "ProcessingJobName": row.name, "ProcessingJobArn": row.arn, "ProcessingJobStatus": row.status,
            "AppSpecification": spec["AppSpecification"], "ProcessingResources": spec["ProcessingResources"],
            "ProcessingInputs": [
                {"InputName": x["InputName"], "S3Input": {"S3Uri": x["S3Uri"], "LocalPath": x["LocalPath"], "S3DataType": "S3Prefix", "S3InputMode": x["S3InputMode"]}}
                for x in spec["ProcessingInputs"]
            ],
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": x["OutputName"], "S3Output": {"S3Uri": x["S3Uri"], "LocalPath": x["LocalPath"], "S3UploadMode": x["S3UploadMode"]}}
                for x in spec["ProcessingOutputs"]
            ]},
            "Environment": spec["Environment"], "StoppingCondition": spec["StoppingCondition"],
            "CreationTime": utc_datetime(row.created_at), "ProcessingStartTime": utc_datetime(row.started_at),
            "ProcessingEndTime": utc_datetime(row.ended_at), "LastModifiedTime": utc_datetime(row.modified_at),
            "LocalResources": row.resources, "Stage": row.secondary_status,
        }  # fmt: skip
        if row.failure_reason:
            out["FailureReason"] = row.failure_reason
        if row.result.get("ExitMessage"):
            out["ExitMessage"] = row.result["ExitMessage"]
        if row.stop_reason and row.stop_reason != "Stopped":
            out["ExitMessage"] = row.stop_reason
        return out

    @operation
    def list_processing_jobs(self, status_equals: str | None = None, name_contains: str | None = None,
                             max_results: int = 100, sort_by: str = "CreationTime", sort_order: str = "Descending",
                             next_token: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Processing jobs, newest first by default (ListProcessingJobs); ``NextToken`` pages on."""
        rows, token = self._listed(status_equals, name_contains, max_results, sort_by=sort_by, sort_order=sort_order,
                                   next_token=next_token)  # fmt: skip
        return with_token({
            "ProcessingJobSummaries": [
                {"ProcessingJobName": r.name, "ProcessingJobArn": r.arn, "ProcessingJobStatus": r.status,
                 "CreationTime": utc_datetime(r.created_at), "ProcessingEndTime": utc_datetime(r.ended_at),
                 "LastModifiedTime": utc_datetime(r.modified_at), **({"FailureReason": r.failure_reason} if r.failure_reason else {})}
                for r in rows
            ]
        }, token)  # fmt: skip

    @operation
    def stop_processing_job(self, processing_job_name: str) -> None:
        """Stop a running job: SIGTERM, grace, then ``Stopped``."""
        self._stop(processing_job_name)

    @operation
    def wait_for_processing_job(self, processing_job_name: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the job ends (or ``timeout`` seconds); returns its description."""
        return self._wait_and_describe(processing_job_name, timeout)

    @operation
    def get_processing_job_logs(self, processing_job_name: str, start: int = 0) -> dict[str, Any]:
        """The job's log from byte ``start``: ``{"Text", "NextStart", "Done"}``."""
        return self._log_page(processing_job_name, start)
