#!/bin/sh
# make-base.sh: make Debian 12 (bookworm) base images without an image registry.
#
# What: builds a bookworm "minbase" root with debootstrap and `docker import`s it
# as $SMALGO_BASE_IMAGE (default smalgo-base:bookworm), a stand-in for
# debian:bookworm-slim (same release, same dpkg path excludes, so same size class).
#
# Why: docker/Dockerfile starts FROM debian:bookworm-slim, which a machine with no
# registry cannot pull. Users with a registry never need this script.
#
# If apt-get cannot reach a Debian mirror from inside `docker build` (probed once,
# with --network=host), pass --provision (or SMALGO_BASE_PROVISION=1): the script
# then also makes two pre-provisioned images by running apt-get in a chroot of the
# debootstrap folder before import:
#   $SMALGO_BASE_IMAGE-build    the build dependencies (compiler, cmake, -dev packages)
#   $SMALGO_BASE_IMAGE-runtime  the runtime libraries, OpenMPI and the SSH server
# The Dockerfile's apt-get steps notice the packages are present and skip apt.
#
# Idempotent: an image that already exists is left alone (quick), unless --force.
# Needs root (debootstrap, chroot), debootstrap and a reachable Debian mirror.
#
# Usage: docker/make-base.sh [--force] [--provision]
# Environment: SMALGO_BASE_IMAGE (tag), SMALGO_BASE_DIR (work folder, default
# docker/base next to this script), DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tag=${SMALGO_BASE_IMAGE:-smalgo-base:bookworm}
workdir=${SMALGO_BASE_DIR:-$here/base}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=0
provision=${SMALGO_BASE_PROVISION:-0}

# Keep these two lists in step with docker/Dockerfile (BUILD_PACKAGES, RUNTIME_PACKAGES).
build_packages="gcc libc6-dev make cmake pkg-config protobuf-c-compiler libprotobuf-c-dev
libopenblas-dev liblapacke-dev libcjson-dev libcurl4-openssl-dev libmicrohttpd-dev
zlib1g-dev libopenmpi-dev openmpi-bin"
# Purged after install, as the Dockerfile does (RUNTIME_PURGE): hwloc's optional plugins.
runtime_purge="libhwloc-plugins libxml2 libicu72 libx11-6 libx11-data libxcb1 libxau6
libxdmcp6 libpciaccess0 libxext6 libxnvctrl0"
runtime_packages="libopenblas0-pthread liblapacke libprotobuf-c1 libcjson1 libcurl4
libmicrohttpd12 zlib1g openmpi-bin libopenmpi3 openssh-server openssh-client ca-certificates"

for arg in "$@"; do
    case "$arg" in
    --force) force=1 ;;
    --provision) provision=1 ;;
    -h | --help)
        sed -n '2,25p' "$0"
        exit 0
        ;;
    *)
        echo "make-base.sh: unknown option $arg" >&2
        exit 2
        ;;
    esac
done

log() { echo "make-base: $*" >&2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The debootstrap root, made once and reused by every image below.
make_rootfs() {
    root=$workdir/rootfs
    if [ -f "$root/.smalgo-complete" ]; then
        return 0
    fi
    rm -rf "$root"
    mkdir -p "$workdir"
    log "debootstrap bookworm minbase into $root (from $mirror)"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >&2
    # What debian:bookworm-slim does: no docs, man pages or locales; no apt caches.
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::GzipIndexes "true";
EOF
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$root/etc/apt/apt.conf.d/docker-no-recommends"
    cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    find "$root/usr/share/doc" -mindepth 2 ! -name copyright -type f -delete 2>/dev/null || true
    rm -rf "$root/usr/share/man"/* "$root/usr/share/info"/* "$root/usr/share/locale"/* \
        "$root/var/cache/apt"/*.bin "$root/var/cache/apt/archives"/*.deb "$root/var/log"/*.log \
        "$root/var/lib/apt/lists"/*
    touch "$root/.smalgo-complete"
}

# import ROOT TAG: tar a root folder into an image.
import_root() {
    log "docker import $2"
    tar -C "$1" --exclude=./.smalgo-complete --exclude=./proc/* --exclude=./sys/* \
        --exclude=./dev/* -cf - . |
        docker import --change 'CMD ["bash"]' \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "$2" >/dev/null
}

# provision TAG PACKAGES [PURGE]: copy the root, apt-get install in a chroot,
# dpkg --purge PURGE (dependencies forced), import.
provision() {
    if [ "$force" = 0 ] && have_image "$1"; then
        log "$1 exists"
        return 0
    fi
    dir=$workdir/$(echo "$1" | tr ':/' '__')
    rm -rf "$dir"
    cp -a "$workdir/rootfs" "$dir"
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    mount -t proc proc "$dir/proc"
    trap 'umount "$dir/proc" 2>/dev/null || true' EXIT
    pkgs=$(echo "$2" | tr '\n' ' ')
    chroot "$dir" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $pkgs >/dev/null && apt-get clean && \
        rm -rf /var/lib/apt/lists/*" >&2
    if [ -n "${3:-}" ]; then
        purge=$(echo "$3" | tr '\n' ' ')
        chroot "$dir" sh -c "dpkg --purge --force-depends $purge" >/dev/null 2>&1
    fi
    find "$dir/usr/share/doc" -type f ! -name copyright -delete
    rm -rf "$dir/usr/share/man"/* "$dir/var/log/apt" "$dir/var/log/dpkg.log"
    umount "$dir/proc"
    trap - EXIT
    : >"$dir/etc/resolv.conf"
    import_root "$dir" "$1"
    rm -rf "$dir"
}

if [ "$force" = 1 ] || ! have_image "$tag"; then
    make_rootfs
    import_root "$workdir/rootfs" "$tag"
else
    log "$tag exists"
fi

if [ "$provision" = 1 ]; then
    if [ "$force" = 1 ] || ! have_image "$tag-build" || ! have_image "$tag-runtime"; then
        make_rootfs
    fi
    provision "$tag-build" "$build_packages"
    provision "$tag-runtime" "$runtime_packages" "$runtime_purge"
fi
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep "^${tag%%:*}:" >&2 || true
