#!/bin/bash
# unprivileged-node.sh: run by kind's node entrypoint just before its fix_cgroup (node-image.sh
# puts it in the base image as /kind/bin/unprivileged-node.sh and the call into the entrypoint).
# On a host where the node container could be started --privileged, it does nothing. Where it
# could not (docker-shim.sh: every capability but CAP_SYS_RESOURCE), it makes up for the rest:
#  - Docker mounts the cgroup hierarchies read-only into an unprivileged container: remount them
#    read-write (bind remount: this mount only), as a privileged container has them, since the
#    entrypoint, systemd, the kubelet and containerd create cgroups there;
#  - without CAP_SYS_RESOURCE nothing in the node may lower an oom_score_adj (runc would fail to
#    start the kubelet's critical pods, which ask for -997): containerd's restrict_oom_score_adj,
#    which kind's entrypoint sets the same way in a user namespace.
set -o errexit -o nounset -o pipefail

findmnt -lun -o TARGET,OPTIONS -t cgroup,cgroup2 | while read -r target options; do
  case ",$options," in
    *,ro,*)
      echo "INFO: remounting $target read-write (an unprivileged node)" >&2
      mount -o remount,bind,rw "$target"
      ;;
  esac
done

bounding=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
if (((0x$bounding >> 24 & 1) == 0)); then
  echo 'INFO: no CAP_SYS_RESOURCE: enabling containerd restrict_oom_score_adj' >&2
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
fi
