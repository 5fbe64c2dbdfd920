#!/usr/bin/env bash
# Builds the browser tracker into crow-web-sdk/dist (which crow-server embeds and serves at /sdk/):
#   crow.js               the loader (the one <script> tag)
#   crow_web_sdk.js       wasm-bindgen's ES-module glue
#   crow_web_sdk_bg.wasm  the tracker
# Installs what it needs, idempotently: the wasm32 target, wasm-bindgen-cli pinned to the
# wasm-bindgen crate version, and binaryen's wasm-opt + terser from npm (Debian's binaryen 108
# emits wasm that Chromium rejects). Prints each file's size, raw and gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130 # = the `wasm-bindgen` pin in crow-web-sdk/Cargo.toml
sdk=crow-web-sdk
out=target/web-sdk
dist=$sdk/dist

rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
stamp=$sdk/js/node_modules/.crow-lock
if [ ! -f "$stamp" ] || ! cmp -s "$sdk/js/package-lock.json" "$stamp"; then
  (cd "$sdk/js" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$sdk/js/package-lock.json" "$stamp"
fi
bin=$sdk/js/node_modules/.bin

cargo build -p crow-web-sdk --lib --target wasm32-unknown-unknown --profile wasm-size --locked
rm -rf "$out" && mkdir -p "$out" "$dist"
wasm-bindgen --target web --no-typescript --encode-into always --out-dir "$out" target/wasm32-unknown-unknown/wasm-size/crow_web_sdk.wasm
# Only features every current browser has (--all-features emits imports Chromium rejects).
# Import/export names are shortened in the wasm (wasm-opt prints the mapping) and then in the
# glue (minify-names.mjs), since wasm-bindgen's names carry incompressible hashes. A second -Oz
# round finds what the first one's changes made removable (--converge would print the mapping
# once per round).
features="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
  --enable-reference-types --enable-multivalue"
# shellcheck disable=SC2086 # $features is a list of flags
"$bin/wasm-opt" -Oz $features --strip-debug --strip-producers --minify-imports-and-exports-and-modules \
  "$out/crow_web_sdk_bg.wasm" -o "$out/minified.wasm" > "$out/names.json"
# shellcheck disable=SC2086
"$bin/wasm-opt" -Oz $features "$out/minified.wasm" -o "$dist/crow_web_sdk_bg.wasm"
node "$sdk/js/minify-names.mjs" "$out/names.json" "$out/crow_web_sdk.js" "$out/crow_web_sdk.min-names.js"
"$bin/terser" "$out/crow_web_sdk.min-names.js" --module --compress passes=2 --mangle -o "$dist/crow_web_sdk.js"
"$bin/terser" "$sdk/loader/crow.js" --compress passes=2 --mangle --comments false -o "$dist/crow.js"

total=0
for f in crow.js crow_web_sdk.js crow_web_sdk_bg.wasm; do
  raw=$(wc -c <"$dist/$f")
  gz=$(gzip -9 -c "$dist/$f" | wc -c)
  total=$((total + gz))
  printf '%-22s %7d bytes  %6d gzipped\n' "$f" "$raw" "$gz"
done
printf '%-22s %7s        %6d gzipped (loader + glue + wasm)\n' total "" "$total"
