#!/bin/sh
# Installs the Debian 12 packages libtvw needs.
#
#   setup.sh          build and run-time packages: the library, `tvw`, the
#                     viewer and the Python/JavaScript bindings
#   setup.sh --tests  the above and the test stack: PyTorch and torchvision
#                     (the numerical oracle), Xvfb, clang and valgrind for the
#                     sanitizer and fuzzing stages, gi-docgen
#
# Idempotent; works as root or through sudo.
set -eu

with_tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=1 ;;
    -h|--help)
      sed -n '2,10s/^# \{0,1\}//p' "$0"
      exit 0 ;;
    *)
      echo "setup: unknown argument “$arg” (try --help)" >&2
      exit 2 ;;
  esac
done

# Building and running: compiler, meson, the libraries (Cairo, and Pango
# with a font, draw the detection render), introspection, the viewer's
# toolkit, xmllint for the viewer's resources, and GStreamer (with Pango
# for the tvwclassify element's overlay; plugins-base has videoconvert).
PACKAGES="
  gcc pkg-config meson ninja-build git
  libglib2.0-dev libgdk-pixbuf-2.0-dev libjson-glib-dev libsoup-3.0-dev
  libopenblas-dev gobject-introspection libgirepository1.0-dev
  libcairo2-dev fonts-dejavu-core
  libgtk-4-dev libadwaita-1-dev gir1.2-gtk-4.0 gir1.2-adw-1
  gettext libxml2-utils
  python3-gi gjs
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libpango1.0-dev
  gstreamer1.0-plugins-base
"

# Testing: the PyTorch oracle, the Fashion-MNIST test set, a headless X
# server for the viewer, metadata validators, the sanitizer/fuzzing
# toolchain, the reference documentation generator, and GStreamer's tools
# and good plugins for the element's tests.
TEST_PACKAGES="
  python3-torch python3-torchvision python3-numpy python3-pil
  dataset-fashion-mnist xvfb xauth time
  desktop-file-utils appstream-util
  clang libclang-rt-14-dev valgrind
  gi-docgen
  gstreamer1.0-tools gstreamer1.0-plugins-good
"

wanted="$PACKAGES"
if [ "$with_tests" = 1 ]; then
  wanted="$wanted $TEST_PACKAGES"
fi

missing=""
for p in $wanted; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "setup: every package is installed already"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "setup: run as root or install sudo; missing:$missing" >&2
  exit 1
fi

# sudo drops the environment: pass DEBIAN_FRONTEND through env(1) so that
# debconf does not fall back to its interactive front ends.  apt's own
# output goes to a log, shown only when something fails.
log=$(mktemp "${TMPDIR:-/tmp}/tvw-setup.XXXXXX")
count=$(echo $missing | wc -w)
echo "setup: installing $count packages:$missing"
if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 &&
   $SUDO env DEBIAN_FRONTEND=noninteractive \
     apt-get install -y -q --no-install-recommends -o=Dpkg::Use-Pty=0 -o=DPkg::Lock::Timeout=600 $missing >>"$log" 2>&1; then
  echo "setup: done ($(grep -c '^Setting up' "$log") packages set up, including dependencies)"
  rm -f "$log"
else
  tail -n 30 "$log" >&2
  echo "setup: apt-get failed; the whole log is $log" >&2
  exit 1
fi
