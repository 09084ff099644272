#!/usr/bin/env bats
# hsm-agent on the host: configuration checks, the daemon's lock, signals
# (SIGHUP reload, SIGTERM drain), sd_notify, the journal log format and
# the metrics/status server.  MOUNT is a plain directory here: the agent
# runs its core on any directory and says in its status that it is not a
# scoutfs mount (the workers that need the filesystem wait for one); the
# filesystem paths are tested in the VM.
load helpers

setup() {
	D=$BATS_TEST_TMPDIR
	MNT=$D/mnt
	mkdir -p "$MNT" "$D/archive"
	SOCK=$D/agent.sock
	CONF=$D/agent.conf
	write_conf
}

teardown() {
	local p
	# whatever a test left running (a failed one): stop it, quietly
	for p in ${AGENT_PIDS:-}; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
}

# write_conf [EXTRA...]: a small valid configuration plus EXTRA lines
write_conf() {
	{
		echo "catalog = \"$D/catalog.db\";"
		echo "drain_timeout = 5;"
		echo "metrics = { socket = \"$SOCK\"; };"
		echo "backends = ( { name = \"disk\"; type = \"dir\"; root = \"$D/archive\"; } );"
		echo "archive_sets = ( { name = \"all\"; copies = ( { backend = \"disk\"; age = \"1m\"; } ); } );"
		printf '%s\n' "$@"
	} > "$CONF"
}

# start_agent [ARGS...]: run it in the background with its log in $D/log
start_agent() {
	hsm-agent -c "$CONF" "$@" "$MNT" 2> "$D/log" &
	AGENT_PID=$!
	AGENT_PIDS="${AGENT_PIDS:-} $AGENT_PID"
	wait_for "[ -S '$SOCK' ] && curl -sf --unix-socket '$SOCK' http://agent/status >/dev/null"
}

# wait_for CMD: up to 10 s
wait_for() {
	local i
	for i in $(seq 1 100); do
		eval "$1" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $1" >&2
	cat "$D/log" >&2 || true
	return 1
}

get() {
	curl -sf --unix-socket "$SOCK" "http://agent$1"
}

# json EXPR: evaluate a python expression on the status as s
json() {
	get /status | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

@test "--check-config accepts the shipped example" {
	run hsm-agent --check-config "$TOP/hsm-agent/hsm-agent.conf.example"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: 3 backends, 3 archive sets"* ]]
	# and it is installed beside the binary
	cmp "$TOP/hsm-agent/hsm-agent.conf.example" "$TOP/build/default/bin/hsm-agent.conf.example"
}

@test "--check-config names the file, line and problem of every error, exit 1" {
	cat > "$CONF" <<-EOF
	catalog = "$D/catalog.db";
	backends = ( { name = "disk"; type = "dir"; root = "$D/archive"; } );
	release = {
	  high_watermark = 50;
	  low_watermark = 60;
	  hihg = 1;
	};
	archive_sets = ( { name = "x"; copies = ( { backend = "tape9"; } ); } );
	EOF
	run hsm-agent --check-config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF:5: release: 'low_watermark' (60%) must be below 'high_watermark' (50%)"* ]]
	[[ "$output" == *"$CONF:6: release: unknown setting 'hihg'"* ]]
	[[ "$output" == *"$CONF:8: archive set 'x' copy 1: unknown backend 'tape9' (defined: disk)"* ]]
	[[ "$output" == *"$CONF: 3 errors"* ]]
}

@test "--check-config reports a syntax error with its line" {
	printf 'catalog = "/c.db";\nrelease = { high_watermark 90; };\n' > "$CONF"
	run hsm-agent --check-config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == "$CONF:2: syntax error"* ]]
}

@test "usage errors exit 2" {
	run hsm-agent
	[ "$status" -eq 2 ]
	[[ "$output" == *"MOUNT is missing"* ]]
	run hsm-agent --check-config "$CONF" extra
	[ "$status" -eq 2 ]
	run hsm-agent --bogus "$MNT"
	[ "$status" -eq 2 ]
	run hsm-agent -c "$CONF" "$MNT" "$MNT"
	[ "$status" -eq 2 ]
	run hsm-agent --check-config
	[ "$status" -eq 2 ]
}

@test "a bad configuration: the agent refuses to start and serves nothing" {
	write_conf 'stager = { storm_action = "panic"; };'
	run hsm-agent -c "$CONF" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF:6: stager: 'storm_action' = \"panic\" is not one of: queue, eagain"* ]]
	[[ "$output" == *"refusing to start"* ]]
	[ ! -e "$SOCK" ]
	run hsm-agent -c "$D/missing.conf" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"missing.conf: cannot read: No such file or directory"* ]]
}

@test "a missing mount point: exit 1 naming it" {
	run hsm-agent -c "$CONF" "$D/nowhere"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$D/nowhere: No such file or directory"* ]]
}

@test "metrics in the Prometheus text format on the unix socket" {
	start_agent
	run get /metrics
	[ "$status" -eq 0 ]
	[[ "$output" == *"# TYPE scoutfs_hsm_archive_files_total counter"* ]]
	[[ "$output" == *'scoutfs_hsm_archive_files_total{backend="disk"} 0'* ]]
	[[ "$output" == *'scoutfs_hsm_archive_bytes_total{backend="disk"} 0'* ]]
	[[ "$output" == *'scoutfs_hsm_stage_files_total{backend="disk"} 0'* ]]
	[[ "$output" == *'scoutfs_hsm_backend_errors_total{backend="disk"} 0'* ]]
	[[ "$output" == *"scoutfs_hsm_release_bytes_total 0"* ]]
	[[ "$output" == *'scoutfs_hsm_queue_depth{queue="stage"} 0'* ]]
	[[ "$output" == *"scoutfs_hsm_oldest_waiter_seconds 0"* ]]
	[[ "$output" == *'scoutfs_hsm_worker_steps_total{worker="releaser"}'* ]]
	# every line is a comment or "name{labels} value"
	echo "$output" | grep -Ev '^# (HELP|TYPE) |^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+$' > "$D/bad" || true
	[ ! -s "$D/bad" ]
	run curl -s -o /dev/null -w '%{http_code} %{content_type}' --unix-socket "$SOCK" http://agent/metrics
	[ "$output" = "200 text/plain; version=0.0.4; charset=utf-8" ]
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://agent/nothing
	[ "$output" = "404" ]
	run curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$SOCK" http://agent/metrics
	[ "$output" = "405" ]
}

@test "status is JSON: state, mount, filesystem, config, workers" {
	start_agent
	[ "$(json 's["state"]')" = running ]
	[ "$(json 's["pid"]')" = "$AGENT_PID" ]
	[ "$(json 's["mount"]')" = "$(realpath "$MNT")" ]
	[ "$(json 's["filesystem"]["scoutfs"]')" = False ]
	[[ "$(json 's["filesystem"]["reason"]')" == *"is not a scoutfs mount"* ]]
	[ "$(json 's["config"]["backends"][0]["name"]')" = disk ]
	[ "$(json 's["config"]["archive_sets"][0]["copies"]')" = "['disk']" ]
	[ "$(json '" ".join(w["name"] for w in s["workers"])')" = "indexer archiver releaser stager" ]
	# the releaser has measured the directory's filesystem
	wait_for "[ \"\$(json '[w for w in s[\"workers\"] if w[\"name\"] == \"releaser\"][0][\"used_percent\"] is not None')\" = True ]"
	[[ "$(json '[w["state"] for w in s["workers"] if w["name"] == "stager"][0]')" == "waiting for the filesystem: "* ]]
}

@test "a second agent on the same filesystem refuses, naming the first" {
	start_agent
	# another configuration and socket: the lock is the filesystem's
	sed "s#$SOCK#$D/other.sock#" "$CONF" > "$D/other.conf"
	run hsm-agent -c "$D/other.conf" "$MNT/."
	[ "$status" -eq 1 ]
	[[ "$output" == *"another hsm-agent (pid $AGENT_PID) already runs for the filesystem at $(realpath "$MNT")"* ]]
	[ ! -e "$D/other.sock" ]
	# the first one is unharmed
	get /status > /dev/null
}

@test "kill -9 leaves no lock behind: the next agent starts" {
	start_agent
	kill -9 "$AGENT_PID"
	wait "$AGENT_PID" || true
	# the stale socket file is still there and is taken over
	[ -S "$SOCK" ]
	start_agent
	[ "$(json 's["pid"]')" = "$AGENT_PID" ]
}

@test "SIGTERM drains and exits 0, removing its socket" {
	start_agent
	kill -TERM "$AGENT_PID"
	rc=0
	wait "$AGENT_PID" || rc=$?
	[ "$rc" -eq 0 ]
	[ ! -e "$SOCK" ]
	grep -q "stopping: draining the workers (up to 5 s)" "$D/log"
	grep -q "notice: stopped$" "$D/log"
	! grep -q "abandoned" "$D/log"
}

@test "SIGHUP reloads a good file: new generation, new backend, new log level" {
	start_agent
	[ "$(json 's["config"]["generation"]')" = 1 ]
	mkdir -p "$D/archive2"
	write_conf 'log_level = "debug";'
	sed -i "s#^backends = ( #backends = ( { name = \"disk2\"; type = \"dir\"; root = \"$D/archive2\"; }, #" "$CONF"
	hsm-agent --check-config "$CONF"
	kill -HUP "$AGENT_PID"
	wait_for "[ \"\$(json 's[\"config\"][\"generation\"]')\" = 2 ]"
	[ "$(json 's["config"]["log_level"]')" = debug ]
	[ "$(json 'len(s["config"]["backends"])')" = 2 ]
	get /metrics | grep -q 'scoutfs_hsm_archive_files_total{backend="disk2"} 0'
	get /metrics | grep -q 'scoutfs_hsm_config_reloads_total{result="ok"} 1'
	grep -q "reloaded $CONF: configuration generation 2" "$D/log"
	# the archiver, waiting for a scoutfs mount here, is woken by the
	# reload and its next step sees the new sets
	sed -i 's#^archive_sets = ( #archive_sets = ( { name = "tmp"; match = { path = "/tmp/*"; }; never_archive = true; }, #' "$CONF"
	kill -HUP "$AGENT_PID"
	wait_for "[ \"\$(json '[w[\"archive_sets\"] for w in s[\"workers\"] if w[\"name\"] == \"archiver\"][0]')\" = 2 ]"
	[ "$(json 's["config"]["generation"]')" = 3 ]
}

@test "a failing worker step is counted, logged and retried with backoff" {
	write_conf 'release = { interval = 1; };'
	start_agent
	get /metrics | grep -q 'scoutfs_hsm_worker_errors_total{worker="releaser"} 0'
	# the releaser's statvfs of the mount now fails
	rmdir "$MNT"
	wait_for "get /metrics | grep -q 'scoutfs_hsm_worker_errors_total{worker=\"releaser\"} [1-9]'"
	grep -q "warning: releaser: No such file or directory; trying again in 1000 ms" "$D/log"
	[[ "$(json '[w["state"] for w in s["workers"] if w["name"] == "releaser"][0]')" == "statvfs $MNT: No such file or directory" ]]
	wait_for "grep -q 'trying again in 2000 ms' '$D/log'"
	mkdir "$MNT"
	wait_for "[[ \"\$(json '[w[\"state\"] for w in s[\"workers\"] if w[\"name\"] == \"releaser\"][0]')\" == *'% used'* ]]"
}

@test "SIGHUP with a bad file keeps the running configuration and logs why" {
	start_agent
	write_conf 'release = { low_watermark = 95; };'
	kill -HUP "$AGENT_PID"
	wait_for "grep -q 'reload refused' '$D/log'"
	grep -q "$CONF:6: release: 'low_watermark' (95%) must be below 'high_watermark' (90%)" "$D/log"
	grep -q "reload refused: it has errors; keeping the running configuration (generation 1)" "$D/log"
	[ "$(json 's["config"]["generation"]')" = 1 ]
	[ "$(json 's["state"]')" = running ]
	get /metrics | grep -q 'scoutfs_hsm_config_reloads_total{result="failed"} 1'
	# a change that needs a restart is refused too
	write_conf
	sed -i "s#catalog = .*#catalog = \"$D/other.db\";#" "$CONF"
	kill -HUP "$AGENT_PID"
	wait_for "grep -q \"'catalog' changed, which needs a restart\" '$D/log'"
	[ "$(json 's["config"]["catalog"]')" = "$D/catalog.db" ]
}

@test "sd_notify: READY=1 with STATUS, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM" {
	command -v socat > /dev/null || skip "socat is not installed"
	socat -u UNIX-RECV:"$D/notify" OPEN:"$D/notified",creat,append &
	SOCAT=$!
	AGENT_PIDS="$SOCAT"
	wait_for "[ -S '$D/notify' ]"
	NOTIFY_SOCKET=$D/notify start_agent
	wait_for "grep -q READY=1 '$D/notified'"
	grep -q "STATUS=running on $(realpath "$MNT"): 1 backends, 1 archive sets, configuration generation 1" "$D/notified"
	kill -HUP "$AGENT_PID"
	wait_for "grep -q RELOADING=1 '$D/notified'"
	wait_for "grep -q 'configuration generation 2' '$D/notified'"
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	grep -q STOPPING=1 "$D/notified"
	kill "$SOCAT"
}

@test "under the journal: each line starts with its syslog priority" {
	: > "$D/journal"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$D/journal") hsm-agent -c "$CONF" "$MNT" 2>> "$D/journal" &
	AGENT_PID=$!
	AGENT_PIDS=$AGENT_PID
	wait_for "grep -q 'running on' '$D/journal'"
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	grep -q '^<4>.*is not a scoutfs mount' "$D/journal"
	grep -q '^<5>running on ' "$D/journal"
	# no line without a priority, and no timestamp (journald adds its own)
	! grep -vq '^<[0-7]>' "$D/journal"
}

@test "a loopback TCP port serves the same metrics; other addresses are refused" {
	port=$((20000 + RANDOM % 20000))
	write_conf
	sed -i "s#metrics = { socket = \"$SOCK\"; };#metrics = { socket = \"$SOCK\"; address = \"127.0.0.1\"; port = $port; };#" "$CONF"
	start_agent
	curl -sf "http://127.0.0.1:$port/metrics" | grep -q 'scoutfs_hsm_archive_files_total{backend="disk"} 0'
	[ "$(curl -sf "http://127.0.0.1:$port/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = running ]
	sed -i "s#127.0.0.1#0.0.0.0#" "$CONF"
	run hsm-agent --check-config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"\"0.0.0.0\" is not a loopback address"* ]]
}

@test "POST (the commands that make the agent act) only on the unix socket: 403 on the TCP port" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed -i "s#metrics = { socket = \"$SOCK\"; };#metrics = { socket = \"$SOCK\"; address = \"127.0.0.1\"; port = $port; };#" "$CONF"
	start_agent
	wait_for "curl -sf http://127.0.0.1:$port/status > /dev/null"
	run curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/release"
	[ "$output" = "403" ]
	run curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$SOCK" http://agent/release
	[ "$output" = "200" ]
	run curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$SOCK" http://agent/status
	[ "$output" = "405" ]
}

@test "the default socket: RUNTIME_DIRECTORY/agent.sock (systemd's RuntimeDirectory=)" {
	write_conf
	sed -i '/^metrics/d' "$CONF"
	mkdir -p "$D/run"
	SOCK=$D/run/agent.sock RUNTIME_DIRECTORY=$D/run start_agent
	SOCK=$D/run/agent.sock
	[ "$(json 's["socket"]')" = "$D/run/agent.sock" ]
}

@test "hsm-agent@.service passes systemd-analyze verify" {
	command -v systemd-analyze > /dev/null || skip "systemd-analyze is not installed"
	# the unit names the installed binary; point it at the built one
	mkdir -p "$D/units"
	sed "s#/usr/sbin/hsm-agent#$TOP/build/default/bin/hsm-agent#g" \
		"$TOP/hsm-agent/hsm-agent@.service" > "$D/units/hsm-agent@.service"
	inst=$(systemd-escape --path /srv/archive)
	[ "$inst" = srv-archive ]
	run systemd-analyze verify "$D/units/hsm-agent@$inst.service"
	echo "$output"
	[ "$status" -eq 0 ]
	# warnings ("ignoring ...") exit 0 too: there must be none
	[ -z "$output" ]
	grep -q '^Type=notify$' "$D/units/hsm-agent@.service"
	grep -q '^Restart=on-failure$' "$D/units/hsm-agent@.service"
}

# run_checked_agent PROGRAM...: start, scrape both pages, reload a good
# and a bad file, stop; the checker's own exit status must be 0
run_checked_agent() {
	"$@" -c "$CONF" "$MNT" 2> "$D/log" &
	AGENT_PID=$!
	AGENT_PIDS=$AGENT_PID
	# valgrind starts slowly: wait for the socket before any signal
	for i in $(seq 1 300); do
		get /status > /dev/null 2>&1 && break
		sleep 0.1
	done
	get /metrics > /dev/null
	get /status > /dev/null
	# the release dry run and a pass asked for (not a scoutfs mount: the
	# reason comes back)
	get /release | grep -q '"error"'
	curl -sf -X POST --unix-socket "$SOCK" http://agent/release | grep -q '"asked"'
	kill -HUP "$AGENT_PID"
	wait_for "grep -q 'configuration generation 2' '$D/log'"
	echo 'bogus = 1;' >> "$CONF"
	kill -HUP "$AGENT_PID"
	wait_for "grep -q 'reload refused' '$D/log'"
	get /status > /dev/null
	kill -TERM "$AGENT_PID"
	rc=0
	wait "$AGENT_PID" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$D/log"; false; }
}

@test "the daemon is valgrind clean through start, scrapes, reloads and stop" {
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	run_checked_agent valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$TOP/build/default/bin/hsm-agent"
	! grep -q '^==[0-9]*==' "$D/log"
}

@test "the daemon is ASan/UBSan clean through start, scrapes, reloads and stop" {
	[ -x "$TOP/build/asan/bin/hsm-agent" ] ||
		skip "no ASan build (make -C hsm-agent SANITIZE=1; the unit-asan suite makes it)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_checked_agent "$TOP/build/asan/bin/hsm-agent"
	! grep -q 'Sanitizer' "$D/log"
}

@test "a backend that cannot be used stops the start, naming it and the cause" {
	rmdir "$D/archive"
	run hsm-agent -c "$CONF" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"backend 'disk' (dir): "*"$D/archive"* ]]
	[[ "$output" == *"refusing to start"* ]]
	[ ! -e "$SOCK" ]
}

@test "an unreachable S3 server at start: exit 1 naming the backend and the cause" {
	# a loopback port nobody listens on
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	write_conf
	sed -i "s#^backends = ( #backends = ( { name = \"s3\"; type = \"s3\"; endpoint = \"http://127.0.0.1:$port\"; bucket = \"b\"; path_style = true; access_key = \"AK\"; secret_key = \"SK\"; retries = 0; connect_timeout_ms = 1000; }, #" "$CONF"
	hsm-agent --check-config "$CONF"
	run timeout 60 hsm-agent -c "$CONF" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"backend 's3' (s3): s3: "*"Couldn't connect to server"*"127.0.0.1 port $port"* ]]
	[[ "$output" == *"refusing to start"* ]]
}

@test "a catalog that cannot be opened stops the start, naming it" {
	write_conf
	sed -i "s#catalog = .*#catalog = \"$D/no/such/dir/catalog.db\";#" "$CONF"
	run hsm-agent -c "$CONF" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"catalog $D/no/such/dir/catalog.db: "* ]]
	[[ "$output" == *"refusing to start"* ]]
}

@test "SIGHUP with a backend that cannot be used keeps the running configuration" {
	start_agent
	write_conf
	sed -i "s#root = \"$D/archive\"#root = \"$D/gone\"#" "$CONF"
	kill -HUP "$AGENT_PID"
	wait_for "grep -q 'reload refused: a backend cannot be used' '$D/log'"
	grep -q "backend 'disk' (dir): .*$D/gone" "$D/log"
	[ "$(json 's["config"]["generation"]')" = 1 ]
}

@test "S3 at start against moto (SigV4 checked): good keys start, a wrong secret or bucket refuse" {
	out=$("$TOP/tests/s3/moto-start") || {
		rc=$?
		[ "$rc" -eq 77 ] && skip "moto_server is not installed"
		false
	}
	eval "$out"
	AGENT_PIDS="$MOTO_PID"
	s3conf() {
		write_conf
		sed -i "s#^backends = ( #backends = ( { name = \"s3\"; type = \"s3\"; endpoint = \"http://127.0.0.1:$MOTO_PORT\"; bucket = \"$1\"; path_style = true; access_key = \"$MOTO_ACCESS_KEY\"; secret_key = \"$2\"; retries = 0; }, #" "$CONF"
	}
	s3conf "$MOTO_BUCKET" "$MOTO_SECRET_KEY"
	start_agent
	[ "$(json 'len(s["config"]["backends"])')" = 2 ]
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"

	s3conf "$MOTO_BUCKET" "wrong$MOTO_SECRET_KEY"
	run hsm-agent -c "$CONF" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"backend 's3' (s3): s3: "*"403"* ]]

	s3conf no-such-bucket "$MOTO_SECRET_KEY"
	run hsm-agent -c "$CONF" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"backend 's3' (s3): s3: "*"NoSuchBucket"* ]]
	"$TOP/tests/s3/moto-stop" "$MOTO_PID"
}

@test "scoutfs-hsm status: the agent's state, usage against the marks, workers and backends; --json is the agent's JSON" {
	write_conf 'release = { high_watermark = 95; low_watermark = 85; };'
	start_agent
	run scoutfs-hsm status --socket "$SOCK"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "hsm-agent on $MNT: running (pid $AGENT_PID,"* ]]
	[[ "$output" == *"filesystem: not a scoutfs mount: $MNT is not a scoutfs mount"* ]]
	[[ "$output" == *"% used; releases start above 95% and go down to 85%"* ]]
	[[ "$output" == *"queues: 0 archive requests; 0 files with waiting readers"* ]]
	for w in indexer archiver releaser stager; do
		[[ "$output" == *"  $w "* ]]
	done
	[[ "$output" == *"  disk      (dir) archived 0 copies (0 B), staged 0 files (0 B), 0 errors"* ]]
	run scoutfs-hsm status --json --socket "$SOCK"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["pid"], [w["name"] for w in s["workers"]])')" = "$AGENT_PID ['indexer', 'archiver', 'releaser', 'stager']" ]
}

@test "scoutfs-hsm release on a directory that is not a scoutfs mount: the agent's reason, exit 1" {
	write_conf 'release = { high_watermark = 2; low_watermark = 1; };'
	start_agent
	run scoutfs-hsm release --dry-run --socket "$SOCK" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == "scoutfs-hsm release: the agent: waiting for the filesystem: "* ]]
	run scoutfs-hsm release --socket "$SOCK" --timeout 30 "$MNT"
	echo "$output"
	# the host's disk is more than 1% used, or nothing to release
	if [ "$status" -eq 0 ]; then
		[[ "$output" == *"at or below the low watermark (1%): nothing to release"* ]]
	else
		[ "$status" -eq 1 ]
		[[ "$output" == "scoutfs-hsm release: the pass did not run: waiting for the filesystem: "* ]]
	fi
	run scoutfs-hsm release --socket "$D/none.sock" --dry-run "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == "scoutfs-hsm release: no agent answers on $D/none.sock: "* ]]
	run scoutfs-hsm release --timeout 0 "$MNT"
	[ "$status" -eq 2 ]
}

@test "scoutfs-hsm stage --list: usage, no agent, not a scoutfs mount: exit 2, 1 and 1 with the reason" {
	run scoutfs-hsm stage "$MNT"
	[ "$status" -eq 2 ]
	[[ "$output" == "usage: scoutfs-hsm stage --list FILE"* ]]
	echo "$MNT/a" > "$D/list"
	run scoutfs-hsm stage --list "$D/list" --socket "$D/none.sock" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == "scoutfs-hsm stage: no agent answers on $D/none.sock: "*"(--no-wait --catalog PATH queues the files for the agent's next start)" ]]
	start_agent
	run scoutfs-hsm stage --list "$D/list" --socket "$SOCK" "$MNT"
	[ "$status" -eq 1 ]
	[[ "$output" == "scoutfs-hsm stage: $MNT: not a scoutfs mount: "* ]]
}

@test "scoutfs-hsm status without an agent: exit 1 naming the socket" {
	run scoutfs-hsm status --socket "$D/none.sock"
	[ "$status" -eq 1 ]
	[[ "$output" == "scoutfs-hsm status: no agent answers on $D/none.sock: "* ]]
	run scoutfs-hsm status --bogus
	[ "$status" -eq 2 ]
}
