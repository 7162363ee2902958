"""Data capture: SageMaker's JSON Lines records, written as whole hour-partitioned
objects through a real ``put`` (``s3://bucket/key`` -> ``<tmp>/bucket/key``)."""

from __future__ import annotations

import base64
import calendar
import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from groundfog.serving.capture import CaptureWriter, capture_line

CSV, JSON = ["text/csv"], ["application/json", "application/jsonlines"]
NOON = calendar.timegm((2026, 11, 25, 12, 0, 0)) + 0.123


class Bucket:
    """A ``put`` that writes each object whole into a directory, and can be made to fail."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.failing = False
        self.puts = 0

    def put(self, uri: str, data: bytes) -> None:
        if self.failing:
            raise OSError("the object store is unreachable")
        assert uri.startswith("s3://") and "//" not in uri[len("s3://"):]
        path = self.root / uri[len("s3://"):]
        assert not path.exists(), f"{uri} written twice"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.rename(path)
        self.puts += 1

    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.jsonl"))

    def lines(self) -> list[dict]:
        return [json.loads(line) for f in self.files() for line in f.read_text().splitlines()]


@pytest.fixture
def bucket(tmp_path: Path) -> Bucket:
    return Bucket(tmp_path / "objects")


def line(i: int, at: float = NOON, inference_id: str | None = None) -> dict:
    return capture_line(endpoint_input=("text/csv", f"{i},1".encode()), endpoint_output=("text/csv", b"0.5"),
                        event_id=f"event-{i}", inference_time=at, inference_id=inference_id,
                        csv_types=CSV, json_types=JSON)  # fmt: skip


def test_line_has_sagemakers_shape() -> None:
    got = capture_line(
        endpoint_input=("text/csv", b"1,2,3"), endpoint_output=("text/csv; charset=utf-8", b"0.5"),
        event_id="e-1", inference_time=NOON, inference_id="req-7", csv_types=CSV, json_types=JSON,
    )
    assert got == {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3", "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT", "data": "0.5",
                               "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e-1", "inferenceTime": "2026-11-25T12:00:00.123Z", "inferenceId": "req-7"},
        "eventVersion": "0",
    }


def test_json_is_kept_as_text_and_inference_id_only_when_given() -> None:
    body = '{"instances": [[1, 2]], "name": "é"}'.encode()
    got = capture_line(endpoint_input=("Application/JSON", body), endpoint_output=None, event_id="e",
                       inference_time=NOON, inference_id=None, csv_types=CSV, json_types=JSON)  # fmt: skip
    assert got["captureData"] == {"endpointInput": {"observedContentType": "Application/JSON", "mode": "INPUT",
                                                    "data": body.decode(), "encoding": "JSON"}}  # fmt: skip
    assert "inferenceId" not in got["eventMetadata"]


def test_npy_and_invalid_utf8_are_base64() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(6, dtype=np.float32).reshape(2, 3))
    npy = buffer.getvalue()
    got = capture_line(endpoint_input=("application/x-npy", npy), endpoint_output=("text/csv", b"\xff\xfe0.5"),
                       event_id="e", inference_time=NOON, inference_id=None, csv_types=CSV, json_types=JSON)  # fmt: skip
    data = got["captureData"]
    assert data["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(data["endpointInput"]["data"]) == npy
    assert data["endpointOutput"] == {"observedContentType": "text/csv", "mode": "OUTPUT",
                                      "data": base64.b64encode(b"\xff\xfe0.5").decode(), "encoding": "BASE64"}


def test_objects_are_partitioned_by_endpoint_variant_and_hour(bucket: Bucket) -> None:
    writer = CaptureWriter(bucket.put)
    for dest in ("s3://bucket/capture", "s3://bucket/capture/"):
        writer.record(dest, "churn", "A", NOON, line(1))
    writer.record("s3://bucket/capture", "churn", "A", NOON + 3599, line(2))  # 12:59:59.123
    writer.record("s3://bucket/capture", "churn", "A", NOON + 3600, line(3))
    writer.record("s3://bucket/capture", "churn", "B", NOON, line(4))
    assert writer.flush() == 5
    names = [str(f.relative_to(bucket.root)) for f in bucket.files()]
    assert len(names) == 3
    assert names[0].startswith("bucket/capture/churn/A/2026/11/25/12/00-00-123-")
    assert names[1].startswith("bucket/capture/churn/A/2026/11/25/13/00-00-123-")
    assert names[2].startswith("bucket/capture/churn/B/2026/11/25/12/00-00-123-")
    assert all(len(n.rsplit("-", 1)[1]) == len("0123456789abcdef0123456789abcdef.jsonl") for n in names)
    first = (bucket.root / names[0]).read_text()
    assert first.endswith("\n") and ", " not in first and ": " not in first
    assert [json.loads(x)["eventMetadata"]["eventId"] for x in first.splitlines()] == ["event-1", "event-1", "event-2"]
    assert writer.flush() == 0 and len(bucket.files()) == 3


def test_every_record_is_written_exactly_once_while_eight_threads_record(bucket: Bucket) -> None:
    writer = CaptureWriter(bucket.put, flush_seconds=0.01, max_records=200_000)
    writer.start()
    per_thread = 12_500

    def produce(t: int) -> None:
        for i in range(per_thread):
            n = t * per_thread + i
            writer.record("s3://bucket/c", "ep", f"v{t % 2}", NOON + n % 7200, {"n": n})
            if i % 100 == 0:
                time.sleep(0.002)  # let flushes interleave with recording

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    numbers = [x["n"] for x in bucket.lines()]
    assert len(numbers) == 100_000 and set(numbers) == set(range(100_000))
    assert bucket.puts > 8  # many flushes happened while recording
    assert writer.dropped == 0


def test_records_survive_a_failing_put_and_are_written_once_it_recovers(bucket: Bucket) -> None:
    writer = CaptureWriter(bucket.put)
    for i in range(10):
        writer.record("s3://bucket/c", "ep", "A", NOON + i, line(i))
    bucket.failing = True
    assert writer.flush() == 0
    for i in range(10, 15):
        writer.record("s3://bucket/c", "ep", "A", NOON + i, line(i))
    assert writer.flush() == 0
    bucket.failing = False
    assert writer.flush() == 15
    assert [x["eventMetadata"]["eventId"] for x in bucket.lines()] == [f"event-{i}" for i in range(15)]
    assert len(bucket.files()) == 1 and writer.dropped == 0


def test_a_full_buffer_drops_the_oldest_records_and_counts_them(bucket: Bucket, caplog) -> None:
    writer = CaptureWriter(bucket.put, max_records=5)
    bucket.failing = True
    for i in range(4):
        writer.record("s3://bucket/c", "ep", "A", NOON + i, line(i))
    writer.flush()
    for i in range(4, 8):
        writer.record("s3://bucket/c", "ep", "A", NOON + i, line(i))
    bucket.failing = False
    caplog.clear()
    assert writer.flush() == 5
    assert writer.dropped == 3
    assert [x["eventMetadata"]["eventId"] for x in bucket.lines()] == [f"event-{i}" for i in range(3, 8)]
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1


def test_close_flushes_what_is_buffered(bucket: Bucket) -> None:
    writer = CaptureWriter(bucket.put, flush_seconds=3600)
    writer.start()
    writer.record("s3://bucket/c/", "ep", "A", NOON, line(1, inference_id="abc"))
    writer.close()
    [only] = bucket.lines()
    assert only["eventMetadata"]["inferenceId"] == "abc"
