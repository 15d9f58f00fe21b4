"""The configuration contract: env vars and flags, errors with the key and
reason (exit 2), --check-config, --help, --version."""

import json

from conftest import clean_env, run_logship


def test_unknown_variable_fails_with_its_name():
    r = run_logship(clean_env(LOGSHIP_SINKK="file"), "--oneshot")
    assert r.returncode == 2
    assert b"LOGSHIP_SINKK" in r.stderr


def test_bad_value_names_key_and_reason():
    r = run_logship(clean_env(LOGSHIP_BATCH_TIMEOUT_MS="soon"), "--oneshot")
    assert r.returncode == 2
    assert b"LOGSHIP_BATCH_TIMEOUT_MS" in r.stderr
    r = run_logship(clean_env(LOGSHIP_SINK="kafak"), "--oneshot")
    assert r.returncode == 2
    assert b"LOGSHIP_SINK" in r.stderr and b"kafak" in r.stderr
    r = run_logship(clean_env(LOGSHIP_SINK="file"), "--oneshot")
    assert r.returncode == 2
    assert b"LOGSHIP_FILE_PATH" in r.stderr


def test_unknown_flag_fails():
    r = run_logship(clean_env(), "--no-such-flag")
    assert r.returncode == 2
    assert b"--no-such-flag" in r.stderr


def test_check_config_prints_effective_config_flag_wins(tmp_path):
    env = clean_env(LOGSHIP_SINK="stdout", LOGSHIP_MEMORY_LIMIT="128MiB", LOGSHIP_RELEASE="r1")
    r = run_logship(env, "--check-config", "--sink=file", f"--file-path={tmp_path}/o.ndjson")
    assert r.returncode == 0, r.stderr
    lines = dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)
    assert lines["LOGSHIP_SINK"] == "file"
    assert lines["LOGSHIP_FILE_PATH"] == f"{tmp_path}/o.ndjson"
    assert lines["LOGSHIP_MEMORY_LIMIT"] == str(128 << 20)
    assert lines["LOGSHIP_RELEASE"] == "r1"
    assert lines["LOGSHIP_INPUT_PATHS"] == "/var/log/containers/*.log"
    assert lines["LOGSHIP_LISTEN"] == "0.0.0.0:2020"


def test_help_and_version():
    r = run_logship(clean_env(LOGSHIP_SINK="bogus"), "--help")
    assert r.returncode == 0
    for key in ("LOGSHIP_INPUT_PATHS", "LOGSHIP_INPUT_FORMAT", "LOGSHIP_STATE_DIR", "LOGSHIP_RELEASE",
                "LOGSHIP_SINK", "LOGSHIP_FILE_PATH", "LOGSHIP_MAX_RECORD_BYTES", "LOGSHIP_MEMORY_LIMIT",
                "LOGSHIP_BATCH_MAX_BYTES", "LOGSHIP_BATCH_TIMEOUT_MS", "LOGSHIP_LISTEN", "LOGSHIP_ONESHOT"):
        assert key.encode() in r.stdout, key
    r = run_logship(clean_env(), "--version")
    assert r.returncode == 0 and r.stdout.startswith(b"logship ")


def test_stdout_sink_and_env_oneshot(tmp_path):
    (tmp_path / "a.log").write_bytes(b"2026-11-26T23:08:04Z stdout F {\"k\":1}\n")
    env = clean_env(LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log", LOGSHIP_STATE_DIR=tmp_path / "s",
                    LOGSHIP_ONESHOT="true", LOGSHIP_LISTEN="off")
    r = run_logship(env)
    assert r.returncode == 0, r.stderr
    assert [json.loads(l) for l in r.stdout.splitlines()] == [
        {"ts": "2026-11-26T23:08:04Z", "stream": "stdout", "log": {"k": 1}}]


def test_undeliverable_output_exits_nonzero_and_keeps_checkpoint(tmp_path):
    (tmp_path / "a.log").write_bytes(b"2026-11-26T23:08:04Z stdout F x\n")
    env = clean_env(LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log", LOGSHIP_STATE_DIR=tmp_path / "s",
                    LOGSHIP_SINK="file", LOGSHIP_FILE_PATH="/dev/full", LOGSHIP_LISTEN="off")
    r = run_logship(env, "--oneshot", timeout=60)
    assert r.returncode == 1
    assert b"No space left on device" in r.stderr
    # Nothing was acknowledged, so a working sink afterwards gets the record.
    env["LOGSHIP_FILE_PATH"] = str(tmp_path / "out.ndjson")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0
    assert (tmp_path / "out.ndjson").read_bytes().count(b"\n") == 1


def test_oneshot_with_nothing_matched_says_so(tmp_path):
    # Issue 12: a glob matching nothing (or a missing directory) used to exit
    # 0 without a word.
    missing = tmp_path / "nope"
    empty = tmp_path / "empty"
    empty.mkdir()
    env = clean_env(LOGSHIP_INPUT_PATHS=f"{missing}/*.log,{empty}/*.log", LOGSHIP_STATE_DIR=tmp_path / "s",
                    LOGSHIP_LISTEN="off")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0
    err = r.stderr.decode()
    assert f"{missing}/*.log" in err and "No such file or directory" in err
    assert f"{empty}/*.log" in err and "no file matches" in err
    assert "nothing to ship" in err
