"""LOGSHIP_WORKERS: with encoder threads, every record still arrives once,
in per-file order, and the checkpoints still mean what they say."""

import json
import pathlib
import signal
import subprocess
import sys

import pytest

from conftest import LOGGEN, clean_env, read_records, run_logship
from follow_agent import FollowAgent, cri_line


def generate(tmp: pathlib.Path, size="6MiB", files=5, seed=11):
    data = tmp / "data"
    expected = tmp / "expected.ndjson"
    subprocess.run([sys.executable, str(LOGGEN), "--out", str(data), "--bytes", size, "--files", str(files),
                    "--seed", str(seed), "--records-out", str(expected)], check=True, capture_output=True)
    return data, [json.loads(line) for line in expected.read_text(encoding="utf-8").splitlines()]


def oneshot(tmp: pathlib.Path, data: pathlib.Path, workers, name, **extra):
    out = tmp / f"{name}.ndjson"
    env = clean_env(LOGSHIP_INPUT_PATHS=f"{data}/containers/*.log", LOGSHIP_STATE_DIR=tmp / f"{name}-state",
                    LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=out, LOGSHIP_LISTEN="off",
                    LOGSHIP_WORKERS=workers, **extra)
    r = run_logship(env, "--oneshot", timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return out, env


def file_key(path: str):
    """containers/<pod>_<namespace>_<container>-<id>.log -> (namespace, pod, container)."""
    name = pathlib.Path(path).name[: -len(".log")]
    pod, ns, rest = name.split("_", 2)
    return ns, pod, rest.rsplit("-", 1)[0]


def same_log(log, payload: str) -> bool:
    if isinstance(log, dict):
        try:
            return json.loads(payload) == log
        except ValueError:
            return False
    return log == payload or log == payload.rstrip("\r")


@pytest.mark.parametrize("workers", ["2", "3"])
def test_oneshot_every_record_once_in_file_order(tmp_path, workers):
    data, expected = generate(tmp_path)
    # Small batches: many batches, positions and chunk boundaries.
    out, env = oneshot(tmp_path, data, workers, "w", LOGSHIP_BATCH_MAX_BYTES="64KiB")
    got = read_records(out)
    assert len(got) == len(expected)

    per_file = {}
    for rec in got:
        k = rec["k8s"]
        per_file.setdefault((k["namespace"], k["pod"], k["container"]), []).append(rec)
    want_files = {}
    for e in expected:
        want_files.setdefault(file_key(e["file"]), []).append(e)
    assert set(per_file) == set(want_files)
    for key, want in want_files.items():
        have = per_file[key]
        assert len(have) == len(want), key
        for i, (h, w) in enumerate(zip(have, want)):
            assert (h["ts"], h["stream"]) == (w["ts"], w["stream"]), (key, i)
            assert same_log(h["log"], w["payload"]), (key, i, h["log"], w["payload"])

    # Checkpoints moved to every file's end: a rerun ships nothing.
    r = run_logship(env, "--oneshot", timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    assert len(read_records(out)) == len(expected)


def test_oneshot_output_identical_to_one_worker(tmp_path):
    data, expected = generate(tmp_path, size="3MiB", files=3, seed=5)
    one, _ = oneshot(tmp_path, data, "1", "one")
    two, _ = oneshot(tmp_path, data, "2", "two")
    assert one.read_bytes() == two.read_bytes()
    assert len(read_records(one)) == len(expected)
    states = [(tmp_path / f"{n}-state" / "checkpoints.json").read_bytes() for n in ("one", "two")]
    assert states[0] == states[1]


def test_bad_value_fails_at_start_naming_the_key(tmp_path):
    for bad in ("0", "65", "many"):
        r = run_logship(clean_env(LOGSHIP_WORKERS=bad, LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log",
                                  LOGSHIP_STATE_DIR=tmp_path / "state", LOGSHIP_LISTEN="off"), "--oneshot")
        assert r.returncode == 2
        assert b"LOGSHIP_WORKERS" in r.stderr


def test_follow_appends_arrive_in_order_and_sigterm_drains(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    paths = [logs / f"app{i}.log" for i in range(3)]
    agent = FollowAgent(tmp_path, f"{logs}/*.log", LOGSHIP_WORKERS="2").start()
    try:
        n = 0
        for round_ in range(5):
            for p in paths:
                with open(p, "ab") as f:
                    for j in range(400):
                        f.write(cri_line(json.dumps({"file": p.name, "n": round_ * 400 + j})))
                n += 400
            agent.wait_records(n)  # each round arrives without more input (tick-driven flushes)
        records = agent.records()
        assert len(records) == n
        for p in paths:
            seq = [r["log"]["n"] for r in records if r["log"]["file"] == p.name]
            assert seq == list(range(2000)), p.name
    finally:
        assert agent.stop(signal.SIGTERM) == 0, agent.stderr()
