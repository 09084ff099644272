#!/usr/bin/env bats
# The scoutfs and scoutfs-hsm programs dispatch subcommands from one table.
load helpers

@test "scoutfs help lists its subcommands and exits 0" {
	run scoutfs help
	[ "$status" -eq 0 ]
	[[ "$output" == *"version"* ]]
}

@test "scoutfs with no command prints usage and exits 2" {
	run scoutfs
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: scoutfs COMMAND"* ]]
}

@test "an unknown scoutfs command is a usage error naming the command" {
	run scoutfs no-such-command
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'no-such-command'"* ]]
}

@test "scoutfs-hsm version prints the version" {
	run scoutfs-hsm version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
}
