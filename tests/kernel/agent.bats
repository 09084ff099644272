#!/usr/bin/env bats
# hsm-agent end to end against the real module, with the directory
# backend: files archived by policy (archive sets), released when the
# data device passes the high watermark, read back through data waiting
# (the stager), with identical checksums; a file modified while it is
# being archived never released on the copy that was being made; all
# copies unreachable: the reader gets EIO within the stage timeout; one
# copy corrupt: the other copy is used; and the same round trip with the
# kill -9 of the agent in the middle of archiving and a restart (the S3
# cases are agent3.bats).
#
# The data device is a 48 MiB dm-linear slice of $DATA, so a few MiB of
# files move its usage across the watermarks quickly under TCG.  The
# catalog, the archive and the agent's socket and log are on the guest's
# tmpfs (small); the agent's status (scoutfs-hsm status --json) is how the
# test sees what it did.  The setup and helpers are agent_helpers.bash,
# shared with agent2.bats to agent4.bats.
load helpers
load agent_helpers

@test "archived by policy, released past the high watermark, read back through data waiting with identical checksums" {
	write_conf 'high_watermark = 50; low_watermark = 10; interval = 1; min_residence = "10m";' \
		'timeout = 60; poll_ms = 100;'
	start_agent
	mkdir "$MNT/data" "$MNT/scratch"
	# 5 x 6 MiB: 62% of the data device; one scratch file never archived
	for i in 1 2 3 4 5; do
		head -c $((6 * 1024 * 1024)) /dev/urandom > "$MNT/data/f$i"
		sum[$i]=$(sha256sum < "$MNT/data/f$i")
	done
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/scratch/tmp"
	sync
	# 62% if nothing were released: the releaser starts at 50% (while
	# they are being written and archived) and goes on down to 10%
	wait_until 120 "[ \$(st 'w(\"archiver\")[\"copies_made\"]') -eq 5 ]"
	wait_until 60 "offline $MNT/data/f1 && offline $MNT/data/f2 && offline $MNT/data/f3 && offline $MNT/data/f4 && offline $MNT/data/f5"
	echo "# usage after the releases: $(used_pct)%" >&3
	[ "$(used_pct)" -le 10 ]
	grep -q "releasing down to the low watermark" "$LOG"
	# size and data_version kept; the scratch file neither archived nor released
	[ "$(stat -c %s "$MNT/data/f3")" -eq $((6 * 1024 * 1024)) ]
	[ "$(scoutfs stat -s offline_blocks "$MNT/scratch/tmp")" -eq 0 ]
	[ "$(find "$A/archive" -type f | wc -l)" -ge 5 ]
	[ "$(st 'w("releaser")["released_files"]')" -eq 5 ]
	# reading waits for the data; the stager brings it back
	for i in 1 2 3 4 5; do
		got=$(timeout 60 sha256sum < "$MNT/data/f$i")
		[ "$got" = "${sum[$i]}" ]
		[ "$(scoutfs stat -s offline_blocks "$MNT/data/f$i")" -eq 0 ]
	done
	[ "$(st 'w("stager")["staged_files"]')" -eq 5 ]
	[ "$(st 'w("stager")["failures"]')" -eq 0 ]
	# above the high mark again, but staged within min_residence: kept
	sleep 3
	[ "$(st 'w("releaser")["released_files"]')" -eq 5 ]
	grep -q "released /data/f1" "$LOG"
	grep -q "staged /data/f1" "$LOG"
	scoutfs-hsm status --socket "$SOCK" | sed 's/^/# /' >&3
}

@test "a file modified while it is being archived: that copy is discarded, the release is of a copy of its new contents" {
	# 1 MiB/s to the backend: the 8 MiB copy takes about 8 s
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 60;' 'bandwidth = "1M";'
	start_agent
	head -c $((8 * 1024 * 1024)) /dev/urandom > "$MNT/f"
	sync
	dv0=$(scoutfs stat -s data_version "$MNT/f")
	# the archiver's state in its (debug) log: cheaper to poll than the status
	wait_until 60 "grep -q 'debug: archiver: archiving /f\$' $LOG"
	# change a block in the middle while the copy is being read
	head -c 4096 /dev/urandom | dd of="$MNT/f" bs=4096 seek=1024 conv=notrunc status=none
	sync
	new=$(sha256sum < "$MNT/f")
	dv1=$(scoutfs stat -s data_version "$MNT/f")
	[ "$dv1" -gt "$dv0" ]
	wait_until 60 "[ \$(st 'w(\"archiver\")[\"discarded_changed\"]') -ge 1 ]"
	grep -q "/f changed while copy 1 was made" "$LOG"
	# the new version is archived, then released
	wait_until 60 "offline $MNT/f"
	[ "$(st 'w("archiver")["copies_made"]')" -eq 1 ]
	# released at its new data_version, on the copy of that version
	grep -q "archived /f (data_version $dv1, 8388608 bytes) as copy 1" "$LOG"
	grep -q "released /f (data_version $dv1," "$LOG"
	! grep -q "released /f (data_version $dv0," "$LOG"
	got=$(timeout 60 sha256sum < "$MNT/f")
	[ "$got" = "$new" ]
}

@test "all copies unreachable: the reader gets EIO within the stage timeout" {
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 5; retries = 1; retry_backoff_ms = 200;'
	start_agent
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/f"
	sync
	wait_until 60 "offline $MNT/f"
	mv "$A/archive" "$A/archive.gone"
	start=$SECONDS
	run timeout 30 cat "$MNT/f"
	elapsed=$((SECONDS - start))
	echo "# the reader failed after $elapsed s: $output" >&3
	[ "$status" -eq 1 ]
	[[ "$output" == *"Input/output error"* ]]
	[ "$elapsed" -le 7 ]
	[ "$(st 'w("stager")["failures"]')" -ge 1 ]
	grep -q "stager: readers of /f (inode [0-9]*) get EIO" "$LOG"
	# the copy back: the next reader is served
	mv "$A/archive.gone" "$A/archive"
	[ "$(timeout 60 cat "$MNT/f" | wc -c)" -eq $((1024 * 1024)) ]
}

@test "two copies on two backends, the first corrupt: the reader is served from the second" {
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 60; retries = 0;' '' \
		'{ name = "two"; copies = ( { backend = "disk"; age = 0; }, { backend = "disk2"; age = 0; } ); }'
	start_agent
	head -c $((2 * 1024 * 1024)) /dev/urandom > "$MNT/f"
	sum=$(sha256sum < "$MNT/f")
	sync
	wait_until 60 "offline $MNT/f"
	[ "$(st 'w("archiver")["copies_made"]')" -eq 2 ]
	# flip bytes in the middle of copy 1 (the data file on "disk")
	obj=$(find "$A/archive" -type f -size +1M | head -1)
	[ -n "$obj" ]
	printf 'corrupt!' | dd of="$obj" bs=1 seek=100000 conv=notrunc status=none
	got=$(timeout 60 sha256sum < "$MNT/f")
	[ "$got" = "$sum" ]
	grep -q "staged /f .* from copy 2 on 'disk2'" "$LOG"
}

@test "pins (a norelease set, the pin xattr) stay online; keep_first_kib keeps the head online, readable without a stage" {
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 60;' '' \
		'{ name = "keep"; match = { path = "/keep/*"; }; copies = ( { backend = "disk"; age = 0; } ); keep_first_kib = 64; },
		 { name = "pinned"; match = { path = "/pinned/*"; }; copies = ( { backend = "disk"; age = 0; } ); norelease = true; },
		 { name = "all"; copies = ( { backend = "disk"; age = 0; } ); }'
	mkdir "$MNT/keep" "$MNT/pinned"
	for f in keep/k pinned/p x y; do
		head -c $((1024 * 1024)) /dev/urandom > "$MNT/$f"
	done
	setfattr -n user.hsm.norelease -v 1 "$MNT/x"
	head_sum=$(head -c 65536 "$MNT/keep/k" | sha256sum)
	sync
	start_agent
	wait_until 60 "offline $MNT/y && [ \$(scoutfs stat -s offline_blocks $MNT/keep/k) -eq 240 ]"
	[ "$(scoutfs stat -s online_blocks "$MNT/keep/k")" -eq 16 ]
	# all four archived, the pinned two never released
	wait_until 30 "[ \$(st 'w(\"archiver\")[\"copies_made\"]') -eq 4 ]"
	sleep 2
	[ "$(scoutfs stat -s offline_blocks "$MNT/pinned/p")" -eq 0 ]
	[ "$(scoutfs stat -s offline_blocks "$MNT/x")" -eq 0 ]
	[ "$(st 'w("releaser")["last_pass_skipped"]["pinned"]')" -ge 2 ]
	# the kept head reads at once, no stage
	[ "$(timeout 10 head -c 65536 "$MNT/keep/k" | sha256sum)" = "$head_sum" ]
	[ "$(st 'w("stager")["staged_files"]')" -eq 0 ]
}

@test "kill -9 in the middle of archiving, then a restart: the work is recovered and completes, nothing released without a verified copy" {
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 60;' 'bandwidth = "1M";'
	# 1 MiB/s: 2 s a copy, so the kill lands inside one
	for i in 1 2 3 4; do
		head -c $((2 * 1024 * 1024)) /dev/urandom > "$MNT/f$i"
		sum[$i]=$(sha256sum < "$MNT/f$i")
	done
	sync
	start_agent
	wait_until 60 "grep -q 'debug: archiver: archiving /f' $LOG"
	sleep 0.5
	kill -9 "$AGENT_PID"
	wait "$AGENT_PID" || true
	AGENT_PID=
	cp "$LOG" "$A/agent-killed.log"
	# whatever is offline now was released on a verified copy
	for i in 1 2 3 4; do
		if offline "$MNT/f$i"; then
			grep -q "archived /f$i " "$A/agent-killed.log"
		fi
	done
	start_agent
	grep -q "archiver: recovered [1-9][0-9]* requests" "$LOG" ||
		wait_until 10 "grep -q 'archiver: recovered [1-9][0-9]* requests' $LOG"
	wait_until 90 "offline $MNT/f1 && offline $MNT/f2 && offline $MNT/f3 && offline $MNT/f4"
	for i in 1 2 3 4; do
		[ "$(timeout 60 sha256sum < "$MNT/f$i")" = "${sum[$i]}" ]
	done
}
