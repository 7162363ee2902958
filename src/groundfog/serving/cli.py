"""``groundfog endpoint-configs ...`` and ``groundfog endpoints ...`` (SageMaker hosting).

    groundfog endpoint-configs create --name churn-v1 --model churn-v1 --instance-count 2 \\
        --capture-destination s3://monitoring/churn --capture-percent 100
    groundfog endpoints create --name churn --config churn-v1
    groundfog endpoints update churn --config churn-v2 --canary 10 --wait-interval 300 --rollback-alarm churn-5xx
    groundfog endpoints describe churn
    groundfog endpoints invoke churn --body row.csv --content-type text/csv

Endpoints are served by the server (``groundfog up``). Without ``GROUNDFOG_URL`` the
commands work on the platform's state directly and never host an endpoint themselves
(the process ends with the command): the server picks new endpoints up. Invoking and
waiting need the server, so they need ``GROUNDFOG_URL``. Commands are thin: each calls
serving operations and prints a summary, or the record with ``--json``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, platform
from groundfog.core.errors import GroundfogError, ServiceUnavailable, ValidationError
from groundfog.serving.cli_options import build_deployment_config, json_document, parse_desired, parse_variant

endpoint_configs_app = typer.Typer(help="Endpoint configs: the variants an endpoint runs (SageMaker CreateEndpointConfig).",
                                   no_args_is_help=True)  # fmt: skip
endpoints_app = typer.Typer(help="Real-time endpoints: create, deploy, invoke (SageMaker hosting).", no_args_is_help=True)

Opt = typer.Option
Name = Annotated[str, typer.Argument(help="The endpoint's name.")]
ConfigName = Annotated[str, typer.Argument(help="The endpoint config's name.")]
InstanceType = Annotated[str, Opt(help="The instance type of each variant (ml.m5.large...).")]
MaxResults = Annotated[int, Opt(help="At most this many, newest first (1-100).")]

SERVER = "start one with 'groundfog up' and set GROUNDFOG_URL=http://127.0.0.1:8750"
CONFIG_KEYS = {"EndpointConfigName": "endpoint_config_name", "ProductionVariants": "production_variants",
               "DataCaptureConfig": "data_capture_config", "ShadowProductionVariants": "shadow_production_variants",
               "Tags": "tags", "KmsKeyId": "kms_key_id"}  # fmt: skip
VARIANT_COLUMNS = ["VariantName", "ModelName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight"]


def _has_server() -> bool:
    return bool(os.environ.get("GROUNDFOG_URL"))


def serving() -> Any:
    """The serving service. An embedded platform records endpoints but does not host
    them: this process ends with the command, and the server serves them instead."""
    p = platform()
    if not _has_server():
        p.serving.auto_host = False
    return p.serving


def _need_server(doing: str) -> None:
    if not _has_server():
        raise ServiceUnavailable(f"{doing} needs a running server: {SERVER}")


def _note_served_later(name: str) -> None:
    if not _has_server():
        sys.stderr.write(f"note: endpoint {name} is recorded; it is served when 'groundfog up' runs "
                         "(a running server picks it up within seconds)\n")  # fmt: skip


def _done(record: dict[str, Any], message: str, as_json: bool) -> None:
    output(record if as_json else message, as_json=as_json)


# ---- endpoint configs ----------------------------------------------------------------------


@endpoint_configs_app.command("create")
@command
def create_config(
    name: Annotated[str | None, Opt(help="The endpoint config's name.")] = None,
    model: Annotated[str | None, Opt(help="The model of a one-variant config.")] = None,
    variant_name: Annotated[str, Opt(help="The name of --model's variant.")] = "AllTraffic",
    instance_type: InstanceType = "ml.m5.large",
    instance_count: Annotated[int, Opt(help="Instances of --model's variant (and each --variant's default).")] = 1,
    weight: Annotated[float, Opt(help="Weight of --model's variant (and each --variant's default).")] = 1.0,
    variant: Annotated[list[str] | None, Opt(help="A production variant NAME=MODEL[:COUNT[:WEIGHT]]; repeat.")] = None,
    shadow: Annotated[list[str] | None, Opt(help="A shadow variant NAME=MODEL[:COUNT[:WEIGHT]].")] = None,
    capture_destination: Annotated[str | None, Opt(help="Capture requests and responses under this s3:// URI.")] = None,
    capture_percent: Annotated[int, Opt(help="The percentage of requests captured.")] = 100,
    capture_modes: Annotated[str, Opt(help="What is captured: Input, Output or Input,Output.")] = "Input,Output",
    json_file: Annotated[str | None, Opt(help="The whole CreateEndpointConfig request as a JSON file (PascalCase).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint config (CreateEndpointConfig) from options or a request file."""
    if json_file is not None:
        if model or variant or shadow or capture_destination:
            raise ValidationError("give --json-file or the variant and capture options, not both", field="--json-file")
        request = _config_file(json_file)
        if name is not None:
            request["endpoint_config_name"] = name
    else:
        defaults = {"instance_type": instance_type, "count": instance_count, "weight": weight}
        variants = [parse_variant(f"{variant_name}={model}", "--model", **defaults)] if model else []
        variants += [parse_variant(v, "--variant", **defaults) for v in variant or []]
        if not variants:
            raise ValidationError("give --model (one variant), --variant NAME=MODEL (several) or --json-file",
                                  field="--model")  # fmt: skip
        shadows = [parse_variant(s, "--shadow", **defaults) for s in shadow or []]
        request = {"endpoint_config_name": name, "production_variants": variants,
                   "shadow_production_variants": shadows or None}  # fmt: skip
        if capture_destination is not None:
            request["data_capture_config"] = {
                "EnableCapture": True, "InitialSamplingPercentage": capture_percent,
                "DestinationS3Uri": capture_destination,
                "CaptureOptions": [{"CaptureMode": m.strip().capitalize()} for m in capture_modes.split(",") if m.strip()],
            }  # fmt: skip
    if not request.get("endpoint_config_name"):
        raise ValidationError("give the endpoint config's --name", field="--name")
    created = serving().create_endpoint_config(**request)
    _done(created, created["EndpointConfigArn"], as_json)


def _config_file(path: str) -> dict[str, Any]:
    document = json_document(path, "--json-file")
    if not isinstance(document, dict):
        raise ValidationError("--json-file must hold a CreateEndpointConfig request object", field="--json-file")
    unknown = sorted(set(document) - set(CONFIG_KEYS))
    if unknown:
        raise ValidationError(f"--json-file: unknown key {unknown[0]!r}; expected {', '.join(CONFIG_KEYS)}",
                              field="--json-file")  # fmt: skip
    return {CONFIG_KEYS[key]: value for key, value in document.items()}


@endpoint_configs_app.command("describe")
@command
def describe_config(name: ConfigName, as_json: JsonOption = False) -> None:
    """The endpoint config as DescribeEndpointConfig shows it."""
    described = serving().describe_endpoint_config(endpoint_config_name=name)
    if as_json:
        output(described, as_json=True)
        return
    output(described["ProductionVariants"], as_json=False, columns=VARIANT_COLUMNS, title=f"endpoint config {name}")
    if described.get("ShadowProductionVariants"):
        output(described["ShadowProductionVariants"], as_json=False, columns=VARIANT_COLUMNS, title="shadow variants")
    capture = described.get("DataCaptureConfig")
    if capture:
        modes = ",".join(o["CaptureMode"] for o in capture["CaptureOptions"])
        output(f"data capture: {capture['InitialSamplingPercentage']}% of {modes} to {capture['DestinationS3Uri']}",
               as_json=False)  # fmt: skip


@endpoint_configs_app.command("list")
@command
def list_configs(
    name_contains: Annotated[str | None, Opt(help="Only configs whose name contains this.")] = None,
    max_results: MaxResults = 100,
    as_json: JsonOption = False,
) -> None:
    """Endpoint configs, newest first (ListEndpointConfigs)."""
    found = serving().list_endpoint_configs(name_contains=name_contains, max_results=max_results)
    output(found if as_json else found["EndpointConfigs"], as_json=as_json,
           columns=["EndpointConfigName", "CreationTime", "EndpointConfigArn"])  # fmt: skip


@endpoint_configs_app.command("delete")
@command
def delete_config(name: ConfigName, as_json: JsonOption = False) -> None:
    """Delete an endpoint config (DeleteEndpointConfig); endpoints running on it keep running."""
    serving().delete_endpoint_config(endpoint_config_name=name)
    _done({"EndpointConfigName": name, "Deleted": True}, f"Deleted endpoint config {name}", as_json)


# ---- endpoints -----------------------------------------------------------------------------


@endpoints_app.command("create")
@command
def create_endpoint(
    name: Annotated[str, Opt(help="The endpoint's name.")],
    config: Annotated[str | None, Opt(help="The endpoint config it runs.")] = None,
    model: Annotated[str | None, Opt(help="Or a model: a one-variant config NAME-config is created for it.")] = None,
    instance_type: Annotated[str | None, Opt(help="The instance type of --model's variant.")] = None,
    instance_count: Annotated[int, Opt(help="Instances of --model's variant.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint (CreateEndpoint) on a config, or on a model with one variant."""
    if (config is None) == (model is None):
        raise ValidationError("give --config, or --model with --instance-type", field="--config")
    s = serving()
    if model is not None:
        if instance_type is None:
            raise ValidationError("--model needs --instance-type", field="--instance-type")
        config = f"{name}-config"
        s.create_endpoint_config(endpoint_config_name=config, production_variants=[parse_variant(
            f"AllTraffic={model}", "--model", instance_type=instance_type, count=instance_count, weight=1.0)])  # fmt: skip
    created = s.create_endpoint(endpoint_name=name, endpoint_config_name=config)
    _done({**created, "EndpointConfigName": config}, f"Creating endpoint {name} on {config}: {created['EndpointArn']}",
          as_json)  # fmt: skip
    _note_served_later(name)


@endpoints_app.command("update")
@command
def update_endpoint(
    name: Name,
    config: Annotated[str, Opt(help="The endpoint config to move to.")],
    deployment_config: Annotated[str | None, Opt(help="A DeploymentConfig JSON file (or inline JSON).")] = None,
    canary: Annotated[int | None, Opt(help="Blue/green: this percent of capacity first, then the rest.")] = None,
    linear: Annotated[int | None, Opt(help="Blue/green: this percent of capacity per step.")] = None,
    all_at_once: Annotated[bool, Opt("--all-at-once", help="Blue/green: all traffic in one step.")] = False,
    wait_interval: Annotated[int | None, Opt(help="Seconds to bake after each traffic step.")] = None,
    termination_wait: Annotated[int | None, Opt(help="Seconds the old fleet stays after the last step.")] = None,
    rollback_alarm: Annotated[list[str] | None, Opt(help="An alarm that rolls the update back; repeat.")] = None,
    retain_variant_properties: Annotated[bool, Opt(help="Keep the variants' current weights and counts.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Move an endpoint to another config (UpdateEndpoint), shifting traffic as told."""
    policy = build_deployment_config(deployment_config, canary, linear, all_at_once, wait_interval, termination_wait,
                                     rollback_alarm)  # fmt: skip
    updated = serving().update_endpoint(endpoint_name=name, endpoint_config_name=config, deployment_config=policy,
                                        retain_all_variant_properties=retain_variant_properties)  # fmt: skip
    _done({**updated, "DeploymentConfig": policy}, f"Updating endpoint {name} to {config}", as_json)
    _note_served_later(name)


@endpoints_app.command("update-weights")
@command
def update_weights(
    name: Name,
    variant: Annotated[list[str], Opt(help="NAME=WEIGHT[:COUNT] (or NAME=:COUNT); repeat.")],
    as_json: JsonOption = False,
) -> None:
    """Change variants' weights and instance counts in place (UpdateEndpointWeightsAndCapacities)."""
    desired = [parse_desired(v) for v in variant]
    updated = serving().update_endpoint_weights_and_capacities(endpoint_name=name,
                                                               desired_weights_and_capacities=desired)  # fmt: skip
    _done({**updated, "DesiredWeightsAndCapacities": desired}, f"Updating weights and capacities of {name}", as_json)


@endpoints_app.command("describe")
@command
def describe_endpoint(name: Name, as_json: JsonOption = False) -> None:
    """The endpoint as DescribeEndpoint shows it: status, variants, deployment progress."""
    described = serving().describe_endpoint(endpoint_name=name)
    if as_json:
        output(described, as_json=True)
    else:
        _render_endpoint(described)


def _render_endpoint(described: dict[str, Any]) -> None:
    """Status, the variants' weights and instance counts, and a deployment's progress."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    status = described["EndpointStatus"]
    colour = {"InService": "green", "Failed": "red", "UpdateRollbackFailed": "red"}.get(status, "yellow")
    console.print(f"[bold]{described['EndpointName']}[/bold]  [{colour}]{status}[/{colour}]  "
                  f"on {described['EndpointConfigName']}")  # fmt: skip
    if described.get("FailureReason"):
        console.print(f"[red]{described['FailureReason']}[/red]")
    groups = [("variants", described["ProductionVariants"])]
    if described.get("ShadowProductionVariants"):
        groups.append(("shadow variants", described["ShadowProductionVariants"]))
    pending = described.get("PendingDeploymentSummary")
    if pending:
        groups.append((f"new fleet ({pending['EndpointConfigName']})", pending["ProductionVariants"]))
    for title, variants in groups:
        table = Table(title=title, title_justify="left")
        for column in ("Variant", "Weight", "Instances", "Status"):
            table.add_column(column)
        for v in variants:
            table.add_row(v["VariantName"], _change(v["CurrentWeight"], v["DesiredWeight"]),
                          _change(v["CurrentInstanceCount"], v["DesiredInstanceCount"]),
                          "; ".join(s["StatusMessage"] for s in v.get("VariantStatus", [])))  # fmt: skip
        console.print(table)
    progress = described.get("DeploymentProgress")
    if progress:
        console.print(f"deployment: {progress['Type']}, {progress['Phase']}, step {progress['Step']} of "
                      f"{progress['Steps']}, {progress['NewFleetShare']:.0%} of traffic on the new fleet")  # fmt: skip
    capture = described.get("DataCaptureConfig")
    if capture:
        console.print(f"data capture: {capture['CurrentSamplingPercentage']}% to {capture['DestinationS3Uri']}")


def _change(current: Any, desired: Any) -> str:
    return f"{current:g}" if current == desired else f"{current:g} -> {desired:g}"


@endpoints_app.command("list")
@command
def list_endpoints(
    status: Annotated[str | None, Opt(help="Only endpoints in this status (InService, Creating...).")] = None,
    name_contains: Annotated[str | None, Opt(help="Only endpoints whose name contains this.")] = None,
    max_results: MaxResults = 100,
    as_json: JsonOption = False,
) -> None:
    """Endpoints, newest first (ListEndpoints)."""
    found = serving().list_endpoints(status_equals=status, name_contains=name_contains, max_results=max_results)
    output(found if as_json else found["Endpoints"], as_json=as_json,
           columns=["EndpointName", "EndpointStatus", "CreationTime", "LastModifiedTime"])  # fmt: skip


@endpoints_app.command("wait")
@command
def wait_endpoint(
    name: Name,
    timeout: Annotated[float | None, Opt(help="Give up after this many seconds.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Wait until the endpoint is steady: no longer Creating, Updating or RollingBack.

    Exits 1 if it failed, or is still moving at --timeout."""
    _need_server("waiting for an endpoint")
    described = serving().wait_for_endpoint(endpoint_name=name, timeout=timeout)
    status, reason = described["EndpointStatus"], described.get("FailureReason")
    if status in ("Creating", "Updating", "RollingBack", "SystemUpdating", "Deleting"):
        raise GroundfogError(f"endpoint {name} is still {status}" + (f" after {timeout:g} s" if timeout else ""))
    if status != "InService":
        raise GroundfogError(f"endpoint {name} is {status}: {reason or 'no reason recorded'}")
    if reason:
        sys.stderr.write(f"note: {reason}\n")
    _done(described, f"{name}: {status} on {described['EndpointConfigName']}", as_json)


@endpoints_app.command("invoke")
@command
def invoke_endpoint(
    name: Name,
    body: Annotated[str, Opt(help="The request body: a file, or - for stdin.")],
    content_type: Annotated[str, Opt(help="The body's media type (text/csv, application/json...).")],
    accept: Annotated[str | None, Opt(help="The media type(s) to answer in.")] = None,
    target_variant: Annotated[str | None, Opt(help="Send to this production variant.")] = None,
    custom_attributes: Annotated[str | None, Opt(help="X-Amzn-SageMaker-Custom-Attributes for the model.")] = None,
    inference_id: Annotated[str | None, Opt(help="An id recorded with the captured data.")] = None,
    verbose: Annotated[bool, Opt("--verbose", "-v", help="Print the invoked variant on stderr.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Invoke an endpoint (InvokeEndpoint) and print the model's answer exactly as sent."""
    _need_server("invoking an endpoint")
    data = sys.stdin.buffer.read() if body == "-" else Path(body).read_bytes()
    result = serving().invoke_endpoint(endpoint_name=name, body=data, content_type=content_type, accept=accept,
                                       custom_attributes=custom_attributes, target_variant=target_variant,
                                       inference_id=inference_id)  # fmt: skip
    if as_json:
        try:
            shown = {"Body": result.body.decode("utf-8")}
        except UnicodeDecodeError:
            import base64

            shown = {"BodyBase64": base64.b64encode(result.body).decode()}
        output({**shown, "ContentType": result.content_type, "InvokedProductionVariant": result.invoked_production_variant,
                "CustomAttributes": result.custom_attributes}, as_json=True)  # fmt: skip
    else:
        sys.stdout.buffer.write(result.body)
        sys.stdout.buffer.flush()
    if verbose:
        sys.stderr.write(f"invoked variant {result.invoked_production_variant} ({result.content_type})\n")


@endpoints_app.command("delete")
@command
def delete_endpoint(name: Name, as_json: JsonOption = False) -> None:
    """Delete an endpoint (DeleteEndpoint); its config stays."""
    serving().delete_endpoint(endpoint_name=name)
    _done({"EndpointName": name, "Deleted": True}, f"Deleted endpoint {name}", as_json)


@endpoints_app.command("history")
@command
def history(name: Name, as_json: JsonOption = False) -> None:
    """Every status change and traffic shift of the endpoint, oldest first."""
    found = serving().list_endpoint_history(endpoint_name=name)
    output(found if as_json else found["History"], as_json=as_json, columns=["Time", "Stage", "Message"],
           title=f"endpoint {name}")  # fmt: skip
