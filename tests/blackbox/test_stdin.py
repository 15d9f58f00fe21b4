"""stdin mode (LOGSHIP_INPUT_PATHS=-): records in, records out, exit at end
of input after delivery; backpressure blocks the writer."""

import json
import os
import subprocess
import threading
import time

from conftest import BIN, clean_env, read_records, wait_for


def test_stdin_records_in_records_out(tmp_path):
    out = tmp_path / "out.ndjson"
    env = clean_env(LOGSHIP_INPUT_PATHS="-", LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=out,
                    LOGSHIP_STATE_DIR=tmp_path / "state", LOGSHIP_LISTEN="off", LOGSHIP_RELEASE="web@2.0.1")
    lines = [json.dumps({"i": i, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}) for i in range(1000)]
    lines.append("plain text, no newline at the end")
    data = ("\n".join(lines)).encode()
    r = subprocess.run([str(BIN)], env=env, input=data, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    recs = read_records(out)
    assert len(recs) == 1001
    assert recs[0]["log"] == {"i": 0, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    assert recs[0]["release"] == "web@2.0.1"
    assert recs[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert recs[0]["stream"] == "stdout"
    assert [x["log"]["i"] for x in recs[:1000]] == list(range(1000))
    assert recs[-1]["log"] == "plain text, no newline at the end"


def test_stdin_ships_promptly_while_the_writer_is_idle(tmp_path):
    out = tmp_path / "out.ndjson"
    env = clean_env(LOGSHIP_INPUT_PATHS="-", LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=out,
                    LOGSHIP_STATE_DIR=tmp_path / "state", LOGSHIP_LISTEN="off", LOGSHIP_BATCH_TIMEOUT_MS="50")
    p = subprocess.Popen([str(BIN)], env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b'{"first":true}\n')
    p.stdin.flush()
    # The pipe stays open: the record must still arrive (batch timeout).
    wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") == 1, timeout=10, what="first record")
    p.stdin.close()
    assert p.wait(timeout=30) == 0


def test_stdin_backpressure_blocks_the_writer(tmp_path):
    fifo = tmp_path / "sink.fifo"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open, but nobody reads yet
    env = clean_env(LOGSHIP_INPUT_PATHS="-", LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=fifo,
                    LOGSHIP_STATE_DIR=tmp_path / "state", LOGSHIP_LISTEN="off",
                    LOGSHIP_MEMORY_LIMIT="8MiB", LOGSHIP_BATCH_MAX_BYTES="256KiB")
    p = subprocess.Popen([str(BIN)], env=env, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    written = 0
    total = 100 * 1024 * 1024
    line = (json.dumps({"pad": "x" * 1000}) + "\n").encode()
    done = threading.Event()

    def writer():
        nonlocal written
        try:
            while written < total:
                p.stdin.write(line * 64)
                written += len(line) * 64
            p.stdin.close()
        finally:
            done.set()
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    # The writer must stall well before 100 MB: logship holds at most ~8 MiB.
    time.sleep(2.0)
    assert not done.is_set()
    assert written < 40 * 1024 * 1024
    # Draining the sink releases the writer; everything arrives.
    os.set_blocking(rfd, True)
    got = 0
    while True:
        chunk = os.read(rfd, 1 << 20)
        if not chunk:
            break
        got += chunk.count(b"\n")
    t.join(timeout=60)
    assert p.wait(timeout=60) == 0
    os.close(rfd)
    chunks = -(-total // (len(line) * 64))
    assert got == chunks * 64
