"""kill -9 in the middle of a oneshot run, then a rerun: nothing is lost, and
only records that were not yet acknowledged may appear twice."""

import json
import os
import signal
import subprocess
import time

from conftest import BIN, clean_env, read_records, wait_for

TS = "2026-11-26T23:08:04.000000001Z"


def write_logs(path, n, start=0):
    with open(path, "wb") as f:
        for i in range(start, start + n):
            if i % 10 == 3:
                f.write(f"{TS} stdout F plain line id={i} {'z' * 80}\n".encode())
            elif i % 10 == 7:
                # A partial pair: the record must arrive whole exactly as one.
                f.write(f'{TS} stdout P {{"id":{i},"part":"\n'.encode())
                f.write(f'{TS} stdout F {"w" * 60}"}}\n'.encode())
            else:
                f.write(f'{TS} stdout F {{"id":{i},"level":"info","msg":"{"m" * 120}"}}\n'.encode())


def record_id(rec):
    log = rec["log"]
    if isinstance(log, dict):
        return log["id"]
    return int(log.split("id=")[1].split()[0])


def test_kill9_then_rerun_loses_nothing(tmp_path):
    per_file, files = 60000, 4
    for k in range(files):
        write_logs(tmp_path / f"app-{k}.log", per_file, start=k * per_file)
    total = per_file * files
    out = tmp_path / "out.ndjson"
    env = clean_env(
        LOGSHIP_INPUT_PATHS=f"{tmp_path}/app-*.log",
        LOGSHIP_STATE_DIR=tmp_path / "state",
        LOGSHIP_SINK="file",
        LOGSHIP_FILE_PATH=out,
        LOGSHIP_BATCH_MAX_BYTES="64KiB",
        LOGSHIP_MEMORY_LIMIT="4MiB",
        LOGSHIP_LISTEN="off",
    )
    proc = subprocess.Popen([str(BIN), "--oneshot"], env=env, stderr=subprocess.PIPE)
    # Kill once some, but not all, output is durable.
    wait_for(lambda: out.exists() and out.stat().st_size > 2_000_000 or proc.poll() is not None,
             timeout=60, what="first output")
    # The data is large enough that the run is still going: the kill must land.
    assert proc.poll() is None, "logship finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    size_at_kill = out.stat().st_size

    r = subprocess.run([str(BIN), "--oneshot"], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    records = read_records(out)  # also proves no torn line survived
    ids = [record_id(x) for x in records]
    assert set(ids) == set(range(total)), "records lost"
    dups = len(ids) - total
    # Only what was in flight at the kill may repeat: bounded by the memory limit.
    assert dups * 150 <= 4 * 1024 * 1024 + 2 * 64 * 1024
    assert size_at_kill < out.stat().st_size
    # Every partial pair arrived joined.
    for rec in records:
        if isinstance(rec["log"], dict) and "part" in rec["log"]:
            assert rec["log"]["part"] == "w" * 60
