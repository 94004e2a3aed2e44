#!/usr/bin/env bash
# The kind suite (tests/kind) against the cluster hack/kind-offline/up.sh made: `make kind-test`
# with the pinned kubectl, /usr/bin/docker and the offline manifests (pull policy Never).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
export DNSRACE_PYTHON_IMAGE=dnsrace.local/python:3.11-$DEBIAN_SUITE   # the image build test's base
exec make -C "$repo" kind-test KUBECTL="$kubectl" \
  DOCKER=/usr/bin/docker KIND_MANIFESTS=hack/kind-offline/manifests
