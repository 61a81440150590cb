#!/bin/sh
# Builds libtvw and runs the whole test suite; ends with meson's totals on
# one line: "N passed, N failed" (", N skipped" may follow).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build="${TVW_BUILD_DIR:-$top/build}"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" || exit 1
fi
ninja -C "$build" || exit 1

meson test -C "$build" --print-errorlogs --num-processes 1 "$@"
status=$?

log="$build/meson-logs/testlog.json"
if [ -f "$log" ]; then
  /usr/bin/python3 - "$log" <<'PY'
import json, sys
counts = {}
for line in open(sys.argv[1]):
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
fi
exit $status
