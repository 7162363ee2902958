"""Seed note: "Real-time: low-latency, high cost."

Low latency: a deployed model answers one request at a time in about a millisecond,
measured here against the same model called in-process (the floor). High cost: a
real-time endpoint is billed for every hour its instances run, traffic or not; the lab
prices an always-on endpoint for a month from the instance catalog and sets it against
the instance time the same predictions need when run in a batch.
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

from groundfog.labs.endpoints import csv_row, dataset, put_model, trained_tarball, variant
from groundfog.training.catalog import instance_type

if TYPE_CHECKING:
    from groundfog.labs import LabResult
    from groundfog.platform import Platform

ENDPOINT = "real-time"
REQUESTS = 500
HOURS_PER_MONTH = 730
DAILY_PREDICTIONS = 100_000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(p: "Platform", result: "LabResult") -> None:
    import io
    import tarfile

    import joblib
    import numpy as np

    tarball = trained_tarball()
    put_model(p, "real-time-model", tarball)
    p.serving.create_endpoint_config(endpoint_config_name=ENDPOINT,
                                     production_variants=[variant("AllTraffic", "real-time-model")])  # fmt: skip
    p.serving.create_endpoint(endpoint_name=ENDPOINT, endpoint_config_name=ENDPOINT)
    p.serving.wait_for_endpoint(endpoint_name=ENDPOINT, timeout=60)
    row = csv_row(5)
    for _ in range(50):
        p.serving.invoke_endpoint(ENDPOINT, row, content_type="text/csv")
    latencies = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        p.serving.invoke_endpoint(ENDPOINT, row, content_type="text/csv")
        latencies.append((time.perf_counter() - started) * 1000)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        model = joblib.load(tar.extractfile("model.joblib"))  # type: ignore[arg-type]
    X, _ = dataset()
    features = np.asarray(X[5:6])
    floor = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        model.predict(features)
        floor.append((time.perf_counter() - started) * 1000)
    p50, p99 = statistics.median(latencies), _p(latencies, 0.99)
    result.check("real-time is low latency: one request answered in a few milliseconds at p50",
                 p50 < 5.0,
                 f"p50 {p50:.2f} ms, p99 {p99:.2f} ms over {REQUESTS} requests; the model alone takes "
                 f"{statistics.median(floor):.3f} ms in-process")  # fmt: skip

    price = instance_type("ml.m5.large").on_demand_per_hour
    monthly = price * HOURS_PER_MONTH
    throughput = 1000.0 / p50  # predictions per second one instance sustains, one at a time
    batch_hours = DAILY_PREDICTIONS * 30 / throughput / 3600
    batch_cost = batch_hours * price
    result.check("real-time is high cost: an always-on instance is billed around the clock, traffic or not",
                 monthly > 10 * batch_cost,
                 f"ml.m5.large at ${price}/h: ${monthly:.2f} a month for the endpoint, against ${batch_cost:.2f} "
                 f"for the {batch_hours:.1f} instance-hours that {DAILY_PREDICTIONS:,} predictions a day need in a batch")  # fmt: skip
    described = p.serving.describe_endpoint(endpoint_name=ENDPOINT)
    result.check("the endpoint keeps its instance running while idle",
                 described["ProductionVariants"][0]["CurrentInstanceCount"] == 1, "1 instance in service")
