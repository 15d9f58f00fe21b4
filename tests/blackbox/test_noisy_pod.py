"""One pod writing 100x the others (issue 11): the throttle drops only that
pod's excess, the quiet pods keep their full share and are not held behind
the noisy pod's backlog, and the throttled file's checkpoint still reaches
its end (the drop is deliberate, nothing is left to re-read)."""

import json

from conftest import pod_file, wait_for
from follow_agent import FollowAgent, cri_line

QUIET_PODS = ["quiet-a", "quiet-b", "quiet-c"]
QUIET_LINES = 1000
NOISY_LINES = 100 * QUIET_LINES
RATE = 1000          # records/s per container
BURST = 2 * QUIET_LINES  # a quiet pod's whole backlog fits its burst


def write_lines(path, pod, n):
    pad = "x" * 60
    with open(path, "wb") as f:
        for i in range(n):
            f.write(cri_line(json.dumps({"pod": pod, "seq": i, "pad": pad})))


def test_a_pod_writing_100x_does_not_delay_the_others(tmp_path):
    files = {"noisy-1": pod_file(tmp_path, "shop", "noisy-1", "app")}
    for pod in QUIET_PODS:
        files[pod] = pod_file(tmp_path, "shop", pod, "app")
    # The noisy pod's backlog is written first, so a source that read files
    # one after another in creation order would reach the quiet pods last.
    write_lines(files["noisy-1"], "noisy-1", NOISY_LINES)
    for pod in QUIET_PODS:
        write_lines(files[pod], pod, QUIET_LINES)

    agent = FollowAgent(tmp_path, f"{tmp_path}/containers/*.log",
                        LOGSHIP_RATE_LIMIT=str(RATE), LOGSHIP_RATE_BURST=str(BURST)).start()
    try:
        def settled():
            recs = agent.records()
            quiet = sum(1 for r in recs if r["log"].get("pod") in QUIET_PODS)
            noisy = sum(1 for r in recs if r["log"].get("pod") == "noisy-1")
            dropped = agent.metric('logship_records_dropped_total{reason="throttled"}')
            return quiet == len(QUIET_PODS) * QUIET_LINES and noisy + dropped == NOISY_LINES
        wait_for(settled, timeout=60, what="every record shipped or throttled")
    finally:
        assert agent.stop() == 0, agent.stderr()

    recs = agent.records()
    order = [r["log"].get("pod") for r in recs]
    # Full share: every quiet record ships, once, in order.
    for pod in QUIET_PODS:
        seqs = [r["log"]["seq"] for r in recs if r["log"].get("pod") == pod]
        assert seqs == list(range(QUIET_LINES)), pod
    # Not delayed: each quiet pod is complete before the noisy pod's last
    # shipped record, i.e. it did not wait for the noisy backlog to be read.
    last_noisy = max(i for i, p in enumerate(order) if p == "noisy-1")
    for pod in QUIET_PODS:
        assert max(i for i, p in enumerate(order) if p == pod) < last_noisy, pod
    # The noisy pod was throttled, and says so where its logs are read.
    noisy_kept = order.count("noisy-1")
    assert BURST <= noisy_kept < NOISY_LINES // 2
    summaries = [r for r in recs if r["log"].get("logship") == "throttled"]
    assert summaries and all(s["k8s"]["pod"] == "noisy-1" for s in summaries)
    assert sum(s["log"]["dropped"] for s in summaries) == NOISY_LINES - noisy_kept
    # The throttled file's checkpoint reached its end.
    cp = json.loads((tmp_path / "state" / "checkpoints.json").read_text())
    sizes = {str(f): f.stat().st_size for f in files.values()}
    offsets = {e["path"]: e["offset"] for e in cp["files"]}
    noisy_path = next(p for p in offsets if "noisy-1" in p)
    assert offsets[noisy_path] == sizes[str(files["noisy-1"])]
