"""A kubelet-like tree (pods/ files, containers/ symlinks) shipped with
--oneshot into the file sink, checked record by record."""

import json
import os
import pathlib

from conftest import clean_env, read_records, run_logship

POD_UID = "0f8e6a2c-1b2c-4d5e-8f90-123456789abc"
CID_A = "a" * 64
CID_B = "b" * 64
TS = "2026-11-26T23:08:04.{:09d}Z"


def make_tree(root: pathlib.Path, files):
    """files: {(ns, pod, container, cid): bytes}. Returns the containers/ paths."""
    paths = []
    for (ns, pod, container, cid), content in files.items():
        d = root / "pods" / f"{ns}_{pod}_{POD_UID}" / container
        d.mkdir(parents=True, exist_ok=True)
        (d / "0.log").write_bytes(content)
        link = root / "containers" / f"{pod}_{ns}_{container}-{cid}.log"
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(d / "0.log", link)
        paths.append(link)
    return paths


def cri(i, stream, tag, payload: bytes) -> bytes:
    return TS.format(i).encode() + b" " + stream.encode() + b" " + tag.encode() + b" " + payload + b"\n"


# Each case: (CRI lines, expected record fields beyond ts/stream/k8s).
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def build_cases():
    cases = []  # (lines bytes, expected dict, raw object bytes or None)
    def add(lines, expect, raw=None):
        cases.append((lines, expect, raw))

    obj = b'{"level":"info","msg":"hello","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00F067AA0BA902B7"}'
    add([("stdout", "F", obj)], {"trace_id": TRACE, "span_id": SPAN, "log": json.loads(obj)}, obj)
    obj = b'{"traceId":"' + TRACE.encode() + b'","spanId":"' + SPAN.encode() + b'","n":1}'
    add([("stdout", "F", obj)], {"trace_id": TRACE, "span_id": SPAN, "log": json.loads(obj)}, obj)
    obj = b'{"traceparent":"00-' + TRACE.encode() + b"-" + SPAN.encode() + b'-01"}'
    add([("stdout", "F", obj)], {"trace_id": TRACE, "span_id": SPAN, "log": json.loads(obj)}, obj)
    obj = b'{"trace":{"id":"' + TRACE.encode() + b'"},"span":{"id":"' + SPAN.encode() + b'"}}'
    add([("stdout", "F", obj)], {"trace_id": TRACE, "span_id": SPAN, "log": json.loads(obj)}, obj)
    obj = b'{"logging.googleapis.com/trace":"projects/p1/traces/' + TRACE.encode() + b'","logging.googleapis.com/spanId":"' + SPAN.encode() + b'"}'
    add([("stdout", "F", obj)], {"trace_id": TRACE, "span_id": SPAN, "log": json.loads(obj)}, obj)
    obj = b'{"traceID":"463ac35c9f6413ad","msg":"b3"}'
    add([("stdout", "F", obj)], {"trace_id": "0000000000000000463ac35c9f6413ad", "log": json.loads(obj)}, obj)
    obj = b'{"trace_id":"00000000000000000000000000000000","span_id":"xyz"}'
    add([("stdout", "F", obj)], {"log": json.loads(obj)}, obj)
    text = b"GET /cart traceparent=00-" + TRACE.encode() + b"-" + SPAN.encode() + b"-01 200"
    add([("stderr", "F", text)], {"trace_id": TRACE, "span_id": SPAN, "log": text.decode()})
    add([("stdout", "F", b"plain text \"quoted\" \\ tab\t")], {"log": "plain text \"quoted\" \\ tab\t"})
    add([("stdout", "F", b"caf\xc3\xa9 ok, bad \xff byte")], {"log": "caf\u00e9 ok, bad \ufffd byte"})
    add([("stdout", "F", b"")], {"log": ""})
    add([("stdout", "F", b"[1,2,3]")], {"log": "[1,2,3]"})
    add([("stdout", "F", b'{"broken":')], {"log": '{"broken":'})
    add([("stdout", "F", b"windows line\r")], {"log": "windows line"})
    # Partials: a JSON object split in three chunks.
    add([("stdout", "P", b'{"msg":"par'), ("stdout", "P", b"tial "), ("stdout", "F", b'record"}')],
        {"log": {"msg": "partial record"}}, b'{"msg":"partial record"}')
    # Over the record limit (LOGSHIP_MAX_RECORD_BYTES=2048 below): cut and marked.
    big = b"x" * 5000
    add([("stdout", "P", big[:3000]), ("stdout", "F", big[3000:])], {"log": "x" * 2048, "truncated": True})
    add([("stdout", "F", b"y" * 3000)], {"log": "y" * 2048, "truncated": True})
    return cases


def test_kubelet_tree_record_by_record(tmp_path):
    cases = build_cases()
    lines_a, expected_a = b"", []
    n = 0
    for lines, expect, raw in cases:
        stream = lines[0][0]
        first_ts = TS.format(n)
        for s, tag, payload in lines:
            lines_a += cri(n, s, tag, payload)
            n += 1
        expected_a.append((first_ts, stream, expect, raw))
    # A second container: docker-style file? No: the second file is CRI too,
    # with an unterminated last line that oneshot must still ship.
    lines_b = cri(0, "stdout", "F", b"first of b") + TS.format(1).encode() + b" stdout F last without newline"

    make_tree(tmp_path, {
        ("shop", "checkout-7d9f8b6c5-x2x9q", "app", CID_A): lines_a,
        ("shop", "checkout-7d9f8b6c5-x2x9q", "istio-proxy", CID_B): lines_b,
    })
    out = tmp_path / "out.ndjson"
    env = clean_env(
        LOGSHIP_INPUT_PATHS=f"{tmp_path}/containers/*.log",
        LOGSHIP_STATE_DIR=tmp_path / "state",
        LOGSHIP_SINK="file",
        LOGSHIP_FILE_PATH=out,
        LOGSHIP_RELEASE="checkout@1.4.2",
        LOGSHIP_MAX_RECORD_BYTES="2048",
        LOGSHIP_LISTEN="off",
    )
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    records = read_records(out)
    raw_lines = out.read_bytes().splitlines()

    k8s_a = {"namespace": "shop", "pod": "checkout-7d9f8b6c5-x2x9q", "container": "app", "container_id": CID_A}
    k8s_b = {"namespace": "shop", "pod": "checkout-7d9f8b6c5-x2x9q", "container": "istio-proxy", "container_id": CID_B}
    assert len(records) == len(expected_a) + 2
    for rec, raw_line, (ts, stream, expect, raw) in zip(records, raw_lines, expected_a):
        want = {"ts": ts, "stream": stream, "release": "checkout@1.4.2", "k8s": k8s_a}
        want.update(expect)
        assert rec == want
        if raw is not None:
            # JSON objects are passed through byte for byte, not re-serialised.
            assert b'"log":' + raw in raw_line
    assert records[-2] == {"ts": TS.format(0), "stream": "stdout", "release": "checkout@1.4.2", "k8s": k8s_b, "log": "first of b"}
    assert records[-1]["log"] == "last without newline"

    # Own logs are JSON lines on stderr; record content never appears there.
    for line in r.stderr.decode().splitlines():
        entry = json.loads(line)
        assert {"time", "level", "msg"} <= entry.keys()
    assert b"hello" not in r.stderr

    # A second run over the same state ships nothing.
    before = out.read_bytes()
    r2 = run_logship(env, "--oneshot")
    assert r2.returncode == 0, r2.stderr.decode()
    assert out.read_bytes() == before

    # Lines appended later are shipped from the checkpoint on.
    with open(tmp_path / "pods" / f"shop_checkout-7d9f8b6c5-x2x9q_{POD_UID}" / "app" / "0.log", "ab") as f:
        f.write(cri(999, "stdout", "F", b'{"late":true}'))
    r3 = run_logship(env, "--oneshot")
    assert r3.returncode == 0, r3.stderr.decode()
    new = read_records(out)[len(records):]
    assert [x["log"] for x in new] == [{"late": True}]


def test_pods_paths_and_docker_and_raw_formats(tmp_path):
    pod_dir = tmp_path / "pods" / f"web_frontend-1_{POD_UID}" / "nginx"
    pod_dir.mkdir(parents=True)
    docker = (
        b'{"log":"{\\"status\\":200}\\n","stream":"stdout","time":"2026-11-26T23:08:04.5+10:00"}\n'
        b'{"log":"split ","stream":"stderr","time":"2026-11-26T23:08:05Z"}\n'
        b'{"log":"line\\n","stream":"stderr","time":"2026-11-26T23:08:06Z"}\n'
    )
    (pod_dir / "0.log").write_bytes(docker)
    raw_file = tmp_path / "plain.log"
    raw_file.write_bytes(b"alpha\nbeta\n")
    out = tmp_path / "out.ndjson"
    env = clean_env(
        LOGSHIP_INPUT_PATHS=f"{tmp_path}/pods/*/*/*.log,{raw_file}",
        LOGSHIP_STATE_DIR=tmp_path / "state",
        LOGSHIP_SINK="file",
        LOGSHIP_FILE_PATH=out,
        LOGSHIP_LISTEN="off",
    )
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    recs = read_records(out)
    k8s = {"namespace": "web", "pod": "frontend-1", "pod_uid": POD_UID, "container": "nginx"}
    assert recs[0] == {"ts": "2026-11-26T23:08:04.5+10:00", "stream": "stdout", "k8s": k8s, "log": {"status": 200}}
    assert recs[1] == {"ts": "2026-11-26T23:08:05Z", "stream": "stderr", "k8s": k8s, "log": "split line"}
    assert [x["log"] for x in recs[2:]] == ["alpha", "beta"]
    assert all(x["stream"] == "stdout" and x["ts"].endswith("Z") and "k8s" not in x for x in recs[2:])
