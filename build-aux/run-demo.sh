#!/bin/sh
# The main job: build libtvw and classify the bundled samples, offline.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build="${TVW_BUILD_DIR:-$top/build}"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top"
fi
ninja -C "$build"

export TVW_OFFLINE=1
if "$build/cli/tvw" --help 2>/dev/null | grep -q "^  classify"; then
  exec "$build/cli/tvw" classify "$top"/data/samples/*.png
fi

# Until the embedded weights land: a locally generated checkpoint, run on a
# generated batch, to show the engine end to end.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" <<'PY'
import sys, numpy as np, torch, torchvision.models as M
torch.manual_seed(0)
m = M.resnet18(weights=None).eval()
torch.save(m.state_dict(), f"{sys.argv[1]}/resnet18.pth")
np.save(f"{sys.argv[1]}/in.npy", torch.randn(2, 3, 224, 224).numpy())
PY
"$build/cli/tvw" forward --model resnet18 --checkpoint "$work/resnet18.pth" \
  --input "$work/in.npy" --output "$work/out.npy"
/usr/bin/python3 -c "import numpy as np, sys; o = np.load(sys.argv[1]); print('output', o.shape, 'top-1', o.argmax(1))" "$work/out.npy"
