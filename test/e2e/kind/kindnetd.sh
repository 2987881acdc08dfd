#!/bin/bash
# A stand-in for kind's kindnetd (docker.io/kindest/kindnetd), which this machine can neither pull
# nor build: its source is not a module the Go module proxy serves. node-image.sh puts this script
# into the image kind's default CNI manifest names, so `kind create cluster` deploys it unchanged
# (a hostNetwork DaemonSet, service account `kindnet`, NET_ADMIN and NET_RAW, env HOST_IP and
# POD_SUBNET). It does the three things kindnetd does for a kind cluster's pod network:
#   1. writes /etc/cni/net.d/10-kindnet.conflist for this node's podCIDR: ptp + host-local +
#      portmap, the plugins kind's base image ships in /opt/cni/bin;
#   2. routes every other node's podCIDR via that node's InternalIP;
#   3. masquerades pod traffic leaving the pod network (KIND-MASQ-AGENT, as kindnetd names it),
#      so pods reach the docker network's gateway (this machine) and beyond.
# It reads the nodes from the API server with the pod's service-account token (curl + jq), every
# 10 s, once kube-proxy routes the API server's Service address. No network policies (kindnetd
# enforces them; the journey creates none).
set -uo pipefail

log() { printf '%s kindnetd-standin: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
: "${HOST_IP:?HOST_IP is not set}" "${POD_SUBNET:?POD_SUBNET is not set}"
sa=/var/run/secrets/kubernetes.io/serviceaccount
api="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}"
conf=/etc/cni/net.d/10-kindnet.conflist
interval=${KINDNET_INTERVAL:-10}

masquerade() {
  local subnet
  iptables -t nat -N KIND-MASQ-AGENT 2>/dev/null || true
  iptables -t nat -F KIND-MASQ-AGENT
  for subnet in ${POD_SUBNET//,/ }; do
    [[ $subnet == *:* ]] && continue # IPv4 only
    iptables -t nat -A KIND-MASQ-AGENT -d "$subnet" -m comment --comment 'kind-masq-agent: pod network' -j RETURN
  done
  iptables -t nat -A KIND-MASQ-AGENT -m comment --comment 'kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)' -j MASQUERADE
  iptables -t nat -C POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment 'kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain' -j KIND-MASQ-AGENT 2>/dev/null ||
    iptables -t nat -A POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment 'kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain' -j KIND-MASQ-AGENT
}

write_conf() {
  local cidr=$1 tmp
  tmp=$(mktemp "${conf}.XXXXXX")
  cat >"$tmp" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kindnet",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni-ipam-state",
        "routes": [{ "dst": "0.0.0.0/0" }],
        "ranges": [[{ "subnet": "$cidr" }]]
      },
      "mtu": 1500
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  chmod 0644 "$tmp"
  if cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
  else
    mv "$tmp" "$conf"
    log "wrote $conf for $cidr"
  fi
}

sync_once() {
  local nodes name ip cidr
  nodes=$(curl -sS --fail --max-time 10 --cacert "$sa/ca.crt" \
    -H "Authorization: Bearer $(cat "$sa/token")" "$api/api/v1/nodes") || return 1
  while read -r name ip cidr; do
    [[ -n $ip && -n $cidr && $cidr != null && $cidr != *:* ]] || continue
    if [[ $ip == "$HOST_IP" ]]; then
      write_conf "$cidr"
    elif [[ $(ip route show "$cidr") != *"via $ip "* ]]; then
      ip route replace "$cidr" via "$ip" && log "route $cidr via $ip ($name)"
    fi
  done < <(jq -r '.items[] | [.metadata.name,
      ((.status.addresses // [])[] | select(.type == "InternalIP") | .address | select(contains(":") | not)),
      (.spec.podCIDR // "null")] | @tsv' <<<"$nodes")
}

# The API server is reached at its Service address, which only kube-proxy's rules make local:
# before they exist a connection would leave the node (and this machine) by its default route.
service_routed() {
  local rules
  rules=$({ iptables-save -t nat; nft list ruleset; ip -o addr show; } 2>/dev/null)
  grep -qF -- "$KUBERNETES_SERVICE_HOST" <<<"$rules"
}

log "node $HOST_IP, pod network $POD_SUBNET"
until service_routed; do
  log "waiting for kube-proxy's rules for $KUBERNETES_SERVICE_HOST"
  sleep 2
done
until masquerade; do
  log 'could not set up masquerading; retrying'
  sleep 2
done
while true; do
  sync_once || log 'could not list the nodes; retrying'
  sleep "$interval"
done
