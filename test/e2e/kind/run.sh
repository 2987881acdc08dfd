#!/usr/bin/env bash
# The end-to-end suite (test/e2e/journey.test.ts) on a kind cluster, for machines with Docker:
# a two-node kind cluster, the image built from this checkout and loaded into it, then the same
# jest suite `npm test` runs against the local control plane, pointed at this cluster. The suite
# installs the chart itself (with this image), and runs the collector's PostgreSQL and a webhook
# receiver on this machine, at the kind network's gateway, which the pods reach.
#
#   test/e2e/kind/run.sh                 # from any folder
#
# Environment: CLUSTER_NAME (default edgewarden-e2e), KEEP_CLUSTER=1 (keep it after a pass; it
# is always kept after a failure), SKIP_BUILD=1 (load an existing edgewarden:e2e image),
# KIND_NODE_IMAGE (kind's --image). What it needs and what it does: README.md beside this file.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE=$ROOT/test/e2e/kind
CLUSTER=${CLUSTER_NAME:-edgewarden-e2e}
IMAGE=edgewarden:e2e
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgewarden-kind.XXXXXX")
# A kubeconfig of its own: the user's ~/.kube/config is neither read nor changed.
export KUBECONFIG=$WORK/kubeconfig
CREATED=0

log() { printf '\n== %s\n' "$*"; }
fail() {
  printf '\nFAILED: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not on the PATH: $2"; }

finish() {
  local status=$?
  if ((status != 0)); then
    if ((CREATED)); then
      kubectl get nodes,pods -A -o wide || true
      printf '\nThe cluster is kept for a look:\n  export KUBECONFIG=%s\n' "$KUBECONFIG"
      printf 'Remove it with: kind delete cluster --name %s\n' "$CLUSTER"
    fi
  elif [[ ${KEEP_CLUSTER:-0} == 1 ]]; then
    printf '\nPASSED. The cluster is kept:\n  export KUBECONFIG=%s\n' "$KUBECONFIG"
  else
    kind delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG"
    rm -rf "$WORK"
    printf '\nPASSED\n'
  fi
  exit "$status"
}
trap finish EXIT

need docker 'https://docs.docker.com/engine/install/'
need kind 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation'
need kubectl 'https://kubernetes.io/docs/tasks/tools/'
need helm 'https://helm.sh/docs/intro/install/ (Helm 3)'
need node 'Node.js 20 or later'
need npm 'npm, with Node.js'
[[ -x /usr/lib/postgresql/16/bin/postgres || -x /usr/lib/postgresql/15/bin/postgres ]] ||
  fail "PostgreSQL's server binaries are missing: the suite runs the collector's database on this machine (Debian: apt-get install postgresql)"
docker info >/dev/null 2>&1 || fail 'docker cannot reach a Docker daemon'
if kind get clusters 2>/dev/null | grep -x "$CLUSTER" >/dev/null; then
  fail "a kind cluster named $CLUSTER exists: delete it (kind delete cluster --name $CLUSTER) or set CLUSTER_NAME"
fi

log "kind cluster $CLUSTER (kubeconfig $KUBECONFIG)"
CREATED=1
kind create cluster --name "$CLUSTER" --config "$HERE/kind-config.yaml" \
  --kubeconfig "$KUBECONFIG" --wait 5m ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}
kubectl get nodes -o wide

log "image $IMAGE"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  (cd "$ROOT" && docker build -t "$IMAGE" .)
fi
kind load docker-image "$IMAGE" --name "$CLUSTER"

# This machine as kind's pods reach it: the IPv4 gateway of docker's `kind` network.
HOST_ADDRESS=$(docker network inspect kind \
  -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -E '^[0-9.]+$' | head -1)
[[ -n $HOST_ADDRESS ]] || fail "no IPv4 gateway on docker's kind network"
log "the suite, against the cluster; this machine is $HOST_ADDRESS to its pods"

cd "$ROOT"
[[ -d node_modules ]] || npm ci
npm run build --silent
EDGEWARDEN_E2E_KUBECONFIG=$KUBECONFIG \
  EDGEWARDEN_E2E_HOST_ADDRESS=$HOST_ADDRESS \
  EDGEWARDEN_E2E_IMAGE=$IMAGE \
  EDGEWARDEN_KUBECTL=$(command -v kubectl) \
  EDGEWARDEN_HELM=$(command -v helm) \
  node --experimental-vm-modules node_modules/jest/bin/jest.js \
  --config jest.e2e.config.js test/e2e/journey.test.ts
