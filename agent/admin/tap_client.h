#pragma once
// `logship tap`: connects to a running logship's live tap (LOGSHIP_TAP=on,
// loopback listener LOGSHIP_TAP_LISTEN) and prints the matching records as
// they pass, one JSON object per line on stdout, like `vector tap`.
//
//   logship tap [--namespace GLOB] [--pod GLOB] [--container GLOB] [--limit N]
//               [--address HOST:PORT]
//
// The address defaults to the caller's LOGSHIP_TAP_LISTEN (127.0.0.1:2021).
// Exit codes: 0 the stream ended (limit reached or the agent stopped);
// 1 no tap to connect to, or the agent refused the request; 2 bad arguments.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/admin/tap.h"
#include "agent/core/result.h"

namespace logship::admin {

struct TapClientOptions {
  std::string address{"127.0.0.1:2021"};
  TapFilter filter;
  uint64_t limit = 0;  ///< 0: until interrupted
};

/// Parses the arguments after "tap": `--name value` or `--name=value`.
/// kInvalid naming the argument otherwise. `default_address` is used when
/// --address is absent.
[[nodiscard]] Result<TapClientOptions> parse_tap_args(std::span<const std::string_view> args,
                                                      std::string_view default_address);

/// Connects and copies the stream to `out_fd` until the limit, the end of
/// the stream or an error (reported on `err_fd`). Returns the exit code.
[[nodiscard]] int run_tap_client(const TapClientOptions& options, int out_fd, int err_fd);

/// The subcommand: parse_tap_args, then run_tap_client; usage on `err_fd`
/// and exit code 2 for bad arguments, usage on `out_fd` and 0 for --help.
[[nodiscard]] int tap_main(std::span<const std::string_view> args, std::string_view default_address, int out_fd,
                           int err_fd);

}  // namespace logship::admin
