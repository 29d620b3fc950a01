#!/bin/sh
# The set-up command of the README (run once, from the repository root, before pnpm install).
# Does what it can and never fails:
#   1. the system OpenBLAS for the native compute engine (tooling/scripts/setup-native.sh), and
#      redis-server for the job-queue tests (tooling/scripts/setup-redis.sh);
#   2. Chromium for the browser tests (reports, docs site, playground): Debian/Ubuntu
#      `apt-get install -y chromium` (sudo when not root, never a password prompt without a terminal);
#      elsewhere install Chromium yourself or point BASIS_CHROMIUM at one;
#   3. `basis` on the PATH: a small launcher in npm's global bin folder (where `npm install -g pnpm`
#      puts pnpm), else in ~/.local/bin. It runs this checkout's CLI and builds it the first time.
# Skip a part with BASIS_SETUP_NATIVE=skip, BASIS_SETUP_REDIS=skip, BASIS_SETUP_BROWSER=skip or BASIS_LINK_BIN=skip;
# BASIS_BIN_DIR=/some/dir puts the launcher there.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

sh "$HERE/setup-native.sh"
# redis-server for the job-queue integration tests (tooling/scripts/setup-redis.sh, never fails)
sh "$HERE/setup-redis.sh"

# --- 2. Chromium ---------------------------------------------------------------------------
browser() {
  [ "${BASIS_SETUP_BROWSER:-}" = "skip" ] && return 0
  if [ -n "${BASIS_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then return 0; fi
  if [ "$(uname -s 2>/dev/null)" != "Linux" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "basis: the browser tests need Chromium; install it (or set BASIS_CHROMIUM=/path/to/chromium) — without it they are skipped with a message" >&2
    return 0
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "basis: as root run 'apt-get install -y chromium' for the browser tests (they are skipped until then)" >&2
      return 0
    fi
    if [ -t 0 ]; then SUDO="sudo"; else SUDO="sudo -n"; fi
  fi
  echo "basis: installing Chromium for the browser tests ($SUDO apt-get install -y chromium)" >&2
  if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; }; then
    return 0
  fi
  echo "basis: could not install chromium; the browser tests will be skipped with a message" >&2
  return 0
}
browser

# --- 3. basis on the PATH ------------------------------------------------------------------
link_bin() {
  [ "${BASIS_LINK_BIN:-}" = "skip" ] && return 0
  dir="${BASIS_BIN_DIR:-}"
  if [ -z "$dir" ]; then
    prefix=$(npm prefix -g 2>/dev/null || true)
    if [ -n "$prefix" ] && [ -d "$prefix/bin" ] && [ -w "$prefix/bin" ]; then dir="$prefix/bin"; else dir="$HOME/.local/bin"; fi
  fi
  mkdir -p "$dir" 2>/dev/null || { echo "basis: cannot create $dir; run the CLI as 'pnpm basis' from $REPO" >&2; return 0; }
  # an existing file that is not our launcher is left alone
  if [ -e "$dir/basis" ] && ! grep -q 'basis launcher (tooling/scripts/setup.sh)' "$dir/basis" 2>/dev/null; then
    echo "basis: $dir/basis exists and is not the basis launcher; left as it is" >&2
    return 0
  fi
  cat >"$dir/basis" <<EOF
#!/bin/sh
# basis launcher (tooling/scripts/setup.sh) for the checkout at $REPO
REPO='$REPO'
if [ ! -f "\$REPO/apps/cli/dist/index.js" ]; then
  echo "basis: building the CLI once (pnpm exec turbo run build --filter=@basis/cli...)" >&2
  (cd "\$REPO" && TURBO_TELEMETRY_DISABLED=1 pnpm exec turbo run build --filter=@basis/cli... --output-logs=errors-only >&2) || exit 1
fi
exec node "\$REPO/apps/cli/bin/basis.js" "\$@"
EOF
  chmod +x "$dir/basis" 2>/dev/null || true
  case ":$PATH:" in
    *":$dir:"*) echo "basis: 'basis' is on the PATH ($dir/basis)" >&2 ;;
    *) echo "basis: wrote $dir/basis; add $dir to your PATH to call 'basis' from anywhere (or use 'pnpm basis' here)" >&2 ;;
  esac
  return 0
}
link_bin
exit 0
