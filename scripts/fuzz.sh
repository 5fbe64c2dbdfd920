#!/usr/bin/env bash
# Coverage-guided fuzzing of the hand-written wire code (crow_server::fuzzing): each target in
# fuzz/ runs for SECONDS (default 120), starting from the seeds in fuzz/seeds and the corpus
# kept from earlier runs in fuzz/corpus. Stops at the first broken property; libFuzzer saves
# the input in fuzz/artifacts/<target>/ (replay it: cargo +nightly fuzz run <target> <file>).
# Installs what it needs, idempotently: a nightly toolchain and cargo-fuzz. Not part of CI
# (nightly only); `cargo test` replays the seeds and mutations of them on stable.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${1:-120}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2
cargo +nightly fuzz build -O
for target in request_head chunked_body answer_head tracker_event; do
  mkdir -p "corpus/$target" && rm -rf "artifacts/$target"
  echo "fuzzing $target for ${SECONDS_EACH}s"
  cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=9000 -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|thread|.*panicked)' || true
  # A failure leaves an artifact behind; the run above only filters the log.
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "$target: a property broke; the input is in fuzz/artifacts/$target/"; exit 1
  fi
done
