#!/usr/bin/env python3
"""Java-free Kafka cluster probe used by kafka.sh.

Speaks just enough of the Kafka wire protocol (Metadata v4, non-flexible
encoding, supported by Kafka 1.0 through 4.x) to answer "are all brokers
registered and can the cluster create and lead a topic?" without paying
for a JVM start on every poll.

Subcommands:
  free-ports N            print N distinct free loopback TCP ports
  cluster-id              print a random Kafka cluster id (22-char base64url)
  metadata  -b HOSTS [-t TOPIC [--create]] [--json]
                          print brokers and topics (or the raw response as JSON)
  wait      -b HOSTS --nodes 0,1,2 [-t TOPIC --rf R] [--timeout S]
                          poll until the listed node ids are all registered
                          (unfenced) and, if a topic is given, it exists
                          (auto-created via Metadata) with every partition
                          led and fully in sync with R replicas.
"""
import argparse
import base64
import json
import socket
import struct
import sys
import time
import uuid

API_METADATA = 3
METADATA_VERSION = 4


class Reader:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ValueError("truncated response")
        (val,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return val

    def i8(self):
        return self.take(">b")

    def i16(self):
        return self.take(">h")

    def i32(self):
        return self.take(">i")

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def array(self, item):
        n = self.i32()
        return [] if n < 0 else [item() for _ in range(n)]


def enc_string(s):
    b = s.encode("utf-8")
    return struct.pack(">h", len(b)) + b


def recv_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        out += chunk
    return bytes(out)


def metadata(host, port, topics=None, create=False, timeout=3.0):
    corr = 1
    body = struct.pack(">hhi", API_METADATA, METADATA_VERSION, corr)
    body += enc_string("logship-kafka-probe")
    if topics is None:
        body += struct.pack(">i", -1)
    else:
        body += struct.pack(">i", len(topics))
        for t in topics:
            body += enc_string(t)
    body += struct.pack(">b", 1 if create else 0)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", recv_exact(s, 4))
        r = Reader(recv_exact(s, size))
    if r.i32() != corr:
        raise ValueError("correlation id mismatch")
    r.i32()  # throttle_time_ms
    brokers = r.array(lambda: {
        "node_id": r.i32(), "host": r.string(), "port": r.i32(),
        "rack": r.string()})
    cluster_id = r.string()
    controller_id = r.i32()

    def partition():
        return {"error": r.i16(), "partition": r.i32(), "leader": r.i32(),
                "replicas": r.array(r.i32), "isr": r.array(r.i32)}

    def topic():
        return {"error": r.i16(), "name": r.string(),
                "internal": bool(r.i8()), "partitions": r.array(partition)}

    return {"brokers": brokers, "cluster_id": cluster_id,
            "controller_id": controller_id, "topics": r.array(topic)}


def parse_hosts(spec):
    out = []
    for hp in spec.split(","):
        hp = hp.strip()
        if hp:
            host, _, port = hp.rpartition(":")
            out.append((host, int(port)))
    return out


def first_metadata(hosts, topics=None, create=False):
    last = None
    for host, port in hosts:
        try:
            return metadata(host, port, topics, create)
        except (OSError, ValueError) as e:
            last = e
    raise ConnectionError("no broker answered: %s" % last)


def topic_ready(md, name, rf):
    for t in md["topics"]:
        if t["name"] != name:
            continue
        if t["error"] != 0 or not t["partitions"]:
            return False, "topic error %d" % t["error"]
        for p in t["partitions"]:
            if p["error"] != 0 or p["leader"] < 0:
                return False, "partition %d not led" % p["partition"]
            if len(p["replicas"]) != rf or len(p["isr"]) != rf:
                return False, "partition %d replicas=%s isr=%s" % (
                    p["partition"], p["replicas"], p["isr"])
        return True, "ok"
    return False, "topic missing"


def cmd_wait(a):
    hosts = parse_hosts(a.bootstrap)
    want = {int(x) for x in a.nodes.split(",") if x != ""}
    deadline = time.monotonic() + a.timeout
    state = "not started"
    while True:
        try:
            md = first_metadata(hosts)
            have = {b["node_id"] for b in md["brokers"]}
            if not want <= have:
                state = "registered brokers %s, want %s" % (
                    sorted(have), sorted(want))
            elif not a.topic:
                return 0
            else:
                md = first_metadata(hosts, [a.topic], create=True)
                ok, state = topic_ready(md, a.topic, a.rf)
                if ok:
                    return 0
        except (OSError, ValueError) as e:
            state = str(e)
        if time.monotonic() >= deadline:
            print("kafka_probe: cluster not ready: %s" % state, file=sys.stderr)
            return 1
        time.sleep(a.interval)


def cmd_free_ports(a):
    socks = []
    try:
        for _ in range(a.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()
    return 0


def cmd_cluster_id(_a):
    # Same shape as org.apache.kafka.common.Uuid.randomUuid().toString();
    # avoid a leading '-', which the CLI would mistake for an option.
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            print(cid)
            return 0


def cmd_metadata(a):
    topics = [a.topic] if a.topic else None
    md = first_metadata(parse_hosts(a.bootstrap), topics, a.create)
    if a.json:
        json.dump(md, sys.stdout, indent=1)
        print()
        return 0
    print("cluster %s, %d broker(s) registered: %s" % (
        md["cluster_id"], len(md["brokers"]), ", ".join(
            "%d=%s:%d" % (b["node_id"], b["host"], b["port"])
            for b in sorted(md["brokers"], key=lambda b: b["node_id"]))))
    for t in sorted(md["topics"], key=lambda t: t["name"]):
        print("topic %s%s%s" % (t["name"], " (internal)" if t["internal"] else "",
                                " error %d" % t["error"] if t["error"] else ""))
        for p in sorted(t["partitions"], key=lambda p: p["partition"]):
            print("  partition %d leader %d replicas %s isr %s%s" % (
                p["partition"], p["leader"], p["replicas"], p["isr"],
                " error %d" % p["error"] if p["error"] else ""))
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("free-ports")
    s.add_argument("count", type=int)
    s.set_defaults(fn=cmd_free_ports)

    s = sub.add_parser("cluster-id")
    s.set_defaults(fn=cmd_cluster_id)

    s = sub.add_parser("metadata")
    s.add_argument("-b", "--bootstrap", required=True)
    s.add_argument("-t", "--topic")
    s.add_argument("--create", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_metadata)

    s = sub.add_parser("wait")
    s.add_argument("-b", "--bootstrap", required=True)
    s.add_argument("--nodes", required=True)
    s.add_argument("-t", "--topic")
    s.add_argument("--rf", type=int, default=1)
    s.add_argument("--timeout", type=float, default=60.0)
    s.add_argument("--interval", type=float, default=0.25)
    s.set_defaults(fn=cmd_wait)

    a = p.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
