#!/usr/bin/env bash
# Prints the path of a Python that has the independent parsers the integration tests check
# frontdesk's output with (the calendar feed: `icalendar`), installing them, pinned, into
# target/test-python when missing. Idempotent and quick when already installed; the tests
# call it themselves, and `make unit` runs it before them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${TEST_PYTHON_DIR:-$root/target/test-python}
pins="icalendar==6.3.1"
mkdir -p "$(dirname "$dir")"
# Parallel test processes install once.
exec 9>"$dir.lock"
flock 9
if [[ -x $dir/bin/python && $(cat "$dir/.pins" 2>/dev/null) == "$pins" ]]; then
    echo "$dir/bin/python"
    exit 0
fi
{
    rm -rf "$dir"
    if ! python3 -m venv "$dir" && command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
        $sudo apt-get update >/dev/null
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >/dev/null
        rm -rf "$dir" && python3 -m venv "$dir"
    fi
    # shellcheck disable=SC2086 # a list of requirement specifiers
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $pins
    echo "$pins" >"$dir/.pins"
} >&2
echo "$dir/bin/python"
