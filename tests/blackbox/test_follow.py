"""Follow mode, black box: tailing through rotation, truncation, deletion,
many files, restarts, SIGTERM drain, a stalled sink, health and metrics."""

import json
import os
import signal
import statistics
import threading
import time

import pytest

from conftest import SANITIZED, wait_for
from follow_agent import FollowAgent, cri_line


def ids_of(records, key="n"):
    return [r["log"][key] for r in records if isinstance(r.get("log"), dict) and key in r["log"]]


def write_lines(f, start, count, tag="x"):
    for i in range(start, start + count):
        f.write(cri_line(json.dumps({"n": i, "tag": tag})))
    f.flush()


def test_health_ready_metrics_and_latency(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    t0 = time.monotonic()
    agent = FollowAgent(tmp_path, f"{logs}/*.log").start()
    try:
        wait_for(lambda: agent.get("/readyz")[0] == 200, timeout=10, what="ready")
        ready_after = time.monotonic() - t0
        print(f"start to ready (incl. process spawn and polling): {ready_after * 1000:.0f} ms")
        assert agent.get("/healthz") == (200, "ok\n")
        assert agent.get("/nope")[0] == 404

        # A file that appears after start is found and shipped promptly.
        latencies = []
        with open(logs / "app.log", "ab") as f:
            for i in range(5):
                sent = time.monotonic()
                write_lines(f, i, 1)
                agent.wait_records(i + 1, timeout=10)
                latencies.append(time.monotonic() - sent)
        print("write-to-sink latencies (s):", [round(x, 3) for x in latencies])
        assert statistics.median(latencies) < 1.0

        m = agent.metrics()
        path_label = f'{{path="{logs}/app.log"}}'
        assert m[f"logship_file_read_records_total{path_label}"] == 5
        assert m[f"logship_file_read_bytes_total{path_label}"] == (logs / "app.log").stat().st_size
        assert m[f"logship_file_lag_bytes{path_label}"] == 0
        # Acknowledgement is counted just after the sink wrote: poll for it.
        wait_for(lambda: agent.metric("logship_records_sent_total") == 5, what="5 records acknowledged")
        assert m["logship_files_open"] == 1
        for name in ("logship_batches_sent_total", "logship_sink_errors_total", "logship_sink_retries_total",
                     "logship_records_truncated_total", "logship_in_flight_bytes", "logship_rotations_total",
                     "logship_truncations_total"):
            assert name in m, name
    finally:
        assert agent.stop() == 0, agent.stderr()
    # Own logs: JSON lines only, never record content at info.
    for line in agent.log_lines:
        json.loads(line)
    assert '"tag"' not in agent.stderr()


def test_rename_rotation_with_late_writes(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = FollowAgent(tmp_path, f"{logs}/*.log").start()
    try:
        old = open(logs / "app.log", "ab")
        write_lines(old, 0, 100)
        agent.wait_records(100)
        os.rename(logs / "app.log", logs / "app.log.1")  # logrotate "create" / kubelet style
        write_lines(old, 100, 50)  # the writer has not reopened yet
        new = open(logs / "app.log", "ab")
        write_lines(new, 150, 100)
        write_lines(old, 250, 10)  # still late
        old.close()
        write_lines(new, 260, 40)
        records = agent.wait_records(300)
        assert sorted(ids_of(records)) == list(range(300))  # all, each exactly once
        wait_for(lambda: agent.metric("logship_rotations_total") >= 1, what="rotation counted")
        wait_for(lambda: agent.metric("logship_files_open") == 1, what="old file closed")
        new.close()
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_copytruncate(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = FollowAgent(tmp_path, f"{logs}/*.log").start()
    try:
        path = logs / "app.log"
        with open(path, "ab") as f:
            write_lines(f, 0, 200)
        agent.wait_records(200)
        # copytruncate: copy away (not matched by the glob), then truncate in place.
        (logs / "app.log.1").write_bytes(path.read_bytes())
        os.truncate(path, 0)
        with open(path, "ab") as f:
            write_lines(f, 200, 20)
        records = agent.wait_records(220)
        assert sorted(ids_of(records)) == list(range(220))
        assert agent.metric("logship_truncations_total") >= 1
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_delete_while_open_reads_to_end_then_prunes(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = FollowAgent(tmp_path, f"{logs}/*.log").start()
    try:
        f = open(logs / "gone.log", "ab")
        write_lines(f, 0, 50)
        agent.wait_records(50)
        os.unlink(logs / "gone.log")
        write_lines(f, 50, 50)  # the writer keeps writing to the deleted file
        f.close()
        records = agent.wait_records(100)
        assert sorted(ids_of(records)) == list(range(100))
        wait_for(lambda: agent.metric("logship_files_open") == 0, what="deleted file closed")

        def pruned():
            cp = agent.state / "checkpoints.json"
            return cp.exists() and "gone.log" not in cp.read_text()
        wait_for(pruned, what="checkpoint pruned")
    finally:
        assert agent.stop() == 0, agent.stderr()


@pytest.mark.parametrize("max_open", [1024, 50])
def test_many_files_at_once(tmp_path, max_open):
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = FollowAgent(tmp_path, f"{logs}/*.log", LOGSHIP_MAX_OPEN_FILES=str(max_open)).start()
    try:
        n_files = 1000 if max_open > 1000 else 300
        for k in range(n_files):
            with open(logs / f"f{k:04d}.log", "ab") as f:
                for i in range(5):
                    f.write(cri_line(json.dumps({"n": k * 5 + i})))
        records = agent.wait_records(n_files * 5, timeout=120)
        assert sorted(ids_of(records)) == list(range(n_files * 5))
        assert agent.metric("logship_files_open") <= max_open
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_sigterm_drains_and_restart_resumes_from_checkpoints(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "app.log"
    with open(path, "ab") as f:
        write_lines(f, 0, 5000)
    agent = FollowAgent(tmp_path, f"{logs}/*.log").start()
    agent.wait_records(1)
    assert agent.stop(signal.SIGTERM) == 0, agent.stderr()  # drained: exit 0
    first = ids_of(agent.records())
    assert len(first) == len(set(first))

    with open(path, "ab") as f:
        write_lines(f, 5000, 100)  # written while logship is down
    agent2 = FollowAgent(tmp_path, f"{logs}/*.log").start()
    try:
        records = agent2.wait_records(5100)
        ids = ids_of(records)
        assert sorted(set(ids)) == list(range(5100))
        assert len(ids) == 5100, "a clean SIGTERM drain must not cause repeats"
    finally:
        assert agent2.stop(signal.SIGINT) == 0, agent2.stderr()


def test_stalled_sink_holds_memory_then_delivers_everything(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    fifo = tmp_path / "sink.fifo"
    os.mkfifo(fifo)
    # Open the read end (so logship can open the FIFO) but do not read yet.
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    limit = 8 << 20
    agent = FollowAgent(tmp_path, f"{logs}/*.log", out=fifo, LOGSHIP_MEMORY_LIMIT=str(limit),
                        LOGSHIP_BATCH_MAX_BYTES="256KiB").start()
    total = 150_000
    try:
        with open(logs / "app.log", "ab") as f:
            for start in range(0, total, 10_000):
                for i in range(start, start + 10_000):
                    f.write(cri_line(json.dumps({"n": i, "pad": "p" * 300})))
        # ~50 MB written; the sink takes none of it beyond the pipe buffer.
        wait_for(lambda: agent.metric("logship_in_flight_bytes") > 0, what="in flight")
        time.sleep(1.0)  # let it run into the limit (bounded observation window)
        m = agent.metrics()
        assert m["logship_in_flight_bytes"] <= limit
        lag = m[f'logship_file_lag_bytes{{path="{logs}/app.log"}}']
        assert lag > 20_000_000, "reading must pause while the sink is stalled"
        if not SANITIZED:
            assert agent.peak_rss_bytes() <= limit + 24 * (1 << 20)
        assert agent.get("/healthz")[0] == 200  # backpressure is not a hang

        # Now drain the FIFO: everything arrives, in order, exactly once.
        got = bytearray()
        os.set_blocking(rfd, True)
        deadline = time.monotonic() + 120
        while got.count(b"\n") < total and time.monotonic() < deadline:
            chunk = os.read(rfd, 1 << 20)
            if not chunk:
                break
            got += chunk
        ids = [json.loads(l)["log"]["n"] for l in bytes(got).splitlines()]
        assert ids == list(range(total))
        if not SANITIZED:
            assert agent.peak_rss_bytes() <= limit + 24 * (1 << 20)
    finally:
        rc = agent.stop()
        os.close(rfd)
    assert rc == 0, agent.stderr()


def test_sigterm_with_stalled_sink_exits_nonzero_by_deadline(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    fifo = tmp_path / "sink.fifo"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    agent = FollowAgent(tmp_path, f"{logs}/*.log", out=fifo, LOGSHIP_MEMORY_LIMIT="8MiB",
                        LOGSHIP_SHUTDOWN_TIMEOUT_MS="1000").start()
    try:
        with open(logs / "app.log", "ab") as f:
            for i in range(20_000):
                f.write(cri_line(json.dumps({"n": i, "pad": "p" * 300})))
        wait_for(lambda: agent.metric("logship_in_flight_bytes") > 0, what="in flight")
        t = time.monotonic()
        rc = agent.stop(signal.SIGTERM, timeout=20)
        assert rc != 0
        assert time.monotonic() - t < 10
        assert "shutdown timeout" in agent.stderr()
    finally:
        os.close(rfd)
