#!/usr/bin/env bats
# hsm-agent crash safety and stage order against the real module:
#  - kill -9 of the agent at random moments while it archives, releases
#    and stages, AGENT_KILL_CYCLES times (10; 100 on demand: tests/vm/run
#    --env AGENT_KILL_CYCLES=100), a restart after each: after every kill
#    no file is offline without a valid, verified copy of its current
#    data_version in the catalog and no half-written object is visible in
#    the archive; at the end all work is done, nothing is left claimed or
#    half-written, and every file and every reader that waited through
#    the kills read identical bytes;
#  - readers waiting on several files of one tape volume are staged in
#    position order, not in the order they began to wait.
# (The S3 server going away during a stage is a case of agent3.bats.)
# The setup and helpers are agent_helpers.bash.
load helpers
load agent_helpers

KILL_CYCLES=${AGENT_KILL_CYCLES:-10}

# check_catalog [quiet|all]: every offline file of the mount has a valid,
# verified copy of its current data_version; every object under a final
# name in the directory backend's root is whole (data, trailer and footer
# add up, its data's sha256 is the trailer's).  "quiet" (after a clean
# stop): no copy is left being written and no request left claimed.
# "all": every file, online too, has such a copy.
check_catalog() {
	python3 - "$MNT" "$A/catalog.db" "$A/archive" "${1:-}" <<-'PY'
	import hashlib, json, os, re, sqlite3, subprocess, sys
	mnt, db, root, mode = sys.argv[1:5]
	bad = []
	cat = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
	for d, _, names in os.walk(mnt):
	    for n in names:
	        p = os.path.join(d, n)
	        st = json.loads(subprocess.check_output(["scoutfs", "stat", "--json", p]))
	        if not st["offline_blocks"] and mode != "all":
	            continue
	        ino = os.stat(p).st_ino
	        (nr,) = cat.execute(
	            "SELECT count(*) FROM copies c JOIN files f ON f.id = c.id >> 16"
	            " WHERE f.ino = ? AND f.data_version = ? AND c.state = 1"
	            " AND c.verified IS NOT NULL", (ino, st["data_version"])).fetchone()
	        if not nr:
	            bad.append("%s (inode %d) is %s at data_version %d with no verified copy of it"
	                       % (p, ino, "offline" if st["offline_blocks"] else "online",
	                          st["data_version"]))
	objects = 0
	for d, _, names in os.walk(root):
	    for n in names:
	        if n.startswith("."):
	            continue	# a put's temporary file: never read
	        objects += 1
	        b = open(os.path.join(d, n), "rb").read()
	        # the footer's length counts the trailer and the footer
	        m = re.search(rb"SCOUTFS-HSM-DIR1([0-9a-f]{15})\n$", b)
	        tlen = int(m.group(1), 16) if m else len(b) + 1
	        tr = b[len(b) - tlen:-32] if tlen <= len(b) else b""
	        data = b[:len(b) - tlen]
	        size = re.search(rb"\nsize=(\d+)\n", tr)
	        csum = re.search(rb"\nchecksum=sha256:([0-9a-f]{64})\n", tr)
	        if not (size and csum and int(size.group(1)) == len(data) and
	                hashlib.sha256(data).hexdigest().encode() == csum.group(1)):
	            bad.append("archive object %s is not whole" % n)
	if mode == "quiet":
	    (w,) = cat.execute("SELECT count(*) FROM copies WHERE state = 0").fetchone()
	    (r,) = cat.execute("SELECT count(*) FROM requests WHERE state = 1").fetchone()
	    if w or r:
	        bad.append("%d copies still being written, %d requests claimed" % (w, r))
	for b in bad:
	    print(b)
	print("# %d archive objects checked" % objects, file=sys.stderr)
	sys.exit(1 if bad else 0)
	PY
}

all_offline() {
	local f
	for f in s1 s2 s3 s4 s5 s6 c1 c2 c3 c4; do
		offline "$MNT/$f" || return 1
	done
}

# Background readers and writers close fd 3 (3>&-): bats waits for every
# holder of it before it ends.
@test "kill -9 of the agent at random moments while it archives, releases and stages ($KILL_CYCLES times): nothing released without a verified copy, no half-written object, no work lost" {
	write_conf 'high_watermark = 1; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 300; retries = 3; retry_backoff_ms = 200;' 'bandwidth = "2M";'
	local c i k r delay readers=() rfile=() writers=()
	# s1..s6 are only read (their readers wait through the kills); c1..c4
	# are rewritten, one a cycle, so copies go stale under the archiver.
	# A rewrite truncates, which waits until the file is online, so it
	# runs in the background, one at a time per file, and its file's
	# expected contents are c$k.want
	for i in 1 2 3 4 5 6; do
		head -c $(((RANDOM % 768 + 64) * 1024)) /dev/urandom > "$MNT/s$i"
		ssum[$i]=$(sha256sum < "$MNT/s$i")
	done
	for i in 1 2 3 4; do
		head -c $(((RANDOM % 512 + 1) * 1024)) /dev/urandom > "$A/c$i.want"
		cp "$A/c$i.want" "$MNT/c$i"
		writers[i]=
	done
	sync
	for ((c = 1; c <= KILL_CYCLES; c++)); do
		k=$((RANDOM % 4 + 1))
		if [ -z "${writers[k]}" ] || ! kill -0 "${writers[k]}" 2>/dev/null; then
			[ -z "${writers[k]}" ] || wait "${writers[k]}"
			head -c $(((RANDOM % 512 + 1) * 1024)) /dev/urandom > "$A/c$k.want"
			timeout 600 cp "$A/c$k.want" "$MNT/c$k" 3>&- &
			writers[k]=$!
		fi
		r=$((RANDOM % 6 + 1))
		timeout 600 sha256sum < "$MNT/s$r" > "$A/read.$c" 3>&- &
		readers[c]=$!
		rfile[c]=$r
		start_agent
		delay=$((RANDOM % 2500 + 100))
		sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
		kill -9 "$AGENT_PID"
		wait "$AGENT_PID" || true
		AGENT_PID=
		echo "# cycle $c: killed after $delay ms; last: $(grep -v 'debug: indexer' "$LOG" | tail -1 | cut -c1-150)" >&3
		cat "$LOG" >> "$A/agent-all.log"
		run check_catalog
		[ -z "$output" ] || echo "$output" | sed 's/^/# /' >&3
		[ "$status" -eq 0 ]
	done
	# the last restart: everything settles, archived and released
	start_agent
	for i in 1 2 3 4; do
		[ -z "${writers[i]}" ] || wait "${writers[i]}"
	done
	# every file archived at its current version, then release passes
	# now: by the watermark alone, releasing stops once the files still
	# online use less than its 1%; a file just staged is a candidate
	# once the indexer has seen it online, so the pass is asked again
	wait_until 300 "check_catalog all > /dev/null 2>&1"
	wait_until 120 "scoutfs-hsm release --socket $SOCK --timeout 120 $MNT > /dev/null && all_offline"
	for ((c = 1; c <= KILL_CYCLES; c++)); do
		wait "${readers[c]}"
		[ "$(cat "$A/read.$c")" = "${ssum[${rfile[c]}]}" ]
	done
	for i in 1 2 3 4 5 6; do
		[ "$(timeout 120 sha256sum < "$MNT/s$i")" = "${ssum[$i]}" ]
	done
	for i in 1 2 3 4; do
		[ "$(timeout 120 sha256sum < "$MNT/c$i")" = "$(sha256sum < "$A/c$i.want")" ]
	done
	wait_until 60 "[ \$(st 'w(\"archiver\")[\"queued\"]') -eq 0 ]"
	# a clean stop drains what is under way
	kill "$AGENT_PID"
	wait "$AGENT_PID" || true
	AGENT_PID=
	grep -c "recovered" "$A/agent-all.log" | sed 's/^/# recoveries logged: /' >&3
	run check_catalog quiet
	[ -z "$output" ] || echo "$output" | sed 's/^/# /' >&3
	[ "$status" -eq 0 ]
}

@test "readers waiting on several files of one tape volume are staged in position order, not in the order they began to wait" {
	EXTRA_BACKEND=$(tape_backend)
	write_conf 'high_watermark = 100; low_watermark = 0; interval = 1; min_residence = 0;' \
		'timeout = 120;' '' \
		'{ name = "tape"; copies = ( { backend = "tape"; age = 0; } ); }'
	local i f order staged n=6 readers=()
	archived_and_released $n $((128 * 1024)) 120
	order=$(archive_order tape)
	echo "# tape order: $order" >&3
	[ "$(echo $order | wc -w)" -eq $n ]
	kill "$AGENT_PID"
	wait "$AGENT_PID" || true
	AGENT_PID=
	# no agent: the readers wait, the last on the tape first
	for f in $(echo $order | tr ' ' '\n' | tac); do
		timeout 300 sha256sum < "$MNT/$f" > "$A/$f.sum" 3>&- &
		readers+=($!)
		sleep 0.3
	done
	wait_until 60 "[ \$(scoutfs data-waiting -p $MNT | awk '{print \$2}' | sort -u | wc -l) -eq $n ]"
	start_agent
	for i in "${readers[@]}"; do wait "$i"; done
	for i in $(seq 1 $n); do
		[ "$(cat "$A/f$i.sum")" = "${sum[$i]}" ]
	done
	staged=$(sed -n "s#.*info: staged /\([^ ]*\) .* on 'tape'.*#\1#p" "$LOG" | tr '\n' ' ')
	echo "# stage order: $staged" >&3
	[ "$staged" = "$order" ]
}
