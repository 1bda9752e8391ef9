#!/usr/bin/env bash
# The end-to-end load run of `make bench`: installs what is missing (nginx, Redis, oha, the font
# library the plots need), builds frontdesk (release) and the load tool, and runs it.
#
#   bench/run.sh            full run (≈10 min): results, plots, docs/benchmarks.md
#   bench/run.sh --quick    smoke test (≈1 min): results under bench/results/quick/, docs untouched
#   bench/run.sh --help     every option of the tool
#
# LOADRUN_SKIP_BUILD=1 skips the frontdesk build (when the caller has just built it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

scripts/install-deps.sh bench
# plotters finds its font through fontconfig; its build needs the headers and pkg-config.
if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists fontconfig; then
  echo "installing: pkg-config libfontconfig1-dev" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends pkg-config libfontconfig1-dev >/dev/null
fi
if ! command -v oha >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/oha" ]; then
  echo "installing: oha (cargo install)" >&2
  "$cargo" install oha --locked
fi

if [ "${LOADRUN_SKIP_BUILD:-}" != 1 ]; then
  "$cargo" build --release --locked -p frontdesk
fi
# The tool is its own workspace; it builds into the ignored target/ without taking the main lock.
CARGO_TARGET_DIR="$root/target/loadrun" "$cargo" build --release --locked --quiet \
  --manifest-path bench/loadrun/Cargo.toml

REDIS_URL="$(scripts/ensure-redis.sh)"
export REDIS_URL
exec "$root/target/loadrun/release/loadrun" --repo "$root" "$@"
