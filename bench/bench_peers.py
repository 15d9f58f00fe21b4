#!/usr/bin/env python3
"""logship beside the OpenTelemetry Collector on the same input, per sink.

    cmake --build build --target logship logship_parse_floor kafka_consume
    bench/otel/build_collector_contrib.sh          # once; cached
    bench/bench_peers.py [--sinks file,kafka] [--bytes 256MiB] [--runs 1]

1. Uses the input cache of bench_oneshot.py (--data, same loggen stamp).
2. Per sink (file; kafka with --kafka or $KAFKA_BROKERS; with --kafka and no
   brokers a 1-broker cluster is started by tests/kafka/kafka.sh and stopped
   at the end), --runs times, alternating:
   - logship --oneshot exactly as bench_oneshot.py / bench_kafka.py run it,
     plus LOGSHIP_RELEASE: wall time spawn to exit, user+sys CPU from
     wait4(2), peak RSS from VmHWM (see bench_oneshot.spawn_measured).
   - The Collector (bench/otel/build_collector_contrib.sh) on the same files:
     filelog with the container, json_parser and add (release) operators,
     file_storage for offsets; the file exporter, or the kafka exporter with
     zstd and required_acks -1 (collector_config). It does not exit when
     done: its exporter's sent-records counter (internal telemetry on a
     loopback Prometheus port) and its CPU time are polled; it is done when
     the counter reaches the generator's record count or stops for --settle
     seconds. Wall time and CPU are those of the poll that first saw the
     final count; peak RSS is VmHWM before it is stopped (SIGTERM). The file
     output must hold as many OTLP log records as the counter says.
3. Runs the simdjson parse floor on the same files after every round
   (logship + Collector run) and keeps the best.
4. Prints a markdown table to stdout (per agent and sink: MB/s and CPU-s/GB
   best and median, peak RSS the highest of the runs; ratios logship vs
   Collector); progress to stderr. bench/README.md explains the choices.

Exit status: 0 on success; 1 when an agent fails or delivers fewer records
than expected (logship: the generator's count; Collector: a counter that
stopped below it is reported, not failed, see the README); 2 on setup errors.

MB = 10^6 bytes, GB = 10^9 bytes, MiB = 2^20 bytes. Python stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD_OTELCOL = os.path.join(HERE, "otel", "build_collector_contrib.sh")

sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in bench/
import bench_kafka  # noqa: E402  (broker start/stop, topic creation, counting)
import bench_oneshot  # noqa: E402  (input cache, logship file run, parse floor)
from loggen import parse_size  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
SENT_RE = re.compile(r'^otelcol_exporter_sent_log_records(?:_total)?\{([^}]*)\}\s+([0-9.eE+]+)', re.MULTILINE)
FAILED_RE = re.compile(r'^otelcol_exporter_send_failed_log_records(?:_total)?\{([^}]*)\}\s+([0-9.eE+]+)',
                       re.MULTILINE)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The Collector.

def free_port() -> int:
    # Port 0 picks a free loopback port; the Collector binds it a moment later.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collector_config(args, data: str, sink: str, tmp: str, port: int, topic: str | None,
                     brokers: str | None) -> dict:
    """The Collector's configuration as a dict (written as JSON, which YAML reads)."""
    operators = [
        # CRI (and docker/cri-o) lines; joins P/F partial lines and adds
        # k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.container.name
        # from the /var/log/pods-style path.
        {"type": "container", "id": "container"},
        # The payload's JSON object becomes the body; plain text stays a
        # string (send_quiet: no error log per non-JSON record).
        {"type": "json_parser", "id": "json", "parse_from": "body", "parse_to": "body",
         "on_error": "send_quiet"},
        {"type": "add", "id": "release", "field": "attributes.release", "value": args.release},
    ]
    if sink == "file":
        exporter = {"file": {"path": os.path.join(tmp, "out.json")}}
    else:
        exporter = {"kafka": {
            "brokers": brokers.split(","),
            "logs": {"topic": topic, "encoding": "otlp_proto"},
            "producer": {"compression": "zstd", "required_acks": -1},
        }}
    return {
        "extensions": {"file_storage": {"directory": os.path.join(tmp, "storage")}},
        "receivers": {"file_log": {  # "filelog" is a deprecated alias at v0.165
            # The same files logship reads through containers/*.log symlinks.
            "include": [os.path.join(data, "pods", "*", "*", "*.log")],
            "start_at": "beginning",
            "include_file_path": True,
            "storage": "file_storage",
            "operators": operators,
        }},
        "exporters": exporter,
        "service": {
            "extensions": ["file_storage"],
            "pipelines": {"logs": {"receivers": ["file_log"], "exporters": list(exporter)}},
            "telemetry": {
                "logs": {"level": "warn"},
                "metrics": {"level": "basic", "readers": [
                    {"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": port}}}}]},
            },
        },
    }


def scrape(port: int, exporter: str) -> tuple:
    """(sent, failed) log records of `exporter`, or (None, None) if not up yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode("utf-8", "replace")
    except OSError:
        return None, None

    def total(rx) -> int:
        return sum(int(float(v)) for labels, v in rx.findall(text) if f'exporter="{exporter}"' in labels)
    return total(SENT_RE), total(FAILED_RE)


def proc_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def count_otlp_json_records(path: str) -> int:
    """Log records in the file exporter's OTLP JSON lines: every record has
    exactly one observedTimeUnixNano (stanza always sets it)."""
    key = b'"observedTimeUnixNano"'
    n, tail = 0, b""
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)  # small blocks: this process's RSS stays low
            if not block:
                break
            # A key cut by the block boundary is found in tail + block; the
            # tail is shorter than the key, so nothing is counted twice.
            buf = tail + block
            n += buf.count(key)
            tail = buf[-(len(key) - 1):]
    return n


def run_collector(args, data: str, sink: str, expected: int, broker) -> dict:
    tmp = tempfile.mkdtemp(prefix="logship-bench-otel-", dir=args.tmp)
    os.mkdir(os.path.join(tmp, "storage"))
    port = free_port()
    topic = None
    if sink == "kafka":
        topic = f"bench-otel-{uuid.uuid4().hex[:10]}"
        bench_kafka.create_topic(broker.brokers, topic)
    config = collector_config(args, data, sink, tmp, port, topic, broker.brokers if broker else None)
    config_path = os.path.join(tmp, "config.yaml")
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
    stderr_path = os.path.join(tmp, "otelcol.stderr")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGSHIP_")}
    os.sync()
    start = time.perf_counter()
    pid = os.posix_spawn(args.otelcol, [args.otelcol, "--config", config_path], env, file_actions=actions)
    last_count, last_change, cpu_at_last, failed = 0, None, None, 0
    exited, status, ru, outcome = False, 0, None, "timeout"
    while True:
        time.sleep(args.poll)
        now = time.perf_counter()
        wpid, st, r = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            exited, status, ru, outcome = True, st, r, "exited"
            break
        cpu = proc_cpu(pid)
        sent, fail = scrape(port, sink)
        if sent is not None:
            failed = fail
            if sent != last_count:
                last_count, last_change, cpu_at_last = sent, now, cpu
        if last_count >= expected:
            outcome = "complete"
            break
        if last_change is not None and now - last_change >= args.settle:
            outcome = "settled"
            break
        if now - start >= args.timeout:
            break
    hwm = bench_oneshot.proc_hwm_mib(pid) if not exited else None
    if not exited:
        os.kill(pid, signal.SIGTERM)
        deadline = time.perf_counter() + 30
        while True:
            wpid, status, ru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                break
            if time.perf_counter() > deadline:
                os.kill(pid, signal.SIGKILL)
                _, status, ru = os.wait4(pid, 0)
                break
            time.sleep(0.05)
    result = {
        "outcome": outcome,
        "wall": (last_change - start) if last_change is not None else float("nan"),
        "cpu": cpu_at_last if cpu_at_last is not None else float("nan"),
        "cpu_total": ru.ru_utime + ru.ru_stime,
        "rss_mib": hwm if hwm is not None else ru.ru_maxrss / 1024.0,
        "records": last_count,
        "failed": failed,
        "exit": os.waitstatus_to_exitcode(status),
        "tmp": tmp,
        "topic": topic,
    }
    if sink == "file":
        out = os.path.join(tmp, "out.json")
        result["out_records"] = count_otlp_json_records(out) if os.path.exists(out) else 0
        result["out_bytes"] = os.path.getsize(out) if os.path.exists(out) else 0
    else:
        result["messages"] = bench_kafka.topic_count(args, broker.brokers, topic)
    result["stderr_tail"] = bench_oneshot.file_tail(stderr_path)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def collector_version(path: str) -> str:
    try:
        proc = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=30)
        return proc.stdout.strip().splitlines()[0] if proc.returncode == 0 else "version unknown"
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "version unknown"


# --------------------------------------------------------------------------
# logship (the runs of bench_oneshot.py and bench_kafka.py).

def run_logship(args, data: str, sink: str, broker) -> dict:
    if sink == "file":
        r = bench_oneshot.run_logship(args, data)
        r["out_records"] = r["records"]
        return r
    r = bench_kafka.run_logship(args, data, broker)
    r["records"] = r["messages"]
    return r


# --------------------------------------------------------------------------
# Report.

def fmt(v: float, digits: int = 1) -> str:
    return f"{v:,.{digits}f}"


def summary(runs: list, nbytes: int) -> dict:
    """Per agent and sink: best and median MB/s and CPU-s/GB over the runs,
    peak RSS as the highest of the runs (a peak is a worst case)."""
    gb = nbytes / 1e9
    mbps = [nbytes / r["wall"] / 1e6 for r in runs]
    cpu_gb = [r["cpu"] / gb for r in runs]
    return {"mbps": max(mbps), "mbps_med": statistics.median(mbps), "cpu_gb": min(cpu_gb),
            "cpu_gb_med": statistics.median(cpu_gb), "rss": max(r["rss_mib"] for r in runs),
            "records": runs[0]["records"]}


def report(args, stamp: dict, results: dict, floor_mbps: float | None, versions: dict) -> str:
    nbytes = stamp["total_bytes"]
    floor_cpu_gb = 1000.0 / floor_mbps if floor_mbps else None  # one core, wall-clock based
    lines = [
        f"Input: {nbytes:,} bytes ({nbytes / 2**20:.0f} MiB) in {stamp['files']} CRI files (kubelet layout, "
        f"loggen seed {stamp['seed']}), {stamp['records']:,} records. {args.runs} run(s) per agent and sink; "
        "MB/s and CPU-s/GB best (median), peak RSS the highest of the runs, ratios from the best values.",
        f"logship: {versions['logship']}. Collector: {versions['otelcol']}. "
        f"Host: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| Sink | Agent | MB/s | CPU-s/GB | Peak RSS MiB | Records out | MB/s / floor | CPU-s/GB / floor's |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    ratio_lines = []
    for sink in args.sinks:
        row = {}
        for agent in ("logship", "otelcol"):
            runs = results.get((sink, agent))
            if not runs:
                continue
            s = summary(runs, nbytes)
            row[agent] = s
            name = "logship" if agent == "logship" else "OTel Collector"
            fl_t = fmt(s["mbps"] / floor_mbps, 2) if floor_mbps else "–"
            fl_c = fmt(s["cpu_gb"] / floor_cpu_gb, 1) + "x" if floor_cpu_gb else "–"
            lines.append(f"| {sink} | {name} | {fmt(s['mbps'])} ({fmt(s['mbps_med'])}) | "
                         f"{fmt(s['cpu_gb'], 2)} ({fmt(s['cpu_gb_med'], 2)}) | {fmt(s['rss'])} | "
                         f"{s['records']:,} | {fl_t} | {fl_c} |")
        if "logship" in row and "otelcol" in row:
            ls, oc = row["logship"], row["otelcol"]
            ratio_lines.append(f"| {sink} | {fmt(ls['mbps'] / oc['mbps'], 1)}x | "
                               f"{fmt(oc['cpu_gb'] / ls['cpu_gb'], 1)}x | {fmt(oc['rss'] / ls['rss'], 1)}x |")
    if floor_mbps:
        lines.append(f"| – | simdjson parse floor (1 core) | {fmt(floor_mbps)} | {fmt(floor_cpu_gb, 2)} | | | 1.00 | 1.0x |")
    if ratio_lines:
        lines += ["", "| Sink | logship throughput / Collector's | Collector CPU per GB / logship's "
                      "| Collector peak RSS / logship's |",
                  "|---|---:|---:|---:|"] + ratio_lines
    return "\n".join(lines)


# --------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description="logship --oneshot beside the OpenTelemetry Collector, per sink.",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--logship", default=os.path.join(REPO, "build", "logship"), help="logship binary")
    ap.add_argument("--otelcol", default=None,
                    help="Collector binary (default: the one bench/otel/build_collector_contrib.sh builds/caches)")
    ap.add_argument("--parse-floor", default=os.path.join(REPO, "build", "bench", "logship_parse_floor"))
    ap.add_argument("--no-parse-floor", action="store_true")
    ap.add_argument("--consume", default=None,
                    help="kafka_consume binary (default: tests/kafka/kafka_consume next to --logship)")
    ap.add_argument("--sinks", default=None,
                    help="comma-separated: file,kafka (default: file, plus kafka if --kafka or $KAFKA_BROKERS)")
    ap.add_argument("--kafka", action="store_true", help="also the kafka sink (starts a broker if none is given)")
    ap.add_argument("--brokers", default=os.environ.get("KAFKA_BROKERS"), help="default: $KAFKA_BROKERS")
    ap.add_argument("--bytes", type=parse_size, default=parse_size("256MiB"), help="input size")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default="/tmp/logship-bench-data", help="input cache (shared with bench_oneshot.py)")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--runs", type=int, default=1, help="measured runs per agent and sink")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured logship runs first (page cache)")
    ap.add_argument("--release", default="bench-1", help="release attribute both agents add")
    ap.add_argument("--poll", type=float, default=0.1, help="seconds between Collector progress polls")
    ap.add_argument("--settle", type=float, default=10.0,
                    help="the Collector is done when its counter has not moved for this long")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped")
    ap.add_argument("--tmp", default=None, help="parent of the per-run temporary directories")
    ap.add_argument("--keep", action="store_true", help="keep each run's temporary directory")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.files < 1 or args.bytes < 1:
        ap.error("--runs >= 1, --warmup >= 0, --files >= 1 and --bytes > 0 are required")
    if args.sinks is None:
        args.sinks = ["file"] + (["kafka"] if args.kafka or args.brokers else [])
    else:
        args.sinks = [s for s in args.sinks.split(",") if s]
        if any(s not in ("file", "kafka") for s in args.sinks):
            ap.error("--sinks takes file and/or kafka")
    # What bench_oneshot / bench_kafka expect of args.
    args.format = "cri"  # the Collector's container operator and the parse floor read CRI here
    args.compression = "zstd"
    args.env = {"LOGSHIP_RELEASE": args.release}
    args.data = os.path.abspath(args.data)
    args.logship = os.path.abspath(args.logship)
    args.parse_floor = os.path.abspath(args.parse_floor)
    if args.consume is None:
        args.consume = os.path.join(os.path.dirname(args.logship), "tests", "kafka", "kafka_consume")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    tools = [args.logship] + ([args.consume] if "kafka" in args.sinks else [])
    for tool in tools:
        if not os.access(tool, os.X_OK):
            log(f"bench_peers: {tool} not found or not executable (build it: cmake --build build)")
            return 2
    if args.otelcol is None:
        proc = subprocess.run([BUILD_OTELCOL], stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            log("bench_peers: bench/otel/build_collector_contrib.sh failed")
            return 2
        args.otelcol = proc.stdout.strip().splitlines()[-1]
    try:
        stamp = bench_oneshot.ensure_data(args)
    except (bench_oneshot.SetupError, OSError) as e:
        log(f"bench_peers: {e}")
        return 2
    broker = None
    if "kafka" in args.sinks:
        try:
            broker = (bench_kafka.Broker(args.brokers, os.environ.get("KAFKA_DIR"), owned=False) if args.brokers
                      else bench_kafka.Broker.start())
        except (bench_kafka.SetupError, OSError, subprocess.TimeoutExpired) as e:
            log(f"bench_peers: {e}")
            return 2
    try:
        return measure(args, stamp, broker)
    except bench_kafka.SetupError as e:  # topic creation
        log(f"bench_peers: {e}")
        return 2
    finally:
        if broker is not None:
            broker.close()


def measure(args, stamp: dict, broker) -> int:
    nbytes, expected = stamp["total_bytes"], stamp["records"]
    versions = {"logship": bench_oneshot.logship_version(args.logship), "otelcol": collector_version(args.otelcol)}
    results: dict = {}
    floors: list = []
    note = "not run"
    for sink in args.sinks:
        for i in range(-args.warmup, args.runs):
            r = run_logship(args, args.data, sink, broker)
            tag = f"{sink} logship " + (f"warm-up {i + args.warmup + 1}" if i < 0 else f"run {i + 1}/{args.runs}")
            log(f"{tag}: {r['wall']:.3f} s wall, {r['cpu']:.3f} s CPU, peak RSS {r['rss_mib']:.1f} MiB, "
                f"{r['records']} records, {nbytes / r['wall'] / 1e6:.1f} MB/s")
            if r["timed_out"] or r["exit"] != 0 or r["records"] < expected:
                log(f"bench_peers: logship failed (exit {r['exit']}, {r['records']} of {expected} records)")
                if r["stderr_tail"].strip():
                    log("--- logship stderr (tail) ---\n" + r["stderr_tail"].rstrip())
                return 1
            if i >= 0:
                results.setdefault((sink, "logship"), []).append(r)
            if i < 0:
                continue
            c = run_collector(args, args.data, sink, expected, broker)
            extra = (f", {c['out_records']} records in the file ({c['out_bytes']:,} bytes)" if sink == "file"
                     else f", {c['messages']} Kafka messages")
            log(f"{sink} otelcol run {i + 1}/{args.runs}: {c['outcome']}; last record at {c['wall']:.3f} s, "
                f"{c['cpu']:.2f} s CPU then ({c['cpu_total']:.2f} s in all), peak RSS {c['rss_mib']:.1f} MiB, "
                f"{c['records']} records sent, {c['failed']} failed{extra}"
                + (f" (kept {c['tmp']})" if args.keep else ""))
            lost = (c["out_records"] != c["records"]) if sink == "file" else (c["messages"] <= 0)
            if c["outcome"] in ("timeout", "exited") or c["records"] == 0 or lost:
                log(f"bench_peers: the Collector did not finish or its output is short ({c['outcome']}, exit {c['exit']})")
                if c["stderr_tail"].strip():
                    log("--- otelcol stderr (tail) ---\n" + c["stderr_tail"].rstrip())
                return 1
            if c["records"] != expected:
                log(f"note: the Collector sent {c['records']} records, the generator made {expected} "
                    "(its container operator joins partial lines per file, not per stream)")
            results.setdefault((sink, "otelcol"), []).append(c)
            # The floor after every round, best kept: on a shared machine one
            # floor run can land in someone else's build and halve.
            fl, note = bench_oneshot.run_parse_floor(args, bench_oneshot.data_files(args.data))
            if fl is not None:
                floors.append(fl)
    if not floors:
        log(f"parse floor: {note}")
    print(report(args, stamp, results, max(floors) if floors else None, versions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
