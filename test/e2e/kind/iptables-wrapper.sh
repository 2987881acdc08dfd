#!/bin/sh
# iptables-wrapper, for the kube-proxy and kindnetd stand-in images node-image.sh makes (what
# kubernetes-sigs/iptables-wrappers does for the official kube-proxy image): the first call of
# iptables, ip6tables or their -save/-restore picks the backend the node already uses (legacy or
# nft: whichever holds more rules, as kind's node entrypoint decides), points Debian's
# alternatives at it, and runs the real command. Later calls go straight to the real command.
set -e
legacy=$( (iptables-legacy-save || true; ip6tables-legacy-save || true) 2>/dev/null | grep -c '^-' || true)
nft=$( (timeout 5 sh -c 'iptables-nft-save; ip6tables-nft-save' || true) 2>/dev/null | grep -c '^-' || true)
if [ "${legacy:-0}" -gt "${nft:-0}" ]; then mode=legacy; else mode=nft; fi
update-alternatives --set iptables "/usr/sbin/iptables-$mode" >/dev/null
update-alternatives --set ip6tables "/usr/sbin/ip6tables-$mode" >/dev/null
exec "$0" "$@"
