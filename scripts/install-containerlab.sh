#!/usr/bin/env bash
# containerlab, pinned, built from the Go module proxy into DEST (default: the mplslab cache,
# where `mplslab up --runtime clab` finds it and copies it into the micro-VM). Debian has no
# containerlab package; a user's own containerlab (upstream packages) on PATH is used first.
# Needs Go >= 1.26 (the pinned module list is scripts/containerlab/go.mod).
set -euo pipefail
VERSION=0.79.0
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-${MPLSLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mplslab}/bin}"
if [ -x "$dest/containerlab" ] && CLAB_VERSION_CHECK=disable "$dest/containerlab" version 2>/dev/null | grep -q "version: $VERSION"; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "error: building containerlab needs Go >= 1.26 (https://go.dev/doc/install), or install containerlab $VERSION from its own packages" >&2
  exit 2
fi
mkdir -p "$dest"
echo "building containerlab $VERSION with $(go version | cut -d' ' -f3) (a few minutes the first time)"
cd "$here/containerlab"
# Static (no cgo); the tags keep out the C libraries of podman's image code.
CGO_ENABLED=0 go build -mod=readonly -trimpath \
  -tags containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,remote \
  -ldflags "-s -w -X github.com/srl-labs/containerlab/cmd.Version=$VERSION" \
  -o "$dest/containerlab.partial" github.com/srl-labs/containerlab
mv "$dest/containerlab.partial" "$dest/containerlab"
CLAB_VERSION_CHECK=disable "$dest/containerlab" version | grep "version:"
