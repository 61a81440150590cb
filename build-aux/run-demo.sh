#!/bin/sh
# The main job: build libtvw and `tvw`, and classify the bundled samples,
# offline.  Only the command line tool and what it links are built (not the
# tests, the fuzzing corpus or the viewer).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build="${TVW_BUILD_DIR:-$top/build}"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top"
fi
ninja -C "$build" cli/tvw

# Offline: the embedded Fashion-MNIST weights are in the library itself.
export TVW_OFFLINE=1
exec "$build/cli/tvw" classify "$top"/data/samples/*.png
