"""Data capture: endpoint requests and responses as SageMaker writes them, JSON Lines
objects under the capture destination, written off the request path.

``capture_line`` shapes one record; ``CaptureWriter`` buffers records in memory and a
background thread writes them every second, one whole object per (destination,
endpoint, variant, hour) and flush, so a crash never leaves a partial file:

    s3://bucket/prefix/churn/AllTraffic/2026/11/25/12/00-00-123-<uuid hex>.jsonl

>>> line = capture_line(endpoint_input=("text/csv", b"1,2,3"), endpoint_output=("text/csv", b"0.5"),
...     event_id="e1", inference_time=0.0, inference_id=None, csv_types=["text/csv"], json_types=[])
>>> line["captureData"]["endpointInput"]
{'observedContentType': 'text/csv', 'mode': 'INPUT', 'data': '1,2,3', 'encoding': 'CSV'}
>>> line["eventMetadata"]
{'eventId': 'e1', 'inferenceTime': '1970-01-01T00:00:00.000Z'}
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from groundfog.serving.flushing import PeriodicFlusher

log = logging.getLogger(__name__)

Put = Callable[[str, bytes], None]


def capture_line(
    *,
    endpoint_input: tuple[str, bytes] | None,
    endpoint_output: tuple[str, bytes] | None,
    event_id: str,
    inference_time: float,
    inference_id: str | None,
    csv_types: Sequence[str],
    json_types: Sequence[str],
) -> dict[str, Any]:
    """One capture record in SageMaker's format; input and output are ``(content type,
    body)``, each left out when its capture mode is off. ``inference_time`` is epoch seconds."""
    capture: dict[str, Any] = {}
    if endpoint_input is not None:
        capture["endpointInput"] = _payload("INPUT", *endpoint_input, csv_types, json_types)
    if endpoint_output is not None:
        capture["endpointOutput"] = _payload("OUTPUT", *endpoint_output, csv_types, json_types)
    metadata = {"eventId": event_id, "inferenceTime": _iso_millis(inference_time)}
    if inference_id:
        metadata["inferenceId"] = inference_id
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


def _payload(mode: str, content_type: str, body: bytes, csv_types: Sequence[str],
             json_types: Sequence[str]) -> dict[str, str]:  # fmt: skip
    media = content_type.split(";", 1)[0].strip().lower()
    encoding = "CSV" if _listed(media, csv_types) else "JSON" if _listed(media, json_types) else "BASE64"
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def _listed(media: str, types: Sequence[str]) -> bool:
    # Media types are case-insensitive (RFC 9110); the lists are a handful long.
    return any(media == t.lower() for t in types)


def _iso_millis(epoch: float) -> str:
    millis = int(epoch * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + f".{millis % 1000:03d}Z"


class CaptureWriter(PeriodicFlusher):
    thread_name = "groundfog-serving-capture"

    """Buffers capture records and writes them as whole JSON Lines objects through
    ``put(uri, data)``.

    ``record`` only appends to a bounded buffer; ``flush`` (every ``flush_seconds`` in
    the thread ``start`` runs, and on ``close``) writes one object per (destination,
    endpoint, variant, UTC hour). Records whose ``put`` fails stay buffered for the
    next flush; when more than ``max_records`` wait, the oldest are dropped and
    counted in ``dropped``.

    >>> writer = CaptureWriter(lambda uri, data: print(uri.rsplit("/", 1)[0], len(data)))
    >>> writer.record("s3://b/capture/", "churn", "A", 0.0, {"eventVersion": "0"})
    >>> writer.flush()
    s3://b/capture/churn/A/1970/01/01/00 21
    1
    """

    def __init__(self, put: Put, *, flush_seconds: float = 1.0, max_records: int = 10_000) -> None:
        self.put = put
        super().__init__(flush_seconds)
        self.max_records = max_records
        self.dropped = 0
        self._buffer: deque[tuple[str, str, str, float, dict[str, Any]]] = deque()
        self._lock = threading.Lock()  # guards _buffer and dropped
        self._flushing = threading.Lock()  # one flush at a time, so each record is written once
        self._dropped_unreported = 0

    def record(self, destination: str, endpoint: str, variant: str, inference_time: float, line: dict) -> None:
        """Buffer one record (the ``line`` is kept as is, not copied); never waits for I/O."""
        with self._lock:
            if len(self._buffer) >= self.max_records:
                self._buffer.popleft()
                self.dropped += 1
                self._dropped_unreported += 1
            self._buffer.append((destination, endpoint, variant, inference_time, line))


    def flush(self) -> int:
        """Write everything buffered now; returns how many records were written."""
        with self._flushing:
            with self._lock:
                taken, self._buffer = self._buffer, deque()
            written, failed, error = 0, [], None
            for uri, records in self._objects(taken):
                data = "".join(json.dumps(r[4], separators=(",", ":")) + "\n" for r in records).encode()
                try:
                    self.put(uri, data)
                except Exception as exc:  # noqa: BLE001 - a store outage must not lose the records
                    failed.extend(records)
                    error = exc
                else:
                    written += len(records)
            self._requeue(failed, error)
        return written


    def _objects(self, records: deque) -> list[tuple[str, list]]:
        """One object per (destination, endpoint, variant, hour), named after its first
        record's time, with the records in the order they came."""
        groups: dict[tuple[str, str, str, int], list] = {}
        for r in records:
            key = (r[0].rstrip("/"), r[1], r[2], int(r[3] * 1000) // 3_600_000)
            group = groups.get(key)
            if group is None:
                groups[key] = [r]
            else:
                group.append(r)
        objects = []
        for (destination, endpoint, variant, _), group in groups.items():
            first = int(min(r[3] for r in group) * 1000)
            stamp = time.strftime("%Y/%m/%d/%H/%M-%S", time.gmtime(first // 1000))
            name = f"{stamp}-{first % 1000:03d}-{uuid.uuid4().hex}.jsonl"
            objects.append((f"{destination}/{endpoint}/{variant}/{name}", group))
        return objects

    def _requeue(self, failed: list, error: Exception | None) -> None:
        """Put records that were not written back in front of newer ones, oldest dropped
        first when the buffer would overflow; warn once about what this flush could not do."""
        with self._lock:
            if failed:
                failed.sort(key=lambda r: r[3])
                self._buffer.extendleft(reversed(failed))
                overflow = len(self._buffer) - self.max_records
                for _ in range(max(0, overflow)):
                    self._buffer.popleft()
                self.dropped += max(0, overflow)
                self._dropped_unreported += max(0, overflow)
            dropped, self._dropped_unreported = self._dropped_unreported, 0
            waiting = len(self._buffer)
        if error is not None or dropped:
            log.warning(
                "data capture: %d records waiting to be written, %d dropped since the last flush "
                "(at most %d are kept)%s", waiting, dropped, self.max_records,
                f"; writing failed: {error!r}" if error is not None else "",
            )  # fmt: skip

