"""Bucket notification configurations (S3's shape) and the events they produce.

Two ways out of a bucket, as on AWS:

- ``EventBridgeConfiguration: {}``: every object event goes to the event bus as
  ``source="aws.s3"``, ``detail-type`` "Object Created" / "Object Deleted", where rules
  route it (to a pipeline, for instance).
- ``TopicConfigurations`` / ``LambdaFunctionConfigurations``: S3's classic
  notifications, filtered by event name and key prefix/suffix, sent straight to one
  target as ``{"Records": [...]}``.

>>> normalise_configuration({"EventBridgeConfiguration": {}}, check_target=None)
{'EventBridgeConfiguration': {}}
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote_plus

from groundfog.core.errors import ValidationError
from groundfog.core.names import ACCOUNT, REGION

# Every event name S3 accepts in a notification configuration.
EVENT_NAMES = frozenset(
    {
        "s3:TestEvent",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:ReducedRedundancyLostObject",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:Replication:OperationNotTracked",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
    }
)
_TARGETS = {"TopicConfigurations": "TopicArn", "LambdaFunctionConfigurations": "LambdaFunctionArn"}
_TARGET_TYPES = {"TopicArn": "topic", "LambdaFunctionArn": "function"}
_KNOWN = (*_TARGETS, "QueueConfigurations", "EventBridgeConfiguration")

PIPELINE_EXPLANATION = (
    "S3 event notifications cannot start a pipeline; enable EventBridge on the bucket "
    '(put {"EventBridgeConfiguration": {}} in its notification configuration) and create an '
    "EventBridge rule whose target is the pipeline, with an event pattern such as "
    '{"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": [BUCKET]}}}'
)


def _is_pipeline(value: str) -> bool:
    return ":pipelines:" in value or ":pipeline/" in value


def normalise_configuration(
    configuration: object, *, check_target: Callable[[str, str], None] | None
) -> dict[str, Any]:
    """Validate a NotificationConfiguration and return it in canonical form.

    ``check_target(arn, "topic" | "function")`` raises ``ValidationError`` unless the
    ARN is a deliverable target of that type; ``None`` means no bus is wired, so only
    EventBridge is possible.
    """
    field = "NotificationConfiguration"
    if not isinstance(configuration, dict):
        raise ValidationError(f"{field} must be an object", field=field)
    for name in configuration:
        if "pipeline" in str(name).lower():
            raise ValidationError(f"{field} has {name!r}: {PIPELINE_EXPLANATION}", field=name)
        if name not in _KNOWN:
            raise ValidationError(
                f"{field} has unknown member {name!r}; expected some of {', '.join(_KNOWN)}",
                field=f"{field}.{name}" if name else field,
            )
    if configuration.get("QueueConfigurations"):
        raise ValidationError(
            "QueueConfigurations are not supported: groundfog has no queues (SQS). Use "
            "TopicConfigurations or LambdaFunctionConfigurations, or EventBridgeConfiguration "
            "with an EventBridge rule",
            field="QueueConfigurations",
        )
    result: dict[str, Any] = {}
    seen_ids: set[str] = set()
    flat: list[dict[str, Any]] = []
    for group, arn_field in _TARGETS.items():
        entries = configuration.get(group) or []
        if not isinstance(entries, list):
            raise ValidationError(f"{group} must be a list", field=group)
        clean_entries = []
        for index, entry in enumerate(entries):
            clean = _normalise_entry(entry, group, index, arn_field, check_target)
            if clean["Id"] in seen_ids:
                raise ValidationError(f"{group}[{index}].Id {clean['Id']!r} is used twice", field="Id")
            seen_ids.add(clean["Id"])
            clean_entries.append(clean)
            flat.append(clean)
        if clean_entries:
            result[group] = clean_entries
    _check_overlaps(flat)
    if "EventBridgeConfiguration" in configuration:
        if configuration["EventBridgeConfiguration"] not in ({}, None):
            raise ValidationError(
                "EventBridgeConfiguration takes no settings: give it as {}", field="EventBridgeConfiguration"
            )
        result["EventBridgeConfiguration"] = {}
    return result


def _normalise_entry(
    entry: object, group: str, index: int, arn_field: str, check_target: Callable[[str, str], None] | None
) -> dict[str, Any]:
    where = f"{group}[{index}]"
    if not isinstance(entry, dict):
        raise ValidationError(f"{where} must be an object", field=group)
    for name in entry:
        if "pipeline" in str(name).lower():
            raise ValidationError(f"{where} has {name!r}: {PIPELINE_EXPLANATION}", field=name)
        if name not in ("Id", arn_field, "Events", "Filter"):
            raise ValidationError(
                f"{where} has unknown member {name!r}; expected Id, {arn_field}, Events, Filter",
                field=f"{where}.{name}" if name else where,
            )
    target = entry.get(arn_field)
    if not isinstance(target, str) or not target:
        raise ValidationError(f"{where}.{arn_field} is required (the ARN to deliver to)", field=arn_field)
    if _is_pipeline(target):
        raise ValidationError(f"{where}.{arn_field} {target!r} is a pipeline: {PIPELINE_EXPLANATION}", field=arn_field)
    events = entry.get("Events")
    if not isinstance(events, list) or not events:
        raise ValidationError(f"{where}.Events must be a non-empty list such as ['s3:ObjectCreated:*']", field="Events")
    for event in events:
        if not isinstance(event, str) or event not in EVENT_NAMES:
            raise ValidationError(
                f"{where}.Events has {event!r}, which is not an S3 event name (for example "
                "s3:ObjectCreated:*, s3:ObjectCreated:Put, s3:ObjectRemoved:Delete)",
                field="Events",
            )
    config_id = entry.get("Id") or _new_id()
    if not isinstance(config_id, str) or len(config_id) > 255:
        raise ValidationError(f"{where}.Id must be a string of at most 255 characters", field="Id")
    clean: dict[str, Any] = {"Id": config_id, arn_field: target, "Events": sorted(set(events))}
    rules = _normalise_filter(entry.get("Filter"), where)
    if rules:
        clean["Filter"] = {"Key": {"FilterRules": rules}}
    if check_target is None:
        raise ValidationError(
            f"{where}.{arn_field}: no event bus is wired into this storage service, so notifications "
            "cannot be delivered",
            field=arn_field,
        )
    check_target(target, _TARGET_TYPES[arn_field])
    return clean


def _normalise_filter(value: object, where: str) -> list[dict[str, str]]:
    if value in (None, {}):
        return []
    if not isinstance(value, dict) or set(value) - {"Key"} or not isinstance(value.get("Key"), dict):
        raise ValidationError(f"{where}.Filter must look like {{'Key': {{'FilterRules': [...]}}}}", field="Filter")
    rules = value["Key"].get("FilterRules") or []
    if not isinstance(rules, list):
        raise ValidationError(f"{where}.Filter.Key.FilterRules must be a list", field="FilterRules")
    clean: dict[str, str] = {}
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("Name"), str) or not isinstance(rule.get("Value"), str):
            raise ValidationError(
                f"{where}.Filter.Key.FilterRules entries must be {{'Name': 'prefix'|'suffix', 'Value': str}}",
                field="FilterRules",
            )
        name = rule["Name"].lower()
        if name not in ("prefix", "suffix"):
            raise ValidationError(
                f"{where}: filter rule name {rule['Name']!r} is not supported; use 'prefix' or 'suffix'",
                field="FilterRules",
            )
        if name in clean:
            raise ValidationError(f"{where}: cannot specify more than one {name} rule in a filter", field="FilterRules")
        clean[name] = rule["Value"]
    return [{"Name": name, "Value": clean[name]} for name in ("prefix", "suffix") if name in clean]


def _rules(entry: dict[str, Any]) -> tuple[str, str]:
    rules = {r["Name"]: r["Value"] for r in entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])}
    return rules.get("prefix", ""), rules.get("suffix", "")


def _events_overlap(a: list[str], b: list[str]) -> bool:
    for x in a:
        for y in b:
            if x == y or (x.endswith(":*") and y.startswith(x[:-1])) or (y.endswith(":*") and x.startswith(y[:-1])):
                return True
    return False


def _check_overlaps(entries: list[dict[str, Any]]) -> None:
    # S3 refuses two configurations that could both fire for one event on one key.
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if not _events_overlap(a["Events"], b["Events"]):
                continue
            (pa, sa), (pb, sb) = _rules(a), _rules(b)
            if (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa)):
                raise ValidationError(
                    f"Configurations overlap: {a['Id']!r} and {b['Id']!r} share an event type and their "
                    "prefix/suffix filters can match the same key. Configurations on the same bucket "
                    "cannot share a common event type for overlapping keys",
                    field="NotificationConfiguration",
                )


def _new_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def matching_targets(configuration: dict[str, Any], event_name: str, key: str) -> list[tuple[str, str]]:
    """``[(configuration Id, target ARN)]`` of classic configurations this event fires."""
    full = f"s3:{event_name}"
    found = []
    for group, arn_field in _TARGETS.items():
        for entry in configuration.get(group, []):
            if not _events_overlap(entry["Events"], [full]):
                continue
            prefix, suffix = _rules(entry)
            if key.startswith(prefix) and key.endswith(suffix):
                found.append((entry["Id"], entry[arn_field]))
    return found


# --------------------------------------------------------------------------- events


class Sequencer:
    """Hex strings that grow with every event of this process (S3's ``sequencer``)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:016X}"


def request_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def eventbridge_detail(
    *, bucket: str, key: str, reason: str, sequencer: str, rid: str, size: int | None = None, etag: str | None = None
) -> dict[str, Any]:
    """The ``detail`` of S3's "Object Created" / "Object Deleted" EventBridge events.

    Buckets here are unversioned, so ``version-id`` is absent, as S3 leaves it out
    for unversioned buckets.
    """
    obj: dict[str, Any] = {"key": key}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["etag"] = etag.strip('"')
    obj["sequencer"] = sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": obj,
        "request-id": rid,
        "requester": ACCOUNT,
        "source-ip-address": "127.0.0.1",
        "reason": reason,
    }
    if reason == "DeleteObject":
        detail["deletion-type"] = "Permanently Deleted"
    return detail


def classic_record(
    *,
    event_name: str,
    configuration_id: str,
    bucket: str,
    bucket_arn: str,
    key: str,
    sequencer: str,
    rid: str,
    at: datetime,
    size: int | None = None,
    etag: str | None = None,
) -> dict[str, Any]:
    """One S3 event notification message (``eventVersion`` 2.1) with a single record."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}  # URL-encoded, as S3 sends keys
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag.strip('"')
    obj["sequencer"] = sequencer
    when = at.astimezone(timezone.utc)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
                "eventName": event_name,
                "userIdentity": {"principalId": ACCOUNT},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": rid, "x-amz-id-2": rid},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {"name": bucket, "ownerIdentity": {"principalId": ACCOUNT}, "arn": bucket_arn},
                    "object": obj,
                },
            }
        ]
    }
