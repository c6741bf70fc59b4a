#!/usr/bin/env bash
# Opt-in acceptance run on the real archives (not part of `cargo test`):
#   bench/acceptance.sh [CORPUS_DIR]     (default: ../shared/corpus beside the checkout)
# For each archive: a timed `herald build`, `herald check` totals, then `herald serve` and
# every served feed fetched over HTTP and parsed by Python's feedparser (bozo must be 0).
# Skips cleanly when the corpus is absent. Installs what it needs: zstd (Debian), feedparser
# (PyPI, into target/acceptance-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-${HERALD_CORPUS:-../shared/corpus}}
if [ ! -f "$corpus/txt-head.tar.zst" ] && [ ! -f "$corpus/gnews-2021.tar.zst" ]; then
  echo "acceptance: no corpus at $corpus (set HERALD_CORPUS); skipped"
  exit 0
fi
command -v zstd >/dev/null || { apt-get update -qq && apt-get install -y -qq zstd >/dev/null; }
venv=target/acceptance-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import feedparser' 2>/dev/null || "$venv/bin/pip" install -q feedparser
cargo build --release --locked -q
herald=$PWD/target/release/herald
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run_one() { # name archive content-subfolder
  local name=$1 archive=$2 sub=$3
  [ -f "$corpus/$archive" ] || { echo "== $name: $archive absent; skipped"; return; }
  mkdir -p "$work/$name"
  zstd -dc "$corpus/$archive" | tar -x -C "$work/$name"
  local content="$work/$name/$sub" out="$work/$name-feeds"
  echo "== $name ($content)"
  HERALD_LOG=info "$herald" build --content "$content" --out "$out" 2>&1 | grep -E "built|error" || true
  "$herald" check --content "$content" 2>/dev/null | tail -1 || true
  local port
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  HERALD_LOG=warn "$herald" serve --content "$content" --out "$out" --listen "127.0.0.1:$port" 2>/dev/null &
  local pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  "$venv/bin/python" - "$port" "$out" <<'PY'
import os, sys, urllib.request, urllib.parse, feedparser
port, out = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(out) if n.endswith((".rss", ".atom")))
bozo, entries = [], 0
for n in names:
    url = f"http://127.0.0.1:{port}/feeds/" + urllib.parse.quote(n)
    body = urllib.request.urlopen(url).read()
    d = feedparser.parse(body)
    entries += len(d.entries)
    if d.bozo:
        bozo.append((n, str(d.bozo_exception)))
print(f"feedparser: {len(names)} feeds served, {entries} entries, {len(bozo)} with bozo")
for n, e in bozo[:20]:
    print(f"  bozo: {n}: {e}")
sys.exit(1 if bozo else 0)
PY
  kill $pid; wait $pid 2>/dev/null || true
}
run_one txt-head txt-head.tar.zst content
run_one gnews-2021 gnews-2021.tar.zst .
