"""A test HTTP receiver for logship's HTTP sink: it speaks just enough of each
aggregator's API to validate every request against that API's documented
shape, decompresses gzip and zstd bodies, and injects faults on demand.

    rx = Receiver(fmt="loki").start()          # 127.0.0.1, a free port
    rx.faults.extend([Fault.status(500), Fault.retry_after(429, "1"), Fault.reset()])
    ... run logship with LOGSHIP_HTTP_URL=rx.url ...
    rx.records()       # logship records of every acknowledged request, in arrival order
    rx.stop()

Only requests the receiver acknowledged (2xx, and for Elasticsearch only the
items it did not fail) count as delivered: a faulted request is dropped
before anything of it is recorded, so "every record exactly once" is a check
on the agent, not on the receiver.

Shapes checked (a violation answers 500 *and* is kept in `violations`, which
the tests assert empty):
- ndjson: one JSON object per line.
- loki (POST /loki/api/v1/push, JSON): {"streams":[{"stream":{label: value},
  "values":[["<unix ns>", "<line>"], ...]}]}, non-empty string labels,
  values oldest first within a stream.
- elasticsearch (POST /_bulk): action line {"create"|"index":{"_index":...}}
  followed by a document object with "@timestamp"; the response is the bulk
  response, with per-item errors when a fault asks for them.
- splunk_hec (POST /services/collector/event): a sequence of event objects
  with "event" and a numeric "time"; answers {"text":"Success","code":0}.
"""

from __future__ import annotations

import collections
import gzip
import http.server
import json
import socket
import ssl
import struct
import threading
import time

try:
    import zstandard
except ImportError:  # scripts/install_deps.sh --test installs it
    zstandard = None


class Fault:
    """What to do with one request (taken in order from Receiver.faults)."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.kw = kw

    @staticmethod
    def status(code, body=b"injected failure"):
        return Fault("status", code=code, body=body)

    @staticmethod
    def retry_after(code, value):
        return Fault("status", code=code, body=b"slow down", headers={"Retry-After": value})

    @staticmethod
    def slow(seconds):
        """Answer normally, after a delay."""
        return Fault("slow", seconds=seconds)

    @staticmethod
    def hang(seconds):
        """Never answer: wait, then close without recording anything."""
        return Fault("hang", seconds=seconds)

    @staticmethod
    def reset():
        """Read the request, then reset the connection (RST) without answering."""
        return Fault("reset")

    @staticmethod
    def too_large_over(max_records):
        """413 for every request carrying more than max_records records
        (never used up: it is the endpoint's size limit)."""
        return Fault("413_over", max_records=max_records)

    @staticmethod
    def bulk_errors(statuses):
        """Elasticsearch: a 200 whose items at the given positions failed:
        {position: status}; positions past the end are ignored."""
        return Fault("bulk_errors", statuses=statuses)

    def __repr__(self):
        return f"Fault({self.kind}, {self.kw})"


class Violation(Exception):
    pass


def decompress(body: bytes, encoding: str | None) -> bytes:
    if not encoding:
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        if zstandard is None:
            raise Violation("zstd body but the zstandard module is missing")
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    raise Violation(f"unexpected Content-Encoding {encoding!r}")


def parse_ndjson(text: str):
    records = []
    if text and not text.endswith("\n"):
        raise Violation("ndjson body does not end with a newline")
    for line in text.splitlines():
        rec = json.loads(line)
        if not isinstance(rec, dict):
            raise Violation("ndjson line is not an object")
        records.append(rec)
    return records


def parse_loki(text: str):
    doc = json.loads(text)
    if set(doc) != {"streams"} or not isinstance(doc["streams"], list):
        raise Violation("loki: body must be {\"streams\": [...]}")
    records = []
    for stream in doc["streams"]:
        if set(stream) != {"stream", "values"}:
            raise Violation(f"loki: stream entry has members {sorted(stream)}")
        labels = stream["stream"]
        if not labels or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in labels.items()):
            raise Violation(f"loki: bad label set {labels!r}")
        last = -1
        for value in stream["values"]:
            if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
                    and value[0].isdigit() and isinstance(value[1], str)):
                raise Violation(f"loki: bad value {value!r}")
            ts = int(value[0])
            if ts < last:
                raise Violation("loki: values not oldest first")
            last = ts
            rec = json.loads(value[1])
            # The labels must describe the record they carry.
            k8s = rec.get("k8s", {})
            for label, field in (("namespace", "namespace"), ("pod", "pod"), ("container", "container")):
                if k8s.get(field) != labels.get(label):
                    raise Violation(f"loki: label {label}={labels.get(label)!r} but record has {k8s.get(field)!r}")
            if rec.get("stream") != labels.get("stream"):
                raise Violation("loki: stream label does not match the record")
            rec["_loki_ns"] = ts
            records.append(rec)
    return records


def parse_bulk(text: str):
    """Returns [(action, index, document)]."""
    if not text.endswith("\n"):
        raise Violation("_bulk body must end with a newline")
    lines = text.split("\n")[:-1]
    if len(lines) % 2:
        raise Violation("_bulk body has an action without a document")
    items = []
    for i in range(0, len(lines), 2):
        action = json.loads(lines[i])
        if len(action) != 1 or next(iter(action)) not in ("create", "index"):
            raise Violation(f"_bulk: bad action line {lines[i]!r}")
        name = next(iter(action))
        meta = action[name]
        index = meta.get("_index")
        if not isinstance(index, str) or not index or index != index.lower():
            raise Violation(f"_bulk: bad _index {index!r}")
        doc = json.loads(lines[i + 1])
        if not isinstance(doc, dict) or "@timestamp" not in doc:
            raise Violation("_bulk: document without @timestamp")
        if doc.get("ts") is not None and doc["@timestamp"] != doc["ts"]:
            raise Violation("_bulk: @timestamp differs from ts")
        items.append((name, index, doc))
    return items


def parse_hec(text: str):
    dec = json.JSONDecoder()
    pos, records = 0, []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos == len(text):
            break
        event, pos = dec.raw_decode(text, pos)
        if not isinstance(event, dict) or "event" not in event:
            raise Violation("hec: an event object needs \"event\"")
        if not isinstance(event.get("time"), (int, float)):
            raise Violation("hec: \"time\" must be epoch seconds")
        fields = event.get("fields", {})
        if not all(isinstance(v, str) for v in fields.values()):
            raise Violation("hec: indexed fields must be strings")
        records.append(event["event"])
    return records


PATHS = {"ndjson": None, "loki": "/loki/api/v1/push", "elasticsearch": "/_bulk",
         "splunk_hec": "/services/collector/event"}


class Receiver:
    def __init__(self, fmt="ndjson", tls: ssl.SSLContext | None = None, expect_headers=None):
        self.fmt = fmt
        self.tls = tls
        self.expect_headers = expect_headers or {}
        self.faults = collections.deque()
        self.lock = threading.Lock()
        self.accepted = []     # [(path, [records])] per acknowledged request
        self.violations = []   # shape problems found
        self.seen = 0          # requests received (any outcome)
        self.encodings = collections.Counter()
        self.connections = 0
        self.server = None
        self.thread = None

    # ---- control -------------------------------------------------------
    def start(self):
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def log_message(self, *a):
                pass

            def do_POST(self):
                rx._handle(self)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def finish_request(self, request, client_address):
                with rx.lock:
                    rx.connections += 1
                if rx.tls is not None:
                    try:
                        request = rx.tls.wrap_socket(request, server_side=True)
                    except (ssl.SSLError, OSError):
                        return  # a client that rejects our certificate
                super().finish_request(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def records(self):
        with self.lock:
            return [r for _, recs in self.accepted for r in recs]

    def requests(self):
        with self.lock:
            return list(self.accepted)

    # ---- request handling ---------------------------------------------------
    def _handle(self, h):
        length = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(length)
        with self.lock:
            self.seen += 1
            # A None entry lets one request through untouched.
            fault = self.faults.popleft() if self.faults else None
            self.encodings[h.headers.get("Content-Encoding") or "none"] += 1
        try:
            for name, value in self.expect_headers.items():
                if h.headers.get(name) != value:
                    raise Violation(f"header {name}: got {h.headers.get(name)!r}")
            want = PATHS.get(self.fmt)
            if want and h.path != want:
                raise Violation(f"path {h.path!r}, expected {want!r}")
            text = decompress(body, h.headers.get("Content-Encoding")).decode("utf-8")
            if self.fmt == "ndjson":
                if h.headers.get("Content-Type") != "application/x-ndjson":
                    raise Violation("ndjson: Content-Type must be application/x-ndjson")
                records = parse_ndjson(text)
            elif self.fmt == "loki":
                records = parse_loki(text)
            elif self.fmt == "elasticsearch":
                items = parse_bulk(text)
                records = [doc for _, _, doc in items]
            elif self.fmt == "splunk_hec":
                records = parse_hec(text)
            else:
                raise Violation(f"unknown format {self.fmt}")
        except (Violation, ValueError, UnicodeDecodeError, OSError, EOFError) as e:
            with self.lock:
                self.violations.append(f"{type(e).__name__}: {e}")
            return self._reply(h, 500, b"receiver: " + str(e).encode()[:200])

        if fault is not None:
            if fault.kind == "status":
                return self._reply(h, fault.kw["code"], fault.kw["body"], fault.kw.get("headers"))
            if fault.kind == "reset":
                h.close_connection = True
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                h.connection.close()
                return
            if fault.kind == "hang":
                time.sleep(fault.kw["seconds"])
                h.close_connection = True
                return
            if fault.kind == "slow":
                time.sleep(fault.kw["seconds"])
            if fault.kind == "413_over":
                with self.lock:
                    self.faults.appendleft(fault)  # a size limit: it stays
                if len(records) > fault.kw["max_records"]:
                    return self._reply(h, 413, b"request entity too large")
            if fault.kind == "bulk_errors":
                return self._bulk_reply(h, items, fault.kw["statuses"])

        if self.fmt == "elasticsearch":
            return self._bulk_reply(h, items, {})  # records what it acknowledges
        with self.lock:
            self.accepted.append((h.path, records))
        if self.fmt == "splunk_hec":
            return self._reply(h, 200, b'{"text":"Success","code":0}', {"Content-Type": "application/json"})
        if self.fmt == "loki":
            return self._reply(h, 204, b"")
        return self._reply(h, 200, b"")

    def _bulk_reply(self, h, items, statuses):
        out, kept = [], []
        for pos, (action, index, doc) in enumerate(items):
            status = statuses.get(pos, 201)
            item = {"_index": index, "status": status}
            if status >= 300:
                item["error"] = {"type": "mapper_parsing_exception" if status == 400 else "es_rejected_execution_exception",
                                 "reason": f"injected item failure {status}"}
            else:
                kept.append(doc)
            out.append({action: item})
        with self.lock:
            self.accepted.append((h.path, kept))
        errors = any(item[next(iter(item))]["status"] >= 300 for item in out)
        body = json.dumps({"took": 1, "errors": errors, "items": out}).encode()
        return self._reply(h, 200, body, {"Content-Type": "application/json"})

    def _reply(self, h, code, body, headers=None):
        h.send_response(code)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body:
            h.wfile.write(body)
