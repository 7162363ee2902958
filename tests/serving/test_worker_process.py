"""The worker as the host runs it: ``python -m groundfog.serving.worker`` in a real
process, its ready file, real sockets, signals, and a host that dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from groundfog.core._launcher import proc_stat

READY_TIMEOUT = 60.0


def wait_for_file(path: Path, running, timeout: float = READY_TIMEOUT) -> None:
    """Return once ``path`` exists; fail if ``running()`` turns false first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        if not running():
            raise AssertionError(f"gone before {path.name} was written")
        time.sleep(0.01)
    raise AssertionError(f"{path.name} was never written")


def read_ready(path: Path, running) -> dict:
    """The worker's ready-file report, once written (atomically: whole or absent)."""
    wait_for_file(path, running)
    return json.loads(path.read_text())


class Worker:
    """A worker process and what its ready file said."""

    def __init__(self, process: subprocess.Popen, ready_file: Path) -> None:
        self.process, self.ready_file = process, ready_file
        self.report: dict = {}

    def wait_ready(self) -> dict:
        self.report = read_ready(self.ready_file, lambda: self.process.poll() is None)
        return self.report

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.report['port']}"


@pytest.fixture
def start_worker(tmp_path: Path):
    started: list[subprocess.Popen] = []

    def start(*args: str) -> Worker:
        ready = tmp_path / f"w{len(started)}.ready"
        process = subprocess.Popen(
            [sys.executable, "-m", "groundfog.serving.worker", *args, "--port", "0", "--ready-file", str(ready)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append(process)
        return Worker(process, ready)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def gone(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is None or stat.state in ("Z", "X")


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return LogisticRegression(solver="liblinear").fit(X, y), X


@pytest.fixture
def sklearn_dir(tmp_path: Path, breast_cancer) -> Path:
    directory = tmp_path / "model"
    directory.mkdir()
    joblib.dump(breast_cancer[0], directory / "model.joblib")
    return directory


def test_sklearn_worker_reports_ready_and_serves_over_a_socket(start_worker, sklearn_dir, breast_cancer):
    model, X = breast_cancer
    worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn")
    report = worker.wait_ready()
    assert set(report) == {"port", "pid", "setup_seconds"}
    assert report["pid"] == worker.process.pid
    assert 0 < report["setup_seconds"] < READY_TIMEOUT
    with httpx.Client(base_url=worker.url) as client:
        assert client.get("/ping").status_code == 200
        body = "\n".join(",".join(map(str, row)) for row in X[:3])
        answer = client.post("/invocations", content=body, headers={"content-type": "text/csv"})
        assert answer.status_code == 200
        assert answer.text.split() == [str(v) for v in model.predict(X[:3])]
        assert int(answer.headers["x-groundfog-model-latency-us"]) > 0
        assert client.post("/invocations", content=b"1,x", headers={"content-type": "text/csv"}).status_code == 400


def test_sklearn_worker_does_not_import_torch_or_xgboost(start_worker, sklearn_dir, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "probe.py").write_text(textwrap.dedent("""
        import json, sys

        def transform_fn(model, request_body, content_type, accept):
            return json.dumps({name: name in sys.modules for name in ("torch", "xgboost")})
    """))
    worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn",
                          "--code-dir", str(code), "--program", "probe.py")  # fmt: skip
    worker.wait_ready()
    answer = httpx.post(f"{worker.url}/invocations", content=b"{}", headers={"content-type": "application/json"})
    assert answer.json() == {"torch": False, "xgboost": False}


def test_load_failure_writes_the_error_and_exits_1(start_worker, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    worker = start_worker("--model-dir", str(empty), "--framework", "sklearn")
    assert worker.process.wait(timeout=READY_TIMEOUT) == 1
    report = json.loads(worker.ready_file.read_text())
    assert set(report) == {"error"}
    assert str(empty) in report["error"] and "model.joblib" in report["error"]
    assert "\n" not in report["error"]


def test_missing_program_exits_2_naming_the_file(start_worker, sklearn_dir, tmp_path):
    worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn",
                          "--code-dir", str(tmp_path), "--program", "serve.py")  # fmt: skip
    assert worker.process.wait(timeout=READY_TIMEOUT) == 2
    stderr = worker.process.stderr.read().strip()
    assert len(stderr.splitlines()) == 1
    assert str(tmp_path / "serve.py") in stderr


def test_code_inside_the_model_dir_is_used(start_worker, sklearn_dir):
    (sklearn_dir / "code").mkdir()
    (sklearn_dir / "code" / "inference.py").write_text(textwrap.dedent("""
        def output_fn(prediction, accept):
            return "classes:" + ",".join(map(str, prediction)), "text/plain"
    """))
    worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn", "--program", "inference.py")
    worker.wait_ready()
    answer = httpx.post(f"{worker.url}/invocations", content=",".join(["1"] * 30), headers={"content-type": "text/csv"})
    assert answer.status_code == 200
    assert answer.text.startswith("classes:") and answer.headers["content-type"] == "text/plain"


def test_sigterm_finishes_the_request_in_flight_then_exits_0(start_worker, sklearn_dir, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    started = tmp_path / "request-started"
    (code / "slow.py").write_text(textwrap.dedent(f"""
        import pathlib, time

        def transform_fn(model, request_body, content_type, accept):
            pathlib.Path({str(started)!r}).touch()
            time.sleep(1.0)
            return "done"
    """))
    worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn",
                          "--code-dir", str(code), "--program", "slow.py")  # fmt: skip
    worker.wait_ready()
    answers: list[httpx.Response] = []
    request = threading.Thread(target=lambda: answers.append(
        httpx.post(f"{worker.url}/invocations", content=b"{}", headers={"content-type": "application/json"},
                   timeout=60)
    ))  # fmt: skip
    request.start()
    wait_for_file(started, request.is_alive)  # the handler is running
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=60) == 0
    request.join(timeout=60)
    assert answers and answers[0].status_code == 200 and answers[0].text == "done"


def test_sigterm_while_idle_exits_0(start_worker, sklearn_dir):
    worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn")
    worker.wait_ready()
    with httpx.Client(base_url=worker.url) as client:  # an idle keep-alive connection
        assert client.get("/ping").status_code == 200
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0


# A host that starts the worker from a thread that ends once the worker is up (as a
# server's thread pool may), says where the worker is, and waits to be killed.
HOST = """
import os, subprocess, sys, threading, time
argv = sys.argv[1:]
ready = argv[argv.index("--ready-file") + 1]
def launch():
    worker = subprocess.Popen([sys.executable, "-m", "groundfog.serving.worker", *argv,
                               "--parent-pid", str(os.getpid())])
    print(worker.pid, flush=True)
    while not os.path.exists(ready):
        time.sleep(0.01)
thread = threading.Thread(target=launch)
thread.start()
thread.join()
time.sleep(600)
"""


def test_worker_exits_when_its_host_dies_but_not_when_the_launching_thread_ends(sklearn_dir, tmp_path):
    ready = tmp_path / "host.ready"
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, "--model-dir", str(sklearn_dir), "--framework", "sklearn",
         "--port", "0", "--ready-file", str(ready)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    worker_pid = int(host.stdout.readline())
    try:
        port = read_ready(ready, lambda: not gone(worker_pid))["port"]
        time.sleep(1.5)  # the launching thread has ended: the worker must still serve
        assert httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200
        host.kill()
        host.wait()
        assert wait_gone(worker_pid, timeout=20), "the worker outlived its host"
    finally:
        host.kill()
        host.wait()
        if not gone(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)


def test_worker_exits_when_the_watched_pid_is_not_its_parent(start_worker, sklearn_dir):
    watched = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        worker = start_worker("--model-dir", str(sklearn_dir), "--framework", "sklearn",
                              "--parent-pid", str(watched.pid))  # fmt: skip
        worker.wait_ready()
        watched.kill()
        watched.wait()
        assert worker.process.wait(timeout=20) is not None
    finally:
        if watched.poll() is None:
            watched.kill()
            watched.wait()


def test_xgboost_model_served_by_the_defaults(start_worker, tmp_path):
    xgb = pytest.importorskip("xgboost")
    X, y = load_breast_cancer(return_X_y=True)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, label=y), num_boost_round=10)
    model_dir = tmp_path / "xgb"
    model_dir.mkdir()
    booster.save_model(str(model_dir / "xgboost-model"))
    worker = start_worker("--model-dir", str(model_dir), "--framework", "xgboost")
    worker.wait_ready()
    body = "\n".join(",".join(map(str, row)) for row in X[:4])
    answer = httpx.post(f"{worker.url}/invocations", content=body,
                        headers={"content-type": "text/csv", "accept": "application/json"})  # fmt: skip
    assert answer.status_code == 200
    np.testing.assert_allclose(answer.json(), booster.predict(xgb.DMatrix(X[:4])), rtol=1e-6)


def test_torchscript_model_served_by_the_defaults(start_worker, tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 2)
    model_dir = tmp_path / "torch"
    model_dir.mkdir()
    torch.jit.script(linear).save(str(model_dir / "model.pt"))
    worker = start_worker("--model-dir", str(model_dir), "--framework", "pytorch")
    worker.wait_ready()
    rows = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]]
    answer = httpx.post(f"{worker.url}/invocations", json=rows)
    assert answer.status_code == 200
    with torch.no_grad():
        expected = linear(torch.tensor(rows)).numpy()
    np.testing.assert_allclose(answer.json(), expected, rtol=1e-5)
