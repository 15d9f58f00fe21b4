"""Black-box tests of the checkpoint file: a corrupt or unknown-version file
fails closed with a way out (--reset-checkpoints), an unwritable state
directory fails at start naming LOGSHIP_STATE_DIR and the path, and each
checkpoint records the file size last seen."""

import json
import os

from conftest import clean_env, read_records, run_logship

LINE = b'2026-11-26T23:08:04Z stdout F {"k":1}\n'


def oneshot_env(tmp_path):
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "a.log").write_bytes(LINE * 3)
    return clean_env(LOGSHIP_INPUT_PATHS=f"{tmp_path}/in/*.log", LOGSHIP_STATE_DIR=tmp_path / "state",
                     LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=tmp_path / "out.ndjson",
                     LOGSHIP_ONESHOT="true", LOGSHIP_LISTEN="off")


def test_unknown_version_fails_closed_and_reset_moves_the_file_aside(tmp_path):
    env = oneshot_env(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    cp = state / "checkpoints.json"
    cp.write_text('{"version":9,"files":[]}')
    r = run_logship(env)
    assert r.returncode != 0
    assert b"version 9 is not supported" in r.stderr
    assert b"--reset-checkpoints" in r.stderr
    assert not (tmp_path / "out.ndjson").exists() or read_records(tmp_path / "out.ndjson") == []

    r = run_logship(env, "--reset-checkpoints")
    assert r.returncode == 0, r.stderr
    moved = [p for p in state.iterdir() if p.name.startswith("checkpoints.json.reset-")]
    assert len(moved) == 1
    assert moved[0].read_text() == '{"version":9,"files":[]}'
    assert str(moved[0]).encode() in r.stderr  # the new path is printed
    assert len(read_records(tmp_path / "out.ndjson")) == 3
    # The fresh checkpoint is a normal one: a rerun ships nothing again.
    r = run_logship(env)
    assert r.returncode == 0, r.stderr
    assert len(read_records(tmp_path / "out.ndjson")) == 3


def test_corrupt_checkpoint_reset(tmp_path):
    env = oneshot_env(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "checkpoints.json").write_bytes(b"\x00garbage")
    assert run_logship(env).returncode != 0
    r = run_logship(env, "--reset-checkpoints")
    assert r.returncode == 0, r.stderr
    assert b"checkpoints reset" in r.stderr
    assert len(read_records(tmp_path / "out.ndjson")) == 3


def test_unwritable_state_dir_fails_at_start_before_shipping(tmp_path):
    env = oneshot_env(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    (state / "lock").write_bytes(b"")
    if os.geteuid() == 0:
        # root ignores permission bits: take the temp file's name instead.
        (state / "checkpoints.json.tmp").mkdir()
    else:
        state.chmod(0o555)
    try:
        r = run_logship(env, timeout=30)
    finally:
        state.chmod(0o755)
    assert r.returncode != 0
    err = r.stderr.decode()
    assert "LOGSHIP_STATE_DIR" in err and str(state) in err and "cannot write checkpoints" in err, err
    assert not (tmp_path / "out.ndjson").exists() or read_records(tmp_path / "out.ndjson") == []


def test_checkpoint_stores_version_and_entries(tmp_path):
    env = oneshot_env(tmp_path)
    r = run_logship(env)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "state" / "checkpoints.json").read_text())
    assert doc["version"] == 1
    [entry] = doc["files"]
    assert entry["offset"] == len(LINE) * 3
    assert "size" in entry  # the pipeline fills it in (0: not yet)


def test_follow_pauses_reading_while_checkpoints_cannot_be_written(tmp_path):
    # Issue 12: with the state directory failing, logship used to go on
    # shipping what it could not record as shipped. Now reading pauses,
    # /readyz says why, and it resumes once a checkpoint write succeeds.
    # Root ignores permissions, so the write is made to fail by a directory
    # where the store writes its temporary file.
    from conftest import wait_for
    from follow_agent import FollowAgent, cri_line
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = FollowAgent(tmp_path, f"{logs}/*.log").start()
    blocker = tmp_path / "state" / "checkpoints.json.tmp"
    try:
        with open(logs / "a.log", "ab") as f:
            f.write(cri_line('{"n":0}'))
        agent.wait_records(1)
        # The first record's checkpoint must be written before the blocker
        # goes in: otherwise its failing commit is the one that pauses, and
        # the second record may or may not be out by then.
        cp_path = tmp_path / "state" / "checkpoints.json"

        def committed():
            try:
                files = json.loads(cp_path.read_text())["files"]
            except (OSError, ValueError, KeyError):
                return False
            return bool(files) and files[0]["offset"] == (logs / "a.log").stat().st_size
        wait_for(committed, timeout=10, what="the first checkpoint")

        def block():
            try:
                blocker.mkdir()  # fails while a write is under way: try again
                return True
            except OSError:
                return False
        wait_for(block, timeout=10, what="the blocker in place")
        with open(logs / "a.log", "ab") as f:
            f.write(cri_line('{"n":1}'))
        wait_for(lambda: agent.get("/readyz")[0] == 503, timeout=20, what="/readyz 503")
        assert "checkpoints cannot be written" in agent.get("/readyz")[1]
        assert agent.metric("logship_checkpoint_errors_total") >= 1
        shipped = len(agent.records())
        with open(logs / "a.log", "ab") as f:
            for i in range(2, 50):
                f.write(cri_line('{"n":%d}' % i))
        # Reading is paused: nothing more goes out while writes fail.
        wait_for(lambda: agent.metric("logship_checkpoint_errors_total") >= 2, timeout=20, what="commit retried")
        assert len(agent.records()) == shipped
        blocker.rmdir()
        agent.wait_records(50)
        wait_for(lambda: agent.get("/readyz")[0] == 200, timeout=20, what="/readyz 200")
        # A record is in the output before its checkpoint is (the commit
        # follows the sink's acknowledgement): wait for the last one.
        wait_for(committed, timeout=20, what="the checkpoint at the end of the file")
    finally:
        agent.stop()
