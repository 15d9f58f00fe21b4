"""Pod metadata from the Kubernetes API (a test API server with a CA made by
the test): labels, annotations, node, image and release land on the right
records; the API dropping watches, answering 410 Gone, rotating tokens or
being down never stops shipping."""

import json
import os
import time

import pytest

from conftest import wait_for, CID, pod_file
from follow_agent import FollowAgent, cri_line
from k8s_api_server import K8sApiServer, make_pod




def append(path, n, start=0):
    with open(path, "ab") as f:
        for i in range(start, start + n):
            f.write(cri_line(json.dumps({"n": i})))


def agent_for(tmp_path, api, **env):
    return FollowAgent(
        tmp_path, f"{tmp_path}/containers/*.log",
        LOGSHIP_K8S_API="true", LOGSHIP_NODE_NAME="node-1",
        KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=str(api.port),
        LOGSHIP_K8S_TOKEN_FILE=api.token_file, LOGSHIP_K8S_CA_FILE=api.ca_file,
        LOGSHIP_K8S_LABELS="team,app.kubernetes.io/*", LOGSHIP_K8S_ANNOTATIONS="example.com/owner",
        **env)


def by_pod(records):
    out = {}
    for r in records:
        out.setdefault(r["k8s"]["pod"], []).append(r)
    return out


def test_labels_annotations_and_release_land_on_the_right_records(tmp_path, api):
    api.set_pods([
        make_pod("checkout-7d9f8b6c5-x2x9q", namespace="shop",
                 labels={"app.kubernetes.io/version": "2.3.4", "team": "payments", "pod-template-hash": "7d9f8b6c5"},
                 annotations={"example.com/owner": "alice", "other": "dropped"},
                 containers=[("app", "registry.example.com:5000/shop/checkout:2.3.4-rc1")]),
        make_pod("frontend-1", namespace="web", annotations={"logship.io/release": "fe-9"},
                 containers=[("nginx", "nginx:1.27")]),
        make_pod("worker-5", namespace="jobs", containers=[("main", "ghcr.io/acme/worker:v7")]),
    ])
    a = pod_file(tmp_path, "shop", "checkout-7d9f8b6c5-x2x9q", "app")
    b = pod_file(tmp_path, "web", "frontend-1", "nginx")
    c = pod_file(tmp_path, "jobs", "worker-5", "main")
    d = pod_file(tmp_path, "gone", "unknown-1", "x")  # not in the API at all
    for f in (a, b, c, d):
        append(f, 3)
    agent = agent_for(tmp_path, api, LOGSHIP_K8S_WAIT_MS="2000").start()
    try:
        recs = by_pod(agent.wait_records(12))
        shop = recs["checkout-7d9f8b6c5-x2x9q"][0]
        assert shop["release"] == "2.3.4"  # label:app.kubernetes.io/version
        assert shop["k8s"]["labels"] == {"app.kubernetes.io/version": "2.3.4", "team": "payments"}
        assert shop["k8s"]["annotations"] == {"example.com/owner": "alice"}
        assert shop["k8s"]["node"] == "node-1"
        assert shop["k8s"]["image"] == "registry.example.com:5000/shop/checkout:2.3.4-rc1"
        assert shop["k8s"]["pod_uid"]
        assert shop["k8s"]["container_id"] == CID
        assert recs["frontend-1"][0]["release"] == "fe-9"  # annotation:logship.io/release
        assert recs["worker-5"][0]["release"] == "v7"      # image-tag
        m = agent.metrics()
        assert m["logship_k8s_synced"] == 1 and m["logship_k8s_pods"] == 3
        unknown = recs["unknown-1"][0]
        assert "release" not in unknown and "labels" not in unknown["k8s"]
        assert unknown["k8s"] == {"namespace": "gone", "pod": "unknown-1", "container": "x", "container_id": CID}
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_logship_release_overrides_the_pod_release(tmp_path, api):
    api.set_pods([make_pod("checkout-1", namespace="shop", labels={"app.kubernetes.io/version": "2.3.4"})])
    append(pod_file(tmp_path, "shop", "checkout-1", "app"), 1)
    agent = agent_for(tmp_path, api, LOGSHIP_RELEASE="pinned").start()
    try:
        assert agent.wait_records(1)[0]["release"] == "pinned"
    finally:
        agent.stop()


def test_a_new_pod_waits_briefly_for_its_metadata(tmp_path, api):
    agent = agent_for(tmp_path, api, LOGSHIP_K8S_WAIT_MS="3000").start()
    try:
        wait_for(lambda: any(r["watch"] for r in api.requests()), what="watching")
        f = pod_file(tmp_path, "shop", "cart-2", "app")
        append(f, 2)
        time.sleep(0.3)  # the pod reaches the API after its first lines are written
        api.add_event("ADDED", make_pod("cart-2", namespace="shop", labels={"team": "carts"}))
        recs = agent.wait_records(2)
        assert all(r["k8s"].get("labels") == {"team": "carts"} for r in recs), recs
    finally:
        assert agent.stop() == 0, agent.stderr()


def test_api_down_never_stops_shipping_and_metadata_arrives_later(tmp_path):
    (tmp_path / "api").mkdir()
    api = K8sApiServer(tmp_path / "api").start(down=True)
    try:
        api.set_pods([make_pod("checkout-1", namespace="shop", labels={"team": "payments"})])
        f = pod_file(tmp_path, "shop", "checkout-1", "app")
        append(f, 5)
        agent = agent_for(tmp_path, api, LOGSHIP_K8S_WAIT_MS="1000").start()
        try:
            t = time.monotonic()
            recs = agent.wait_records(5, timeout=10)
            # At most the start-up wait for the pod list (LOGSHIP_K8S_WAIT_MS).
            assert time.monotonic() - t < 4, "the API being down must not delay shipping"
            assert all("labels" not in r["k8s"] for r in recs)
            api.up()
            wait_for(lambda: any(r["watch"] for r in api.requests()), timeout=60, what="watch after API up")
            append(f, 1, start=5)
            wait_for(lambda: agent.records()[-1]["k8s"].get("labels") == {"team": "payments"}, timeout=20,
                     what="metadata after the API came back")

            # Watch dropped, token rotated, 410 Gone: the watcher recovers and
            # a label change still reaches new records.
            api.write_token("token-2")
            api.expect_token("token-2")
            api.drop_watches()
            api.gone(as_event=True)
            changed = make_pod("checkout-1", namespace="shop", labels={"team": "checkout"})
            api.add_event("MODIFIED", changed)
            deadline = time.monotonic() + 30
            n = 6
            while time.monotonic() < deadline:
                append(f, 1, start=n)
                n += 1
                agent.wait_records(n)
                if agent.records()[-1]["k8s"].get("labels") == {"team": "checkout"}:
                    break
                time.sleep(0.2)
            assert agent.records()[-1]["k8s"]["labels"] == {"team": "checkout"}
            assert sorted(r["log"]["n"] for r in agent.records()) == list(range(n))
        finally:
            assert agent.stop() == 0, agent.stderr()
    finally:
        api.stop()


def test_oneshot_waits_for_the_first_pod_list(tmp_path, api):
    # Issue 12: --oneshot with the API on used to ship every record without
    # API metadata, because only follow mode waited for the first list.
    from conftest import run_logship
    api.set_pods([make_pod("checkout-1", namespace="shop", labels={"app.kubernetes.io/version": "1.0.0"},
                           containers=[("app", "shop/checkout:1.0.0")])])
    f = pod_file(tmp_path, "shop", "checkout-1", "app")
    append(f, 3)
    agent = agent_for(tmp_path, api, LOGSHIP_K8S_WAIT_MS="3000")
    r = run_logship(agent.env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    recs = [json.loads(line) for line in agent.out.read_text().splitlines()]
    assert len(recs) == 3
    for rec in recs:
        assert rec["k8s"]["pod_uid"], rec
        assert rec["release"] == "1.0.0"
