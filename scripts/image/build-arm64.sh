#!/usr/bin/env bash
# build-arm64.sh: the linux/arm64 image (Raspberry Pi 5), built here under QEMU user
# emulation from the unchanged Dockerfile, then exercised as far as emulation allows.
# `npm run image:arm64`; about 25 minutes on two cores (npm ci under QEMU is most of it), so it
# is not part of `npm test`. Tagged edgewarden:ci-arm64. Needs root.
#
# What runs under emulation: Node, the CLI, better-sqlite3 (compiled for arm64 in the build).
# What does not: onnxruntime-node's linux/arm64 binding segfaults under Debian 12's QEMU 7.2
# ("qemu: uncaught target signal 11") and hangs, so nothing that loads it can be exercised here:
# `edgewarden agent` (it loads onnxruntime as it starts, even for --help), the demo, scoring a
# model. Only a real arm64 machine shows those.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tag=${1:-edgewarden:ci-arm64}
log() { printf '[arm64] %s\n' "$*" >&2; }
host_arch=$(dpkg --print-architecture)

if [[ $host_arch != arm64 ]]; then
  # arch-test: mmdebstrap's check that the foreign architecture's binaries run (QEMU).
  missing=()
  for p in qemu-user-static binfmt-support arch-test; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  [[ -e /proc/sys/fs/binfmt_misc/register ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || { log 'binfmt_misc has no qemu-aarch64 entry'; exit 1; }
  # Docker keeps one image per tag: the arm64 stand-in bases replace the amd64 ones for the
  # length of this build; put this machine's back whatever happens.
  trap 'bash "$here/base-images.sh" "$host_arch" >/dev/null' EXIT
fi

started=$SECONDS
bash "$here/build.sh" --platform linux/arm64 --tag "$tag" >/dev/null
built=$((SECONDS - started))
docker=/usr/bin/docker
size=$("$docker" image inspect --format '{{.Size}}' "$tag")
arch=$("$docker" image inspect --format '{{.Architecture}}' "$tag")
log "built $tag ($arch) in $((built / 60)) min $((built % 60)) s, $((size / 1000000)) MB"

# Each check as a restricted pod would run it; its outcome printed, none hidden. A process that
# hangs under QEMU ignores signals, so a check runs detached and is removed by force after its
# time: `docker run` in the foreground would wait for ever.
restricted=(--platform linux/arm64 --read-only --user 65532:65532 --cap-drop ALL --security-opt no-new-privileges --network none)
failed=0
check() {
  local what=$1 name="edgewarden-arm64-check-$$-$RANDOM" code
  shift
  "$docker" run -d --name "$name" "${restricted[@]}" "$@" >/dev/null
  if code=$(timeout 180 "$docker" wait "$name"); then
    if [[ $code == 0 ]]; then
      log "ok    $what"
    else
      log "FAIL  $what: exit $code: $("$docker" logs --tail 3 "$name" 2>&1 | tr '\n' ' ')"
      failed=1
    fi
  else
    log "HUNG  $what: no exit within 180 s under QEMU: $("$docker" logs --tail 3 "$name" 2>&1 | tr '\n' ' ')"
    failed=1
  fi
  "$docker" rm -f "$name" >/dev/null
}
check 'node runs: process.arch is arm64' --entrypoint /nodejs/bin/node "$tag" -e 'if (process.arch !== "arm64") process.exit(1)'
check 'edgewarden --help' "$tag" --help
check 'edgewarden operator --help' "$tag" operator --help
check 'edgewarden export --help' "$tag" export --help
check 'edgewarden parse (the OpenWrt sample)' "$tag" parse --input /app/agent-runtime/data/openwrt/logread-sample.log
check 'edgewarden analyze (rules, no model)' "$tag" analyze --input /app/agent-runtime/data/openwrt/logread-sample.log
check 'better-sqlite3 (arm64 module) stores and reads a row' --entrypoint /nodejs/bin/node -w /app "$tag" \
  -e 'const D=require("better-sqlite3"); const d=new D(":memory:"); d.exec("create table t(x)"); d.prepare("insert into t values (?)").run(42); if (d.prepare("select x from t").get().x!==42) process.exit(1)'
check 'onnxruntime-node arm64 binary present' --entrypoint /nodejs/bin/node -w /app "$tag" \
  -e 'require("fs").accessSync(require("path").join("node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node"))'
# `edgewarden agent` loads onnxruntime-node as it starts, even for --help.
log 'not run: anything that loads onnxruntime-node (edgewarden agent, even its --help; the demo; scoring a model): its arm64 binding segfaults under QEMU 7.2'
exit $failed
