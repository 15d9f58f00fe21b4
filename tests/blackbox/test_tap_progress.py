"""The live tap (`logship tap`, LOGSHIP_TAP) and oneshot progress
(LOGSHIP_PROGRESS) wired into the agent (issue 14)."""

import json
import os
import socket
import subprocess

from conftest import BIN, clean_env, run_logship, wait_for, CID, pod_file
from follow_agent import FollowAgent, cri_line




def append(path, payloads):
    with open(path, "ab") as f:
        for p in payloads:
            f.write(cri_line(json.dumps(p)))


def tap_port(agent):
    def find():
        for line in agent.log_lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "tap listening":
                return entry["port"]
        return None
    wait_for(lambda: find() is not None, timeout=10, what="tap listening")
    return find()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tap_agent(tmp_path, **env):
    return FollowAgent(tmp_path, f"{tmp_path}/containers/*.log", LOGSHIP_TAP="true",
                       LOGSHIP_TAP_LISTEN="127.0.0.1:0", **env).start()


def test_tap_streams_live_records_matching_its_filters(tmp_path):
    shop = pod_file(tmp_path, "shop", "api-1", "app")
    web = pod_file(tmp_path, "web", "front-1", "nginx")
    agent = tap_agent(tmp_path)
    try:
        port = tap_port(agent)
        client = subprocess.Popen([str(BIN), "tap", "--address", f"127.0.0.1:{port}", "--namespace", "sh*",
                                   "--container", "app", "--limit", "3"],
                                  env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: agent.metric("logship_tap_clients") == 1, timeout=10, what="tap client connected")
        for i in range(3):
            append(web, [{"web": i}])
            append(shop, [{"shop": i}])
        out, err = client.communicate(timeout=30)
        assert client.returncode == 0, err.decode()
        recs = [json.loads(l) for l in out.decode().splitlines()]
        assert [r["log"] for r in recs] == [{"shop": 0}, {"shop": 1}, {"shop": 2}]
        assert all(r["k8s"]["namespace"] == "shop" for r in recs)
        # The tap is a copy: the sink got everything.
        assert len(agent.wait_records(6)) == 6
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_a_tap_reader_that_never_reads_does_not_slow_shipping(tmp_path):
    f = pod_file(tmp_path, "shop", "api-1", "app")
    agent = tap_agent(tmp_path)
    try:
        port = tap_port(agent)
        stuck = socket.create_connection(("127.0.0.1", port))
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(b"GET /tap HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: agent.metric("logship_tap_clients") == 1, timeout=10, what="tap client connected")
        n = 20000
        pad = "x" * 400
        with open(f, "ab") as out:
            for i in range(n):
                out.write(cri_line(json.dumps({"n": i, "pad": pad})))
        recs = agent.wait_records(n, timeout=120)
        assert [r["log"]["n"] for r in recs] == list(range(n))
        wait_for(lambda: agent.metric("logship_tap_records_skipped_total") > 0, timeout=10,
                 what="records skipped for the stuck reader")
        stuck.close()
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_tap_is_unreachable_when_off(tmp_path):
    port = free_port()
    f = pod_file(tmp_path, "shop", "api-1", "app")
    append(f, [{"n": 1}])
    agent = FollowAgent(tmp_path, f"{tmp_path}/containers/*.log", LOGSHIP_TAP_LISTEN=f"127.0.0.1:{port}").start()
    try:
        agent.wait_records(1)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            reachable = True
        except OSError:
            reachable = False
        assert not reachable
        assert "logship_tap_clients" not in agent.metrics()
        r = subprocess.run([str(BIN), "tap", "--address", f"127.0.0.1:{port}", "--limit", "1"], env=clean_env(),
                           capture_output=True, timeout=30)
        assert r.returncode == 1
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_tap_listen_must_be_loopback():
    r = run_logship(clean_env(LOGSHIP_TAP="true", LOGSHIP_TAP_LISTEN="0.0.0.0:2021"), "--check-config")
    assert r.returncode == 2 and b"LOGSHIP_TAP_LISTEN" in r.stderr and b"loopback" in r.stderr


def test_oneshot_progress_json(tmp_path):
    for i in range(3):
        append(pod_file(tmp_path, "shop", f"api-{i}", "app"), [{"n": j} for j in range(100)])
    env = clean_env(LOGSHIP_INPUT_PATHS=f"{tmp_path}/containers/*.log", LOGSHIP_STATE_DIR=tmp_path / "state",
                    LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=tmp_path / "out.ndjson", LOGSHIP_ONESHOT="true",
                    LOGSHIP_PROGRESS="json")
    r = run_logship(env)
    assert r.returncode == 0, r.stderr.decode()
    progress = [json.loads(l) for l in r.stderr.decode().splitlines()
                if l.startswith("{") and json.loads(l).get("component") == "progress"]
    assert progress, r.stderr.decode()
    last = progress[-1]
    assert last["files_done"] == 3 and last["files_total"] == 3
    assert last["bytes_read"] == last["bytes_total"] > 0
    assert last["records"] == 300
    # off: no progress lines.
    env["LOGSHIP_PROGRESS"] = "off"
    env["LOGSHIP_STATE_DIR"] = str(tmp_path / "state2")
    r = run_logship(env)
    assert r.returncode == 0
    assert b'"component":"progress"' not in r.stderr


def test_oneshot_progress_line_on_a_terminal(tmp_path):
    """auto on a terminal: a progress line redrawn in place on stderr, erased
    at the end, and no JSON progress lines."""
    import pty
    import select
    # Big enough to run well past the first redraw (200 ms) on a fast machine.
    line = cri_line(json.dumps({"n": 0, "pad": "y" * 400}))
    for i in range(3):
        with open(pod_file(tmp_path, "shop", f"api-{i}", "app"), "wb") as f:
            f.write(line * 150000)
    env = clean_env(LOGSHIP_INPUT_PATHS=f"{tmp_path}/containers/*.log", LOGSHIP_STATE_DIR=tmp_path / "state",
                    LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=tmp_path / "out.ndjson", LOGSHIP_ONESHOT="true",
                    LOGSHIP_PROGRESS="auto")
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0, out.decode("utf-8", "replace")
    text = out.decode("utf-8", "replace")
    erase = "\r\x1b[K"
    drawn = [part for part in text.split(erase) if part.startswith("files ")]
    assert drawn, text
    assert "records" in drawn[0] and "ETA" in drawn[0]
    # Erased at the end: the last thing written about progress is the erase.
    assert text.rstrip("\r\n").rfind(erase) > text.rstrip("\r\n").rfind("ETA"), text[-400:]
    assert '"component":"progress"' not in text
