# SPDX-License-Identifier: GPL-2.0
# scripts/demo-guest.sh: the demo's steps inside the VM (see scripts/demo):
# make a filesystem, start hsm-agent on it with a directory backend, write
# files and let the agent archive them by policy, fill the data device
# past the high watermark so the agent releases them (scoutfs stat shows
# them offline), read them back (the readers wait, the agent stages the
# data from the archive) and compare checksums, then show the agent's
# status.  Every wait has a timeout and says what it waits for.
#
# The data device is a 64 MiB slice of /dev/vdb (device-mapper linear),
# so that a few tens of MiB move it across the watermarks in seconds.
set -eu
META=/dev/vda
DATA=/dev/vdb
MNT=/mnt/scoutfs
DEMO=/tmp/demo
SLICE=demo-data
export PATH="$SCOUTFS_TOP/build/default/bin:$PATH"
step() { echo; echo "\$ $*"; "$@"; }
say() { echo; echo "# $*"; }
AGENT=

cleanup() {
	if [ -n "$AGENT" ]; then
		kill "$AGENT" 2>/dev/null || true
		wait "$AGENT" 2>/dev/null || true
	fi
	mountpoint -q "$MNT" && umount "$MNT"
	dmsetup remove "$SLICE" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
	echo "demo: FAILED: $*"
	echo "---- the agent's log (last 40 lines) ----"
	tail -40 "$DEMO/agent.log" 2>/dev/null || true
	exit 1
}

# wait_for SECONDS WHAT CMD: poll CMD every half second
wait_for() {
	local end=$((SECONDS + $1))
	echo "waiting (at most $1 s) until $2 ..."
	while [ $SECONDS -lt $end ]; do
		if eval "$3"; then
			echo "... done after $(($1 - (end - SECONDS))) s"
			return 0
		fi
		sleep 0.5
	done
	fail "$2 did not happen within $1 s"
}

# status EXPR: a python expression over the agent's status s and w(name)
status() {
	scoutfs-hsm status --json --socket "$DEMO/agent.sock" | python3 -c "
import json, sys
s = json.load(sys.stdin)
def w(n): return [x for x in s['workers'] if x['name'] == n][0]
print($1)"
}

used_pct() {
	echo $(( ( $(stat -f -c %b "$MNT") - $(stat -f -c %f "$MNT") ) * 100 / $(stat -f -c %b "$MNT") ))
}

offline() {
	[ "$(scoutfs stat -s online_blocks "$1")" -eq 0 ] &&
		[ "$(scoutfs stat -s offline_blocks "$1")" -gt 0 ]
}

echo "kernel $(uname -r); metadata device $META, data device a 64 MiB slice of $DATA"
rm -rf "$DEMO"
mkdir -p "$DEMO/archive"
modprobe dm-mod
dmsetup remove "$SLICE" 2>/dev/null || true
dmsetup create "$SLICE" --table "0 $((64 * 2048)) linear $DATA 0"
# no udev in the guest: the node devtmpfs made, by its minor
DEV=/dev/dm-$(dmsetup info -c --noheadings -o minor "$SLICE")
step scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$META" "$DEV"
mkdir -p "$MNT"
step mount -t scoutfs -o metadev_path=$META,quorum_slot_nr=0 "$DEV" "$MNT"

say "the agent's configuration: one directory backend, two archive sets, watermarks 60% / 20%"
cat > "$DEMO/agent.conf" <<EOF
catalog = "$DEMO/catalog.db";
metrics = { socket = "$DEMO/agent.sock"; };
indexer = { interval_ms = 500; };
backends = ( { name = "archive"; type = "dir"; root = "$DEMO/archive"; } );
archive_sets = (
  { name = "scratch"; match = { path = "/scratch/*"; }; never_archive = true; },
  { name = "projects"; match = { path = "/projects/*"; };
    copies = ( { backend = "archive"; age = "2s"; } ); }
);
release = { high_watermark = 60; low_watermark = 20; interval = 5;
            min_residence = "10m"; };
stager = { timeout = "2m"; spool_dir = "$DEMO"; };
EOF
cat "$DEMO/agent.conf"
step hsm-agent --check-config "$DEMO/agent.conf"
echo; echo "\$ hsm-agent -c $DEMO/agent.conf $MNT &   (log: $DEMO/agent.log)"
hsm-agent -c "$DEMO/agent.conf" "$MNT" 2> "$DEMO/agent.log" &
AGENT=$!
wait_for 20 "the agent answers on its socket" \
	"scoutfs-hsm status --socket $DEMO/agent.sock > /dev/null 2>&1"

echo "(the releaser looks at the usage every 5 s, so the demo can show it above the mark first)"

say "three 4 MiB files in /projects: the 'projects' set archives each once it has been quiet for 2 s"
mkdir "$MNT/projects" "$MNT/scratch"
for f in a b c; do
	head -c $((4 * 1024 * 1024)) /dev/urandom > "$MNT/projects/$f.dat"
	sha256sum < "$MNT/projects/$f.dat" | cut -d' ' -f1 > "$DEMO/$f.sum"
	echo "wrote /projects/$f.dat, sha256 $(cat "$DEMO/$f.sum")"
done
sync
wait_for 120 "the agent has archived all three (its status counts the copies)" \
	"[ \"\$(status 'w(\"archiver\")[\"copies_made\"]')\" -ge 3 ]"
grep "archived /projects" "$DEMO/agent.log" | sed 's/^[^ ]* [^ ]* //'
echo "data device: $(used_pct)% used, below the 60% high watermark: nothing is released yet"

say "fill the data device past the high watermark with a scratch file (never archived)"
step dd if=/dev/zero of="$MNT/scratch/fill" bs=1M count=30 status=none
sync
echo "data device: $(used_pct)% used, past the 60% high watermark"
wait_for 60 "the agent has released the archived files" \
	"offline $MNT/projects/a.dat && offline $MNT/projects/b.dat && offline $MNT/projects/c.dat"
grep "released /projects" "$DEMO/agent.log" | sed 's/^[^ ]* [^ ]* //'
echo "data device: $(used_pct)% used (the scratch file has no copy, so it stays)"
step scoutfs stat "$MNT/projects/a.dat"
step stat -c '%n: %s bytes, %b blocks' "$MNT/projects/a.dat"

say "make room again, then read the released files: each reader waits, the agent stages its data"
step rm "$MNT/scratch/fill"
sync
for f in a b c; do
	start=$SECONDS
	got=$(timeout 120 sha256sum < "$MNT/projects/$f.dat" | cut -d' ' -f1) ||
		fail "reading /projects/$f.dat failed"
	echo "read /projects/$f.dat in $((SECONDS - start)) s: sha256 $got"
	[ "$got" = "$(cat "$DEMO/$f.sum")" ] || fail "/projects/$f.dat differs from what was written"
done
grep "staged /projects" "$DEMO/agent.log" | sed 's/^[^ ]* [^ ]* //'
echo "all three are identical to what was written"
step scoutfs stat "$MNT/projects/a.dat"

say "what the agent says about itself"
step scoutfs-hsm status --socket "$DEMO/agent.sock"

say "stop the agent, unmount and check the filesystem"
kill "$AGENT"
wait "$AGENT" || true
AGENT=
step umount "$MNT"
step scoutfs fsck "$META" "$DEV"
echo; echo "fsck clean: archived by policy, released past the high watermark, staged back on read, identical"
