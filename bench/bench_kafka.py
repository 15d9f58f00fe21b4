#!/usr/bin/env python3
"""End-to-end benchmark: logship --oneshot from generated CRI files to a local Kafka broker.

    cmake --build build && bench/bench_kafka.py [--runs 3] [--bytes 256MiB] [--compression zstd]

1. Makes sure DATA (--data, default /tmp/logship-bench-data) holds the
   kubelet-style tree that bench_oneshot.py uses (same generator, same cache
   and stamp: the two benchmarks share the input).
2. Uses the Kafka cluster given by --brokers (or $KAFKA_BROKERS), or starts a
   1-broker cluster with tests/kafka/kafka.sh (real Apache Kafka, KRaft, on
   loopback) and stops it at the end.
3. Runs logship --warmup times (default 1, not measured) and then --runs
   times (default 3), each into a new topic, with a fresh state directory:
       LOGSHIP_INPUT_PATHS=DATA/containers/*.log LOGSHIP_STATE_DIR=TMP/state
       LOGSHIP_SINK=kafka LOGSHIP_KAFKA_BROKERS=... LOGSHIP_KAFKA_TOPIC=<new>
       LOGSHIP_COMPRESSION=zstd LOGSHIP_LISTEN=off <logship> --oneshot
   The topic is created (3 partitions, the broker's default) before the run.
   Oneshot exits only when every batch is acknowledged (acks=all), so the wall
   time covers delivery, not just handing records to librdkafka. Measures the
   child's wall time and, from wait4(2), its own user+sys CPU and peak RSS;
   reads the broker's CPU time from /proc when it runs on this machine; then
   checks the topic holds as many messages as the generator made records
   (tests/kafka/kafka_consume --count, watermarks only).
4. Runs the simdjson-only parse floor (bench/parse_floor.cc, one core) on
   the same files, as bench_oneshot.py does, and reports logship's
   throughput and CPU-seconds per GB as ratios to it (the floor's CPU-s/GB is
   1000 / its MB/s: it runs on one core the whole time). Ratios measured in
   one run are what the targets are stated in; absolute numbers on a shared
   machine move with the load.
5. Prints a markdown table (best and median) to stdout; progress to stderr.

Exit status: 0 on success; 1 when logship fails or the topic holds fewer
messages than records; 2 on usage or setup errors. The target (>= 150 MB/s)
is shown but does not affect the exit status.

MB = 10^6 bytes, GB = 10^9 bytes, MiB = 2^20 bytes.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KAFKA_SH = os.path.join(REPO, "tests", "kafka", "kafka.sh")

sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in bench/
import bench_oneshot  # noqa: E402  (the shared input cache)
from loggen import parse_size  # noqa: E402

TARGET_MBPS = 150.0
# Targets as ratios to the parse floor of the same run (issue 13).
TARGET_FLOOR_THROUGHPUT = 0.15  # at least this fraction of the floor's MB/s
TARGET_FLOOR_CPU = 8.0          # at most this multiple of the floor's CPU-s/GB
TARGET_RSS_MIB = 64.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


# --------------------------------------------------------------------------
# The broker.

class Broker:
    """A cluster to produce to: given, or started here (and stopped by close())."""

    def __init__(self, brokers: str | None, directory: str | None, owned: bool):
        self.brokers, self.dir, self.owned = brokers, directory, owned

    @classmethod
    def start(cls) -> "Broker":
        directory = tempfile.mkdtemp(prefix="logship-bench-kafka.")
        log(f"kafka: starting a 1-broker cluster in {directory} ...")
        proc = subprocess.run([KAFKA_SH, "start", "--dir", directory], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=600)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            shutil.rmtree(directory, ignore_errors=True)
            raise SetupError("kafka.sh start failed")
        env = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        return cls(env["KAFKA_BROKERS"], directory, owned=True)

    def close(self) -> None:
        if self.owned and self.dir:
            subprocess.run([KAFKA_SH, "stop", "--dir", self.dir, "--rm"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
            self.dir = None

    def cpu_seconds(self) -> float | None:
        """user+sys CPU of the broker processes so far (local clusters only)."""
        if not self.dir:
            return None
        total, found = 0.0, False
        for entry in sorted(os.listdir(self.dir)):
            pid_file = os.path.join(self.dir, entry, "pid")
            try:
                with open(pid_file, encoding="utf-8") as f:
                    pid = int(f.read().strip())
                with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, ValueError):
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
            found = True
        return total if found else None


def create_topic(brokers: str, topic: str) -> None:
    """Creates the run's topic first (auto-creation through a metadata
    request, then until every partition has a leader), so the measurement is
    of logship and not of Kafka creating a topic."""
    probe = os.path.join(REPO, "tests", "kafka", "kafka_probe.py")
    proc = subprocess.run([sys.executable, probe, "wait", "-b", brokers, "--nodes", "", "-t", topic, "--rf", "1",
                           "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SetupError(f"cannot create topic {topic}: {proc.stderr.strip()}")


def topic_count(args, brokers: str, topic: str) -> int:
    proc = subprocess.run([args.consume, "--brokers", brokers, "--topic", topic, "--count"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if proc.returncode != 0:
        log(f"kafka_consume: {proc.stderr.strip()}")
        return -1
    return int(proc.stdout.strip())


# --------------------------------------------------------------------------
# One logship run.

def run_logship(args, data: str, broker: Broker) -> dict:
    tmp = tempfile.mkdtemp(prefix="logship-bench-kafka-", dir=args.tmp)
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    topic = f"bench-{uuid.uuid4().hex[:10]}"
    create_topic(broker.brokers, topic)
    stderr_path = os.path.join(tmp, "logship.stderr")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGSHIP_")}
    env.update({
        "LOGSHIP_INPUT_PATHS": os.path.join(data, "containers", "*.log"),
        "LOGSHIP_STATE_DIR": state,
        "LOGSHIP_SINK": "kafka",
        "LOGSHIP_KAFKA_BROKERS": broker.brokers,
        "LOGSHIP_KAFKA_TOPIC": topic,
        "LOGSHIP_COMPRESSION": args.compression,
        "LOGSHIP_LISTEN": "off",
    })
    env.update(args.env)
    argv = [args.logship, "--oneshot"]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    broker_cpu0 = broker.cpu_seconds()
    result = bench_oneshot.spawn_measured(args.logship, argv, env, actions, args.timeout)
    broker_cpu1 = broker.cpu_seconds()
    result.update({
        "broker_cpu": None if broker_cpu0 is None or broker_cpu1 is None else broker_cpu1 - broker_cpu0,
        "topic": topic,
        "tmp": tmp,
    })
    result["messages"] = topic_count(args, broker.brokers, topic) if result["exit"] == 0 else 0
    result["stderr_tail"] = bench_oneshot.file_tail(stderr_path)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


# --------------------------------------------------------------------------
# Report.

def fmt(v: float, digits: int = 1) -> str:
    return f"{v:,.{digits}f}"


def report(args, stamp: dict, runs: list, version: str, floor: tuple) -> str:
    nbytes = stamp["total_bytes"]
    mbps = [nbytes / r["wall"] / 1e6 for r in runs]
    mibps = [nbytes / r["wall"] / 2**20 for r in runs]
    recps = [stamp["records"] / r["wall"] for r in runs]
    cpu_gb = [r["cpu"] / (nbytes / 1e9) for r in runs]
    rss = [r["rss_mib"] for r in runs]
    wall = [r["wall"] for r in runs]
    cpu = [r["cpu"] for r in runs]
    med = statistics.median
    ok = lambda good: "yes" if good else "**no**"  # noqa: E731
    rows = [
        ("Input throughput (MB/s)", fmt(max(mbps)), fmt(med(mbps)), f"≥ {TARGET_MBPS:.0f}", ok(max(mbps) >= TARGET_MBPS)),
        ("Input throughput (MiB/s)", fmt(max(mibps)), fmt(med(mibps)), "", ""),
        ("Records/s", fmt(max(recps), 0), fmt(med(recps), 0), "", ""),
        ("CPU-seconds per GB of input (logship)", fmt(min(cpu_gb), 2), fmt(med(cpu_gb), 2), "", ""),
        ("Peak RSS (MiB, logship)", fmt(min(rss)), fmt(med(rss)), f"≤ {TARGET_RSS_MIB:.0f}",
         ok(min(rss) <= TARGET_RSS_MIB)),
        ("Wall time (s)", fmt(min(wall), 3), fmt(med(wall), 3), "", ""),
        ("CPU time, user+sys (s, logship)", fmt(min(cpu), 3), fmt(med(cpu), 3), "", ""),
    ]
    fl, note = floor
    rows.append(("simdjson parse floor (MB/s, one core)", fmt(fl) if fl is not None else note, "", "", ""))
    if fl is not None:
        floor_cpu_gb = 1000.0 / fl  # one core busy the whole time
        rows.append(("Throughput / parse floor", fmt(max(mbps) / fl, 3), fmt(med(mbps) / fl, 3),
                     f"≥ {TARGET_FLOOR_THROUGHPUT}", ok(max(mbps) / fl >= TARGET_FLOOR_THROUGHPUT)))
        rows.append(("CPU-s/GB / parse floor's", fmt(min(cpu_gb) / floor_cpu_gb, 2),
                     fmt(med(cpu_gb) / floor_cpu_gb, 2), f"≤ {TARGET_FLOOR_CPU:.0f}x",
                     ok(min(cpu_gb) / floor_cpu_gb <= TARGET_FLOOR_CPU)))
    broker = [r["broker_cpu"] for r in runs if r["broker_cpu"] is not None]
    if broker:
        rows.append(("Broker CPU time (s, same machine)", fmt(min(broker), 2), fmt(med(broker), 2), "", ""))
    cpu_model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    settings = " ".join(f"{k}={v}" for k, v in sorted(args.env.items()))
    lines = [
        f"Input: {nbytes:,} bytes ({nbytes / 2**20:.0f} MiB) in {stamp['files']} {args.format.upper()} files "
        f"(kubelet layout, loggen seed {stamp['seed']}), {stamp['records']:,} records; output: Kafka "
        f"({args.compression}, acks=all, idempotent), one message per record, 1 broker on this machine"
        + (f"; extra settings: {settings}" if settings else "") + ".",
        f"logship: {version}; {len(runs)} runs after {args.warmup} warm-up (best and median per metric). "
        f"Host: {os.cpu_count()} CPUs{', ' + cpu_model if cpu_model else ''}, {platform.system()} {platform.release()}.",
        "",
        "| Metric | Best | Median | Target | Best meets target |",
        "|---|---:|---:|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description="End-to-end benchmark of logship --oneshot (CRI files -> Kafka).",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--logship", default=os.path.join(REPO, "build", "logship"), help="logship binary")
    ap.add_argument("--consume", default=None,
                    help="kafka_consume binary (default: tests/kafka/kafka_consume next to --logship)")
    ap.add_argument("--brokers", default=os.environ.get("KAFKA_BROKERS"),
                    help="bootstrap brokers of a running cluster (default: $KAFKA_BROKERS, else start one)")
    ap.add_argument("--parse-floor", default=os.path.join(REPO, "build", "bench", "logship_parse_floor"),
                    help="parse floor binary")
    ap.add_argument("--no-parse-floor", action="store_true", help="do not run the parse floor")
    ap.add_argument("--compression", default="zstd", choices=["zstd", "lz4", "gzip", "snappy", "none"])
    ap.add_argument("--bytes", type=parse_size, default=parse_size("256MiB"),
                    help="input size (K/M/G = 10^3.., Ki/Mi/Gi = 2^10..); default 256 MiB")
    ap.add_argument("--files", type=int, default=8, help="number of input files")
    ap.add_argument("--format", choices=["cri", "docker"], default="cri", help="input framing")
    ap.add_argument("--seed", type=int, default=1, help="loggen seed")
    ap.add_argument("--data", default="/tmp/logship-bench-data", help="cache directory for the generated input")
    ap.add_argument("--regenerate", action="store_true", help="regenerate the input even if the cache matches")
    ap.add_argument("--runs", type=int, default=3, help="number of measured runs")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured runs first (checked like the others)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds before a run is killed")
    ap.add_argument("--tmp", default=None, help="parent of the per-run temporary directories")
    ap.add_argument("--keep", action="store_true", help="keep each run's temporary directory")
    ap.add_argument("--env", action="append", default=[], metavar="LOGSHIP_KEY=VALUE",
                    help="extra setting for logship (repeatable), e.g. LOGSHIP_KAFKA_OPT_LINGER_MS=20")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.files < 1 or args.bytes < 1:
        ap.error("--runs >= 1, --warmup >= 0, --files >= 1 and --bytes > 0 are required")
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("LOGSHIP_"):
            ap.error(f"--env wants LOGSHIP_KEY=VALUE, got {item!r}")
        env[key] = value
    args.env = env
    args.data = os.path.abspath(args.data)
    args.logship = os.path.abspath(args.logship)
    args.parse_floor = os.path.abspath(args.parse_floor)
    if args.consume is None:
        args.consume = os.path.join(os.path.dirname(args.logship), "tests", "kafka", "kafka_consume")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    for tool in (args.logship, args.consume):
        if not os.access(tool, os.X_OK):
            log(f"bench_kafka: {tool} not found or not executable (build it: cmake --build build)")
            return 2
    try:
        stamp = bench_oneshot.ensure_data(args)
    except (bench_oneshot.SetupError, OSError) as e:
        log(f"bench_kafka: {e}")
        return 2
    try:
        broker = Broker(args.brokers, os.environ.get("KAFKA_DIR"), owned=False) if args.brokers else Broker.start()
    except (SetupError, OSError, subprocess.TimeoutExpired) as e:
        log(f"bench_kafka: {e}")
        return 2
    try:
        version = bench_oneshot.logship_version(args.logship)
        runs = []
        nbytes = stamp["total_bytes"]
        for i in range(-args.warmup, args.runs):
            try:
                r = run_logship(args, args.data, broker)
            except SetupError as e:
                log(f"bench_kafka: {e}")
                return 2
            name = f"warm-up {i + args.warmup + 1}/{args.warmup}" if i < 0 else f"run {i + 1}/{args.runs}"
            broker_note = f", broker {r['broker_cpu']:.2f} s CPU" if r["broker_cpu"] is not None else ""
            log(f"{name}: {r['wall']:.3f} s wall, {r['user']:.3f} s user + {r['sys']:.3f} s sys, "
                f"peak RSS {r['rss_mib']:.1f} MiB, {r['messages']} messages, {nbytes / r['wall'] / 1e6:.1f} MB/s"
                + broker_note + (f" (kept {r['tmp']})" if args.keep else ""))
            failure = None
            if r["timed_out"]:
                failure = f"timed out after {args.timeout:.0f} s"
            elif r["exit"] != 0:
                failure = f"exited with status {r['exit']}" if r["exit"] > 0 else f"killed by signal {-r['exit']}"
            elif r["messages"] < stamp["records"]:
                failure = f"topic {r['topic']} holds {r['messages']} messages, the generator made {stamp['records']} records"
            if failure:
                log(f"bench_kafka: logship {failure}")
                if r["stderr_tail"].strip():
                    log("--- logship stderr (tail) ---\n" + r["stderr_tail"].rstrip())
                return 1
            if i >= 0:
                runs.append(r)
        floor = bench_oneshot.run_parse_floor(args, bench_oneshot.data_files(args.data))
        print(report(args, stamp, runs, version, floor))
        return 0
    finally:
        broker.close()


if __name__ == "__main__":
    sys.exit(main())
