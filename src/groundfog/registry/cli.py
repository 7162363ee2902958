"""``groundfog registry ...`` (model package groups and versions) and ``groundfog models ...``.

    groundfog registry create-group churn --description "Churn classifiers"
    groundfog registry register --group churn --model-data s3://models/churn/model.tar.gz --image sklearn \\
        --content-type text/csv --metrics-uri s3://models/churn/evaluation.json --metadata team=growth
    groundfog registry list --group churn --status PendingManualApproval
    groundfog registry approve churn/1 --description "beats v0 on AUC"
    groundfog models create --name churn-v1 --model-package churn/1
    groundfog models create --name churn-v2 --framework sklearn --model-data s3://models/churn/v2/model.tar.gz \\
        --entry-point inference.py --source-dir code/

A version is named by its ARN or ``GROUP/VERSION``. Commands are thin: each calls one
registry operation and prints a table, or the record with ``--json``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, fail, output, parse_pairs, platform

registry_app = typer.Typer(help="Model package groups, versions and approval (SageMaker Model Registry).",
                           no_args_is_help=True)  # fmt: skip
models_app = typer.Typer(help="Models: an image and model data, or a registered version (SageMaker CreateModel).",
                         no_args_is_help=True)  # fmt: skip

Opt = typer.Option
Package = Annotated[str, typer.Argument(help="The version: its ARN or GROUP/VERSION (churn/3).")]
GroupName = Annotated[str, typer.Argument(help="The model package group's name.")]
ModelName = Annotated[str, typer.Argument(help="The model's name.")]
Pairs = Annotated[list[str] | None, Opt(help="KEY=VALUE; repeat.")]
MaxResults = Annotated[int, Opt(help="At most this many, newest first (1-100).")]

GROUP_COLUMNS = ["ModelPackageGroupName", "ModelPackageGroupStatus", "CreationTime", "ModelPackageGroupDescription"]
PACKAGE_COLUMNS = ["ModelPackageGroupName", "ModelPackageVersion", "ModelApprovalStatus", "CreationTime",
                   "ModelPackageDescription"]  # fmt: skip


def _done(record: dict[str, Any], message: str, as_json: bool) -> None:
    output(record if as_json else message, as_json=as_json)


# ---- groups -------------------------------------------------------------------------------


@registry_app.command("create-group")
@command
def create_group(
    name: GroupName,
    description: Annotated[str | None, Opt(help="What the group's models are for.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a model package group (CreateModelPackageGroup)."""
    created = platform().registry.create_model_package_group(
        model_package_group_name=name, model_package_group_description=description)
    _done(created, created["ModelPackageGroupArn"], as_json)


@registry_app.command("list-groups")
@command
def list_groups(
    name_contains: Annotated[str | None, Opt(help="Only groups whose name contains this.")] = None,
    max_results: MaxResults = 100,
    as_json: JsonOption = False,
) -> None:
    """Model package groups, newest first (ListModelPackageGroups)."""
    found = platform().registry.list_model_package_groups(name_contains=name_contains, max_results=max_results)
    output(found if as_json else found["ModelPackageGroupSummaryList"], as_json=as_json, columns=GROUP_COLUMNS)


@registry_app.command("describe-group")
@command
def describe_group(name: GroupName, as_json: JsonOption = False) -> None:
    """The group as DescribeModelPackageGroup shows it."""
    output(platform().registry.describe_model_package_group(model_package_group_name=name), as_json=as_json)


@registry_app.command("delete-group")
@command
def delete_group(name: GroupName, as_json: JsonOption = False) -> None:
    """Delete an empty model package group (DeleteModelPackageGroup)."""
    platform().registry.delete_model_package_group(model_package_group_name=name)
    _done({"ModelPackageGroupName": name, "Deleted": True}, f"Deleted group {name}", as_json)


# ---- versions -----------------------------------------------------------------------------


@registry_app.command("register")
@command
def register(
    group: Annotated[str, Opt(help="The model package group to add a version to.")],
    model_data: Annotated[str, Opt(help="The model's s3:// model.tar.gz.")],
    image: Annotated[str, Opt(help="A framework (sklearn, xgboost, pytorch) or an image URI.")],
    framework_version: Annotated[str | None, Opt(help="The framework's version.")] = None,
    content_type: Annotated[list[str] | None, Opt(help="A request content type it accepts; repeat.")] = None,
    response_type: Annotated[list[str] | None, Opt(help="A response MIME type it answers with; repeat.")] = None,
    instance_type: Annotated[list[str] | None, Opt(help="A real-time inference instance type; repeat.")] = None,
    env: Annotated[list[str] | None, Opt(help="A container environment variable KEY=VALUE; repeat.")] = None,
    approval_status: Annotated[str, Opt(help="PendingManualApproval, Approved or Rejected.")] = "PendingManualApproval",
    metrics_uri: Annotated[str | None, Opt(help="An s3:// JSON evaluation report (ModelQuality statistics).")] = None,
    metadata: Annotated[list[str] | None, Opt(help="CustomerMetadataProperties KEY=VALUE; repeat.")] = None,
    description: Annotated[str | None, Opt(help="The version's description.")] = None,
    training_job_arn: Annotated[str | None, Opt(help="The training job that made the model (lineage).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a new version of a model in a group (CreateModelPackage)."""
    container: dict[str, Any] = {"Image": image, "ModelDataUrl": model_data}
    if image in ("sklearn", "xgboost", "pytorch", "tensorflow", "huggingface"):
        container["Framework"] = image.upper()
    if framework_version:
        container["FrameworkVersion"] = framework_version
    if env:
        container["Environment"] = parse_pairs(env, "--env")
    spec: dict[str, Any] = {"Containers": [container]}
    for key, values in (("SupportedContentTypes", content_type), ("SupportedResponseMIMETypes", response_type),
                        ("SupportedRealtimeInferenceInstanceTypes", instance_type)):  # fmt: skip
        if values:
            spec[key] = values
    metrics = None
    if metrics_uri is not None:
        metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}}
    created = platform().registry.create_model_package(
        model_package_group_name=group, inference_specification=spec, model_approval_status=approval_status,
        model_metrics=metrics, customer_metadata_properties=parse_pairs(metadata, "--metadata") or None,
        model_package_description=description,
        lineage={"TrainingJobArn": training_job_arn} if training_job_arn else None,
    )  # fmt: skip
    version = created["ModelPackageArn"].rsplit("/", 1)[-1]
    _done(created, f"Registered {group}/{version} ({approval_status}): {created['ModelPackageArn']}", as_json)


@registry_app.command("list")
@command
def list_packages(
    group: Annotated[str | None, Opt(help="Only versions of this group.")] = None,
    status: Annotated[str | None, Opt(help="Only versions in this approval status.")] = None,
    max_results: MaxResults = 100,
    as_json: JsonOption = False,
) -> None:
    """Model package versions, newest first (ListModelPackages)."""
    found = platform().registry.list_model_packages(
        model_package_group_name=group, model_approval_status=status, max_results=max_results)
    output(found if as_json else found["ModelPackageSummaryList"], as_json=as_json, columns=PACKAGE_COLUMNS)


@registry_app.command("describe")
@command
def describe(package: Package, as_json: JsonOption = False) -> None:
    """The version as DescribeModelPackage shows it, with its lineage and evaluation reports."""
    output(platform().registry.describe_model_package(model_package_name=package), as_json=as_json)


@registry_app.command("latest-approved")
@command
def latest_approved(group: GroupName, as_json: JsonOption = False) -> None:
    """The group's highest Approved version; exit 3 when none is approved."""
    found = platform().registry.latest_approved_model_package(model_package_group_name=group)
    if found is None:
        fail(f"no approved version in model package group {group!r}", 3)
    output(found, as_json=as_json)


def _set_status(package: str, status: str, description: str | None, as_json: bool) -> None:
    updated = platform().registry.update_model_package(
        model_package_arn=package, model_approval_status=status, approval_description=description)
    _done({**updated, "ModelApprovalStatus": status}, f"{status}: {updated['ModelPackageArn']}", as_json)


@registry_app.command("approve")
@command
def approve(
    package: Package,
    description: Annotated[str | None, Opt(help="Why (ApprovalDescription).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a version (UpdateModelPackage ModelApprovalStatus=Approved)."""
    _set_status(package, "Approved", description, as_json)


@registry_app.command("reject")
@command
def reject(
    package: Package,
    description: Annotated[str | None, Opt(help="Why (ApprovalDescription).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a version (UpdateModelPackage ModelApprovalStatus=Rejected)."""
    _set_status(package, "Rejected", description, as_json)


@registry_app.command("update")
@command
def update(
    package: Package,
    status: Annotated[str | None, Opt(help="PendingManualApproval, Approved or Rejected.")] = None,
    approval_description: Annotated[str | None, Opt(help="Why the status is what it is.")] = None,
    description: Annotated[str | None, Opt(help="The version's description.")] = None,
    metadata: Annotated[list[str] | None, Opt(help="Set CustomerMetadataProperties KEY=VALUE; repeat.")] = None,
    remove_metadata: Annotated[list[str] | None, Opt(help="Remove a CustomerMetadataProperties key; repeat.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a version's status, description or metadata (UpdateModelPackage)."""
    updated = platform().registry.update_model_package(
        model_package_arn=package, model_approval_status=status, approval_description=approval_description,
        customer_metadata_properties=parse_pairs(metadata, "--metadata") or None,
        customer_metadata_properties_to_remove=remove_metadata or None, model_package_description=description,
    )  # fmt: skip
    _done(updated, f"Updated {updated['ModelPackageArn']}", as_json)


@registry_app.command("delete")
@command
def delete(package: Package, as_json: JsonOption = False) -> None:
    """Delete a version (DeleteModelPackage)."""
    platform().registry.delete_model_package(model_package_name=package)
    _done({"ModelPackageName": package, "Deleted": True}, f"Deleted {package}", as_json)


# ---- models -------------------------------------------------------------------------------


@models_app.command("create")
@command
def create_model(
    name: Annotated[str, Opt(help="The model's name.")],
    model_data: Annotated[str | None, Opt(help="The model's s3:// model.tar.gz.")] = None,
    image: Annotated[str | None, Opt(help="A framework (sklearn, xgboost, pytorch) or an image URI.")] = None,
    model_package: Annotated[str | None, Opt(help="A registered version (ARN or GROUP/VERSION) instead of --image/--model-data.")] = None,
    env: Pairs = None,
    role_arn: Annotated[str | None, Opt(help="The execution role's ARN.")] = None,
    framework: Annotated[str | None, Opt(help="sklearn, xgboost or pytorch: the image, when --image is not given.")] = None,
    entry_point: Annotated[str | None, Opt(help="The inference script (model_fn, input_fn...), in --source-dir if given.")] = None,
    source_dir: Annotated[str | None, Opt(help="A directory (or s3:// sourcedir.tar.gz) holding --entry-point.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a model (CreateModel) from an image and model data, or from a registered version.

    With --entry-point, the inference code is uploaded as sourcedir.tar.gz and named by
    SAGEMAKER_PROGRAM / SAGEMAKER_SUBMIT_DIRECTORY, as the SDK's Model does."""
    if framework is not None and image is not None:
        fail("give --image or --framework, not both", 2)
    if source_dir is not None and entry_point is None:
        fail("--source-dir needs --entry-point (the script in it)", 2)
    container: dict[str, Any] = {}
    if model_package is not None:
        container["ModelPackageName"] = model_package
    if image is not None or framework is not None:
        container["Image"] = image or framework
    if model_data is not None:
        container["ModelDataUrl"] = model_data
    environment = parse_pairs(env, "--env")
    if entry_point is not None:
        from groundfog.serving.sdk_model import model_code_environment

        environment.update(model_code_environment(platform(), entry_point, source_dir))
    if environment:
        container["Environment"] = environment
    created = platform().registry.create_model(model_name=name, primary_container=container, execution_role_arn=role_arn)
    _done(created, created["ModelArn"], as_json)


@models_app.command("describe")
@command
def describe_model(name: ModelName, as_json: JsonOption = False) -> None:
    """The model as DescribeModel shows it."""
    output(platform().registry.describe_model(model_name=name), as_json=as_json)


@models_app.command("list")
@command
def list_models(
    name_contains: Annotated[str | None, Opt(help="Only models whose name contains this.")] = None,
    max_results: MaxResults = 100,
    as_json: JsonOption = False,
) -> None:
    """Models, newest first (ListModels)."""
    found = platform().registry.list_models(name_contains=name_contains, max_results=max_results)
    output(found if as_json else found["Models"], as_json=as_json, columns=["ModelName", "CreationTime", "ModelArn"])


@models_app.command("delete")
@command
def delete_model(name: ModelName, as_json: JsonOption = False) -> None:
    """Delete a model (DeleteModel)."""
    platform().registry.delete_model(model_name=name)
    _done({"ModelName": name, "Deleted": True}, f"Deleted model {name}", as_json)
