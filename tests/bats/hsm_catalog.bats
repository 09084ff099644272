#!/usr/bin/env bats
# scoutfs-hsm catalog check|backup: on-demand maintenance of the catalog.
load helpers

setup() {
	DB="$BATS_TEST_TMPDIR/cat.db"
	# an empty file: the tool creates the current schema in it
	touch "$DB"
}

@test "catalog check of a healthy catalog says ok" {
	run scoutfs-hsm catalog check --catalog "$DB"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$DB: ok"* ]]
}

@test "catalog backup makes a catalog that checks clean" {
	run scoutfs-hsm catalog --catalog "$DB" backup "$BATS_TEST_TMPDIR/copy.db"
	[ "$status" -eq 0 ]
	[ -s "$BATS_TEST_TMPDIR/copy.db" ]
	[ ! -e "$BATS_TEST_TMPDIR/copy.db.tmp" ]
	run scoutfs-hsm catalog check --catalog "$BATS_TEST_TMPDIR/copy.db"
	[ "$status" -eq 0 ]
}

@test "catalog check of a damaged catalog fails naming the file" {
	scoutfs-hsm catalog check --catalog "$DB"
	for i in $(seq 1 3000); do echo "INSERT INTO filesystems (fsid, mount_path) VALUES ('fs$i', '/mnt/a-long-enough-mount-path-$i');"; done |
		sqlite3 "$DB"
	sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
	size=$(stat -c %s "$DB")
	printf '\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5' |
		dd of="$DB" bs=1 seek=$((size - 8192)) conv=notrunc 2>/dev/null
	run scoutfs-hsm catalog check --catalog "$DB"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$DB"* ]]
	[[ "$output" == *corrupt* ]]
}

@test "catalog without a verb or catalog is a usage error" {
	run scoutfs-hsm catalog check
	[ "$status" -eq 2 ]
	run scoutfs-hsm catalog --catalog "$DB" frobnicate
	[ "$status" -eq 2 ]
}
