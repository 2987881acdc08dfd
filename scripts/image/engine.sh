#!/usr/bin/env bash
# Makes sure Debian's Docker engine (dockerd with BuildKit, its own containerd, runc) is
# installed and running, and prints the docker client to use. Idempotent: on a machine where
# `docker info` already answers it does nothing but print.
#
# No init system runs here (and CI machines may have none), so the daemon is started in the
# background by this script, logging to /var/log/edgewarden-dockerd.log. Needs root.
set -euo pipefail
log() { printf '[engine] %s\n' "$*" >&2; }

# The docker client on the PATH may be a newer build without buildx; Debian's client is
# dockerd's own version and builds with BuildKit when DOCKER_BUILDKIT=1.
client=/usr/bin/docker

if ! dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q 'install ok installed'; then
  if [[ $(id -u) -ne 0 ]]; then
    log "Debian's docker.io is not installed and this is not root: run \`bash .ci/run\` (as root)"
    exit 1
  fi
  log "installing Debian's docker.io"
  # Its maintainer scripts would start dockerd through the init system: forbid that for the
  # length of the install (policy-rc.d exit 101), restoring any policy that was there before.
  policy=/usr/sbin/policy-rc.d saved=''
  if [[ -e $policy ]]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  restore() { if [[ -n $saved ]]; then mv "$saved" "$policy"; else rm -f "$policy"; fi; }
  trap restore EXIT
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  restore
  trap - EXIT
fi

if ! "$client" info >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    log 'dockerd is not running and this is not root: start it, or run as root'
    exit 1
  fi
  log 'starting dockerd'
  # setsid: the daemon outlives this script and the shell that ran it.
  setsid dockerd >>/var/log/edgewarden-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    "$client" info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! "$client" info >/dev/null 2>&1; then
    log 'dockerd did not answer within 60 s; its log:'
    tail -20 /var/log/edgewarden-dockerd.log >&2
    exit 1
  fi
fi
echo "$client"
