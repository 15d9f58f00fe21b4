"""The fake Kubernetes API server (tests/blackbox/k8s_api_server.py) checked
with Python's own HTTPS client: object shapes, list/watch semantics and the
faults it injects, so that the C++ tests rely on a server that behaves."""

import http.client
import json
import pathlib
import socket
import ssl
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "blackbox"))
from k8s_api_server import K8sApiServer, make_pod  # noqa: E402

SELECTOR = "fieldSelector=spec.nodeName%3Dnode-1"


@pytest.fixture
def server(tmp_path):
    s = K8sApiServer(tmp_path, node="node-1", token="t1", page_limit=2)
    s.start()
    yield s
    s.stop()


def connect(server, host="127.0.0.1"):
    ctx = ssl.create_default_context(cafile=server.ca_file)
    return http.client.HTTPSConnection(host, server.port, context=ctx, timeout=10)


def get(server, target, token="t1", conn=None):
    conn = conn or connect(server)
    conn.request("GET", target, headers={"Authorization": "Bearer " + token} if token else {})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b"null")


def watch_lines(server, target, token="t1"):
    """Yields watch events (dicts) as they arrive; None once the stream ends."""
    conn = connect(server)
    conn.request("GET", target, headers={"Authorization": "Bearer " + token})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    while True:
        line = resp.readline()
        if not line:
            yield None
            return
        yield json.loads(line)


def test_list_shape_selector_and_pagination(server):
    server.set_pods([make_pod("a-1", "shop"), make_pod("b-1", "shop"), make_pod("c-1", "jobs"),
                     make_pod("x-1", "shop", node="node-2")])
    status, page1 = get(server, "/api/v1/pods?%s&limit=500" % SELECTOR)
    assert status == 200
    assert page1["kind"] == "PodList" and page1["apiVersion"] == "v1"
    assert len(page1["items"]) == 2
    assert page1["metadata"]["remainingItemCount"] == 1
    item = page1["items"][0]
    assert "kind" not in item  # list items carry no kind
    assert set(item) == {"metadata", "spec", "status"}
    assert item["spec"]["nodeName"] == "node-1"
    assert item["status"]["containerStatuses"][0]["name"] == "app"
    status, page2 = get(server, "/api/v1/pods?%s&limit=500&continue=%s" % (SELECTOR, page1["metadata"]["continue"]))
    assert status == 200
    assert "continue" not in page2["metadata"]
    names = [p["metadata"]["name"] for p in page1["items"] + page2["items"]]
    assert sorted(names) == ["a-1", "b-1", "c-1"]
    assert page2["metadata"]["resourceVersion"] == page1["metadata"]["resourceVersion"]

    server.expire_continues()
    status, body = get(server, "/api/v1/pods?%s&continue=%s" % (SELECTOR, page1["metadata"]["continue"]))
    assert status == 410 and body["reason"] == "Expired"
    status, body = get(server, "/api/v1/pods?fieldSelector=status.phase%3DRunning")
    assert status == 400


def test_auth(server):
    status, body = get(server, "/api/v1/pods", token=None)
    assert status == 401 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                      "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    server.expect_token("t2")
    assert get(server, "/api/v1/pods", token="t1")[0] == 401
    assert get(server, "/api/v1/pods", token="t2")[0] == 200
    assert [r["status"] for r in server.requests()] == [401, 401, 200]
    server.write_token("t3")
    assert pathlib.Path(server.token_file).read_text() == "t3\n"


def test_keep_alive(server):
    conn = connect(server)
    for _ in range(3):
        assert get(server, "/api/v1/pods?" + SELECTOR, conn=conn)[0] == 200


def test_watch_events_history_bookmarks_and_timeout(server):
    rv0 = server.set_pods([make_pod("a-1", "shop")])
    server.add_event("ADDED", make_pod("b-1", "shop"))
    server.add_event("ADDED", make_pod("elsewhere", "shop", node="node-2"))
    events = watch_lines(server, "/api/v1/pods?%s&watch=1&resourceVersion=%s&allowWatchBookmarks=true"
                                 "&timeoutSeconds=2" % (SELECTOR, rv0))
    first = next(events)
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "b-1"
    assert first["object"]["kind"] == "Pod"
    deadline = time.monotonic() + 5
    while server.watch_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.add_event("MODIFIED", make_pod("a-1", "shop", labels={"v": "2"}))
    modified = next(events)
    assert modified["type"] == "MODIFIED" and modified["object"]["metadata"]["labels"] == {"v": "2"}
    assert int(modified["object"]["metadata"]["resourceVersion"]) > int(first["object"]["metadata"]["resourceVersion"])
    rv = server.bookmark()
    bookmark = next(events)
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["metadata"]["resourceVersion"] == rv
    server.add_event("DELETED", make_pod("a-1", "shop"))
    deleted = next(events)
    assert deleted["type"] == "DELETED" and deleted["object"]["metadata"]["labels"] == {"v": "2"}
    assert next(events) is None  # timeoutSeconds ends the stream cleanly


def test_watch_faults(server):
    rv = server.set_pods([make_pod("a-1", "shop")])
    target = "/api/v1/pods?%s&watch=1&resourceVersion=%s" % (SELECTOR, rv)

    server.gone()
    status, body = get(server, target)
    assert status == 410 and body["code"] == 410 and body["reason"] == "Expired"

    server.gone(as_event=True)
    events = watch_lines(server, target)
    error = next(events)
    assert error["type"] == "ERROR" and error["object"]["code"] == 410
    assert next(events) is None

    events = watch_lines(server, target)
    threading.Timer(0.2, server.send_gone).start()
    assert next(events)["type"] == "ERROR"
    assert next(events) is None

    # A drop is not a clean end: no terminating chunk.
    conn = connect(server)
    conn.request("GET", target, headers={"Authorization": "Bearer t1"})
    resp = conn.getresponse()
    threading.Timer(0.2, server.drop_watches).start()
    with pytest.raises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
        resp.read()

    server.add_event("ADDED", make_pod("b-1", "shop"))
    server.compact()
    assert get(server, target)[0] == 410


def test_down_and_up(server):
    port = server.port
    server.down()
    with pytest.raises(OSError):
        get(server, "/api/v1/pods")
    server.up()
    assert server.port == port
    assert get(server, "/api/v1/pods?" + SELECTOR)[0] == 200


def test_certificate_names(server):
    assert get(server, "/api/v1/pods", conn=connect(server, "localhost"))[0] == 200
    # A name the certificate does not carry is refused.
    ctx = ssl.create_default_context(cafile=server.ca_file)
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(raw, server_hostname="kubernetes.default.svc")
