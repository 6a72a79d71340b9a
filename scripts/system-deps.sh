#!/usr/bin/env bash
# Debian packages the tool needs on the host: QEMU (the micro-VM), mmdebstrap (the appliance
# root filesystem; e2fsprogs makes the micro-VM's root disk of it), iproute2/kmod (namespaces),
# busybox-static (virtme-ng's initramfs),
# the ssh client (interactive `mplslab exec`), Graphviz (`mplslab graph`, `mplslab report`),
# headless Chromium (the tests open `mplslab report`'s page in it), tshark (the tests decode
# `mplslab capture`'s pcap with it) and tmux (the tests drive a shell on a router through it,
# as a user at a terminal). Installs only what is missing.
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v modprobe >/dev/null || need+=(kmod)
command -v ip >/dev/null || need+=(iproute2)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v ssh >/dev/null || need+=(openssh-client)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v dot >/dev/null || need+=(graphviz)
command -v chromium-headless-shell >/dev/null || need+=(chromium-headless-shell)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v tshark >/dev/null || need+=(tshark)
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${need[*]} (run 'make setup' as root, or apt-get install them)" >&2
  exit 2
fi
echo "installing Debian packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
