#!/usr/bin/env bash
# The one command that checks everything: it installs what the checks need (idempotently), then
# runs formatting, clippy with warnings denied, the wasm32 build of crow-core, and every test.
# README.md documents it; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

step "Node packages for the Better Auth compatibility test"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
lock=tests/better-auth/package-lock.json
stamp=tests/better-auth/node_modules/.crow-lock
if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
  (cd tests/better-auth && npm ci --no-audit --no-fund --loglevel=error)
  cp "$lock" "$stamp"
fi

step "headless Chromium for the browser tests"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

step "web tracker (wasm-bindgen-cli, binaryen, terser, playwright-core; then the build)"
bash scripts/build-web-sdk.sh
# The build is deterministic; crow-server embeds the committed files, so they must be current.
# The compressed copies are left out of this byte comparison: another brotli or zopfli release
# may pack the same bytes differently. crow-server's tests check that each decodes to its file.
built=(crow-web-sdk/dist ':(exclude)crow-web-sdk/dist/*.br' ':(exclude)crow-web-sdk/dist/*.gz')
if ! git diff --quiet -- "${built[@]}"; then
  echo "crow-web-sdk/dist is stale: commit the files scripts/build-web-sdk.sh just built" >&2
  git --no-pager diff --stat -- "${built[@]}" >&2
  exit 1
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo clippy for the tracker's browser code (wasm32)"
cargo clippy -p crow-web-sdk --target wasm32-unknown-unknown --locked -- -D warnings

step "crow-core builds for wasm32 with default features off"
cargo build -p crow-core --no-default-features --target wasm32-unknown-unknown --locked

step "cargo test"
cargo test --workspace --locked
