#!/usr/bin/env python3
"""A fake Kubernetes API server for logship's tests: HTTPS, pods only.

It serves `GET /api/v1/pods` as the real API server does for a node agent:
lists (fieldSelector, limit/continue pagination, resourceVersion) and watches
(chunked, one JSON event per line, ADDED/MODIFIED/DELETED/BOOKMARK/ERROR,
resuming from a resourceVersion, ended after timeoutSeconds). Objects are
shaped like the API's documented Pod, PodList and Status objects.

Faults a test can inject: drop the watch connections, 410 Gone (as an HTTP
status or as an ERROR event, or for real after compact()), expired continue
tokens, 401 unless the bearer token is the one currently expected, a watch
that hangs silent, and "API down" (the listening socket closed; up() binds
the same port again).

The certificates come from the `openssl` CLI: a CA made for the run and a
server certificate with SAN IP:127.0.0.1 and DNS:localhost (configurable).
It listens on 127.0.0.1 only, on a free port. Pods and certificates are
built by k8s_objects.py (make_pod is importable from here too).

Use it from pytest:

    server = K8sApiServer(tmp_path, node="node-1", token="t1")
    server.start()
    server.set_pods([make_pod("web-1", "shop", "node-1")])
    ...  # point the agent at 127.0.0.1:server.port with server.ca_file, server.token_file
    server.stop()

or as a script (`--control`: one JSON command per stdin line, one JSON reply
per stdout line, exit at end of input), which is how the C++ tests drive it:

    python3 k8s_api_server.py --dir /tmp/x --control
    -> {"port": 43121, "ca_file": "/tmp/x/ca.crt", "token_file": "/tmp/x/token", ...}
    <- {"cmd": "add_pod", "name": "web-1", "namespace": "shop", "labels": {"app": "web"}}
    -> {"ok": true, "rv": "1003"}
"""

import argparse
import base64
import copy
import http.server
import json
import os
import queue
import socket
import ssl
import sys
import threading
import time
import urllib.parse

from k8s_objects import make_certs, make_pod, pod_from_args, pod_key, status_object  # noqa: F401 (make_pod: re-exported)

# ---------------------------------------------------------------------------
# The server.

_DROP = object()  # watch queue item: cut the connection without ending the body
_END = object()   # watch queue item: end the body cleanly


class _Watch:
    def __init__(self, selector, bookmarks):
        self.selector = selector
        self.bookmarks = bookmarks
        self.queue = queue.Queue()


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # TLS handshakes the client aborts (bad CA, stop()) and connections
        # it drops are part of the tests; one line, not a traceback.
        exc = sys.exc_info()[1]
        self.api.log("connection error: %s: %s" % (type(exc).__name__, exc))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # per socket operation; idle keep-alive connections close after it

    def setup(self):
        # TLS in the connection's own thread, so a slow handshake never
        # holds up the accept loop.
        self.request.settimeout(self.timeout)
        self.request = self.server.api._tls.wrap_socket(self.request, server_side=True)
        self.server.api._track(self.request, True)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.api._track(self.request, False)
            # wrap_socket() detached the accepted socket, so socketserver's
            # own shutdown_request() no longer closes anything: close here.
            try:
                self.request.close()
            except OSError:
                pass

    def log_message(self, fmt, *args):
        self.server.api.log(fmt % args)

    def do_GET(self):
        self.server.api._handle(self)

    # -- response helpers --

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def send_chunk(self, data):
        # One write per chunk: one TLS record, as the API server flushes
        # one event at a time.
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")

    def cut(self):
        """Drops the connection mid-body: no terminating chunk, no TLS close_notify."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class K8sApiServer:
    """The fake API server. Every public method is thread-safe."""

    def __init__(self, directory, node="node-1", token="token-1", page_limit=None,
                 sans="IP:127.0.0.1,DNS:localhost", verbose=False):
        self.dir = str(directory)
        self.node = node
        self.page_limit = page_limit
        self.verbose = verbose
        self.ca_file, self._cert, self._key = make_certs(self.dir, sans)
        self.token_file = os.path.join(self.dir, "token")
        self.write_token(token)
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self._tls.load_cert_chain(self._cert, self._key)
        self._lock = threading.Lock()
        self._expected_token = token
        self._rv = 1000
        self._compacted_rv = 0
        self._pods = {}       # (ns, name) -> pod
        self._history = []    # (rv, type, pod): what a watch from an older rv replays
        self._watches = set()
        self._continues = {}  # continue token -> (rv, [pods])
        self._gone = []       # pending injected 410s: "http" or "event"
        self._hang = False
        self._requests = []
        self._connections = set()
        self._server = None
        self._thread = None
        self.port = 0

    # -- lifecycle --

    def start(self, down=False):
        """Binds 127.0.0.1 on a free port (the same port again after stop()/down())
        and serves in a thread. With down=True the port is picked but
        nothing listens until up()."""
        self._listen()
        if down:
            self.down()
        return self

    def _listen(self):
        server = _HTTPServer(("127.0.0.1", self.port), _Handler)
        server.api = self
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        with self._lock:
            self._server, self._thread = server, thread

    def down(self):
        """API down: stop listening, cut every connection. State is kept."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            watches = list(self._watches)
            connections = list(self._connections)
        for w in watches:
            w.queue.put(_DROP)
        if server:
            server.shutdown()
            server.server_close()
            thread.join(5)
        for c in connections:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def up(self):
        """Listen again, on the same port."""
        with self._lock:
            if self._server:
                return
        self._listen()

    def stop(self):
        self.down()

    def log(self, text):
        if self.verbose:
            sys.stderr.write("k8s_api_server: %s\n" % text)

    def _track(self, conn, add):
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- state and events --

    def write_token(self, token, path=None):
        """Writes a token file the way the kubelet does: whole, by rename."""
        path = path or self.token_file
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(token + "\n")
        os.replace(tmp, path)

    def expect_token(self, token):
        """Requests must carry `Authorization: Bearer <token>` (None: no check)."""
        with self._lock:
            self._expected_token = token

    def resource_version(self):
        with self._lock:
            return str(self._rv)

    def _record(self, type_, pod):
        """Applies one change under the lock and fans it out; returns its rv."""
        self._rv += 1
        pod = copy.deepcopy(pod)
        pod["metadata"]["resourceVersion"] = str(self._rv)
        key = pod_key(pod)
        if type_ == "DELETED":
            self._pods.pop(key, None)
        else:
            self._pods[key] = pod
        self._history.append((self._rv, type_, pod))
        for w in self._watches:
            if self._matches(w.selector, pod):
                w.queue.put({"type": type_, "object": pod})
        return str(self._rv)

    def add_event(self, type_, pod):
        """ADDED, MODIFIED or DELETED of a pod (make_pod()); returns the new rv.
        DELETED of a known pod sends its last state."""
        with self._lock:
            if type_ == "DELETED":
                pod = self._pods.get(pod_key(pod), pod)
            elif type_ == "MODIFIED" and pod_key(pod) in self._pods:
                # The uid is the pod's identity; a modification keeps it.
                pod = copy.deepcopy(pod)
                pod["metadata"]["uid"] = self._pods[pod_key(pod)]["metadata"]["uid"]
            return self._record(type_, pod)

    def set_pods(self, pods):
        """Makes `pods` the whole state, as ADDED/MODIFIED/DELETED events."""
        with self._lock:
            wanted = {pod_key(p): p for p in pods}
            for key in list(self._pods):
                if key not in wanted:
                    self._record("DELETED", self._pods[key])
            for key, pod in wanted.items():
                if key in self._pods:
                    pod = copy.deepcopy(pod)
                    pod["metadata"]["uid"] = self._pods[key]["metadata"]["uid"]
                    self._record("MODIFIED", pod)
                else:
                    self._record("ADDED", pod)
            return str(self._rv)

    def pods(self):
        with self._lock:
            return copy.deepcopy(list(self._pods.values()))

    def bookmark(self):
        """Moves the resourceVersion on (as changes to other objects do) and
        sends a BOOKMARK with it to watches that allow bookmarks."""
        with self._lock:
            self._rv += 1
            bookmark = {"type": "BOOKMARK", "object": {
                "kind": "Pod", "apiVersion": "v1",
                "metadata": {"resourceVersion": str(self._rv), "creationTimestamp": None},
                "spec": {"containers": None}, "status": {}}}
            for w in self._watches:
                if w.bookmarks:
                    w.queue.put(bookmark)
            return str(self._rv)

    def send_raw(self, line):
        """Sends `line` (plus a newline) to every watch as is, e.g. garbage."""
        with self._lock:
            for w in self._watches:
                w.queue.put(line)

    # -- faults --

    def drop_watches(self):
        """Cuts every open watch connection mid-stream."""
        with self._lock:
            for w in self._watches:
                w.queue.put(_DROP)

    def end_watches(self):
        """Ends every open watch cleanly, as timeoutSeconds does."""
        with self._lock:
            for w in self._watches:
                w.queue.put(_END)

    def gone(self, as_event=False, count=1):
        """The next `count` watch requests get 410 Gone: an HTTP 410 Status,
        or (as_event) a 200 whose stream holds one ERROR event with code 410."""
        with self._lock:
            self._gone.extend(["event" if as_event else "http"] * count)

    def send_gone(self):
        """Every open watch gets an ERROR event with code 410, then its end."""
        with self._lock:
            for w in self._watches:
                w.queue.put({"type": "ERROR", "object": status_object(
                    410, "Expired", "too old resource version: %d (%d)" % (self._compacted_rv, self._rv))})
                w.queue.put(_END)

    def compact(self):
        """Forgets the history, as etcd compaction does: a watch from an
        older resourceVersion than now gets 410."""
        with self._lock:
            self._compacted_rv = self._rv
            self._history = []
            return str(self._rv)

    def expire_continues(self):
        """Continue tokens handed out so far get 410 Expired."""
        with self._lock:
            self._continues.clear()

    def hang_watches(self, hang=True):
        """New watches answer 200 and then never send a byte."""
        with self._lock:
            self._hang = hang

    def requests(self):
        """Every request so far: method, path, query (dict), status, token, watch."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear_requests(self):
        with self._lock:
            self._requests = []

    def wait_for_request(self, predicate, timeout=10.0):
        """The first request (oldest first) matching `predicate`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.requests():
                if predicate(r):
                    return r
            if time.monotonic() > deadline:
                raise TimeoutError("no matching request")
            time.sleep(0.02)

    def watch_count(self):
        with self._lock:
            return len(self._watches)

    # -- request handling --

    @staticmethod
    def _parse_selector(text):
        """fieldSelector: comma-separated field=value / field==value / field!=value
        on spec.nodeName and metadata.namespace/name (what pods support)."""
        terms = []
        for term in filter(None, (text or "").split(",")):
            for op in ("!=", "==", "="):
                if op in term:
                    field, value = term.split(op, 1)
                    if field not in ("spec.nodeName", "metadata.namespace", "metadata.name"):
                        raise ValueError('field label not supported: %s' % field)
                    terms.append((field, op != "!=", value))
                    break
            else:
                raise ValueError("invalid selector: %r" % term)
        return terms

    @staticmethod
    def _matches(selector, pod):
        for field, equal, value in selector:
            section, name = field.split(".")
            actual = pod.get(section, {}).get(name, "")
            if (actual == value) != equal:
                return False
        return True

    def _handle(self, h):
        url = urllib.parse.urlsplit(h.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        auth = h.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        watch = query.get("watch") in ("1", "true")
        entry = {"method": "GET", "path": url.path, "query": query, "token": token, "watch": watch, "status": 0}
        with self._lock:
            self._requests.append(entry)
            expected = self._expected_token

        def answer(code, obj):
            entry["status"] = code
            h.send_json(code, obj)

        if expected is not None and token != expected:
            return answer(401, status_object(401, "Unauthorized", "Unauthorized"))
        if url.path != "/api/v1/pods":
            return answer(404, status_object(404, "NotFound", "the server could not find the requested resource"))
        try:
            selector = self._parse_selector(query.get("fieldSelector"))
        except ValueError as e:
            return answer(400, status_object(400, "BadRequest", str(e)))
        if watch:
            return self._watch(h, query, selector, entry)
        return self._list(query, selector, answer)

    def _list(self, query, selector, answer):
        limit = int(query.get("limit") or 0)
        if self.page_limit:
            limit = min(limit or self.page_limit, self.page_limit)
        cont = query.get("continue")
        with self._lock:
            if cont:
                snapshot = self._continues.get(cont)
                if snapshot is None:
                    return answer(410, status_object(410, "Expired",
                                               "The provided continue parameter is too old to display a consistent "
                                               "list result. You can start a new list without the continue parameter."))
                rv, items, start = snapshot
            else:
                rv = self._rv
                items = [copy.deepcopy(p) for _, p in sorted(self._pods.items()) if self._matches(selector, p)]
                start = 0
            page = items[start:start + limit] if limit else items[start:]
            metadata = {"resourceVersion": str(rv)}
            end = start + len(page)
            if end < len(items):
                token = base64.b64encode(json.dumps(
                    {"v": "meta.k8s.io/v1", "rv": rv, "start": "%s/%s\u0000" % pod_key(items[end - 1])}).encode()).decode()
                self._continues[token] = (rv, items, end)
                metadata["continue"] = token
                metadata["remainingItemCount"] = len(items) - end
        for item in page:
            # A list's items carry no kind/apiVersion: the list's own say it.
            item.pop("kind", None)
            item.pop("apiVersion", None)
        answer(200, {"kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": page})

    def _watch(self, h, query, selector, entry):
        rv = query.get("resourceVersion")
        timeout = float(query.get("timeoutSeconds") or 1800)
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        w = _Watch(selector, bookmarks)
        with self._lock:
            gone = self._gone.pop(0) if self._gone else None
            if gone is None and rv not in (None, "", "0") and int(rv) < self._compacted_rv:
                gone = "http"
            too_old = status_object(410, "Expired", "too old resource version: %s (%d)" % (rv, self._rv))
            if gone is None:
                if rv in (None, "", "0"):
                    # No resourceVersion: synthetic ADDED events for the current state.
                    backlog = [{"type": "ADDED", "object": p} for _, p in sorted(self._pods.items())]
                else:
                    backlog = [{"type": t, "object": p} for r, t, p in self._history if r > int(rv)]
                backlog = [e for e in backlog if self._matches(selector, e["object"])]
                hang = self._hang
                self._watches.add(w)
        if gone == "http":
            entry["status"] = 410
            return h.send_json(410, too_old)
        entry["status"] = 200
        if gone == "event":
            h.start_chunked()
            h.send_chunk((json.dumps({"type": "ERROR", "object": too_old}) + "\n").encode())
            h.end_chunked()
            return
        try:
            h.start_chunked()
            for event in backlog:
                h.send_chunk((json.dumps(event) + "\n").encode())
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0 and not hang:
                    h.end_chunked()
                    return
                try:
                    item = w.queue.get(timeout=0.05 if hang else min(left, 0.05))
                except queue.Empty:
                    continue
                if item is _DROP:
                    return h.cut()
                if hang:
                    continue
                if item is _END:
                    h.end_chunked()
                    return
                line = item if isinstance(item, str) else json.dumps(item)
                h.send_chunk((line + "\n").encode())
        except OSError:
            h.close_connection = True
        finally:
            with self._lock:
                self._watches.discard(w)


# ---------------------------------------------------------------------------
# Script mode.


def _control(server, out):
    """Runs JSON commands from stdin until it ends."""
    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            c = json.loads(line)
            cmd = c.pop("cmd")
            result = {}
            if cmd in ("add_pod", "modify_pod"):
                result["rv"] = server.add_event("ADDED" if cmd == "add_pod" else "MODIFIED",
                                                pod_from_args(c, server.node))
            elif cmd == "delete_pod":
                result["rv"] = server.add_event("DELETED", pod_from_args(c, server.node))
            elif cmd == "set_pods":
                result["rv"] = server.set_pods([pod_from_args(p, server.node) for p in c.get("pods", [])])
            elif cmd == "bookmark":
                result["rv"] = server.bookmark()
            elif cmd == "send_raw":
                server.send_raw(c["line"])
            elif cmd == "drop_watches":
                server.drop_watches()
            elif cmd == "end_watches":
                server.end_watches()
            elif cmd == "gone":
                server.gone(as_event=bool(c.get("as_event")), count=int(c.get("count", 1)))
            elif cmd == "send_gone":
                server.send_gone()
            elif cmd == "compact":
                result["rv"] = server.compact()
            elif cmd == "expire_continues":
                server.expire_continues()
            elif cmd == "hang_watches":
                server.hang_watches(bool(c.get("hang", True)))
            elif cmd == "expect_token":
                server.expect_token(c.get("token"))
            elif cmd == "write_token":
                server.write_token(c["token"], c.get("path"))
            elif cmd == "down":
                server.down()
            elif cmd == "up":
                server.up()
            elif cmd == "requests":
                result["requests"] = server.requests()
            elif cmd == "clear_requests":
                server.clear_requests()
            elif cmd == "watch_count":
                result["count"] = server.watch_count()
            elif cmd == "rv":
                result["rv"] = server.resource_version()
            else:
                raise ValueError("unknown command %r" % cmd)
            reply(dict(ok=True, **result))
        except Exception as e:  # the reply carries it; the server keeps going
            reply({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="where certificates and the token file go")
    ap.add_argument("--node", default="node-1")
    ap.add_argument("--token", default="token-1", help="initial token (file and expected)")
    ap.add_argument("--page-limit", type=int, default=None, help="cap on items per list page")
    ap.add_argument("--san", default="IP:127.0.0.1,DNS:localhost", help="server certificate SANs")
    ap.add_argument("--down", action="store_true",
                    help="start with the API down (a free port is picked, nothing listens until up)")
    ap.add_argument("--control", action="store_true", help="JSON commands on stdin, replies on stdout")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    server = K8sApiServer(args.dir, node=args.node, token=args.token, page_limit=args.page_limit,
                          sans=args.san, verbose=args.verbose)
    server.start(down=args.down)
    out = sys.stdout
    out.write(json.dumps({"port": server.port, "ca_file": server.ca_file, "token_file": server.token_file,
                          "dir": server.dir, "node": server.node}) + "\n")
    out.flush()
    try:
        if args.control:
            _control(server, out)
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
