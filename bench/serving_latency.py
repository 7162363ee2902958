"""Real-time endpoints: what groundfog adds to one prediction, against the limit, a bare
ASGI app and a peer server, on the same model and payload, in one run.

Model: scikit-learn ``StandardScaler`` + ``LogisticRegression`` on the breast-cancer
data set; payload: one CSV row of its 30 features (``text/csv``, answer ``text/csv``).

Rows:

1. ``model.predict`` in process on the decoded row: the limit (and, below it, the
   worker's whole handler chain in process: decode, predict, encode);
2. ``bench/bare_asgi.py``: a raw ASGI callable with the worker's CSV codec, under
   uvicorn with uvloop and httptools, as the worker runs;
3. groundfog's worker process alone (``python -m groundfog.serving.worker``);
4. groundfog's endpoint through ``groundfog up`` (``POST /endpoints/bench/invocations``:
   the router, then one worker over a keep-alive connection);
5. the peer, MLflow's ``mlflow models serve --env-manager local`` from the peers' venv
   (``make bench-peers``), on the same estimator saved with ``mlflow.sklearn.save_model``.

Each HTTP row is measured with ``wrk``: latency on one connection (``-t1 -c1``, p50 and
p99), then throughput on 50 connections (``-t2 -c50``: requests/s, p50, p99, errors).
Every server runs alone (started, measured, stopped) on this 2-core machine, where wrk
takes its share of the CPU too.

Goals (the issue's): groundfog's added p50 over the bare ASGI app under 1 ms, and its
throughput at least 2x the peer's.

    python -m bench serving              # BENCH_SECONDS=N makes every wrk run N s long
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
PEERS_PYTHON = REPO / "bench" / ".peers-venv" / "bin" / "python"
ENDPOINT = "bench"
LATENCY_SECONDS = 10
THROUGHPUT_SECONDS = 15
WARM_UP_SECONDS = 2
CONNECTIONS = 50
IN_PROCESS_CALLS = 5000
GOAL_ADDED_P50_MS = 1.0
GOAL_PEER_RATIO = 2.0

# Wide enough for the table on one line per row, also when piped to a file.
console = Console(width=max(150, shutil.get_terminal_size().columns))


def durations(latency: int = LATENCY_SECONDS, throughput: int = THROUGHPUT_SECONDS) -> tuple[int, int]:
    """The wrk durations: ``BENCH_SECONDS`` sets every one, else the defaults."""
    value = os.environ.get("BENCH_SECONDS")
    if value:
        seconds = max(1, int(float(value)))
        return seconds, seconds
    return latency, throughput


def machine_busy(seconds: float = 1.0) -> float:
    """How busy the CPUs are over ``seconds``, in % of all cores (from /proc/stat), taken
    when none of the benchmark's servers runs: what other processes take from it."""
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return float("nan")
    return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))


def busy_note(before: float, after: float) -> str:
    """A line on the CPU other processes used just before and just after the run."""
    note = f"CPU busy without the benchmark's servers: {before:.0f}% before, {after:.0f}% after (of {os.cpu_count()} cores)"
    if max(before, after) > 10:
        note += " [yellow]— other processes were running: numbers are noisy[/yellow]"
    return note


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ---------------------------------------------------------------- the model and payload


@dataclass
class Fixture:
    model: Any
    model_dir: Path  # holds model.joblib
    row: str  # one CSV row of 30 features
    expected: bytes  # the worker's text/csv answer

    @property
    def joblib_path(self) -> Path:
        return self.model_dir / "model.joblib"

    def tarball(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(self.joblib_path, arcname="model.joblib")
        return buf.getvalue()


def make_fixture(root: Path) -> Fixture:
    import joblib
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from groundfog.serving.worker.codecs import decode_csv, encode_csv

    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    model_dir = root / "model"
    model_dir.mkdir()
    joblib.dump(model, model_dir / "model.joblib")
    row = ",".join(f"{v:.6g}" for v in X[0])
    return Fixture(model, model_dir, row, encode_csv(model.predict(decode_csv(row.encode()))))


# ---------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]
    output: str

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def describe_errors(self) -> str:
        if not self.errors:
            return "0"
        parts = [f"{self.non_2xx} non-2xx"] if self.non_2xx else []
        parts += [f"{n} {kind}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts)


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+(\S+)\s*$", output, re.M)
        return _ms(match.group(1)) if match else float("nan")

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    requests = re.search(r"^\s*(\d+) requests in", output, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()))) if sockets else {}
    if rps is None or requests is None:
        raise RuntimeError("wrk printed no result:\n" + output)
    return WrkResult(float(rps.group(1)), latency("50"), latency("99"), int(requests.group(1)),
                     int(non_2xx.group(1)) if non_2xx else 0, socket_errors, output)  # fmt: skip


def _lua_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\{ord(c):03d}" for c in text) + '"'


def write_lua(path: Path, body: str, headers: dict[str, str]) -> Path:
    """A wrk script POSTing ``body`` with ``headers`` on every request."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (Debian's package `wrk`)")
    return found


def run_wrk(url: str, script: Path, *, threads: int, connections: int, seconds: int) -> WrkResult:
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited {done.returncode}: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# ---------------------------------------------------------------- processes


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class Server:
    """A server subprocess in its own session; ``stop`` ends it, its process group, and
    any child that left the group (groundfog's workers start their own sessions)."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:  # fmt: skip
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                            env=env, cwd=cwd, start_new_session=True)  # fmt: skip
        self.url = ""
        self.pid = self.process.pid

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}")

    def descendants(self) -> list[int]:
        out, todo = [], [self.pid]
        while todo:
            for child in _children(todo.pop()):
                out.append(child)
                todo.append(child)
        return out

    def stop(self, grace: float = 20.0) -> None:
        strays = self.descendants()
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(10)
        deadline = time.monotonic() + 10
        for pid in strays:
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def wait_ready_file(server: Server, path: Path, timeout: float = 60, poll: float = 0.05) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_running()
        try:
            report = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(poll)
            continue
        if "error" in report:
            raise RuntimeError(f"{server.name} could not start: {report['error']}")
        return report
    raise RuntimeError(f"{server.name} wrote no ready file in {timeout:g} s:\n{server.log_tail()}")


def wait_http(server: Server, url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_running()
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer {url} in {timeout:g} s:\n{server.log_tail()}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_bare(fx: Fixture, work: Path) -> Server:
    ready = work / "bare.ready"
    server = Server("the bare ASGI app", [sys.executable, "-m", "bench.bare_asgi", "--model", str(fx.joblib_path),
                                          "--port", "0", "--ready-file", str(ready)],
                    work / "bare.log", cwd=REPO)  # fmt: skip
    server.url = f"http://127.0.0.1:{wait_ready_file(server, ready)['port']}/invocations"
    return server


def start_worker(fx: Fixture, work: Path) -> Server:
    ready = work / "worker.ready"
    server = Server("groundfog's worker", [sys.executable, "-m", "groundfog.serving.worker", "--model-dir",
                                           str(fx.model_dir), "--framework", "sklearn", "--port", "0",
                                           "--ready-file", str(ready)], work / "worker.log")  # fmt: skip
    server.url = f"http://127.0.0.1:{wait_ready_file(server, ready)['port']}/invocations"
    return server


def start_endpoint(fx: Fixture, work: Path, *, instances: int = 1, name: str = ENDPOINT) -> Server:
    """``groundfog up`` on a fresh home holding endpoint ``name`` on ``instances`` workers,
    once the endpoint is InService."""
    import groundfog as gf

    home = work / f"home-{name}-{instances}"
    platform = gf.Platform(home=home)
    try:
        platform.serving.auto_host = False  # as the CLI does: the server hosts
        platform.storage.create_bucket("models")
        platform.storage.put_object("models", "bench/model.tar.gz", fx.tarball())
        platform.registry.create_model(model_name=name, primary_container={
            "Image": "sklearn", "ModelDataUrl": "s3://models/bench/model.tar.gz"})  # fmt: skip
        platform.serving.create_endpoint_config(endpoint_config_name=f"{name}-config", production_variants=[{
            "VariantName": "Main", "ModelName": name, "InstanceType": "ml.m5.large",
            "InitialInstanceCount": instances, "InitialVariantWeight": 1.0}])  # fmt: skip
        platform.serving.create_endpoint(endpoint_name=name, endpoint_config_name=f"{name}-config")
    finally:
        platform.close()
    port = free_port()
    server = Server("groundfog up", [sys.executable, "-c", "from groundfog.cli.main import main; main()", "up",
                                     "--port", str(port), "--log-level", "warning"],
                    work / f"server-{name}.log", env={**os.environ, "GROUNDFOG_HOME": str(home)})  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(server, base + "/health", timeout=60)
        remote = gf.connect(base)
        try:
            described = remote.serving.wait_for_endpoint(endpoint_name=name, timeout=60)
        finally:
            remote.close()
        if described["EndpointStatus"] != "InService":
            raise RuntimeError(f"endpoint {name} is {described['EndpointStatus']}: {described.get('FailureReason')}")
    except BaseException:
        server.stop()
        raise
    server.url = f"{base}/endpoints/{name}/invocations"
    return server


def peers_missing() -> str | None:
    if PEERS_PYTHON.exists() and (PEERS_PYTHON.parent / "mlflow").exists():
        return None
    return (f"the peer's venv ({PEERS_PYTHON.parent.parent}) is missing: "
            "create it with `make bench-peers` (MLflow, in its own venv, never in .venv)")  # fmt: skip


def start_mlflow(fx: Fixture, work: Path) -> Server:
    out = work / "mlflow-model"
    saved = subprocess.run([str(PEERS_PYTHON), str(REPO / "bench" / "peers" / "save_mlflow_model.py"),
                            str(fx.joblib_path), str(out)], capture_output=True, text=True, cwd=work)  # fmt: skip
    if saved.returncode != 0:
        raise RuntimeError(f"saving the MLflow model failed:\n{saved.stderr[-2000:]}")
    port = free_port()
    bin_dir = PEERS_PYTHON.parent
    # `mlflow models serve` runs `uvicorn` from PATH: the peers' venv, as if activated.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
    server = Server("mlflow models serve", [str(bin_dir / "mlflow"), "models", "serve", "-m", str(out),
                                            "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                    work / "mlflow.log", env=env, cwd=work)  # fmt: skip
    try:
        wait_http(server, f"http://127.0.0.1:{port}/ping", timeout=120)
    except BaseException:
        server.stop()
        raise
    server.url = f"http://127.0.0.1:{port}/invocations"
    return server


# ---------------------------------------------------------------- measuring


@dataclass
class Row:
    label: str
    p50_1: float
    p99_1: float
    rps: float
    p50_n: float | None = None
    p99_n: float | None = None
    errors: str = ""
    error_count: int = 0
    groundfog: bool = False
    note: str = ""


def in_process(fx: Fixture) -> tuple[Row, Row]:
    """``model.predict`` on the decoded row, and the worker's handler chain on the raw
    bytes, called in a loop (µs per call)."""
    from groundfog.serving.worker.codecs import decode_csv
    from groundfog.serving.worker.handlers import InvocationContext, load_handler

    data = decode_csv(fx.row.encode())
    handler = load_handler(str(fx.model_dir), "sklearn")
    body = fx.row.encode()

    def timed(call: Callable[[], Any]) -> list[float]:
        for _ in range(300):
            call()
        samples = []
        for _ in range(IN_PROCESS_CALLS):
            start = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - start) / 1e6)
        return samples

    predict = timed(lambda: fx.model.predict(data))
    chain = timed(lambda: handler.invoke(body, "text/csv", "text/csv", InvocationContext()))
    assert handler.invoke(body, "text/csv", "text/csv", InvocationContext()).body == fx.expected

    def row(label: str, samples: list[float]) -> Row:
        return Row(label, percentile(samples, 0.5), percentile(samples, 0.99), 1e3 / (sum(samples) / len(samples)),
                   errors="–", note="calls/s, one thread")  # fmt: skip

    return row("1. model.predict in process (limit)", predict), \
        row("   worker's handler chain in process", chain)  # fmt: skip


def measure(label: str, server: Server, script: Path, *, groundfog: bool, note: str = "") -> Row:
    latency_s, throughput_s = durations()
    run_wrk(server.url, script, threads=2, connections=CONNECTIONS, seconds=min(WARM_UP_SECONDS, latency_s))
    one = run_wrk(server.url, script, threads=1, connections=1, seconds=latency_s)
    many = run_wrk(server.url, script, threads=2, connections=CONNECTIONS, seconds=throughput_s)
    server.check_running()
    errors = one.errors + many.errors
    text = many.describe_errors() if not one.errors else f"1 conn: {one.describe_errors()}; 50: {many.describe_errors()}"
    return Row(label, one.p50_ms, one.p99_ms, many.rps, many.p50_ms, many.p99_ms, text, errors, groundfog, note)


def check_answer(server: Server, body: str, headers: dict[str, str], expect: Callable[[int, bytes], bool]) -> None:
    status, answer = post(server.url, body, headers)
    if not expect(status, answer):
        raise RuntimeError(f"{server.name} answered {status} {answer[:300]!r}")


def _ms_text(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def main() -> int:
    latency_s, throughput_s = durations()
    busy_before = machine_busy()
    rows: list[Row] = []
    skipped: list[str] = []
    csv_headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
    with tempfile.TemporaryDirectory(prefix="gf-bench-serving-") as tmp:
        work = Path(tmp)
        fx = make_fixture(work)
        limit, chain = in_process(fx)
        rows += [limit, chain]
        script = write_lua(work / "csv.lua", fx.row, csv_headers)

        def ours(status: int, answer: bytes) -> bool:
            return status == 200 and answer == fx.expected

        for label, start, is_groundfog in (
            ("2. bare ASGI app", start_bare, False),
            ("3. groundfog worker alone", start_worker, True),
            ("4. groundfog endpoint (router)", start_endpoint, True),
        ):
            server = start(fx, work)
            try:
                check_answer(server, fx.row, csv_headers, ours)
                rows.append(measure(label, server, script, groundfog=is_groundfog))
            finally:
                server.stop()

        missing = peers_missing()
        if missing:
            skipped.append(missing)
        else:
            prediction = json.loads(fx.expected.decode().strip())
            header = ",".join(f"f{i}" for i in range(len(fx.row.split(","))))
            peer_payloads = (
                # MLflow's CSV wants a header row; pandas then hands sklearn a DataFrame with
                # feature names, which the estimator (fit on an array) warns about on each call.
                ("5. MLflow, text/csv + header row", f"{header}\n{fx.row}\n",
                 {"Content-Type": "text/csv"}),
                # The same 30 numbers as JSON "inputs": a numpy array, no pandas.
                ("5. MLflow, JSON {\"inputs\": [[...]]}",
                 json.dumps({"inputs": [[float(v) for v in fx.row.split(",")]]}),
                 {"Content-Type": "application/json"}),
            )  # fmt: skip

            def theirs(status: int, answer: bytes) -> bool:
                return status == 200 and json.loads(answer).get("predictions") == [prediction]

            try:
                server = start_mlflow(fx, work)
            except Exception as exc:  # noqa: BLE001 - a peer that cannot serve is a skipped row, said why
                skipped.append(f"MLflow could not be served: {exc}")
            else:
                try:
                    for index, (label, body, headers) in enumerate(peer_payloads):
                        peer_script = write_lua(work / f"peer{index}.lua", body, headers)
                        check_answer(server, body, headers, theirs)
                        rows.append(measure(label, server, peer_script, groundfog=False,
                                            note="answers JSON {\"predictions\": [0]}"))  # fmt: skip
                finally:
                    server.stop()

    busy_after = machine_busy()
    endpoint = next(r for r in rows if r.label.startswith("4."))
    bare = next(r for r in rows if r.label.startswith("2."))
    peers = [r for r in rows if r.label.startswith("5.")]
    best_peer = max(peers, key=lambda r: r.rps) if peers else None

    table = Table(title=f"one-row scikit-learn prediction: p50/p99 on 1 connection ({latency_s} s), "
                        f"req/s on {CONNECTIONS} connections ({throughput_s} s), wrk on loopback (ms)")  # fmt: skip
    for col in ("path", "p50 1 conn", "p99 1 conn", "req/s", "p50 50 conns", "p99 50 conns", "errors",
                "p50 vs limit", "req/s vs peer"):  # fmt: skip
        table.add_column(col, justify="left" if col == "path" else "right")
    for r in rows:
        style = "bold red" if r.groundfog and r.error_count else None
        table.add_row(r.label, _ms_text(r.p50_1), _ms_text(r.p99_1), f"{r.rps:,.0f}" + (" *" if r.note.startswith("calls") else ""),
                      _ms_text(r.p50_n), _ms_text(r.p99_n), r.errors,
                      f"{r.p50_1 / limit.p50_1:.1f}x",
                      f"{r.rps / best_peer.rps:.2f}x" if best_peer and r.p50_n is not None else "–",
                      style=style)  # fmt: skip
    console.print(table)
    console.print("  * in-process rows: calls per second on one thread, not HTTP requests/s; the handler chain is the "
                  "worker's decode + predict + encode on the raw bytes")
    console.print("  2: bench/bare_asgi.py, raw ASGI + the worker's CSV codec under uvicorn (uvloop, httptools); "
                  "3: python -m groundfog.serving.worker; 4: groundfog up, POST /endpoints/bench/invocations, 1 instance; "
                  "5: mlflow models serve --env-manager local (1 uvicorn worker, its defaults)")
    console.print("  the peer answers JSON {\"predictions\": [0]}; every other HTTP row answers text/csv \"0\\n\"")
    if best_peer:
        console.print(f"  the peer's ratio uses its faster payload: {best_peer.label[3:]}")
    for reason in skipped:
        console.print(f"[yellow]  peer row skipped: {reason}[/yellow]")

    added = endpoint.p50_1 - bare.p50_1
    verdict = "[green]PASS[/green]" if added < GOAL_ADDED_P50_MS else "[red]MISS[/red]"
    console.print(f"added p50 over the bare ASGI app (row 4 − row 2, 1 connection): {added * 1000:.0f} µs "
                  f"({endpoint.p50_1:.3f} − {bare.p50_1:.3f} ms); goal < {GOAL_ADDED_P50_MS:g} ms: {verdict}")  # fmt: skip
    worker = next(r for r in rows if r.label.startswith("3."))
    console.print(f"  of which the router hop (row 4 − row 3): {(endpoint.p50_1 - worker.p50_1) * 1000:.0f} µs, "
                  f"the worker over the bare app (row 3 − row 2): {(worker.p50_1 - bare.p50_1) * 1000:.0f} µs")  # fmt: skip
    if best_peer:
        ratio = endpoint.rps / best_peer.rps
        verdict = "[green]PASS[/green]" if ratio >= GOAL_PEER_RATIO else "[red]MISS[/red]"
        console.print(f"throughput vs peer (row 4 / MLflow, {CONNECTIONS} connections): {ratio:.2f}x "
                      f"({endpoint.rps:,.0f} / {best_peer.rps:,.0f} req/s); goal ≥ {GOAL_PEER_RATIO:g}x: {verdict}")  # fmt: skip
    else:
        console.print("[yellow]throughput vs peer: not measured (no peer)[/yellow]")
    console.print(busy_note(busy_before, busy_after))
    failed = [r for r in rows if r.groundfog and r.error_count]
    for r in failed:
        console.print(f"[bold red]ERRORS in groundfog's row {r.label!r}: {r.errors}[/bold red]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
