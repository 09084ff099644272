#!/usr/bin/env bats
# The module registers the scoutfs filesystem type and unloads cleanly.
# Runs in the VM (tests/vm/run loads the module before each test file).

@test "loaded module registers the scoutfs filesystem type" {
	grep -qw scoutfs /proc/filesystems
}

@test "rmmod unregisters scoutfs and insmod registers it again" {
	rmmod scoutfs
	! grep -qw scoutfs /proc/filesystems || false
	[ ! -d /sys/module/scoutfs ]
	insmod "$SCOUTFS_MODULE"
	grep -qw scoutfs /proc/filesystems
}
