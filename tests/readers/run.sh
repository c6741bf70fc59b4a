#!/usr/bin/env bash
# Real feed readers against Herald: serves the in-tree sample/ and reads every feed, archive
# page and the OPML with Python's feedparser and newsboat, and checks the JSON Feeds against
# the JSON Feed 1.1 spec (check.py says exactly what fails). See README.md here.
#
# Installs what it needs: newsboat (Debian) and feedparser (PyPI, into target/readers/venv).
# Exits 0 with a "skipped" line when they cannot be had; 1 when a check fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
WORK_ROOT=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$WORK_ROOT/readers"

skip() {
  echo "readers test skipped: $*"
  exit 0
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

if ! command -v newsboat >/dev/null; then
  echo "installing Debian's newsboat…"
  as_root apt-get install -y -qq newsboat >/dev/null 2>&1 \
    || { as_root apt-get update -qq >/dev/null 2>&1 && as_root apt-get install -y -qq newsboat >/dev/null 2>&1; } \
    || skip "newsboat is not installed and apt-get install newsboat failed"
fi
VENV="$WORK_ROOT/readers/venv"
if ! "$VENV/bin/python" -c 'import feedparser' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q 'feedparser==6.*' \
    || skip "pip install feedparser failed"
fi

cargo build --locked --quiet --bin herald
HERALD="$WORK_ROOT/debug/herald"
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
# Small feeds and archive pages, so that the sample's 34 articles also make archives to walk;
# a custom feed and a WebSub hub, so their feeds are read too.
cat >"$WORK/herald.toml" <<TOML
[site]
title = "Herald readers check"
language = "zh-CN"
id_authority = "herald.example,2026"
[content]
root = "$ROOT/sample"
[feeds]
items = 4
archive_page_size = 3
out = "$WORK/feeds"
[[feeds.custom]]
slug = "weather-watch"
title = "Weather watch"
title_words = ["weather", "frost", " rain", "气象", "冰", "雪", "大风"]
# Feeds name a WebSub hub (nothing listens there: the pings fail and are only logged).
[websub]
hubs = ["http://127.0.0.1:9/"]
TOML
HERALD_LOG=warn "$HERALD" serve --config "$WORK/herald.toml" --listen "127.0.0.1:$PORT" \
  --base-url "$BASE" >"$WORK_ROOT/readers/herald.log" 2>&1 &
HERALD_PID=$!
trap 'kill "$HERALD_PID" 2>/dev/null; wait "$HERALD_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$VENV/bin/python" "$ROOT/tests/readers/check.py" "$BASE" "$WORK"
