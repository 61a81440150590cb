#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz with clang (libFuzzer +
# AddressSanitizer + UndefinedBehaviorSanitizer, the library instrumented
# for coverage) and runs each one for a bounded time on one core.
#
#   FUZZ_SECONDS    seconds per harness (default 60)
#   FUZZ_HARNESSES  which ones (default: pth legacy safetensors card npy image)
#   FUZZ_BUILD_DIR  build directory (default: _build-fuzz in the source tree)
#   FUZZ_ARGS       extra libFuzzer arguments
#
# The corpus each run grows is kept in $FUZZ_BUILD_DIR/fuzz-corpus/<harness>
# and reused by the next run; it starts from tests/fuzz/gen_corpus.py's seeds
# and the saved inputs of tests/fuzz/regressions/<harness>.  Crashes, leaks,
# timeouts and out-of-memory inputs are written to
# $FUZZ_BUILD_DIR/fuzz-artifacts/<harness>/; copy the ones you fix into
# tests/fuzz/regressions/<harness>/ so that the unit suite replays them.
#
# Needs clang and libFuzzer (Debian: clang, libclang-rt-14-dev).  Exits
# non-zero if any harness found something.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build="${FUZZ_BUILD_DIR:-$top/_build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
harnesses="${FUZZ_HARNESSES:-pth legacy safetensors card json npy image}"
python=/usr/bin/python3

if ! command -v clang >/dev/null 2>&1; then
  echo "run-fuzzers.sh: clang is not installed" >&2
  exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
  set -- -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dintrospection=false -Dconformance=false -Ddocumentation=false \
    "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  # Options that only some trees have.
  if grep -q "option('viewer'" "$top/meson_options.txt"; then
    set -- "$@" -Dviewer=false
  fi
  CC=clang meson setup "$build" "$top" "$@" || exit 1
fi

targets=
for h in $harnesses; do
  targets="$targets tests/fuzz/fuzz-$h"
done
# shellcheck disable=SC2086
ninja -C "$build" -j2 $targets || exit 1

seeds="$build/fuzz-seeds"
rm -rf "$seeds"
$python "$top/tests/fuzz/gen_corpus.py" "$seeds" || exit 1

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export G_SLICE=always-malloc
export OPENBLAS_NUM_THREADS=1

status=0
summary=""
for h in $harnesses; do
  corpus="$build/fuzz-corpus/$h"
  artifacts="$build/fuzz-artifacts/$h"
  mkdir -p "$corpus" "$artifacts"
  extra=
  case $h in
    pth|legacy) extra="-dict=$top/tests/fuzz/pickle.dict" ;;
    safetensors|card|json) extra="-dict=$top/tests/fuzz/json.dict" ;;
    # gdk-pixbuf's BMP loader sizes a buffer from the header's pixel data
    # offset (up to 4 GB) and never touches it: tests/test-hostile.c has
    # that case; the RSS limit still catches memory actually used.
    image) extra="-malloc_limit_mb=4200" ;;
  esac
  inputs="$corpus $seeds/$h"
  if [ -d "$top/tests/fuzz/regressions/$h" ]; then
    inputs="$inputs $top/tests/fuzz/regressions/$h"
  fi

  echo "=== fuzz-$h: $seconds s"
  log="$build/fuzz-$h.log"
  # shellcheck disable=SC2086
  "$build/tests/fuzz/fuzz-$h" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" $extra ${FUZZ_ARGS:-} \
    $inputs >"$log" 2>&1
  rc=$?
  tail -n 25 "$log" | grep -E "^(#[0-9]+.*DONE|stat::|==[0-9]+==ERROR|SUMMARY|Done)" || tail -n 5 "$log"
  # libFuzzer prints its final stats twice after a crash.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  found=$(find "$artifacts" -type f | wc -l)
  summary="$summary
fuzz-$h: ${execs:-?} execs, ${rate:-?} execs/s, corpus $(find "$corpus" -type f | wc -l) files, exit $rc, $found artifact(s)"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    echo "fuzz-$h found something: see $log and $artifacts"
  fi
done

echo
echo "=== summary ($seconds s per harness)$summary"
exit $status
