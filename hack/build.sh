#!/usr/bin/env bash
# Builds the lab's pinned upstream binaries from source with Go, through the module proxy.
#
#   hack/build.sh [--print-dir]        the local lab's binaries (make demo, make test)
#   hack/build.sh kind-node            also what the offline kind node image needs
#                                      (hack/kind-offline/build-node-image.sh calls it)
#   hack/build.sh bench                also etcd's own benchmark tool (make bench)
#
# Versions come from hack/versions.env (the one file that pins them). Each binary is cached by
# version under ${DNSRACE_CACHE:-$HOME/.cache/dnsrace}/<component>-<version>/, so a second run
# does nothing. Integrity: sum.golang.org is not reachable from this workplace, so the build runs
# with GOSUMDB=off and -mod=readonly; the committed hack/*/go.sum files are the integrity check
# (a module whose hash is not in go.sum, or differs from it, fails the build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${DNSRACE_CACHE:-$HOME/.cache/dnsrace}

if [ "${1:-}" = "--print-dir" ]; then echo "$cache"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "build: Go is not on PATH; install Go ${GO_MIN_VERSION} or newer and run 'make setup' again" >&2
  exit 1
fi
export GOSUMDB=off GOFLAGS="-mod=readonly -trimpath" GOTOOLCHAIN=local CGO_ENABLED=0

kube_minor=${KUBERNETES_VERSION#v1.}; kube_minor=${kube_minor%%.*}
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=${kube_minor} \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION} \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=${kube_minor}"

# name|version|wrapper dir|package|ldflags
lab_targets=(
  "etcd|${ETCD_VERSION}|etcd|.|-s -w"
  "coredns|${COREDNS_VERSION}|coredns|github.com/coredns/coredns|-s -w"
  "kube-apiserver|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|${kube_ldflags}"
  "kube-controller-manager|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kube-controller-manager|${kube_ldflags}"
  "kubectl|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kubectl|${kube_ldflags}"
)
cni=github.com/containernetworking/plugins/plugins
node_targets=(
  "kubeadm|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kubeadm|${kube_ldflags}"
  "kubelet|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kubelet|${kube_ldflags}"
  "kube-scheduler|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kube-scheduler|${kube_ldflags}"
  "kube-proxy|${KUBERNETES_VERSION}|kubernetes|k8s.io/kubernetes/cmd/kube-proxy|${kube_ldflags}"
  "kind|${KIND_VERSION}|kind-offline/tools|sigs.k8s.io/kind|-s -w"
  "ptp|${CNI_PLUGINS_VERSION}|kind-offline/tools|$cni/main/ptp|-s -w"
  "bridge|${CNI_PLUGINS_VERSION}|kind-offline/tools|$cni/main/bridge|-s -w"
  "loopback|${CNI_PLUGINS_VERSION}|kind-offline/tools|$cni/main/loopback|-s -w"
  "host-local|${CNI_PLUGINS_VERSION}|kind-offline/tools|$cni/ipam/host-local|-s -w"
  "portmap|${CNI_PLUGINS_VERSION}|kind-offline/tools|$cni/meta/portmap|-s -w"
  "pause|${KIND_VERSION}|kind-offline/tools|./pause|-s -w"
)
bench_targets=(
  "etcd-benchmark|${ETCD_BENCHMARK_VERSION}|etcd-benchmark|.|-s -w"
)
targets=("${lab_targets[@]}")
case "${1:-}" in
  "") ;;
  kind-node) targets+=("${node_targets[@]}") ;;
  bench) targets+=("${bench_targets[@]}") ;;
  *) echo "build: unknown argument '$1' (expected nothing, --print-dir, kind-node or bench)" >&2; exit 2 ;;
esac
total=${#targets[@]}
i=0
start_all=$SECONDS
for t in "${targets[@]}"; do
  IFS='|' read -r name version dir pkg ldflags <<<"$t"
  i=$((i + 1))
  out="$cache/$name-$version/$name"
  if [ -x "$out" ]; then
    echo "build: [$i/$total] $name $version cached ($out)"
    continue
  fi
  echo "build: [$i/$total] $name $version: building (first build downloads modules; minutes on 2 cores)"
  mkdir -p "$(dirname "$out")"
  t0=$SECONDS
  ( cd "$here/$dir" && go build -ldflags "$ldflags" -o "$out.tmp" "$pkg" )
  mv "$out.tmp" "$out"
  echo "build: [$i/$total] $name $version: done in $((SECONDS - t0))s"
done
echo "build: all binaries ready in $cache ($((SECONDS - start_all))s)"
