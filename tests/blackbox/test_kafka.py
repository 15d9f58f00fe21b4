"""The Kafka sink against a real Apache Kafka broker (tests/kafka/kafka.sh):
records arrive exactly as the file sink writes them (value, key, headers);
configuration mistakes stop logship at start with exit 2; an idle producer
does not wait for the linger. Brokers that fail and a logship that is killed
are in test_kafka_failures.py; brokers and reading back in kafka_helpers.py."""

import json
import shutil

import pytest

from conftest import clean_env, read_records, run_logship, wait_for
from follow_agent import cri_line
from kafka_helpers import (consume, ids_of, kafka, kafka_agent, kafka_env, new_topic,  # noqa: F401 (fixture)
                           start_cluster_without_autocreate, stop_cluster)
from test_oneshot_kubelet_tree import CID_A, CID_B, build_cases, cri, make_tree


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
