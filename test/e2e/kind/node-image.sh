#!/usr/bin/env bash
# node-image.sh: makes kind's node image on this machine from local parts only, since no container
# registry is reachable here (kind's base image, docker.io/kindest/base, and its node images
# cannot be pulled). Prints the image's name on its last line.
#
#   test/e2e/kind/node-image.sh      # default tag: localhost/edgewarden-test/kind-node:<kubernetes>
#
# What it makes, in the order kind itself would (kind v0.33.0's images/base and pkg/build/nodeimage,
# read from the Go module cache):
#   1. the Go builds, each cached in ~/.cache/edgewarden-tools/<name>-<version>/: the Kubernetes
#      binaries, etcd, CoreDNS, local-path-provisioner, crictl, kind (all through
#      test/control-plane/build-binaries.sh), plus kubeadm (the same throwaway module), containerd
#      and runc and the CNI plugins kind's base image ships (at the versions it pins);
#   2. a stand-in for kind's base image: Debian 12 with systemd (mmdebstrap), the packages and the
#      files of kind's images/base (entrypoint, systemd units, containerd config, ...) taken from the
#      kind module, and those binaries where kind's Dockerfile puts them;
#   3. every image a kind node runs, as `docker save` archives of one or two layers, tagged exactly
#      as kubeadm and kind's manifests name them (nothing is ever pulled): the control plane and
#      kube-proxy, etcd, CoreDNS, pause, kindnetd (a stand-in: kindnetd.sh), local-path-provisioner
#      and its helper;
#   4. a kubernetes-server-linux-<arch>.tar.gz laid out as a release's, from those parts;
#   5. `kind build node-image --type file <that tarball> --base-image <the stand-in>`: kind copies the
#      binaries in, writes /kind/version and its CNI and storage manifests, imports the images into
#      the node's containerd, and commits the image.
# Each step is skipped when its output for this recipe (this script, kindnetd.sh,
# iptables-wrapper.sh, unprivileged-node.sh, the versions) is already there; a rerun with
# everything made takes seconds. The outputs of an older recipe are removed after a build.
# Needs root, Docker (scripts/image/engine.sh), Go, gcc, mmdebstrap and libseccomp-dev (installed
# with apt-get when missing). How it differs from kind's published images: README.md beside this.
set -euo pipefail
# One compound command, read whole before it runs (an edit during a run cannot derail it).
{
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=../../control-plane/versions.env
source "$root/test/control-plane/versions.env"
DEBIAN_SUITE=$(sed -n 's/^DEBIAN_SUITE=//p' "$root/scripts/image/versions.env")
# What kind v0.33.0's images/base/Dockerfile pins (crictl is the project's CRI_TOOLS_VERSION).
CONTAINERD_VERSION=v2.3.4
RUNC_VERSION=v1.4.3
CNI_PLUGINS_VERSION=v1.9.1

tools=${EDGEWARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgewarden-tools}
arch=$(dpkg --print-architecture)
image=${1:-localhost/edgewarden-test/kind-node:$KUBERNETES_VERSION}
recipe=$(cat "$here/node-image.sh" "$here/kindnetd.sh" "$here/iptables-wrapper.sh" "$here/unprivileged-node.sh" \
  "$root/test/control-plane/versions.env" | sha256sum | cut -c1-12)
out=$tools/kind-node-$KUBERNETES_VERSION-$arch-$recipe
base_image=localhost/edgewarden-test/kind-base:$recipe
mirrors=(
  "deb http://deb.debian.org/debian $DEBIAN_SUITE main"
  "deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main"
  "deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main"
)
log() { printf '[kind-node] %s\n' "$*" >&2; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
started=$SECONDS

docker=$(bash "$root/scripts/image/engine.sh")
# kind runs `docker` from the PATH; Debian's client is dockerd's own version.
[[ $(command -v docker || true) ]] || export PATH=$(dirname "$docker"):$PATH

# A marker holding the node image's id: the image is current when Docker has that very image.
if [[ -s $out/image-id ]] &&
  [[ $("$docker" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true) == "$(cat "$out/image-id")" ]]; then
  log "$image is current (recipe $recipe)"
  echo "$image"
  exit 0
fi
previous=$("$docker" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/edgewarden-kind-node.XXXXXX")
trap 'rm -rf "$work"' EXIT

apt_install() {
  local missing=() p
  for p in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
apt_install mmdebstrap libseccomp-dev gcc libc6-dev jq

# 1. Binaries ---------------------------------------------------------------------------------
bash "$root/test/control-plane/build-binaries.sh" >/dev/null
kind=$tools/kind-$KIND_VERSION/kind
kube=$tools/kubernetes-$KUBERNETES_VERSION

finish() { rm -rf "$2"; mv "$1" "$2"; }

# kubeadm, through the same throwaway module as build-binaries.sh's control plane (k8s.io/kubernetes
# points its staging modules at local folders; replaces count only in the main module).
build_kubeadm() {
  local dest=$tools/kubeadm-$KUBERNETES_VERSION tmp=$tools/kubeadm-$KUBERNETES_VERSION.partial
  [[ -x $dest/kubeadm ]] && return
  log "building kubeadm $KUBERNETES_VERSION"
  local mod=$work/kubeadm staging="v0${KUBERNETES_VERSION#v1}" gomod
  mkdir -p "$mod"
  gomod=$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    printf 'module edgewarden.local/kubeadmbuild\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$gomod"
    printf ')\n\ntool k8s.io/kubernetes/cmd/kubeadm\n'
  } >"$mod/go.mod"
  (cd "$mod" && go mod tidy)
  local minor=${KUBERNETES_VERSION#v1.} ldflags="-s -w" pkg
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$tmp"
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/" k8s.io/kubernetes/cmd/kubeadm)
  finish "$tmp" "$dest"
}

# containerd, ctr and the runc shim (kind builds them from a clone of the same tag).
build_containerd() {
  local dest=$tools/containerd-$CONTAINERD_VERSION tmp=$tools/containerd-$CONTAINERD_VERSION.partial
  [[ -x $dest/containerd && -x $dest/ctr && -x $dest/containerd-shim-runc-v2 ]] && return
  log "building containerd $CONTAINERD_VERSION"
  local m=github.com/containerd/containerd/v2
  mkdir -p "$tmp"
  GOBIN=$tmp CGO_ENABLED=0 go install -trimpath -tags 'no_aufs no_zfs no_btrfs no_devmapper' \
    -ldflags "-s -w -X $m/version.Version=$CONTAINERD_VERSION -X $m/version.Revision=module-$CONTAINERD_VERSION -X $m/version.Package=$m" \
    "$m/cmd/containerd@$CONTAINERD_VERSION" "$m/cmd/ctr@$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
  finish "$tmp" "$dest"
}

# runc needs cgo (nsenter) and libseccomp (the control plane's static pods ask for RuntimeDefault).
build_runc() {
  local dest=$tools/runc-$RUNC_VERSION tmp=$tools/runc-$RUNC_VERSION.partial
  [[ -x $dest/runc ]] && return
  log "building runc $RUNC_VERSION"
  mkdir -p "$tmp"
  GOBIN=$tmp CGO_ENABLED=1 go install -trimpath -tags seccomp \
    -ldflags "-s -w -X main.version=${RUNC_VERSION#v} -X main.gitCommit=module-$RUNC_VERSION" \
    "github.com/opencontainers/runc@$RUNC_VERSION"
  finish "$tmp" "$dest"
}

build_cni() {
  local dest=$tools/cni-plugins-$CNI_PLUGINS_VERSION tmp=$tools/cni-plugins-$CNI_PLUGINS_VERSION.partial
  local m=github.com/containernetworking/plugins p have=1
  local plugins=(plugins/ipam/host-local plugins/main/loopback plugins/main/ptp plugins/meta/portmap)
  for p in "${plugins[@]}"; do [[ -x $dest/$(basename "$p") ]] || have=0; done
  ((have)) && return
  log "building the CNI plugins $CNI_PLUGINS_VERSION"
  local pkgs=()
  for p in "${plugins[@]}"; do pkgs+=("$m/$p@$CNI_PLUGINS_VERSION"); done
  mkdir -p "$tmp"
  GOBIN=$tmp CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X $m/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" "${pkgs[@]}"
  finish "$tmp" "$dest"
}

build_kubeadm
build_containerd
build_runc
build_cni
kubeadm=$tools/kubeadm-$KUBERNETES_VERSION/kubeadm
containerd_dir=$tools/containerd-$CONTAINERD_VERSION
kind_src=$(cd "$work" && go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -d $kind_src/images/base/files ]] || { log "no images/base/files in the kind module ($kind_src)"; exit 1; }

# Image archives -------------------------------------------------------------------------------
# A layer: the folder's content as a tar owned by root.
layer() { tar --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -cf "$2" -C "$1" .; }

# archive OUT_TAR ENTRY... where ENTRY is REF|CONFIG_JSON|LAYER_TAR[,LAYER_TAR...]: one `docker save`
# archive holding every ENTRY's image. Its `repositories` file comes first and lists every ref:
# kind's build reads only the first of `repositories` / `manifest.json` to learn which images an
# archive brings (and pulls the rest), and containerd's import reads manifest.json.
archive() {
  local tarball=$1 dir entry ref config layers l id diff_ids names=() manifest='' repos=''
  shift
  dir=$(mktemp -d "$work/archive.XXXXXX")
  for entry in "$@"; do
    IFS='|' read -r ref config layers <<<"$entry"
    diff_ids='' names=()
    for l in ${layers//,/ }; do
      id=$(sha256sum "$l" | cut -d' ' -f1)
      [[ -e $dir/$id.tar ]] || ln "$l" "$dir/$id.tar" 2>/dev/null || cp "$l" "$dir/$id.tar"
      diff_ids+="${diff_ids:+,}\"sha256:$id\"" names+=("\"$id.tar\"")
    done
    printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]},"history":[{"created_by":"edgewarden test/e2e/kind/node-image.sh (a local stand-in)"}]}' \
      "$arch" "$config" "$diff_ids" >"$dir/config.json"
    id=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    mv "$dir/config.json" "$dir/$id.json"
    manifest+="${manifest:+,}{\"Config\":\"$id.json\",\"RepoTags\":[\"$ref\"],\"Layers\":[$(IFS=,; echo "${names[*]}")]}"
    repos+="${repos:+,}\"${ref%:*}\":{\"${ref##*:}\":\"$id\"}"
  done
  printf '[%s]' "$manifest" >"$dir/manifest.json"
  printf '{%s}' "$repos" >"$dir/repositories"
  (cd "$dir" && tar -cf "$tarball.partial" repositories manifest.json $(ls | grep -E '^[0-9a-f]{64}[.](json|tar)$'))
  mv "$tarball.partial" "$tarball"
  rm -rf "$dir"
}

# A one-binary layer: FILE:PATH_IN_IMAGE pairs, plus /tmp.
binary_layer() {
  local tarball=$1 rootfs pair
  shift
  rootfs=$(mktemp -d "$work/rootfs.XXXXXX")
  for pair in "$@"; do
    mkdir -p "$rootfs/$(dirname "${pair#*:}")"
    cp -a "${pair%%:*}" "$rootfs/${pair#*:}"
  done
  mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
  layer "$rootfs" "$tarball"
  rm -rf "$rootfs"
}

# 2. The base image ------------------------------------------------------------------------------
# kind's images/base/Dockerfile on Debian 12 (kind's own is Debian 13: Debian 12's systemd 252 still
# runs on a cgroup v1 host, where 256+ refuses to), its package list less nfs-common and
# open-iscsi (network storage tests only), with kind's files and the binaries built above.
make_base() {
  local tarball=$out/base.tar
  if [[ ! -s $tarball ]]; then
    log "making the base image: Debian $DEBIAN_SUITE, systemd, containerd $CONTAINERD_VERSION, runc $RUNC_VERSION"
    local extra=$work/base-extra f="$kind_src/images/base/files"
    mkdir -p "$extra/usr/local/bin" "$extra/usr/local/sbin" "$extra/opt/cni/bin" "$extra/etc/containerd"
    cp "$containerd_dir"/{containerd,ctr,containerd-shim-runc-v2} "$tools/crictl-$CRI_TOOLS_VERSION/crictl" "$extra/usr/local/bin/"
    cp "$tools/runc-$RUNC_VERSION/runc" "$extra/usr/local/sbin/runc"
    cp "$tools/cni-plugins-$CNI_PLUGINS_VERSION"/{host-local,loopback,ptp,portmap} "$extra/opt/cni/bin/"
    # kind's Dockerfile: `ctr oci spec`, plus kind's createContainer hook, less the rlimits.
    "$containerd_dir/ctr" oci spec |
      jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
      jq 'del(.process.rlimits)' >"$extra/etc/containerd/cri-base.json"
    local rootfs=$work/base-rootfs.tar
    mmdebstrap --quiet --variant=minbase --architectures="$arch" \
      --include=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,e2fsprogs,bash,ca-certificates,curl,jq,procps \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook="cp -a '$extra'/. \"\$1\"/" \
      --customize-hook="install -m 0755 '$f'/usr/local/bin/* \"\$1/usr/local/bin/\"" \
      --customize-hook="mkdir -p \"\$1/kind/bin\" \"\$1/etc/systemd/system/kubelet.service.d\" \"\$1/etc/default\" \"\$1/etc/sysctl.d\" && cp -r '$f'/kind/. \"\$1/kind/\" && chmod -R u=rwX,go=rX \"\$1/kind\" && find \"\$1/kind\" -type f -exec chmod 0644 {} + && chmod 0755 \"\$1\"/kind/bin/*" \
      --customize-hook="install -m 0644 '$f'/etc/crictl.yaml \"\$1/etc/\" && install -m 0644 '$f'/etc/containerd/* \"\$1/etc/containerd/\" && install -m 0644 '$f'/etc/default/* \"\$1/etc/default/\" && install -m 0644 '$f'/etc/sysctl.d/* \"\$1/etc/sysctl.d/\"" \
      --customize-hook="install -m 0644 '$f'/etc/systemd/system/*.service '$f'/etc/systemd/system/*.slice \"\$1/etc/systemd/system/\" && install -m 0644 '$f'/etc/systemd/system/kubelet.service.d/* \"\$1/etc/systemd/system/kubelet.service.d/\"" \
      --customize-hook='find "$1/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete; rm -f "$1"/lib/systemd/system/multi-user.target.wants/* "$1"/etc/systemd/system/*.wants/* "$1"/lib/systemd/system/local-fs.target.wants/* "$1"/lib/systemd/system/sockets.target.wants/*udev* "$1"/lib/systemd/system/sockets.target.wants/*initctl* "$1"/lib/systemd/system/basic.target.wants/*' \
      --customize-hook='echo ReadKMsg=no >>"$1/etc/systemd/journald.conf" && ln -sf /usr/lib/systemd/systemd "$1/sbin/init"' \
      --customize-hook="install -m 0755 '$here/unprivileged-node.sh' \"\$1/kind/bin/\" && sed -i 's|^fix_cgroup\$|/kind/bin/unprivileged-node.sh\\nfix_cgroup|' \"\$1/usr/local/bin/entrypoint\" && grep -qx /kind/bin/unprivileged-node.sh \"\$1/usr/local/bin/entrypoint\"" \
      --customize-hook='chroot "$1" systemctl enable kubelet.service containerd.service undo-mount-hacks.service && chroot "$1" systemctl mask systemd-binfmt.service' \
      --customize-hook='mkdir -p "$1/etc/kubernetes/manifests" && rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/* "$1"/etc/machine-id && : >"$1/etc/machine-id"' \
      "$DEBIAN_SUITE" "$rootfs" "${mirrors[@]}"
    archive "$tarball" "$base_image|{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"container=docker\"],\"StopSignal\":\"SIGRTMIN+3\",\"Entrypoint\":[\"/usr/local/bin/entrypoint\",\"/sbin/init\"]}|$rootfs"
    rm -f "$rootfs"
  fi
  "$docker" load -q -i "$tarball" >/dev/null
  "$docker" tag "$(tar -xOf "$tarball" manifest.json | jq -r '.[0].RepoTags[0]')" "$base_image"
  log "loaded $base_image"
}

# 3. The images a node runs --------------------------------------------------------------------
# A Debian layer with iptables (and the wrapper that picks the node's backend), iproute2, conntrack,
# curl and jq: under kube-proxy (as the official image's distroless-iptables) and kindnetd.
make_net_layer() {
  local tarball=$work/net-layer.tar
  [[ -s $tarball ]] && return
  log "making the Debian network-tools layer (kube-proxy, kindnetd)"
  mmdebstrap --quiet --variant=minbase --architectures="$arch" \
    --include=iptables,nftables,iproute2,conntrack,curl,jq,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="install -m 0755 '$here/iptables-wrapper.sh' \"\$1/usr/sbin/iptables-wrapper\"" \
    --customize-hook='for t in iptables ip6tables; do chroot "$1" update-alternatives --quiet --install /usr/sbin/$t $t /usr/sbin/iptables-wrapper 100 --slave /usr/sbin/$t-restore $t-restore /usr/sbin/iptables-wrapper --slave /usr/sbin/$t-save $t-save /usr/sbin/iptables-wrapper && chroot "$1" update-alternatives --quiet --set $t /usr/sbin/iptables-wrapper; done' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*' \
    "$DEBIAN_SUITE" "$tarball" "${mirrors[@]}"
}

make_images() {
  local server=$out/kubernetes-server-linux-$arch.tar.gz
  [[ -s $server ]] && return
  make_net_layer
  local bin=$work/kubernetes/server/bin c
  mkdir -p "$bin"
  echo "$KUBERNETES_VERSION" >"$work/kubernetes/version"
  cp "$kubeadm" "$kube/kubelet" "$kube/kubectl" "$bin/"
  local path_env='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
  # The control plane: one binary each on PATH, as kubeadm's static pods run them (`command:
  # kube-apiserver ...`); tagged with the -<arch> suffix a release's archives carry (kind drops it).
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    binary_layer "$work/$c.layer" "$kube/$c:/usr/local/bin/$c"
    archive "$bin/$c.tar" "registry.k8s.io/$c-$arch:$KUBERNETES_VERSION|{$path_env,\"Entrypoint\":[\"/usr/local/bin/$c\"]}|$work/$c.layer"
    echo "$KUBERNETES_VERSION" >"$bin/$c.docker_tag"
  done
  echo "$KUBERNETES_VERSION" >"$bin/kube-proxy.docker_tag"
  binary_layer "$work/kube-proxy.layer" "$kube/kube-proxy:/usr/local/bin/kube-proxy"

  # The rest of what kubeadm lists (etcd, CoreDNS; pause is containerd's sandbox_image, which kind
  # puts in its place), kind's kindnetd and local-path images: made here and carried in the
  # kube-proxy archive, so kind's build finds them there instead of pulling them.
  local etcd_ref coredns_ref pause_ref cni_ref lpp_ref helper_ref
  etcd_ref=$("$kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | grep /etcd:)
  coredns_ref=$("$kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | grep /coredns:)
  pause_ref=$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$kind_src/images/base/files/etc/containerd/config.toml")
  cni_ref=$(sed -n 's/^const kindnetdImage = "\(.*\)"/\1/p' "$kind_src/pkg/build/nodeimage/const_cni.go")
  lpp_ref=$(sed -n 's/^const storageProvisionerImage = "\(.*\)"/\1/p' "$kind_src/pkg/build/nodeimage/const_storage.go")
  helper_ref=$(sed -n 's/^const storageHelperImage = "\(.*\)"/\1/p' "$kind_src/pkg/build/nodeimage/const_storage.go")
  for c in etcd_ref coredns_ref pause_ref cni_ref lpp_ref helper_ref; do
    [[ -n ${!c} ]] || { log "could not find the image name $c"; exit 1; }
  done
  binary_layer "$work/etcd.layer" "$tools/etcd-$ETCD_VERSION/etcd:/usr/local/bin/etcd"
  binary_layer "$work/coredns.layer" "$tools/coredns-$COREDNS_VERSION/coredns:/coredns"
  binary_layer "$work/pause.layer" "$tools/pause-$KUBERNETES_VERSION/pause:/pause"
  binary_layer "$work/kindnetd.layer" "$here/kindnetd.sh:/usr/local/bin/kindnetd"
  binary_layer "$work/lpp.layer" \
    "$tools/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION/local-path-provisioner:/usr/local/bin/local-path-provisioner"
  # local-path's helper pods run `sh` scripts that mkdir, chmod and rm: Debian's busybox-static.
  local helper=$work/helper
  mkdir -p "$helper/bin"
  (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root busybox-static && dpkg-deb -x busybox-static_*.deb busybox-deb)
  cp "$work/busybox-deb/bin/busybox" "$helper/bin/busybox"
  for c in sh mkdir rm rmdir chmod ls cat echo test sleep; do ln -s busybox "$helper/bin/$c"; done
  mkdir -p "$helper/tmp" && chmod 1777 "$helper/tmp"
  layer "$helper" "$work/helper.layer"
  archive "$bin/kube-proxy.tar" \
    "registry.k8s.io/kube-proxy-$arch:$KUBERNETES_VERSION|{$path_env,\"Entrypoint\":[\"/usr/local/bin/kube-proxy\"]}|$work/net-layer.tar,$work/kube-proxy.layer" \
    "$etcd_ref|{$path_env,\"Entrypoint\":[\"/usr/local/bin/etcd\"]}|$work/etcd.layer" \
    "$coredns_ref|{$path_env,\"Entrypoint\":[\"/coredns\"]}|$work/coredns.layer" \
    "$pause_ref|{\"Entrypoint\":[\"/pause\"],\"User\":\"65535:65535\"}|$work/pause.layer" \
    "$cni_ref|{$path_env,\"Entrypoint\":[\"/usr/local/bin/kindnetd\"]}|$work/net-layer.tar,$work/kindnetd.layer" \
    "$lpp_ref|{$path_env,\"Entrypoint\":[\"/usr/local/bin/local-path-provisioner\"]}|$work/lpp.layer" \
    "$helper_ref|{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"]}|$work/helper.layer"
  log "making $(basename "$server")"
  tar --owner=0 --group=0 --numeric-owner --use-compress-program='gzip -1' -cf "$server.partial" -C "$work" kubernetes
  mv "$server.partial" "$server"
  rm -rf "$work/kubernetes" "$work"/*.layer
}

make_base
make_images

# 5. kind's own build --------------------------------------------------------------------------
log "kind build node-image --type file ... --base-image $base_image --image $image"
# kind's build runs its steps with `docker exec --privileged`, which Docker refuses where root
# lacks a capability (here CAP_SYS_RESOURCE): then kind gets docker-shim.sh as its `docker`.
if ! "$docker" run --rm --privileged --entrypoint true "$base_image" >/dev/null 2>&1; then
  log 'Docker cannot start privileged containers here: kind runs with docker-shim.sh'
  mkdir -p "$work/shim"
  ln -s "$here/docker-shim.sh" "$work/shim/docker"
  export EDGEWARDEN_REAL_DOCKER
  EDGEWARDEN_REAL_DOCKER=$(command -v docker)
  PATH=$work/shim:$PATH
fi
"$kind" build node-image --type file "$out/kubernetes-server-linux-$arch.tar.gz" \
  --base-image "$base_image" --image "$image" --arch "$arch" >&2
"$docker" image inspect --format '{{.Id}}' "$image" >"$out/image-id"
"$docker" rmi "$base_image" >/dev/null 2>&1 || true
# What an older recipe left: its cache folder, and the image this tag named before (unless a
# cluster still runs it).
for old in "$tools/kind-node-$KUBERNETES_VERSION-$arch"-*; do
  [[ $old == "$out" ]] || rm -rf "$old"
done
if [[ -n $previous && $previous != "$(cat "$out/image-id")" ]]; then
  "$docker" rmi "$previous" >/dev/null 2>&1 || true
fi
log "$image built in $((SECONDS - started)) s"
echo "$image"
exit
}
