#!/usr/bin/env bash
# The kind path offline, for CI and air-gapped machines: `make kind-up` with every input made
# here instead of pulled. In order:
#   1. build-node-image.sh: the node image, control-plane images, the offline Python base and
#      the lab's etcd and CoreDNS images (cached; says what it reused);
#   2. the kind config: kind-config.yaml through kind-config-overlay.py (the users' file is
#      not touched);
#   3. make kind-up with the pinned kind and kubectl, /usr/bin/docker, the node image, network.sh
#      after the cluster exists (pod routes; kindnetd cannot be had offline), the lab image
#      built on the offline Python base, the etcd and CoreDNS images loaded with `kind load`,
#      and hack/kind-offline/manifests (pull policy Never everywhere).
# Idempotent like make kind-up. Tear down with hack/kind-offline/down.sh (or make kind-down with
# the same KIND and KUBECTL).
#
#   hack/kind-offline/up.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$repo"

"$here/build-node-image.sh"
node_image=$("$here/build-node-image.sh" --print)
make -s setup >/dev/null   # .venv (PyYAML for the config overlay) and the lab's binaries
config="$cache/kind-offline/kind-config.offline.yaml"
.venv/bin/python "$here/kind-config-overlay.py" kind-config.yaml "${ETCD_VERSION#v}-0" "$COREDNS_VERSION" > "$config"
# kind's cluster DNS pods may start before network.sh gave their node a pod network: restart them
after="$here/network.sh dnsrace $kubectl && $kubectl --context kind-dnsrace -n kube-system delete pod -l k8s-app=kube-dns --wait=false"
exec make kind-up KIND="$kind" KUBECTL="$kubectl" DOCKER=/usr/bin/docker \
  KIND_CONFIG="$config" KIND_NODE_IMAGE="$node_image" KIND_AFTER_CREATE="$after" \
  KIND_BUILD_ARGS="--build-arg PYTHON_IMAGE=dnsrace.local/python:3.11-$DEBIAN_SUITE" \
  KIND_LOAD_IMAGES="gcr.io/etcd-development/etcd:$ETCD_VERSION coredns/coredns:${COREDNS_VERSION#v}" \
  KIND_MANIFESTS=hack/kind-offline/manifests
