"""``groundfog processing ...``, shaped like ``aws sagemaker``'s processing job commands.

    groundfog processing create --code prep.py --input s3://data/raw/=/opt/ml/processing/input \\
        --output /opt/ml/processing/train --wait -- --test-size 0.2
    groundfog processing create --file request.json        # a CreateProcessingJob request
    groundfog processing logs prep-1 --follow
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, parse_pairs, platform
from groundfog.core.errors import ValidationError
from groundfog.training.jobs_cli import (
    add_job_commands,
    report_created,
    File,
    JobKind,
    Opt,
    Wait,
    _request_file,
)
from groundfog.training.sdk import Job
from groundfog.training.sdk_processing import ProcessingInput, ProcessingJob, ProcessingOutput, Processor, ScriptProcessor

processing_app = typer.Typer(help="Processing jobs (SageMaker CreateProcessingJob).", no_args_is_help=True)

# CreateProcessingJob keys → operation arguments.
PROCESSING_REQUEST = {
    "ProcessingJobName": "processing_job_name", "AppSpecification": "app_specification",
    "ProcessingResources": "processing_resources", "ProcessingInputs": "processing_inputs",
    "ProcessingOutputConfig": "processing_output_config", "Environment": "environment",
    "StoppingCondition": "stopping_condition", "Tags": "tags", "RoleArn": "role_arn",
}  # fmt: skip


def _processing_line(job: Job, d: dict[str, Any]) -> str:
    return f"{d['ProcessingJobStatus']} / {d.get('Stage', '')}"


def _processing_summary(d: dict[str, Any]) -> dict[str, Any]:
    outputs = {o["OutputName"]: o["S3Output"]["S3Uri"] for o in d["ProcessingOutputConfig"]["Outputs"]}
    summary = {"ProcessingJobName": d["ProcessingJobName"], "ProcessingJobStatus": d["ProcessingJobStatus"], "Outputs": outputs}
    for key in ("ExitMessage", "FailureReason"):
        if d.get(key):
            summary[key] = d[key]
    return summary


PROCESSING = JobKind(
    kind="processing", label="ProcessingJob", handle=ProcessingJob, line=_processing_line, summary=_processing_summary,
    columns=("ProcessingJobName", "ProcessingJobStatus", "CreationTime", "FailureReason"),
    stop_note="outputs written so far are uploaded.",
)


def _input_spec(item: str) -> ProcessingInput:
    # SOURCE=DESTINATION, split at the last "=": the destination is a container path.
    source, sep, destination = item.rpartition("=")
    if not sep or not source or not destination:
        raise ValidationError(f"--input expects SOURCE=DESTINATION, got {item!r}", field="--input")
    return ProcessingInput(source=source, destination=destination)


def _output_spec(item: str) -> ProcessingOutput:
    # SOURCE or SOURCE=s3://...; named after the source's last folder (``train``), not ``output-1``.
    source, _, destination = item.partition("=")
    return ProcessingOutput(source=source, destination=destination or None, output_name=Path(source).name or None)


@processing_app.command("create")
@command
def create_processing_job(
    arguments: Annotated[list[str] | None, typer.Argument(help="Arguments for the entrypoint (after --).")] = None,
    file: File = None,
    name: Annotated[str | None, Opt(help="The job's name (default: <image>-<timestamp>).")] = None,
    image: Annotated[str, Opt(help="The image (sklearn, xgboost, pytorch or an image URI naming one).")] = "sklearn",
    entrypoint: Annotated[str | None, Opt(help="The container entrypoint, e.g. 'python3 /opt/ml/processing/input/code/prep.py'.")] = None,
    code: Annotated[str | None, Opt(help="A local script (or s3:// URI) to run with --command, as ScriptProcessor does.")] = None,
    command_: Annotated[str, Opt("--command", help="What runs --code.")] = "python3",
    input_: Annotated[list[str] | None, Opt("--input", help="SOURCE=DESTINATION: an s3:// URI or local path to a path under /opt/ml/processing/; repeat.")] = None,
    output_: Annotated[list[str] | None, Opt("--output", help="SOURCE[=s3://DESTINATION]: a path under /opt/ml/processing/; repeat.")] = None,
    env: Annotated[list[str] | None, Opt(help="NAME=VALUE for the container's environment; repeat.")] = None,
    instance_type: Annotated[str, Opt(help="An ML instance type, e.g. ml.m5.large.")] = "ml.m5.large",
    instance_count: Annotated[int, Opt(help="How many hosts.")] = 1,
    max_runtime: Annotated[int | None, Opt(help="MaxRuntimeInSeconds.")] = None,
    wait: Wait = False,
    as_json: JsonOption = False,
) -> None:
    """Start a processing job (CreateProcessingJob), from --file or from the options."""
    p = platform()
    if file is not None:
        request = _request_file(file, PROCESSING_REQUEST, "ProcessingJobName", name, required=("AppSpecification",))
        p.processing.create_processing_job(**request)
        job = ProcessingJob(p, request["processing_job_name"])
    else:
        inputs = [_input_spec(item) for item in input_ or []]
        outputs = [_output_spec(item) for item in output_ or []]
        settings = {"image_uri": image, "instance_type": instance_type, "instance_count": instance_count,
                    "env": parse_pairs(env, "--env"), "max_runtime_in_seconds": max_runtime, "platform": p}  # fmt: skip
        if code is not None:
            script = ScriptProcessor(command=shlex.split(command_), **settings)
            script.run(code=code, inputs=inputs, outputs=outputs, arguments=arguments, wait=False, job_name=name)
            job = script.latest_job
        elif entrypoint is not None:
            processor = Processor(entrypoint=shlex.split(entrypoint), **settings)
            processor.run(inputs=inputs, outputs=outputs, arguments=arguments, wait=False, job_name=name)
            job = processor.latest_job
        else:
            raise ValidationError("give --code (a script) or --entrypoint, or the whole request with --file", field="--code")
    report_created(job, PROCESSING, wait, as_json)


add_job_commands(processing_app, PROCESSING)
