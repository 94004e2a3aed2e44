#!/usr/bin/env bash
# Tears down what hack/kind-offline/up.sh made: `make kind-down` with the pinned kind and
# kubectl. The images stay in Docker and the tarballs in the cache (the next up.sh reuses them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
exec make -C "$repo" kind-down KIND="$kind" \
  KUBECTL="$kubectl" DOCKER=/usr/bin/docker
