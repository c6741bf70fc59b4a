#!/bin/sh
# The long load run: a seeded replay of repository changes (adds, edits, deletes, renames,
# moves, 200-file `git pull` bursts) against a running Herald while four threads hammer it
# with plain, gzip and conditional GETs. After every step the served feeds must equal a cold
# build; every response must be whole, carry the ETag of its bytes and be a published
# version. Prints requests served and the longest latency.
#
#   bench/replay.sh [STEPS] [SECONDS]      # defaults: 2000 steps, stop after 600 s
#
# It is the test `consistency::under_load_every_response_is_whole_current_and_never_mixed`
# (10 steps in `cargo test`), run in release mode with more steps.
set -eu
cd "$(dirname "$0")/.."
HERALD_REPLAY_STEPS="${1:-2000}" HERALD_REPLAY_SECONDS="${2:-600}" \
  exec cargo test --release --test integration \
  consistency::under_load_every_response_is_whole_current_and_never_mixed -- --exact --nocapture
