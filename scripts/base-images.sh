#!/usr/bin/env bash
# Makes the three base images voc's Dockerfile names, for machines where no
# image can be pulled (Debian 12, root). They stand in for the official ones
# and are made from Debian's archive and this machine's own toolchains:
#   voc-test/debian:bookworm-slim      a bookworm rootfs (debootstrap
#                                      --variant=minbase), docs excluded as in
#                                      the official slim image: the runtime base
#   voc-test/node:20-bookworm-slim     the same rootfs + this machine's node
#                                      and npm under /usr/local
#   voc-test/rust:1.95-slim-bookworm   the same rootfs + gcc, libc6-dev, make,
#                                      perl, pkg-config, ca-certificates +
#                                      this machine's Rust toolchain (no docs)
#                                      in /usr/local/rustup, its commands in
#                                      /usr/local/cargo/bin (as the official
#                                      image lays them out)
# The builder images trust what this machine trusts (its CA bundle), so that
# builds in them reach the package registries as the machine does.
#
# Then: docker build --build-arg NODE_IMAGE=voc-test/node:20-bookworm-slim \
#         --build-arg RUST_IMAGE=voc-test/rust:1.95-slim-bookworm \
#         --build-arg RUNTIME_IMAGE=voc-test/debian:bookworm-slim -t voc .
#
# Idempotent: an image that exists is kept (remove it with `docker rmi` to
# make it again); the rootfs is kept in $WORK_DIR for the next image.
# Exit codes: 0 done, 1 failed, 3 Debian's archive cannot be reached (the
# only part that cannot exist on a machine without network: callers may
# skip on it).
set -euo pipefail

readonly RUNTIME_IMAGE=voc-test/debian:bookworm-slim
readonly NODE_IMAGE=voc-test/node:20-bookworm-slim
readonly RUST_IMAGE=voc-test/rust:1.95-slim-bookworm
readonly NODE_MAJOR=20
readonly RUST_VERSION=1.95
readonly MIRROR=${VOC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly WORK_DIR=${VOC_BASE_IMAGES_DIR:-/var/lib/voc-test/base-images}
readonly ROOTFS=$WORK_DIR/bookworm
readonly LOG=/var/log/voc-base-images.log
readonly PATH_IN_IMAGE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf 'base-images: %s\n' "$*" >&2; }
die() { printf 'base-images: error: %s\n' "$*" >&2; exit 1; }
elapsed() { echo "$((SECONDS - $1))s"; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot need it)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    die "the Docker engine does not answer: run scripts/engine-up.sh first"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
if have_image "$RUNTIME_IMAGE" && have_image "$NODE_IMAGE" && have_image "$RUST_IMAGE"; then
    say "all three images exist ($RUNTIME_IMAGE, $NODE_IMAGE, $RUST_IMAGE)"
    exit 0
fi

# One run at a time: two test runs may start together on one machine.
mkdir -p "$WORK_DIR"
exec 9>"$WORK_DIR/.lock"
flock -w 3600 9 || die "another base-images.sh has held $WORK_DIR/.lock for an hour"

# --- what this machine must provide ----------------------------------------------

node_bin=$(command -v node) || die "node is missing: install Node.js $NODE_MAJOR (Debian's or nodesource's nodejs)"
node_bin=$(readlink -f "$node_bin")
[[ $("$node_bin" --version) == v$NODE_MAJOR.* ]] ||
    die "node $("$node_bin" --version) is not Node.js $NODE_MAJOR"
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")") ||
    die "npm is missing"
[[ -f $npm_dir/package.json ]] || die "npm's package folder was not found (looked in $npm_dir)"
rust_sysroot=$(rustc --print sysroot) || die "rustc is missing: install Rust $RUST_VERSION with rustup"
rust_full_version=$(rustc --version | awk '{print $2}')
[[ $rust_full_version == "$RUST_VERSION".* ]] ||
    die "rustc $rust_full_version is not Rust $RUST_VERSION, which $RUST_IMAGE is named after"
[[ -x $rust_sysroot/bin/cargo ]] || die "the toolchain $rust_sysroot has no cargo"
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[[ -f $CA_BUNDLE ]] || die "$CA_BUNDLE is missing (package ca-certificates)"

# --- the rootfs -----------------------------------------------------------------

# archive_answers : Debian's archive serves bookworm's release file (with
# curl or wget, whichever exists; debootstrap brings wget).
archive_answers() {
    local url=$MIRROR/dists/bookworm/InRelease
    if command -v curl >/dev/null; then
        curl -fsS --max-time 30 -o /dev/null "$url"
    elif command -v wget >/dev/null; then
        wget -q -T 30 -t 1 -O /dev/null "$url"
    fi
}

if [[ ! -f $ROOTFS/.voc-complete ]]; then
    if ! archive_answers; then
        say "Debian's archive $MIRROR cannot be reached: no rootfs can be made here"
        exit 3
    fi
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap (log: $LOG)"
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap; } \
            >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "apt-get install debootstrap failed"; }
    fi
    started=$SECONDS
    say "debootstrap bookworm (minbase) from $MIRROR into $ROOTFS (log: $LOG)"
    rm -rf "$ROOTFS" "$ROOTFS.partial"
    debootstrap --variant=minbase bookworm "$ROOTFS.partial" "$MIRROR" >>"$LOG" 2>&1 ||
        { tail -n 20 "$LOG" >&2; die "debootstrap failed"; }
    # As the official image: the archive, its updates and security fixes.
    rm -f "$ROOTFS.partial/etc/apt/sources.list"
    cat >"$ROOTFS.partial/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # As the official slim image: packages install no docs, man pages or
    # translations, and apt keeps no downloaded package.
    cat >"$ROOTFS.partial/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
    cat >"$ROOTFS.partial/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Binary::apt::APT::Keep-Downloaded-Packages "false";
EOF
    find "$ROOTFS.partial/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$ROOTFS.partial"/usr/share/{man,info,groff,lintian,linda}/* "$ROOTFS.partial"/var/cache/apt/*.bin \
        "$ROOTFS.partial"/var/cache/apt/archives/*.deb "$ROOTFS.partial"/var/lib/apt/lists/*
    find "$ROOTFS.partial/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    : >"$ROOTFS.partial/etc/resolv.conf"
    touch "$ROOTFS.partial/.voc-complete"
    mv "$ROOTFS.partial" "$ROOTFS"
    say "debootstrap took $(elapsed "$started")"
fi

# import DIR IMAGE CHANGE... : DIR's files as image IMAGE (the marker file left out).
import() {
    local dir=$1 image=$2
    shift 2
    local changes=() change
    for change in "$@"; do changes+=(--change "$change"); done
    tar -C "$dir" --numeric-owner --exclude=./.voc-complete -c . |
        docker import "${changes[@]}" - "$image" >/dev/null
}

# builder_root NAME : sets `root` to a fresh copy of the rootfs for a builder
# image, in which apt-get can run (DNS from this machine, /proc mounted until
# finish_root or the script's end).
mounted=()
cleanup() {
    local m
    for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
builder_root() {
    root=$WORK_DIR/$1
    rm -rf "$root"
    cp -a "$ROOTFS" "$root"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    mounted+=("$root/proc")
}
# in_root ROOT CMD... : CMD in the chroot ROOT, its output to the log.
in_root() {
    local root=$1
    shift
    DEBIAN_FRONTEND=noninteractive chroot "$root" env PATH="$PATH_IN_IMAGE" "$@" >>"$LOG" 2>&1 ||
        { tail -n 20 "$LOG" >&2; die "in $root: $* failed"; }
}
finish_root() {
    local root=$1
    in_root "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/*
    umount "$root/proc"
    : >"$root/etc/resolv.conf"
}

if ! have_image "$RUNTIME_IMAGE"; then
    started=$SECONDS
    import "$ROOTFS" "$RUNTIME_IMAGE" "ENV PATH=$PATH_IN_IMAGE" 'CMD ["bash"]'
    say "$RUNTIME_IMAGE imported in $(elapsed "$started")"
fi

if ! have_image "$NODE_IMAGE"; then
    started=$SECONDS
    builder_root node
    install -m 0755 "$node_bin" "$root/usr/local/bin/node"
    mkdir -p "$root/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    # Node reads its own CA list, not the system's: it is told of this machine's.
    mkdir -p "$root/usr/local/share/voc-test"
    cp "$CA_BUNDLE" "$root/usr/local/share/voc-test/ca-certificates.crt"
    in_root "$root" node --version
    in_root "$root" npm --version
    finish_root "$root"
    import "$root" "$NODE_IMAGE" "ENV PATH=$PATH_IN_IMAGE" \
        "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/voc-test/ca-certificates.crt" 'CMD ["node"]'
    rm -rf "$root"
    say "$NODE_IMAGE made in $(elapsed "$started")"
fi

if ! have_image "$RUST_IMAGE"; then
    started=$SECONDS
    builder_root rust
    in_root "$root" apt-get update
    in_root "$root" apt-get install -y --no-install-recommends \
        ca-certificates gcc libc6-dev make perl pkg-config
    # This machine's trust, kept by update-ca-certificates whenever the
    # package ca-certificates is configured again.
    cp "$CA_BUNDLE" "$root/usr/local/share/ca-certificates/voc-test-machine.crt"
    in_root "$root" update-ca-certificates
    toolchain=/usr/local/rustup/toolchains/$rust_full_version-x86_64-unknown-linux-gnu
    mkdir -p "$root$toolchain" "$root/usr/local/cargo/bin"
    tar -C "$rust_sysroot" --exclude=./share/doc -c . | tar -C "$root$toolchain" -x
    for command in "$root$toolchain"/bin/*; do
        ln -s "$toolchain/bin/$(basename "$command")" "$root/usr/local/cargo/bin/$(basename "$command")"
    done
    in_root "$root" env PATH="/usr/local/cargo/bin:$PATH_IN_IMAGE" cargo --version
    in_root "$root" env PATH="/usr/local/cargo/bin:$PATH_IN_IMAGE" rustc --version
    finish_root "$root"
    import "$root" "$RUST_IMAGE" "ENV PATH=/usr/local/cargo/bin:$PATH_IN_IMAGE" \
        "ENV RUSTUP_HOME=/usr/local/rustup" "ENV CARGO_HOME=/usr/local/cargo" 'CMD ["bash"]'
    rm -rf "$root"
    say "$RUST_IMAGE made in $(elapsed "$started")"
fi
say "done: $RUNTIME_IMAGE, $NODE_IMAGE, $RUST_IMAGE"
