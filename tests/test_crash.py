"""kill -9 of a server in the middle of a stream of puts and events: the state store
opens cleanly, every acknowledged put is readable, every acknowledged event is
delivered after the restart, and nothing is lost silently."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from server_helpers import free_port as _free_port
from server_helpers import start_server as _start_server

from groundfog import Platform
from groundfog.core.config import Config

pytestmark = pytest.mark.slow


def test_kill_9_loses_no_acknowledged_put_or_event(tmp_path):
    home = tmp_path / "home"
    sink = tmp_path / "deliveries.jsonl"
    with Platform(Config(home=home)) as p:
        p.storage.create_bucket(bucket="crash")
        p.storage.put_bucket_notification_configuration(bucket="crash", configuration={"EventBridgeConfiguration": {}})
        topic = p.topics.create_topic(name="sink")
        p.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink),
                           attributes={"RawMessageDelivery": "true"})
        p.events.put_rule(name="all", event_pattern={"source": ["aws.s3", "crash.test"]})
        p.events.put_targets(rule="all", targets=[{"Id": "sink", "Arn": topic.topic_arn}])

    port = _free_port()
    server = _start_server(home, port)
    url = f"http://127.0.0.1:{port}"
    acked_objects: dict[str, str] = {}
    acked_events: set[str] = set()
    stop = threading.Event()

    def put_objects() -> None:
        rng = random.Random(1)
        with httpx.Client(base_url=url, timeout=10) as http:
            i = 0
            while not stop.is_set():
                body = rng.randbytes(rng.randint(1, 200_000))
                key = f"stream/obj-{i:05d}.bin"
                try:
                    r = http.put(f"/api/storage/objects/crash/{key}", content=body)
                except httpx.TransportError:
                    return
                if r.status_code == 200:
                    acked_objects[key] = hashlib.md5(body).hexdigest()
                i += 1

    def put_events() -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            i = 0
            while not stop.is_set():
                entries = [{"Source": "crash.test", "DetailType": "tick", "Detail": json.dumps({"n": i + j})} for j in range(5)]
                try:
                    r = http.post("/api/events/PutEvents", json={"entries": entries})
                except httpx.TransportError:
                    return
                if r.status_code == 200:
                    result = r.json()
                    acked_events.update(e["EventId"] for e in result["Entries"] if "EventId" in e)
                i += 5

    writers = [threading.Thread(target=put_objects), threading.Thread(target=put_events)]
    for w in writers:
        w.start()
    time.sleep(2.5)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)
    stop.set()
    for w in writers:
        w.join(15)
    assert len(acked_objects) > 20 and len(acked_events) > 20, (len(acked_objects), len(acked_events))

    with sqlite3.connect(home / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with Platform(Config(home=home)) as p:
        for key, md5 in acked_objects.items():
            assert hashlib.md5(p.storage.get_object_bytes(bucket="crash", key=key)).hexdigest() == md5, key
        # The restarted platform's sweeper delivers what the dead server had claimed.
        p.start()
        deadline = time.time() + 90
        delivered: set[str] = set()
        wanted = acked_events | set()
        while time.time() < deadline:
            if sink.exists():
                delivered = {json.loads(line)["id"] for line in sink.read_text().splitlines() if line.strip()}
            if wanted <= delivered:
                break
            time.sleep(0.5)
        missing = wanted - delivered
        assert not missing, f"{len(missing)} acknowledged events never delivered"
        created = {
            json.loads(line)["detail"]["object"]["key"]
            for line in sink.read_text().splitlines()
            if '"aws.s3"' in line
        }
        assert set(acked_objects) <= created, "an acknowledged put produced no Object Created event"
