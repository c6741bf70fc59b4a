#!/usr/bin/env bash
# Herald performance harness: ratios against baselines run interleaved in the same script.
#
#   bench/run.sh                     # every section on every corpus
#   BENCH=build,serve bench/run.sh   # only some sections (build, update, serve, memory)
#   BENCH_CORPORA=txt-head bench/run.sh
#
# Corpora (read from ${HERALD_CORPUS:-../shared/corpus}, relative to the checkout; the run is
# skipped with a message when the archives are absent; never commit anything made from them):
#   txt-head    txt-head.tar.zst, its content/ folder (5,804 files)
#   gnews-2021  gnews-2021.tar.zst (24,203 articles, YYYY/MM/ID.md)
#   gen-100k    100,000 articles made from gnews-2021 by bench/gen_corpus.py (new ids, dates,
#               ~300 categories, mixed sizes)
# Sections:
#   build   `herald build` (release) vs the floor (bench/floor: read every *.md once on all
#           cores) and vs `hugo` building RSS (home + taxonomy terms) from a copy of the corpus
#           given front matter by bench/to_hugo.py (conversion not timed)
#   update  `herald serve`: title edit, add, delete (p50/p99 of BENCH_EDITS each) and a burst
#           of BENCH_BURST changed files until every affected feed is current (bench/update.py);
#           baseline: `hugo server`, time until the served /index.xml shows an edit
#   serve   wrk -t2 -c64 against Herald and nginx serving the same bytes (plain, gzip, br,
#           304, minimal response), interleaved
#   memory  VmRSS/VmHWM of `herald serve` after start and after BENCH_MEMORY_EDITS edits
# Knobs (defaults): BENCH_REPS (5) runs per timed figure, interleaved with the baseline;
#   BENCH_HUGO_REPS (= BENCH_REPS); BENCH_WRK_SECONDS (10); BENCH_SERVE_CORPORA (txt-head);
#   BENCH_HUGO_SERVER_CORPORA (txt-head,gnews-2021); BENCH_EDITS (100); BENCH_BURST (1000);
#   BENCH_MEMORY_EDITS (1000, BENCH_MEMORY_SPACING 0.03 s apart); BENCH_QUIET (3: seconds
#   without a feed change that end a burst); BENCH_APPEND (set: add to the previous
#   results.tsv instead of starting afresh, to combine runs with different knobs);
#   BENCH_WORK (target/bench-work: unpacked corpora, sites, logs).
# Needs: Debian (installs zstd hugo nginx wrk with apt-get when missing), python3, cargo.
# Output: a table of ratios on stdout and in $BENCH_WORK/results.md; raw rows in results.tsv.
# The update and memory sections edit the unpacked copies in $BENCH_WORK (remove it to reset).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
corpus=${HERALD_CORPUS:-../shared/corpus}
export BENCH=${BENCH:-build,update,serve,memory}
corpora=${BENCH_CORPORA:-txt-head,gnews-2021,gen-100k}
reps=${BENCH_REPS:-5}
hugo_reps=${BENCH_HUGO_REPS:-$reps}
wrk_s=${BENCH_WRK_SECONDS:-10}
serve_corpora=${BENCH_SERVE_CORPORA:-txt-head}
hugo_server_corpora=${BENCH_HUGO_SERVER_CORPORA:-txt-head,gnews-2021}
work=${BENCH_WORK:-$repo/target/bench-work}
target=${CARGO_TARGET_DIR:-$repo/target}
has() { [[ ",$1," == *",$2,"* ]]; }

if [ ! -f "$corpus/txt-head.tar.zst" ] && [ ! -f "$corpus/gnews-2021.tar.zst" ]; then
  echo "bench: no corpus at $corpus (set HERALD_CORPUS); skipped"
  exit 0
fi
need=(zstd:zstd)
has "$BENCH" build && need+=(hugo:hugo)
has "$BENCH" update && need+=(hugo:hugo)
has "$BENCH" serve && need+=(nginx:nginx wrk:wrk)
missing=()
for n in "${need[@]}"; do command -v "${n%%:*}" >/dev/null || [ -x "/usr/sbin/${n%%:*}" ] || missing+=("${n#*:}"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release --locked -q
CARGO_TARGET_DIR=$target cargo build --release -q --manifest-path bench/floor/Cargo.toml
herald=$target/release/herald
floor=$target/release/herald-bench-floor
mkdir -p "$work"
tsv=$work/results.tsv
[ -n "${BENCH_APPEND:-}" ] || : >"$tsv"
pids=()
# The build section's outputs are removed only on exit: see bench_build.
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work/out"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
# timed SYSTEM METRIC CORPUS REP cmd...: run, append the wall time in ms to the TSV.
timed() {
  local sys=$1 metric=$2 name=$3 rep=$4; shift 4
  local t0 t1
  t0=$(now_ns)
  "$@" >/dev/null 2>>"$work/$name.$sys.log" || { echo "bench: $sys failed (see $work/$name.$sys.log)" >&2; return 1; }
  t1=$(now_ns)
  printf 'build\t%s\t%s\t%s\t%s\t%s\n' "$name" "$metric" "$sys" "$rep" "$(((t1 - t0) / 1000))e-3" >>"$tsv"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 3000); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

# unpack NAME: set $content to the corpus's content root (unpacking or generating it once).
unpack() {
  local name=$1 dir=$work/corpora/$1
  case $name in
    txt-head) content=$dir/content ;;
    *) content=$dir ;;
  esac
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  case $name in
    txt-head | gnews-2021)
      [ -f "$corpus/$name.tar.zst" ] || { echo "bench: $corpus/$name.tar.zst absent; $name skipped"; return 1; }
      zstd -qdc "$corpus/$name.tar.zst" | tar -x -C "$dir" ;;
    gen-100k)
      # unpack sets $content: to gnews-2021's here, so it is set back to this corpus after.
      unpack gnews-2021 || return 1
      content=$dir
      python3 bench/gen_corpus.py "$work/corpora/gnews-2021" "$dir" 100000 ;;
    *) echo "bench: unknown corpus $name"; return 1 ;;
  esac
  touch "$dir/.complete"
}

# hugo_site NAME: a Hugo site over a front-matter copy of the corpus; sets $site.
hugo_site() {
  site=$work/hugo/$1
  if [ ! -f "$site/.complete" ]; then
    rm -rf "$site" && mkdir -p "$site/content"
    python3 bench/to_hugo.py "$content" "$site/content"
    touch "$site/.complete"
  fi
  cat >"$site/hugo.toml" <<TOML
baseURL = "http://127.0.0.1/"
title = "Herald bench"
disableKinds = ["sitemap", "robotsTXT", "404", "section"]
[outputs]
home = ["RSS"]
taxonomy = ["RSS"]
term = ["RSS"]
page = []
[services.rss]
limit = 50
[frontmatter]
date = [":fileModTime"]
lastmod = [":fileModTime"]
publishDate = [":fileModTime"]
[taxonomies]
category = "categories"
# Pages are listed (in the feeds) but not rendered to files of their own.
[[cascade]]
[cascade._build]
render = "never"
list = "always"
[cascade._target]
kind = "page"
TOML
}

bench_build() {
  local name=$1 out=$work/out/$1
  echo "== build: $name ($(find "$content" -name '*.md' | wc -l) *.md files)"
  # Each timed build writes into a folder of its own, all removed when the script exits (an
  # interrupted run's leftovers just below): on an ext4 without a journal (this bench's
  # machines), creating files within a minute or more of deleting thousands scans past the
  # freed inodes (ext4's recently_deleted), which was up to 15 % of a gen-100k build's CPU
  # and no part of what a build on a fresh checkout pays. Removing each corpus's outputs
  # after its builds put that on the next corpus's builds.
  rm -rf "$out" "$out".*
  hugo_site "$name"
  # Warm-up (page cache, first runs).
  "$floor" "$content" >/dev/null
  "$herald" build --config "$repo/bench/herald.toml" --content "$content" --out "$out" >/dev/null 2>&1
  hugo --source "$site" --destination "$work/hugo-public/$name" --quiet >/dev/null 2>&1 || true
  for r in $(seq 1 "$reps"); do
    timed herald cold_build "$name" "$r" "$herald" build --config "$repo/bench/herald.toml" --content "$content" --out "$out.$r"
    timed floor cold_build "$name" "$r" "$floor" "$content"
    if [ "$r" -le "$hugo_reps" ]; then
      rm -rf "$work/hugo-public/$name"
      timed hugo cold_build "$name" "$r" hugo --source "$site" --destination "$work/hugo-public/$name" --quiet || true
    fi
  done
}

start_herald() { # NAME: sets $hpid $hport $hout
  hport=$(free_port)
  hout=$work/out-serve/$1
  rm -rf "$hout"
  local t0
  t0=$(now_ns)
  HERALD_LOG=info "$herald" serve --config "$repo/bench/herald.toml" --content "$content" --out "$hout" \
    --listen "127.0.0.1:$hport" 2>>"$work/$1.serve.log" &
  hpid=$!
  pids+=("$hpid")
  wait_http "http://127.0.0.1:$hport/healthz"
  printf 'memory\t%s\tstartup_ms\therald\t0\t%s\n' "$1" "$((($(now_ns) - t0) / 1000000))" >>"$tsv"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

bench_update() { # NAME (also memory)
  local name=$1
  echo "== update/memory: $name"
  start_herald "$name"
  sleep 2
  python3 bench/update.py herald "$hport" "$content" "$hout" "$hpid" "$tsv" "$name"
  stop_pid "$hpid"
  if has "$BENCH" update && has "$hugo_server_corpora" "$name"; then
    hugo_site "$name"
    local port
    port=$(free_port)
    local t0
    t0=$(now_ns)
    hugo server --source "$site" --port "$port" --bind 127.0.0.1 --disableLiveReload --disableFastRender \
      --watch --quiet >>"$work/$name.hugo-server.log" 2>&1 &
    local hugopid=$!
    pids+=("$hugopid")
    if wait_http "http://127.0.0.1:$port/index.xml"; then
      printf 'memory\t%s\tstartup_ms\thugo\t0\t%s\n' "$name" "$((($(now_ns) - t0) / 1000000))" >>"$tsv"
      python3 bench/update.py hugo "$port" "$site/content" - "$hugopid" "$tsv" "$name" || true
    else
      echo "  hugo server did not come up on $name"
    fi
    stop_pid "$hugopid"
  fi
}

# wrk_run SYSTEM TEST URL [headers...]: requests/s and p99 into the TSV.
wrk_run() {
  local sys=$1 test=$2 url=$3 name=$4 rep=$5; shift 5
  local args=() h
  for h in "$@"; do args+=(-H "$h"); done
  local outp
  outp=$(wrk -t2 -c64 -d"${wrk_s}s" --latency "${args[@]}" "$url")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$outp")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$outp")
  if grep -q "Non-2xx" <<<"$outp" && [ "$test" != 304 ]; then echo "  warning: $sys $test: non-2xx responses" >&2; fi
  printf 'serve\t%s\t%s_rps\t%s\t%s\t%s\n' "$name" "$test" "$sys" "$rep" "$rps" >>"$tsv"
  printf 'serve\t%s\t%s_p99_ms\t%s\t%s\t%s\n' "$name" "$test" "$sys" "$rep" "$p99" >>"$tsv"
}

bench_serve() {
  local name=$1
  echo "== serve: $name (wrk -t2 -c64 -d${wrk_s}s, $reps rounds)"
  start_herald "$name"
  local h=http://127.0.0.1:$hport feed=/feeds/all.rss
  # nginx serves the very bytes Herald serves, with the same headers.
  local ng=$work/nginx root=$work/nginx/root
  rm -rf "$ng" && mkdir -p "$root/feeds" "$ng/tmp"
  curl -sf -o "$root$feed" "$h$feed"
  curl -sf -H 'Accept-Encoding: gzip' -o "$root$feed.gz" "$h$feed"
  touch -r "$root$feed" "$root$feed.gz"
  local nport
  nport=$(free_port)
  cat >"$ng/nginx.conf" <<CONF
worker_processes $(nproc);
pid $ng/nginx.pid;
error_log $ng/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $ng/tmp; proxy_temp_path $ng/tmp; fastcgi_temp_path $ng/tmp;
  uwsgi_temp_path $ng/tmp; scgi_temp_path $ng/tmp;
  types { application/rss+xml rss; application/atom+xml atom; }
  charset utf-8; charset_types application/rss+xml application/atom+xml;
  sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    root $root;
    etag on; gzip_static on; gzip_vary on;
    location /feeds/ {
      add_header Cache-Control "public, max-age=300" always;
      add_header X-Content-Type-Options nosniff always;
      add_header Access-Control-Allow-Origin "*" always;
    }
    location = /healthz { return 200 "ok"; }
  }
}
CONF
  "$nginx_bin" -c "$ng/nginx.conf" &
  local npid=$!
  pids+=("$npid")
  local n=http://127.0.0.1:$nport
  wait_http "$n/healthz"
  cmp -s "$root$feed" <(curl -s "$n$feed") || echo "  warning: nginx bytes differ" >&2
  local het net
  het=$(curl -sI "$h$feed" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag" {print $2}')
  net=$(curl -sI "$n$feed" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag" {print $2}')
  for r in $(seq 1 "$reps"); do
    wrk_run herald plain "$h$feed" "$name" "$r"
    wrk_run nginx plain "$n$feed" "$name" "$r"
    wrk_run herald gzip "$h$feed" "$name" "$r" "Accept-Encoding: gzip"
    wrk_run nginx gzip "$n$feed" "$name" "$r" "Accept-Encoding: gzip"
    wrk_run herald br "$h$feed" "$name" "$r" "Accept-Encoding: br"
    wrk_run herald 304 "$h$feed" "$name" "$r" "If-None-Match: $het"
    wrk_run nginx 304 "$n$feed" "$name" "$r" "If-None-Match: $net"
    wrk_run herald healthz "$h/healthz" "$name" "$r"
    wrk_run nginx healthz "$n/healthz" "$name" "$r"
  done
  stop_pid "$npid"
  stop_pid "$hpid"
}

IFS=, read -ra names <<<"$corpora"
for name in "${names[@]}"; do
  unpack "$name" || continue
  if has "$BENCH" build; then bench_build "$name"; fi
  if has "$BENCH" update || has "$BENCH" memory; then bench_update "$name"; fi
  if has "$BENCH" serve && has "$serve_corpora" "$name"; then bench_serve "$name"; fi
done

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
python3 bench/report.py "$tsv" "$machine" | tee "$work/results.md"
