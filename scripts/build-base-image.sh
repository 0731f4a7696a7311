#!/usr/bin/env bash
# Builds a stand-in for the public node:20-bookworm-slim image from Debian
# packages, for machines that cannot pull from a registry: debootstrap a
# minimal bookworm, add the host's Node 20 (the one that runs this project)
# where the official image has it, add the `node` user (uid 1000), and import
# the tree into podman. Then build the server image with
#   podman build --build-arg BASE_IMAGE=localhost/emomix-base:node20-bookworm -t emomix .
# Run as root. Needs debootstrap and podman (apt-get install debootstrap podman).
set -euo pipefail

tag=${1:-localhost/emomix-base:node20-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/emomix-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

node_bin=$(command -v node)
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "build-base-image: need Node >= 20 on the host, found $(node -v)" >&2; exit 1; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || { echo "build-base-image: cannot find npm's folder (got $npm_dir)" >&2; exit 1; }

debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror"

install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" node --version

# What the slim image leaves out too: package lists, caches, docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

tar --numeric-owner -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$tag"
echo "built $tag"
