# tests/kernel/agent_helpers.bash: the setup, teardown and helpers of the
# hsm-agent tests in the VM (agent.bats to agent4.bats): a fresh filesystem
# whose data device is a 48 MiB dm-linear slice of $DATA, so a few MiB of
# files move its usage across the watermarks quickly under TCG; the
# catalog, the archive and the agent's socket and log on the guest's
# tmpfs; the agent's status (scoutfs-hsm status --json) is how a test sees
# what it did.  `load helpers` first, then `load agent_helpers`.
A=/tmp/agent
CONF=$A/agent.conf
SOCK=$A/agent.sock
LOG=$A/agent.log
DM=agent-data
DATA_MIB=48
# SCOUTFS_AGENT_BIN=build/asan/bin/hsm-agent (tests/vm/run --env) runs the
# same cases under ASan/UBSan; teardown fails a case whose log has a report
AGENT_BIN=${SCOUTFS_AGENT_BIN:-hsm-agent}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

setup() {
	# device-mapper: the module, or built in (the debug kernel)
	modprobe dm-mod 2> /dev/null || [ -c /dev/mapper/control ]
	rm -rf "$A"
	mkdir -p "$A/archive" "$A/archive2"
	dmsetup remove "$DM" 2>/dev/null || true
	dmsetup create "$DM" --table "0 $((DATA_MIB * 2048)) linear $DATA 0"
	# no udev in the guest: the node devtmpfs made, by minor
	DM_DEV=/dev/dm-$(dmsetup info -c --noheadings -o minor "$DM")
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$META" "$DM_DEV" > /dev/null
	mkdir -p "$MNT"
	mount -t scoutfs -o "metadev_path=$META,quorum_slot_nr=0" "$DM_DEV" "$MNT"
	AGENT_PID=
	S3_STOP=
	FAULT_PROXY_PID=
}

teardown() {
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	[ -z "${FAULT_PROXY_PID:-}" ] ||
		"$SCOUTFS_TOP/tests/s3/fault-proxy-stop" "$FAULT_PROXY_PID"
	[ -z "${S3_STOP:-}" ] || $S3_STOP || true
	local sanitizer=
	grep -q "Sanitizer\|runtime error:" "$LOG" "$A"/agent-*.log 2>/dev/null &&
		sanitizer=1
	if [ -n "$sanitizer" ] || { [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "$LOG" ]; }; then
		echo "# ---- agent log ----" >&3
		sed 's/^/# /' "$LOG" | tail -80 >&3
	fi
	mountpoint -q "$MNT" && umount "$MNT"
	dmsetup remove "$DM" 2>/dev/null || true
	[ -z "$sanitizer" ]
}

# write_conf RELEASE STAGER [BACKEND-EXTRA] [SETS]: the agent's configuration
# (with $EXTRA_BACKEND, "{ ... },", first in the backends)
write_conf() {
	local sets=${4:-'{ name = "scratch"; match = { path = "/scratch/*"; }; never_archive = true; },
	  { name = "all"; copies = ( { backend = "disk"; age = 0; } ); }'}
	cat > "$CONF" <<-EOF
	log_level = "debug";
	catalog = "$A/catalog.db";
	drain_timeout = 5;
	metrics = { socket = "$SOCK"; };
	indexer = { interval_ms = 200; };
	backends = ( ${EXTRA_BACKEND:-}
	  { name = "disk"; type = "dir"; root = "$A/archive"; $3 },
	  { name = "disk2"; type = "dir"; root = "$A/archive2"; }
	);
	archive_sets = ( $sets );
	release = { $1 };
	stager = { spool_dir = "$A"; $2 };
	EOF
	hsm-agent --check-config "$CONF"
}

start_agent() {
	"$AGENT_BIN" -c "$CONF" "$MNT" 2> "$LOG" &
	AGENT_PID=$!
	wait_until 20 "[ -S $SOCK ] && scoutfs-hsm status --socket $SOCK > /dev/null 2>&1"
}

# wait_until SECONDS CMD: poll CMD every 0.2 s
wait_until() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		eval "$2" && return 0
		sleep 0.2
	done
	echo "timed out after $1 s waiting for: $2" >&2
	scoutfs-hsm status --socket "$SOCK" >&2 || true
	return 1
}

# st EXPR: a python expression over the agent's status s and worker w(name)
st() {
	scoutfs-hsm status --json --socket "$SOCK" | python3 -c "
import json, sys
s = json.load(sys.stdin)
def w(n): return [x for x in s['workers'] if x['name'] == n][0]
print($1)"
}

offline() {
	[ "$(scoutfs stat -s offline_blocks "$1")" -gt 0 ] &&
		[ "$(scoutfs stat -s online_blocks "$1")" -eq 0 ]
}

used_pct() {
	echo $(( ( $(stat -f -c %b "$MNT") - $(stat -f -c %f "$MNT") ) * 100 / $(stat -f -c %b "$MNT") ))
}

# start_s3: moto (SigV4 checked) if this guest has it, else s3rver (npm,
# tests/s3/node_modules); sets S3_PORT S3_BUCKET S3_KEY S3_SECRET S3_STOP
start_s3() {
	local out rc=0
	# a TCG guest needs minutes, a debug-kernel guest beside others more
	out=$(MOTO_START_TIMEOUT=${MOTO_START_TIMEOUT:-240} "$SCOUTFS_TOP/tests/s3/moto-start" 2>/dev/null) || rc=$?
	if [ "$rc" -eq 0 ]; then
		eval "$out"
		S3_PORT=$MOTO_PORT S3_BUCKET=$MOTO_BUCKET
		S3_KEY=$MOTO_ACCESS_KEY S3_SECRET=$MOTO_SECRET_KEY
		S3_STOP="$SCOUTFS_TOP/tests/s3/moto-stop $MOTO_PID"
		S3_SERVER=moto
		return 0
	fi
	[ "$rc" -eq 77 ] || return 1
	# node starts slowly under TCG
	out=$(S3RVER_START_TIMEOUT=120 "$SCOUTFS_TOP/tests/s3/s3rver-start") || return $?
	eval "$out"
	S3_PORT=$S3RVER_PORT S3_BUCKET=$S3RVER_BUCKET
	S3_KEY=S3RVER S3_SECRET=S3RVER	# s3rver's built-in account
	S3_STOP="$SCOUTFS_TOP/tests/s3/s3rver-stop $S3RVER_PID"
	S3_SERVER=s3rver
}

# tape_backend: a file-backed tape library's entry for EXTRA_BACKEND, its
# volumes in $A/vols
tape_backend() {
	mkdir -p "$A/vols"
	echo "{ name = \"tape\"; type = \"tape\"; volume_dir = \"$A/vols\"; auto_label_prefix = \"FB\"; durability = \"each_put\"; },"
}

# start_s3_file / stop_s3_file: setup_file and teardown_file of a file
# whose cases share one S3 server (it takes minutes to start in a TCG
# guest); need_s3 then uses it
start_s3_file() {
	local rc=0 t0=$SECONDS
	start_s3 || rc=$?
	export S3_FILE_RC=$rc S3_FILE_STOP=$S3_STOP S3_START_S=$((SECONDS - t0))
	export S3_PORT S3_BUCKET S3_KEY S3_SECRET S3_SERVER
}

stop_s3_file() {
	[ -z "${S3_FILE_STOP:-}" ] || $S3_FILE_STOP || true
}

# need_s3: the file's S3 server (start_s3_file) or one of the case's own;
# the case is skipped when no S3 server is installed
need_s3() {
	local rc=0 t0=$SECONDS
	if [ -n "${S3_FILE_RC:-}" ]; then
		rc=$S3_FILE_RC
	else
		start_s3 || rc=$?
		S3_START_S=$((SECONDS - t0))
	fi
	[ "$rc" -ne 77 ] || skip "neither moto nor s3rver is installed"
	[ "$rc" -eq 0 ] || return 1
	echo "# S3 server: $S3_SERVER, started in $S3_START_S s" >&3
}

# s3_backend [PORT] [SETTINGS]: the "s3" backend's entry for EXTRA_BACKEND,
# on the server start_s3 started (or on 127.0.0.1:PORT, in front of it)
s3_backend() {
	echo "{ name = \"s3\"; type = \"s3\"; endpoint = \"http://127.0.0.1:${1:-$S3_PORT}\"; bucket = \"$S3_BUCKET\"; addressing = \"path\"; access_key = \"$S3_KEY\"; secret_key = \"$S3_SECRET\"; retries = 1; ${2:-} },"
}

# archived_and_released N [BYTES] [SECONDS]: files f1..fN of BYTES (1 MiB;
# their sha256 in sum[]), the agent started, all N archived within
# SECONDS (60), then released by `scoutfs-hsm release`
archived_and_released() {
	local i
	for i in $(seq 1 "$1"); do
		head -c "${2:-1048576}" /dev/urandom > "$MNT/f$i"
		sum[$i]=$(sha256sum < "$MNT/f$i")
	done
	sync
	start_agent
	wait_until "${3:-60}" "[ \$(st 'w(\"archiver\")[\"copies_made\"]') -eq $1 ]"
	scoutfs-hsm release --socket "$SOCK" --timeout 120 "$MNT"
	for i in $(seq 1 "$1"); do
		offline "$MNT/f$i"
	done
}

# archive_order BACKEND: the "archived /F ..." lines of the agent's log on
# BACKEND, in order, as "F F ..."
archive_order() {
	sed -n "s#.*info: archived /\([^ ]*\) (data_version.* on '$1'.*#\1#p" "$LOG" | tr '\n' ' '
}
