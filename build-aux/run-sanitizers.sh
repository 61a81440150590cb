#!/bin/sh
# Builds libtvw with AddressSanitizer + UndefinedBehaviorSanitizer in a
# second build directory and runs the unit suite (which includes the
# hostile-input set and the replay of every fuzzer input) and a reduced
# conformance run against PyTorch.  Ends with meson's result summaries and
# the time taken.
#
#   SANITIZE_BUILD_DIR       build directory (default: _build-sanitize)
#   TVW_CONFORMANCE_ONLY     architectures of the conformance run (default resnet18)
#   SANITIZE_SKIP_CONFORMANCE=1  unit suite only
#
# Any ASan or UBSan report fails the test that triggered it: UBSan is set to
# halt on the first error, ASan aborts by itself, LeakSanitizer runs at exit.
# Logs: meson-logs/testlog-unit.txt and testlog-conformance.txt.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build="${SANITIZE_BUILD_DIR:-$top/_build-sanitize}"
start=$(date +%s)

if [ ! -f "$build/build.ninja" ]; then
  # No introspection: g-ir-scanner cannot run a dumper linked with ASan.
  set -- -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=false \
    -Ddocumentation=false
  if grep -q "option('viewer'" "$top/meson_options.txt"; then
    set -- "$@" -Dviewer=false
  fi
  meson setup "$build" "$top" "$@" || exit 1
fi
ninja -C "$build" -j2 || exit 1
built=$(date +%s)

# Third-party leaks that libtvw cannot free (none of them grows with use).
supp="$build/lsan.supp"
cat >"$supp" <<'EOF'
# json-glib 1.6 leaks the first value of a document that has more content
# after it; see tests/fuzz/fuzz-lsan-json.c.
leak:json_parser_load_from_data
# OpenBLAS keeps its thread pool until exit.
leak:libopenblas
# fontconfig's configuration and patterns, loaded once by Pango for the
# overlay of the GStreamer element (tests/gst; valgrind shows the same).
leak:libfontconfig
EOF

# No detect_stack_use_after_return: GCC 12 places a function's frame on
# ASan's fake stack 32-byte aligned, while the AVX-512 kernels keep
# 64-byte aligned locals there and store them with vmovaps, which faults
# (seen in tvw_v16_activation ()'s scalar fallback: a general-protection
# SEGV at an address 32 bytes off a 64-byte boundary, never without the
# fake stack).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$supp:print_suppressions=0}"

status=0

echo "=== unit suite under ASan + UBSan"
meson test -C "$build" --suite unit --print-errorlogs --num-processes 2 \
  --timeout-multiplier 4 --logbase testlog-unit || status=1
unit_done=$(date +%s)

if [ "${SANITIZE_SKIP_CONFORMANCE:-0}" != 1 ]; then
  echo "=== conformance (${TVW_CONFORMANCE_ONLY:-resnet18}) under ASan + UBSan"
  TVW_CONFORMANCE_ONLY="${TVW_CONFORMANCE_ONLY:-resnet18}" \
    meson test -C "$build" conformance-resnet --print-errorlogs --num-processes 1 \
    --timeout-multiplier 4 --logbase testlog-conformance || status=1
fi
end=$(date +%s)

echo "=== times: build $((built - start)) s, unit $((unit_done - built)) s, " \
     "conformance $((end - unit_done)) s, total $((end - start)) s"
exit $status
