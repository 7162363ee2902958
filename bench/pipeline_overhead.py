"""Pipelines: what the engine costs per step, and how fast an upload starts an execution.

1. Scheduling overhead: a 50-step chain of no-op function steps (each depends on the
   one before), against the same function called 50 times in a loop. Goal: under 30 ms
   of engine time per step.
2. Trigger latency: ``put_object`` into a bucket whose EventBridge rule targets a
   pipeline, to the execution existing as ``Executing`` (its creation time, stamped by
   the engine, minus the moment before ``put_object``), over 200 uploads. Goal: p99
   under 100 ms.

SQLite state, local objects, embedded platform, as ``make run`` uses.
"""

from __future__ import annotations

import statistics
import tempfile
import time

from rich.console import Console
from rich.table import Table

from bench import handlers

STEPS = 50
RUNS = 5
UPLOADS = 200


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _chain(fn_arn: str, n: int) -> dict:
    steps = [{"Name": f"S{i:02d}", "Type": "Lambda", "FunctionArn": fn_arn, "Arguments": {"i": i},
              **({"DependsOn": [f"S{i - 1:02d}"]} if i else {})} for i in range(n)]  # fmt: skip
    return {"Version": "2020-12-01", "Parameters": [], "Steps": steps}


def scheduling(p) -> tuple[list[float], list[float]]:
    fn = p.events.create_function(name="noop", handler="bench.handlers:noop")
    p.pipelines.upsert_pipeline(pipeline_name="chain", pipeline_definition=_chain(fn.function_arn, STEPS))
    per_step: list[float] = []
    for run in range(RUNS + 1):
        start = time.perf_counter()
        arn = p.pipelines.start_pipeline_execution(pipeline_name="chain")["PipelineExecutionArn"]
        described = p.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=120)
        elapsed = time.perf_counter() - start
        assert described["PipelineExecutionStatus"] == "Succeeded", described
        if run:  # the first run warms imports and caches
            per_step.append(elapsed * 1000 / STEPS)
    direct: list[float] = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for i in range(STEPS):
            handlers.noop({"i": i}, None)
        direct.append((time.perf_counter() - start) * 1000 / STEPS)
    return per_step, direct


def trigger_latency(p) -> list[float]:
    fn = p.events.create_function(name="noop-trigger", handler="bench.handlers:noop")
    definition = {"Version": "2020-12-01", "Parameters": [{"Name": "InputDataUrl", "Type": "String"}],
                  "Steps": [{"Name": "Go", "Type": "Lambda", "FunctionArn": fn.function_arn,
                             "Arguments": {"url": {"Get": "Parameters.InputDataUrl"}}}]}  # fmt: skip
    arn = p.pipelines.upsert_pipeline(pipeline_name="on-upload", pipeline_definition=definition)["PipelineArn"]
    p.storage.create_bucket("bench")
    p.storage.put_bucket_notification_configuration("bench", {"EventBridgeConfiguration": {}})
    p.events.put_rule(name="upload", event_pattern={"source": ["aws.s3"], "detail-type": ["Object Created"],
                                                    "detail": {"bucket": {"name": ["bench"]}}})  # fmt: skip
    p.events.put_targets(rule="upload", targets=[{
        "Id": "pipeline", "Arn": arn,
        "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "InputDataUrl", "Value": "$.detail.object.key"}]},
    }])  # fmt: skip
    latencies: list[float] = []
    last = None
    for i in range(UPLOADS + 20):
        before = time.time()
        p.storage.put_object(bucket="bench", key=f"in/{i:04d}.csv", body=b"a,b\n1,2\n")
        deadline = time.monotonic() + 10
        newest = None
        while time.monotonic() < deadline:  # the new execution, once it has ended
            listed = p.pipelines.list_pipeline_executions(pipeline_name="on-upload", max_results=1)
            newest = (listed["PipelineExecutionSummaries"] or [None])[0]
            if newest and newest["PipelineExecutionArn"] != last and newest["PipelineExecutionStatus"] != "Executing":
                break
            time.sleep(0.002)
        last = newest["PipelineExecutionArn"] if newest else last
        if i >= 20 and newest:
            latencies.append((newest["StartTime"].timestamp() - before) * 1000)
    return latencies


def main() -> None:
    from groundfog import Platform

    with tempfile.TemporaryDirectory(prefix="gf-bench-pipelines-") as home, Platform(home=home) as p:
        per_step, direct = scheduling(p)
        latencies = trigger_latency(p)

    table = Table(title=f"pipeline scheduling: a {STEPS}-step chain of no-op function steps (ms per step)")
    for col in ("path", "median", "min", "max", "goal"):
        table.add_column(col)
    table.add_row("groundfog pipeline", f"{statistics.median(per_step):.2f}", f"{min(per_step):.2f}",
                  f"{max(per_step):.2f}", "< 30 per step")
    table.add_row("same function in a loop (floor)", f"{statistics.median(direct):.4f}", f"{min(direct):.4f}",
                  f"{max(direct):.4f}", "")
    Console().print(table)

    table = Table(title=f"put_object → rule → pipeline execution Executing, {len(latencies)} uploads (ms)")
    for col in ("path", "p50", "p90", "p99", "max", "goal"):
        table.add_column(col)
    table.add_row("groundfog upload-to-execution", f"{statistics.median(latencies):.2f}",
                  f"{_percentile(latencies, .9):.2f}", f"{_percentile(latencies, .99):.2f}",
                  f"{max(latencies):.2f}", "p99 < 100")
    Console().print(table)
