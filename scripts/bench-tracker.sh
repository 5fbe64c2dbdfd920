#!/usr/bin/env bash
# Tracker weight and main-thread time per captured click, CROW beside posthog-js and Snowplow
# (their npm packages, pinned in crow-web-sdk/js/package.json), in one headless-Chromium run.
# Builds the tracker first (which installs the npm packages); installs Chromium if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
bash scripts/build-web-sdk.sh
node crow-web-sdk/js/bench.mjs
