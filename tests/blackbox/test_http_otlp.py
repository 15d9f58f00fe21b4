"""OTLP/HTTP into a real OpenTelemetry Collector (otlp receiver, file
exporter), built by tests/otel/build_collector.sh. Every record must arrive
with its trace id, span id, resource attributes, timestamp, severity and body
intact.

The collector binary comes from LOGSHIP_OTELCOL (scripts/test.sh builds it
and sets it). Without it the test is skipped, so a plain `pytest` run on a
machine without Go still works; with LOGSHIP_OTELCOL set to a missing file it
fails."""

import json
import os
import pathlib
import socket
import subprocess
import time
from datetime import datetime

import pytest

from conftest import run_logship, wait_for
from http_helpers import LEVELS, SPAN, TRACE, check_exactly_once, http_env, make_inputs

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "otel" / "collector.yaml"
SEVERITY = {"debug": 5, "info": 9, "warn": 13, "error": 17}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def collector(tmp_path):
    binary = os.environ.get("LOGSHIP_OTELCOL")
    if not binary:
        pytest.skip("LOGSHIP_OTELCOL not set (scripts/test.sh builds the collector with tests/otel/build_collector.sh)")
    assert pathlib.Path(binary).is_file(), f"LOGSHIP_OTELCOL={binary} does not exist"
    out = tmp_path / "otel-out.jsonl"
    proc = None
    # The port is free when chosen; another process may still take it before
    # the collector binds, so try a few.
    for _ in range(5):
        port = free_port()
        cfg = tmp_path / "collector.yaml"
        cfg.write_text(CONFIG.read_text().replace("@ENDPOINT@", f"127.0.0.1:{port}").replace("@OUTPUT@", str(out)))
        log = open(tmp_path / "collector.log", "wb")
        proc = subprocess.Popen([binary, "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        up = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    up = True
                    break
            except OSError:
                time.sleep(0.05)
        if up:
            break
        proc.kill()
        proc.wait()
    assert up, (tmp_path / "collector.log").read_text()
    yield f"http://127.0.0.1:{port}", out
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def exported_records(path: pathlib.Path):
    """[(resource attributes, log record)] from the file exporter's JSON lines."""
    if not path.exists():
        return []
    out = []
    data = path.read_text()
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            break  # a line still being written
        for rl in doc.get("resourceLogs", []):
            attrs = {a["key"]: a["value"] for a in rl.get("resource", {}).get("attributes", [])}
            for sl in rl.get("scopeLogs", []):
                for lr in sl.get("logRecords", []):
                    out.append((attrs, lr))
    return out


def any_to_py(v):
    """OTLP AnyValue (JSON) -> Python value."""
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        return [any_to_py(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: any_to_py(kv.get("value", {})) for kv in v["kvlistValue"].get("values", [])}
    return None


def unix_nanos(ts: str) -> int:
    head, _, rest = ts.partition(".")
    frac = rest[:len(rest) - len(rest.lstrip("0123456789"))]
    zone = rest[len(frac):]
    dt = datetime.fromisoformat(head + (zone.replace("Z", "+00:00")))
    return int(dt.timestamp()) * 10**9 + int(frac.ljust(9, "0")[:9])


# With one request in flight the collector sees each file's records in order;
# with adaptive concurrency requests may overtake each other.
@pytest.mark.parametrize("compression,concurrency", [("gzip", "adaptive"), ("zstd", "1")])
def test_otlp_into_collector(tmp_path, collector, compression, concurrency):
    url, out = collector
    inputs, counts = make_inputs(tmp_path, lines=120)
    env = http_env(tmp_path, inputs, url, LOGSHIP_HTTP_FORMAT="otlp", LOGSHIP_COMPRESSION=compression,
                   LOGSHIP_HTTP_CONCURRENCY=concurrency)
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()

    total = sum(counts.values())
    wait_for(lambda: len(exported_records(out)) >= total, timeout=30, what="collector file export")
    got = exported_records(out)
    assert len(got) == total

    bodies = []
    for attrs, lr in got:
        body = any_to_py(lr["body"])
        bodies.append({"log": body})
        ns, pod, container = body["file"].split("/")
        assert attrs["k8s.namespace.name"] == {"stringValue": ns}
        assert attrs["k8s.pod.name"] == {"stringValue": pod}
        assert attrs["k8s.container.name"] == {"stringValue": container}
        assert attrs["k8s.pod.uid"] == {"stringValue": "0f8e6a2c-1b2c-4d5e-8f90-123456789abc"}
        assert attrs["service.version"] == {"stringValue": "checkout@1.4.2"}
        # The collector writes ids as hex, as OTLP/JSON specifies.
        assert lr["traceId"] == TRACE
        assert lr["spanId"] == SPAN
        level = LEVELS[body["seq"] % len(LEVELS)]
        assert lr["severityText"] == level
        assert lr["severityNumber"] == SEVERITY[level]
        # Body intact: the app's JSON object as a kvlist, every member and type.
        assert body == {"level": level, "msg": f"record {body['seq']} of {body['file']}", "file": body["file"],
                        "seq": body["seq"], "trace_id": TRACE, "span_id": SPAN}
        stream = {a["key"]: a["value"] for a in lr.get("attributes", [])}["log.iostream"]["stringValue"]
        assert stream == ("stderr" if body["seq"] % 5 == 0 else "stdout")
    check_exactly_once(bodies, counts, ordered=concurrency == "1")

    # timeUnixNano from ts, offsets honoured: compare with the input files.
    expect_ns = {}
    for path in tmp_path.glob("pods/*/*/0.log"):
        for line in path.read_text().splitlines():
            ts, _, _, payload = line.split(" ", 3)
            p = json.loads(payload)
            expect_ns[(p["file"], p["seq"])] = unix_nanos(ts)
    for attrs, lr in got:
        body = any_to_py(lr["body"])
        assert int(lr["timeUnixNano"]) == expect_ns[(body["file"], body["seq"])]
