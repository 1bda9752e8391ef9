#!/usr/bin/env bash
# Prints the URL of a reachable Redis: $REDIS_URL, else 127.0.0.1:6379, else one started here on a
# free port (installed when missing). Under CI=true, no Redis at all is a failure, never a skip.
set -euo pipefail
reachable() { # host port
  exec 3<>"/dev/tcp/$1/$2" 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply; read -r -t 2 reply <&3 || true
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}
hostport() { local rest="${1#redis://}"; rest="${rest#*@}"; rest="${rest%%/*}"; echo "${rest%:*} ${rest##*:}"; }

if [ -n "${REDIS_URL:-}" ]; then
  if reachable $(hostport "$REDIS_URL"); then echo "$REDIS_URL"; exit 0; fi
  echo "REDIS_URL=$REDIS_URL is not reachable" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
if reachable 127.0.0.1 6379; then echo "redis://127.0.0.1:6379"; exit 0; fi

command -v redis-server >/dev/null || "$(dirname "$0")/install-deps.sh" test >&2
dir="$(cd "$(dirname "$0")/.." && pwd)/target/redis"
mkdir -p "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
for _ in $(seq 1 100); do
  if reachable 127.0.0.1 "$port"; then echo "redis://127.0.0.1:$port"; exit 0; fi
  sleep 0.1
done
echo "could not start redis-server (see $dir/redis.log)" >&2
exit 1
