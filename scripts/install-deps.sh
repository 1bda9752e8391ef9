#!/usr/bin/env bash
# Installs the system packages a target needs, only when missing (Debian; needs root or sudo).
set -euo pipefail
need=()
want() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
case "${1:-build}" in
  build) want cmake cmake; want cc build-essential; want c++ build-essential ;;
  test) want cmake cmake; want cc build-essential; want redis-server redis-server; want promtool prometheus; want pg_isready postgresql; want openssl openssl ;;
  postgres) want pg_isready postgresql ;;
  bench) want redis-server redis-server; want nginx nginx ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
