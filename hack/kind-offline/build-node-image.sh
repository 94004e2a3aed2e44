#!/usr/bin/env bash
# Builds, offline, every image the kind path needs, from pinned sources (hack/versions.env):
#   dnsrace.local/debian:<suite>        debootstrap --variant=minbase, docker import
#   dnsrace.local/python:3.11-<suite>   Debian's Python 3.11: the lab image's base offline
#   registry.k8s.io/...                 the control-plane images kubeadm asks for, each the
#                                       binary hack/build.sh makes (kube-proxy with iptables)
#   dnsrace.local/kind-node:<k8s>-<key> kind's node: Debian's containerd and runc, kind's own
#                                       node files (from the kind module), the Kubernetes
#                                       binaries, CNI plugins, and the images above preloaded
#   gcr.io/etcd-development/etcd:<v>, coredns/coredns:<v>
#                                       the lab's record store and CoreDNS, under the names
#                                       manifests/ gives them (loaded by `kind load` later)
#
#   hack/kind-offline/build-node-image.sh            build what is missing, say what was reused
#   hack/kind-offline/build-node-image.sh --print    print the node image's name and exit
#
# Cached like hack/build.sh: binaries under ${DNSRACE_CACHE:-~/.cache/dnsrace}; the root file
# system and the finished node image as tarballs under .../kind-offline/, keyed by a hash of
# everything they are built from, so a fresh Docker daemon loads them instead of rebuilding.
# Needs: root, Docker (hack/kind-offline/provision-host.sh), debootstrap, Go, the Debian mirror
# and the Go module proxy. Never run by make demo or make test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../versions.env
. "$repo/hack/versions.env"
cache=${DNSRACE_CACHE:-$HOME/.cache/dnsrace}
store="$cache/kind-offline"
DOCKER=${DOCKER:-/usr/bin/docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { echo "node-image: $*"; }
die() { echo "node-image: $*" >&2; exit 1; }

key=$(cat "$repo/hack/versions.env" "$repo/hack/kubernetes/go.sum" "$here/tools/go.sum" \
        "$here/tools/pause/main.go" "$here/images/"* "$0" | sha256sum | cut -c1-12)
node_image="dnsrace.local/kind-node:${KUBERNETES_VERSION}-${key}"
if [ "${1:-}" = "--print" ]; then echo "$node_image"; exit 0; fi
[ -z "${1:-}" ] || die "unknown argument '$1' (expected nothing or --print)"
"$DOCKER" info >/dev/null 2>&1 || die "no Docker daemon answers '$DOCKER info' (hack/kind-offline/provision-host.sh --yes-change-this-host starts one)"
has_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
t_all=$SECONDS
mkdir -p "$store"

# --- binaries -------------------------------------------------------------------------------
bash "$repo/hack/build.sh" kind-node | sed 's/^/node-image: /'
bin() { echo "$cache/$1-$2/$1"; }
k=$KUBERNETES_VERSION

# --- the Debian base ------------------------------------------------------------------------
base="dnsrace.local/debian:${DEBIAN_SUITE}"
rootfs="$store/debian-${DEBIAN_SUITE}-minbase.tar"
if has_image "$base"; then
  log "reused $base (in Docker)"
else
  if [ -f "$rootfs" ]; then
    log "reused $rootfs"
  else
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
    log "debootstrap --variant=minbase $DEBIAN_SUITE from $MIRROR (a few minutes)"
    dir=$(mktemp -d "$store/rootfs.XXXXXX")
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$MIRROR" > "$store/debootstrap.log" 2>&1 \
      || { rm -rf "$dir"; die "debootstrap failed; see $store/debootstrap.log"; }
    rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"*
    tar -C "$dir" -c . > "$rootfs.tmp" && mv "$rootfs.tmp" "$rootfs"
    rm -rf "$dir"
  fi
  "$DOCKER" import "$rootfs" "$base" >/dev/null
  log "imported $base"
fi

# --- the lab image's offline Python base ----------------------------------------------------
python_image="dnsrace.local/python:3.11-${DEBIAN_SUITE}"
if has_image "$python_image"; then
  log "reused $python_image"
else
  ctx=$(mktemp -d); cp "$here/images/python.Dockerfile" "$ctx/Dockerfile"
  cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/host-ca.crt"
  "$DOCKER" build -q --build-arg "BASE_IMAGE=$base" -t "$python_image" "$ctx" >/dev/null
  rm -rf "$ctx"; log "built $python_image"
fi

# --- control-plane images and the lab's etcd and CoreDNS ------------------------------------
# name|binary|version of the binary|entrypoint (empty: none; kubeadm names the command)
etcd_tag="${ETCD_VERSION#v}-0"
coredns_tag="$COREDNS_VERSION"
simple_images=(
  "registry.k8s.io/kube-apiserver:$k|kube-apiserver|$k|"
  "registry.k8s.io/kube-controller-manager:$k|kube-controller-manager|$k|"
  "registry.k8s.io/kube-scheduler:$k|kube-scheduler|$k|"
  "registry.k8s.io/etcd:$etcd_tag|etcd|$ETCD_VERSION|"
  "registry.k8s.io/coredns/coredns:$coredns_tag|coredns|$COREDNS_VERSION|/coredns"
  "registry.k8s.io/pause:3.10.2|pause|$KIND_VERSION|/pause"
  "gcr.io/etcd-development/etcd:$ETCD_VERSION|etcd|$ETCD_VERSION|"
  "coredns/coredns:${COREDNS_VERSION#v}|coredns|$COREDNS_VERSION|/coredns"
)
for spec in "${simple_images[@]}"; do
  IFS='|' read -r name b v entry <<<"$spec"
  if has_image "$name"; then log "reused $name"; continue; fi
  ctx=$(mktemp -d); mkdir -p "$ctx/bin"; cp "$(bin "$b" "$v")" "$ctx/bin/$b"
  {
    echo "FROM scratch"
    if [ -n "$entry" ]; then echo "COPY bin/$b $entry"; echo "ENTRYPOINT [\"$entry\"]"
    else echo "COPY bin/$b /usr/local/bin/$b"; fi
    echo "ENV PATH=/usr/local/bin:/usr/bin:/bin"
  } > "$ctx/Dockerfile"
  "$DOCKER" build -q -t "$name" "$ctx" >/dev/null; rm -rf "$ctx"; log "built $name"
done
has_image registry.k8s.io/pause:3.10 || "$DOCKER" tag registry.k8s.io/pause:3.10.2 registry.k8s.io/pause:3.10
proxy_image="registry.k8s.io/kube-proxy:$k"
if has_image "$proxy_image"; then
  log "reused $proxy_image"
else
  ctx=$(mktemp -d); mkdir -p "$ctx/bin"; cp "$(bin kube-proxy "$k")" "$ctx/bin/"
  cp "$here/images/kube-proxy.Dockerfile" "$ctx/Dockerfile"
  "$DOCKER" build -q --build-arg "BASE_IMAGE=$base" -t "$proxy_image" "$ctx" >/dev/null
  rm -rf "$ctx"; log "built $proxy_image"
fi
preload=(
  "registry.k8s.io/kube-apiserver:$k" "registry.k8s.io/kube-controller-manager:$k"
  "registry.k8s.io/kube-scheduler:$k" "registry.k8s.io/kube-proxy:$k"
  "registry.k8s.io/etcd:$etcd_tag" "registry.k8s.io/coredns/coredns:$coredns_tag"
  "registry.k8s.io/pause:3.10.2" "registry.k8s.io/pause:3.10"
)

# --- the node image -------------------------------------------------------------------------
node_tar="$store/kind-node-${KUBERNETES_VERSION}-${key}.tar"
if has_image "$node_image"; then
  log "reused $node_image"
elif [ -f "$node_tar" ]; then
  "$DOCKER" load -q -i "$node_tar" >/dev/null; log "reused $node_image (loaded from $node_tar)"
else
  kind_src="$(go env GOMODCACHE)/sigs.k8s.io/kind@${KIND_VERSION}/images/base/files"
  [ -d "$kind_src" ] || (cd "$here/tools" && GOFLAGS=-mod=readonly go mod download sigs.k8s.io/kind)
  ctx=$(mktemp -d); mkdir -p "$ctx/bin" "$ctx/cni"
  cp -r "$kind_src" "$ctx/kind-files"; chmod -R u+w "$ctx/kind-files"
  for b in kubeadm kubelet kubectl; do cp "$(bin $b "$k")" "$ctx/bin/"; done
  for p in ptp bridge loopback host-local portmap; do cp "$(bin $p "$CNI_PLUGINS_VERSION")" "$ctx/cni/"; done
  cp "$here/images/node.Dockerfile" "$ctx/Dockerfile"
  log "building the node image's layers (Debian packages: a minute or two)"
  "$DOCKER" build -q --build-arg "BASE_IMAGE=$base" --build-arg "KUBERNETES_VERSION=$k" \
    -t "$node_image-layers" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "preloading ${#preload[@]} images into the node's containerd (as kind's own builder does)"
  cid=$("$DOCKER" run -d --privileged --entrypoint /usr/bin/containerd "$node_image-layers")
  trap '"$DOCKER" rm -f "$cid" >/dev/null 2>&1 || true' EXIT
  for _ in $(seq 1 30); do "$DOCKER" exec "$cid" ctr version >/dev/null 2>&1 && break; sleep 1; done
  "$DOCKER" save "${preload[@]}" | "$DOCKER" exec -i "$cid" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  "$DOCKER" exec "$cid" pkill containerd || true
  "$DOCKER" wait "$cid" >/dev/null || true
  "$DOCKER" commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    "$cid" "$node_image" >/dev/null
  "$DOCKER" rm -f "$cid" >/dev/null; trap - EXIT
  "$DOCKER" rmi "$node_image-layers" >/dev/null
  "$DOCKER" save -o "$node_tar.tmp" "$node_image" && mv "$node_tar.tmp" "$node_tar"
  find "$store" -maxdepth 1 -name 'kind-node-*.tar' ! -name "$(basename "$node_tar")" -delete
  log "built $node_image (cached as $node_tar)"
fi
log "ready in $((SECONDS - t_all))s: $node_image"
