"""The Kafka sink against real Apache Kafka brokers (tests/kafka/kafka.sh):
records arrive exactly as the file sink writes them (value, key, headers),
nothing is lost when the broker stops for 20 s, when one broker of three is
killed, or when logship itself is killed; readiness follows the brokers;
configuration mistakes stop logship at start with exit 2.

The single broker comes from the environment (KAFKA_BROKERS and KAFKA_DIR,
exported by scripts/test.sh); without them this module starts its own and
stops it at the end. The 3-broker test always starts its own cluster.
Messages are read back with tests/kafka/kafka_consume (librdkafka), which
reads every partition up to the high watermark it saw at start."""

import base64
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import BIN, ROOT, SANITIZED, clean_env, read_records, run_logship, wait_for
from follow_agent import FollowAgent, cri_line
from test_oneshot_kubelet_tree import CID_A, CID_B, build_cases, cri, make_tree

KAFKA_SH = ROOT / "tests" / "kafka" / "kafka.sh"
PROBE = ROOT / "tests" / "kafka" / "kafka_probe.py"
CONSUME = pathlib.Path(os.environ.get("LOGSHIP_KAFKA_CONSUME", BIN.parent / "tests" / "kafka" / "kafka_consume"))


# --------------------------------------------------------------------------
# Brokers and reading back


class Cluster:
    def __init__(self, brokers, directory):
        self.brokers = brokers
        self.dir = directory

    def sh(self, *args, timeout=180):
        r = subprocess.run([str(KAFKA_SH), *args, "--dir", self.dir], capture_output=True, text=True,
                           timeout=timeout)
        assert r.returncode == 0, f"kafka.sh {' '.join(args)} failed:\n{r.stderr[-3000:]}"
        return r

    def metadata(self, topic=None):
        cmd = ["python3", str(PROBE), "metadata", "-b", self.brokers, "--json"]
        if topic:
            cmd += ["-t", topic]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)


def start_cluster(n):
    directory = tempfile.mkdtemp(prefix="logship-kafka-test.")
    r = subprocess.run([str(KAFKA_SH), "start", "--brokers", str(n), "--dir", directory], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise AssertionError(f"cannot start a {n}-broker Kafka cluster:\n{r.stderr[-3000:]}")
    env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return Cluster(env["KAFKA_BROKERS"], directory)


def stop_cluster(cluster):
    subprocess.run([str(KAFKA_SH), "stop", "--dir", cluster.dir, "--rm"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def kafka():
    """The single-broker cluster: scripts/test.sh's, or one of our own."""
    if os.environ.get("KAFKA_BROKERS") and os.environ.get("KAFKA_DIR"):
        yield Cluster(os.environ["KAFKA_BROKERS"], os.environ["KAFKA_DIR"])
        return
    if not shutil.which("java") or not shutil.which("mvn"):
        pytest.skip("no KAFKA_BROKERS and no java/mvn to start a broker (run scripts/test.sh)")
    cluster = start_cluster(1)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def new_topic(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Message:
    def __init__(self, d):
        self.topic = d["topic"]
        self.partition = d["partition"]
        self.offset = d["offset"]
        self.key = None if d["key"] is None else base64.b64decode(d["key"])
        self.headers = [(name, base64.b64decode(v)) for name, v in d["headers"]]
        self.value = base64.b64decode(d["value"])


def consume(brokers, *topics, timeout=90):
    """Everything the topics hold now, in (topic, partition, offset) order."""
    assert CONSUME.exists(), f"{CONSUME} not built"
    cmd = [str(CONSUME), "--brokers", brokers, "--timeout-ms", str(timeout * 1000)]
    for t in topics:
        cmd += ["--topic", t]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout + 30)
    assert r.returncode == 0, r.stderr.decode()
    return [Message(json.loads(line)) for line in r.stdout.splitlines()]


def kafka_env(tmp, brokers, topic, **extra):
    settings = dict(LOGSHIP_SINK="kafka", LOGSHIP_KAFKA_BROKERS=brokers, LOGSHIP_KAFKA_TOPIC=topic,
                    LOGSHIP_STATE_DIR=tmp / "state-kafka", LOGSHIP_LISTEN="off")
    settings.update(extra)
    return clean_env(**settings)


def kafka_agent(tmp, inputs, brokers, topic, **env):
    """A follow-mode agent (FollowAgent) switched to the Kafka sink."""
    agent = FollowAgent(tmp, inputs)
    agent.env.pop("LOGSHIP_FILE_PATH")
    agent.env.update({"LOGSHIP_SINK": "kafka", "LOGSHIP_KAFKA_BROKERS": brokers, "LOGSHIP_KAFKA_TOPIC": topic})
    agent.env.update({k: str(v) for k, v in env.items()})
    return agent


def ids_of(messages):
    return [json.loads(m.value)["log"]["n"] for m in messages]


class Writer(threading.Thread):
    """Appends CRI lines {"n": i, ...} to `path` at about `rate` lines/s."""

    def __init__(self, path, rate=2000, pad=200):
        super().__init__(daemon=True)
        self.path, self.rate, self.pad = path, rate, pad
        self.count = 0
        self.done = threading.Event()

    def run(self):
        start = time.monotonic()
        with open(self.path, "ab") as f:
            while not self.done.is_set():
                due = int((time.monotonic() - start) * self.rate)
                while self.count < due:
                    f.write(cri_line(json.dumps({"n": self.count, "pad": "p" * self.pad})))
                    self.count += 1
                f.flush()
                time.sleep(0.01)

    def stop(self):
        self.done.set()
        self.join()
        return self.count


# --------------------------------------------------------------------------
# Records arrive exactly as the file sink writes them


def expected_key(mode, rec):
    k8s = rec.get("k8s", {})
    if mode == "trace_id":
        return rec.get("trace_id", "").encode() or None
    if mode == "container":
        if {"namespace", "pod", "container"} <= k8s.keys():
            return f"{k8s['namespace']}/{k8s['pod']}/{k8s['container']}".encode()
        return None
    if mode == "pod":
        if {"namespace", "pod"} <= k8s.keys():
            return f"{k8s['namespace']}/{k8s['pod']}".encode()
        return None
    return None


def expected_headers(rec):
    h = []
    if "release" in rec:
        h.append(("release", rec["release"].encode()))
    if "trace_id" in rec:
        h.append(("trace_id", rec["trace_id"].encode()))
    return h


@pytest.mark.parametrize("key,topic,release", [
    ("container", "fixed", "checkout@1.4.2"),
    ("trace_id", "{namespace}.{container}", None),
    ("pod", "fixed", "rel \"quoted\" \u00e9"),
])
def test_kubelet_tree_arrives_exactly_as_in_the_file_sink(tmp_path, kafka, key, topic, release):
    # The foundation issue's tree, plus a file outside the kubelet layout
    # (no k8s metadata: no key, the fallback topic).
    cases = build_cases()
    lines_a, n = b"", 0
    for lines, _expect, _raw in cases:
        for s, tag, payload in lines:
            lines_a += cri(n, s, tag, payload)
            n += 1
    lines_b = cri(0, "stdout", "F", b"first of b") + cri(1, "stderr", "F", b'{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}')
    make_tree(tmp_path, {
        ("shop", "checkout-7d9f8b6c5-x2x9q", "app", CID_A): lines_a,
        ("shop", "checkout-7d9f8b6c5-x2x9q", "istio-proxy", CID_B): lines_b,
    })
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "node.log").write_bytes(cri(0, "stdout", "F", b"no kubernetes here"))
    inputs = f"{tmp_path}/containers/*.log,{tmp_path}/plain/*.log"
    common = dict(LOGSHIP_INPUT_PATHS=inputs, LOGSHIP_MAX_RECORD_BYTES="2048", LOGSHIP_LISTEN="off")
    if release:
        common["LOGSHIP_RELEASE"] = release

    out = tmp_path / "out.ndjson"
    r = run_logship(clean_env(LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=out, LOGSHIP_STATE_DIR=tmp_path / "state-file",
                              **common), "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    file_lines = out.read_bytes().splitlines()
    records = read_records(out)
    assert len(records) == len(cases) + 3

    fixed = new_topic()
    fallback = new_topic("fallback")
    env = kafka_env(tmp_path, kafka.brokers, fixed if topic == "fixed" else f"{fixed}.{topic}",
                    LOGSHIP_KAFKA_KEY=key, **common)
    if topic != "fixed":
        env["LOGSHIP_KAFKA_TOPIC_FALLBACK"] = fallback
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()

    if topic == "fixed":
        topics = [fixed]
        topic_of = lambda rec: fixed  # noqa: E731
    else:
        topics = [f"{fixed}.shop.app", f"{fixed}.shop.istio-proxy", fallback]
        topic_of = lambda rec: (f"{fixed}.{rec['k8s']['namespace']}.{rec['k8s']['container']}"  # noqa: E731
                                if "k8s" in rec else fallback)
    messages = consume(kafka.brokers, *topics)

    # Values: byte for byte the file sink's lines, each exactly once.
    assert sorted(m.value for m in messages) == sorted(file_lines)
    by_value = {m.value: m for m in messages}
    for line, rec in zip(file_lines, records):
        m = by_value[line]
        assert m.topic == topic_of(rec)
        assert m.key == expected_key(key, rec), rec
        assert m.headers == expected_headers(rec), rec
    # A keyed container's records keep their order within their partition.
    if key in ("container", "pod"):
        for k in {m.key for m in messages if m.key}:
            got = [m.value for m in sorted((m for m in messages if m.key == k), key=lambda m: m.offset)]
            assert got == [line for line, rec in zip(file_lines, records) if expected_key(key, rec) == k]

    # A second run ships nothing new: checkpoints moved with the deliveries.
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    assert len(consume(kafka.brokers, *topics)) == len(messages)
    # Record content never shows in logship's own logs.
    assert b"hello" not in r.stderr


# --------------------------------------------------------------------------
# Configuration mistakes: exit 2 with the key and the cause


def test_configuration_errors_exit_2_naming_the_cause(tmp_path, kafka):
    (tmp_path / "a.log").write_bytes(cri_line('{"n":1}'))
    base = dict(LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log")
    cases = [
        (dict(), b"LOGSHIP_KAFKA_BROKERS"),  # required
        (dict(LOGSHIP_KAFKA_BROKERS="host:99999"), b"LOGSHIP_KAFKA_BROKERS"),
        (dict(LOGSHIP_KAFKA_BROKERS=kafka.brokers, LOGSHIP_KAFKA_OPT_NO_SUCH_PROPERTY="1"),
         b"LOGSHIP_KAFKA_OPT_NO_SUCH_PROPERTY: librdkafka has no configuration property"),
        (dict(LOGSHIP_KAFKA_BROKERS=kafka.brokers, LOGSHIP_KAFKA_OPT_LINGER_MS="soon"),
         b"LOGSHIP_KAFKA_OPT_LINGER_MS"),
        (dict(LOGSHIP_KAFKA_BROKERS=kafka.brokers, LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE=str(tmp_path / "nope")),
         b"LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE: cannot read"),
        (dict(LOGSHIP_KAFKA_BROKERS=kafka.brokers, LOGSHIP_KAFKA_TOPIC="logs-{namespace}"),
         b"LOGSHIP_KAFKA_TOPIC_FALLBACK"),
        (dict(LOGSHIP_KAFKA_BROKERS="no-such-broker.invalid:9092"), b"LOGSHIP_KAFKA_BROKERS: cannot resolve"),
    ]
    for extra, needle in cases:
        env = clean_env(LOGSHIP_SINK="kafka", LOGSHIP_STATE_DIR=tmp_path / "s", **base, **extra)
        r = run_logship(env, "--oneshot", timeout=60)
        assert r.returncode == 2, (extra, r.stderr.decode())
        assert needle in r.stderr, (extra, r.stderr.decode())


def test_secrets_never_appear_in_check_config_or_logs(tmp_path, kafka):
    secret_file = tmp_path / "password"
    secret_file.write_text("file-s3cr3t\n")
    env = clean_env(LOGSHIP_SINK="kafka", LOGSHIP_KAFKA_BROKERS=kafka.brokers,
                    LOGSHIP_KAFKA_OPT_SASL_USERNAME="shipper",
                    LOGSHIP_KAFKA_OPT_SASL_PASSWORD="env-s3cr3t",
                    LOGSHIP_KAFKA_OPT_SSL_KEY_PASSWORD_FILE=str(secret_file))
    r = run_logship(env, "--check-config")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "LOGSHIP_KAFKA_OPT_SASL_USERNAME=shipper" in out
    assert "LOGSHIP_KAFKA_OPT_SASL_PASSWORD=<redacted>" in out
    assert f"LOGSHIP_KAFKA_OPT_SSL_KEY_PASSWORD_FILE={secret_file}" in out
    assert "LOGSHIP_COMPRESSION=zstd" in out
    assert "s3cr3t" not in out
    # A bad secret value is reported without the value.
    env2 = clean_env(LOGSHIP_SINK="kafka", LOGSHIP_KAFKA_BROKERS=kafka.brokers,
                     LOGSHIP_KAFKA_OPT_SECURITY_PROTOCOL_FILE=str(secret_file), LOGSHIP_STATE_DIR=tmp_path / "s",
                     LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log")
    r = run_logship(env2, "--oneshot")
    assert r.returncode == 2
    assert b"LOGSHIP_KAFKA_OPT_SECURITY_PROTOCOL_FILE" in r.stderr and b"s3cr3t" not in r.stderr


def test_missing_topic_with_autocreate_off_is_a_start_error(tmp_path):
    """Needs brokers that do not create topics: a cluster of its own."""
    if not shutil.which("java") or not shutil.which("mvn"):
        pytest.skip("java/mvn needed to start a broker")
    cluster = start_cluster_without_autocreate()
    try:
        (tmp_path / "a.log").write_bytes(cri_line('{"n":1}'))
        env = kafka_env(tmp_path, cluster.brokers, "does-not-exist", LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log")
        r = run_logship(env, "--oneshot", timeout=60)
        assert r.returncode == 2, r.stderr.decode()
        assert b'LOGSHIP_KAFKA_TOPIC: topic \\"does-not-exist\\" does not exist' in r.stderr, r.stderr.decode()
    finally:
        stop_cluster(cluster)


def test_idle_producer_does_not_wait_for_the_linger(tmp_path, kafka):
    # A linger far longer than the test may take: the last message sets of
    # a oneshot run, and a quiet follow-mode stream, are sent once the sink
    # has had nothing new for a moment, not when the linger expires.
    logs = tmp_path / "logs"
    logs.mkdir()
    with open(logs / "a.log", "wb") as f:
        for i in range(50):
            f.write(cri_line(json.dumps({"n": i})))
    topic = new_topic()
    env = kafka_env(tmp_path, kafka.brokers, topic, LOGSHIP_INPUT_PATHS=f"{logs}/*.log",
                    LOGSHIP_KAFKA_OPT_LINGER_MS="300000")
    r = run_logship(env, "--oneshot", timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert sorted(ids_of(consume(kafka.brokers, topic))) == list(range(50))

    topic = new_topic()
    (tmp_path / "follow").mkdir()
    agent = kafka_agent(tmp_path / "follow", f"{logs}/*.log", kafka.brokers, topic,
                        LOGSHIP_KAFKA_OPT_LINGER_MS="300000").start()
    try:
        wait_for(lambda: agent.metric("logship_records_sent_total") >= 50, timeout=60,
                 what="the backlog delivered")
        with open(logs / "a.log", "ab") as f:
            f.write(cri_line(json.dumps({"n": 50})))
        wait_for(lambda: agent.metric("logship_records_sent_total") >= 51, timeout=60,
                 what="a single new line delivered")
    finally:
        rc = agent.stop()
    assert rc == 0, agent.stderr()


def start_cluster_without_autocreate():
    """kafka.sh's readiness check auto-creates a topic, so the cluster is
    started normally and then restarted with auto-creation off."""
    cluster = start_cluster(1)
    try:
        cluster.sh("stop")
        props = pathlib.Path(cluster.dir) / "broker-0" / "server.properties"
        text = props.read_text().replace("auto.create.topics.enable=true", "auto.create.topics.enable=false")
        assert "auto.create.topics.enable=false" in text
        props.write_text(text)
        # The readiness topic exists already, so start's check still passes.
        cluster.sh("start")
        return cluster
    except BaseException:
        stop_cluster(cluster)
        raise


# --------------------------------------------------------------------------
# The broker stops for 20 s in the middle of a stream


def test_broker_down_for_20s_mid_stream(tmp_path, kafka):
    logs = tmp_path / "logs"
    logs.mkdir()
    topic = new_topic()
    limit = 16 << 20
    agent = kafka_agent(tmp_path, f"{logs}/*.log", kafka.brokers, topic,
                        LOGSHIP_MEMORY_LIMIT=limit, LOGSHIP_BATCH_MAX_BYTES="256KiB").start()
    writer = Writer(logs / "app.log", rate=3000, pad=300)
    stopped_broker = False
    try:
        wait_for(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="ready")
        writer.start()
        wait_for(lambda: agent.metric("logship_kafka_messages_produced_total") >= 3000, timeout=60,
                 what="first deliveries")

        kafka.sh("stop-broker", "--index", "0")
        stopped_broker = True
        down_at = time.monotonic()
        wait_for(lambda: agent.get("/readyz")[0] == 503, timeout=15, what="/readyz 503 while the broker is down")
        status, body = agent.get("/readyz")
        assert status == 503 and "Kafka" in body, body
        assert agent.get("/healthz")[0] == 200  # waiting for the broker is not a hang
        # 20 s down; meanwhile ~60k lines (~20 MB) arrive: more than the
        # memory limit, so reading must pause rather than buffer them.
        while time.monotonic() - down_at < 20:
            m = agent.metrics()
            assert m["logship_in_flight_bytes"] <= limit
            assert agent.get("/readyz")[0] == 503
            time.sleep(0.5)
        lag = agent.metric(f'logship_file_lag_bytes{{path="{logs}/app.log"}}')
        assert lag > 0, "reading must pause at the memory limit while the broker is down"
        peak_down = agent.peak_rss_bytes()
        if not SANITIZED:  # an ASan build's memory says nothing about logship's
            assert peak_down <= limit + 32 * (1 << 20)

        kafka.sh("start-broker", "--index", "0")
        stopped_broker = False
        wait_for(lambda: agent.get("/readyz")[0] == 200, timeout=60, what="/readyz 200 after the restart")
        total = writer.stop()
        wait_for(lambda: agent.metric("logship_records_sent_total") >= total, timeout=120,
                 what="every record delivered")
        m = agent.metrics()
        assert m["logship_kafka_messages_produced_total"] >= total
        assert m['logship_kafka_client_errors_total{reason="_ALL_BROKERS_DOWN"}'] >= 1
        for name in ("logship_kafka_queue_messages", "logship_kafka_queue_bytes", "logship_kafka_pending_messages",
                     "logship_kafka_bytes_produced_total", "logship_kafka_brokers_up"):
            assert name in m, name
        # librdkafka statistics arrive every 5 s: round-trip times per broker.
        wait_for(lambda: any(k.startswith("logship_kafka_broker_rtt_seconds{") for k in agent.metrics()),
                 timeout=15, what="broker RTT metric")
        peak = agent.peak_rss_bytes()
        print(f"broker down 20 s: {total} records, lag while down {lag} bytes, "
              f"peak RSS {peak_down >> 20} MiB while down, {peak >> 20} MiB overall (limit {limit >> 20} MiB)")
        if not SANITIZED:
            assert peak <= limit + 32 * (1 << 20)
    finally:
        writer.stop() if writer.is_alive() else None
        if stopped_broker:
            kafka.sh("start-broker", "--index", "0")
        rc = agent.stop()
    assert rc == 0, agent.stderr()
    ids = ids_of(consume(kafka.brokers, topic))
    assert set(ids) == set(range(total)), f"lost: {sorted(set(range(total)) - set(ids))[:20]}"
    # The idempotent producer does not duplicate what it retried.
    assert len(ids) == total
    assert "no Kafka broker reachable" in agent.stderr()


# --------------------------------------------------------------------------
# 3 brokers, replication factor 3, min.insync.replicas 2: one is killed


@pytest.fixture
def kafka3():
    if not shutil.which("java") or not shutil.which("mvn"):
        pytest.skip("java/mvn needed to start brokers")
    cluster = start_cluster(3)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def test_three_brokers_one_killed_mid_stream(tmp_path, kafka3):
    logs = tmp_path / "logs"
    logs.mkdir()
    topic = new_topic()
    agent = kafka_agent(tmp_path, f"{logs}/*.log", kafka3.brokers, topic, LOGSHIP_KAFKA_KEY="trace_id",
                        LOGSHIP_MEMORY_LIMIT="16MiB", LOGSHIP_BATCH_MAX_BYTES="256KiB").start()
    writer = Writer(logs / "app.log", rate=3000)
    try:
        wait_for(lambda: agent.get("/readyz")[0] == 200, timeout=30, what="ready")
        writer.start()
        wait_for(lambda: agent.metric("logship_kafka_messages_produced_total") >= 3000, timeout=60,
                 what="first deliveries")
        md = kafka3.metadata(topic)
        parts = [p for t in md["topics"] if t["name"] == topic for p in t["partitions"]]
        assert parts and all(len(p["replicas"]) == 3 for p in parts), md
        victim = parts[0]["leader"]  # a partition leader: its partitions must fail over
        before = agent.metric("logship_kafka_messages_produced_total")
        kafka3.sh("kill-broker", "--index", str(victim))
        # Deliveries go on with the two survivors (min.insync.replicas=2).
        wait_for(lambda: agent.metric("logship_kafka_messages_produced_total") >= before + 9000, timeout=90,
                 what="deliveries after the kill")
        total = writer.stop()
        wait_for(lambda: agent.metric("logship_records_sent_total") >= total, timeout=120,
                 what="every record delivered")
        assert agent.get("/readyz")[0] == 200
    finally:
        if writer.is_alive():
            writer.stop()
        rc = agent.stop()
    assert rc == 0, agent.stderr()
    ids = ids_of(consume(kafka3.brokers, topic))
    assert set(ids) == set(range(total)), f"lost: {sorted(set(range(total)) - set(ids))[:20]}"


# --------------------------------------------------------------------------
# kill -9 of logship mid-stream, then a restart


def test_kill9_then_restart_loses_nothing(tmp_path, kafka):
    logs = tmp_path / "logs"
    logs.mkdir()
    topic = new_topic()
    total = 150_000
    path = logs / "app.log"
    offsets = []  # byte offset where line i starts
    with open(path, "wb") as f:
        for i in range(total):
            offsets.append(f.tell())
            f.write(cri_line(json.dumps({"n": i, "pad": "q" * 150})))
    limit = 8 << 20
    env = dict(LOGSHIP_MEMORY_LIMIT=limit, LOGSHIP_BATCH_MAX_BYTES="128KiB")
    agent = kafka_agent(tmp_path, f"{logs}/*.log", kafka.brokers, topic, **env).start()
    wait_for(lambda: agent.metric("logship_kafka_messages_produced_total") >= total // 4 or agent.proc.poll() is not None,
             timeout=60, what="a quarter delivered")
    assert agent.proc.poll() is None
    assert agent.metric("logship_records_sent_total") < total, "finished before it could be killed"
    agent.stop(signal.SIGKILL)

    # What the checkpoint says was delivered: nothing before it may repeat.
    cps = json.loads((agent.state / "checkpoints.json").read_text())["files"]
    committed = cps[0]["offset"] if cps else 0
    first_unacked = next((i for i, off in enumerate(offsets) if off >= committed), total)

    again = kafka_agent(tmp_path, f"{logs}/*.log", kafka.brokers, topic, **env).start()
    lag = f'logship_file_lag_bytes{{path="{path}"}}'

    def rest_delivered():
        # A metric not exported yet reads as 0 through metric(): the lag
        # series must exist (the file is open) before it may say "done".
        m = again.metrics()
        return m.get(lag) == 0 and m.get("logship_in_flight_bytes") == 0

    try:
        wait_for(rest_delivered, timeout=120, what="the rest delivered")
    finally:
        assert again.stop() == 0, again.stderr()
    ids = ids_of(consume(kafka.brokers, topic))
    assert set(ids) == set(range(total)), "records lost"
    seen, dups = set(), []
    for i in ids:
        if i in seen:
            dups.append(i)
        seen.add(i)
    assert all(i >= first_unacked for i in dups), "an acknowledged record was shipped again"
    # Only what was in flight at the kill can repeat: bounded by the memory limit.
    assert len(dups) * 150 <= limit
    print(f"kill -9: {len(dups)} duplicates of {total}, checkpoint at line {first_unacked}")
