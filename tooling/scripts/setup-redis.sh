#!/bin/sh
# Installs redis-server for the job-queue tests (basis reproduce --queue, basis worker) where it
# can, and never fails: without it those integration tests are skipped with a message.
#   Debian/Ubuntu: apt-get install -y redis-server (with sudo when not root; the package's service
#                  is not needed: the tests start their own server on 127.0.0.1 at a free port)
#   elsewhere:     install Redis (>= 6.2) with your package manager, or set BASIS_REDIS_SERVER to
#                  the redis-server binary
# Usage: sh tooling/scripts/setup-redis.sh   (BASIS_SETUP_REDIS=skip skips it)
set -u

[ "${BASIS_SETUP_REDIS:-}" = "skip" ] && exit 0
if [ -n "${BASIS_REDIS_SERVER:-}" ] || command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi
if [ "$(uname -s 2>/dev/null)" != "Linux" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "basis: no redis-server; install Redis for the job-queue tests (they are skipped until then)" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "basis: no redis-server; as root run 'apt-get install -y redis-server' for the job-queue tests (they are skipped until then)" >&2
    exit 0
  fi
  # ask for a password only when someone can type it
  if [ -t 0 ]; then SUDO="sudo"; else SUDO="sudo -n"; fi
fi

echo "basis: installing redis-server for the job-queue tests ($SUDO apt-get install -y redis-server)" >&2
install() {
  # RUNLEVEL=1: the package must not start its system service (the tests run their own server)
  $SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1
}
if install || { $SUDO apt-get update -qq >/dev/null 2>&1 && install; }; then
  exit 0
fi
echo "basis: could not install redis-server; the job-queue integration tests will be skipped with a message" >&2
exit 0
