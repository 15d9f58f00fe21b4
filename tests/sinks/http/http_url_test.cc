#include "sinks/http/http_url.h"

#include <catch2/catch.hpp>

using namespace logship::sinks::http;

TEST_CASE("URLs: scheme, host, port, target", "[http][url]") {
  auto u = parse_url("https://loki.example:3100/loki/api/v1/push?x=1");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "loki.example");
  CHECK(u->port == 3100);
  CHECK(u->target == "/loki/api/v1/push?x=1");
  CHECK_FALSE(u->host_is_ip);
  CHECK(u->host_header() == "loki.example:3100");
  CHECK(u->origin() == "https://loki.example:3100");

  u = parse_url("HTTP://10.0.0.1");
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  CHECK(u->port == 80);
  CHECK(u->target.empty());
  CHECK(u->host_is_ip);
  CHECK(u->host_header() == "10.0.0.1");

  u = parse_url("https://[::1]:8443/");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->host_is_ip);
  CHECK(u->target.empty());  // "/" alone: the format's default path applies
  CHECK(u->host_header() == "[::1]:8443");

  u = parse_url("https://es.example?pipeline=logs#frag");
  REQUIRE(u);
  CHECK(u->port == 443);
  CHECK(u->target == "/?pipeline=logs");
  CHECK(u->host_header() == "es.example");
}

TEST_CASE("URLs: what is refused", "[http][url]") {
  for (const char* bad : {"ftp://x", "x:80", "http://", "http://:80", "http://h:0", "http://h:65536", "http://h:",
                          "http://h:8x", "http://user:pw@h/", "http://[::1", "http://[zz]:80", "http://h /x",
                          "http://[::1]x"}) {
    INFO(bad);
    CHECK_FALSE(parse_url(bad));
  }
}
