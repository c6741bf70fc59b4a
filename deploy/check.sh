#!/usr/bin/env bash
# Two Herald replicas behind nginx (deploy/nginx.conf), all on 127.0.0.1, and what the
# production guide promises about them:
#   1. both replicas serve byte-identical feeds with identical ETag and Last-Modified;
#   2. cache hits are served without touching a replica;
#   3. after an article changes (git pull on both), nginx revalidates and serves the new
#      feed once max-age has passed; unchanged feeds are revalidated with a 304;
#   4. a replica killed with SIGKILL under load costs zero failed requests;
#   5. wrk through the cache: requests/s, p99 and the hit ratio (figures, not assertions).
# Usage: deploy/check.sh            (HERALD_BIN=path/to/herald to skip the cargo build)
# Needs nginx, wrk, git, curl, python3. Exits 0 with "skipped" when nginx is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "deploy check: nginx is not installed; skipped"
  exit 0
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
herald=${HERALD_BIN:-}
if [ -z "$herald" ]; then
  cargo build --release --locked -q
  herald=$repo/target/release/herald
fi
max_age=2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  # nginx and the replicas may still be writing their logs for a moment.
  for _ in 1 2 3 4 5; do rm -rf "$work" 2>/dev/null && break; sleep 0.5; done
  return 0
}
trap cleanup EXIT
fail() {
  echo "deploy check: FAILED: $*" >&2
  # What the replicas logged last: the next step to look at when a change is not served.
  for log in "$work"/a.log "$work"/b.log; do
    [ -f "$log" ] && { echo "--- last lines of $log" >&2; tail -n 15 "$log" >&2; }
  done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done; fail "nothing answers on port $1"; }
git_() { git -c user.name=herald -c user.email=herald@example.org "$@"; }

# The repository: the in-tree sample as a git checkout, cloned once per replica. Dates come
# from git history, which clones share; mtimes would differ between machines.
mkdir -p "$work/origin"
cp -r sample/. "$work/origin/"
git_ -C "$work/origin" init -q
git_ -C "$work/origin" add -A
GIT_COMMITTER_DATE="2025-01-01T00:00:00Z" GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" git_ -C "$work/origin" commit -qm sample
git_ clone -q "$work/origin" "$work/a"
git_ clone -q "$work/origin" "$work/b"

pa=$(free_port); pb=$(free_port); pn=$(free_port)
cat > "$work/herald.toml" <<TOML
[site]
title = "Herald behind nginx"
base_url = "http://127.0.0.1:$pn"
id_authority = "feeds.example.org,2026"
[server]
max_age_seconds = $max_age
TOML
start_replica() { # name port
  "$herald" serve --config "$work/herald.toml" --content "$work/$1" --out "$work/out-$1" --listen "127.0.0.1:$2" \
    >>"$work/$1.log" 2>&1 &
  pids+=($!)
  eval "pid_$1=$!"
  wait_up "$2"
}
start_replica a "$pa"
start_replica b "$pb"

# nginx runs deploy/nginx.conf itself, with loopback ports and a private cache folder.
sed -e "s/127.0.0.1:8081/127.0.0.1:$pa/; s/127.0.0.1:8082/127.0.0.1:$pb/" \
    -e "s/listen 80;/listen 127.0.0.1:$pn;/" \
    -e "s#/var/cache/nginx/herald#$work/cache#" deploy/nginx.conf > "$work/herald.conf"
cat > "$work/nginx.conf" <<NGINX
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
    access_log $work/access.log combined;
    log_format herald '\$upstream_cache_status \$upstream_addr \$status \$upstream_status';
    access_log $work/cache.log herald;
    log_subrequest on; # the background revalidation is a subrequest
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    include $work/herald.conf;
}
NGINX
mkdir -p "$work/tmp"
"$nginx_bin" -t -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 || { "$nginx_bin" -t -c "$work/nginx.conf" -p "$work"; fail "nginx rejects deploy/nginx.conf"; }
"$nginx_bin" -c "$work/nginx.conf" -p "$work"
wait_up "$pn"

# 1. Byte-identical replicas.
identical() {
  local n=0
  for f in "$work"/out-a/*.rss "$work"/out-a/*.atom; do
    local name; name=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$(basename "$f")")
    for port in "$pa" "$pb"; do
      curl -sf -D "$work/h-$port" -o "$work/b-$port" "http://127.0.0.1:$port/feeds/$name" || fail "replica $port does not serve $name"
    done
    cmp -s "$work/b-$pa" "$work/b-$pb" || fail "replicas differ on $name"
    [ "$(grep -i '^etag:' "$work/h-$pa")" = "$(grep -i '^etag:' "$work/h-$pb")" ] || fail "ETags differ on $name"
    [ "$(grep -i '^last-modified:' "$work/h-$pa")" = "$(grep -i '^last-modified:' "$work/h-$pb")" ] || fail "Last-Modified differs on $name"
    n=$((n + 1))
  done
  echo "$n"
}
echo "1. replicas byte-identical (body, ETag, Last-Modified): $(identical) feeds"

# 2. Hits do not reach a replica.
url="http://127.0.0.1:$pn/feeds/all.atom"
curl -sf -o /dev/null "$url"
curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "$url"
: > "$work/cache.log"
for _ in $(seq 1 100); do curl -sf -o /dev/null "$url"; curl -sf -o /dev/null -H 'Accept-Encoding: gzip, deflate' "$url"; done
upstream=$(awk '$2 != "-"' "$work/cache.log" | wc -l)
hits=$(awk '$1 == "HIT"' "$work/cache.log" | wc -l)
echo "2. 200 requests through the cache: $hits hits, $upstream reached a replica"
[ "$hits" -ge 190 ] || fail "expected cache hits, got $hits of 200"
gz=$(curl -sf -D - -o /dev/null -H 'Accept-Encoding: gzip' "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
[ "$gz" = gzip ] || fail "gzip not passed through (Content-Encoding: '$gz')"

# 3. A change reaches readers once max-age has passed; an unchanged feed revalidates with 304.
sleep $((max_age + 1))
: > "$work/cache.log"
status=$(curl -sf -D - -o /dev/null "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache-status"{print $2}')
sleep 0.5 # the background update's log line
revalidated=$(awk '$4 == "304"' "$work/cache.log" | wc -l)
echo "3a. stale entry, unchanged feed: X-Cache-Status $status; replica answered the revalidation with 304: $revalidated"
[ "$revalidated" -ge 1 ] || { cat "$work/cache.log"; fail "no 304 revalidation reached a replica"; }
article=$(cd "$work/origin" && git ls-files '*.md' | grep -v README | head -1)
python3 - "$work/origin/$article" <<'PY'
import sys, re
p = sys.argv[1]
t = open(p, encoding="utf-8").read()
if re.search(r'^title:', t, re.M):
    t = re.sub(r'^title:.*$', 'title: "Changed behind the cache"', t, count=1, flags=re.M)
else:
    t = re.sub(r'^## .*$', '## Changed behind the cache', t, count=1, flags=re.M)
open(p, "w", encoding="utf-8").write(t)
PY
GIT_COMMITTER_DATE="2025-02-01T00:00:00Z" GIT_AUTHOR_DATE="2025-02-01T00:00:00Z" git_ -C "$work/origin" commit -qam change
changed_at=$(date +%s.%N)
git_ -C "$work/a" pull -q; git_ -C "$work/b" pull -q
for _ in $(seq 1 300); do
  curl -sf "$url" | grep -q "Changed behind the cache" && break
  sleep 0.1
done
curl -sf "$url" | grep -q "Changed behind the cache" || fail "the change never reached the cache"
seen=$(python3 -c "import time; print(f'{time.time() - $changed_at:.1f}')")
echo "3b. change served through the cache ${seen}s after the commit (max-age ${max_age}s)"
sleep 1
echo "    replicas still byte-identical after the change: $(identical) feeds"

# 4. A replica killed under load: no failed request. /healthz is never cached, so every
#    request goes to a replica.
command -v wrk >/dev/null || { echo "4-5. wrk is not installed; skipped"; exit 0; }
( sleep 2; kill -9 "$pid_a" ) &
killer=$!
wrk -t2 -c16 -d6s "http://127.0.0.1:$pn/healthz" > "$work/wrk-kill.txt" 2>&1
wait "$killer"
failed=$(awk '/Non-2xx or 3xx/ {print $NF} /Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$work/wrk-kill.txt" | paste -sd+ | bc 2>/dev/null || echo 0)
served=$(awk '/requests in/ {print $1}' "$work/wrk-kill.txt")
echo "4. replica a killed (SIGKILL) during 6 s of load: $served requests, ${failed:-0} failed"
[ "${failed:-0}" = 0 ] || { cat "$work/wrk-kill.txt"; fail "requests failed while a replica died"; }
start_replica a "$pa"
echo "   replica a restarted; byte-identical again: $(identical) feeds"

# 5. Load through the cache (figures for the README; this machine is shared and noisy).
: > "$work/cache.log"
wrk -t2 -c64 -d5s --latency -H 'Accept-Encoding: gzip' "$url" > "$work/wrk.txt" 2>&1
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
total=$(wc -l < "$work/cache.log"); hits=$(awk '$1 == "HIT"' "$work/cache.log" | wc -l)
echo "5. wrk -t2 -c64 -d5s, gzip, through nginx: $rps requests/s, p99 $p99, hit ratio $hits/$total"
echo "deploy check: passed"
