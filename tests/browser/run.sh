#!/usr/bin/env bash
# Headless-browser test of the pages for people: serves the in-tree sample/ with Herald,
# drives Debian's Chromium with Playwright (playwright-core from npm, no downloaded browser)
# and keeps screenshots in target/browser/. See README.md here.
#
# Exits 0 with a "skipped" line when Chromium or Node cannot be had; 1 when a check fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ARTIFACTS=${HERALD_BROWSER_ARTIFACTS:-$ROOT/target/browser}
mkdir -p "$ARTIFACTS"

skip() {
  echo "browser test skipped: $*"
  exit 0
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
  echo "installing Debian's chromium…"
  as_root apt-get install -y chromium >/dev/null 2>&1 \
    || { as_root apt-get update >/dev/null 2>&1 && as_root apt-get install -y chromium >/dev/null 2>&1; } \
    || skip "chromium is not installed and apt-get install chromium failed"
  CHROMIUM=$(command -v chromium) || skip "chromium not found after installing it"
fi
# A font with Chinese glyphs makes the screenshots readable; optional.
fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk|droid sans fallback' \
  || as_root apt-get install -y fonts-wqy-microhei >/dev/null 2>&1 || true

command -v node >/dev/null || skip "node is not installed"
NODE_DIR="$ARTIFACTS/node"
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent playwright-core@1 >/dev/null) \
    || skip "npm install playwright-core failed"
fi

cargo build --locked --quiet --bin herald
HERALD="${CARGO_TARGET_DIR:-$ROOT/target}/debug/herald"
PORT=${HERALD_BROWSER_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
HERALD_LOG=warn "$HERALD" serve --content sample --out "$WORK/feeds" --listen "127.0.0.1:$PORT" \
  --base-url "$BASE" >"$ARTIFACTS/herald.log" 2>&1 &
HERALD_PID=$!
trap 'kill "$HERALD_PID" 2>/dev/null; wait "$HERALD_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

NODE_PATH="$NODE_DIR/node_modules" node "$ROOT/tests/browser/check.cjs" "$BASE" "$ARTIFACTS" "$CHROMIUM"
