"""The processor stage and framing options wired into the agent (issues 10
and 11): partial timeout, torn docker lines, docker attrs, UTC timestamps,
multiline (global and per pod), namespace/annotation exclusion, level
filter, throttle, redaction, and their /metrics families."""

import json
import os
import re

import pytest

from conftest import clean_env, read_records, run_logship, wait_for, CID, pod_file
from follow_agent import FollowAgent, cri_line
from k8s_api_server import make_pod

TS = "2026-11-26T23:08:04.000000001Z"



def write_cri(path, payloads, mode="ab"):
    with open(path, mode) as f:
        for p in payloads:
            f.write(cri_line(p if isinstance(p, str) else json.dumps(p)))


def oneshot(tmp_path, inputs, **env):
    out = tmp_path / "out.ndjson"
    r = run_logship(clean_env(LOGSHIP_INPUT_PATHS=inputs, LOGSHIP_STATE_DIR=tmp_path / "state",
                              LOGSHIP_SINK="file", LOGSHIP_FILE_PATH=out, LOGSHIP_ONESHOT="true",
                              LOGSHIP_PROGRESS="off", **env))
    assert r.returncode == 0, r.stderr.decode()
    return read_records(out), r


def logs(records):
    return [r["log"] for r in records]


def api_agent(tmp_path, api, **env):
    return FollowAgent(
        tmp_path, f"{tmp_path}/containers/*.log",
        LOGSHIP_K8S_API="true", LOGSHIP_NODE_NAME="node-1",
        KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=str(api.port),
        LOGSHIP_K8S_TOKEN_FILE=api.token_file, LOGSHIP_K8S_CA_FILE=api.ca_file,
        LOGSHIP_K8S_WAIT_MS="2000", **env)


JAVA_TRACE = [
    "java.lang.IllegalStateException: boom",
    "\tat com.example.App.run(App.java:42)",
    "\tat com.example.App.main(App.java:10)",
    "Caused by: java.io.IOException: disk",
    "\tat com.example.Io.read(Io.java:7)",
    "\t... 2 more",
]
PY_TRACE = [
    "Traceback (most recent call last):",
    '  File "app.py", line 3, in <module>',
    "    main()",
    "ValueError: bad",
]


# ---- issue 10: framing -------------------------------------------------------

def test_follow_partial_expires_and_ships_marked_partial(tmp_path):
    f = tmp_path / "a.log"
    f.write_bytes(cri_line("first") + cri_line("never continued", tag="P"))
    agent = FollowAgent(tmp_path, str(f), LOGSHIP_PARTIAL_TIMEOUT_MS="300").start()
    try:
        recs = agent.wait_records(2, timeout=20)
        assert recs[0]["log"] == "first" and "partial" not in recs[0]
        assert recs[1]["log"] == "never continued" and recs[1]["partial"] is True
        wait_for(lambda: agent.metric('logship_malformed_lines_total{format="cri",reason="partial_expired"}') == 1,
                 timeout=10, what="partial_expired counted")
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_torn_first_docker_line_ships_as_text_and_later_lines_parse(tmp_path):
    f = tmp_path / "d.log"
    f.write_bytes(
        b'n of a line cut at its head","stream":"stdout","time":"2026-11-26T23:08:04.000000001Z"}\n'
        b'{"log":"whole line\\n","stream":"stderr","time":"2026-11-26T23:08:05.000000001Z"}\n'
        b'{"log":"{\\"a\\":1}\\n","stream":"stdout","attrs":{"tag":"web"},"time":"2026-11-26T23:08:06.000000001Z"}\n')
    # auto (the default): a torn first line does not fix the file's format.
    recs, _ = oneshot(tmp_path, str(f))
    assert len(recs) == 3
    assert recs[0]["log"].startswith("n of a line cut")  # shipped as text, not dropped
    assert recs[1]["log"] == "whole line" and recs[1]["stream"] == "stderr"
    assert recs[1]["ts"] == "2026-11-26T23:08:05.000000001Z"
    assert "attrs" not in recs[1]
    assert recs[2]["log"] == {"a": 1} and recs[2]["attrs"] == {"tag": "web"}
    # attrs sits between k8s/ts/stream and log, byte-wise.
    raw = (tmp_path / "out.ndjson").read_bytes().splitlines()[2]
    assert b'"attrs":{"tag":"web"},"log":' in raw


def test_torn_docker_line_is_counted_on_metrics(tmp_path):
    f = tmp_path / "d.log"
    f.write_bytes(
        b'n of a line cut","stream":"stdout","time":"2026-11-26T23:08:04.000000001Z"}\n'
        b'{"log":"ok\\n","stream":"stdout","time":"2026-11-26T23:08:05.000000001Z"}\n')
    agent = FollowAgent(tmp_path, str(f)).start()
    try:
        agent.wait_records(2)
        wait_for(lambda: agent.metric('logship_malformed_lines_total{format="docker",reason="torn"}') == 1,
                 timeout=10, what="torn line counted")
    finally:
        agent.stop()


def test_timestamp_format_utc(tmp_path):
    f = tmp_path / "a.log"
    f.write_bytes(b"2026-11-26T23:08:04.5+01:00 stdout F x\n" + cri_line("y"))
    recs, _ = oneshot(tmp_path, str(f), LOGSHIP_TIMESTAMP_FORMAT="utc")
    assert [r["ts"] for r in recs] == ["2026-11-26T22:08:04.500000000Z", "2026-11-26T23:08:04.000000001Z"]
    (tmp_path / "v").mkdir()
    recs, _ = oneshot(tmp_path / "v", str(f))
    assert recs[0]["ts"] == "2026-11-26T23:08:04.5+01:00"  # verbatim by default


def test_multiline_auto_joins_stack_traces_in_a_kubelet_tree(tmp_path):
    f = pod_file(tmp_path, "shop", "api-1", "app")
    write_cri(f, [{"msg": "starting"}, "ERROR request failed"] + JAVA_TRACE + [{"msg": "between"}] + PY_TRACE
              + [{"msg": "after"}])
    recs, _ = oneshot(tmp_path, f"{tmp_path}/containers/*.log", LOGSHIP_MULTILINE="auto")
    texts = logs(recs)
    print(texts)
    assert texts[0] == {"msg": "starting"}
    # The message line before the exception heads the group (log4j style).
    assert texts[1] == "\n".join(["ERROR request failed"] + JAVA_TRACE)
    assert texts[2] == {"msg": "between"}
    assert texts[3] == "\n".join(PY_TRACE)
    assert texts[4] == {"msg": "after"}
    assert len(texts) == 5
    assert all(r["k8s"]["pod"] == "api-1" for r in recs)
    # Off by default: every line is its own record.
    (tmp_path / "off").mkdir()
    recs, _ = oneshot(tmp_path / "off", f"{tmp_path}/containers/*.log")
    assert len(recs) == 2 + len(JAVA_TRACE) + 1 + len(PY_TRACE) + 1


def test_multiline_per_pod_annotation_and_metrics(tmp_path, api):
    api.set_pods([make_pod("java-1", namespace="shop", annotations={"logship.io/multiline": "java"}),
                  make_pod("plain-1", namespace="shop")])
    a = pod_file(tmp_path, "shop", "java-1", "app")
    b = pod_file(tmp_path, "shop", "plain-1", "app")
    write_cri(a, JAVA_TRACE + ["done"])
    write_cri(b, JAVA_TRACE + ["done"])
    agent = api_agent(tmp_path, api).start()
    try:
        n = 2 + len(JAVA_TRACE) + 1
        recs = agent.wait_records(n)
        wait_for(lambda: len(agent.records()) >= n, what="all records")
        by_pod = {}
        for r in agent.records():
            by_pod.setdefault(r["k8s"]["pod"], []).append(r["log"])
        assert by_pod["java-1"] == ["\n".join(JAVA_TRACE), "done"]
        assert by_pod["plain-1"] == JAVA_TRACE + ["done"]
        m = agent.metrics()
        assert m["logship_multiline_groups_total"] == 1
        assert m["logship_multiline_lines_joined_total"] == len(JAVA_TRACE) - 1
        assert 'logship_multiline_groups_ended_total{by="timeout"}' in m
    finally:
        assert agent.stop() == 0, agent.stderr()


# ---- issue 11: filters, throttle, redaction -----------------------------------

def test_excluded_namespace_file_is_never_opened(tmp_path):
    keep = pod_file(tmp_path, "shop", "api-1", "app")
    drop = pod_file(tmp_path, "kube-system", "dns-1", "coredns")
    side = pod_file(tmp_path, "shop", "api-1", "istio-proxy")
    write_cri(keep, [{"n": 1}])
    write_cri(drop, [{"n": 2}])
    write_cri(side, [{"n": 3}])
    agent = FollowAgent(tmp_path, f"{tmp_path}/containers/*.log", LOGSHIP_EXCLUDE_NAMESPACES="kube-*",
                        LOGSHIP_EXCLUDE_CONTAINERS="istio-proxy").start()
    try:
        recs = agent.wait_records(1)
        wait_for(lambda: agent.metric("logship_files_excluded_total") == 2, what="two files excluded")
        m = agent.metrics()
        assert m["logship_files_open"] == 1
        paths = [k for k in m if k.startswith("logship_file_read_bytes_total{")]
        assert len(paths) == 1 and "api-1_shop_app" in paths[0]
        write_cri(drop, [{"n": 4}])
        write_cri(keep, [{"n": 5}])
        recs = agent.wait_records(2)
        assert [r["log"]["n"] for r in recs] == [1, 5]
        # Counted once per file, not at every rescan.
        assert agent.metric("logship_files_excluded_total") == 2
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_pod_annotation_exclude_drops_records(tmp_path, api):
    api.set_pods([make_pod("noisy-1", namespace="shop", annotations={"logship.io/exclude": "true"}),
                  make_pod("quiet-1", namespace="shop")])
    a = pod_file(tmp_path, "shop", "noisy-1", "app")
    b = pod_file(tmp_path, "shop", "quiet-1", "app")
    write_cri(a, [{"n": i} for i in range(3)])
    write_cri(b, [{"n": i} for i in range(2)])
    agent = api_agent(tmp_path, api).start()
    try:
        agent.wait_records(2)
        wait_for(lambda: agent.metric('logship_records_dropped_total{reason="excluded"}') == 3,
                 what="three records dropped")
        assert {r["k8s"]["pod"] for r in agent.records()} == {"quiet-1"}
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_min_level(tmp_path):
    f = tmp_path / "a.log"
    write_cri(f, [{"level": "debug", "n": 1}, {"level": "info", "n": 2}, {"level": "WARN", "n": 3},
                  {"severity": "error", "n": 4}, {"n": 5}, "[DEBUG] text", "ERROR: text"])
    recs, _ = oneshot(tmp_path, str(f), LOGSHIP_MIN_LEVEL="warn")
    assert logs(recs) == [{"level": "WARN", "n": 3}, {"severity": "error", "n": 4}, {"n": 5}, "ERROR: text"]


def test_throttle_ships_a_summary_record(tmp_path):
    f = pod_file(tmp_path, "shop", "chatty-1", "app")
    write_cri(f, [{"n": i} for i in range(50)])
    recs, _ = oneshot(tmp_path, f"{tmp_path}/containers/*.log", LOGSHIP_RATE_LIMIT="1", LOGSHIP_RATE_BURST="5")
    kept = [r for r in recs if "n" in r["log"]]
    summaries = [r for r in recs if r["log"].get("logship") == "throttled"]
    assert 5 <= len(kept) < 50
    assert sum(s["log"]["dropped"] for s in summaries) == 50 - len(kept)
    assert summaries and summaries[0]["k8s"]["pod"] == "chatty-1"


def test_redaction_of_keys_and_patterns(tmp_path):
    f = tmp_path / "a.log"
    write_cri(f, [{"user": "ann", "password": "hunter2", "nested": {"Token": 12}},
                  {"msg": "paid with 4111 1111 1111 1111 ok"},
                  "Authorization: Bearer abcdef0123456789xyz",
                  {"api_key": "k", "note": "mail bob@example.com"}])
    recs, _ = oneshot(tmp_path, str(f))
    assert recs[0]["log"] == {"user": "ann", "password": "[REDACTED]", "nested": {"Token": "[REDACTED]"}}
    assert recs[1]["log"] == {"msg": "paid with [REDACTED:credit_card] ok"}
    assert "abcdef0123456789xyz" not in recs[2]["log"] and "[REDACTED:bearer]" in recs[2]["log"]
    assert recs[3]["log"] == {"api_key": "[REDACTED]", "note": "mail bob@example.com"}  # email is opt-in
    (tmp_path / "b").mkdir()
    recs, _ = oneshot(tmp_path / "b", str(f), LOGSHIP_REDACT_KEYS="user", LOGSHIP_REDACT_PATTERNS="email")
    assert recs[0]["log"]["user"] == "[REDACTED]" and recs[0]["log"]["password"] == "hunter2"
    assert recs[3]["log"]["note"] == "mail [REDACTED:email]"
    (tmp_path / "c").mkdir()
    recs, _ = oneshot(tmp_path / "c", str(f), LOGSHIP_REDACT_KEYS="none", LOGSHIP_REDACT_PATTERNS="none")
    assert recs[0]["log"]["password"] == "hunter2" and "4111 1111" in recs[1]["log"]["msg"]


def test_processing_metrics_names(tmp_path):
    f = tmp_path / "a.log"
    write_cri(f, [{"password": "x"}, {"level": "debug"}, {"level": "error", "m": "4111-1111-1111-1111"}])
    agent = FollowAgent(tmp_path, str(f), LOGSHIP_MIN_LEVEL="info").start()
    try:
        agent.wait_records(2)
        wait_for(lambda: agent.metric('logship_records_dropped_total{reason="level"}') == 1, what="level drop")
        m = agent.metrics()
        assert m['logship_redactions_total{kind="key"}'] == 1
        assert m['logship_redactions_total{kind="credit_card"}'] == 1
        assert m['logship_records_dropped_total{reason="throttled"}'] == 0
        for name in ("logship_files_lost_total", "logship_last_commit_timestamp_seconds",
                     "logship_multiline_groups_total", "logship_files_excluded_total"):
            assert name in m, name
        wait_for(lambda: agent.metric("logship_last_commit_timestamp_seconds") > 1.7e9, what="a commit time")
    finally:
        assert agent.stop() == 0, agent.stderr()


@pytest.mark.parametrize("key,value,reason", [
    ("LOGSHIP_MIN_LEVEL", "verbose", "is not a level"),
    ("LOGSHIP_MULTILINE", "java,cobol", "cobol"),
    ("LOGSHIP_EXCLUDE_NAMESPACES", "a/b", ""),
    ("LOGSHIP_RATE_LIMIT", "-1", ""),
    ("LOGSHIP_REDACT_PATTERNS", "ssn", "ssn"),
    ("LOGSHIP_TIMESTAMP_FORMAT", "local", "local"),
    ("LOGSHIP_PARTIAL_TIMEOUT_MS", "0", ""),
])
def test_bad_processing_values_fail_at_start_naming_the_key(key, value, reason):
    r = run_logship(clean_env(**{key: value}), "--check-config")
    assert r.returncode == 2
    err = r.stderr.decode()
    assert key in err and reason in err


def test_check_config_shows_effective_rules():
    r = run_logship(clean_env(LOGSHIP_MULTILINE="java,go", LOGSHIP_RATE_LIMIT="100",
                              LOGSHIP_EXCLUDE_NAMESPACES="kube-*"), "--check-config")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "LOGSHIP_MULTILINE=java,go" in out
    assert re.search(r"^# multiline: java,go", out, re.M)
    assert "# rate limit: 100 records/s per container, burst 200" in out
    assert "# exclude namespaces: kube-*" in out
