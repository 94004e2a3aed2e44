# kube-proxy needs iptables, nftables and conntrack beside its binary (upstream: distroless-iptables).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
       iptables nftables conntrack ipset kmod \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY bin/kube-proxy /usr/local/bin/kube-proxy
