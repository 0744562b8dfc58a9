"""Build and run a real Kubernetes control plane as local processes.

One implementation serves `make cluster-up` / `make cluster-down` and the end-to-end test
fixture. No containers: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
are built from the Go module proxy by build.sh and started here.
"""
