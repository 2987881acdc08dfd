#!/usr/bin/env bash
# docker-load-tarball.sh ROOTFS_TAR ARCH REF CONFIG_JSON OUT_TAR
# Wraps a root filesystem (a plain tar) as a one-layer image in `docker save` format, whose
# config names ARCH: what `docker load` and `ctr images import` read. `docker import` would be
# shorter, but Docker 20.10 ignores its --platform and records the builder's architecture, so
# BuildKit would not take an arm64 base for `--platform linux/arm64` and would try to pull it.
# CONFIG_JSON is the image's run config: {"Env": [...], "User": "...", "Cmd": [...], ...}.
set -euo pipefail
rootfs=$1 arch=$2 ref=$3 run_config=$4 out=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln "$rootfs" "$work/layer.tar" 2>/dev/null || cp "$rootfs" "$work/layer.tar"
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"edgewarden scripts/image/base-images.sh (a local stand-in)"}]}' \
  "$arch" "$run_config" "$diff_id" >"$work/config.json"
printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$ref" >"$work/manifest.json"
tar -cf "$out.partial" -C "$work" manifest.json config.json layer.tar
mv "$out.partial" "$out"
