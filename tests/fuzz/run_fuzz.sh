#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/CMakeLists.txt) with clang in their
# own build directory and runs each target:
#   1. every checked-in input in tests/fuzz/corpus/<target>/ once: the seeds
#      and the crash-* regression inputs of bugs found earlier;
#   2. fuzzing for LOGSHIP_FUZZ_SECONDS (default 30) from those inputs.
# Any crash, sanitizer report, property violation, timeout or OOM fails the
# script (after all targets ran). A new finding is saved in the target's
# corpus directory as crash-<sha1> (or timeout-/oom-/leak-): fix the bug and
# commit the file there, so it is replayed on every run from then on.
# A finding that is reported but not fixed yet is kept as known-<name> in the
# corpus dir: neither replayed nor used as a fuzzing seed (libFuzzer would
# run it first), so CI stays green on a known issue; README lists them.
#
# Usage: tests/fuzz/run_fuzz.sh [target...]    (default: all targets)
# Env: LOGSHIP_FUZZ_SECONDS, LOGSHIP_FUZZ_BUILD (build dir, default build-fuzz),
#      LOGSHIP_FUZZ_CXX (clang++ 16 or newer; found on PATH otherwise).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${LOGSHIP_FUZZ_SECONDS:-30}
build=${LOGSHIP_FUZZ_BUILD:-build-fuzz}

# clang 16 or newer: older ones cannot use libstdc++ 12's <expected>.
cxx=${LOGSHIP_FUZZ_CXX:-}
if [ -z "$cxx" ]; then
  for v in 19 18 17 16; do
    if command -v "clang++-$v" >/dev/null 2>&1; then cxx=$(command -v "clang++-$v"); break; fi
  done
fi
if [ -z "$cxx" ]; then
  echo "run_fuzz.sh: clang++ 16 or newer not found (scripts/install_deps.sh --test installs clang-16 and libclang-rt-16-dev)" >&2
  exit 1
fi
llvm_bin=$(dirname "$(readlink -f "$cxx")")
[ -x "$llvm_bin/llvm-symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$llvm_bin/llvm-symbolizer"

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >/dev/null
cmake --build "$build" -j 2

if (($#)); then
  targets=("$@")
else
  IFS=';' read -r -a targets <<<"$(cat "$build/targets.txt")"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/logs"
failed=()
ran=0
for t in "${targets[@]}"; do
  [ -n "$t" ] || continue
  ran=$((ran + 1))
  bin="$build/fuzz_$t"
  corpus="tests/fuzz/corpus/$t"
  work="$build/corpus/$t"  # new inputs found while fuzzing go here, not into the repo
  log="$build/logs/$t.log"
  mkdir -p "$work" "$corpus"
  ok=1
  # 1. Replay: each file once. Artifacts go to the build dir: the input that
  # failed is already in the corpus.
  shopt -s nullglob
  inputs=()
  for f in "$corpus"/*; do
    case "$(basename "$f")" in known-*) ;; *) [ -f "$f" ] && inputs+=("$f") ;; esac
  done
  shopt -u nullglob
  echo "== fuzz $t: replaying ${#inputs[@]} checked-in inputs, then ${seconds}s ==" >&2
  if ((${#inputs[@]})) && ! "$bin" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/logs/$t-replay-" \
      "${inputs[@]}" >"$log" 2>&1; then
    echo "fuzz $t: a checked-in input fails (see $log):" >&2
    grep -E "PROPERTY VIOLATED|ERROR:|Running:|SUMMARY" "$log" | tail -n 8 >&2 || true
    ok=0
  fi
  # 2. Fuzz for a bounded time from the replayed inputs (copied into the
  # work dir: the corpus dir itself would also feed libFuzzer the known-*
  # files); a finding is written into the corpus dir.
  if ((${#inputs[@]})); then cp -f "${inputs[@]}" "$work/"; fi
  if ((ok)) && ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$corpus/" "$work" >>"$log" 2>&1; then
    echo "fuzz $t: finding (see $log); saved:" >&2
    grep -E "PROPERTY VIOLATED|ERROR:|SUMMARY|Test unit written" "$log" | tail -n 6 >&2 || true
    ok=0
  fi
  if ((ok)); then
    echo "fuzz $t: ok ($(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?') runs)" >&2
  else
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: all $ran targets ok" >&2
