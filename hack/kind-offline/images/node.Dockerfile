# The offline kind node: what kind's own images/base/Dockerfile makes, from Debian's packages
# (containerd 1.6, runc) instead of source builds, plus the Kubernetes binaries hack/build.sh
# makes. Context: a directory that build-node-image.sh assembles (kind's files from the kind
# module, the binaries, cni/). The preloaded images are added after this build (docker commit).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY kind-files/usr/local/bin/ /usr/local/bin/
COPY kind-files/kind/ /kind/
COPY kind-files/etc/ /etc/
RUN chmod 0755 /usr/local/bin/* /kind /kind/bin /kind/bin/* \
    && DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
       systemd containerd runc conntrack iptables nftables iproute2 ethtool util-linux mount \
       kmod libseccomp2 pigz e2fsprogs bash ca-certificates jq procps socat \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
    && rm -f /lib/systemd/system/multi-user.target.wants/* \
    && rm -f /etc/systemd/system/*.wants/* \
    && rm -f /lib/systemd/system/local-fs.target.wants/* \
    && rm -f /lib/systemd/system/sockets.target.wants/*udev* \
    && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \
    && rm -f /lib/systemd/system/basic.target.wants/* \
    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
    && ln -sf /usr/lib/systemd/systemd /sbin/init \
    && for b in containerd containerd-shim-runc-v2 ctr; do ln -sf /usr/bin/$b /usr/local/bin/$b; done \
    && ctr oci spec \
       | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
       | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \
    && rm -f /etc/systemd/system/containerd-fuse-overlayfs.service \
    && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \
    && systemctl mask systemd-binfmt.service \
    && mkdir -p /etc/kubernetes/manifests /opt/cni/bin /etc/cni/net.d
COPY bin/kubeadm bin/kubelet bin/kubectl /usr/bin/
COPY cni/ /opt/cni/bin/
ARG KUBERNETES_VERSION
RUN printf '%s' "${KUBERNETES_VERSION}" > /kind/version && kubelet --version && containerd --version
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
