#!/usr/bin/env bash
# Build the aigov operator image from the project's Dockerfile.
#
# Where a Docker engine runs: `docker build` with the public Python base image, tagged $IMAGE.
# Where none runs (these machines, CI): no base image can be pulled (no container registry is
# reachable), so the bases are made from Debian bookworm's own packages with mmdebstrap (the
# Debian release and Python 3.11 of the Dockerfile's python:3.11-slim-bookworm), imported
# into a container storage of our own under .cache/image, and the same Dockerfile is built on
# top with buildah (chroot isolation: no OCI runtime, cgroups or daemon needed). The result
# is an OCI archive, .cache/image/aigov.oci.tar, whose size and layers are printed.
#
# Cached: the two base root filesystems (rebuilt when their package lists change), buildah's
# layers, and the archive itself, rebuilt only when a file of the build context, the
# Dockerfile or this script changes: a warm call returns in about a second.
#
# Usage: build.sh [--builder docker|buildah]   (default: docker when its engine answers)
# Env:   IMAGE (tag, default aigov:dev), AIGOV_CACHE (default .cache),
#        DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${AIGOV_CACHE:-$root/.cache}/image
image=${IMAGE:-aigov:dev}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
archive=$cache/aigov.oci.tar
suite=bookworm
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/pyproject.toml" | head -1)

log() { printf '[image] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

builder=${1:-}
if [ "$builder" = --builder ]; then builder=${2:?--builder needs docker or buildah}; fi
if [ -z "$builder" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then builder=docker; else builder=buildah; fi
fi

if [ "$builder" = docker ]; then
  log "docker build -t $image (public base image python:3.11-slim-bookworm)"
  exec docker build --build-arg VERSION="$version" -t "$image" "$root"
fi
[ "$builder" = buildah ] || die "unknown builder $builder: docker or buildah"

# ---- tools: Debian packages, installed the same way here and on a fresh CI machine ---------
# podman and runc run the image in the e2e test (tests/e2e/test_image.py).
tools=(mmdebstrap buildah podman runc)
missing=()
for t in "${tools[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install mmdebstrap buildah podman runc) or run as root"
  log "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends mmdebstrap buildah podman runc uidmap >/dev/null
fi
[ "$(id -u)" = 0 ] || die "buildah here runs as root (chroot isolation, own storage under $cache)"

mkdir -p "$cache/base"
storage=(--root "$cache/containers/storage" --runroot "$cache/containers/run" --storage-driver overlay)
bah() { buildah "${storage[@]}" "$@"; }

# ---- up to date? ----------------------------------------------------------------------------
# The build context buildah sends (what .dockerignore lets through), plus the recipe.
inputs_hash() {
  cd "$root"
  {
    printf '%s\n' "$image" "$version"
    find Dockerfile .dockerignore requirements.lock pyproject.toml README.md operator \
      tools/image/build.sh -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
      ! -path '*.egg-info/*' -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}
want=$(inputs_hash)
if [ -f "$archive" ] && [ "$(cat "$archive.inputs" 2>/dev/null)" = "$want" ]; then
  log "$archive: up to date"
  cd "$root" && exec python3 -m tools.image.oci report "$archive"
fi

# ---- the two bases, from Debian's packages ----------------------------------------------------
# Runtime: Python only (Essential packages, no apt: nothing in the image can install anything).
# Builder: also python3-venv (ensurepip), to make /opt/aigov and pip install into it.
# Documentation, manual pages and translations are left out, copyright files kept.
runtime_packages=python3,python-is-python3
builder_packages=python3,python-is-python3,python3-venv
dpkg_excludes=(
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
)

# The builder stage trusts the certificate authorities this machine trusts, so that pip
# reaches PyPI through a TLS-inspecting proxy as the host's pip does. Only the builder base
# gets them: the image copies nothing but /opt/aigov from that stage.
host_ca=${AIGOV_IMAGE_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}

# base NAME PACKAGES [builder] -> prints the local image name, making it when missing
base() {
  local name=$1 packages=$2 role=${3:-} key tar ref ca_key=none
  key=$(printf '%s\n' "$suite" "$packages" "$mirror" "$security_mirror" "${dpkg_excludes[@]}" \
    | sha256sum | cut -c1-12)
  tar=$cache/base/$name-$suite-$key.tar
  if [ "$role" = builder ] && [ -f "$host_ca" ]; then
    ca_key=$(sha256sum "$host_ca" | cut -c1-8)
  fi
  ref=localhost/aigov-base/$name:$suite-$key-$ca_key
  if ! [ -f "$tar" ]; then
    log "base $name: mmdebstrap $suite with $packages (about 30 s)"
    rm -f "$cache/base/$name-"*.tar
    mmdebstrap --quiet --format=tar --variant=essential --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --include="$packages" "${dpkg_excludes[@]}" \
      --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
      "$suite" "$tar.partial" \
      "deb $mirror $suite main" "deb $mirror $suite-updates main" \
      "deb $security_mirror $suite-security main" >&2
    mv "$tar.partial" "$tar"
    bah rmi --force "$ref" >/dev/null 2>&1 || true
  fi
  if ! bah inspect --type image "$ref" >/dev/null 2>&1; then
    log "base $name: importing $(basename "$tar")" >&2
    # Earlier bases of this name (other packages, mirror or CA) are of no further use.
    local old
    for old in $(bah images --format '{{.Name}}:{{.Tag}}' | grep "^localhost/aigov-base/$name:"); do
      bah rmi --force "$old" >/dev/null 2>&1 || true
    done
    local ctr
    ctr=$(bah from scratch)
    bah add --quiet "$ctr" "$tar" / >/dev/null
    # What the public python image sets; CMD like it.
    bah config --env LANG=C.UTF-8 --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --cmd python3 --created-by "mmdebstrap $suite $packages" "$ctr"
    if [ "$ca_key" != none ]; then
      bah copy --quiet "$ctr" "$host_ca" /etc/ssl/certs/ca-certificates.crt >/dev/null
      bah config --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt "$ctr"
    fi
    bah commit --quiet --rm "$ctr" "$ref" >/dev/null
  fi
  echo "$ref"
}

started=$(date +%s)
runtime_base=$(base runtime "$runtime_packages")
builder_base=$(base builder "$builder_packages" builder)

# ---- the Dockerfile, built with buildah ---------------------------------------------------
log "buildah bud: Dockerfile on $runtime_base (builder stage on $builder_base)"
# Isolation chroot: RUN steps need no OCI runtime (crun cannot run here: cgroups hybrid mode).
# Host network: pip reaches PyPI like everything else on this machine.
# A build that died (Ctrl-C, no network) leaves its working container mounted: drop them.
bah rm --all >/dev/null 2>&1 || true
bud=(bud --isolation chroot --network host --layers --format oci
  --build-arg PYTHON_IMAGE="$runtime_base" --build-arg BUILDER_IMAGE="$builder_base"
  --build-arg VERSION="$version" --file "$root/Dockerfile")
# The builder stage gets a tag of its own, so that pruning below keeps its layers (the
# pinned dependencies: the slow part) for the next build; the second call reuses them.
bah "${bud[@]}" --target builder --tag localhost/aigov-builder-stage:latest "$root" >&2
bah "${bud[@]}" --tag "$image" "$root" >&2
rm -f "$archive" "$archive.inputs"
bah push --quiet "$image" "oci-archive:$archive.partial:$image" >/dev/null
mv "$archive.partial" "$archive"
echo "$want" >"$archive.inputs"
# Layers of earlier builds that no tag leads to any more: without this, every code change
# would leave a few hundred MB behind in .cache/image/containers.
bah rmi --prune >/dev/null 2>&1 || true
log "built $image into $archive in $(( $(date +%s) - started ))s"
cd "$root" && exec python3 -m tools.image.oci report "$archive"
