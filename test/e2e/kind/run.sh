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
# is always kept after a failure), SKIP_BUILD=1 (load the existing edgewarden:ci image),
# KIND_NODE_IMAGE (kind's --image; unset: the node image node-image.sh makes from local parts;
# `default`: kind's own default image). What it needs and what it does: README.md beside this.
set -euo pipefail
# One compound command, read whole before it runs: an edit of this file during a run cannot
# make bash resume mid-file (and, say, run the suite again without the cluster's variables).
{

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE=$ROOT/test/e2e/kind
# shellcheck source=../../control-plane/versions.env
source "$ROOT/test/control-plane/versions.env"
CLUSTER=${CLUSTER_NAME:-edgewarden-e2e}
# The image scripts/image/build.sh builds from the Dockerfile (edgewarden:ci).
IMAGE=$(sed -n 's/^IMAGE=//p' "$ROOT/scripts/image/versions.env")
TOOLS=${EDGEWARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgewarden-tools}
# kind, kubectl and helm as test/control-plane/build-binaries.sh builds them (the versions of
# versions.env; node-image.sh builds them when missing), ahead of any on the PATH.
export PATH=$TOOLS/kind-$KIND_VERSION:$TOOLS/kubernetes-$KUBERNETES_VERSION:$TOOLS/helm-$HELM_VERSION:$PATH
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
docker info >/dev/null 2>&1 || fail 'docker cannot reach a Docker daemon'

# The node image. No registry is reachable from this project's machines, so by default it is
# made here from local parts (node-image.sh: seconds when it is already made).
case ${KIND_NODE_IMAGE:-} in
  '')
    log 'kind node image (node-image.sh)'
    started=$SECONDS
    NODE_IMAGE=$(bash "$HERE/node-image.sh" | tail -1)
    printf 'node image %s ready in %d s\n' "$NODE_IMAGE" "$((SECONDS - started))"
    ;;
  default) NODE_IMAGE='' ;;
  *) NODE_IMAGE=$KIND_NODE_IMAGE ;;
esac

# Where Docker cannot start a privileged container (root lacks a capability, as on this project's
# machines), kind's nodes are started through docker-shim.sh: every capability but the missing one.
if [[ -n $NODE_IMAGE ]] && ! docker run --rm --privileged --entrypoint true "$NODE_IMAGE" >/dev/null 2>&1; then
  echo 'Docker cannot start privileged containers here: kind runs with docker-shim.sh'
  mkdir -p "$WORK/shim"
  ln -s "$HERE/docker-shim.sh" "$WORK/shim/docker"
  EDGEWARDEN_REAL_DOCKER=$(command -v docker)
  export EDGEWARDEN_REAL_DOCKER PATH=$WORK/shim:$PATH
fi

need kind 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation'
need kubectl 'https://kubernetes.io/docs/tasks/tools/'
need helm 'https://helm.sh/docs/intro/install/ (Helm 3)'
need node 'Node.js 20 or later'
need npm 'npm, with Node.js'
[[ -x /usr/lib/postgresql/16/bin/postgres || -x /usr/lib/postgresql/15/bin/postgres ]] ||
  fail "PostgreSQL's server binaries are missing: the suite runs the collector's database on this machine (Debian: apt-get install postgresql)"
if kind get clusters 2>/dev/null | grep -x "$CLUSTER" >/dev/null; then
  fail "a kind cluster named $CLUSTER exists: delete it (kind delete cluster --name $CLUSTER) or set CLUSTER_NAME"
fi

log "kind cluster $CLUSTER (kubeconfig $KUBECONFIG)"
CREATED=1
started=$SECONDS
kind create cluster --name "$CLUSTER" --config "$HERE/kind-config.yaml" \
  --kubeconfig "$KUBECONFIG" --wait 5m ${NODE_IMAGE:+--image "$NODE_IMAGE"}
# kind's --wait covers the control plane only: the worker too, before pods go there.
kubectl wait --for=condition=Ready nodes --all --timeout=3m
printf 'cluster up in %d s\n' "$((SECONDS - started))"
kubectl get nodes -o wide

log "image $IMAGE"
if [[ ${SKIP_BUILD:-0} == 1 ]]; then
  echo "SKIP_BUILD=1: loading the existing $IMAGE"
elif pgrep -f build-arm64.sh >/dev/null; then
  # build.sh would load the amd64 base images over the arm64 ones that build is using.
  echo "an arm64 image build (scripts/image/build-arm64.sh) is running: loading the existing $IMAGE"
else
  bash "$ROOT/scripts/image/build.sh" >/dev/null
fi
image_arch=$(docker image inspect --format '{{.Architecture}}' "$IMAGE" 2>/dev/null) ||
  fail "no image $IMAGE: build it (bash scripts/image/build.sh)"
[[ $image_arch == "$(docker info --format '{{.Architecture}}' | sed 's/x86_64/amd64/;s/aarch64/arm64/')" ]] ||
  fail "$IMAGE is for $image_arch, not for this machine's nodes"
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
exit
}
