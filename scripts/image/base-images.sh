#!/usr/bin/env bash
# base-images.sh [amd64|arm64]
# Makes local stand-ins for the Dockerfile's two base images, which cannot be pulled here (no
# container registry is reachable), and loads them into Docker under exactly the Dockerfile's
# FROM names, so the Dockerfile builds unchanged:
#   node:20-bookworm-slim                  Debian 12 minbase (mmdebstrap) + Node and npm from
#                                          the npm registry's node-linux-* and npm packages
#   gcr.io/distroless/cc-debian12:nonroot  the Debian 12 packages distroless's cc image is made
#                                          of, extracted without a shell, user nonroot (65532)
# How they differ from the published images: docs/image.md. Each image is made once per
# version, architecture and recipe and cached in ~/.cache/edgewarden-tools/images; loading a
# cached one takes seconds. Loading the other architecture replaces these tags (Docker 20.10
# keeps one image per tag): build-arm64.sh loads amd64 back when it is done. Needs root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
arch=${1:-$(dpkg --print-architecture)}
case $arch in
  amd64) node_arch=x64 ;;
  arm64) node_arch=arm64 ;;
  *) echo "base-images.sh: unsupported architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac
docker=$(bash "$here/engine.sh")
log() { printf '[base-images] %s\n' "$*" >&2; }
cache=${EDGEWARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgewarden-tools}/images
mkdir -p "$cache"
recipe=$(cat "$here/base-images.sh" "$here/docker-load-tarball.sh" | sha256sum | cut -c1-12)
mirrors=(
  'deb http://deb.debian.org/debian bookworm main'
  'deb http://deb.debian.org/debian bookworm-updates main'
  'deb http://deb.debian.org/debian-security bookworm-security main'
)

if ! command -v mmdebstrap >/dev/null; then
  log 'installing mmdebstrap'
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

# An npm package's tarball, fetched once into the cache.
npm_package() {
  local spec=$1 file=$2
  if [[ ! -s $cache/$file ]]; then
    (cd "$cache" && npm pack --silent "$spec" >/dev/null)
  fi
  echo "$cache/$file"
}

# Loads OUT_TAR unless the image REF is already that very image (its id is its config's hash).
load() {
  local tarball=$1 ref=$2 want have
  want=sha256:$(tar -xOf "$tarball" config.json | sha256sum | cut -d' ' -f1)
  have=$("$docker" image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  if [[ $want == "$have" ]]; then
    log "$ref ($arch) already loaded"
  else
    "$docker" load -q -i "$tarball" >/dev/null
    log "loaded $ref ($arch)"
  fi
}

make_node() {
  local out=$cache/node-$NODE_VERSION-npm-$NPM_VERSION-$DEBIAN_SUITE-$arch-$recipe.tar
  if [[ ! -s $out ]]; then
    log "making node:20-bookworm-slim ($arch): Debian $DEBIAN_SUITE minbase, Node $NODE_VERSION, npm $NPM_VERSION"
    local node_tgz npm_tgz rootfs
    node_tgz=$(npm_package "node-linux-$node_arch@$NODE_VERSION" "node-linux-$node_arch-$NODE_VERSION.tgz")
    npm_tgz=$(npm_package "npm@$NPM_VERSION" "npm-$NPM_VERSION.tgz")
    rootfs=$(mktemp --suffix=.tar)
    # Debian's slim images leave out documentation, man pages and translations.
    # The egress proxy's CA certificates (this machine's /usr/local/share/ca-certificates) go
    # into the trust store and npm's cafile, or the build stage's `npm ci` cannot reach the
    # registry; nodedir points node-gyp at the headers node-linux-* ships, which it would
    # otherwise download from nodejs.org (unreachable): better-sqlite3 compiles against them.
    mmdebstrap --quiet --variant=minbase --architectures="$arch" --include=ca-certificates \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
      --customize-hook="tar -xzf '$node_tgz' -C \"\$1/usr/local\" --strip-components=1 package/bin package/include package/share" \
      --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$npm_tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
      --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
      --customize-hook='echo "node:x:1000:1000::/home/node:/bin/bash" >>"$1/etc/passwd" && echo "node:x:1000:" >>"$1/etc/group" && echo "node:*:19000:0:99999:7:::" >>"$1/etc/shadow" && mkdir -p "$1/home/node" && chown 1000:1000 "$1/home/node"' \
      --customize-hook='for c in /usr/local/share/ca-certificates/*.crt; do [ -e "$c" ] || continue; cp "$c" "$1/usr/local/share/ca-certificates/"; cat "$c" >>"$1/etc/ssl/certs/ca-certificates.crt"; done' \
      --customize-hook='mkdir -p "$1/usr/local/etc" && printf "cafile=/etc/ssl/certs/ca-certificates.crt\nnodedir=/usr/local\n" >"$1/usr/local/etc/npmrc"' \
      "$DEBIAN_SUITE" "$rootfs" "${mirrors[@]}"
    bash "$here/docker-load-tarball.sh" "$rootfs" "$arch" node:20-bookworm-slim \
      "{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"NODE_VERSION=$NODE_VERSION\"],\"Cmd\":[\"node\"]}" "$out"
    rm -f "$rootfs"
  fi
  load "$out" node:20-bookworm-slim
}

make_distroless_cc() {
  local out=$cache/cc-debian12-nonroot-$DEBIAN_SUITE-$arch-$recipe.tar
  if [[ ! -s $out ]]; then
    log "making gcr.io/distroless/cc-debian12:nonroot ($arch) from Debian $DEBIAN_SUITE packages"
    local rootfs
    rootfs=$(mktemp --suffix=.tar)
    # distroless's base (base-files, netbase, tzdata, the CA bundle, libc6, libssl3) plus cc's
    # libgcc-s1, libstdc++6 and libgomp1, extracted only: no dpkg, shell, apt or perl. The CA
    # bundle is made as update-ca-certificates would (Mozilla's certificates, concatenated) and
    # the ca-certificates package itself dropped, as distroless ships only the bundle.
    mmdebstrap --quiet --variant=extract --architectures="$arch" \
      --include=base-files,netbase,tzdata,ca-certificates,libc6,libgcc-s1,libstdc++6,libgomp1,libssl3 \
      --customize-hook='mkdir -p "$1/etc/ssl/certs" && cat "$1"/usr/share/ca-certificates/mozilla/*.crt >"$1/etc/ssl/certs/ca-certificates.crt"' \
      --customize-hook='rm -rf "$1"/usr/share/ca-certificates "$1"/usr/sbin/update-ca-certificates "$1"/etc/ca-certificates* "$1"/usr/share/doc "$1"/usr/share/man "$1"/usr/share/info "$1"/usr/share/lintian "$1"/var/lib/apt "$1"/var/cache/apt "$1"/var/lib/dpkg "$1"/etc/apt "$1"/etc/dpkg' \
      --customize-hook='printf "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" >"$1/etc/passwd"' \
      --customize-hook='printf "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n" >"$1/etc/group"' \
      --customize-hook='mkdir -p "$1/home/nonroot" "$1/root" "$1/tmp" && chown 65532:65532 "$1/home/nonroot" && chmod 700 "$1/root" && chmod 1777 "$1/tmp"' \
      --customize-hook='for s in sh bash dash; do test ! -e "$1/bin/$s" && test ! -e "$1/usr/bin/$s" || { echo "a shell in the distroless stand-in: $s" >&2; exit 1; }; done' \
      "$DEBIAN_SUITE" "$rootfs" "${mirrors[@]}"
    bash "$here/docker-load-tarball.sh" "$rootfs" "$arch" gcr.io/distroless/cc-debian12:nonroot \
      '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],"User":"65532","WorkingDir":"/home/nonroot"}' "$out"
    rm -f "$rootfs"
  fi
  load "$out" gcr.io/distroless/cc-debian12:nonroot
}

make_node
make_distroless_cc
