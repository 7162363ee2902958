"""Checking a CreateTrainingJob request before anything runs.

Every rule of the request is checked here, against the catalog and the object store,
and the request is reduced to a *spec*: plain JSON the job's driver works from, kept in
the job's row. An error names the field as SageMaker's API spells it
(``InputDataConfig[0].DataSource.S3DataSource.S3Uri``) and nothing is created.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundfog.core.errors import ResourceNotFound, ValidationError
from groundfog.core.names import validate_name
from groundfog.training import catalog
from groundfog.training.uris import check_bucket, objects_under, parse_s3_uri

if TYPE_CHECKING:
    from groundfog.storage import StorageService

FRAMEWORKS = ("sklearn", "xgboost", "pytorch")
# Words in an image URI that name its framework, as SageMaker's framework images do
# (``.../sagemaker-scikit-learn:1.2-1-cpu-py3``, ``.../pytorch-training:2.1-cpu-py310``).
_IMAGE_WORDS = (("scikit-learn", "sklearn"), ("sklearn", "sklearn"), ("xgboost", "xgboost"), ("pytorch", "pytorch"), ("torch", "pytorch"))
INPUT_MODES = ("File", "FastFile", "Pipe")
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
# Hyperparameters the SageMaker SDK uses to describe script mode; they are not the script's own.
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
DEFAULT_MAX_RUNTIME = 86400
MAX_SECONDS = 28 * 86400  # SageMaker's longest training job


def framework_of(image: object, field: str = "AlgorithmSpecification.TrainingImage") -> str:
    """The framework a training image names: ``"sklearn"``, ``"xgboost"`` or ``"pytorch"``.

    >>> framework_of("123.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    'sklearn'
    """
    if not isinstance(image, str) or not image:
        raise ValidationError(f"{field} must name a framework ({', '.join(FRAMEWORKS)}) or its image", field=field)
    lowered = image.lower()
    if lowered in FRAMEWORKS:
        return lowered
    for word, framework in _IMAGE_WORDS:
        if word in lowered:
            return framework
    raise ValidationError(
        f"{field} {image!r} names no framework groundfog runs; expected one of {', '.join(FRAMEWORKS)} "
        "(or a SageMaker image URI of one)",
        field=field,
    )


def _mapping(value: object, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be an object, got {type(value).__name__}", field=field)
    return value


def _only(value: dict[str, Any], field: str, allowed: tuple[str, ...]) -> None:
    for key in value:
        if key not in allowed:
            raise ValidationError(
                f"{field}.{key} is not a known member; expected {', '.join(allowed)}", field=f"{field}.{key}"
            )


def _str_map(value: object, field: str, *, max_items: int = 100) -> dict[str, str]:
    mapping = _mapping(value, field)
    if len(mapping) > max_items:
        raise ValidationError(f"{field} holds {len(mapping)} entries; at most {max_items} are allowed", field=field)
    out = {}
    for key, item in mapping.items():
        if not isinstance(key, str) or not key or len(key) > 256:
            raise ValidationError(f"{field} names must be 1-256 character strings, got {key!r}", field=field)
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValidationError(f"{field}.{key} must be a string, got {type(item).__name__}", field=f"{field}.{key}")
        text = str(item)
        if len(text) > 2500 or "\0" in text:
            raise ValidationError(f"{field}.{key} must be at most 2500 characters without NUL", field=f"{field}.{key}")
        out[key] = text
    return out


def _positive_int(value: object, field: str, *, default: int | None = None, maximum: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{field} must be a positive integer, got {value!r}", field=field)
    if maximum is not None and value > maximum:
        raise ValidationError(f"{field} must be at most {maximum}, got {value}", field=field)
    return value


def metric_definitions(value: object, field: str = "AlgorithmSpecification.MetricDefinitions") -> list[dict[str, str]]:
    """``[{"Name": ..., "Regex": ...}]``, each regex compiled once here so a bad one is refused."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 40:
        raise ValidationError(f"{field} must be a list of at most 40 {{Name, Regex}} objects", field=field)
    out = []
    for i, item in enumerate(value):
        at = f"{field}[{i}]"
        item = _mapping(item, at)
        _only(item, at, ("Name", "Regex"))
        name, regex = item.get("Name"), item.get("Regex")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ValidationError(f"{at}.Name must be a 1-255 character string, got {name!r}", field=f"{at}.Name")
        if not isinstance(regex, str) or not 1 <= len(regex) <= 500:
            raise ValidationError(f"{at}.Regex must be a 1-500 character string", field=f"{at}.Regex")
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValidationError(f"{at}.Regex {regex!r} does not compile: {exc}", field=f"{at}.Regex") from None
        if compiled.groups < 1:
            raise ValidationError(f"{at}.Regex {regex!r} needs a group that captures the value", field=f"{at}.Regex")
        out.append({"Name": name, "Regex": regex})
    names = [d["Name"] for d in out]
    if len(set(names)) != len(names):
        raise ValidationError(f"{field} names a metric twice", field=field)
    return out


def resource_config(value: object, field: str = "ResourceConfig") -> dict[str, Any]:
    config = _mapping(value, field)
    _only(config, field, ("InstanceType", "InstanceCount", "VolumeSizeInGB", "KeepAlivePeriodInSeconds"))
    instance = catalog.instance_type(config.get("InstanceType", "ml.m5.large"), field=f"{field}.InstanceType")
    if not instance.training:
        raise ValidationError(
            f"{field}.InstanceType {instance.name} is for hosting only (SageMaker trains and processes on "
            "ml.t3, ml.m5, ml.c5, ml.r5, ml.p3, ml.p4d, ml.g4dn and ml.g5)",
            field=f"{field}.InstanceType",
        )
    count = _positive_int(config.get("InstanceCount"), f"{field}.InstanceCount", default=1, maximum=16)
    volume = _positive_int(config.get("VolumeSizeInGB"), f"{field}.VolumeSizeInGB", default=30, maximum=16384)
    return {"InstanceType": instance.name, "InstanceCount": count, "VolumeSizeInGB": volume}


def channels(
    storage: "StorageService", value: object, default_mode: str, field: str = "InputDataConfig"
) -> list[dict[str, Any]]:
    """The input channels, each checked to name objects that exist."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 20:
        raise ValidationError(f"{field} must be a list of at most 20 channels", field=field)
    out, seen = [], set()
    for i, item in enumerate(value):
        at = f"{field}[{i}]"
        item = _mapping(item, at)
        _only(item, at, ("ChannelName", "DataSource", "ContentType", "CompressionType", "InputMode", "RecordWrapperType", "ShuffleConfig"))
        name = validate_name(item.get("ChannelName"), f"{at}.ChannelName", pattern=re.compile(r"^[A-Za-z0-9\.\-_]+$"), max_length=64)
        if name in seen:
            raise ValidationError(f"{at}.ChannelName {name!r} is used twice", field=f"{at}.ChannelName")
        seen.add(name)
        mode = item.get("InputMode") or default_mode
        if mode not in INPUT_MODES:
            raise ValidationError(
                f"{at}.InputMode {mode!r} is not supported; expected one of {', '.join(INPUT_MODES)}", field=f"{at}.InputMode"
            )
        source = _mapping(item.get("DataSource"), f"{at}.DataSource")
        s3 = _mapping(source.get("S3DataSource"), f"{at}.DataSource.S3DataSource")
        s3_at = f"{at}.DataSource.S3DataSource"
        if not s3:
            raise ValidationError(f"{s3_at} is required (the channel's S3Uri)", field=s3_at)
        data_type = s3.get("S3DataType", "S3Prefix")
        if data_type != "S3Prefix":
            raise ValidationError(f"{s3_at}.S3DataType {data_type!r} is not supported; use S3Prefix", field=f"{s3_at}.S3DataType")
        distribution = s3.get("S3DataDistributionType", "FullyReplicated")
        if distribution not in ("FullyReplicated", "ShardedByS3Key"):
            raise ValidationError(
                f"{s3_at}.S3DataDistributionType must be FullyReplicated or ShardedByS3Key", field=f"{s3_at}.S3DataDistributionType"
            )
        uri = s3.get("S3Uri")
        found = objects_under(storage, uri, f"{s3_at}.S3Uri")
        compression = item.get("CompressionType", "None")
        if compression not in ("None", "Gzip"):
            raise ValidationError(f"{at}.CompressionType must be None or Gzip", field=f"{at}.CompressionType")
        content_type = item.get("ContentType")
        if content_type is not None and (not isinstance(content_type, str) or len(content_type) > 256):
            raise ValidationError(f"{at}.ContentType must be a string of at most 256 characters", field=f"{at}.ContentType")
        out.append({
            "ChannelName": name, "S3Uri": uri, "InputMode": mode, "ContentType": content_type,
            "CompressionType": compression, "S3DataDistributionType": distribution,
            "ObjectCount": len(found), "Bytes": sum(obj.size for obj, _ in found),
        })  # fmt: skip
    return out


def stopping_condition(value: object, spot: bool, field: str = "StoppingCondition") -> dict[str, int]:
    config = _mapping(value, field)
    _only(config, field, ("MaxRuntimeInSeconds", "MaxWaitTimeInSeconds", "MaxPendingTimeInSeconds"))
    runtime = _positive_int(config.get("MaxRuntimeInSeconds"), f"{field}.MaxRuntimeInSeconds", default=DEFAULT_MAX_RUNTIME, maximum=28 * 86400)
    out = {"MaxRuntimeInSeconds": runtime}
    wait = config.get("MaxWaitTimeInSeconds")
    if wait is not None:
        wait = _positive_int(wait, f"{field}.MaxWaitTimeInSeconds", maximum=28 * 86400)
        if not spot:
            raise ValidationError(
                f"{field}.MaxWaitTimeInSeconds applies to managed spot training only; set EnableManagedSpotTraining",
                field=f"{field}.MaxWaitTimeInSeconds",
            )
        if wait < runtime:
            raise ValidationError(
                f"{field}.MaxWaitTimeInSeconds ({wait}) must be at least MaxRuntimeInSeconds ({runtime})",
                field=f"{field}.MaxWaitTimeInSeconds",
            )
        out["MaxWaitTimeInSeconds"] = wait
    elif spot:
        # SageMaker requires it for spot jobs; the SDK fills it in, so do the same.
        out["MaxWaitTimeInSeconds"] = runtime * 2
    return out


def checkpoint_config(storage: "StorageService", value: object, field: str = "CheckpointConfig") -> dict[str, str] | None:
    if value is None:
        return None
    config = _mapping(value, field)
    _only(config, field, ("S3Uri", "LocalPath"))
    uri = config.get("S3Uri")
    check_bucket(storage, uri, f"{field}.S3Uri")
    local = config.get("LocalPath") or CHECKPOINT_LOCAL_PATH
    if not isinstance(local, str) or not local.startswith("/") or ".." in local.split("/"):
        raise ValidationError(f"{field}.LocalPath must be an absolute path without '..', got {local!r}", field=f"{field}.LocalPath")
    return {"S3Uri": uri.rstrip("/") + "/", "LocalPath": local}


def spot_interruptions(value: object, default: dict[str, Any], field: str = "SpotInterruptions") -> dict[str, Any]:
    """groundfog's interruption model (not a SageMaker field): ``{"Schedule": [seconds of
    running time, ...]}`` or ``{"RatePerHour": r, "Seed": n}``, plus ``RestartDelaySeconds``
    and ``GraceSeconds``."""
    config = dict(default) if value is None else _mapping(value, field)
    _only(config, field, ("Schedule", "RatePerHour", "Seed", "RestartDelaySeconds", "GraceSeconds"))
    out: dict[str, Any] = {}
    if "Schedule" in config:
        schedule = config["Schedule"]
        if not isinstance(schedule, list) or len(schedule) > 1000 or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and 0 < s <= MAX_SECONDS for s in schedule
        ):
            raise ValidationError(
                f"{field}.Schedule must be a list of at most 1000 numbers of seconds, each in (0, {MAX_SECONDS}]",
                field=f"{field}.Schedule",
            )
        out["Schedule"] = sorted(float(s) for s in schedule)
    if "RatePerHour" in config:
        rate = config["RatePerHour"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 3600:
            raise ValidationError(f"{field}.RatePerHour must be a number from 0 to 3600", field=f"{field}.RatePerHour")
        out["RatePerHour"] = float(rate)
        seed = config.get("Seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError(f"{field}.Seed must be an integer", field=f"{field}.Seed")
        out["Seed"] = seed
    if "Schedule" in out and "RatePerHour" in out:
        raise ValidationError(f"{field}: give Schedule or RatePerHour, not both", field=field)
    delay = config.get("RestartDelaySeconds", 2.0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 3600:
        raise ValidationError(f"{field}.RestartDelaySeconds must be 0-3600", field=f"{field}.RestartDelaySeconds")
    out["RestartDelaySeconds"] = float(delay)
    # The interruption notice: SIGTERM, then SIGKILL this many seconds later (AWS gives 120).
    grace = config.get("GraceSeconds", 2.0)
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or not 0 <= grace <= 120:
        raise ValidationError(f"{field}.GraceSeconds must be 0-120", field=f"{field}.GraceSeconds")
    out["GraceSeconds"] = float(grace)
    return out


def source_code(storage: "StorageService", hyperparameters: dict[str, str], framework: str) -> dict[str, str] | None:
    """Script mode: the entry point and where its code lies; None for a built-in algorithm."""
    program = hyperparameters.get(PROGRAM)
    submit = hyperparameters.get(SUBMIT_DIRECTORY)
    if program is None:
        if framework == "xgboost" and submit is None:
            return None  # the built-in XGBoost algorithm
        raise ValidationError(
            f"HyperParameters.{PROGRAM} (the entry point) is required for {framework} script mode",
            field="entry_point",
        )
    program = _unquote(program)
    if not program or program.startswith("/") or ".." in program.split("/"):
        raise ValidationError(f"entry point {program!r} must be a relative path inside the source directory", field="entry_point")
    if not program.endswith((".py", ".sh")):
        raise ValidationError(f"entry point {program!r} must be a .py or .sh file", field="entry_point")
    if submit is None:
        raise ValidationError(f"HyperParameters.{SUBMIT_DIRECTORY} (where the code lies) is required", field="source_dir")
    submit = _unquote(submit)
    names = _source_names(storage, submit)
    if program not in names:
        raise ValidationError(f"entry point {program!r} is not in the source directory {submit}", field="entry_point")
    return {"EntryPoint": program, "SubmitDirectory": submit}


def _unquote(value: str) -> str:
    # The SageMaker SDK JSON-encodes hyperparameter values: '"train.py"'.
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _source_names(storage: "StorageService", submit: str) -> set[str]:
    field = "source_dir"
    if submit.startswith("file://"):
        root = Path(submit[len("file://") :])
        if not root.is_absolute() or not root.is_dir():
            raise ValidationError(f"source directory {submit!r} is not an existing absolute directory", field=field)
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    bucket, key = parse_s3_uri(submit, field)
    try:
        data = storage.get_object_bytes(bucket, key)
    except ResourceNotFound:
        raise ValidationError(f"source directory {submit!r} does not exist (expected a sourcedir.tar.gz object)", field=field) from None
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            return {m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()}
    except tarfile.TarError as exc:
        raise ValidationError(f"source directory {submit!r} is not a tar.gz archive: {exc}", field=field) from None


def training_job_name(value: object) -> str:
    return validate_name(value, "TrainingJobName")


def tags(value: object) -> list[dict[str, str]]:
    """AWS tags: at most 50 ``{Key, Value}`` pairs."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise ValidationError("Tags must be a list of at most 50 {Key, Value} objects", field="Tags")
    for i, tag in enumerate(value):
        if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str) or not 1 <= len(tag["Key"]) <= 128:
            raise ValidationError(f"Tags[{i}] must be {{Key: 1-128 chars, Value: string}}", field=f"Tags[{i}]")
        if not isinstance(tag.get("Value", ""), str) or len(tag.get("Value", "")) > 256:
            raise ValidationError(f"Tags[{i}].Value must be a string of at most 256 characters", field=f"Tags[{i}].Value")
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in value]
