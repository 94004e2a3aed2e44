#!/usr/bin/env bash
# Pod networking for an offline kind cluster (what kindnetd would do, which cannot be had
# offline): on every node, a ptp + host-local CNI config for that node's own spec.podCIDR, and a
# route to each other node's pod CIDR via that node's address. Idempotent; run again after a
# node container restarts (its routes and, if its address changed, the others' are rewritten).
#
#   hack/kind-offline/network.sh CLUSTER KUBECTL
set -euo pipefail
cluster=$1; kubectl=$2
DOCKER=${DOCKER:-/usr/bin/docker}
k() { "$kubectl" --context "kind-$cluster" "$@"; }
# name podCIDR address, one line per node (podCIDRs are allocated moments after a node joins)
complete() { echo "$nodes" | awk 'NF != 3 {bad=1} END {exit bad}'; }
for _ in $(seq 1 60); do
  nodes=$(k get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
  complete && break
  sleep 1
done
complete || { echo "network: nodes without a podCIDR: $nodes" >&2; exit 1; }
while read -r name cidr _; do
  "$DOCKER" exec -i "$name" sh -c 'cat > /etc/cni/net.d/10-dnsrace-ptp.conflist' <<CNI
{
  "cniVersion": "1.0.0",
  "name": "dnsrace-ptp",
  "plugins": [
    {"type": "ptp", "ipMasq": false, "mtu": 1500,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CNI
  while read -r other ocidr oaddr; do
    [ "$other" = "$name" ] && continue
    "$DOCKER" exec "$name" ip route replace "$ocidr" via "$oaddr"
  done <<<"$nodes"
  echo "network: $name: pods in $cidr; routes to $(echo "$nodes" | awk -v n="$name" '$1 != n {printf "%s ", $2}')"
done <<<"$nodes"
