#!/usr/bin/env bash
# Makes a machine of the project's CI class (Debian 12, root, no systemd, cgroup v1, no image
# registry, a capability bounding set without CAP_SYS_RESOURCE) able to run kind offline:
#   1. dockerd from Debian's packages (docker.io), plus debootstrap and jq for the node image;
#   2. an OCI runtime wrapper, registered as dockerd's default runtime, that drops
#      CAP_SYS_RESOURCE from every container's capability sets (privileged containers, as kind's
#      nodes are, otherwise fail with "unable to apply caps: operation not permitted");
#   3. the cgroup v1 hierarchies the VM does not mount (hugetlb, perf_event, net_cls,net_prio),
#      which kubelet requires;
#   4. dockerd started in the background when none answers.
#
#   hack/kind-offline/provision-host.sh --yes-change-this-host
#
# It changes the host (packages, /etc/docker/daemon.json, mounts, a daemon), so it refuses to run
# without that flag: it is CI's and air-gapped machines' step, never run by make demo, make test
# or make kind-up. Idempotent: a second run changes nothing and says so for each step.
# Undo: hack/kind-offline/provision-host.sh --stop-docker stops the dockerd it started.
set -euo pipefail
log() { echo "provision: $*"; }
die() { echo "provision: $*" >&2; exit 2; }

wrapper=/usr/local/libexec/dnsrace/runc-drop-sys-resource
daemon_json=/etc/docker/daemon.json
dockerd_log=/var/log/dnsrace-dockerd.log
pidfile=/var/run/dnsrace-dockerd.pid
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

case "${1:-}" in
  --yes-change-this-host) ;;
  --stop-docker)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")"; log "stopped dockerd (pid $(cat "$pidfile"))"; rm -f "$pidfile"
    else
      log "no dockerd started by this script is running"
    fi
    exit 0 ;;
  *) die "refusing to change this host; run with --yes-change-this-host (installs docker.io, sets dockerd's default runtime, mounts cgroups)" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and mounts cgroups)"
[ -f /etc/debian_version ] || die "only Debian is supported (apt-get installs docker.io)"

# 1. packages
need=()
for p in docker.io debootstrap jq iptables; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
else
  log "packages present (docker.io debootstrap jq iptables)"
fi

# 2. the runtime wrapper
mkdir -p "$(dirname "$wrapper")"
new_wrapper=$(cat <<'WRAP'
#!/bin/sh
# dnsrace provision-host.sh: drop CAP_SYS_RESOURCE (absent from this VM's bounding set) from the
# OCI spec, then run runc. create/run read <bundle>/config.json; exec reads --process FILE.
spec=""; bundle=""; prev=""
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle=$a ;; --process|-p) spec=$a ;; esac
  case "$a" in --bundle=*) bundle=${a#--bundle=} ;; --process=*) spec=${a#--process=} ;; esac
  prev=$a
done
for a in "$@"; do case "$a" in create|run) [ -z "$bundle" ] && bundle=. ;; esac; done
[ -z "$spec" ] && [ -n "$bundle" ] && spec="$bundle/config.json"
if [ -n "$spec" ] && [ -f "$spec" ]; then
  tmp="$spec.dnsrace.$$"
  if jq 'def drop: if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end;
         if has("process") then .process.capabilities |= (if . then with_entries(.value |= drop) else . end)
         else .capabilities |= (if . then with_entries(.value |= drop) else . end) end' "$spec" > "$tmp"; then
    mv "$tmp" "$spec"
  else
    rm -f "$tmp"
  fi
fi
exec /usr/sbin/runc "$@"
WRAP
)
if [ -f "$wrapper" ] && [ "$(cat "$wrapper")" = "$new_wrapper" ]; then
  log "runtime wrapper present ($wrapper)"
else
  printf '%s\n' "$new_wrapper" > "$wrapper"; chmod 755 "$wrapper"; log "runtime wrapper written ($wrapper)"
fi
mkdir -p /etc/docker
want=$(jq -n --arg w "$wrapper" '{runtimes: {"dnsrace-runc": {path: $w}}, "default-runtime": "dnsrace-runc"}')
if [ -f "$daemon_json" ]; then
  merged=$(jq --argjson w "$want" '. * $w' "$daemon_json")
else
  merged=$want
fi
if [ -f "$daemon_json" ] && [ "$(jq -S . "$daemon_json")" = "$(jq -S . <<<"$merged")" ]; then
  log "$daemon_json already names the wrapper as default runtime"; json_changed=no
else
  printf '%s\n' "$merged" > "$daemon_json"; log "$daemon_json: default runtime dnsrace-runc"; json_changed=yes
fi

# 3. cgroup v1 hierarchies kubelet needs
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  log "cgroup v2: no v1 hierarchies to mount"
else
  for c in hugetlb perf_event net_cls,net_prio; do
    if mountpoint -q "/sys/fs/cgroup/$c"; then log "cgroup $c mounted"; continue; fi
    mkdir -p "/sys/fs/cgroup/$c"; mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"; log "cgroup $c: mounted"
  done
  for l in net_cls net_prio; do
    [ -e "/sys/fs/cgroup/$l" ] || { ln -s net_cls,net_prio "/sys/fs/cgroup/$l"; log "cgroup $l: linked"; }
  done
fi

# 4. dockerd
if /usr/bin/docker info >/dev/null 2>&1; then
  if [ "$json_changed" = yes ]; then
    pkill -HUP -x dockerd; log "dockerd reloaded (SIGHUP) for the new runtime"; sleep 1
  else
    log "dockerd answers"
  fi
else
  log "starting dockerd (log: $dockerd_log)"
  nohup /usr/sbin/dockerd --pidfile "$pidfile" >"$dockerd_log" 2>&1 &
  for _ in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 1; done
  /usr/bin/docker info >/dev/null 2>&1 || die "dockerd did not answer within 60 s; see $dockerd_log"
fi
rt=$(/usr/bin/docker info --format '{{.DefaultRuntime}}')
[ "$rt" = dnsrace-runc ] || die "dockerd's default runtime is $rt, not dnsrace-runc"
log "ready: dockerd $(/usr/bin/docker version --format '{{.Server.Version}}'), default runtime $rt; use /usr/bin/docker (PATH may name another docker first)"
