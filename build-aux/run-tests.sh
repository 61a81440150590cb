#!/bin/sh
# Builds libtvw and runs the whole test suite, then the unit suite and a
# reduced conformance run again under AddressSanitizer + UBSan
# (build-aux/run-sanitizers.sh; TVW_SKIP_SANITIZERS=1 skips that stage),
# and with TVW_RUN_FUZZERS=1 each fuzzer for a bounded time.
# Ends with meson's totals over both builds on one line:
# "N passed, N failed" (", N skipped" may follow).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build="${TVW_BUILD_DIR:-$top/build}"
sanitize="${SANITIZE_BUILD_DIR:-$build-sanitize}"
status=0

# The API reference is built (and its warnings are errors) when gi-docgen
# is there, as `setup.sh --tests` installs it.
docs=false
if command -v gi-docgen >/dev/null 2>&1; then
  docs=true
fi
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" -Ddocumentation=$docs || exit 1
fi
ninja -C "$build" || exit 1

rm -f "$build"/meson-logs/testlog*.json
if [ $# -gt 0 ]; then
  meson test -C "$build" --print-errorlogs --num-processes 1 "$@" || status=1
else
  # The quick suites first; then the minutes-long comparisons with PyTorch
  # verbosely, so that each model compared shows as it finishes.
  meson test -C "$build" --print-errorlogs --num-processes 1 \
    --no-suite conformance --logbase testlog-main || status=1
  echo "run-tests: conformance against PyTorch (several minutes; one line per comparison)"
  meson test -C "$build" --print-errorlogs --num-processes 1 --verbose \
    --suite conformance --logbase testlog-conformance || status=1
fi
logs="$(ls "$build"/meson-logs/testlog*.json | tr '\n' ' ')"

if [ "${TVW_SKIP_SANITIZERS:-0}" != 1 ]; then
  rm -f "$sanitize"/meson-logs/testlog-*.json
  SANITIZE_BUILD_DIR="$sanitize" "$top/build-aux/run-sanitizers.sh" || status=1
  logs="$logs $(ls "$sanitize"/meson-logs/testlog-*.json 2>/dev/null | tr '\n' ' ')"
fi

# Each libFuzzer harness for a bounded time (TVW_RUN_FUZZERS=1; FUZZ_SECONDS
# each, default 45): a finding fails the run.
if [ "${TVW_RUN_FUZZERS:-0}" = 1 ]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-45}" FUZZ_BUILD_DIR="$build-fuzz" \
    "$top/build-aux/run-fuzzers.sh" || status=1
fi

/usr/bin/python3 - $logs <<'PY'
import json, sys
counts = {}
for path in sys.argv[1:]:
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)["result"]
            counts[r] = counts.get(r, 0) + 1
passed = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
failed = sum(v for k, v in counts.items() if k not in ("OK", "EXPECTEDFAIL", "SKIP"))
line = f"{passed} passed, {failed} failed"
if counts.get("SKIP"):
    line += f", {counts['SKIP']} skipped"
print(line)
PY
exit $status
