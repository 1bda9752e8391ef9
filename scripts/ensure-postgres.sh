#!/usr/bin/env bash
# Prints the URL of a reachable PostgreSQL whose user may create databases (tests make one per
# test and drop it): $DATABASE_URL, else postgres@127.0.0.1:5432, else a server started here on
# a free port with TLS on (installed when missing). Under CI=true, no PostgreSQL at all is a
# failure.
set -euo pipefail
reachable() { pg_isready -q -d "$1" -t 2 2>/dev/null && psql "$1" -qtAc 'SELECT 1' >/dev/null 2>&1; }

command -v pg_isready >/dev/null || "$(dirname "$0")/install-deps.sh" postgres >&2
if [ -n "${DATABASE_URL:-}" ]; then
  if reachable "$DATABASE_URL"; then echo "$DATABASE_URL"; exit 0; fi
  echo "DATABASE_URL is set but not reachable" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
local_url="postgres://postgres@127.0.0.1:5432/postgres"
if reachable "$local_url"; then echo "$local_url"; exit 0; fi

# A throwaway cluster under target/ (trust auth on loopback only), run as the invoking user
# (PostgreSQL refuses root: then as the `postgres` system user).
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
dir="$(cd "$(dirname "$0")/.." && pwd)/target/postgres"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
mkdir -p "$dir"; [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
if [ ! -f "$dir/data/PG_VERSION" ]; then
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >&2
  # TLS as a packaged server offers it: a self-signed certificate for localhost.
  "${as[@]}" openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost \
    -keyout "$dir/data/server.key" -out "$dir/data/server.crt" 2>/dev/null
fi
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c ssl=on" start >&2
url="postgres://postgres@127.0.0.1:$port/postgres"
if reachable "$url"; then echo "$url"; exit 0; fi
echo "could not start PostgreSQL (see $dir/log)" >&2
exit 1
