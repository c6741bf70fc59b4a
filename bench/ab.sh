#!/usr/bin/env bash
# Interleaved A/B of `herald serve` binaries on the update and memory sections of
# bench/update.py, for comparing two builds (e.g. main's and a branch's) on one corpus:
#
#   bench/ab.sh CONTENT_DIR ROUNDS PARTS BIN_A BIN_B [BIN…]
#   e.g. EDITS=30 bench/ab.sh /work/corpus/gnews-2021 2 edit ../main/target/release/herald target/release/herald
#
# Each round starts each binary in turn on CONTENT_DIR (edited in place: use an unpacked copy,
# never the shared archives), waits 2 s, runs bench/update.py with BENCH_UPDATE_PARTS=PARTS
# (edit, add, burst) and stops it. Rows go to $AB_WORK/r{N}.tsv (N = the binary's position),
# logs to $AB_WORK/serve{N}.log. Knobs: EDITS (30), MEM_EDITS (300), BENCH (update; add
# memory for the RSS figures), BENCH_QUIET, AB_WORK (target/ab-work).
set -u
content=$1 rounds=$2 parts=$3
shift 3
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${AB_WORK:-$repo/target/ab-work}
mkdir -p "$work"
for r in $(seq 1 "$rounds"); do
  i=0
  for bin in "$@"; do
    i=$((i + 1))
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    out=$work/out$i
    rm -rf "$out"
    HERALD_LOG=${HERALD_LOG:-info} "$bin" serve --config "$repo/bench/herald.toml" --content "$content" \
      --out "$out" --listen "127.0.0.1:$port" 2>>"$work/serve$i.log" &
    pid=$!
    for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
    sleep 2
    BENCH=${BENCH:-update} BENCH_UPDATE_PARTS=$parts BENCH_EDITS=${EDITS:-30} \
      BENCH_MEMORY_EDITS=${MEM_EDITS:-300} \
      python3 "$repo/bench/update.py" herald "$port" "$content" "$out" "$pid" "$work/r$i.tsv" \
      "$(basename "$content")" | sed "s|^|[bin $i, round $r] |"
    kill "$pid"
    wait "$pid" 2>/dev/null
  done
done
