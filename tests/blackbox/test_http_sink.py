"""The HTTP sink against tests/blackbox/http_receiver.py: each format's
documented request shape, compression, auth headers, and the delivery rules
under injected faults (500, 429 with Retry-After, 503, slow answers, hung
answers, connection resets, 413, 400, Elasticsearch per-item errors):
every record arrives exactly once in the requests the receiver
acknowledged, in order per file (with one request in flight), and what the
endpoint rejects is in the dead-letter file."""

import json

import pytest

from conftest import run_logship, wait_for
from follow_agent import FollowAgent
from http_helpers import check_exactly_once, http_env, make_inputs
from http_receiver import Fault, Receiver

DEAD_LETTER = "http-dead-letter.ndjson"


@pytest.fixture
def receiver():
    made = []

    def make(*a, **kw):
        rx = Receiver(*a, **kw).start()
        made.append(rx)
        return rx

    yield make
    for rx in made:
        rx.stop()


def dead_letters(tmp_path):
    path = tmp_path / "state" / DEAD_LETTER
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# Faults between clean requests: with one request in flight each fault hits a
# batch, which the sink retries in place, so order per file must survive.
MIXED_FAULTS = [Fault.status(500), None, Fault.retry_after(429, "1"), None, Fault.reset(), None,
                Fault.status(503), None, Fault.slow(0.3), None, Fault.status(502)]


@pytest.mark.parametrize("fmt,compression", [
    ("ndjson", "gzip"), ("ndjson", "none"), ("loki", "zstd"), ("elasticsearch", "gzip"), ("splunk_hec", "zstd"),
])
def test_formats_under_faults_exactly_once_in_order(tmp_path, receiver, fmt, compression):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-token\n")  # the trailing newline is not part of it
    extra, expect = {}, {}
    if fmt == "splunk_hec":
        extra["LOGSHIP_HTTP_TOKEN_FILE"] = str(secret)
        expect["Authorization"] = "Splunk s3cr3t-token"
    elif fmt == "elasticsearch":
        extra["LOGSHIP_HTTP_USER"] = "elastic"
        extra["LOGSHIP_HTTP_PASSWORD_FILE"] = str(secret)
        expect["Authorization"] = "Basic ZWxhc3RpYzpzM2NyM3QtdG9rZW4="  # elastic:s3cr3t-token
        extra["LOGSHIP_HTTP_INDEX"] = "logs-{namespace}-%Y.%m.%d"
    elif fmt == "loki":
        extra["LOGSHIP_HTTP_HEADERS"] = "X-Scope-OrgID=team-a,X-Extra=1"
        expect["X-Scope-OrgID"] = "team-a"
    else:
        extra["LOGSHIP_HTTP_TOKEN_FILE"] = str(secret)
        expect["Authorization"] = "Bearer s3cr3t-token"
    rx = receiver(fmt, expect_headers=expect)
    rx.faults.extend(MIXED_FAULTS)
    inputs, counts = make_inputs(tmp_path)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_FORMAT=fmt, LOGSHIP_COMPRESSION=compression,
                   LOGSHIP_HTTP_CONCURRENCY="1", **extra)
    r = run_logship(env, "--oneshot")
    stderr = r.stderr.decode()
    assert r.returncode == 0, stderr
    assert rx.violations == []
    assert not rx.faults, "every injected fault was hit"
    records = rx.records()
    if fmt == "loki":
        # Loki groups a request's records by stream (stdout/stderr are
        # separate streams); its time order is the file order.
        records = [r for _, recs in rx.requests() for r in sorted(recs, key=lambda r: r["_loki_ns"])]
    check_exactly_once(records, counts)
    assert set(rx.encodings) == {compression}
    assert len(rx.requests()) > 5
    # Secrets never reach the agent's own logs.
    assert "s3cr3t" not in stderr
    assert dead_letters(tmp_path) == []
    if fmt == "elasticsearch":
        # The index holds the namespace and the record's UTC date.
        for _, recs in rx.requests():
            for rec in recs:
                assert rec["@timestamp"] == rec["ts"]
    # A second run ships nothing new: the checkpoints moved on.
    before = len(rx.records())
    r2 = run_logship(env, "--oneshot")
    assert r2.returncode == 0
    assert len(rx.records()) == before


def test_adaptive_concurrency_exactly_once(tmp_path, receiver):
    rx = receiver("ndjson")
    rx.faults.extend([Fault.slow(0.05)] * 10 + [Fault.retry_after(429, "0"), Fault.status(503)] * 3)
    inputs, counts = make_inputs(tmp_path, lines=400)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_FORMAT="ndjson", LOGSHIP_BATCH_MAX_BYTES="2KiB")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    # Requests may overtake each other; each record is still there once.
    check_exactly_once(rx.records(), counts, ordered=False)


def test_413_splits_the_request(tmp_path, receiver):
    rx = receiver("ndjson")
    rx.faults.append(Fault.too_large_over(4))
    inputs, counts = make_inputs(tmp_path, lines=40)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_CONCURRENCY="1")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    assert rx.violations == []
    check_exactly_once(rx.records(), counts)
    assert all(len(recs) <= 4 for _, recs in rx.requests())
    assert "413" in r.stderr.decode()


def test_400_goes_to_the_dead_letter_file(tmp_path, receiver):
    rx = receiver("ndjson")
    rx.faults.extend([None, Fault.status(400, b'{"error":"bad request: field x"}')])
    inputs, counts = make_inputs(tmp_path, lines=60)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_CONCURRENCY="1")
    r = run_logship(env, "--oneshot")
    stderr = r.stderr.decode()
    assert r.returncode == 0, stderr  # the checkpoint moves on
    dead = dead_letters(tmp_path)
    assert dead, "the rejected request's records are in the dead-letter file"
    assert all(d["status"] == 400 and "bad request" in d["error"] for d in dead)
    # Delivered + dead-lettered = every record, exactly once, still in order.
    check_exactly_once(rx.records()[: 0] + [rec for rec in rx.records()] + [d["record"] for d in dead], counts,
                       ordered=False)
    assert "dead-letter" in stderr  # logged, never silent
    # Not sent again by a second run.
    r2 = run_logship(env, "--oneshot")
    assert r2.returncode == 0
    assert len(dead_letters(tmp_path)) == len(dead)


def test_elasticsearch_item_errors_in_a_200(tmp_path, receiver):
    rx = receiver("elasticsearch")
    # First request: items 1 and 4 busy (retried alone), item 2 a mapping error.
    rx.faults.append(Fault.bulk_errors({1: 429, 2: 400, 4: 503}))
    inputs, counts = make_inputs(tmp_path, lines=30)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_FORMAT="elasticsearch", LOGSHIP_HTTP_CONCURRENCY="1")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    assert rx.violations == []
    dead = dead_letters(tmp_path)
    assert len(dead) == 1 and dead[0]["status"] == 400 and "mapper_parsing_exception" in dead[0]["error"]
    retried = rx.requests()[1][1]
    assert len(retried) == 2, "only the two busy items are sent again"
    docs = [{k: v for k, v in d.items() if k != "@timestamp"} for d in rx.records()]
    check_exactly_once(docs + [dead[0]["record"]], counts, ordered=False)


def test_hung_answer_times_out_and_is_retried(tmp_path, receiver):
    rx = receiver("ndjson")
    rx.faults.extend([Fault.hang(1.5)])
    inputs, counts = make_inputs(tmp_path, lines=30)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_CONCURRENCY="1", LOGSHIP_HTTP_TIMEOUT_MS="300")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    assert "LOGSHIP_HTTP_TIMEOUT_MS" in r.stderr.decode()
    check_exactly_once(rx.records(), counts)


def test_endpoint_down_in_oneshot_exits_1(tmp_path):
    # Nothing listens there (a port just closed).
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inputs, _ = make_inputs(tmp_path, lines=5)
    env = http_env(tmp_path, inputs, f"http://127.0.0.1:{port}/logs")
    r = run_logship(env, "--oneshot", timeout=120)
    assert r.returncode == 1
    assert "Connection refused" in r.stderr.decode()


def test_follow_readyz_and_metrics_while_failing(tmp_path, receiver):
    rx = receiver("ndjson")
    rx.faults.extend([Fault.status(500)] * 10**6)  # failing until cleared
    inputs, counts = make_inputs(tmp_path, lines=50)
    agent = FollowAgent.with_env(tmp_path, http_env(tmp_path, inputs, rx.url)).start()
    try:
        # 503 "starting" comes first: wait for the sink's own reason.
        wait_for(lambda: "http endpoint failing" in agent.get("/readyz")[1], timeout=30,
                 what="/readyz 503 naming the failing endpoint")
        status, body = agent.get("/readyz")
        assert status == 503 and "500" in body, body
        wait_for(lambda: agent.metrics().get("logship_http_retries_total", 0) >= 2, timeout=30, what="retries")
        # A resend is counted when the sink takes it, its 5xx when the
        # answer comes (after its body is encoded): wait, do not race.
        wait_for(lambda: agent.metrics().get('logship_http_requests_total{class="5xx"}', 0) >= 2, timeout=30,
                 what="two 5xx answers")
        assert rx.records() == []

        rx.faults.clear()  # the endpoint recovers
        wait_for(lambda: len(rx.records()) >= sum(counts.values()), timeout=60, what="records after recovery")
        wait_for(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="/readyz 200")
        m = agent.metrics()
        assert m['logship_http_requests_total{class="2xx"}'] > 0
        assert m['logship_http_request_duration_seconds_bucket{le="+Inf"}'] == \
            m["logship_http_request_duration_seconds_count"] > 0
        assert m["logship_http_request_bytes_total"] > m["logship_http_request_compressed_bytes_total"] > 0
        assert m["logship_http_concurrency_limit"] >= 1
        assert m["logship_http_requests_in_flight"] == 0
        assert m["logship_http_dead_letter_records_total"] == 0
    finally:
        rc = agent.stop()
    assert rc == 0, agent.stderr()
    check_exactly_once(rx.records(), counts, ordered=False)


def test_follow_failing_endpoint_pauses_reading(tmp_path, receiver):
    rx = receiver("ndjson")
    rx.faults.extend([Fault.status(503)] * 10**6)
    # ~6 MB of input against a 4 MiB memory limit: reading must pause while
    # the endpoint fails, and nothing may be lost when it comes back.
    inputs, counts = make_inputs(tmp_path, lines=8000, pad=200)
    total_bytes = sum(p.stat().st_size for p in tmp_path.glob("pods/*/*/0.log"))
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_MEMORY_LIMIT="4MiB", LOGSHIP_BATCH_MAX_BYTES="64KiB")
    agent = FollowAgent.with_env(tmp_path, env).start()
    try:
        wait_for(lambda: agent.metrics().get("logship_http_retries_total", 0) >= 3, timeout=30, what="retries")
        m = agent.metrics()
        assert m["logship_in_flight_bytes"] <= 4 * 2**20
        assert m["logship_read_bytes_total"] < total_bytes
        assert agent.get("/healthz")[0] == 200  # backpressure is not a hang
        assert rx.records() == []
        rx.faults.clear()
        total = sum(counts.values())
        wait_for(lambda: len(rx.records()) >= total, timeout=60, what="all records after recovery")
        assert agent.metrics()["logship_read_bytes_total"] == total_bytes
    finally:
        rc = agent.stop()
    assert rc == 0, agent.stderr()
    check_exactly_once(rx.records(), counts, ordered=False)
