#!/usr/bin/env bash
# Build the local control plane from the Go module proxy into $AIGOV_CACHE/bin.
#
# Why build: this machine has no Docker engine and no internet beyond package registries, so
# the real etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok and
# helm are compiled from their Go modules. Each binary carries a stamp of the version it was
# built from and is rebuilt only when the pin in versions.env changes.
#
# vegeta, the HTTP load generator `make bench` drives the API server with, is built the same
# way so the benchmark's numbers come from a tool outside the Python process under test.
#
# Usage: build.sh [all|kubernetes|etcd|kwok|helm|kind|vegeta]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache=${AIGOV_CACHE:-$root/.cache}
bin=$cache/bin
work=$cache/build
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache/go/mod}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache/go/build}
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
mkdir -p "$bin" "$work"

log() { printf '[controlplane] %s\n' "$*" >&2; }

# stamp_ok NAME VERSION -> 0 when $bin/NAME exists and was built from VERSION
# or when KUBEBUILDER_ASSETS (the envtest convention) already provides it.
stamp_ok() {
  { [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/$1" ]; } && return 0
  [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]
}
stamp() { echo "$2" >"$bin/.$1.version"; }

# A wrapper module lets `go build` resolve a module whose own go.mod has replace directives.
new_module() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && go mod init aigov.local/"$(basename "$dir")" >/dev/null 2>&1)
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION names=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local all_ok=1
  for n in "${names[@]}"; do stamp_ok "$n" "$v" || all_ok=0; done
  [ $all_ok = 1 ] && { log "kubernetes $v: up to date"; return; }
  local dir=$work/kubernetes-$v minor
  minor=$(echo "$v" | cut -d. -f2)
  local staging_v="v0.${v#v1.}"
  log "kubernetes $v: building ${names[*]} (cold: tens of minutes on 2 cores)"
  new_module "$dir"
  cd "$dir"
  # kubernetes' go.mod replaces every staging module with ./staging/src/...; pin each to the
  # published staging version instead.
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "require k8s.io/kubernetes $v"
    grep -E '^\s*k8s.io/[^ ]+ => \./staging/src/' "$gomod" \
      | awk -v sv="$staging_v" '{print "replace " $1 " => " $1 " " sv}'
  } >>go.mod
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$v"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$v"
  go mod download k8s.io/kubernetes
  go build -trimpath -ldflags "$ldflags" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  for n in "${names[@]}"; do stamp "$n" "$v"; done
  cd "$root"
}

build_etcd() {
  local v=$ETCD_VERSION
  stamp_ok etcd "$v" && { log "etcd $v: up to date"; return; }
  log "etcd $v: building"
  local dir=$work/etcd-$v
  new_module "$dir"
  cd "$dir"
  go get "go.etcd.io/etcd/server/v3@$v" >/dev/null
  go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
  stamp etcd "$v"
  cd "$root"
}

# go install works for modules without replace directives.
build_install() {
  local name=$1 pkg=$2 v=$3
  stamp_ok "$name" "$v" && { log "$name $v: up to date"; return; }
  log "$name $v: building"
  GOBIN=$bin GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" "$pkg@$v"
  stamp "$name" "$v"
}

# helm as upstream's Makefile builds it: its version, and the Kubernetes version it assumes
# without a cluster (`helm template`, `helm lint`) taken from the k8s.io/client-go it is built
# with. Without these ldflags helm reports v1.20 and refuses charts needing a newer one. The
# stamp names the recipe, so a helm built the old way is rebuilt.
build_helm() {
  local v=$HELM_VERSION stamp_v="$HELM_VERSION+upstream-ldflags"
  stamp_ok helm "$stamp_v" && { log "helm $v: up to date"; return; }
  log "helm $v: building"
  local gomod client_go major minor
  gomod=$(go mod download -json "helm.sh/helm/v3@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  client_go=$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$gomod")
  [ -n "$client_go" ] || { log "helm $v: no k8s.io/client-go in its go.mod"; exit 1; }
  # client-go v0.N.x goes with Kubernetes v1.N (upstream: major + 1, same minor).
  major=$(( $(echo "$client_go" | cut -d. -f1 | tr -d v) + 1 ))
  minor=$(echo "$client_go" | cut -d. -f2)
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$v"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$major"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$major"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  GOBIN=$bin GOFLAGS=-buildvcs=false go install -trimpath -ldflags "$ldflags" \
    "helm.sh/helm/v3/cmd/helm@$v"
  stamp helm "$stamp_v"
}

what=${1:-all}
case $what in
  all)
    build_etcd
    build_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
    build_helm
    build_install vegeta github.com/tsenart/vegeta/v12 "$VEGETA_VERSION"
    build_kubernetes
    ;;
  kubernetes) build_kubernetes ;;
  etcd) build_etcd ;;
  kwok) build_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
  helm) build_helm ;;
  kind) build_install kind sigs.k8s.io/kind "$KIND_VERSION" ;;
  vegeta) build_install vegeta github.com/tsenart/vegeta/v12 "$VEGETA_VERSION" ;;
  *) echo "usage: $0 [all|kubernetes|etcd|kwok|helm|kind|vegeta]" >&2; exit 2 ;;
esac
