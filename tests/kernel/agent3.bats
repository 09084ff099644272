#!/usr/bin/env bats
# hsm-agent end to end on S3, a real S3 server on the guest's loopback
# (moto with SigV4 checked where the guest has it, else s3rver), one
# server for every case of the file (setup_file):
#  - a file archived by policy, released, read back identical;
#  - the S3 server goes away in the middle of a stage and comes back (a
#    proxy in front of it, stopped and started again on its port): the
#    stage completes and the reader reads identical bytes;
#  - small files in packs: 200 small files are archived by policy in
#    packs (many files, one PUT: archiver_pack.c), released when the data
#    device passes the high watermark, and read back in parallel through
#    data waiting, each staged alone from its pack with a ranged GET, with
#    checksums identical to what was written; a file that changes while
#    its copy waits in a pack is dropped from that pack's commit (the
#    others commit) and archived again at its new version.
# The setup and helpers are agent_helpers.bash.
load helpers
load agent_helpers

NR=200

setup_file() {
	start_s3_file
}

teardown_file() {
	stop_s3_file
}

all_packed() {
	[ "$(st 'w("archiver")["packed_files"]')" -ge $NR ]
}

all_offline() {
	local i
	for i in $(seq 1 $NR); do
		offline "$MNT/small/f$i" || return 1
	done
}

@test "S3 (a real S3 server on the guest's loopback): archived, released, read back identical" {
	need_s3
	EXTRA_BACKEND=$(s3_backend)
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 60;' '' \
		'{ name = "s3"; copies = ( { backend = "s3"; age = 0; } ); }'
	start_agent
	head -c $((3 * 1024 * 1024 + 123)) /dev/urandom > "$MNT/f"
	sum=$(sha256sum < "$MNT/f")
	sync
	wait_until 90 "offline $MNT/f"
	grep -q "archived /f (data_version [0-9]*, 3145851 bytes) as copy 1 on 's3'" "$LOG"
	got=$(timeout 60 sha256sum < "$MNT/f")
	[ "$got" = "$sum" ]
	grep -q "staged /f .* from copy 1 on 's3'" "$LOG"
}

@test "the S3 server goes away in the middle of a stage and comes back: the stage completes, the reader reads identical bytes" {
	need_s3
	eval "$("$SCOUTFS_TOP/tests/s3/fault-proxy-start" "$S3_PORT")"
	local port=$FAULT_PROXY_PORT
	EXTRA_BACKEND=$(s3_backend "$port" 'bandwidth = "4M";')
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 120; retries = 20; retry_backoff_ms = 500;' '' \
		'{ name = "s3"; copies = ( { backend = "s3"; age = 0; } ); }'
	# 24 MiB: more than the loopback socket buffers between the proxy
	# and the agent hold, so stopping the proxy cuts the get short
	archived_and_released 1 $((24 * 1024 * 1024)) 120
	timeout 300 sha256sum < "$MNT/f1" > "$A/f.sum" 3>&- &
	reader=$!
	# 4 MiB/s: the get is under way for seconds
	wait_until 60 "st 'w(\"stager\")[\"state\"]' | grep -q '^staging /f1 '"
	sleep 1
	"$SCOUTFS_TOP/tests/s3/fault-proxy-stop" "$FAULT_PROXY_PID"
	sleep 3
	FAULT_PROXY_PORT= FAULT_PROXY_PID=
	eval "$("$SCOUTFS_TOP/tests/s3/fault-proxy-start" "$S3_PORT" "$port")"
	[ "$FAULT_PROXY_PORT" = "$port" ]
	wait "$reader"
	[ "$(cat "$A/f.sum")" = "${sum[1]}" ]
	grep "stager: /f1: copy 1 on 's3'" "$LOG" | head -3 | sed 's/^/# /' >&3
	grep -q "stager: /f1: copy 1 on 's3'" "$LOG"
	grep -q "staged /f1 .* from copy 1 on 's3'" "$LOG"
}

@test "200 small files to S3 in packs: archived, released, each read back alone and identical" {
	need_s3
	EXTRA_BACKEND=$(s3_backend "" 'pack_threshold = "256K"; pack_max_files = 500; pack_delay = 5; archive_workers = 4; stage_workers = 4;')
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 3600;' \
		'timeout = 120;' '' \
		'{ name = "s3"; copies = ( { backend = "s3"; age = 0; } ); }'
	start_agent
	mkdir "$MNT/small"
	# f1 first: once it is read into the open pack (which waits
	# pack_delay for more), it changes: that member must not commit
	head -c 5000 /dev/urandom > "$MNT/small/f1"
	sync
	wait_until 60 "grep -q 'archiver: /small/f1 (data_version [0-9]*) into the pack' $LOG"
	head -c 100 /dev/urandom | dd of="$MNT/small/f1" bs=100 seek=3 conv=notrunc status=none
	# (its new version is not archived yet, so not released: online)
	(cd "$MNT/small" && sha256sum f1 > "$A/sums")
	# the others are made and summed on tmpfs first: files on scoutfs may
	# be released as soon as their pack commits, and a read would stage
	# them back (and keep them online for min_residence)
	mkdir "$A/src"
	for i in $(seq 2 $NR); do
		head -c $(( (i * 7919) % 40000 + 1000 )) /dev/urandom > "$A/src/f$i"
	done
	(cd "$A/src" && sha256sum f* >> "$A/sums")
	cp "$A/src"/f* "$MNT/small/"
	sync
	wait_until 300 all_packed
	packs=$(st 'w("archiver")["packs_put"]')
	echo "# $NR files archived in $packs packs" >&3
	# packed, not one PUT per file
	[ "$packs" -ge 1 ]
	[ "$packs" -le 20 ]
	grep -q "archived [0-9]* small files in one pack .* on 's3'" "$LOG"
	# f1's packed copy was dropped from the commit, the others in its
	# pack committed, and its new version went into a later pack
	grep -q "/small/f1 changed while it was" "$LOG"
	[ "$(st 'w("archiver")["discarded_changed"]')" -ge 1 ]
	wait_until 300 all_offline
	# each file's reader waits; the stager stages it alone from its pack
	(cd "$MNT/small" && ls f* | timeout 600 xargs -P 8 -n 10 sha256sum) |
		sort -k 2 > "$A/got"
	sort -k 2 "$A/sums" | diff - "$A/got"
	# the readers were served stage_workers (4) at once, not one by one
	peak=$(st '[b for b in s["config"]["backends"] if b["name"] == "s3"][0]["stage_peak"]')
	echo "# at most $peak stages from S3 at once" >&3
	[ "$peak" -ge 2 ]
	[ "$peak" -le 4 ]
	# staged files stay online (min_residence): each was staged once
	[ "$(grep -c "staged /small/f[0-9]* .* from copy 1 on 's3'" "$LOG")" -eq $NR ]
}
