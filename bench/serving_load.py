"""Real-time endpoints under load: ``wrk -t2 -c50 -d60s`` on loopback against a
groundfog endpoint of 2 instances behind ``groundfog up``, sampling every 5 s the
resident memory of the server and of each worker.

Same model and payload as ``bench.serving_latency`` (one CSV row, scikit-learn
``LogisticRegression``). After a 5 s warm-up (connections pooled, code paths hot), the
first sample is taken as the load starts, then every 5 s, and the last as it ends.

Goals (the issue's): no errors (wrk's non-2xx responses and socket errors), and steady
memory: per process, last ≤ first × 1.2 + 10 MB.

    python -m bench serving-load         # BENCH_SECONDS=N: an N s load instead of 60
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.table import Table

from bench.serving_latency import (
    CONNECTIONS,
    _children,
    busy_note,
    machine_busy,
    check_answer,
    console,
    make_fixture,
    parse_wrk,
    run_wrk,
    start_endpoint,
    wrk_path,
    write_lua,
)

LOAD_SECONDS = 60
WARM_UP_SECONDS = 5
SAMPLE_EVERY = 5.0
INSTANCES = 2
STEADY_RATIO = 1.2
STEADY_SLACK_MB = 10.0


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return psutil.Process(pid).memory_info().rss / 2**20
        except psutil.Error:
            return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time ``pid`` has used, in seconds (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def workers_of(server_pid: int) -> list[int]:
    return sorted(p for p in _children(server_pid) if "groundfog.serving.worker" in _cmdline(p))


def main() -> int:
    seconds = int(float(os.environ.get("BENCH_SECONDS") or LOAD_SECONDS))
    busy_before = machine_busy()
    with tempfile.TemporaryDirectory(prefix="gf-bench-serving-load-") as tmp:
        work = Path(tmp)
        fx = make_fixture(work)
        headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
        script = write_lua(work / "csv.lua", fx.row, headers)
        server = start_endpoint(fx, work, instances=INSTANCES, name="load")
        try:
            check_answer(server, fx.row, headers, lambda status, body: status == 200 and body == fx.expected)
            workers = workers_of(server.pid)
            if len(workers) != INSTANCES:
                raise RuntimeError(f"expected {INSTANCES} workers under the server, found {workers}")
            run_wrk(server.url, script, threads=2, connections=CONNECTIONS, seconds=WARM_UP_SECONDS)
            processes = {f"server (groundfog up, pid {server.pid})": server.pid}
            processes.update({f"worker {i + 1} (pid {pid})": pid for i, pid in enumerate(workers)})
            samples: dict[str, list[float]] = {name: [] for name in processes}
            times: list[float] = []
            cpu: dict[str, list[float]] = {name: [] for name in processes}

            def sample() -> None:
                times.append(time.monotonic() - started)
                for name, pid in processes.items():
                    value = rss_mb(pid)
                    if value is not None:
                        samples[name].append(value)
                    used = cpu_seconds(pid)
                    if used is not None:
                        cpu[name].append(used)

            command = [wrk_path(), "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script), server.url]
            started = time.monotonic()
            sample()
            with open(work / "wrk.out", "w+") as out:
                load = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
                try:
                    while load.poll() is None:
                        next_at = started + SAMPLE_EVERY * len(times)
                        while load.poll() is None and time.monotonic() < next_at:
                            time.sleep(0.05)
                        if load.poll() is None:
                            sample()
                    sample()  # as the load ends
                finally:
                    if load.poll() is None:
                        load.kill()
                        load.wait()
                out.seek(0)
                result = parse_wrk(out.read())
            server.check_running()
            workers_after = workers_of(server.pid)
        finally:
            server.stop()

    busy_after = machine_busy()
    table = Table(title=f"groundfog endpoint, {INSTANCES} instances, under wrk -t2 -c{CONNECTIONS} -d{seconds}s "
                        "on loopback (one CSV row per request)")  # fmt: skip
    for col in ("requests", "req/s", "p50 (ms)", "p99 (ms)", "errors", "goal"):
        table.add_column(col, justify="right")
    error_style = "bold red" if result.errors else None
    table.add_row(f"{result.requests:,}", f"{result.rps:,.0f}", f"{result.p50_ms:.2f}", f"{result.p99_ms:.2f}",
                  result.describe_errors(), "0 errors", style=error_style)  # fmt: skip
    console.print(table)

    table = Table(title=f"resident memory (MB), sampled every {SAMPLE_EVERY:g} s ({len(times)} samples, "
                        f"first at load start after a {WARM_UP_SECONDS} s warm-up)")  # fmt: skip
    for col in ("process", "first", "last", "max", "last / first", "verdict", "CPU (cores)"):
        table.add_column(col, justify="left" if col == "process" else "right")
    def used(name: str) -> float:
        return cpu[name][-1] - cpu[name][0] if len(cpu[name]) > 1 else float("nan")

    steady_all = True
    for name, values in samples.items():
        if not values:
            table.add_row(name, "–", "–", "–", "–", "[red]no samples (process gone?)[/red]")
            steady_all = False
            continue
        first, last = values[0], values[-1]
        steady = last <= first * STEADY_RATIO + STEADY_SLACK_MB
        steady_all &= steady
        table.add_row(name, f"{first:.1f}", f"{last:.1f}", f"{max(values):.1f}", f"{last / first:.3f}",
                      "[green]steady[/green]" if steady else "[red]growing[/red]",
                      f"{used(name) / max(1e-9, times[-1]):.2f}")  # fmt: skip
    console.print(table)
    server_name = next(iter(processes))
    per_request = {"the server (router)": used(server_name),
                   "the workers together": sum(used(n) for n in processes if n != server_name)}  # fmt: skip
    console.print("  CPU (cores): user + system time over the load / its duration; per request: "
                  + ", ".join(f"{who} {t / max(1, result.requests) * 1e6:.0f} µs" for who, t in per_request.items()))
    console.print(f"  steady: last ≤ first × {STEADY_RATIO:g} + {STEADY_SLACK_MB:g} MB; "
                  f"RSS from {'psutil' if _has_psutil() else '/proc/<pid>/status VmRSS'}")  # fmt: skip
    if workers_after != workers:
        console.print(f"[bold red]the workers changed under load: {workers} → {workers_after} (a worker died?)[/bold red]")
    console.print(busy_note(busy_before, busy_after))
    ok = not result.errors and steady_all and workers_after == workers
    verdict = "[green]PASS[/green]" if ok else "[red]MISS[/red]"
    console.print(f"load verdict: {result.errors} errors, memory {'steady' if steady_all else 'NOT steady'}: {verdict}")
    if result.errors:
        console.print(f"[bold red]ERRORS under load in groundfog's endpoint: {result.describe_errors()}[/bold red]")
    return 0 if ok else 1


def _has_psutil() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
