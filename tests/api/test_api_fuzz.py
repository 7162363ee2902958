"""Fuzzing the HTTP API over a real socket: nothing a user can send gets a 500.

The standard every response is held to: a success, or a typed 4xx whose JSON body has
``__type`` and ``message`` (and ``field`` for a ``ValidationException`` about a
named field), and a rejected request changes nothing, neither the state store nor
the object store. Five generators feed it, against one server per test module
(SQLite, background loops not started, so nothing is ever delivered anywhere; jobs do
run, a trivial script each, and pipeline executions, of function, condition, fail and
callback steps, and endpoints, a real scikit-learn model served by worker processes of
the server's own hosting loop; the fuzzers wait for them to end, to wait on a callback,
or to be steady, see ``Fuzzed.settle``; and an error the pipeline engine or the
endpoint host logs meanwhile fails the request):

- schemathesis, from the served ``/openapi.json``: the right field names with random
  values (positive cases) and schema violations (negative cases);
- seeded mutation: a valid request per operation, against resources that exist, with
  one to three values replaced by hostile ones (huge, NUL, unpaired surrogates, NaN,
  2**64, nested JSON, another type), a key dropped or an unknown one added: this is
  what gets past the request model into the validation inside a service;
- arbitrary bodies: any JSON, or bytes that are not JSON at all;
- the object routes, with hostile bucket and key paths (percent-encoding tricks,
  ``..``, NUL, invalid UTF-8, very long) and Range headers, over a raw socket so no
  client library normalises the path first;
- the runtime route ``POST /endpoints/<name>/invocations``, the same way: any body,
  hostile Content-Type, Accept and X-Amzn-SageMaker-* headers and endpoint names, sent
  to the seeded endpoint (its answer: the model's, a typed 4xx, a 424 ModelError or a
  503; never a 500, a hang or a worker killed).

By default each generator draws a fixed sample (20 cases per operation and mode, the
same every run). ``GROUNDFOG_FUZZ_EXAMPLES=500`` explores instead: that many, new each
run (add ``--timeout 0``: a run that long outlasts pytest-timeout).
"""

from __future__ import annotations

import copy
import hashlib
import http.client
import io
import json
import logging
import os
import socket
import sqlite3
import sys
import tarfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("GROUNDFOG_FUZZ_EXAMPLES", "20"))
SERVICES = ("storage", "events", "topics", "metrics", "instances", "training", "processing", "tuning", "registry",
            "pipelines", "serving")
BUCKET = "fuzz-bucket"
# The jobs' code, data and outputs: a bucket of their own, named nowhere in the hostile
# values, so the storage fuzzers cannot empty it under the job seeds.
JOBS_BUCKET = "fuzz-jobs"
JOB_SERVICES = ("training", "processing", "tuning")
# Services whose accepted requests start work that goes on after the answer (jobs,
# pipeline executions, endpoints starting, updating or scaling): send() waits for it to
# end before looking for changes.
SETTLED_SERVICES = (*JOB_SERVICES, "pipelines", "serving")
# Every seeded job runs this: it ends at once, and prints its one metric.
JOB_SCRIPT = b'print("validation-accuracy: 0.5", flush=True)\n'
JOB_METRICS = [{"Name": "validation:accuracy", "Regex": r"validation-accuracy: ([0-9.]+)"}]
# How long a job may run before the fuzzer stops it (a seeded one takes about a second),
# and then how long it may take to stop.
JOB_PATIENCE = 15.0
STOP_PATIENCE = 60.0
# A pipeline execution whose only running steps are callbacks waits for
# SendPipelineExecutionStep*, which may never come: it counts as settled once nothing of
# it has moved for this long (its driver starts every ready step within one tick).
CALLBACK_QUIET = 1.0
# Endpoints: what the seeds create, on which config (see _seed_serving), and the one the
# runtime fuzzer invokes. None of their names is a hostile value, so no fuzzed Delete*
# takes them from the other seeds.
SERVING_ENDPOINTS = {"fuzz-sv-endpoint": "fuzz-sv-config", "fuzz-sv-updated": "fuzz-sv-config-b",
                     "fuzz-sv-scaled": "fuzz-sv-config-scaled"}
RUNTIME_ENDPOINT = "fuzz-sv-endpoint"
# How long an endpoint may stay Creating, Updating or RollingBack after a request (a
# worker starts in about a second; a fuzzed count of ten takes longer); past it, it is
# deleted (and a seeded one created again), as a job past JOB_PATIENCE is stopped.
SERVING_PATIENCE = 30.0
# Endpoints fuzzed requests create cost a worker process each (~200 MB): past this many
# they are deleted once they are steady.
MAX_FUZZED_ENDPOINTS = 4


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    # Generation only: shrinking a server-side failure costs more than it tells, since
    # the failure report carries the request and the server log carries the traceback.
    # The default run is a fixed sample (the same every run: CI stays reproducible);
    # GROUNDFOG_FUZZ_EXAMPLES=n explores, with new random cases each time.
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize="GROUNDFOG_FUZZ_EXAMPLES" not in os.environ,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


# ---- hostile values ----------------------------------------------------------------

VOCABULARY = [
    "Arn", "BinaryValue", "Counts", "DataType", "DeadLetterConfig", "Detail", "DetailType", "Dimensions",
    "EventBridgeConfiguration", "EventBusName", "Events", "ExtendedStatistic", "Filter", "FilterArns",
    "FilterPolicy", "FilterPolicyScope", "FilterRules", "Id", "Input", "InputPath", "InputPathsMap",
    "InputTemplate", "InputTransformer", "Key", "LambdaFunctionConfigurations", "Maximum",
    "MaximumEventAgeInSeconds", "MaximumRetryAttempts", "Message", "MessageAttributes", "MetricName",
    "Minimum", "Name", "QueueConfigurations", "RawMessageDelivery", "Resources", "RetryPolicy",
    "SampleCount", "Source", "Statistic", "StatisticValues", "StorageResolution", "StringValue", "Sum",
    "Time", "Timestamp", "TopicArn", "TopicConfigurations", "Unit", "Value", "Values",
    "source", "detail", "detail-type", "numeric", "prefix", "suffix", "anything-but", "exists",
    "wildcard", "equals-ignore-case", "cidr", "$or",
    # training, processing, tuning
    "AlgorithmName", "CategoricalParameterRanges", "ChannelName", "ClusterConfig", "ContainerArguments",
    "ContainerEntrypoint", "ContinuousParameterRanges", "DataSource", "EnableManagedSpotTraining",
    "HyperParameterTuningJobName", "HyperParameterTuningJobObjective", "HyperbandStrategyConfig", "ImageUri",
    "InputMode", "InputName", "InstanceCount", "InstanceType", "IntegerParameterRanges", "LocalPath",
    "MaxNumberOfTrainingJobs", "MaxParallelTrainingJobs", "MaxResource", "MaxRuntimeInSeconds", "MaxValue",
    "MaxWaitTimeInSeconds", "MetricDefinitions", "MinResource", "MinValue", "OutputName", "Outputs",
    "ParameterRanges", "ParentHyperParameterTuningJobs", "RandomSeed", "RatePerHour", "Regex",
    "ResourceLimits", "RestartDelaySeconds", "S3DataSource", "S3DataType", "S3Input", "S3InputMode",
    "S3Output", "S3OutputPath", "S3UploadMode", "S3Uri", "ScalingType", "Schedule", "Seed",
    "StaticHyperParameters", "Strategy", "StrategyConfig", "TrainingImage", "TrainingInputMode",
    "TrainingJobEarlyStoppingType", "Type", "VolumeSizeInGB", "WarmStartType", "sagemaker_program",
    "sagemaker_submit_directory",
    # registry
    "Containers", "Image", "ModelDataUrl", "Environment", "ModelPackageName", "Mode", "Framework",
    "FrameworkVersion", "SupportedContentTypes", "SupportedResponseMIMETypes", "SupportedRealtimeInferenceInstanceTypes",
    "SupportedTransformInstanceTypes", "ModelQuality", "ModelDataQuality", "Bias", "Explainability", "Statistics",
    "Constraints", "Report", "ContentType", "ContentDigest", "TrainingJobArn", "PipelineExecutionArn",
    "PipelineStepName", "CommitId", "GeneratedBy", "ProjectId", "Repository",
    # pipelines
    "Version", "Metadata", "Parameters", "PipelineExperimentConfig", "Steps", "Arguments", "DefaultValue",
    "EnumValues", "FunctionArn", "OutputParameters", "OutputName", "OutputType", "Conditions", "Condition",
    "IfSteps", "ElseSteps", "LeftValue", "RightValue", "QueryValue", "Get", "Std:Join", "Std:JsonGet", "On",
    "Path", "PropertyFile", "PropertyFiles", "PropertyFileName", "FilePath", "ErrorMessage", "DependsOn",
    "CacheConfig", "Enabled", "ExpireAfter", "RetryPolicies", "ExceptionType", "IntervalSeconds", "BackoffRate",
    "MaxAttempts", "ExpireAfterMin", "MaxParallelExecutionSteps", "DisplayName", "Description", "CallbackToken",
    "SqsQueueUrl",
    # serving
    "VariantName", "ModelName", "InitialInstanceCount", "InitialVariantWeight", "AcceleratorType",
    "ProductionVariants", "ShadowProductionVariants", "DataCaptureConfig", "EnableCapture",
    "InitialSamplingPercentage", "DestinationS3Uri", "KmsKeyId", "CaptureOptions", "CaptureMode",
    "CaptureContentTypeHeader", "CsvContentTypes", "JsonContentTypes", "BlueGreenUpdatePolicy",
    "RollingUpdatePolicy", "AutoRollbackConfiguration", "Alarms", "AlarmName", "TrafficRoutingConfiguration",
    "WaitIntervalInSeconds", "CanarySize", "LinearStepSize", "TerminationWaitInSeconds",
    "MaximumExecutionTimeoutInSeconds", "MaximumBatchSize", "RollbackMaximumBatchSize", "DesiredWeight",
    "DesiredInstanceCount", "TargetValue", "PredefinedMetricSpecification", "PredefinedMetricType",
    "CustomizedMetricSpecification", "ScaleOutCooldown", "ScaleInCooldown", "DisableScaleIn", "Namespace",
    "ResourceLabel",
]
HOSTILE_TEXT = [
    "", " ", "\t", "\n", "\x00", "a\x00b", "\ud800", "x\udfff", "\U0001f98a", "\u202e", "é", "\ufeff",
    "a" * 1025, "b" * 70_000, "/", "//", ".", "..", "../../etc/passwd", "~", "~nosuchuser/x",
    "file://~nosuchuser/x", "%00", "%2e%2e%2f", "*", "?", "$", "$.", "$.detail.", "$[99999999999999999999]",
    "$['", "<x>", "<<x>>", "{", "}", "[", "null", "{}", "[]", "true", "1e999", "-0", "NaN", "Infinity",
    "99999999999999999999999", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z", "-1", "rate(0 minutes)", "rate(1 minute)", "rate(99999999999999999999 days)",
    "cron(* * * * ? *)", "cron(0 0 31 2 ? *)", "cron(0/0 * * * ? *)", "at(2026-01-01T00:00:00)",
    "at(9999-99-99T99:99:99)", "arn:", "arn:groundfog:::::", "arn:groundfog:events:local:000000000000:rule/",
    "arn:groundfog:events:local:000000000000:function/fuzz-fn", "arn:groundfog:events:local:000000000000:topic/fuzz-topic",
    "arn:groundfog:events:local:000000000000:event-bus/default", "default", "fuzz", BUCKET, "fuzz-rule",
    "fuzz-topic", "fuzz-fn", "fuzz-alarm", "operator:eq", "operator:nope", "operator:", ":eq", "operator.eq",
    "operator:__name__", "no.such.module:f", "Average", "Sum", "SampleCount", "p99", "p100", "p0", "p-1",
    "p1e999", "pNaN", "tm99", "tm(1:2)", "tm(%:%)", "tm(:)", "PR(:)", "IQM", "wm99", "Seconds",
    "Count/Second", "GreaterThanThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "ALARM", "OK",
    "INSUFFICIENT_DATA", "StateUpdate", "String", "Number", "Binary", "String.Array", "s3:ObjectCreated:*",
    "s3:*", "MessageBody", "MessageAttributes", "http://127.0.0.1:9/", "https://", "function", "file",
    "ENABLED", "DISABLED", "COPY", "REPLACE", "missing", "breaching", "true", "false",
    "s3://", "s3://fuzz-bucket", "s3://fuzz-bucket/", "s3://fuzz-bucket/../x", "s3://no-such-bucket/x",
    "sklearn", "xgboost", "pytorch", "tensorflow", "ml.m5.large", "ml.p4d.24xlarge", "ml.t2.medium", "ml.x9.large",
    "m5", "general", "accelerated", "1yr", "3yr", "File", "FastFile", "Pipe", "Bayesian", "Random", "Grid",
    "Hyperband", "Maximize", "Minimize", "Logarithmic", "ReverseLogarithmic", "Auto", "Off",
    "IdenticalDataAndAlgorithm", "TransferLearning", "EndOfJob", "Continuous", "InProgress", "Completed",
    "Stopping", "Stopped", "Failed", "FinalObjectiveMetricValue", "CreationTime", "algo-1", "algo-99",
    "/opt/ml", "/opt/ml/processing/", "/opt/ml/processing/../../etc", "/opt/ml/checkpoints", "python3",
    "train.py", "../train.py", "fuzz-train", "fuzz-proc", "fuzz-tune", "validation:accuracy",
    "PendingManualApproval", "Approved", "Rejected", "SingleModel", "MultiModel", "application/json", "text/csv",
    "fuzz-group", "fuzz-group/1", "fuzz-group/0", "fuzz-group/2147483648", "fuzz-model", "Name",
    "arn:groundfog:registry:local:000000000000:model-package/fuzz-group/1",
    "fuzz-pipeline", "doomed-pipeline", "arn:groundfog:pipelines:local:000000000000:pipeline/fuzz-pipeline",
    "arn:groundfog:pipelines:local:000000000000:pipeline/fuzz-pipeline/execution/",
    "arn:groundfog:pipelines:local:000000000000:pipeline/fuzz-pipeline/execution/000000000000",
    "Parameters.", "Parameters.Wait",
    "Parameters.Threshold", "Parameters.Nope", "Execution.", "Execution.PipelineExecutionId",
    "Execution.CurrentDateTime", "Steps.", "Steps.Compute", "Steps.Compute.", "Steps.Compute.OutputParameters['y']",
    "Steps.Compute.OutputParameters[99999999999999999999]", "Steps.Compute.OutputParameters['", "Steps.Compute..y",
    "Steps.Check.Outcome", "Steps.Compute.PropertyFiles.F", "Steps.Approve.OutputParameters['approved']", "Compute",
    "Check", "Approve", "Reject", "Lambda", "Condition", "Callback", "Fail", "Processing", "Training", "Tuning",
    "Model", "RegisterModel", "Transform", "Equals", "GreaterThan", "LessThanOrEqualTo", "In", "Not", "Or",
    "Integer", "Float", "Boolean", "Step.SERVICE_FAULT", "SageMaker.JOB_INTERNAL_ERROR", "P30D", "PT1H", "PT",
    "P99999999999999999999D", "Executing", "Succeeded", "Ascending", "Descending", "2020-12-01",
    "AllTraffic", "Canary", "A", "B", "Shadow", "doomed-endpoint", "doomed-config", "doomed-policy",
    "sagemaker", "ecs", "sagemaker:variant:DesiredInstanceCount", "SageMakerVariantInvocationsPerInstance",
    "TargetTrackingScaling", "StepScaling", "endpoint/doomed-endpoint/variant/AllTraffic", "endpoint//variant/",
    "endpoint/x/variant/y/z", "ALL_AT_ONCE", "CANARY", "LINEAR", "INSTANCE_COUNT", "CAPACITY_PERCENT", "Input",
    "Output", "InService", "Creating", "Updating", "RollingBack", "OutOfService", "Deleting", "AWS/SageMaker",
    "Invocations", "EndpointName", "VariantName", "alias/fuzz",
]
HOSTILE_NUMBERS = [
    0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**400,
    1e308, -1e308, 5e-324, -0.0, 0.5, float("nan"), float("inf"), float("-inf"),
]

text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=30),
)
numbers = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers(), st.floats())
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
keys = st.one_of(st.sampled_from(VOCABULARY), text)
any_json = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


def like(value: Any) -> st.SearchStrategy[Any]:
    """A hostile value, usually of the same JSON type as ``value`` (so it gets past the
    request model and into the service), sometimes of any type."""
    if isinstance(value, bool):
        same: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(value, (int, float)):
        same = numbers
    elif isinstance(value, str):
        same = text
    elif isinstance(value, list):
        same = st.one_of(st.just([]), st.lists(any_json, max_size=4), st.just(value * 200),
                         st.just([value] if value else [[]]))
    elif isinstance(value, dict):
        same = st.one_of(st.just({}), st.dictionaries(keys, any_json, max_size=4))
    else:
        same = scalars
    return st.one_of(same, same, same, any_json)


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw: st.DrawFn, seed: dict) -> Any:
    """``seed`` with one to three hostile changes, anywhere in its tree."""
    body: Any = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(body))))
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add"]))
        if not path:
            if action == "replace" and draw(st.integers(0, 9)) == 0:
                body = draw(any_json)
            elif isinstance(body, dict):
                body[draw(keys)] = draw(any_json)
            continue
        *parents, last = path
        parent = body
        for step in parents:
            parent = parent[step]
        if action == "replace":
            parent[last] = draw(like(parent[last]))
        elif action == "drop":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][draw(keys)] = draw(any_json)
        elif isinstance(parent[last], list):
            parent[last].append(draw(any_json))
        else:
            parent[last] = draw(any_json)
    return body


# ---- findings not fixed yet ---------------------------------------------------------------

# Server errors the fuzzers found in a service, reported to its owner, not yet fixed. A
# request that matches one is still sent and held to the standard, but the 500 it gets
# is noted rather than failing at once, and fuzzing goes on: the test then ends xfailed
# (not failed) if nothing else broke, and passes once the service is fixed. Delete the
# entry with the fix.


KNOWN_SERVER_ERRORS: dict[str, tuple[Callable[[Any], bool], str]] = {}


def known_server_error(path: str, raw: bytes) -> str | None:
    """The reason, if a 500 for this request is a known finding."""
    if path not in KNOWN_SERVER_ERRORS:
        return None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    matches, reason = KNOWN_SERVER_ERRORS[path]
    return reason if matches(body) else None


# ---- the server, its seed resources, and what a good answer is -----------------------


def _seed(platform: Any, sink: Path) -> dict[str, dict]:
    """Create resources to aim at; a valid request body per operation.

    Operations that delete aim at resources of their own, so a fuzzer that succeeds in
    deleting one does not starve the others.
    """
    from groundfog.events.functions import function_arn
    from groundfog.events.routing import topic_arn

    s, ev, tp, mx = platform.storage, platform.events, platform.topics, platform.metrics
    for bucket in (BUCKET, "fuzz-doomed"):
        s.create_bucket(bucket=bucket)
    for key in ("data/a.csv", "data/doomed.csv"):
        s.put_object(bucket=BUCKET, key=key, body=b"a,b\n1,2\n")
    ev.create_event_bus(name="fuzz-bus")
    ev.create_event_bus(name="doomed-bus")
    for rule in ("fuzz-rule", "doomed-rule"):
        ev.put_rule(name=rule, event_pattern={"source": ["fuzz"]})
    rule_arn = ev.describe_rule(name="fuzz-rule").arn
    bus_arn = ev.describe_event_bus(name="default").arn
    archive = ev.create_archive(name="fuzz-archive", event_source_arn=bus_arn)
    ev.create_archive(name="doomed-archive", event_source_arn=bus_arn)
    for fn in ("fuzz-fn", "doomed-fn"):
        ev.create_function(name=fn, handler="operator:eq")
    fn_arn = function_arn("fuzz-fn")
    for topic in ("fuzz-topic", "doomed-topic"):
        tp.create_topic(name=topic)
    topic = topic_arn("fuzz-topic")
    sub = tp.subscribe(topic_arn=topic, protocol="file", endpoint=str(sink / "fuzz.jsonl"))
    doomed_sub = tp.subscribe(topic_arn=topic, protocol="file", endpoint=str(sink / "doomed.jsonl"))
    ev.put_targets(rule="fuzz-rule", targets=[{"Id": "doomed-target", "Arn": topic}])
    now = time.time()
    mx.put_metric_data(namespace="App", metric_data=[
        {"MetricName": "Latency", "Value": 1.0, "Timestamp": now - 120, "Dimensions": [{"Name": "Host", "Value": "a"}]},
    ])
    alarm = {"metric_name": "Latency", "namespace": "App", "period": 60, "evaluation_periods": 1,
             "threshold": 1.0, "comparison_operator": "GreaterThanThreshold", "statistic": "Average"}
    for name in ("fuzz-alarm", "doomed-alarm"):
        mx.put_metric_alarm(alarm_name=name, **alarm)
    iso_now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    event = {"id": "1", "account": "000000000000", "source": "fuzz", "time": iso_now, "region": "local",
             "resources": ["r"], "detail-type": "x", "detail": {"a": 1, "b": "xyz", "ip": "10.0.0.1"}}
    return {
        "/api/storage/CopyObject": {
            "src_bucket": BUCKET, "src_key": "data/a.csv", "dst_bucket": BUCKET, "dst_key": "data/b.csv",
            "metadata_directive": "REPLACE", "metadata": {"owner": "ana"}, "content_type": "text/csv"},
        "/api/storage/CreateBucket": {"bucket": "fuzz-new"},
        "/api/storage/DeleteBucket": {"bucket": "fuzz-doomed"},
        "/api/storage/DeleteObject": {"bucket": BUCKET, "key": "data/doomed.csv"},
        "/api/storage/DeleteObjects": {"bucket": BUCKET, "keys": ["data/doomed.csv", "data/none.csv"]},
        "/api/storage/GetBucketNotificationConfiguration": {"bucket": BUCKET},
        "/api/storage/HeadBucket": {"bucket": BUCKET},
        "/api/storage/HeadObject": {"bucket": BUCKET, "key": "data/a.csv"},
        "/api/storage/ListBuckets": {},
        "/api/storage/ListObjectsV2": {
            "bucket": BUCKET, "prefix": "data/", "delimiter": "/", "max_keys": 10, "start_after": "data/0",
            "continuation_token": None},
        "/api/storage/PutBucketNotificationConfiguration": {"bucket": BUCKET, "configuration": {
            "EventBridgeConfiguration": {},
            "TopicConfigurations": [{
                "Id": "t", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "data/"},
                                                   {"Name": "suffix", "Value": ".csv"}]}}}],
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectRemoved:*"]}]}},
        "/api/events/CreateArchive": {
            "name": "fuzz-archive-2", "event_source_arn": bus_arn, "event_pattern": {"source": ["fuzz"]},
            "retention_days": 1, "description": "d"},
        "/api/events/CreateEventBus": {"name": "fuzz-bus-2", "description": "d"},
        "/api/events/CreateFunction": {"name": "fuzz-fn-2", "handler": "operator:eq", "description": "d",
                                       "code_path": str(sink)},
        "/api/events/DeleteArchive": {"name": "doomed-archive"},
        "/api/events/DeleteEventBus": {"name": "doomed-bus"},
        "/api/events/DeleteFunction": {"name": "doomed-fn"},
        "/api/events/DeleteRule": {"name": "doomed-rule", "event_bus_name": "default"},
        "/api/events/DescribeArchive": {"name": "fuzz-archive"},
        "/api/events/DescribeEventBus": {"name": "fuzz-bus"},
        "/api/events/DescribeReplay": {"name": "fuzz-replay"},
        "/api/events/DescribeRule": {"name": "fuzz-rule", "event_bus_name": "default"},
        "/api/events/DisableRule": {"name": "fuzz-rule", "event_bus_name": "default"},
        "/api/events/EnableRule": {"name": "fuzz-rule", "event_bus_name": "default"},
        "/api/events/GetFunction": {"name": "fuzz-fn"},
        "/api/events/Invoke": {"name": "fuzz-fn", "payload": {"a": [1, "x"]}},
        "/api/events/ListArchives": {"name_prefix": "fuzz", "event_source_arn": bus_arn},
        "/api/events/ListDeadLetters": {"target_arn": topic, "limit": 5},
        "/api/events/ListEventBuses": {"name_prefix": "fuzz"},
        "/api/events/ListFunctions": {},
        "/api/events/ListReplays": {"name_prefix": "fuzz"},
        "/api/events/ListRules": {"name_prefix": "fuzz", "event_bus_name": "default"},
        "/api/events/ListTargetsByRule": {"rule": "fuzz-rule", "event_bus_name": "default"},
        "/api/events/PutEvents": {"entries": [
            {"Source": "fuzz", "DetailType": "x", "Detail": json.dumps({"a": 1}), "Resources": ["r"],
             "Time": iso_now, "EventBusName": "default"},
            {"Source": "fuzz", "DetailType": "y", "Detail": "{}", "EventBusName": "fuzz-bus"}]},
        "/api/events/PutRule": {
            "name": "fuzz-rule-2", "event_pattern": {
                "source": ["fuzz"], "detail": {"a": [{"numeric": [">", 0, "<=", 5]}], "b": [{"prefix": "x"}],
                                               "ip": [{"cidr": "10.0.0.0/8"}]}},
            "state": "ENABLED", "description": "d", "event_bus_name": "default"},
        "/api/events/PutTargets": {"rule": "fuzz-rule", "event_bus_name": "default", "targets": [
            {"Id": "t1", "Arn": topic, "InputPath": "$.detail",
             "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60},
             "DeadLetterConfig": {"Arn": topic}},
            {"Id": "t2", "Arn": fn_arn, "InputTransformer": {
                "InputPathsMap": {"s": "$.source", "a": "$.detail.a"}, "InputTemplate": '{"s": <s>, "a": <a>}'}},
            {"Id": "t3", "Arn": topic, "Input": "{}"}]},
        "/api/events/RemoveTargets": {"rule": "fuzz-rule", "ids": ["doomed-target"], "event_bus_name": "default"},
        "/api/events/StartReplay": {
            "name": "fuzz-replay", "event_source_arn": archive.archive_arn, "event_start_time": now - 3600,
            "event_end_time": iso_now, "destination": {"Arn": bus_arn, "FilterArns": [rule_arn]},
            "description": "d"},
        "/api/events/TestEventPattern": {"event": event, "event_pattern": {
            "source": ["fuzz"], "detail": {"a": [{"numeric": [">", 0, "<=", 5]}], "b": [{"anything-but": ["q"]}],
                                           "ip": [{"cidr": "10.0.0.0/8"}]},
            "$or": [{"resources": [{"wildcard": "r*"}]}, {"detail-type": [{"equals-ignore-case": "X"}]}]}},
        "/api/topics/CreateTopic": {"name": "fuzz-topic-2"},
        "/api/topics/DeleteTopic": {"topic_arn": topic_arn("doomed-topic")},
        "/api/topics/ListSubscriptions": {},
        "/api/topics/ListSubscriptionsByTopic": {"topic_arn": topic},
        "/api/topics/ListTopics": {},
        "/api/topics/Publish": {"topic_arn": topic, "message": "hi", "subject": "s", "message_attributes": {
            "store": {"DataType": "String", "StringValue": "s1"}, "n": {"DataType": "Number", "StringValue": "12"},
            "b": {"DataType": "Binary", "BinaryValue": "aGk="}, "short": 12, "list": ["a", 1]}},
        "/api/topics/SetSubscriptionAttributes": {
            "subscription_arn": sub.subscription_arn, "attribute_name": "FilterPolicy",
            "attribute_value": {"store": ["s1"], "n": [{"numeric": [">", 1]}]}},
        "/api/topics/Subscribe": {"topic_arn": topic, "protocol": "function", "endpoint": fn_arn, "attributes": {
            "FilterPolicy": {"store": ["s1", {"prefix": "s"}]}, "FilterPolicyScope": "MessageAttributes",
            "RawMessageDelivery": "true"}},
        "/api/topics/Unsubscribe": {"subscription_arn": doomed_sub.subscription_arn},
        "/api/metrics/DeleteAlarms": {"alarm_names": ["doomed-alarm"]},
        "/api/metrics/DescribeAlarmHistory": {
            "alarm_name": "fuzz-alarm", "history_item_type": "StateUpdate", "start_date": now - 3600,
            "end_date": iso_now, "max_records": 10},
        "/api/metrics/DescribeAlarms": {"alarm_names": ["fuzz-alarm"], "state_value": "INSUFFICIENT_DATA"},
        "/api/metrics/DisableAlarmActions": {"alarm_names": ["fuzz-alarm"]},
        "/api/metrics/EnableAlarmActions": {"alarm_names": ["fuzz-alarm"]},
        "/api/metrics/EvaluateAlarms": {"now": now, "alarm_names": ["fuzz-alarm"]},
        "/api/metrics/GetMetricStatistics": {
            "namespace": "App", "metric_name": "Latency", "dimensions": [{"Name": "Host", "Value": "a"}],
            "start_time": now - 3600, "end_time": iso_now, "period": 60, "statistics": ["Average", "Sum"],
            "extended_statistics": ["p99", "tm(10%:90%)"]},
        "/api/metrics/ListMetrics": {"namespace": "App", "metric_name": "Latency",
                                     "dimensions": [{"Name": "Host", "Value": "a"}]},
        "/api/metrics/PutMetricAlarm": {
            "alarm_name": "fuzz-alarm-2", "metric_name": "Latency", "namespace": "App", "period": 60,
            "evaluation_periods": 2, "threshold": 1.5, "comparison_operator": "GreaterThanThreshold",
            "statistic": "Average", "dimensions": [{"Name": "Host", "Value": "a"}], "datapoints_to_alarm": 1,
            "treat_missing_data": "breaching", "alarm_actions": [topic], "ok_actions": [],
            "insufficient_data_actions": [], "unit": "Seconds", "actions_enabled": True,
            "alarm_description": "d"},
        "/api/metrics/PutMetricData": {"namespace": "App", "metric_data": [
            {"MetricName": "Latency", "Value": 2.0, "Unit": "Seconds", "Timestamp": now - 60,
             "Dimensions": [{"Name": "Host", "Value": "a"}], "StorageResolution": 1},
            {"MetricName": "Sizes", "Values": [1, 2], "Counts": [1, 3], "Timestamp": iso_now},
            {"MetricName": "Batch", "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2}}]},
        "/api/metrics/SetAlarmState": {
            "alarm_name": "fuzz-alarm", "state_value": "ALARM", "state_reason": "r", "state_reason_data": {"a": 1}},
        **_seed_jobs(platform),
        **_seed_registry(platform),
        **_seed_pipelines(platform, sink),
        **_seed_serving(platform),
    }


def _seed_registry(platform: Any) -> dict[str, dict]:
    """Groups, versions and models to aim at; their model data and report are in the jobs' bucket."""
    r = platform.registry
    model = f"s3://{JOBS_BUCKET}/registry/model.tar.gz"
    report = f"s3://{JOBS_BUCKET}/registry/evaluation.json"
    platform.storage.put_object(bucket=JOBS_BUCKET, key="registry/model.tar.gz", body=b"model")
    platform.storage.put_object(bucket=JOBS_BUCKET, key="registry/evaluation.json", body=b'{"auc": {"value": 0.9}}')
    spec = {"Containers": [{"Image": "sklearn", "ModelDataUrl": model, "Environment": {"A": "1"}, "Framework": "SKLEARN",
                            "FrameworkVersion": "1.4"}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"], "SupportedTransformInstanceTypes": ["ml.m5.large"]}
    for group in ("fuzz-group", "doomed-group"):
        r.create_model_package_group(model_package_group_name=group)
    for _ in range(2):  # fuzz-group/2 is the one to delete
        r.create_model_package(model_package_group_name="fuzz-group", inference_specification=spec)
    for name in ("fuzz-model", "doomed-model"):
        r.create_model(model_name=name, primary_container={"Image": "sklearn", "ModelDataUrl": model})
    tags = [{"Key": "team", "Value": "fuzz"}]
    metrics = {"ContentType": "application/json", "S3Uri": report}
    listing = {"sort_by": "Name", "sort_order": "Ascending", "max_results": 10}
    return {
        "/api/registry/CreateModel": {
            "model_name": "fuzz-model-2", "execution_role_arn": "arn:aws:iam::000000000000:role/fuzz", "tags": tags,
            "primary_container": {"Image": "sklearn", "ModelDataUrl": model, "Environment": {"A": "1"}, "Mode": "SingleModel"}},
        "/api/registry/CreateModelPackage": {
            "model_package_group_name": "fuzz-group", "inference_specification": spec,
            "model_approval_status": "PendingManualApproval", "model_metrics": {"ModelQuality": {"Statistics": metrics}},
            "customer_metadata_properties": {"team": "fuzz"}, "model_package_description": "d",
            "metadata_properties": {"CommitId": "abc", "Repository": "r"}, "domain": "MACHINE_LEARNING",
            "task": "CLASSIFICATION", "sample_payload_url": model, "tags": tags,
            "drift_check_baselines": {"ModelQuality": {"Constraints": metrics}},
            "lineage": {"TrainingJobArn": "arn:groundfog:training:local:000000000000:training-job/fuzz-train",
                        "PipelineStepName": "Register"},
            "certify_for_marketplace": False, "skip_model_validation": "None", "source_uri": model},
        "/api/registry/CreateModelPackageGroup": {
            "model_package_group_name": "fuzz-group-2", "model_package_group_description": "d", "tags": tags},
        "/api/registry/DeleteModel": {"model_name": "doomed-model"},
        "/api/registry/DeleteModelPackage": {"model_package_name": "fuzz-group/2"},
        "/api/registry/DeleteModelPackageGroup": {"model_package_group_name": "doomed-group"},
        "/api/registry/DescribeModel": {"model_name": "fuzz-model"},
        "/api/registry/DescribeModelPackage": {"model_package_name": "fuzz-group/1"},
        "/api/registry/DescribeModelPackageGroup": {"model_package_group_name": "fuzz-group"},
        "/api/registry/LatestApprovedModelPackage": {"model_package_group_name": "fuzz-group"},
        "/api/registry/ListModelPackageGroups": {"name_contains": "fuzz", **listing},
        "/api/registry/ListModelPackages": {
            "model_package_group_name": "fuzz-group", "model_approval_status": "PendingManualApproval", **listing},
        "/api/registry/ListModels": {"name_contains": "fuzz", **listing},
        "/api/registry/UpdateModelPackage": {
            "model_package_arn": "fuzz-group/1", "model_approval_status": "Approved", "approval_description": "d",
            "customer_metadata_properties": {"a": "1"}, "customer_metadata_properties_to_remove": ["b"],
            "model_package_description": "d"},
    }


# The Lambda steps of the fuzzed pipelines run this (from the sinks directory, put on
# sys.path by CreateFunction): it returns twice its x, and fails on no event.
PIPELINE_FUNCTIONS = b'''
def compute(event, context):
    x = event.get("x") if isinstance(event, dict) else None
    return {"y": 2 * x if isinstance(x, int) and not isinstance(x, bool) else 0}
'''


def _pipeline_definition(function: str, topic: str) -> dict:
    """Parameters of every type, a Lambda step, a condition on them whose true branch is a
    callback (the execution waits for SendPipelineExecutionStep*) and whose false branch
    fails: cheap steps only, no job, so an execution is over in milliseconds or waits."""
    compute_y = {"Get": "Steps.Compute.OutputParameters['y']"}
    return {
        "Version": "2020-12-01", "Metadata": {},
        "Parameters": [
            {"Name": "Wait", "Type": "Boolean", "DefaultValue": False},
            {"Name": "Threshold", "Type": "Integer", "DefaultValue": 3},
            {"Name": "Rate", "Type": "Float", "DefaultValue": 0.5},
            {"Name": "Label", "Type": "String", "DefaultValue": "fuzz", "EnumValues": ["fuzz", "other"]},
            {"Name": "InputDataUrl", "Type": "String", "DefaultValue": f"s3://{JOBS_BUCKET}/data/train.csv"},
        ],
        "Steps": [
            {"Name": "Compute", "Type": "Lambda", "FunctionArn": function, "DisplayName": "compute",
             "Description": "d", "OutputParameters": [{"OutputName": "y", "OutputType": "Integer"}],
             "Arguments": {"x": {"Get": "Parameters.Threshold"}, "label": {"Std:Join": {"On": "/", "Values": [
                 {"Get": "Parameters.Label"}, {"Get": "Execution.PipelineExecutionId"}, {"Get": "Parameters.InputDataUrl"}]}}},
             "RetryPolicies": [{"ExceptionType": ["Step.SERVICE_FAULT"], "IntervalSeconds": 1, "BackoffRate": 2.0,
                                "MaxAttempts": 1}]},
            {"Name": "Check", "Type": "Condition", "DependsOn": ["Compute"], "Arguments": {
                "Conditions": [
                    {"Type": "Equals", "LeftValue": {"Get": "Parameters.Wait"}, "RightValue": True},
                    {"Type": "Or", "Conditions": [
                        {"Type": "GreaterThanOrEqualTo", "LeftValue": compute_y, "RightValue": {"Get": "Parameters.Rate"}},
                        {"Type": "Not", "Condition": {"Type": "In", "QueryValue": {"Get": "Parameters.Label"},
                                                      "Values": ["fuzz", "other"]}}]}],
                "IfSteps": [{"Name": "Approve", "Type": "Callback", "TopicArn": topic, "Arguments": {"y": compute_y},
                             "OutputParameters": [{"OutputName": "approved", "OutputType": "Boolean"}]}],
                "ElseSteps": [{"Name": "Reject", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {
                    "On": " ", "Values": ["not approved:", compute_y, {"Get": "Execution.StartDateTime"}]}}}}]}},
        ],
    }


def _seed_pipelines(platform: Any, sink: Path) -> dict[str, dict]:
    """Pipelines, and executions of "fuzz-pipeline": one Failed (to retry and describe)
    and four waiting on their callback step: one to stop, one for each Send*, and one
    that nothing aims at, so that "fuzz-pipeline" always has a running execution and
    no fuzzed DeletePipeline can take it from the other seeds. Their function and topic
    are named nowhere in the hostile values: the events and topics fuzzers cannot
    delete them from under the pipelines."""
    pl = platform.pipelines
    (sink / "fuzz_pipeline_fns.py").write_bytes(PIPELINE_FUNCTIONS)
    function = platform.events.create_function(name="fuzz-pl-fn", handler="fuzz_pipeline_fns:compute",
                                               code_path=str(sink)).function_arn
    topic = platform.topics.create_topic(name="fuzz-pl-topic").topic_arn
    document = _pipeline_definition(function, topic)
    for name in ("fuzz-pipeline", "fuzz-updated", "doomed-pipeline"):
        pl.create_pipeline(pipeline_name=name, pipeline_definition=document)

    def start(wait: bool) -> str:
        return pl.start_pipeline_execution(pipeline_name="fuzz-pipeline", pipeline_parameters=[
            {"Name": "Wait", "Value": wait}])["PipelineExecutionArn"]

    failed = start(False)
    described = pl.wait_for_pipeline_execution(pipeline_execution_arn=failed, timeout=60)
    assert described["PipelineExecutionStatus"] == "Failed", described
    waiting = {use: start(True) for use in ("stop", "success", "failure", "keeper")}
    tokens = {}
    deadline = time.monotonic() + 60
    for use, arn in waiting.items():
        while use not in tokens:
            assert time.monotonic() < deadline, f"execution {arn} never reached its callback step"
            steps = pl.list_pipeline_execution_steps(pipeline_execution_arn=arn)["PipelineExecutionSteps"]
            approve = [s for s in steps if s["StepName"] == "Approve" and s["StepStatus"] == "Executing"]
            if approve:
                tokens[use] = approve[0]["Metadata"]["Callback"]["CallbackToken"]
            else:
                time.sleep(0.02)
    saved = {"pipeline_definition": document, "pipeline_description": "d", "pipeline_display_name": "Fuzz",
             "role_arn": "arn:aws:iam::000000000000:role/fuzz", "parallelism_configuration": {"MaxParallelExecutionSteps": 2},
             "tags": [{"Key": "team", "Value": "fuzz"}]}  # fmt: skip
    return {
        "/api/pipelines/CreatePipeline": {"pipeline_name": "fuzz-pipeline-2", **saved},
        "/api/pipelines/UpdatePipeline": {"pipeline_name": "fuzz-updated", **saved},
        "/api/pipelines/UpsertPipeline": {"pipeline_name": "fuzz-upserted", **saved},
        "/api/pipelines/DescribePipeline": {"pipeline_name": "fuzz-pipeline", "pipeline_version_id": 1},
        "/api/pipelines/ListPipelines": {"pipeline_name_prefix": "fuzz", "max_results": 10},
        "/api/pipelines/ListPipelineVersions": {"pipeline_name": "fuzz-pipeline"},
        "/api/pipelines/DeletePipeline": {"pipeline_name": "doomed-pipeline"},
        # Version 1: whatever a fuzzed upsert made of the pipeline, this runs the seeded definition.
        "/api/pipelines/StartPipelineExecution": {
            "pipeline_name": "fuzz-pipeline", "pipeline_version_id": 1, "pipeline_parameters": [
                {"Name": "Wait", "Value": "false"}, {"Name": "Threshold", "Value": 4}, {"Name": "Rate", "Value": "0.25"},
                {"Name": "Label", "Value": "other"}, {"Name": "InputDataUrl", "Value": f"s3://{JOBS_BUCKET}/data/"}],
            "pipeline_execution_display_name": "fuzz", "pipeline_execution_description": "d",
            "parallelism_configuration": {"MaxParallelExecutionSteps": 2}, "client_request_token": "fuzz-token"},
        "/api/pipelines/DescribePipelineExecution": {"pipeline_execution_arn": failed},
        "/api/pipelines/ListPipelineExecutions": {"pipeline_name": "fuzz-pipeline", "max_results": 10,
                                                  "sort_order": "Ascending"},
        "/api/pipelines/ListPipelineExecutionSteps": {"pipeline_execution_arn": failed, "sort_order": "Ascending"},
        "/api/pipelines/ListPipelineParametersForExecution": {"pipeline_execution_arn": failed},
        "/api/pipelines/DescribePipelineDefinitionForExecution": {"pipeline_execution_arn": failed},
        "/api/pipelines/ListPipelineExecutionLineage": {"pipeline_execution_arn": failed},
        "/api/pipelines/StopPipelineExecution": {"pipeline_execution_arn": waiting["stop"]},
        "/api/pipelines/RetryPipelineExecution": {"pipeline_execution_arn": failed,
                                                  "parallelism_configuration": {"MaxParallelExecutionSteps": 3}},
        "/api/pipelines/SendPipelineExecutionStepSuccess": {
            "callback_token": tokens["success"], "output_parameters": [{"Name": "approved", "Value": "true"}]},
        "/api/pipelines/SendPipelineExecutionStepFailure": {"callback_token": tokens["failure"], "failure_reason": "no"},
        # Only at an execution that has ended: it answers at once, whatever the timeout.
        "/api/pipelines/WaitForPipelineExecution": {"pipeline_execution_arn": failed, "timeout": 0.1},
    }


def _iris_model_tarball() -> bytes:
    """A ``model.tar.gz`` as SageMaker's scikit-learn estimator leaves it: a logistic
    regression on the iris data in ``model.joblib``."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    buffer = io.BytesIO()
    joblib.dump(LogisticRegression(max_iter=500).fit(features, labels), buffer)
    return _source_tarball({"model.joblib": buffer.getvalue()})


# What the seeded serving endpoints are invoked with: one iris row.
IRIS_ROW = b"5.1,3.5,1.4,0.2"
SCALING = {"service_namespace": "sagemaker", "scalable_dimension": "sagemaker:variant:DesiredInstanceCount"}


def _seed_serving(platform: Any) -> dict[str, dict]:
    """Endpoint configs, InService endpoints (SERVING_ENDPOINTS, and "doomed-endpoint"),
    scalable targets and policies, on a real model in the jobs' bucket.

    The endpoints are hosted by the server's process (the platform that creates an
    endpoint hosts it): the fuzzed requests reach the same hosting loop. "fuzz-sv-scaled"
    has been invoked, so its variant A has Invocations for the autoscaler to track."""
    sv, r = platform.serving, platform.registry
    platform.storage.put_object(bucket=JOBS_BUCKET, key="serving/model.tar.gz", body=_iris_model_tarball())
    model_url = f"s3://{JOBS_BUCKET}/serving/model.tar.gz"
    r.create_model(model_name="fuzz-sv-model", primary_container={"Image": "sklearn", "ModelDataUrl": model_url})
    platform.metrics.put_metric_alarm(
        alarm_name="fuzz-sv-alarm", metric_name="Invocation5XXErrors", namespace="AWS/SageMaker", period=60,
        evaluation_periods=1, threshold=1.0, comparison_operator="GreaterThanOrEqualToThreshold", statistic="Sum",
        dimensions=[{"Name": "EndpointName", "Value": "fuzz-sv-updated"}], treat_missing_data="notBreaching")

    def variant(name: str, weight: float = 1.0, count: int = 1) -> dict[str, Any]:
        return {"VariantName": name, "ModelName": "fuzz-sv-model", "InstanceType": "ml.m5.large",
                "InitialInstanceCount": count, "InitialVariantWeight": weight}

    capture = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": f"s3://{JOBS_BUCKET}/capture",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
               "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}}
    sv.create_endpoint_config(endpoint_config_name="fuzz-sv-config",
                              production_variants=[variant("AllTraffic"), variant("Canary", 0.5)],
                              data_capture_config=capture)
    for name in ("fuzz-sv-config-b", "doomed-config"):
        sv.create_endpoint_config(endpoint_config_name=name, production_variants=[variant("AllTraffic")])
    sv.create_endpoint_config(endpoint_config_name="fuzz-sv-config-scaled", production_variants=[variant("A"), variant("B")])
    endpoints = {**SERVING_ENDPOINTS, "doomed-endpoint": "fuzz-sv-config-b"}
    for endpoint, config in endpoints.items():
        sv.create_endpoint(endpoint_name=endpoint, endpoint_config_name=config)
    for endpoint in endpoints:
        described = sv.wait_for_endpoint(endpoint_name=endpoint, timeout=60)
        assert described["EndpointStatus"] == "InService", described
    for target in ("A", "B"):
        sv.invoke_endpoint("fuzz-sv-scaled", IRIS_ROW, content_type="text/csv", target_variant=target)
    sv.metrics_sink.flush()
    scaled = "endpoint/fuzz-sv-scaled/variant/{}".format
    sv.register_scalable_target(resource_id=scaled("A"), min_capacity=1, max_capacity=2, **SCALING)
    sv.register_scalable_target(resource_id=scaled("B"), min_capacity=1, max_capacity=1, **SCALING)
    predefined = {"TargetValue": 1000.0, "PredefinedMetricSpecification": {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}
    for policy in ("fuzz-sv-policy", "doomed-policy"):
        sv.put_scaling_policy(policy_name=policy, resource_id=scaled("A"),
                              target_tracking_scaling_policy_configuration=predefined, **SCALING)
    tags = [{"Key": "team", "Value": "fuzz"}]
    listing = {"name_contains": "fuzz", "max_results": 10, "sort_by": "Name", "sort_order": "Ascending"}
    return {
        "/api/serving/CreateEndpointConfig": {
            "endpoint_config_name": "fuzz-sv-config-2", "production_variants": [variant("AllTraffic"), variant("B", 0.5)],
            "shadow_production_variants": [variant("Shadow", 0.2)], "data_capture_config": capture, "tags": tags,
            "kms_key_id": "alias/fuzz"},
        "/api/serving/DescribeEndpointConfig": {"endpoint_config_name": "fuzz-sv-config"},
        "/api/serving/ListEndpointConfigs": listing,
        "/api/serving/DeleteEndpointConfig": {"endpoint_config_name": "doomed-config"},
        "/api/serving/CreateEndpoint": {
            "endpoint_name": "fuzz-sv-created", "endpoint_config_name": "fuzz-sv-config-b", "tags": tags,
            "deployment_config": {
                "RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 0,
                                        "MaximumExecutionTimeoutInSeconds": 60,
                                        "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "fuzz-sv-alarm"}]}}},
        "/api/serving/DescribeEndpoint": {"endpoint_name": "fuzz-sv-endpoint"},
        "/api/serving/ListEndpoints": {**listing, "status_equals": "InService", "sort_by": "CreationTime"},
        # Canary then all, no bake: over once the new worker serves. A fuzzed wait longer than
        # the execution timeout rolls back by itself.
        "/api/serving/UpdateEndpoint": {
            "endpoint_name": "fuzz-sv-updated", "endpoint_config_name": "fuzz-sv-config-b",
            "retain_all_variant_properties": True, "retain_deployment_config": False, "deployment_config": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 0,
                                                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
                    "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 10},
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "fuzz-sv-alarm"}]}}},
        "/api/serving/UpdateEndpointWeightsAndCapacities": {
            "endpoint_name": "fuzz-sv-scaled", "desired_weights_and_capacities": [
                {"VariantName": "A", "DesiredWeight": 2.0}, {"VariantName": "B", "DesiredWeight": 1.0, "DesiredInstanceCount": 1}]},
        "/api/serving/DeleteEndpoint": {"endpoint_name": "doomed-endpoint"},
        "/api/serving/ListEndpointHistory": {"endpoint_name": "fuzz-sv-endpoint"},
        # At an endpoint in service: it answers at once, whatever the timeout.
        "/api/serving/WaitForEndpoint": {"endpoint_name": "fuzz-sv-endpoint", "timeout": 0.1},
        "/api/serving/RegisterScalableTarget": {"resource_id": scaled("A"), "min_capacity": 1, "max_capacity": 2, **SCALING},
        "/api/serving/DescribeScalableTargets": {"service_namespace": "sagemaker", "resource_ids": [scaled("A"), scaled("B")]},
        "/api/serving/DeregisterScalableTarget": {"resource_id": scaled("B"), **SCALING},
        "/api/serving/PutScalingPolicy": {
            "policy_name": "fuzz-sv-policy-2", "resource_id": scaled("A"), "policy_type": "TargetTrackingScaling",
            "target_tracking_scaling_policy_configuration": {
                "TargetValue": 50.0, "ScaleOutCooldown": 0, "ScaleInCooldown": 0, "DisableScaleIn": False,
                "CustomizedMetricSpecification": {
                    "MetricName": "Invocations", "Namespace": "AWS/SageMaker", "Statistic": "Sum", "Unit": "Count",
                    "Dimensions": [{"Name": "EndpointName", "Value": "fuzz-sv-scaled"}, {"Name": "VariantName", "Value": "A"}]}},
            **SCALING},
        "/api/serving/DescribeScalingPolicies": {"service_namespace": "sagemaker", "resource_id": scaled("A")},
        "/api/serving/DeleteScalingPolicy": {"policy_name": "doomed-policy", "resource_id": scaled("A"), **SCALING},
        "/api/serving/DescribeScalingActivities": {"service_namespace": "sagemaker", "resource_id": scaled("A"),
                                                   "max_results": 10},
    }


def _source_tarball(files: dict[str, bytes]) -> bytes:
    """A ``sourcedir.tar.gz`` as the SageMaker SDK uploads it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _seed_jobs(platform: Any) -> dict[str, dict]:
    """Instance, training, processing and tuning seeds, and the jobs they aim at.

    Every job runs ``JOB_SCRIPT`` (it prints a line and ends), so a fuzzed request that
    is accepted starts a real job that is over in about a second. The seeded jobs have
    ended when this returns, so a ``Wait*`` aimed at one answers at once whatever its
    ``timeout``; ``Stop*`` aims at a job of its own ("doomed").
    """
    s = platform.storage
    s.create_bucket(bucket=JOBS_BUCKET)
    s.put_object(bucket=JOBS_BUCKET, key="code/sourcedir.tar.gz", body=_source_tarball({"train.py": JOB_SCRIPT}))
    s.put_object(bucket=JOBS_BUCKET, key="code/process.py", body=JOB_SCRIPT)
    s.put_object(bucket=JOBS_BUCKET, key="data/train.csv", body=b"a,b\n1,2\n")
    code = f"s3://{JOBS_BUCKET}/code/sourcedir.tar.gz"
    static = {"sagemaker_program": "train.py", "sagemaker_submit_directory": code}
    algorithm = {"TrainingImage": "sklearn", "TrainingInputMode": "File", "MetricDefinitions": JOB_METRICS}
    channels = [{"ChannelName": "train", "DataSource": {"S3DataSource": {
        "S3Uri": f"s3://{JOBS_BUCKET}/data/", "S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated"}},
        "ContentType": "text/csv", "CompressionType": "None"}]
    resources = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}
    training = {
        "algorithm_specification": algorithm, "hyper_parameters": {**static, "depth": "3"},
        "input_data_config": channels, "output_data_config": {"S3OutputPath": f"s3://{JOBS_BUCKET}/models"},
        "resource_config": resources, "stopping_condition": {"MaxRuntimeInSeconds": 60},
    }  # fmt: skip
    for name in ("fuzz-train", "doomed-train"):
        platform.training.create_training_job(training_job_name=name, **training)
    processing = {
        "app_specification": {"ImageUri": "sklearn", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/process.py"],
                              "ContainerArguments": ["--rows", "1"]},
        "processing_resources": {"ClusterConfig": resources},
        "processing_inputs": [
            {"InputName": "code", "S3Input": {"S3Uri": f"s3://{JOBS_BUCKET}/code/process.py", "LocalPath": "/opt/ml/processing/input/code"}},
            {"InputName": "data", "S3Input": {"S3Uri": f"s3://{JOBS_BUCKET}/data/", "LocalPath": "/opt/ml/processing/input/data",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "processing_output_config": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": f"s3://{JOBS_BUCKET}/processed/", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]},
        "stopping_condition": {"MaxRuntimeInSeconds": 60},
    }  # fmt: skip
    for name in ("fuzz-proc", "doomed-proc"):
        platform.processing.create_processing_job(processing_job_name=name, **processing)
    tuning_config = {
        "Strategy": "Random", "RandomSeed": 1,
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
        "ParameterRanges": {
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "3", "ScalingType": "Linear"}],
            "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}],
            "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b"]}]},
        "TrainingJobEarlyStoppingType": "Off",
    }  # fmt: skip
    definition = {
        "StaticHyperParameters": static, "AlgorithmSpecification": algorithm, "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{JOBS_BUCKET}/tuning"}, "ResourceConfig": resources,
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }  # fmt: skip
    for name in ("fuzz-tune", "doomed-tune"):
        platform.tuning.create_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name=name, hyper_parameter_tuning_job_config=tuning_config,
            training_job_definition=definition)
    for name in ("fuzz-train", "doomed-train"):
        job = platform.training.wait_for_training_job(training_job_name=name, timeout=120)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    for name in ("fuzz-proc", "doomed-proc"):
        job = platform.processing.wait_for_processing_job(processing_job_name=name, timeout=120)
        assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    for name in ("fuzz-tune", "doomed-tune"):
        job = platform.tuning.wait_for_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name, timeout=120)
        assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    tags = [{"Key": "team", "Value": "fuzz"}]
    return {
        "/api/instances/DescribeInstanceType": {"instance_type": "ml.c5.xlarge"},
        "/api/instances/EstimateCost": {
            "instance_type": "ml.c5.xlarge", "instance_count": 2, "hours": 10.5, "use_spot": False, "savings_plan": "1yr"},
        "/api/instances/ListFamilies": {"category": "compute"},
        "/api/instances/ListInstanceTypes": {"family": "m5", "category": "general"},
        "/api/training/CreateTrainingJob": {
            "training_job_name": "fuzz-train-2", **training, "environment": {"FUZZ": "1"},
            "enable_managed_spot_training": False, "tags": tags, "role_arn": "arn:aws:iam::000000000000:role/fuzz",
            "checkpoint_config": {"S3Uri": f"s3://{JOBS_BUCKET}/checkpoints/", "LocalPath": "/opt/ml/checkpoints"},
            "spot_interruptions": {"Schedule": [30.0], "RestartDelaySeconds": 0.1}, "tuning_job_name": None},
        "/api/training/DescribeTrainingJob": {"training_job_name": "fuzz-train"},
        "/api/training/GetTrainingJobLogs": {"training_job_name": "fuzz-train", "start": 0},
        "/api/training/GetTrainingJobMetrics": {
            "training_job_name": "fuzz-train", "metric_name": "validation:accuracy", "host": "algo-1"},
        "/api/training/ListTrainingJobs": {
            "status_equals": "Completed", "name_contains": "fuzz", "max_results": 10, "tuning_job_name": "fuzz-tune"},
        "/api/training/StopTrainingJob": {"training_job_name": "doomed-train"},
        "/api/training/WaitForTrainingJob": {"training_job_name": "fuzz-train", "timeout": 0.1},
        "/api/processing/CreateProcessingJob": {
            "processing_job_name": "fuzz-proc-2", **processing, "environment": {"FUZZ": "1"}, "tags": tags,
            "role_arn": "arn:aws:iam::000000000000:role/fuzz"},
        "/api/processing/DescribeProcessingJob": {"processing_job_name": "fuzz-proc"},
        "/api/processing/GetProcessingJobLogs": {"processing_job_name": "fuzz-proc", "start": 0},
        "/api/processing/ListProcessingJobs": {"status_equals": "Completed", "name_contains": "fuzz", "max_results": 10},
        "/api/processing/StopProcessingJob": {"processing_job_name": "doomed-proc"},
        "/api/processing/WaitForProcessingJob": {"processing_job_name": "fuzz-proc", "timeout": 0.1},
        "/api/tuning/CreateHyperParameterTuningJob": {
            "hyper_parameter_tuning_job_name": "fuzz-tune-2", "hyper_parameter_tuning_job_config": tuning_config,
            "training_job_definition": definition, "tags": tags, "warm_start_config": {
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "fuzz-tune"}],
                "WarmStartType": "IdenticalDataAndAlgorithm"}},
        "/api/tuning/DescribeHyperParameterTuningJob": {"hyper_parameter_tuning_job_name": "fuzz-tune"},
        "/api/tuning/ListHyperParameterTuningJobs": {"status_equals": "Completed", "max_results": 10},
        "/api/tuning/ListTrainingJobsForHyperParameterTuningJob": {
            "hyper_parameter_tuning_job_name": "fuzz-tune", "sort_by": "FinalObjectiveMetricValue",
            "status_equals": "Completed"},
        "/api/tuning/StopHyperParameterTuningJob": {"hyper_parameter_tuning_job_name": "doomed-tune"},
        "/api/tuning/WaitForHyperParameterTuningJob": {"hyper_parameter_tuning_job_name": "fuzz-tune", "timeout": 0.1},
    }


class ServerErrors(logging.Handler):
    """Keeps the tracebacks the API logs for its 500s, so a failure shows its cause."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.tracebacks.append("".join(traceback.format_exception(record.exc_info[1])))

    def cause(self) -> str:
        """The last logged error: the innermost groundfog frame and the exception."""
        if not self.tracebacks:
            return "(nothing logged)"
        lines = self.tracebacks[-1].rstrip().splitlines()
        frames = [i for i, line in enumerate(lines) if "/groundfog/" in line and line.lstrip().startswith("File")]
        where = lines[frames[-1]].strip() if frames else ""
        return f"{where}\n    {lines[-1]}"


class Fuzzed:
    """The server under fuzz, the valid request per operation, and the checks."""

    def __init__(self, server: Any, seeds: dict[str, dict]) -> None:
        self.server = server
        self.errors = ServerErrors()
        # What the pipeline engine logs as an error: a fault while driving an execution
        # (which ends the execution Failed, "the engine failed"), or an event it could not
        # emit; and what the endpoint host logs (a hosting tick that failed, metrics or
        # capture it could not write) or its autoscaler raises (see scale()).
        self.engine_errors = ServerErrors()
        self.platform = server.platform
        self.url = server.url
        self.seeds = seeds
        self.schema = httpx.get(self.url + "/openapi.json").json()
        self.client = httpx.Client(base_url=self.url, timeout=60)
        self._settled: str | None = None
        self.known: set[str] = set()  # the KNOWN_SERVER_ERRORS met by the current test
        self._state_watch = sqlite3.connect(sa.engine.make_url(self.platform.config.state_url).database)

    def close(self) -> None:
        self.client.close()
        self._state_watch.close()

    def operations(self, service: str) -> list[str]:
        return sorted(p for p, item in self.schema["paths"].items()
                      if "post" in item and p.startswith(f"/api/{service}/"))

    def fingerprint(self) -> str:
        """Everything a request could change: the state store, every stored file."""
        # SQLite's data_version moves whenever another connection commits a change: the
        # whole state store in one cheap read.
        digest = hashlib.sha256(b"%d" % self._state_watch.execute("PRAGMA data_version").fetchone()[0])
        # Every file's path, size and mtime. It runs around every request, over a tree
        # each job adds a few dozen entries to: os.scandir, not Path.rglob (ten times
        # slower here).
        directories = [str(self.platform.home)]
        while directories:
            with os.scandir(directories.pop()) as listing:
                for entry in sorted(listing, key=lambda e: e.name):
                    if entry.is_dir(follow_symlinks=False):
                        # Lock files are how writers take turns on a key, not content.
                        if entry.name != ".groundfog-locks":
                            directories.append(entry.path)
                    elif entry.is_file():
                        stat = entry.stat()
                        digest.update(f"{entry.path}:{stat.st_size}:{stat.st_mtime_ns}".encode("utf-8", "backslashreplace"))
        return digest.hexdigest()

    # Jobs go on changing things after the request that started them has been answered:
    # their rows, logs, outputs, metrics and events, for about a second (or until stopped).
    # A rejected request sent meanwhile would be blamed for it. So the fuzzers never send
    # a request while a job runs: every answer from a job service (and the start of each
    # test) waits until none does. Then the platform is still (deliveries are closed, and
    # the job supervisors only heartbeat jobs that run), and the detector stays the strict
    # one: a rejected request changes nothing anywhere, job tables and job files included,
    # rather than a weaker comparison of job-table keys. It also makes the Wait* operations
    # safe to fuzz with any timeout (a day, or none at all: wait until the end): every
    # job they can name has ended, so they answer at once.
    # Pipeline executions are waited for the same way, but one whose only running steps
    # are callbacks waits for a request that may never come: once it has been still for
    # CALLBACK_QUIET it counts as settled (its driver wakes, reads and writes nothing, and
    # its heartbeat is slowed, see fuzz_target). WaitForPipelineExecution aims at an
    # execution that has ended; no hostile value names one that waits.

    def running(self) -> list[str]:
        """The jobs that have not ended and the job drivers still alive, by name."""
        rows = self._state_watch.execute(
            "SELECT kind || ' job ' || name FROM training_jobs WHERE status IN ('InProgress', 'Stopping')"
            " UNION ALL SELECT 'tuning job ' || name FROM training_tuning_jobs WHERE status IN ('InProgress', 'Stopping')"
            " UNION ALL SELECT 'process ' || kind || '/' || name FROM core_jobs"
            "  WHERE status IN ('Pending', 'InProgress', 'Stopping')"
        ).fetchall()
        drivers = [f"{service} driver {name}" for service in JOB_SERVICES
                   for name, thread in list(getattr(self.platform, service)._drivers.items()) if thread.is_alive()]
        executions, waiting = self.pipeline_executions()
        # A driver writes an execution's last event after its status: it runs until it returns.
        drivers += [f"pipelines driver {name}" for name, thread in list(self.platform.pipelines._drivers.items())
                    if thread.is_alive() and name not in waiting]
        return [row[0] for row in rows] + drivers + [f"pipeline execution {arn}" for arn in executions]

    def pipeline_executions(self) -> tuple[list[str], set[str]]:
        """The ARNs of the pipeline executions that have not ended, less those that only
        wait for a callback (and have for CALLBACK_QUIET: their drivers write nothing until
        one comes); and the ids of those."""
        executions: dict[str, list[Any]] = {}
        for name, arn, status, modified, step_type, step_status, started, ended in self._state_watch.execute(
            "SELECT e.name, e.arn, e.status, e.modified_at, s.type, s.status, s.started_at, s.ended_at"
            " FROM pipeline_executions e LEFT JOIN pipeline_execution_steps s ON s.execution = e.name"
            " WHERE e.status IN ('Executing', 'Stopping')"
        ):
            found = executions.setdefault(name, [arn, status, [], [modified]])
            if step_status in ("Starting", "Executing"):
                found[2].append(step_type if step_status == "Executing" else "Starting")
            found[3] += [t for t in (started, ended) if t is not None]
        quiet_since = time.time() - CALLBACK_QUIET
        waiting = {name for name, (_, status, active, times) in executions.items()
                   if status == "Executing" and active and set(active) == {"Callback"} and max(times) < quiet_since}
        return [arn for name, (arn, *_) in executions.items() if name not in waiting], waiting

    def settle(self) -> None:
        """Wait until no job runs; stop the ones a fuzzed request made long (a
        MaxNumberOfTrainingJobs of 2**31, an hour's spot restart delay). Then wait
        until every endpoint is steady (see settle_endpoints)."""
        deadline = time.monotonic() + JOB_PATIENCE
        stopped = False
        while running := self.running():
            if time.monotonic() > deadline:
                assert not stopped, f"jobs still run {STOP_PATIENCE:g} s after being stopped: {running}"
                self._stop_every_job()
                stopped = True
                deadline = time.monotonic() + STOP_PATIENCE
            time.sleep(0.02)
        self.settle_endpoints()

    # Endpoints move on after the request too: an accepted CreateEndpoint, UpdateEndpoint
    # or UpdateEndpointWeightsAndCapacities leaves one Creating or Updating while the
    # server's hosting loop starts its workers and shifts its traffic (RollingBack, if
    # the new fleet fails or times out). Apart from that the loop writes only when
    # something moves: its lease heartbeat and its autoscaler, which run on the clock,
    # not on requests, are slowed to once a day (see fuzz_target). So once no endpoint
    # moves (and the tick that wrote the last move has ended), the endpoints are still.
    # The autoscaler runs here instead, once after each accepted serving request
    # (scale()), so a fault in it is that request's and what it moves is waited for. The
    # invocation metrics and the data capture, written off the request path within a
    # second, are flushed.

    def moving_endpoints(self) -> list[str]:
        """The endpoints on their way somewhere (Creating, Updating, RollingBack, ...)."""
        from groundfog.serving.base import MOVING

        marks = ", ".join("?" * len(MOVING))
        return [name for (name,) in self._state_watch.execute(
            f"SELECT name FROM serving_endpoints WHERE status IN ({marks}) ORDER BY name", MOVING)]

    def settle_endpoints(self) -> None:
        """Wait until no endpoint moves; one still moving after SERVING_PATIENCE (a fuzzed
        hour-long bake) is deleted, and created again if it is a seed's. Fuzzed endpoints
        past MAX_FUZZED_ENDPOINTS are deleted; the metrics and capture are written out."""
        serving = self.platform.serving
        deadline = time.monotonic() + SERVING_PATIENCE
        while moving := self.moving_endpoints():
            if time.monotonic() > deadline:
                self._replace_endpoints(moving)
                break
            time.sleep(0.02)
        # The hosting tick that wrote an endpoint steady goes on to announce it (its events,
        # in the outbox, are written after its status): wait for that tick to end.
        with serving.host._lock:
            pass
        fuzzed = [name for (name,) in self._state_watch.execute("SELECT name FROM serving_endpoints")
                  if name not in SERVING_ENDPOINTS and name != "doomed-endpoint"]
        if len(fuzzed) > MAX_FUZZED_ENDPOINTS:
            for name in fuzzed:
                serving.delete_endpoint(endpoint_name=name)
        serving.capture_writer.flush()
        serving.metrics_sink.flush()

    def _replace_endpoints(self, names: list[str]) -> None:
        serving = self.platform.serving
        for name in names:
            serving.delete_endpoint(endpoint_name=name)
            if name in SERVING_ENDPOINTS:
                serving.create_endpoint(endpoint_name=name, endpoint_config_name=SERVING_ENDPOINTS[name])
        for name in names:
            if name in SERVING_ENDPOINTS:
                described = serving.wait_for_endpoint(endpoint_name=name, timeout=STOP_PATIENCE)
                assert described["EndpointStatus"] == "InService", f"seeded endpoint {name} came back {described}"

    def scale(self) -> None:
        """One pass of the autoscaler over the endpoints this process hosts, as the hosting
        loop runs it; then wait for what it moved. A fault in it is an engine error."""
        serving = self.platform.serving
        owned = {name for (name,) in self._state_watch.execute(
            "SELECT name FROM serving_endpoints WHERE owner = ?", (serving.owner,))}
        try:
            serving.scale(owned)
        except Exception as exc:  # noqa: BLE001 - reported as the request's problem by send()
            self.engine_errors.tracebacks.append("".join(traceback.format_exception(exc)))
        self.settle_endpoints()

    def _stop_every_job(self) -> None:
        p = self.platform
        for arn in self.pipeline_executions()[0]:
            p.pipelines.stop_pipeline_execution(pipeline_execution_arn=arn)
        for (name,) in self._state_watch.execute("SELECT name FROM training_tuning_jobs WHERE status = 'InProgress'"):
            p.tuning.stop_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name=name)
        for kind, name in self._state_watch.execute("SELECT kind, name FROM training_jobs WHERE status = 'InProgress'"):
            if kind == "training":
                p.training.stop_training_job(training_job_name=name)
            else:
                p.processing.stop_processing_job(processing_job_name=name)

    def stop_pipeline_executions(self) -> None:
        """Stop every execution still running, those waiting on a callback too, and wait
        until they are: closing a platform hands its running executions to a job keeper,
        a detached process that would wait for their callbacks for ever."""
        arns = [arn for (arn,) in self._state_watch.execute(
            "SELECT arn FROM pipeline_executions WHERE status = 'Executing'").fetchall()]
        for arn in arns:
            self.platform.pipelines.stop_pipeline_execution(pipeline_execution_arn=arn)
        deadline = time.monotonic() + STOP_PATIENCE
        while still := self._state_watch.execute(
                "SELECT arn FROM pipeline_executions WHERE status IN ('Executing', 'Stopping')").fetchall():
            assert time.monotonic() < deadline, f"executions still run {STOP_PATIENCE:g} s after being stopped: {still}"
            time.sleep(0.02)

    def before(self) -> str:
        """The fingerprint now; the one taken after the last rejection if nothing was
        accepted since (most requests are rejected: this halves the cost)."""
        if self._settled is None:
            self._settled = self.fingerprint()
        return self._settled

    def changed(self, status: int, before: str) -> bool:
        """Whether the request answered ``status`` changed anything since ``before``."""
        now = self.fingerprint()
        self._settled = now if 400 <= status < 500 else None
        return now != before

    def forget(self) -> None:
        """Drop the remembered fingerprint: another test may have changed things since."""
        self._settled = None

    def xfail_if_known_errors_met(self) -> None:
        """End the test xfailed if it met a known finding (and nothing else broke)."""
        if self.known:
            pytest.xfail("known server errors, reported and not fixed yet: " + "; ".join(sorted(self.known)))

    def post(self, path: str, body: bytes) -> httpx.Response:
        headers = {"content-type": "application/json", "connection": "close"}
        return self.client.post(path, content=body, headers=headers)

    def send(self, path: str, body: Any) -> None:
        """POST ``body`` (JSON, NaN and all; or raw bytes) and hold the answer to the standard."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        before = self.before()
        engine_errors = len(self.engine_errors.tracebacks)
        response = self.post(path, raw)
        service = path.split("/")[2]
        if service in SETTLED_SERVICES:
            self.settle()  # before the fingerprint: what a job it started writes is not the request's
        if service == "serving" and response.status_code < 400:
            self.scale()
        problem = answer_problem(response, fields=_is_object(raw))
        if not problem and len(self.engine_errors.tracebacks) > engine_errors:
            problem = ("the pipeline engine or the endpoint host logged an error after it, from\n    "
                       f"{self.engine_errors.cause()}")
        if response.status_code >= 500 and (known := known_server_error(path, raw)):
            self.known.add(known)
            self._settled = None
            return
        if response.status_code >= 500:
            problem = f"{problem}, from\n    {self.errors.cause()}"
        if self.changed(response.status_code, before) and 400 <= response.status_code < 500 and not problem:
            problem = "a rejected request changed the state or the object store"
        if problem:
            shown = raw if len(raw) <= 2000 else raw[:2000] + b"...(%d bytes)" % len(raw)
            raise AssertionError(
                f"POST {path} -> {response.status_code}: {problem}\n  request: {shown!r}\n"
                f"  response: {response.text[:600]}"
            )


NO_FIELD = "a ValidationException that names no field"


def answer_problem(response: httpx.Response | http.client.HTTPResponse, body: bytes | None = None,
                   *, method: str = "POST", fields: bool = True) -> str | None:
    """What is wrong with an answer, or None when it meets the standard. ``fields``: the
    request had fields (a JSON object, a path), so a validation error must name one."""
    status = response.status_code if isinstance(response, httpx.Response) else response.status
    if status >= 500:
        return "a server error"
    if status < 400 or method == "HEAD":
        return None
    content = response.content if isinstance(response, httpx.Response) else body or b""
    try:
        error = json.loads(content)
    except ValueError:
        return "a 4xx whose body is not JSON"
    if not isinstance(error, dict) or not isinstance(error.get("__type"), str) \
            or not isinstance(error.get("message"), str) or not error["message"]:
        return "a 4xx without __type and message"
    if fields and error["__type"] == "ValidationException" and not error.get("field"):
        return NO_FIELD
    return None


def _is_object(raw: bytes) -> bool:
    """A JSON object whose keys can all be named (a key that is not Unicode cannot be)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    try:
        return isinstance(body, dict) and all(key.encode() for key in body)
    except UnicodeEncodeError:
        return False


def run_each(fuzzed: Fuzzed, operations: list[str], fuzz_one: Callable[[str], None]) -> None:
    """Fuzz every operation, then report every one that failed (not only the first)."""
    failures = []
    for path in operations:
        try:
            fuzz_one(path)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            # Hypothesis wraps a failure it cannot reproduce (the state moved on) in a
            # group: report what failed, not the wrapper.
            causes = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
            failures.append(f"{path}:\n" + "\n".join(str(c) for c in causes))
    assert not failures, f"{len(failures)} operation(s) broke the standard:\n\n" + "\n\n".join(failures)
    fuzzed.xfail_if_known_errors_met()


@pytest.fixture(scope="module")
def fuzz_target(module_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    # CreateFunction puts a code_path on sys.path: keep the fuzzed ones out of the
    # rest of the session.
    saved_path = list(sys.path)
    # Nothing fuzzed is ever delivered: a fuzzed file subscription could append to any
    # path on the machine. Published events and messages stay in the outbox.
    module_server.platform.events.dispatcher.close()
    # An execution waiting on a callback is heartbeated by its owner every 2 s: the
    # platform saying it is alive, not anything a request did, and it would move the
    # state store under every rejected request. Here, once a day (a platform that owns
    # it is this one, which nothing else could claim it from anyway).
    module_server.platform.pipelines.heartbeat_seconds = 86400.0
    # The same for the endpoints the server's process hosts (their lease is this
    # process's, which nothing else could take it from), and for its autoscaler, which
    # send() runs after each accepted serving request instead; its window takes in the
    # seeded invocations, however long ago the seeding was.
    from groundfog.serving import hosting

    saved_heartbeat = hosting.HEARTBEAT_SECONDS
    hosting.HEARTBEAT_SECONDS = 86400.0
    serving = module_server.platform.serving
    serving.scaling_interval_seconds = 86400.0
    serving.scaling_window_seconds = 86400
    seeds = _seed(module_server.platform, tmp_path_factory.mktemp("sinks"))
    fuzzed = Fuzzed(module_server, seeds)
    api_log = logging.getLogger("groundfog.api")
    api_log.addHandler(fuzzed.errors)
    engine_logs = [logging.getLogger("groundfog.pipelines"), logging.getLogger("groundfog.serving")]
    for engine_log in engine_logs:
        engine_log.addHandler(fuzzed.engine_errors)
    yield fuzzed
    fuzzed.stop_pipeline_executions()
    for engine_log in engine_logs:
        engine_log.removeHandler(fuzzed.engine_errors)
    api_log.removeHandler(fuzzed.errors)
    fuzzed.close()
    hosting.HEARTBEAT_SECONDS = saved_heartbeat
    sys.path[:] = saved_path


@pytest.fixture
def fuzzed(fuzz_target: Fuzzed) -> Fuzzed:
    # Tests share the server; the fingerprint remembered after one test's last
    # rejection says nothing about what the next test starts from.
    fuzz_target.settle()
    fuzz_target.forget()
    fuzz_target.known.clear()
    return fuzz_target


# ---- the operations ------------------------------------------------------------------


def test_every_operation_has_a_seed_request(fuzzed: Fuzzed) -> None:
    # Without a valid request to mutate, an operation is fuzzed only at its request
    # model: add one to _seed() for every new operation.
    operations = {p for s in SERVICES for p in fuzzed.operations(s)}
    assert operations - set(fuzzed.seeds) == set()
    assert set(fuzzed.seeds) - operations == set()


def test_the_change_detector_sees_an_accepted_request_and_not_a_rejected_one(fuzzed: Fuzzed) -> None:
    before = fuzzed.before()
    rejected = fuzzed.post("/api/topics/CreateTopic", b'{"name": "no spaces allowed"}')
    assert rejected.status_code == 400 and not fuzzed.changed(rejected.status_code, before)
    before = fuzzed.before()
    accepted = fuzzed.post("/api/topics/CreateTopic", b'{"name": "detector-check"}')
    assert accepted.status_code == 200 and fuzzed.changed(accepted.status_code, before)


def test_the_change_detector_waits_for_jobs_and_stops_the_long_ones(fuzzed: Fuzzed,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # An accepted CreateHyperParameterTuningJob starts a job that goes on writing; this
    # one would run 500 trials. send() waits (stopping it after JOB_PATIENCE), so the
    # rejected request that follows is not blamed for what the job wrote.
    monkeypatch.setattr(sys.modules[__name__], "JOB_PATIENCE", 0.5)
    body = copy.deepcopy(fuzzed.seeds["/api/tuning/CreateHyperParameterTuningJob"])
    body["hyper_parameter_tuning_job_name"] = "detector-long"
    body["hyper_parameter_tuning_job_config"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] = 500
    fuzzed.send("/api/tuning/CreateHyperParameterTuningJob", body)
    assert fuzzed.running() == []
    job = fuzzed.platform.tuning.describe_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name="detector-long")
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    before = fuzzed.before()
    again = fuzzed.post("/api/tuning/CreateHyperParameterTuningJob", json.dumps(body).encode())
    assert again.status_code == 409 and not fuzzed.changed(again.status_code, before)


def test_the_change_detector_waits_for_serving_endpoints_and_replaces_the_long_ones(
        fuzzed: Fuzzed, monkeypatch: pytest.MonkeyPatch) -> None:
    # An accepted UpdateEndpoint leaves the endpoint Updating while its new fleet starts
    # and bakes; this one would bake for an hour. send() waits (replacing the endpoint
    # after SERVING_PATIENCE), so the rejected request that follows is not blamed for
    # what the deployment wrote.
    monkeypatch.setattr(sys.modules[__name__], "SERVING_PATIENCE", 0.5)
    body = copy.deepcopy(fuzzed.seeds["/api/serving/UpdateEndpoint"])
    policy = body["deployment_config"]["BlueGreenUpdatePolicy"]
    policy["TrafficRoutingConfiguration"]["WaitIntervalInSeconds"] = 3600
    policy["MaximumExecutionTimeoutInSeconds"] = 7200
    fuzzed.send("/api/serving/UpdateEndpoint", body)
    assert fuzzed.moving_endpoints() == []
    described = fuzzed.platform.serving.describe_endpoint(endpoint_name="fuzz-sv-updated")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == SERVING_ENDPOINTS["fuzz-sv-updated"]
    before = fuzzed.before()
    body["endpoint_config_name"] = "no-such-config"
    again = fuzzed.post("/api/serving/UpdateEndpoint", json.dumps(body).encode())
    assert again.status_code == 404 and not fuzzed.changed(again.status_code, before)


@pytest.mark.parametrize("service", SERVICES)
def test_mutated_requests_get_a_typed_answer_and_rejections_change_nothing(fuzzed: Fuzzed, service: str) -> None:
    def fuzz_one(path: str) -> None:
        @fuzz_settings(EXAMPLES * 2)
        @given(mutated(fuzzed.seeds[path]))
        def fuzz(body: Any) -> None:
            fuzzed.send(path, body)

        fuzz()

    run_each(fuzzed, fuzzed.operations(service), fuzz_one)


@pytest.mark.parametrize("service", SERVICES)
def test_schema_generated_requests_get_a_typed_answer(fuzzed: Fuzzed, service: str) -> None:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.core import NOT_SET

    schema = schemathesis.openapi.from_url(fuzzed.url + "/openapi.json")

    def fuzz_one(path: str) -> None:
        operation = schema[path]["POST"]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @fuzz_settings()
            @given(operation.as_strategy(generation_mode=mode))
            def fuzz(case: Any) -> None:
                # schemathesis builds the request; sending it ourselves keeps one client
                # and one set of checks for every generator.
                body = None if case.body is NOT_SET else case.body
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                fuzzed.send(path, raw)

            fuzz()

    run_each(fuzzed, fuzzed.operations(service), fuzz_one)


def test_arbitrary_bodies_get_a_typed_answer(fuzzed: Fuzzed) -> None:
    operations = [p for s in SERVICES for p in fuzzed.operations(s)]
    bodies = st.one_of(
        any_json.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.sampled_from([b"", b"{", b"nul", b"\x00", b'{"a": 1', b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
                         b'{"a": ' * 3000 + b"1" + b"}" * 3000, b'"' + b"\xed\xa0\x80" + b'"',
                         b'{"bucket": "\xff"}', b"1" * 5000, b"-" + b"9" * 5000, b"1e99999"]),
    )

    @fuzz_settings(EXAMPLES * 25)
    @given(st.sampled_from(operations), bodies)
    def fuzz(path: str, body: bytes) -> None:
        fuzzed.send(path, body)

    fuzz()
    fuzzed.xfail_if_known_errors_met()


# ---- the object routes -----------------------------------------------------------------

PATH_TRICKS = [
    "..", ".", "%2e%2e", "%2E%2E%2F", "%2F", "%00", "a%00b", "%ff", "%c0%af", "%ED%A0%80", "%", "%zz", "%2",
    "", "a//b", "~", "%7E", "a%20b", "+", "%2B", "%3F", "%23", ";x", "con", "nul", "data", "data/a.csv",
    "x" * 1100, "%F0%9F%A6%8A", "%E2%80%AE", "%0A", "%0D%0A", "%09", "%5C", "%5C..%5C", "....//",
]
# What HTTP lets a header value hold: visible ASCII, space, and Latin-1 (obs-text).
header_characters = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
segments = st.one_of(
    st.sampled_from(PATH_TRICKS),
    st.text(max_size=20).map(lambda s: quote(s, safe="")),
    st.text(st.characters(codec="utf-8"), max_size=20).map(lambda s: quote(s, safe="/")),
)
object_keys = st.lists(segments, min_size=1, max_size=4).map("/".join)
buckets = st.one_of(st.just(BUCKET), st.just(BUCKET), segments, st.sampled_from(["fuzz-none", "Fuzz", "ab"]))
ranges = st.one_of(
    st.none(),
    st.sampled_from(["bytes=0-1", "bytes=0-", "bytes=-1", "bytes=-0", "bytes=5-1", "bytes=0-0", "bytes=7-7",
                     "bytes=8-", "bytes=99999999999999999999-", "bytes=-99999999999999999999", "bytes=0-1,3-4",
                     "bytes=", "bytes=abc", "bytes=1-2-3", "items=0-1", "bytes =0-1", "bytes=\u00e9-1", ""]),
    st.builds(lambda a, b: f"bytes={a}-{b}", st.integers(-5, 20) | st.just(""), st.integers(-5, 20) | st.just("")),
    st.text(header_characters, max_size=20),
)
header_values = st.text(header_characters, max_size=40)


def raw_request(url: str, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[Any, bytes]:
    """One request over a raw socket: the path goes out exactly as given."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
            f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response, response.read()


def test_object_routes_answer_hostile_paths_and_ranges(fuzzed: Fuzzed) -> None:
    @fuzz_settings(EXAMPLES * 20)
    @given(
        method=st.sampled_from(["PUT", "GET", "HEAD", "DELETE"]),
        bucket=buckets,
        key=object_keys,
        range_=ranges,
        body=st.one_of(st.just(b""), st.binary(max_size=64)),
        content_type=st.none() | header_values,
        meta=st.dictionaries(st.sampled_from(["owner", "a", "x" * 200, "Upper-Case", "dup"]), header_values,
                             max_size=2),
    )
    def fuzz(method: str, bucket: str, key: str, range_: str | None, body: bytes, content_type: str | None,
             meta: dict[str, str]) -> None:
        path = f"/api/storage/objects/{bucket}/{key}"
        headers = {f"x-amz-meta-{name}": value for name, value in meta.items()}
        if range_ is not None:
            headers["Range"] = range_
        if content_type is not None:
            headers["Content-Type"] = content_type
        before = fuzzed.before()
        response, content = raw_request(fuzzed.url, method, path, headers, body if method == "PUT" else b"")
        problem = answer_problem(response, content, method=method)
        if response.status >= 500:
            problem = f"{problem}, from\n    {fuzzed.errors.cause()}"
        if fuzzed.changed(response.status, before) and 400 <= response.status < 500 and not problem:
            problem = "a rejected request changed the state or the object store"
        if problem is None and method == "PUT" and response.status == 200:
            back, got = raw_request(fuzzed.url, "GET", path, {}, b"")
            if back.status != 200 or got != body:
                problem = f"what was put is not what is got back (GET -> {back.status}, {got[:80]!r})"
        assert problem is None, (
            f"{method} {path} -> {response.status}: {problem}\n  headers: {headers!r}\n"
            f"  response: {content[:600]!r}"
        )

    fuzz()


# ---- the runtime route -------------------------------------------------------------------


def _npy(rows: list[list[float]]) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.array(rows))
    return buffer.getvalue()


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn about as often as its weight says (st.one_of
    flattens nested one_ofs into branches of equal chance)."""
    return st.sampled_from([i for i, (weight, _) in enumerate(choices) for _ in range(weight)]).flatmap(
        lambda i: choices[i][1])


MEDIA_TYPES = [
    "text/csv", "application/json", "application/jsonlines", "application/x-npy", "text/csv; charset=utf-8",
    "TEXT/CSV", "application/json; charset=latin-1", "text/csv;", ";", "*/*", "text/*", "application/*", "",
    " ", "text/plain", "image/jpeg", "application/x-recordio-protobuf", "multipart/form-data; boundary=x",
    "application/json, text/csv", "text/csv; q=0.5, application/json", "application/json;q=0", "x" * 1000,
    "text/csv\u00e9", "\u00ff/\u00ff",
]
runtime_bodies = st.one_of(
    st.sampled_from([
        IRIS_ROW, IRIS_ROW + b"\n6.2,2.9,4.3,1.3\n", b"[[5.1, 3.5, 1.4, 0.2]]", b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
        b'{"instances": [{"features": [5.1, 3.5, 1.4, 0.2]}]}', b'{"inputs": [[1, 2, 3, 4]]}', b"[5.1, 3.5, 1.4, 0.2]",
        b'[1, 2, 3, 4]\n[5, 6, 7, 8]\n', b"", b"\n", b",,,", b"1,2,3", b"1,2,3,4,5", b"a,b,c,d", b"nan,nan,nan,nan",
        b"inf,-inf,0,0", b"1e999,0,0,0", b"1,2,3,4\n1,2", b"[[]]", b"[]", b"{}", b"null", b"[[1, 2, 3, 4], [1]]",
        b'[["a", "b", "c", "d"]]', b"[[1e999, 0, 0, 0]]", b"[" * 5000 + b"]" * 5000, b'{"a": ' * 3000 + b"1" + b"}" * 3000,
        b"\xff\xfe", b"\x00", b"\x93NUMPY", b"\x93NUMPY\x01\x00\xff\xff", _npy([[5.1, 3.5, 1.4, 0.2]]), _npy([]),
        _npy([[1.0, 2.0]]), _npy([[float("nan")] * 4]), b"1," * 3 + b"1" + b"\n" + b"1,1,1,1\n" * 2000,
        b"0," * 40_000 + b"0",
    ]),
    st.binary(max_size=200),
    any_json.map(lambda v: json.dumps(v).encode()),
    st.lists(st.lists(st.floats() | st.integers(-10, 10), min_size=1, max_size=6), min_size=1, max_size=3).map(
        lambda rows: "\n".join(",".join(str(v) for v in row) for row in rows).encode()),
)

# Mostly the seeded endpoint, so that most requests reach its model.
endpoint_names = weighted(
    (7, st.just(RUNTIME_ENDPOINT)),
    (1, st.sampled_from(["fuzz-sv-scaled", "doomed-endpoint", "no-such-endpoint", "FUZZ-SV-ENDPOINT", "fuzz-sv-endpoint-",
                         "a" * 64, RUNTIME_ENDPOINT + "%00", RUNTIME_ENDPOINT + "%20", RUNTIME_ENDPOINT + "/",
                         RUNTIME_ENDPOINT + "/invocations", "%2e%2e", "x%ED%A0%80"])),
    (2, segments),
)
# A body and its content type: one the model takes, or anything.
WELL_FORMED = [(IRIS_ROW, "text/csv"), (IRIS_ROW + b"\n6.2,2.9,4.3,1.3\n", "text/csv; charset=utf-8"),
               (b"[[5.1, 3.5, 1.4, 0.2]]", "application/json"), (b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}', "application/json"),
               (b"[5.1, 3.5, 1.4, 0.2]\n", "application/jsonlines"), (_npy([[5.1, 3.5, 1.4, 0.2]]), "application/x-npy")]
invocations = weighted(
    (2, st.sampled_from(WELL_FORMED)),
    (1, st.tuples(runtime_bodies, st.sampled_from(MEDIA_TYPES))),
    (1, st.tuples(runtime_bodies, st.none() | header_values)),
)
accepts = weighted((2, st.none()), (1, st.sampled_from(MEDIA_TYPES)), (1, header_values))
target_variants = weighted((3, st.none()), (1, st.sampled_from(
    ["AllTraffic", "Canary", "allTraffic", "A", "Shadow", "", "AllTraffic, Canary"])), (1, header_values))
custom_attributes = weighted((2, st.none()), (1, st.sampled_from(["a=1", "trace=1;mode=x", "\u00e9" * 200, "x" * 1900])),
                             (1, header_values))
inference_ids = weighted((2, st.none()), (1, st.sampled_from(["id-1", "", "x" * 64, "x" * 1025])), (1, header_values))


def runtime_problem(response: Any, content: bytes, method: str) -> str | None:
    """What is wrong with an invocation's answer: it is the model's (200), a typed 4xx, a
    ModelError (424, with OriginalStatusCode and OriginalMessage) or a 503, else a problem."""
    status = response.status
    if status == 200 and method == "POST":
        if not response.getheader("x-amzn-invoked-production-variant"):
            return "a 200 that names no x-Amzn-Invoked-Production-Variant"
        return None
    try:
        error = json.loads(content)
    except ValueError:
        return f"a {status} whose body is not JSON"
    if not isinstance(error, dict) or not isinstance(error.get("__type"), str) \
            or not isinstance(error.get("message"), str) or not error["message"]:
        return f"a {status} without __type and message"
    if status == 424:
        if error["__type"] != "ModelError" or not isinstance(error.get("OriginalStatusCode"), int) \
                or not isinstance(error.get("OriginalMessage"), str):
            return "a 424 that is not a ModelError with OriginalStatusCode and OriginalMessage"
        return None
    if status == 503:
        return None if error["__type"] == "ServiceUnavailable" else "a 503 that is not ServiceUnavailable"
    if not 400 <= status < 500:
        return "a server error" if status >= 500 else f"an unexpected status {status}"
    if error["__type"] == "ValidationException" and not error.get("field"):
        return NO_FIELD
    return None


def test_the_serving_runtime_route_answers_hostile_invocations(fuzzed: Fuzzed) -> None:
    host = fuzzed.platform.serving.host

    @fuzz_settings(EXAMPLES * 15)
    @given(
        method=st.sampled_from(["POST"] * 18 + ["GET", "PUT"]),
        name=endpoint_names,
        invocation=invocations,
        accept=accepts,
        target=target_variants,
        attributes=custom_attributes,
        inference_id=inference_ids,
    )
    def fuzz(method: str, name: str, invocation: tuple[bytes, str | None], accept: str | None, target: str | None,
             attributes: str | None, inference_id: str | None) -> None:
        body, content_type = invocation
        headers = {"Content-Type": content_type, "Accept": accept, "X-Amzn-SageMaker-Target-Variant": target,
                   "X-Amzn-SageMaker-Custom-Attributes": attributes, "X-Amzn-SageMaker-Inference-Id": inference_id}
        headers = {k: v for k, v in headers.items() if v is not None}
        path = f"/endpoints/{name}/invocations"
        workers = [w for key, w in list(host.workers.items()) if key[0] == RUNTIME_ENDPOINT]
        engine_errors = len(fuzzed.engine_errors.tracebacks)
        try:
            response, content = raw_request(fuzzed.url, method, path, headers, body)
        except TimeoutError:
            response, content, problem = None, b"", "no answer within 30 s"
        else:
            problem = runtime_problem(response, content, method)
            if response.status >= 500 and response.status != 503:
                problem = f"{problem}, from\n    {fuzzed.errors.cause()}"
        if not problem and (dead := [w.name for w in workers if w.process.poll() is not None]):
            problem = f"the worker(s) {dead} of {RUNTIME_ENDPOINT} exited after it"
        if not problem and len(fuzzed.engine_errors.tracebacks) > engine_errors:
            problem = f"the endpoint host logged an error after it, from\n    {fuzzed.engine_errors.cause()}"
        shown = body if len(body) <= 300 else body[:300] + b"...(%d bytes)" % len(body)
        assert problem is None, (
            f"{method} {path} -> {response.status if response else '-'}: {problem}\n  headers: {headers!r}\n"
            f"  body: {shown!r}\n  response: {content[:600]!r}"
        )

    fuzz()
    described = fuzzed.platform.serving.describe_endpoint(endpoint_name=RUNTIME_ENDPOINT)
    assert described["EndpointStatus"] == "InService", described


def test_the_serving_runtime_route_refuses_a_body_over_the_limit(fuzzed: Fuzzed) -> None:
    # One byte over: the whole body is sent before the route stops reading, so the client
    # reads the answer (far over, the server answers and closes while it still sends).
    limit = fuzzed.platform.config.max_invocation_bytes
    body = (IRIS_ROW + b"\n") * (limit // (len(IRIS_ROW) + 1) + 1)
    response, content = raw_request(fuzzed.url, "POST", f"/endpoints/{RUNTIME_ENDPOINT}/invocations",
                                    {"Content-Type": "text/csv"}, body[:limit + 1])
    assert response.status == 413 and json.loads(content)["field"] == "Body", content


# ---- regressions found by the fuzzers ----------------------------------------------------


def test_notification_configuration_with_a_list_as_event_is_a_validation_error(fuzzed: Fuzzed) -> None:
    r = fuzzed.client.post("/api/storage/PutBucketNotificationConfiguration", json={
        "bucket": BUCKET, "configuration": {"TopicConfigurations": [
            {"TopicArn": "arn:groundfog:events:local:000000000000:topic/fuzz-topic", "Events": [["s3:*"]]}]}})
    assert r.status_code == 400 and r.json()["field"] == "Events"


# ---- storage gaps left for the storage restructuring -------------------------------------


def test_an_unknown_notification_member_named_empty_is_named(fuzzed: Fuzzed) -> None:
    r = fuzzed.post("/api/storage/PutBucketNotificationConfiguration",
                    json.dumps({"bucket": BUCKET, "configuration": {"": {}}}).encode())
    assert r.status_code == 400 and r.json().get("field")
