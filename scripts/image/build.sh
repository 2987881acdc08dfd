#!/usr/bin/env bash
# build.sh [--platform linux/amd64|linux/arm64] [--tag REF]
# Builds the image from the unchanged Dockerfile with Docker's BuildKit, as a user or a release
# would, on local stand-ins for its two base images (base-images.sh: no registry is reachable
# here). Installs and starts Debian's Docker engine first if needed (engine.sh). Layer caching
# makes a rebuild with unchanged sources take seconds. Needs root. See docs/image.md.
#   default: this machine's platform, tagged $IMAGE from versions.env (edgewarden:ci)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
platform=linux/$(dpkg --print-architecture)
tag=$IMAGE
while (($# > 0)); do
  case $1 in
    --platform) platform=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    *) echo "build.sh: unknown argument $1 (--platform, --tag)" >&2; exit 2 ;;
  esac
done
arch=${platform#linux/}
docker=$(bash "$here/engine.sh")
bash "$here/base-images.sh" "$arch"
started=$SECONDS
printf '[image] building %s for %s\n' "$tag" "$platform" >&2
DOCKER_BUILDKIT=1 "$docker" build --progress=plain --platform "$platform" --tag "$tag" "$root" \
  >"${TMPDIR:-/tmp}/edgewarden-image-build.log" 2>&1 || {
  tail -40 "${TMPDIR:-/tmp}/edgewarden-image-build.log" >&2
  echo "[image] docker build failed; the whole log: ${TMPDIR:-/tmp}/edgewarden-image-build.log" >&2
  exit 1
}
size=$("$docker" image inspect --format '{{.Size}}' "$tag")
printf '[image] %s (%s): %d MB, built in %d s\n' "$tag" "$platform" "$((size / 1000000))" "$((SECONDS - started))" >&2
echo "$tag"
