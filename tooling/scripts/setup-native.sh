#!/bin/sh
# Installs a system BLAS/LAPACK for basis' native compute engine where it can, and never fails:
# without one, basis computes on its WebAssembly kernels (same results to ~1e-14, slower).
#   Debian/Ubuntu: apt-get install -y libopenblas0-pthread (with sudo when not root)
#   other Linux:   nothing is installed (install OpenBLAS with your package manager, or set
#                  BASIS_BLAS=/path/to/libopenblas.so)
#   macOS:         nothing to do: Accelerate is found automatically (or: brew install openblas)
# Usage: sh tooling/scripts/setup-native.sh   (BASIS_SETUP_NATIVE=skip skips it)
set -u

[ "${BASIS_SETUP_NATIVE:-}" = "skip" ] && exit 0
[ "$(uname -s 2>/dev/null)" = "Linux" ] || exit 0
command -v apt-get >/dev/null 2>&1 || exit 0

# already present (the Debian package, or any libopenblas the loader knows)
if dpkg -s libopenblas0-pthread >/dev/null 2>&1 || { command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libopenblas.*\.so\.0'; }; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "basis: no system BLAS/LAPACK; as root run 'apt-get install -y libopenblas0-pthread' for the native engine (until then basis uses WebAssembly)" >&2
    exit 0
  fi
  # ask for a password only when someone can type it
  if [ -t 0 ]; then SUDO="sudo"; else SUDO="sudo -n"; fi
fi

echo "basis: installing OpenBLAS for the native engine ($SUDO apt-get install -y libopenblas0-pthread)" >&2
install() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread >/dev/null 2>&1
}
if install || { $SUDO apt-get update -qq >/dev/null 2>&1 && install; }; then
  exit 0
fi
echo "basis: could not install libopenblas0-pthread; basis will use its WebAssembly kernels (see the README: native engine)" >&2
exit 0
