#!/usr/bin/env bash
# Builds the real Kubernetes binaries the integration and end-to-end tests run against, all from
# the Go module proxy: the control plane (kube-apiserver, kube-controller-manager, kube-scheduler,
# etcd), a real node's kubelet and kube-proxy, and its pause image's program (from the kubernetes
# module's C source), CoreDNS and rancher's local-path-provisioner (the node's add-ons), kwok,
# kubectl and helm, Prometheus and promtool, actionlint and kind. Each tool lands in its own folder of the cache, keyed by its version, so a
# second run (or a run after only one version changed) rebuilds nothing it already has.
#
#   EDGEWARDEN_TOOLS_DIR  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/edgewarden-tools)
#
# Prints the cache root on its last line. See docs/testing.md and ../shared/guides/control-plane.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
tools=${EDGEWARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgewarden-tools}
mkdir -p "$tools"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
log() {
  [[ $* == building* ]] && build_started=$SECONDS
  printf '[build-binaries] %s\n' "$*" >&2
}
build_started=$SECONDS

# Each tool is built into a temporary folder and renamed into place only when complete, so an
# interrupted build never leaves a half-filled cache entry that a later run would trust.
# It also says how long the build took (since the last "building" line), for CI's budget.
finish() {
  rm -rf "$2"
  mv "$1" "$2"
  log "built $(basename "$2") in $((SECONDS - build_started)) s"
}

build_kubernetes() {
  local dest="$tools/kubernetes-$KUBERNETES_VERSION"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy) c have=1
  for c in "${cmds[@]}"; do [[ -x $dest/$c ]] || have=0; done
  ((have)) && return
  log "building ${cmds[*]} $KUBERNETES_VERSION (tens of minutes on 2 cores)"
  local work staging="v0${KUBERNETES_VERSION#v1}" tmp="$dest.partial"
  work=$(mktemp -d)
  # k8s.io/kubernetes points its staging modules at local folders; replace directives count only in
  # the main module, so this throwaway module replaces each with its published v0.x twin. The list
  # is derived from the kubernetes go.mod the proxy serves, not typed by hand.
  local gomod
  gomod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module edgewarden.local/k8sbuild"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$gomod"
    echo ")"
    echo
    echo "tool ("
    echo "	k8s.io/kubernetes/cmd/kube-apiserver"
    echo "	k8s.io/kubernetes/cmd/kube-controller-manager"
    echo "	k8s.io/kubernetes/cmd/kube-scheduler"
    echo "	k8s.io/kubernetes/cmd/kubectl"
    echo "	k8s.io/kubernetes/cmd/kubelet"
    echo "	k8s.io/kubernetes/cmd/kube-proxy"
    echo ")"
  } >"$work/go.mod"
  (cd "$work" && go mod tidy)
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$tmp"
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${cmds[@]/#/k8s.io/kubernetes/cmd/}")
  finish "$tmp" "$dest"
  rm -rf "$work"
}

build_etcd() {
  local dest="$tools/etcd-$ETCD_VERSION" tmp="$tools/etcd-$ETCD_VERSION.partial" work
  [[ -x $dest/etcd ]] && return
  log "building etcd $ETCD_VERSION"
  # The etcd server module carries relative replace directives, so `go install` refuses it; as a
  # dependency of this wrapper those directives are ignored and its published requires are used.
  work=$(mktemp -d)
  printf 'module edgewarden.local/etcdbuild\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n\ntool go.etcd.io/etcd/server/v3\n' \
    "$ETCD_VERSION" >"$work/go.mod"
  (cd "$work" && go mod tidy)
  mkdir -p "$tmp"
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  finish "$tmp" "$dest"
  rm -rf "$work"
}

build_kwok() {
  local dest="$tools/kwok-$KWOK_VERSION" tmp="$tools/kwok-$KWOK_VERSION.partial"
  [[ -x $dest/kwok && -d $dest/stages ]] && return
  log "building kwok $KWOK_VERSION"
  mkdir -p "$tmp/stages"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The bare binary ships no stages: take the ones we need from the module's kustomize folder.
  local src
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  cp "$src"/node/fast/node-initialize.yaml "$src"/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    "$src"/pod/fast/pod-ready.yaml "$src"/pod/fast/pod-complete.yaml "$src"/pod/fast/pod-delete.yaml "$tmp/stages/"
  chmod -R u+w "$tmp"
  finish "$tmp" "$dest"
}

build_helm() {
  local dest="$tools/helm-$HELM_VERSION" tmp="$tools/helm-$HELM_VERSION.partial"
  [[ -x $dest/helm ]] && return
  log "building helm $HELM_VERSION"
  mkdir -p "$tmp"
  GOBIN="$tmp" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  finish "$tmp" "$dest"
}

# The pause container's program, from the kubernetes module's own source (build/pause/linux),
# static, as the official pause image carries it: the node's sandbox image (test/node/images.sh).
build_pause() {
  local dest="$tools/pause-$KUBERNETES_VERSION" tmp="$tools/pause-$KUBERNETES_VERSION.partial" src
  [[ -x $dest/pause ]] && return
  log "building pause from k8s.io/kubernetes $KUBERNETES_VERSION"
  src=$(cd "$(mktemp -d)" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$tmp"
  gcc -Os -Wall -Werror -static -DVERSION="$KUBERNETES_VERSION-edgewarden" -o "$tmp/pause" "$src/build/pause/linux/pause.c"
  strip "$tmp/pause"
  finish "$tmp" "$dest"
}

# A tool whose module installs with `go install` (no replace directives of its own).
go_install() {
  local name=$1 version=$2 pkg=$3 ldflags=${4:-}
  local dest="$tools/$name-$version" tmp="$tools/$name-$version.partial"
  [[ -x $dest/$(basename "$pkg") ]] && return
  log "building $name $version"
  mkdir -p "$tmp"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
  finish "$tmp" "$dest"
}

# Prometheus and promtool, built with every service discovery (kubernetes_sd_configs is what the
# dashboards suite needs; Debian's package leaves it out). Its module numbers 3.x.y as v0.3xx.y.
build_prometheus() {
  local dest="$tools/prometheus-$PROMETHEUS_VERSION" tmp="$tools/prometheus-$PROMETHEUS_VERSION.partial"
  [[ -x $dest/prometheus && -x $dest/promtool ]] && return
  local minor=${PROMETHEUS_VERSION#v0.}
  local release="${minor:0:1}.$((10#${minor:1:2})).${minor##*.}" pkg
  log "building prometheus and promtool $release ($PROMETHEUS_VERSION)"
  mkdir -p "$tmp"
  local v=github.com/prometheus/common/version
  for pkg in prometheus promtool; do
    GOBIN="$tmp" go install -trimpath \
      -ldflags "-s -w -X $v.Version=$release -X $v.Revision=module-$PROMETHEUS_VERSION -X $v.Branch=release -X $v.BuildUser=edgewarden -X $v.BuildDate=19700101-00:00:00" \
      "github.com/prometheus/prometheus/cmd/$pkg@$PROMETHEUS_VERSION"
  done
  finish "$tmp" "$dest"
}

build_kwok
build_helm
build_etcd
build_kubernetes
build_pause
go_install coredns "$COREDNS_VERSION" github.com/coredns/coredns \
  "-X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION"
go_install local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" github.com/rancher/local-path-provisioner \
  "-X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION"
go_install crictl "$CRI_TOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
  "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION"
build_prometheus
go_install actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint \
  "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION"
go_install kind "$KIND_VERSION" sigs.k8s.io/kind
log "all binaries present"
echo "$tools"
