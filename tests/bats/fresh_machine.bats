#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The README's commands on a machine that has never seen the project: the
# kernel build tree does not exist until the dependency step of the same
# "make demo" / "make check" has installed it.  In a private mount
# namespace /lib/modules is hidden behind an empty tmpfs, and a stand-in
# dependency step puts the real one back, as apt-get installing
# linux-headers-amd64 would.  "make build" (what check and demo run first)
# must then build the module in that same run.

load helpers

setup() {
	command -v unshare > /dev/null || skip "no unshare"
	[ -d /lib/modules ] || skip "no /lib/modules"
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/src" "$T/real"
	cp "$TOP/Makefile" "$T/src/"
	cp -r "$TOP/kmod" "$T/src/"
	rm -f "$T/src/kmod/src/"*.o "$T/src/kmod/src/"*.ko
	unshare -m true 2> /dev/null || skip "cannot make a mount namespace here"
	printf '#!/bin/sh\nmount --bind "%s" /lib/modules\n' "$T/real" > "$T/fake-deps"
	chmod +x "$T/fake-deps"
}

@test "fresh machine: make builds the module in the run that installs the kernel tree" {
	run unshare -m sh -c '
		mount --make-rprivate / &&
		mount --bind /lib/modules "$1/real" &&
		mount -t tmpfs none /lib/modules &&
		[ -z "$(ls /lib/modules)" ] &&
		make -C "$1/src" DEPS_CMD="$1/fake-deps" USER_DIRS= build' sh "$T"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"no kernel build tree"* ]]
	[ -f "$T/src/kmod/src/scoutfs.ko" ]
}
