#!/usr/bin/env python3
"""Generates realistic container log files for logship tests and benchmarks.

    loggen.py --out DIR --bytes 256MiB --files 8 --format cri --layout kubelet --seed 1

Writes container runtime log files the way the kubelet leaves them on a node:

  --layout kubelet  DIR/pods/<namespace>_<pod>_<uid>/<container>/0.log, plus
                    DIR/containers/<pod>_<namespace>_<container>-<64 hex id>.log
                    as a relative symlink to it (point the agent at
                    DIR/containers/*.log);
  --layout flat     DIR/app-<i>.log.

Line framing:

  --format cri      <RFC3339Nano UTC time> <stdout|stderr> <P|F> <payload>
  --format docker   {"log":"<payload>\\n","stream":"stdout","time":"<RFC3339Nano>"}

Timestamps follow Go's RFC3339Nano as containerd and dockerd write them:
nanosecond precision with trailing zeros trimmed (so about one line in ten
has fewer than 9 fraction digits, and a whole second has no fraction).

Payload mix per logical record (approximate):
  77%   JSON objects of 150-600 bytes in the styles of common logging
        libraries (zap, slog, logback, ECS, Cloud Logging, pino, structlog),
        with trace context rotated over trace_id/span_id, traceId/spanId,
        traceID/spanID, W3C traceparent, ECS nested and dotted, Cloud Logging
        trace/spanId, B3 16-hex ids, and none;
  15%   plain text: framework lines, access logs, klog, logfmt, Java stack
        trace lines, text with a traceparent, non-ASCII UTF-8, ANSI colours;
   5%   stderr: tracebacks, panics, warnings, some JSON errors;
   2%   records split over several lines (CRI P...P F, docker log values
        without the trailing newline); 3% of those are long records
        (20-100 KiB) cut in 16 KiB chunks as the runtimes do, the rest are
        600 B - 4 KiB records cut at random points. In a fifth of the split
        records a whole record of the other stream sits between two chunks.
   1%   oddities: invalid JSON, arrays and scalars, empty payloads,
        whitespace around an object.

Payloads are drawn from pools generated up front (tens of thousands of
distinct payloads), so generation runs at disk speed rather than at
Python-formatting speed. Everything is deterministic for a given --seed and
the other options (Python 3.9+, random.Random with an integer seed).

--records-out FILE writes the expected logical records as JSON lines, per
file in generation order and within a file in the order a framer completes
them (a split record comes after a record of the other stream that was
interleaved with its chunks):
  {"file": <path as matched: DIR/containers/<name> for kubelet, DIR/app-<i>.log
            for flat, DIR spelled as given to --out>,
   "stream": "stdout"|"stderr",
   "ts": <timestamp of the record's first line>,
   "payload": <the whole record text, partial chunks joined, without the newline>}

A one-line summary goes to stderr:
  loggen: files=8 bytes=268438005 lines=591730 records=568873 format=cri layout=kubelet seed=1 elapsed=4.2s
"""

from __future__ import annotations

import argparse
import base64
import calendar
import json
import os
import re
import shutil
import sys
import time
from random import Random

# --------------------------------------------------------------------------
# Mix (cumulative thresholds on one random() draw per record).

P_JSON = 0.77
P_TEXT = 0.15
P_STDERR = 0.05
P_SPLIT = 0.02
# the remaining ~1% are oddities (see ODD_PAYLOADS); empty payloads are a
# third of those.
P_SPLIT_LONG = 0.03        # share of split records that are 20-100 KiB long
P_SPLIT_INTERLEAVE = 0.20  # share of split records with a record of the other stream inside
RUNTIME_CHUNK = 16 * 1024  # containerd / dockerd line buffer

POOL_BITS_JSON = 14   # 16384 distinct JSON payloads
POOL_BITS_TEXT = 12   # 4096 text payloads
POOL_BITS_ERR = 11    # 2048 stderr payloads
POOL_BITS_MEDIUM = 10  # 1024 medium records for splitting
POOL_LONG = 32        # long records

BASE_TIME = calendar.timegm((2026, 11, 26, 23, 8, 4, 0, 0, 0))

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s rand.SafeEncodeString


def parse_size(text: str) -> int:
    """Bytes from '1048576', '64KiB', '256MiB', '256M' (10^6), '1GB' (10^9), '2Gi' (2^31)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(i?)(b?)\s*", text, re.IGNORECASE)
    if not m or (m.group(3) and not m.group(2)):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1048576, 64KiB, 256MiB, 1G)")
    unit = m.group(2).lower()
    base = 1024 if m.group(3) else 1000
    return int(m.group(1)) * base ** " kmgt".index(unit or " ")


# --------------------------------------------------------------------------
# Payload pools.

class Payloads:
    """Builds the payload pools. Every pool entry is UTF-8 bytes without '\\n'."""

    LEVELS = ["info"] * 70 + ["debug"] * 12 + ["warn"] * 12 + ["error"] * 6
    METHODS = ["GET"] * 7 + ["POST"] * 2 + ["PUT", "DELETE", "PATCH"]
    PATHS = ["/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart/{id}/items", "/api/v2/catalog/products",
             "/api/v2/catalog/products/{id}", "/healthz", "/readyz", "/metrics", "/api/v1/users/{id}",
             "/api/v1/payments/{id}/capture", "/graphql", "/v1/checkout/sessions", "/static/js/app.{id}.js"]
    STATUSES = [200] * 40 + [201] * 5 + [204] * 3 + [301, 302, 304] + [400, 401, 403] + [404] * 3 + [409, 429] + [500, 502, 503, 504]
    AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
              "kube-probe/1.31", "Go-http-client/1.1", "okhttp/4.12.0", "python-requests/2.32.3", "curl/8.5.0",
              "Prometheus/2.55.1", "Envoy/1.32.1"]
    MESSAGES = ["request completed", "request started", "order placed", "payment authorized", "payment declined",
                "cache miss", "cache hit", "retrying upstream call", "upstream timeout", "user logged in",
                "session expired", "item added to cart", "inventory reserved", "inventory released",
                "message consumed", "message published", "connection pool exhausted", "slow query",
                "token refreshed", "rate limit exceeded", "feature flag evaluated", "config reloaded",
                "health check ok", "shutting down gracefully", "listening on :8080", "migration applied",
                "validation failed: email must not be empty", "could not parse \"quantity\": expected integer",
                "wrote C:\\Users\\svc\\AppData\\Local\\Temp\\report.csv", "scheduled job <cleanup> & <reindex>"]
    MESSAGES_INTL = ["Bestellung für Kunde Müller angelegt", "注文を受け付けました", "Заказ оформлен", "pedido enviado 🚚"]
    LOGGERS = ["com.example.shop.checkout.OrderService", "com.example.shop.cart.CartController",
               "org.springframework.web.servlet.DispatcherServlet", "io.grpc.netty.NettyServerHandler",
               "app.views.orders", "app.tasks.email", "uvicorn.access", "gunicorn.error", "payments.gateway",
               "sarama", "gorm", "net/http", "checkout/handler.go:142", "cart/store/redis.go:88"]
    SERVICES = ["checkout", "cart", "frontend", "catalog", "payment-gateway", "fraud-scorer", "keycloak",
                "notification", "search", "recommendation"]
    ERRORS = ["context deadline exceeded", "connection refused", "EOF", "no rows in result set",
              "dial tcp 10.96.0.12:5432: i/o timeout", "java.net.SocketTimeoutException: Read timed out",
              "upstream connect error or disconnect/reset before headers", "invalid card number",
              "duplicate key value violates unique constraint \"orders_pkey\"", "429 Too Many Requests"]
    NAMES = ["Alice Smith", "Bob Jones", "Carol White", "Dave Miller", "Erin Taylor", "Frank Moore", "Grace Lee",
             "Heidi Clark", "Ivan Petrov", "Judy Walker", "Mallory Hall", "Oscar Young", "Peggy King", "Trent Wright",
             "Ana", "Renee O'Brien", "Ahmed \"Al\" Hassan",
             "José Álvarez", "Zoë Müller", "Łukasz Wójcik", "李小龙", "Ngọc Trâm"]  # some non-ASCII, most not

    def __init__(self, rng: Random):
        self.r = rng

    # -- helpers --
    def hex(self, n: int) -> str:
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def uuid(self) -> str:
        v = self.r.getrandbits(128)
        v = (v & ~(0xF000 << 64)) | (0x4000 << 64)             # version 4
        v = (v & ~(0xC000 << 48)) | (0x8000 << 48)             # RFC 4122 variant
        h = "%032x" % v
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def pick(self, seq):
        return seq[int(self.r.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def app_time(self, style: str) -> object:
        sec = BASE_TIME + self.r.randint(0, 3600)
        ns = self.r.randint(0, 999_999_999)
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        if style == "float":
            return round(sec + ns / 1e9, 6)
        if style == "millis":
            return sec * 1000 + ns // 1_000_000
        if style == "nano":
            return f"{iso}.{ns:09d}Z"
        if style == "micro":
            return f"{iso}.{ns // 1000:06d}Z"
        if style == "offset":
            return f"{iso}.{ns // 1_000_000:03d}+00:00"
        return f"{iso}.{ns // 1_000_000:03d}Z"

    def http_path(self) -> str:
        p = self.pick(self.PATHS)
        return p.replace("{id}", str(self.r.randint(1, 99999)) if self.chance(0.6) else self.uuid()[:8])

    # -- trace context styles --
    def trace_fields(self, style: int) -> list:
        t32, s16 = self.hex(32), self.hex(16)
        if style == 0:
            return [("trace_id", t32), ("span_id", s16)]
        if style == 1:
            return [("traceId", t32), ("spanId", s16)]
        if style == 2:
            return [("traceID", t32), ("spanID", s16)]
        if style == 3:
            return [("traceparent", f"00-{t32}-{s16}-0{self.pick('1110')}")]
        if style == 4:
            return [("trace", {"id": t32}), ("span", {"id": s16}), ("transaction", {"id": self.hex(16)})]
        if style == 5:
            return [("trace.id", t32), ("span.id", s16)]
        if style == 6:
            return [("logging.googleapis.com/trace", f"projects/shop-prod-4711/traces/{t32}"),
                    ("logging.googleapis.com/spanId", s16),
                    ("logging.googleapis.com/trace_sampled", self.chance(0.5))]
        if style == 7:  # B3 / Sleuth: 64-bit trace ids
            key = self.pick([("traceId", "spanId"), ("trace_id", "span_id"), ("X-B3-TraceId", "X-B3-SpanId")])
            return [(key[0], self.hex(16)), (key[1], s16)]
        return []  # no trace context

    TRACE_STYLES = 9

    # -- one structured log record --
    def json_record(self, target: int, style: int) -> dict:
        r = self.r
        flavour = r.randint(0, 6)
        level = self.pick(self.LEVELS)
        msg = self.pick(self.MESSAGES_INTL if self.chance(0.03) else self.MESSAGES)
        head: list = []
        if flavour == 0:    # zap
            head = [("level", level), ("ts", self.app_time("float")), ("caller", self.pick(self.LOGGERS)), ("msg", msg)]
        elif flavour == 1:  # slog / logrus
            head = [("time", self.app_time("nano")), ("level", level.upper()), ("msg", msg)]
        elif flavour == 2:  # logback / logstash-encoder
            head = [("@timestamp", self.app_time("offset")), ("@version", "1"), ("message", msg),
                    ("logger_name", self.pick(self.LOGGERS)), ("thread_name", f"http-nio-8080-exec-{r.randint(1, 200)}"),
                    ("level", level.upper()), ("level_value", {"debug": 10000, "info": 20000, "warn": 30000, "error": 40000}[level])]
        elif flavour == 3:  # ECS
            head = [("@timestamp", self.app_time("milli")), ("log.level", level), ("message", msg),
                    ("ecs.version", "1.6.0"), ("service.name", self.pick(self.SERVICES)),
                    ("event.dataset", "app.log")]
        elif flavour == 4:  # Cloud Logging
            head = [("severity", {"warn": "WARNING"}.get(level, level.upper())), ("message", msg),
                    ("time", self.app_time("micro")),
                    ("logging.googleapis.com/sourceLocation", {"file": "main.py", "line": str(r.randint(10, 900)), "function": "handle"})]
        elif flavour == 5:  # pino
            head = [("level", {"debug": 20, "info": 30, "warn": 40, "error": 50}[level]), ("time", self.app_time("millis")),
                    ("pid", 1), ("hostname", f"{self.pick(self.SERVICES)}-{self.hex(9)}-{self.hex(5)}"), ("msg", msg)]
        else:               # structlog
            head = [("event", msg), ("level", level), ("logger", self.pick(self.LOGGERS)), ("timestamp", self.app_time("micro"))]
        fields = head + self.trace_fields(style)

        extras = [self._http, self._user, self._order, self._db, self._error, self._kafka, self._misc, self._labels,
                  self._http_flat, self._duration]
        r.shuffle(extras)
        rec = dict(fields)
        size = len(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        for make in extras:
            if size >= target:
                break
            k, v = make()
            if k in rec:
                continue
            add = len(json.dumps({k: v}, ensure_ascii=False, separators=(",", ":"))) - 1
            if size + add > 600:
                continue
            rec[k] = v
            size += add
        # pad short records with request attributes until they reach 150 bytes
        n = 0
        while size < 150:
            k, v = f"attr_{n}", self.pick(["enabled", "v2", "eu-west-1", "blue", "canary"])
            n += 1
            rec[k] = v
            size += len(json.dumps({k: v}, separators=(",", ":"))) - 1
        return rec

    def _http(self):
        return "http", {"method": self.pick(self.METHODS), "path": self.http_path(), "status": self.pick(self.STATUSES),
                        "duration_ms": round(self.r.expovariate(1 / 40), 3), "bytes_out": self.r.randint(0, 65536),
                        "remote_ip": f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}",
                        "user_agent": self.pick(self.AGENTS)}

    def _http_flat(self):
        return "status", self.pick(self.STATUSES)

    def _duration(self):
        return self.pick(["duration", "latency", "elapsed_ms"]), self.pick(
            [round(self.r.expovariate(1 / 0.05), 6), f"{self.r.randint(1, 999)}.{self.r.randint(0, 999)}ms", self.r.randint(0, 5000)])

    def _user(self):
        return "user", {"id": f"u_{self.r.randint(1, 9_999_999)}", "tenant": self.pick(["acme", "globex", "initech", "umbrella"]),
                        "name": self.pick(self.NAMES), "roles": self.r.sample(["buyer", "admin", "support", "beta"], self.r.randint(0, 3))}

    def _order(self):
        items = [{"sku": f"SKU-{self.r.randint(1000, 99999)}", "qty": self.r.randint(1, 5),
                  "price": round(self.r.uniform(0.5, 300), 2)} for _ in range(self.r.randint(1, 3))]
        return "order", {"id": f"ord_{self.hex(12)}", "items": items,
                         "total": round(sum(i["price"] * i["qty"] for i in items), 2),
                         "currency": self.pick(["EUR", "USD", "GBP", "JPY"]), "coupon": None if self.chance(0.8) else "XMAS-10"}

    def _db(self):
        return "db", {"system": self.pick(["postgresql", "mysql", "redis"]),
                      "statement": self.pick(["SELECT id, status FROM orders WHERE customer_id = $1 LIMIT 50",
                                              "UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2",
                                              "INSERT INTO events (id, type, payload) VALUES ($1, $2, $3)",
                                              "GET cart:7f3a", "SELECT * FROM \"users\" WHERE \"email\" = 'a@b.c'"]),
                      "rows": self.r.randint(0, 500), "duration_ms": round(self.r.expovariate(1 / 3), 3)}

    def _error(self):
        return "error", self.pick([self.pick(self.ERRORS), {"kind": self.pick(["timeout", "io", "validation"]),
                                                            "message": self.pick(self.ERRORS),
                                                            "stack": "goroutine 42 [running]:\n\tmain.handle()\n\t\t/app/main.go:88 +0x1d"}])

    def _kafka(self):
        return "kafka", {"topic": self.pick(["orders", "payments", "audit", "email-outbox"]), "partition": self.r.randint(0, 11),
                         "offset": self.r.randint(0, 2**40), "key": self.hex(8), "lag": self.r.randint(0, 10)}

    def _misc(self):
        return self.pick([("request_id", self.uuid()), ("cache_hit", self.chance(0.5)), ("retry", self.r.randint(0, 5)),
                          ("ratio", self.pick([1.5e-3, -0.25, 3.0e8, 0.0])), ("parent", None),
                          ("customer_note", self.pick(self.NAMES) + " \u2014 \"fragile\" <door> & \\ back")])

    def _labels(self):
        return "labels", {"app.kubernetes.io/name": self.pick(self.SERVICES), "version": f"1.{self.r.randint(0, 40)}.{self.r.randint(0, 9)}",
                          "region": self.pick(["eu-west-1", "us-east-1", "ap-northeast-1"]), "canary": self.chance(0.1)}

    def json_payload(self, i: int) -> bytes:
        r = self.r
        style = self.r.randint(0, self.TRACE_STYLES - 1) if i % 3 else (i // 3) % self.TRACE_STYLES
        rec = self.json_record(r.randint(150, 600), style)
        ascii_only = self.chance(0.1)  # some encoders escape everything outside ASCII
        seps = (", ", ": ") if self.chance(0.08) else (",", ":")  # Python's json.dumps default
        return json.dumps(rec, ensure_ascii=ascii_only, separators=seps).encode()

    # -- text --
    def text_payload(self, i: int) -> bytes:
        r = self.r
        t = time.gmtime(BASE_TIME + r.randint(0, 3600))
        ms = r.randint(0, 999)
        kind = i % 12
        lvl = self.pick(["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"])
        if kind == 0:    # Spring Boot
            s = (f"{time.strftime('%Y-%m-%d %H:%M:%S', t)}.{ms:03d}  {lvl:>5} 1 --- [nio-8080-exec-{r.randint(1, 20)}] "
                 f"{self.pick(['c.e.shop.checkout.OrderService', 'o.s.web.servlet.DispatcherServlet', 'o.h.engine.jdbc.spi.SqlExceptionHelper'])}"
                 f" : {self.pick(self.MESSAGES)} (order ord_{self.hex(12)}, {r.randint(1, 9)} items)")
        elif kind == 1:  # nginx access log
            s = (f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)} - - [{time.strftime('%d/%b/%Y:%H:%M:%S', t)} +0000] "
                 f"\"{self.pick(self.METHODS)} {self.http_path()} HTTP/1.1\" {self.pick(self.STATUSES)} {r.randint(0, 90000)} "
                 f"\"-\" \"{self.pick(self.AGENTS)}\" {r.random():.3f}")
        elif kind == 2:  # klog
            s = (f"{lvl[0]}{time.strftime('%m%d %H:%M:%S', t)}.{r.randint(0, 999999):06d}       1 "
                 f"{self.pick(['controller.go', 'reflector.go', 'leaderelection.go'])}:{r.randint(10, 999)}] "
                 f"{self.pick(['Successfully synced', 'Watch close', 'failed to renew lease'])} \"{self.pick(['shop', 'payments'])}/{self.pick(self.SERVICES)}\"")
        elif kind == 3:  # logfmt with trace ids
            s = (f"time={time.strftime('%Y-%m-%dT%H:%M:%S', t)}.{ms:03d}Z level={lvl.lower()} msg=\"{self.pick(self.MESSAGES)}\" "
                 f"trace_id={self.hex(32)} span_id={self.hex(16)} duration={r.randint(1, 900)}ms")
        elif kind == 4:  # text with a W3C traceparent
            s = self.pick([
                f"[{lvl}] handled {self.pick(self.METHODS)} {self.http_path()} traceparent=00-{self.hex(32)}-{self.hex(16)}-01 in {r.randint(1, 500)}ms",
                f"{time.strftime('%H:%M:%S', t)} outgoing call to payments (traceparent: 00-{self.hex(32)}-{self.hex(16)}-00)",
                f"tracing: propagating 00-{self.hex(32)}-{self.hex(16)}-01 to downstream {self.pick(self.SERVICES)}"])
        elif kind in (5, 6):  # Java stack trace lines, each its own record as in reality
            s = self.pick([
                f"java.lang.IllegalStateException: {self.pick(self.ERRORS)}",
                f"\tat com.example.shop.{self.pick(['checkout.OrderService.placeOrder', 'cart.CartController.add', 'payment.Client.capture'])}({self.pick(['OrderService', 'CartController', 'Client'])}.java:{r.randint(20, 900)})",
                f"\tat org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:{r.randint(100, 200)})",
                "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
                f"\t... {r.randint(5, 80)} more",
                f"Caused by: java.net.SocketTimeoutException: Read timed out",
                "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"<local1>\" is null"])
        elif kind == 7:  # non-ASCII
            s = self.pick([f"Benutzer {self.pick(self.NAMES)} hat die Bestellung storniert (Grund: „zu spät“)",
                           f"注文 {r.randint(1000, 9999)} を受け付けました — 合計 ¥{r.randint(100, 99999)}",
                           f"Заказ №{r.randint(1, 99999)} оформлен, доставка завтра",
                           f"🚀 server started on :{self.pick(['8080', '9090', '3000'])} in {r.randint(100, 5000)}ms ✅",
                           f"Ελήφθη αίτημα από {self.pick(self.NAMES)} — κατάσταση: εντάξει",
                           f"تم استلام الطلب رقم {r.randint(1, 9999)}"])
        elif kind == 8:  # ANSI colours, quotes and backslashes
            s = self.pick([f"\x1b[32m{lvl}\x1b[0m {time.strftime('%H:%M:%S', t)} {self.pick(self.MESSAGES)}",
                           f"\x1b[1;31mERROR\x1b[0m \x1b[90m[{self.pick(self.LOGGERS)}]\x1b[0m {self.pick(self.ERRORS)}",
                           f"loaded config from \"C:\\ProgramData\\shop\\config.yaml\" (profile='prod', {r.randint(1, 99)} keys)"])
        elif kind == 9:  # python / gunicorn
            s = (f"[{time.strftime('%Y-%m-%d %H:%M:%S', t)} +0000] [{r.randint(7, 40)}] [{lvl}] "
                 f"{self.pick(['Booting worker with pid: ' + str(r.randint(7, 40)), 'Handling signal: term', self.pick(self.MESSAGES)])}")
        elif kind == 10:  # Go log
            s = f"{time.strftime('%Y/%m/%d %H:%M:%S', t)} {self.pick(['server.go', 'main.go', 'client.go'])}:{r.randint(10, 400)}: {self.pick(self.MESSAGES)}"
        else:            # node / misc
            s = self.pick([f"npm notice {self.pick(self.MESSAGES)}", f"> shop-frontend@1.{r.randint(0, 30)}.0 start",
                           f"GET {self.http_path()} {self.pick(self.STATUSES)} {r.randint(1, 900)}.{r.randint(100, 999)} ms - {r.randint(10, 9000)}",
                           f"Listening on http://0.0.0.0:{self.pick(['3000', '8080'])}"])
        return s.encode()

    def stderr_payload(self, i: int) -> bytes:
        r = self.r
        kind = i % 8
        if kind == 0:
            return json.dumps({"level": "error", "ts": self.app_time("float"), "msg": self.pick(self.ERRORS),
                               "error": self.pick(self.ERRORS), "stacktrace": "main.run\n\t/app/main.go:88\nruntime.main\n\t/usr/local/go/src/runtime/proc.go:272",
                               **dict(self.trace_fields(r.randint(0, self.TRACE_STYLES - 1)))}, separators=(",", ":")).encode()
        s = self.pick([
            "Traceback (most recent call last):",
            f"  File \"/app/{self.pick(['main', 'views', 'tasks'])}.py\", line {r.randint(10, 900)}, in {self.pick(['handle', 'run', '<module>'])}",
            f"    return int(payload[\"quantity\"])",
            f"ValueError: invalid literal for int() with base 10: '{self.hex(4)}'",
            "panic: runtime error: invalid memory address or nil pointer dereference",
            f"[signal SIGSEGV: segmentation violation code=0x1 addr=0x{self.hex(2)} pc=0x{self.hex(6)}]",
            f"goroutine {r.randint(1, 900)} [running]:",
            f"\t/app/internal/{self.pick(['cart', 'orders'])}/handler.go:{r.randint(10, 400)} +0x{self.hex(3)}",
            f"WARNING: {self.pick(self.MESSAGES)}",
            f"npm WARN deprecated {self.pick(['request', 'uuid', 'har-validator'])}@{r.randint(1, 9)}.{r.randint(0, 9)}.0: this package is no longer supported",
            f"E{time.strftime('%m%d %H:%M:%S', time.gmtime(BASE_TIME))}.{r.randint(0, 999999):06d}       1 reflector.go:{r.randint(100, 600)}] Failed to watch: {self.pick(self.ERRORS)}",
            f"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space",
        ])
        return s.encode()

    def medium_payload(self, i: int) -> bytes:
        """600 B - 4 KiB, for random splits."""
        r = self.r
        target = r.randint(600, 4096)
        if i % 4 == 3:
            words = []
            n = 0
            while n < target:
                w = self.pick(["SELECT", "o.id,", "o.status,", "c.email", "FROM", "orders", "o", "JOIN", "customers", "c",
                               "ON", "c.id = o.customer_id", "WHERE", "o.created_at > $1", "AND", "o.status IN ('new','paid')",
                               "ORDER BY", "o.created_at", "DESC", "ünïcödé", "—", "LIMIT 100"])
                words.append(w)
                n += len(w.encode()) + 1
            return ("slow query: " + " ".join(words))[:target].encode("utf-8", "ignore").rstrip()
        rec = self.json_record(300, r.randint(0, self.TRACE_STYLES - 1))
        items = []
        while len(json.dumps(rec, ensure_ascii=False)) + sum(len(json.dumps(x, ensure_ascii=False)) + 1 for x in items) < target:
            items.append({"sku": f"SKU-{r.randint(1000, 99999)}", "name": self.pick(["Kaffeebecher „Größe L“", "T-shirt", "雨傘", "Sneaker <limited>"]),
                          "qty": r.randint(1, 9), "price": round(r.uniform(1, 500), 2), "tags": r.sample(["sale", "new", "eco", "gift"], 2)})
        rec["cart"] = {"id": self.uuid(), "items": items}
        return json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()

    def long_payload(self, i: int) -> bytes:
        """20 - 100 KiB."""
        r = self.r
        size = r.randint(20 * 1024, 100 * 1024)
        blob = base64.b64encode(r.getrandbits(8 * (size * 3 // 4)).to_bytes(size * 3 // 4, "little")).decode()
        if i % 3 == 0:
            return f"dumping request body ({size} bytes): {blob}".encode()
        rec = dict(self.json_record(200, r.randint(0, self.TRACE_STYLES - 1)))
        if i % 3 == 1:
            rec["response_body"] = blob
        else:
            n, rows = 0, []
            while n < size:
                row = {"id": r.randint(1, 10**9), "name": self.pick(self.NAMES), "score": round(r.random(), 4),
                       "note": "großes Ereignis \u2603" if self.chance(0.1) else "ok"}
                rows.append(row)
                n += len(json.dumps(row, ensure_ascii=False)) + 1
            rec["rows"] = rows
        return json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()

    ODD_PAYLOADS = [
        b'{"a":', b'{"level":"info","msg":"truncated because the pod was OOM-kil', b'{"a":1,}', b"{'level': 'info'}",
        b'{"a":1}{"b":2}', b'{"level":"info"} trailing text', b'{unquoted: true}', b'{"nested":{"deep":[1,2,{"x":',
        b'[1,2,3]', b'[{"level":"info","msg":"array of records"}]', b'42', b'-3.5e7', b'"just a JSON string"', b'true',
        b'null', b'  {"level":"info","msg":"indented object"}', b'{"msg":"object then spaces"}   ',
        b'', b'', b'', b'', b'', b'', b'', b'',   # a third of the oddities are empty payloads
    ]


def go_json_string(raw: bytes) -> bytes:
    """A JSON string as Go's encoding/json writes it (dockerd's json-file driver)."""
    s = json.dumps(raw.decode("utf-8", "replace"), ensure_ascii=False)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return s.encode()


def utf8_boundary(b: bytes, pos: int) -> int:
    """Moves pos back to the start of the UTF-8 character it falls in."""
    while 0 < pos < len(b) and (b[pos] & 0xC0) == 0x80:
        pos -= 1
    return pos


# --------------------------------------------------------------------------
# Files.

DEPLOYMENTS = [
    # namespace, workload name, kind, containers
    ("shop", "checkout", "deploy", ["checkout", "istio-proxy"]),
    ("shop", "cart", "deploy", ["cart"]),
    ("shop", "frontend", "deploy", ["frontend", "nginx"]),
    ("payments", "payment-gateway", "deploy", ["gateway"]),
    ("auth", "keycloak", "sts", ["keycloak"]),
    ("shop", "catalog", "deploy", ["catalog"]),
    ("monitoring", "node-exporter", "ds", ["node-exporter"]),
    ("kube-system", "coredns", "deploy", ["coredns"]),
    ("payments", "fraud-scorer", "deploy", ["scorer"]),
    ("logging", "kafka", "sts", ["kafka"]),
    ("reporting", "nightly-report", "job", ["report"]),
]


def layout_files(rng: Random, n: int, layout: str, out: str) -> list:
    """[(write_path, matched_path, symlink_path_or_None, symlink_target)] for n files."""
    files = []
    used = set()
    rs_hash = {}
    for i in range(n):
        if layout == "flat":
            p = os.path.join(out, f"app-{i}.log")
            files.append((p, p, None, None))
            continue
        ns, name, kind, containers = DEPLOYMENTS[i % len(DEPLOYMENTS)]
        container = containers[(i // len(DEPLOYMENTS)) % len(containers)]
        while True:
            suffix = "".join(SAFE_ALPHABET[rng.getrandbits(8) % len(SAFE_ALPHABET)] for _ in range(5))
            if kind == "deploy":
                if name not in rs_hash:
                    rs_hash[name] = "".join(SAFE_ALPHABET[rng.getrandbits(8) % len(SAFE_ALPHABET)]
                                            for _ in range(9 + rng.getrandbits(1)))
                pod = f"{name}-{rs_hash[name]}-{suffix}"
            elif kind == "sts":
                pod = f"{name}-{sum(1 for k in used if k[0].startswith(name + '-'))}"
            elif kind == "job":
                pod = f"{name}-{29000000 + rng.getrandbits(20)}-{suffix}"
            else:
                pod = f"{name}-{suffix}"
            if (pod, container) not in used:
                break
        used.add((pod, container))
        v = rng.getrandbits(128)
        v = (v & ~(0xF000 << 64)) | (0x4000 << 64)
        v = (v & ~(0xC000 << 48)) | (0x8000 << 48)
        h = "%032x" % v
        uid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        cid = "%064x" % rng.getrandbits(256)
        pod_dir = f"{ns}_{pod}_{uid}"
        target = os.path.join(out, "pods", pod_dir, container, "0.log")
        link = os.path.join(out, "containers", f"{pod}_{ns}_{container}-{cid}.log")
        rel = os.path.join("..", "pods", pod_dir, container, "0.log")
        files.append((target, link, link, rel))
    return files


class Clock:
    """Per-file runtime clock producing RFC3339Nano timestamps (bytes)."""

    def __init__(self, rng: Random, start: int):
        self.sec = start
        self.ns = rng.getrandbits(29)
        self.prefix = self._prefix(start)
        # inter-record gaps: bursts of tens of microseconds, pauses up to 20 ms
        self.gaps = [rng.randint(1_000, 200_000) if rng.random() < 0.7 else rng.randint(1_000_000, 20_000_000)
                     for _ in range(4096)]
        self.rng = rng

    @staticmethod
    def _prefix(sec: int) -> bytes:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)).encode()

    def tick(self) -> bytes:
        g = self.rng.getrandbits(12)
        # now and then the next whole second exactly, so fraction-less timestamps occur too
        ns = self.ns + self.gaps[g] if g else 1_000_000_000
        if ns >= 1_000_000_000:
            self.sec += ns // 1_000_000_000
            ns %= 1_000_000_000
            self.prefix = self._prefix(self.sec)
        self.ns = ns
        frac = b"%09d" % ns
        if frac[-1] != 48:
            return self.prefix + b"." + frac + b"Z"
        frac = frac.rstrip(b"0")
        return self.prefix + (b"." + frac + b"Z" if frac else b"Z")


class Writer:
    """Writes one file's lines and (optionally) its expected records."""

    STREAMS = (b"stdout", b"stderr")
    CRI_MID = ((b" stdout F ", b" stdout P "), (b" stderr F ", b" stderr P "))
    DOCKER_MID = (b',"stream":"stdout","time":"', b',"stream":"stderr","time":"')

    def __init__(self, path: str, docker: bool, matched: str, records_out):
        self.f = open(path, "wb", buffering=0)
        self.docker = docker
        self.matched = matched
        self.records_out = records_out
        self.buf: list = []
        self.bytes = 0
        self.lines = 0
        self.records = 0

    def line(self, ts: bytes, stream: int, chunk_enc: bytes, partial: bool) -> None:
        """One physical line. chunk_enc: raw bytes (CRI) or an escaped JSON string (docker)."""
        if self.docker:
            ln = b'{"log":' + chunk_enc + self.DOCKER_MID[stream] + ts + b'"}\n'
        else:
            ln = ts + self.CRI_MID[stream][partial] + chunk_enc + b"\n"
        self.buf.append(ln)
        self.bytes += len(ln)
        self.lines += 1
        if len(self.buf) >= 8192:
            self.flush()

    def record(self, ts: bytes, stream: int, payload: bytes) -> None:
        self.records += 1
        if self.records_out is not None:
            self.records_out.write(json.dumps({"file": self.matched, "stream": self.STREAMS[stream].decode(),
                                               "ts": ts.decode(), "payload": payload.decode()},
                                              ensure_ascii=False) + "\n")

    def flush(self) -> None:
        if self.buf:
            self.f.write(b"".join(self.buf))
            self.buf.clear()

    def close(self) -> None:
        self.flush()
        self.f.close()


class Generator:
    def __init__(self, seed: int, docker: bool):
        self.rng = Random(seed)
        self.docker = docker
        p = Payloads(self.rng)
        self.json_pool = [p.json_payload(i) for i in range(1 << POOL_BITS_JSON)]
        self.text_pool = [p.text_payload(i) for i in range(1 << POOL_BITS_TEXT)]
        self.err_pool = [p.stderr_payload(i) for i in range(1 << POOL_BITS_ERR)]
        self.medium_pool = [p.medium_payload(i) for i in range(1 << POOL_BITS_MEDIUM)]
        self.long_pool = [p.long_payload(i) for i in range(POOL_LONG)]
        self.odd_pool = list(Payloads.ODD_PAYLOADS)
        # What a single-line record puts in the line: the raw payload for CRI,
        # Go's JSON string of payload + "\n" for docker.
        enc = (lambda b: go_json_string(b + b"\n")) if docker else (lambda b: b)
        self.json_enc = [enc(b) for b in self.json_pool]
        self.text_enc = [enc(b) for b in self.text_pool]
        self.err_enc = [enc(b) for b in self.err_pool]
        self.odd_enc = [enc(b) for b in self.odd_pool]

    def fill(self, w: Writer, clock: Clock, target: int) -> None:
        rng = self.rng
        random, getrandbits = rng.random, rng.getrandbits
        tick, line, record = clock.tick, w.line, w.record
        want_records = w.records_out is not None
        json_pool, json_enc = self.json_pool, self.json_enc
        text_pool, text_enc = self.text_pool, self.text_enc
        err_pool, err_enc = self.err_pool, self.err_enc
        odd_pool, odd_enc = self.odd_pool, self.odd_enc
        t1 = P_JSON
        t2 = t1 + P_TEXT
        t3 = t2 + P_STDERR
        t4 = t3 + P_SPLIT
        n_odd = len(odd_pool)
        while w.bytes < target:
            r = random()
            stream = 0
            if r < t1:
                i = getrandbits(POOL_BITS_JSON)
                raw, enc = json_pool[i], json_enc[i]
            elif r < t2:
                i = getrandbits(POOL_BITS_TEXT)
                raw, enc = text_pool[i], text_enc[i]
            elif r < t3:
                i = getrandbits(POOL_BITS_ERR)
                raw, enc = err_pool[i], err_enc[i]
                stream = 1
            elif r < t4:
                self.split_record(w, clock)
                continue
            else:
                i = int(random() * n_odd)
                raw, enc = odd_pool[i], odd_enc[i]
                stream = 1 if random() < 0.2 else 0
            ts = tick()
            line(ts, stream, enc, False)
            if want_records:
                record(ts, stream, raw)
            else:
                w.records += 1

    def split_record(self, w: Writer, clock: Clock) -> None:
        rng = self.rng
        stream = 1 if rng.random() < 0.1 else 0
        if rng.random() < P_SPLIT_LONG:
            raw = self.long_pool[rng.getrandbits(10) % POOL_LONG]
            cuts = list(range(RUNTIME_CHUNK, len(raw), RUNTIME_CHUNK))
        else:
            raw = self.medium_pool[rng.getrandbits(POOL_BITS_MEDIUM)]
            k = rng.randint(1, 3)
            cuts = sorted(set(rng.randint(1, len(raw) - 1) for _ in range(k)))
        # docker: cut on a character boundary, since Go's encoder would turn the
        # halves of a split character into U+FFFD and the record would not round-trip
        if self.docker:
            cuts = sorted(set(c for c in (utf8_boundary(raw, c) for c in cuts) if 0 < c < len(raw)))
        bounds = [0] + cuts + [len(raw)]
        chunks = [raw[a:b] for a, b in zip(bounds, bounds[1:])]
        interleave_at = rng.randint(1, len(chunks) - 1) if len(chunks) > 1 and rng.random() < P_SPLIT_INTERLEAVE else -1
        first_ts = None
        for n, chunk in enumerate(chunks):
            if n == interleave_at:
                other = 1 - stream
                i = rng.getrandbits(POOL_BITS_TEXT)
                ts = clock.tick()
                w.line(ts, other, go_json_string(self.text_pool[i] + b"\n") if self.docker else self.text_pool[i], False)
                w.record(ts, other, self.text_pool[i])
            ts = clock.tick()
            if first_ts is None:
                first_ts = ts
            last = n == len(chunks) - 1
            if self.docker:
                enc = go_json_string(chunk + b"\n" if last else chunk)
            else:
                enc = chunk
            w.line(ts, stream, enc, not last)
        w.record(first_ts, stream, raw)


def clean_dir(out: str) -> None:
    """Removes only what loggen writes."""
    for name in ("pods", "containers"):
        p = os.path.join(out, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
    for name in os.listdir(out):
        if re.fullmatch(r"app-\d+\.log", name):
            os.unlink(os.path.join(out, name))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate realistic container log files (CRI or docker json-file).",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Sizes accept K/M/G (10^3) and Ki/Mi/Gi or KiB/MiB/GiB (2^10) suffixes.")
    ap.add_argument("--out", required=True, help="output directory (created if missing; must not already hold generated logs unless --clean)")
    ap.add_argument("--bytes", type=parse_size, default=parse_size("64MiB"),
                    help="total bytes to write over all files (default 64MiB); each file stops after the record that reaches its share")
    ap.add_argument("--files", type=int, default=8, help="number of log files (default 8)")
    ap.add_argument("--format", choices=["cri", "docker"], default="cri", help="line framing (default cri)")
    ap.add_argument("--layout", choices=["kubelet", "flat"], default="kubelet", help="directory layout (default kubelet)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--records-out", metavar="FILE", help="write the expected logical records as JSON lines")
    ap.add_argument("--clean", action="store_true",
                    help="first remove what an earlier run wrote to --out (pods/, containers/, app-N.log)")
    args = ap.parse_args(argv)
    if args.files < 1:
        ap.error("--files must be at least 1")
    if args.bytes < 0:
        ap.error("--bytes must not be negative")

    t0 = time.perf_counter()
    out = args.out
    os.makedirs(out, exist_ok=True)
    if args.clean:
        clean_dir(out)
    leftovers = [n for n in os.listdir(out) if n in ("pods", "containers") or re.fullmatch(r"app-\d+\.log", n)]
    if leftovers:
        ap.error(f"{out} already holds generated logs ({', '.join(sorted(leftovers))}); use --clean or another directory")

    gen = Generator(args.seed, args.format == "docker")
    rng = gen.rng
    files = layout_files(rng, args.files, args.layout, out)
    records_out = open(args.records_out, "w", encoding="utf-8") if args.records_out else None
    tot_bytes = tot_lines = tot_records = 0
    try:
        for idx, (path, matched, link, link_target) in enumerate(files):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if link:
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(link_target, link)
            share = args.bytes // args.files + (1 if idx < args.bytes % args.files else 0)
            w = Writer(path, gen.docker, matched, records_out)
            clock = Clock(rng, BASE_TIME + idx * 7)
            gen.fill(w, clock, share)
            w.close()
            tot_bytes += w.bytes
            tot_lines += w.lines
            tot_records += w.records
    finally:
        if records_out:
            records_out.close()
    elapsed = time.perf_counter() - t0
    print(f"loggen: files={args.files} bytes={tot_bytes} lines={tot_lines} records={tot_records} "
          f"format={args.format} layout={args.layout} seed={args.seed} elapsed={elapsed:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
