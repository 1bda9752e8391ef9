#!/usr/bin/env bash
# Publish policies and tenants as the ConfigMaps the Deployment mounts.
#
#   deploy/kubernetes/configmaps.sh [POLICY_DIR] [TENANTS_FILE]    (defaults: policies/, config/tenants.yaml)
#
# Run `frontdesk check` on the same files first. The ConfigMaps keep a stable name and are updated
# in place: the kubelet refreshes the mounted files in the running pods (within about a minute)
# and frontdesk hot-reloads them — all or nothing; a rejected change leaves the old policy serving
# and raises FrontdeskPolicyReloadFailed. Extra arguments after the two paths go to
# `kubectl apply` (for example `--namespace practice`).
set -euo pipefail

policy_dir=${1:-policies}
tenants_file=${2:-config/tenants.yaml}
shift $(( $# > 2 ? 2 : $# ))

if [[ ! -d $policy_dir ]]; then
    echo "configmaps.sh: policy directory '$policy_dir' not found" >&2
    exit 1
fi
if [[ ! -f $tenants_file ]]; then
    echo "configmaps.sh: tenants file '$tenants_file' not found" >&2
    exit 1
fi

# `create --dry-run=client -o yaml | apply` is the idempotent create-or-update.
kubectl create configmap frontdesk-policies --from-file="$policy_dir" \
    --dry-run=client -o yaml | kubectl label --local -f - app.kubernetes.io/name=frontdesk -o yaml \
    | kubectl apply "$@" -f -
kubectl create configmap frontdesk-tenants --from-file=tenants.yaml="$tenants_file" \
    --dry-run=client -o yaml | kubectl label --local -f - app.kubernetes.io/name=frontdesk -o yaml \
    | kubectl apply "$@" -f -
