#!/usr/bin/env bash
# docker-shim.sh: the `docker` kind runs (first on its PATH, as `docker`) on hosts where Docker
# cannot start a privileged container. Ours: root here lacks CAP_SYS_RESOURCE, Docker 20.10's
# --privileged asks runc for every capability, and runc fails ("unable to start container process:
# unable to apply caps: operation not permitted"); `docker exec --privileged` fails the same way.
# node-image.sh and run.sh put it in front of the real docker (EDGEWARDEN_REAL_DOCKER) only after
# a privileged `docker run` has failed. It changes two things and passes everything else on:
#   docker run  ... --privileged ...   ->  what --privileged gives, less CAP_SYS_RESOURCE: every
#                                          other capability, no seccomp / AppArmor confinement,
#                                          no masked or read-only /proc paths, every device
#                                          allowed (and /dev/kmsg, which the kubelet reads);
#                                          kind's build container gets the same;
#   docker exec --privileged ...       ->  docker exec ...: the process keeps the container's
#                                          capabilities, which are those above.
# What --privileged does besides, the node's entrypoint makes up for (unprivileged-node.sh: the
# cgroup mounts read-write, containerd's restrict_oom_score_adj).
set -euo pipefail
real=${EDGEWARDEN_REAL_DOCKER:?EDGEWARDEN_REAL_DOCKER names the real docker client}
case ${1:-} in
  run)
    shift
    args=()
    for arg in "$@"; do [[ $arg == --privileged ]] || args+=("$arg"); done
    exec "$real" run --cap-add ALL --cap-drop SYS_RESOURCE \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --security-opt systempaths=unconfined \
      --device-cgroup-rule 'a *:* rwm' --device /dev/kmsg "${args[@]}"
    ;;
  exec)
    shift
    [[ ${1:-} == --privileged ]] && shift
    exec "$real" exec "$@"
    ;;
  *) exec "$real" "$@" ;;
esac
