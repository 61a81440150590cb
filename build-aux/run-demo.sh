#!/bin/sh
# The main job: build libtvw and classify the bundled samples, offline.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build="${TVW_BUILD_DIR:-$top/build}"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top"
fi
ninja -C "$build"

# Offline: the embedded Fashion-MNIST weights are in the library itself.
export TVW_OFFLINE=1
exec "$build/cli/tvw" classify "$top"/data/samples/*.png
