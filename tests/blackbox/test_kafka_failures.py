"""The Kafka sink when things fail: nothing is lost when the broker stops
for 20 s, when one broker of three is killed, or when logship itself is
killed with SIGKILL and restarted; readiness follows the brokers."""

import json
import signal
import time

import pytest

from conftest import SANITIZED, wait_for
from follow_agent import cri_line
from kafka_helpers import (Writer, consume, ids_of, kafka, kafka_agent, new_topic,  # noqa: F401 (fixture)
                           own_cluster)


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
    yield from own_cluster(3)


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
