"""The local control plane: real etcd, kube-apiserver, kube-controller-manager, a record-store etcd
and CoreDNS started as local processes from the pinned binaries, with their state in one folder."""
