// The multiline processor and its stack-trace rules.

#include "agent/processors/multiline.h"

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <string>
#include <vector>

using namespace logship;
using namespace logship::processors;

namespace {

struct Out {
  std::string ts, stream, payload;
  bool truncated = false;
  bool partial = false;
  uint64_t commit_offset = 0;
};

struct Collect final : RecordEmitter {
  void emit(const Record& r) override {
    out.push_back({std::string(r.ts), std::string(r.stream), std::string(r.payload), r.truncated, r.partial,
                   r.commit_offset});
  }
  std::vector<Out> out;
};

/// Drives one processor like a source does: one record per line, commit
/// offsets growing by the line's size, a fake clock.
struct Driver {
  explicit Driver(LangSet langs = kAllLangs, size_t max = 1 << 20) {
    MultilineOptions o;
    o.langs = langs;
    o.timeout = std::chrono::milliseconds(1000);
    o.max_record_bytes = max;
    o.clock = [this] { return now; };
    stats = std::make_shared<MultilineStats>();
    p = std::make_unique<MultilineProcessor>(o, stats);
  }
  void line(const std::string& text, const char* stream = "stderr", PayloadKind kind = PayloadKind::kText) {
    offset += text.size() + 40;
    texts.push_back(text);
    ts.push_back("2026-11-26T23:08:" + std::to_string(10 + texts.size()) + "Z");
    Record r;
    r.ts = ts.back();
    r.stream = stream;
    r.payload = texts.back();
    r.kind = kind;
    r.commit_offset = offset;
    r.source = &source;
    p->process(r, c);
  }
  /// Lines separated by '\n', all of one stream.
  void lines(const std::string& block, const char* stream = "stderr") {
    size_t pos = 0;
    while (pos <= block.size()) {
      const size_t nl = block.find('\n', pos);
      if (nl == std::string::npos) break;
      line(block.substr(pos, nl - pos), stream);
      pos = nl + 1;
    }
  }
  void eof() { p->flush(FlushReason::kEndOfFile, c); }
  std::vector<std::string> payloads() const {
    std::vector<std::string> v;
    for (const Out& o : c.out) v.push_back(o.payload);
    return v;
  }

  std::chrono::steady_clock::time_point now{std::chrono::seconds(50)};
  std::shared_ptr<MultilineStats> stats;
  std::unique_ptr<MultilineProcessor> p;
  SourceInfo source;
  std::deque<std::string> texts, ts;
  uint64_t offset = 0;
  Collect c;
};

std::string drop_last_nl(const std::string& s) { return s.substr(0, s.size() - 1); }

const std::string kJavaTrace =
    "2026-11-26 23:08:04.123 ERROR 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet.service() failed\n"
    "java.lang.IllegalStateException: Failed to process order 42\n"
    "\tat com.example.shop.OrderService.process(OrderService.java:57)\n"
    "\tat com.example.shop.OrderController.create(OrderController.java:31)\n"
    "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n"
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883) ~[spring-webmvc-5.3.9.jar:5.3.9]\n"
    "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available\n"
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)\n"
    "\t... 42 common frames omitted\n";

}  // namespace

TEST_CASE("java: log line, exception, frames, Caused by, elided frames", "[multiline]") {
  Driver d;
  d.lines(kJavaTrace + "2026-11-26 23:08:05.000 INFO 1 --- [main] next request\n");
  d.eof();
  REQUIRE(d.c.out.size() == 2);
  CHECK(d.c.out[0].payload == drop_last_nl(kJavaTrace));
  CHECK(d.c.out[0].ts == d.ts[0]);
  CHECK(d.c.out[0].stream == "stderr");
  CHECK(d.c.out[0].commit_offset == 0 + [&] {
    uint64_t off = 0;
    for (size_t i = 0; i < 9; ++i) off += d.texts[i].size() + 40;
    return off;
  }());
  CHECK(d.c.out[1].payload == "2026-11-26 23:08:05.000 INFO 1 --- [main] next request");
  CHECK(d.stats->groups_joined == 1);
  CHECK(d.stats->lines_joined == 8);
}

TEST_CASE("java: uncaught exception with Suppressed and ... N more", "[multiline]") {
  const std::string trace =
      "Exception in thread \"main\" java.lang.RuntimeException: close failed\n"
      "\tat Main.main(Main.java:9)\n"
      "\tSuppressed: java.io.IOException: stream closed\n"
      "\t\tat Main$Res.close(Main.java:20)\n"
      "\t\tat Main.main(Main.java:8)\n"
      "Caused by: java.lang.NullPointerException\n"
      "\tat Main.helper(Main.java:14)\n"
      "\t... 1 more\n";
  Driver d(lang_bit(Lang::kJava));
  d.lines(trace + "Exception in thread \"worker\" java.lang.Error: second\n\tat W.run(W.java:1)\n");
  d.eof();
  REQUIRE(d.payloads() ==
          std::vector<std::string>{drop_last_nl(trace), "Exception in thread \"worker\" java.lang.Error: second\n\tat W.run(W.java:1)"});
}

TEST_CASE("java trace on stderr interleaved with stdout lines and JSON lines", "[multiline]") {
  Driver d;
  d.line("ERROR request failed", "stderr");
  d.line("GET /health 200", "stdout");
  d.line("java.lang.IllegalArgumentException: bad id", "stderr");
  d.line(R"({"level":"info","msg":"tick"})", "stdout", PayloadKind::kJsonObject);
  d.line("\tat com.example.Api.get(Api.java:10)", "stderr");
  d.line("GET /health 200", "stdout");
  d.line("\tat com.example.Api.handle(Api.java:5)", "stderr");
  d.line("done", "stderr");
  d.eof();
  // stdout's plain lines are held (they might start a trace) until the next
  // stdout line shows they do not; the JSON line ends stdout's group.
  REQUIRE(d.payloads() == std::vector<std::string>{
                              "GET /health 200",
                              R"({"level":"info","msg":"tick"})",
                              "ERROR request failed\njava.lang.IllegalArgumentException: bad id\n"
                              "\tat com.example.Api.get(Api.java:10)\n\tat com.example.Api.handle(Api.java:5)",
                              "GET /health 200", "done"});
  CHECK(d.c.out[2].stream == "stderr");
}

TEST_CASE("python: tracebacks, logging.exception form, 3.11 carets", "[multiline]") {
  const std::string t1 =
      "ERROR:root:payment failed\n"
      "Traceback (most recent call last):\n"
      "  File \"/app/pay.py\", line 12, in charge\n"
      "    resp = client.post(url, json=body)\n"
      "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
      "  File \"/usr/lib/python3.11/site-packages/requests/api.py\", line 115, in post\n"
      "    return request(\"post\", url, data=data, json=json, **kwargs)\n"
      "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pay', port=443): Max retries exceeded\n";
  const std::string t2 =
      "Traceback (most recent call last):\n"
      "  File \"main.py\", line 3, in <module>\n"
      "    f()\n"
      "  [Previous line repeated 996 more times]\n"
      "RecursionError: maximum recursion depth exceeded\n";
  Driver d(lang_bit(Lang::kPython));
  d.lines(t1 + t2 + "INFO:root:next\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(t1), drop_last_nl(t2), "INFO:root:next"});
}

TEST_CASE("python: chained exceptions keep their blank lines; a trailing blank is its own record", "[multiline]") {
  const std::string chained =
      "Traceback (most recent call last):\n"
      "  File \"app.py\", line 5, in load\n"
      "    return json.loads(raw)\n"
      "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n"
      "\n"
      "During handling of the above exception, another exception occurred:\n"
      "\n"
      "Traceback (most recent call last):\n"
      "  File \"app.py\", line 9, in <module>\n"
      "    load()\n"
      "ValueError: config is not JSON\n";
  Driver d;
  d.lines(chained + "\nServer stopped\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(chained), "", "Server stopped"});
  // The blank line keeps its own ts and offset.
  CHECK(d.c.out[1].ts == d.ts[11]);
}

TEST_CASE("go: panic with goroutine blocks and blank lines", "[multiline]") {
  const std::string panic =
      "panic: runtime error: invalid memory address or nil pointer dereference\n"
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f1b5]\n"
      "\n"
      "goroutine 1 [running]:\n"
      "main.(*Server).handle(0x0, {0x4c2f60, 0xc000012345})\n"
      "\t/app/server.go:42 +0x15\n"
      "main.main()\n"
      "\t/app/main.go:17 +0x2a\n"
      "\n"
      "goroutine 18 [chan receive]:\n"
      "main.worker(0xc00001c0c0)\n"
      "\t/app/worker.go:9 +0x3b\n"
      "created by main.main in goroutine 1\n"
      "\t/app/main.go:12 +0x1d\n"
      "exit status 2\n";
  Driver d(lang_bit(Lang::kGo));
  d.lines(panic + "starting server on :8080\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(panic), "starting server on :8080"});
}

TEST_CASE("ruby: backtraces with from lines and Rails-style frames", "[multiline]") {
  const std::string t1 =
      "/app/lib/cart.rb:12:in `total': undefined method `price' for nil:NilClass (NoMethodError)\n"
      "\tfrom /app/lib/cart.rb:5:in `block in checkout'\n"
      "\tfrom /app/lib/cart.rb:4:in `each'\n"
      "\tfrom /app/main.rb:1:in `<main>'\n";
  const std::string t2 =
      "NoMethodError (undefined method `name' for nil):\n"
      "  app/controllers/users_controller.rb:8:in `show'\n"
      "  actionpack (7.0.4) lib/action_controller/metal/basic_implicit_render.rb:6:in 'send_action'\n";
  Driver d(lang_bit(Lang::kRuby));
  d.lines(t1 + t2 + "Completed 500 Internal Server Error in 12ms\n");
  d.eof();
  REQUIRE(d.payloads() ==
          std::vector<std::string>{drop_last_nl(t1), drop_last_nl(t2), "Completed 500 Internal Server Error in 12ms"});
}

TEST_CASE("node: Error stacks with async and anonymous frames", "[multiline]") {
  const std::string t1 =
      "TypeError: Cannot read properties of undefined (reading 'id')\n"
      "    at getUser (/app/src/users.js:14:23)\n"
      "    at async Promise.all (index 0)\n"
      "    at async /app/src/routes.js:30:5\n"
      "    at Object.<anonymous> (/app/index.js:3:1)\n"
      "    at processTicksAndRejections (node:internal/process/task_queues:95:5)\n";
  const std::string t2 =
      "Error: connect ECONNREFUSED 127.0.0.1:5432\n"
      "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1494:16)\n"
      "    ... 2 lines matching cause stack trace ...\n";
  Driver d(lang_bit(Lang::kNode));
  d.lines(t1 + t2 + "listening on 3000\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(t1), drop_last_nl(t2), "listening on 3000"});
}

TEST_CASE("dotnet: inner exceptions and end-of-stack markers", "[multiline]") {
  const std::string t =
      "fail: Microsoft.AspNetCore.Server.Kestrel[13]\n"
      "System.InvalidOperationException: Order 7 cannot be shipped\n"
      " ---> System.ArgumentNullException: Value cannot be null. (Parameter 'address')\n"
      "   at Shop.Shipping.Validate(Address address) in /src/Shop/Shipping.cs:line 31\n"
      "   --- End of inner exception stack trace ---\n"
      "   at Shop.Shipping.Ship(Order order) in /src/Shop/Shipping.cs:line 18\n"
      "--- End of stack trace from previous location ---\n"
      "   at Shop.Api.OrdersController.Post(Order order)\n";
  Driver d(lang_bit(Lang::kDotnet));
  d.lines(t + "info: Microsoft.Hosting.Lifetime[0]\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(t), "info: Microsoft.Hosting.Lifetime[0]"});
}

TEST_CASE("false merges: ordinary indented text, prose with 'at', blank lines", "[multiline]") {
  Driver d;
  d.lines(
      "Loaded config:\n"
      "  listen: 0.0.0.0:8080\n"
      "    timeout: 30s\n"
      "\tworkers: 4\n"
      "    at the moment (really) nothing to do\n"
      "\n"
      "Summary\n"
      "  ... 3 items\n");
  d.eof();
  CHECK(d.c.out.size() == 8);
  CHECK(d.stats->groups_joined == 0);
}

TEST_CASE("false merges: a JSON line right after a trace ends it", "[multiline]") {
  Driver d;
  d.line("Error: boom");
  d.line("    at main (/app/x.js:1:2)");
  d.line(R"({"msg":"next"})");  // kind not known yet: the shape decides
  d.line("    at other (/app/y.js:1:2)");
  d.eof();
  REQUIRE(d.payloads() ==
          std::vector<std::string>{"Error: boom\n    at main (/app/x.js:1:2)", R"({"msg":"next"})", "    at other (/app/y.js:1:2)"});
}

TEST_CASE("only the enabled languages join", "[multiline]") {
  Driver d(lang_bit(Lang::kPython));
  d.lines(kJavaTrace);
  d.eof();
  CHECK(d.c.out.size() == 9);
}

TEST_CASE("timeout: a group with no new line ships at its deadline", "[multiline]") {
  Driver d;
  CHECK_FALSE(d.p->deadline());
  d.line("ERROR boom");
  d.line("java.lang.IllegalStateException: x");
  d.line("\tat A.b(A.java:1)");
  REQUIRE(d.p->deadline());
  CHECK(*d.p->deadline() == d.now + std::chrono::milliseconds(1000));
  d.now += std::chrono::milliseconds(999);
  d.p->flush(FlushReason::kTimeout, d.c);
  CHECK(d.c.out.empty());
  d.now += std::chrono::milliseconds(1);
  d.p->flush(FlushReason::kTimeout, d.c);
  REQUIRE(d.c.out.size() == 1);
  CHECK(d.c.out[0].payload == "ERROR boom\njava.lang.IllegalStateException: x\n\tat A.b(A.java:1)");
  CHECK(d.stats->ended_by_timeout == 1);
  CHECK_FALSE(d.p->deadline());
  CHECK_FALSE(d.p->held_offset());
  // A late frame is not glued onto the shipped group.
  d.line("\tat A.c(A.java:2)");
  d.eof();
  CHECK(d.c.out.size() == 2);
}

TEST_CASE("timeout: another stream's expired group ends before the next record", "[multiline]") {
  Driver d;
  d.line("panic: x", "stderr");
  d.now += std::chrono::milliseconds(1500);
  d.line("hello", "stdout");
  REQUIRE(d.c.out.size() == 1);
  CHECK(d.c.out[0].payload == "panic: x");
}

TEST_CASE("size: a group that would pass the record limit ships truncated; nothing is dropped", "[multiline]") {
  Driver d(kAllLangs, 60);
  d.line("Error: boom boom boom");                   // 21
  d.line("    at one (/app/a.js:1:2)");             // +1+26 = 48
  d.line("    at two (/app/b.js:1:2)");             // would be 75 > 60
  d.line("    at three (/app/c.js:1:2)");
  d.line("next");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{"Error: boom boom boom\n    at one (/app/a.js:1:2)",
                                                   "    at two (/app/b.js:1:2)\n    at three (/app/c.js:1:2)",
                                                   "next"});
  CHECK(d.c.out[0].truncated);
  CHECK_FALSE(d.c.out[1].truncated);
  CHECK(d.stats->ended_by_size == 1);
}

TEST_CASE("checkpoints: held offset re-reads the whole group", "[multiline]") {
  Driver d;
  d.line("INFO ready");
  CHECK(d.p->held_offset() == 0u);  // the first record: nothing before it is known
  const uint64_t after_ready = d.offset;
  d.line("ERROR failed");
  // "INFO ready" shipped; "ERROR failed" may start a trace: resume before it.
  REQUIRE(d.c.out.size() == 1);
  CHECK(d.p->held_offset() == after_ready);
  d.line("java.lang.Error: x");
  d.line("\tat A.b(A.java:1)");
  CHECK(d.p->held_offset() == after_ready);
  d.eof();
  CHECK_FALSE(d.p->held_offset());
  REQUIRE(d.c.out.size() == 2);
  CHECK(d.c.out[1].commit_offset == d.offset);
}

TEST_CASE("end of file flushes every stream's group oldest first", "[multiline]") {
  Driver d;
  d.line("Traceback (most recent call last):", "stdout");
  d.line("Error: a", "stderr");
  d.line("  File \"x.py\", line 1, in <module>", "stdout");
  d.p->flush(FlushReason::kShutdown, d.c);
  REQUIRE(d.payloads() ==
          std::vector<std::string>{"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>", "Error: a"});
}

TEST_CASE("LOGSHIP_MULTILINE values", "[multiline]") {
  CHECK(parse_multiline("off") == LangSet{0});
  CHECK(parse_multiline("auto") == kAllLangs);
  CHECK(parse_multiline(" java, python ") == LangSet(lang_bit(Lang::kJava) | lang_bit(Lang::kPython)));
  CHECK(parse_multiline("go,ruby,node,dotnet") ==
        LangSet(lang_bit(Lang::kGo) | lang_bit(Lang::kRuby) | lang_bit(Lang::kNode) | lang_bit(Lang::kDotnet)));
  const auto bad = parse_multiline("java,cobol");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("cobol") != std::string::npos);
  CHECK(multiline_name(lang_bit(Lang::kJava) | lang_bit(Lang::kGo)) == "java,go");
  CHECK(multiline_name(0) == "off");
}

TEST_CASE("factory: configured rules, overridden by the pod annotation", "[multiline]") {
  auto stats = std::make_shared<MultilineStats>();
  MultilineOptions off;
  MultilineFactory factory_off(off, stats);
  SourceInfo plain;
  CHECK(factory_off.create(plain) == nullptr);

  SourceInfo annotated;
  annotated.annotations = std::make_shared<std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"logship.io/multiline", "python"}});
  auto p = factory_off.create(annotated);
  REQUIRE(p);
  CHECK(static_cast<MultilineProcessor&>(*p).langs() == lang_bit(Lang::kPython));

  MultilineOptions on;
  on.langs = kAllLangs;
  MultilineFactory factory_on(on, stats);
  CHECK(factory_on.create(plain) != nullptr);
  annotated.annotations = std::make_shared<std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"logship.io/multiline", "off"}});
  CHECK(factory_on.create(annotated) == nullptr);
  annotated.annotations = std::make_shared<std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"logship.io/multiline", "fortran"}});
  auto kept = factory_on.create(annotated);
  REQUIRE(kept);
  CHECK(static_cast<MultilineProcessor&>(*kept).langs() == kAllLangs);
}

TEST_CASE("node: uncaught exception report with source excerpt, error properties and version", "[multiline]") {
  const std::string t =
      "/app/src/db.js:27\n"
      "    throw err;\n"
      "    ^\n"
      "\n"
      "Error: connect ECONNREFUSED 10.0.0.7:5432\n"
      "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16) {\n"
      "  errno: -111,\n"
      "  code: 'ECONNREFUSED',\n"
      "  syscall: 'connect'\n"
      "}\n"
      "\n"
      "Node.js v20.11.1\n";
  Driver d(lang_bit(Lang::kNode));
  d.lines(t + "npm ERR! code 1\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(t), "npm ERR! code 1"});
}

TEST_CASE("restart in the middle of a group: re-reading from held_offset rebuilds the whole trace", "[multiline]") {
  const std::string trace =
      "ERROR payment failed\n"
      "java.lang.IllegalStateException: declined\n"
      "\tat com.shop.Pay.charge(Pay.java:10)\n"
      "\tat com.shop.Api.post(Api.java:20)\n";
  // First run: the agent stops (crash) after the third line of the trace.
  Driver first;
  first.line("INFO ready");
  first.lines("ERROR payment failed\njava.lang.IllegalStateException: declined\n\tat com.shop.Pay.charge(Pay.java:10)\n");
  REQUIRE(first.p->held_offset());
  const uint64_t resume = *first.p->held_offset();
  // Nothing of the trace was shipped; resuming at the held offset re-reads
  // exactly the trace's lines (the file offsets of the second run are the
  // same as the first's).
  REQUIRE(first.c.out.size() == 1);
  CHECK(first.c.out[0].payload == "INFO ready");
  CHECK(first.c.out[0].commit_offset == resume);

  Driver second;
  second.offset = resume;
  second.lines(trace + "INFO next\n");
  second.eof();
  REQUIRE(second.payloads() == std::vector<std::string>{drop_last_nl(trace), "INFO next"});
}

TEST_CASE("auto: traces of several languages one after another in one stream", "[multiline]") {
  const std::string py =
      "Traceback (most recent call last):\n"
      "  File \"/app/w.py\", line 4, in <module>\n"
      "    run()\n"
      "KeyError: 'user'\n";
  const std::string go =
      "panic: assignment to entry in nil map\n"
      "\n"
      "goroutine 1 [running]:\n"
      "main.main()\n"
      "\t/app/main.go:8 +0x2c\n";
  const std::string rb =
      "/app/x.rb:3:in `/': divided by 0 (ZeroDivisionError)\n"
      "\tfrom /app/x.rb:3:in `<main>'\n";
  Driver d;
  d.lines(py + "worker restarted\n" + kJavaTrace + go + "\n" + rb + "bye\n");
  d.eof();
  REQUIRE(d.payloads() == std::vector<std::string>{drop_last_nl(py), "worker restarted", drop_last_nl(kJavaTrace),
                                                   drop_last_nl(go), "", drop_last_nl(rb), "bye"});
  CHECK(d.stats->groups_joined == 4);
}

TEST_CASE("records passing a held group of the other stream never commit past it", "[multiline]") {
  Driver d;
  d.line("ERROR on stdout", "stdout");  // held: may start a trace
  const uint64_t before_group = 0;
  d.line("stderr one", "stderr");       // held in its own group
  d.line(R"({"json":1})", "stderr", PayloadKind::kJsonObject);  // ends stderr's group, passes
  REQUIRE(d.c.out.size() == 2);
  CHECK(d.c.out[0].payload == "stderr one");
  CHECK(d.c.out[0].commit_offset == before_group);
  CHECK(d.c.out[1].commit_offset == before_group);
  d.line("INFO on stdout", "stdout");   // ends stdout's group
  REQUIRE(d.c.out.size() == 3);
  CHECK(d.c.out[2].payload == "ERROR on stdout");
  CHECK(d.c.out[2].commit_offset == d.texts[0].size() + 40);
  d.eof();
  CHECK(d.c.out.back().commit_offset == d.offset);
}
