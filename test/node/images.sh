#!/usr/bin/env bash
# Makes the images the test node's own pods run, which cannot be pulled here (no registry is
# reachable), as `docker save`-format tarballs that containerd imports at the node's start:
#   localhost/edgewarden-test/pause:<kubernetes>          the pod sandbox (pause.c from the
#                                                         kubernetes module, static)
#   localhost/edgewarden-test/coredns:<version>           cluster DNS (built from the Go proxy)
#   localhost/edgewarden-test/local-path-provisioner:<v>  claims, as k3s provisions them
#   localhost/edgewarden-test/busybox:<debian version>    local-path's helper pods (mkdir, rm):
#                                                         Debian's busybox-static
# Each is one layer holding a binary built by test/control-plane/build-binaries.sh (run it
# first), cached beside the binaries by version and recipe. Prints the folder holding them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../control-plane/versions.env
source "$root/test/control-plane/versions.env"
tools=${EDGEWARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgewarden-tools}
arch=$(dpkg --print-architecture)
recipe=$(cat "$here/images.sh" "$root/scripts/image/docker-load-tarball.sh" | sha256sum | cut -c1-12)
out=$tools/node-images-$KUBERNETES_VERSION-$arch-$recipe
log() { printf '[node-images] %s\n' "$*" >&2; }
mkdir -p "$out"

# image NAME TAG RUN_CONFIG_JSON FILE:PATH_IN_IMAGE...  (a path ending in / is a folder)
image() {
  local name=$1 tag=$2 config=$3 tarball="$out/$1.tar"
  shift 3
  [[ -s $tarball ]] && return
  log "making localhost/edgewarden-test/$name:$tag"
  local rootfs layer
  rootfs=$(mktemp -d) layer=$(mktemp --suffix=.tar)
  for pair in "$@"; do
    local from=${pair%%:*} to=${pair#*:}
    mkdir -p "$rootfs/$(dirname "$to")"
    cp -a "$from" "$rootfs/$to"
  done
  mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
  tar --owner=0 --group=0 --numeric-owner -cf "$layer" -C "$rootfs" .
  bash "$root/scripts/image/docker-load-tarball.sh" "$layer" "$arch" \
    "localhost/edgewarden-test/$name:$tag" "$config" "$tarball"
  rm -rf "$rootfs" "$layer"
}

image pause "$KUBERNETES_VERSION" '{"Entrypoint":["/pause"],"User":"65535:65535"}' \
  "$tools/pause-$KUBERNETES_VERSION/pause:/pause"
image coredns "$COREDNS_VERSION" '{"Entrypoint":["/coredns"],"User":"65532:65532"}' \
  "$tools/coredns-$COREDNS_VERSION/coredns:/coredns"
image local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" \
  '{"Env":["PATH=/usr/local/bin:/usr/bin:/bin"],"Entrypoint":["local-path-provisioner"]}' \
  "$tools/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION/local-path-provisioner:/usr/bin/local-path-provisioner"

# busybox: Debian's static build, with the applets local-path's setup and teardown scripts use.
busybox_version=$(apt-cache policy busybox-static | sed -n 's/ *Candidate: //p')
if [[ ! -s $out/busybox.tar ]]; then
  [[ -n $busybox_version && $busybox_version != '(none)' ]] || {
    log 'busybox-static is not in the apt lists: run apt-get update (bash .ci/run does)'
    exit 1
  }
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "busybox-static=$busybox_version" && dpkg-deb -x busybox-static_*.deb x)
  mkdir -p "$work/bin"
  cp "$work/x/bin/busybox" "$work/bin/busybox"
  for applet in sh mkdir rm rmdir chmod ls cat echo test sleep; do ln -s busybox "$work/bin/$applet"; done
  image busybox "${busybox_version//[:+~]/-}" '{"Env":["PATH=/bin"],"Cmd":["sh"]}' "$work/bin/:/bin"
  rm -rf "$work"
fi
echo "$out"
