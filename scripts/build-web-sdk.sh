#!/usr/bin/env bash
# Builds the browser tracker into crow-web-sdk/dist (which crow-server embeds and serves at /sdk/):
#   crow.js               the loader (the one <script> tag)
#   crow_web_sdk.js       wasm-bindgen's ES-module glue
#   crow_web_sdk_bg.wasm  the tracker
# and beside each a .gz and a .br, which crow-server serves to browsers that accept them.
# Installs what it needs, idempotently: the wasm32 target, wasm-bindgen-cli pinned to the
# wasm-bindgen crate version, binaryen's wasm-opt + terser from npm (Debian's binaryen 108
# emits wasm that Chromium rejects) and Debian's zopfli. Prints each file's size: raw, as
# served gzipped and as served with brotli.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130 # = the `wasm-bindgen` pin in crow-web-sdk/Cargo.toml
sdk=crow-web-sdk
out=target/web-sdk
dist=$sdk/dist

command -v zopfli >/dev/null || { apt-get update -qq && apt-get install -y -qq zopfli; }
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
"$bin/wasm-opt" -Oz $features --strip-debug --strip-producers --strip-target-features --minify-imports-and-exports-and-modules \
  "$out/crow_web_sdk_bg.wasm" -o "$out/minified.wasm" > "$out/names.json"
# shellcheck disable=SC2086
"$bin/wasm-opt" -Oz $features "$out/minified.wasm" -o "$dist/crow_web_sdk_bg.wasm"
node "$sdk/js/minify-names.mjs" "$out/names.json" "$out/crow_web_sdk.js" "$out/crow_web_sdk.min-names.js"
"$bin/terser" "$out/crow_web_sdk.min-names.js" --module --compress passes=2,unsafe_arrows,ecma=2020 --mangle -o "$dist/crow_web_sdk.js"
"$bin/terser" "$sdk/loader/crow.js" --compress passes=2 --mangle --comments false -o "$dist/crow.js"

# crow-server serves each file precompressed, as the browser accepts: brotli (quality 11) or
# gzip written by zopfli (a slower deflate search, ≈ 5 % smaller than gzip -9, read by every
# gzip decoder; deterministic, no name or time in the header).
node "$sdk/js/precompress.mjs" "$dist/crow.js" "$dist/crow_web_sdk.js" "$dist/crow_web_sdk_bg.wasm"
total=0
total_br=0
for f in crow.js crow_web_sdk.js crow_web_sdk_bg.wasm; do
  zopfli -c "$dist/$f" > "$dist/$f.gz"
  raw=$(wc -c <"$dist/$f")
  gz=$(wc -c <"$dist/$f.gz")
  br=$(wc -c <"$dist/$f.br")
  total=$((total + gz))
  total_br=$((total_br + br))
  printf '%-22s %7d bytes  %6d gzipped  %6d brotli\n' "$f" "$raw" "$gz" "$br"
done
printf '%-22s %7s        %6d gzipped  %6d brotli (loader + glue + wasm)\n' total "" "$total" "$total_br"
