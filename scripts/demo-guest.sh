# SPDX-License-Identifier: GPL-2.0
# scripts/demo-guest.sh: the demo's steps inside the VM (see scripts/demo).
set -eu
step() { echo; echo "\$ $*"; "$@"; }

echo "kernel: $(uname -r), disks: $(ls /dev/vd? | tr '\n' ' ')"
step grep -w scoutfs /proc/filesystems
step sh -c 'lsmod | grep -w scoutfs'
step rmmod scoutfs
echo "scoutfs registered after rmmod: $(grep -cw scoutfs /proc/filesystems || true)"
step insmod "$SCOUTFS_MODULE"
step grep -w scoutfs /proc/filesystems
echo; echo "the scoutfs tools:"; scoutfs help
