# Sourced by up.sh, test.sh and down.sh: the pinned versions, the cache, the pinned kind and
# kubectl, and a PATH on which `docker` (which kind runs) is Debian's /usr/bin/docker even where
# another docker comes first.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../versions.env
. "$repo/hack/versions.env"
cache=${DNSRACE_CACHE:-$HOME/.cache/dnsrace}
kind="$cache/kind-$KIND_VERSION/kind"
kubectl="$cache/kubectl-$KUBERNETES_VERSION/kubectl"
mkdir -p "$cache/kind-offline/bin" && ln -sf /usr/bin/docker "$cache/kind-offline/bin/docker"
export PATH="$cache/kind-offline/bin:$PATH"
