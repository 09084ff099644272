#!/usr/bin/env bats
# hsm-agent commands and limits against the real module, with the
# directory backend (and a file-backed tape): `scoutfs-hsm release
# --dry-run` (the releaser's own choice, listed, nothing released),
# `scoutfs-hsm release` (a pass now), `scoutfs-hsm stage --list` (bulk
# prestage in tape position order, behind waiting readers, an error per
# file that cannot be staged) and the stager's recall-storm guard (queue
# and eagain, by queued files and by bytes per window).
# The setup and helpers are agent_helpers.bash, shared with agent.bats.
load helpers
load agent_helpers

@test "release --dry-run lists the candidates, why and their copies, and releases nothing; release then releases them" {
	# never past the high mark by itself: only `scoutfs-hsm release` releases
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 60;' '' \
		'{ name = "pinned"; match = { path = "/pinned/*"; }; copies = ( { backend = "disk"; age = 0; } ); norelease = true; },
		 { name = "scratch"; match = { path = "/scratch/*"; }; never_archive = true; },
		 { name = "all"; copies = ( { backend = "disk"; age = 0; } ); }'
	mkdir "$MNT/pinned" "$MNT/scratch"
	head -c $((2 * 1024 * 1024)) /dev/urandom > "$MNT/big"
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/small"
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/pinned/p"
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/scratch/s"
	sync
	start_agent
	wait_until 90 "[ \$(st 'w(\"archiver\")[\"copies_made\"]') -eq 3 ]"

	# the list as JSON: the two archived, unpinned files, biggest first
	# (weighted order), each safe by its verified copy 1 on 'disk'
	scoutfs-hsm release --dry-run --json --socket "$SOCK" "$MNT" > "$A/dry.json"
	python3 - "$A/dry.json" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	c = d["candidates"]
	assert [x["path"] for x in c] == ["big", "small"], c
	assert all(x["release"] for x in c), c
	assert c[0]["size"] == 2 * 1024 * 1024 and c[0]["release_bytes"] == 2 * 1024 * 1024
	assert c[0]["weight"] >= c[1]["weight"]
	for x in c:
	    assert [(k["copy"], k["backend"]) for k in x["copies"]] == [(1, "disk")], x
	    assert x["copies"][0]["verified_at"] > 0, x
	assert d["releasing_now"] is False, d
	assert d["skipped"]["pinned"] == 1, d["skipped"]
	assert d["skipped"]["no_archive_set"] >= 1, d["skipped"]
	assert d["high_watermark"] == 100 and d["low_watermark"] == 0
	PY
	# in words
	run scoutfs-hsm release --dry-run --socket "$SOCK" "$MNT"
	echo "$output" | sed 's/^/# /' >&3
	[ "$status" -eq 0 ]
	[[ "$output" == *"below the high watermark, the releaser releases nothing now; \`scoutfs-hsm release\` would release 2 of 2 candidates (weighted order)"* ]]
	[[ "$output" == *"  release /big: 2.0 MiB of 2.0 MiB, accessed "*", safe by copy 1 on 'disk' verified "* ]]
	[[ "$output" == *"  release /small: 1.0 MiB of 1.0 MiB"* ]]
	[[ "$output" == *"skipped:"*"1 pinned"* ]]
	[[ "$output" == *"dry run: nothing was released"* ]]
	# nothing was released
	for f in big small pinned/p scratch/s; do
		[ "$(scoutfs stat -s offline_blocks "$MNT/$f")" -eq 0 ]
	done
	[ "$(st 'w("releaser")["released_files"]')" -eq 0 ]
	! grep -q "released /" "$LOG"

	# a pass now: the two listed are released, the pinned and scratch not
	run scoutfs-hsm release --socket "$SOCK" --timeout 120 "$MNT"
	echo "# $output" >&3
	[ "$status" -eq 0 ]
	[[ "$output" == "released 2 files (3145728 bytes) of 2 candidates"* ]]
	offline "$MNT/big"
	offline "$MNT/small"
	[ "$(scoutfs stat -s offline_blocks "$MNT/pinned/p")" -eq 0 ]
	[ "$(scoutfs stat -s offline_blocks "$MNT/scratch/s")" -eq 0 ]
	grep -q "releaser: asked to release now (scoutfs-hsm release)" "$LOG"
	# and the dry run now has nothing left to list
	scoutfs-hsm release --dry-run --json --socket "$SOCK" "$MNT" > "$A/dry2.json"
	[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["candidates"]))' "$A/dry2.json")" -eq 0 ]
}

@test "stage --list: the listed files are prestaged in tape position order; a clear error per file that cannot be staged, exit 1" {
	EXTRA_BACKEND=$(tape_backend)
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 30; retries = 0;' '' \
		'{ name = "scratch"; match = { path = "/scratch/*"; }; never_archive = true; },
		 { name = "disk"; match = { path = "/d/*"; }; copies = ( { backend = "disk"; age = 0; } ); },
		 { name = "tape"; copies = ( { backend = "tape"; age = 0; } ); }'
	mkdir "$MNT/scratch" "$MNT/d" "$MNT/t"
	for i in 1 2 3 4 5; do
		head -c $((256 * 1024 + i)) /dev/urandom > "$MNT/t/f$i"
		sum[$i]=$(sha256sum < "$MNT/t/f$i")
	done
	head -c $((64 * 1024)) /dev/urandom > "$MNT/d/x"
	head -c 4096 /dev/urandom > "$MNT/scratch/s"
	sync
	start_agent
	wait_until 120 "[ \$(st 'w(\"archiver\")[\"copies_made\"]') -eq 6 ]"
	scoutfs-hsm release --socket "$SOCK" --timeout 120 "$MNT"
	for i in 1 2 3 4 5; do offline "$MNT/t/f$i"; done
	offline "$MNT/d/x"
	# on the one volume, in the order they were archived
	order=$(archive_order tape)
	echo "# tape order: $order" >&3
	[ "$(echo $order | wc -w)" -eq 5 ]
	# d/x's copy gone: its stage fails in the stager, with the reason
	mv "$A/archive" "$A/archive.gone"
	{
		for f in $(echo $order | tr ' ' '\n' | tac); do echo "$MNT/$f"; done
		echo "$MNT/nothing-here"
		echo "$MNT/d/x"
		echo "$MNT/scratch/s"
		echo ""
	} > "$A/list"
	run scoutfs-hsm stage --list "$A/list" --socket "$SOCK" "$MNT"
	echo "$output" | sed 's/^/# /' >&3
	[ "$status" -eq 1 ]
	[[ "$output" == *"6 files queued for staging, 1 already online, 1 cannot be staged"* ]]
	[[ "$output" == *"scoutfs-hsm stage: $MNT/nothing-here: No such file or directory"* ]]
	[[ "$output" == *"scoutfs-hsm stage: $MNT/d/x: copy 1: backend 'disk': dir: $A/archive: No such file or directory"* ]]
	[[ "$output" == *"6 of 6 done: 5 staged, 1 failed"* ]]
	[[ "$output" == *"5 files staged, 1 were online, 2 failed"* ]]
	# staged, identical, in the tape's order (not the list's)
	for i in 1 2 3 4 5; do
		[ "$(scoutfs stat -s offline_blocks "$MNT/t/f$i")" -eq 0 ]
		[ "$(sha256sum < "$MNT/t/f$i")" = "${sum[$i]}" ]
	done
	staged=$(sed -n "s#.*info: prestaged /\([^ ]*\) .* on 'tape'.*#\1#p" "$LOG" | tr '\n' ' ')
	echo "# prestage order: $staged" >&3
	[ "$staged" = "$order" ]
	offline "$MNT/d/x"
	grep -q "stager: prestage of /d/x (inode [0-9]*) failed: copy 1: backend 'disk'" "$LOG"
	[ "$(st 'w("stager")["prestaged_files"]')" -eq 5 ]
	[ "$(st 'w("stager")["prestage_failures"]')" -eq 1 ]
	# no reader was given an error
	[ "$(st 'w("stager")["failures"]')" -eq 0 ]
	# no agent: a clear refusal, nothing queued
	run scoutfs-hsm stage --list "$A/list" --socket "$A/none.sock" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == "scoutfs-hsm stage: no agent answers on $A/none.sock: "*"--no-wait --catalog PATH"* ]]
}

@test "stage --list runs behind waiting readers: a reader that waits is served before the next prestage" {
	# 1 MiB/s from the backend: each 1 MiB prestage takes about a second
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 120;' 'bandwidth = "1M";'
	for i in 1 2 3 4 5 6 7 8; do
		head -c $((1024 * 1024)) /dev/urandom > "$MNT/p$i"
	done
	head -c $((1024 * 1024)) /dev/urandom > "$MNT/reader"
	rsum=$(sha256sum < "$MNT/reader")
	sync
	start_agent
	wait_until 120 "[ \$(st 'w(\"archiver\")[\"copies_made\"]') -eq 9 ]"
	scoutfs-hsm release --socket "$SOCK" --timeout 120 "$MNT"
	offline "$MNT/reader"
	for i in 1 2 3 4 5 6 7 8; do echo "$MNT/p$i"; done > "$A/list"
	scoutfs-hsm stage --list "$A/list" --socket "$SOCK" "$MNT" > "$A/stage.out" 2>&1 &
	stage_pid=$!
	wait_until 60 "grep -q 'info: prestaged /p' $LOG"
	sha256sum < "$MNT/reader" > "$A/reader.sum" &
	reader_pid=$!
	ino=$(stat -c %i "$MNT/reader")
	# the reader is waiting (or already served): count the prestages done
	wait_until 60 "scoutfs data-waiting -p $MNT | grep -q '^ino $ino ' || grep -q 'info: staged /reader ' $LOG"
	before=$(grep -c 'info: prestaged /p' "$LOG")
	wait "$reader_pid"
	[ "$(cat "$A/reader.sum")" = "$rsum" ]
	wait "$stage_pid"
	cat "$A/stage.out" | sed 's/^/# /' >&3
	grep -q "8 files staged, 0 were online, 0 failed" "$A/stage.out"
	# at most the prestage under way when it began to wait came first
	grep -E "info: (pre)?staged /" "$LOG" | sed 's/^/# /' >&3
	line=$(grep -E "info: (pre)?staged /" "$LOG" | grep -n "info: staged /reader " | cut -d: -f1)
	echo "# prestages done when the reader waited: $before; the reader's stage is stage $line of 9" >&3
	[ "$line" -le $((before + 2)) ]
}

@test "recall-storm guard, bytes per window, queue (the default): a reader past the limit is held, not failed, and served once the limit allows" {
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 300; window = "1h"; window_bytes = "4K";'
	archived_and_released 2
	# the first stage of the window is allowed, and uses it up
	[ "$(timeout 60 sha256sum < "$MNT/f1")" = "${sum[1]}" ]
	sha256sum < "$MNT/f2" > "$A/f2.sum" &
	reader=$!
	wait_until 60 "[ \$(st 'w(\"stager\")[\"waiting_files\"]') -eq 1 ]"
	wait_until 30 "st 'w(\"stager\")[\"state\"]' | grep -q 'held back by the recall-storm guard'"
	# held: still waiting, nothing staged, no error
	kill -0 "$reader"
	offline "$MNT/f2"
	[ "$(st 'w("stager")["staged_files"]')" -eq 1 ]
	[ "$(st 'w("stager")["failures"]')" -eq 0 ]
	[ "$(st 'w("stager")["refused_eagain"]')" -eq 0 ]
	# a larger limit (SIGHUP): the held reader is served
	sed -i 's/window_bytes = "4K";/window_bytes = "100M";/' "$CONF"
	hsm-agent --check-config "$CONF"
	kill -HUP "$AGENT_PID"
	wait "$reader"
	[ "$(cat "$A/f2.sum")" = "${sum[2]}" ]
	[ "$(st 'w("stager")["staged_files"]')" -eq 2 ]
}

@test "recall-storm guard, eagain: waiters beyond max_queued, and past the bytes per window, get EAGAIN at once" {
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 300; max_queued = 1; window = "1h"; window_bytes = "1500K"; storm_action = "eagain";'
	archived_and_released 3
	# two readers wait while the agent is stopped: its next listing has both
	kill -STOP "$AGENT_PID"
	# (set -e: the status is kept, the subshell goes on)
	(rc=0; cat "$MNT/f1" > "$A/r1" 2> "$A/r1.err" || rc=$?; echo $rc > "$A/r1.rc") &
	r1=$!
	(rc=0; cat "$MNT/f2" > "$A/r2" 2> "$A/r2.err" || rc=$?; echo $rc > "$A/r2.rc") &
	r2=$!
	wait_until 60 "[ \$(scoutfs data-waiting -p $MNT | awk '{print \$2}' | sort -u | wc -l) -eq 2 ]"
	kill -CONT "$AGENT_PID"
	wait "$r1" "$r2"
	# the one that waited first is staged, the other refused at once
	rcs="$(cat "$A/r1.rc") $(cat "$A/r2.rc")"
	echo "# reader exit statuses: $rcs" >&3
	[ "$rcs" = "0 1" ] || [ "$rcs" = "1 0" ]
	cat "$A/r1.err" "$A/r2.err" | grep -q "Resource temporarily unavailable"
	[ "$(st 'w("stager")["refused_eagain"]')" -eq 1 ]
	[ "$(st 'w("stager")["staged_files"]')" -eq 1 ]
	grep -q "stager: recall-storm guard: readers of inode [0-9]* get EAGAIN" "$LOG"
	# 1 MiB of the window's 1500K is used: the next stage is allowed and
	# goes past the limit, the one after is refused
	if [ "$(cat "$A/r1.rc")" -eq 0 ]; then next=2; else next=1; fi
	[ "$(timeout 60 sha256sum < "$MNT/f$next")" = "${sum[$next]}" ]
	run timeout 60 cat "$MNT/f3"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Resource temporarily unavailable"* ]]
	[ "$(st 'w("stager")["refused_eagain"]')" -eq 2 ]
	offline "$MNT/f3"
}
