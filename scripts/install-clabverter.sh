#!/usr/bin/env bash
# clabverter, clabernetes' converter of a containerlab topology into Kubernetes manifests
# (docs/training.md, "A class"), pinned, built from the Go module proxy into DEST (default:
# the mplslab cache's bin/, beside containerlab, where tests/unit/test_clabverter.py finds it).
# Not needed to run mplslab: only to move a class onto Kubernetes with clabernetes.
# Needs Go >= 1.22 (the pinned module list is scripts/clabverter/go.mod).
set -euo pipefail
VERSION=0.1.0
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-${MPLSLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mplslab}/bin}"
if [ -x "$dest/clabverter" ] && "$dest/clabverter" --version 2>/dev/null | grep -q "version: $VERSION"; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "error: building clabverter needs Go >= 1.22 (https://go.dev/doc/install)" >&2
  exit 2
fi
mkdir -p "$dest"
echo "building clabverter $VERSION with $(go version | cut -d' ' -f3) (a few minutes the first time)"
cd "$here/clabverter"
CGO_ENABLED=0 go build -mod=readonly -trimpath \
  -ldflags "-s -w -X github.com/srl-labs/clabernetes/constants.Version=$VERSION" \
  -o "$dest/clabverter.partial" github.com/srl-labs/clabernetes/cmd/clabverter
mv "$dest/clabverter.partial" "$dest/clabverter"
"$dest/clabverter" --version | grep "version:"
