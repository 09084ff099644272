#!/usr/bin/env bats
# Concurrent namespace changes: processes creating, appending to (and
# fsyncing, so commits land in the middle of it all), renaming
# (within and across two directories, over existing targets), linking and
# unlinking files and directories in the same directories while others
# list, stat and read them; and processes racing for the same names.
# Every process must finish with only the errors its races explain (each
# counted and reported), and the tree left behind must add up: link
# counts, readdir against lookups, contents, the inodes and blocks statfs
# counts, the same after remount, and a clean fsck.  The workers are
# tests/kernel/concurrency.py.
load helpers

PY=/usr/bin/python3
WORKER=$BATS_TEST_DIRNAME/concurrency.py
STRESS_SECONDS=40

setup() {
	mkfs_and_mount
	TMPD=$BATS_TEST_TMPDIR
}

# A worker's counts: "OP RESULT N" lines, and its unexpected errors.
counts_of() {
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
for op, res in sorted(r["ops"].items()):
    for name, n in sorted(res.items()):
        print(op, name, n)
for u in r["unexpected"]:
    print("UNEXPECTED", u)' "$1"
}

# The sum of N over every "OP RESULT N" line of the workers' outputs that
# match OP and RESULT (regexes).
total() {
	cat "$TMPD"/*.counts | awk -v op="^($1)\$" -v res="^($2)\$" \
		'$1 ~ op && $2 ~ res { n += $3 } END { print n + 0 }'
}

# Each worker must have exited 0 within its time; summarise every outcome
# as TAP comments.
collect() {
	local out rc
	for out in "$@"; do
		rc=$(cat "$TMPD/$out.rc")
		[ "$rc" -eq 0 ] || {
			echo "$out exited $rc:" >&2
			cat "$TMPD/$out.err" >&2
			return 1
		}
		counts_of "$TMPD/$out.json" > "$TMPD/$out.counts"
	done
	cat "$TMPD"/*.counts | awk '$1 != "UNEXPECTED" { n[$1 " " $2] += $3 }
		END { for (k in n) print "# " k " " n[k] }' | sort >&3
}

# Run a worker in the background: NAME ARGS...; NAME.rc holds its status.
start() {
	local name=$1
	shift
	(
		exec 3>&-
		timeout 300 "$PY" "$WORKER" "$@" > "$TMPD/$name.json" 2> "$TMPD/$name.err"
		echo $? > "$TMPD/$name.rc"
	) &
}

# A reader that uses the commands: ls, stat and cat of everything, until
# the deadline; its errors must all be vanished names.
shell_reader() {
	local deadline=$(($(date +%s) + STRESS_SECONDS)) passes=0
	exec 3>&-
	cd "$MNT"
	while [ "$(date +%s)" -lt "$deadline" ]; do
		# (their exit status is that of the races: the stderr tells)
		ls -laR A B > /dev/null 2>> "$TMPD/shell.stderr" || true
		stat A/* B/* > /dev/null 2>> "$TMPD/shell.stderr" || true
		{ cat A/f* B/f* A/d*/x B/d*/x 2>> "$TMPD/shell.stderr" || true; } |
			{ grep -cvE '^w[0-9]+ [0-9]+$' || true; } >> "$TMPD/shell.badlines"
		passes=$((passes + 1))
	done
	echo "$passes" > "$TMPD/shell.passes"
}

@test "4 writers and 2 readers in two directories finish with only racing errors and a consistent tree" {
	mkdir "$MNT/A" "$MNT/B"
	free0=$(free_data_blocks)
	for i in 1 2 3 4; do
		start "writer$i" stress "$i" "$STRESS_SECONDS" "$MNT"
	done
	start reader1 read 1 "$STRESS_SECONDS" "$MNT"
	shell_reader &
	wait

	collect writer1 writer2 writer3 writer4 reader1
	! grep -h UNEXPECTED "$TMPD"/*.counts || false
	# the shell reader saw no error but names that went away, no bad line
	other=$(grep -v 'No such file or directory' "$TMPD/shell.stderr" || true)
	[ -z "$other" ]
	echo "# shell reader: $(cat "$TMPD/shell.passes") passes," \
		"$(wc -l < "$TMPD/shell.stderr") vanished names" >&3
	[ "$(awk '{ n += $1 } END { print n }' "$TMPD/shell.badlines")" -eq 0 ]
	[ "$(cat "$TMPD/shell.passes")" -gt 0 ]

	# every kind of change happened, and renames replaced existing files
	for op in create append fsync rename link unlink mkdir rmdir rename_dir fill_dir empty_dir; do
		[ "$(total "$op" ok)" -gt 0 ]
	done
	for i in 1 2 3 4; do
		"$PY" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["renames_over_existing"] == 0)' \
			"$TMPD/writer$i.json"
	done
	[ "$(total 'listdir|lstat|read' ok)" -gt 100 ]

	# the tree adds up, and statfs counts exactly its inodes and blocks
	"$PY" "$WORKER" check "$MNT" > "$TMPD/before"
	sync
	nr_inodes=$(awk '{ print $2 }' "$TMPD/before" | sort -u | wc -l)
	[ "$(used_inodes)" -eq "$nr_inodes" ]
	blocks=$(find "$MNT" -type f -printf '%i %b\n' | sort -u | awk '{ n += $2 } END { print n / 8 }')
	[ "$(free_data_blocks)" -eq $((free0 - blocks)) ]
	echo "# final tree: $nr_inodes inodes, $blocks data blocks" >&3

	remount_scoutfs
	"$PY" "$WORKER" check "$MNT" > "$TMPD/after"
	diff -u "$TMPD/before" "$TMPD/after"
	[ "$(used_inodes)" -eq "$nr_inodes" ]
	umount_and_fsck
}

@test "racing creates, renames, unlinks, mkdirs and rmdirs of the same names have one winner each" {
	N=300
	mkdir "$MNT/r" "$TMPD/bar1" "$TMPD/bar2"
	for i in 0 1 2 3; do
		start "race$i" race "$i" 4 "$N" "$MNT/r" "$TMPD/bar1" create,rename
	done
	wait
	collect race0 race1 race2 race3
	! grep -h UNEXPECTED "$TMPD"/*.counts || false

	# each name was created and renamed by exactly one worker, and its
	# contents are the creator's
	"$PY" - "$TMPD" "$MNT/r" "$N" <<-'EOF'
	import json, os, sys
	tmpd, root, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
	won = [json.load(open(os.path.join(tmpd, "race%d.json" % w)))["won"] for w in range(4)]
	for phase in ("create", "rename"):
	    all_won = sorted(i for w in won for i in w[phase])
	    assert all_won == list(range(n)), (phase, len(all_won))
	for i in range(n):
	    creator = [w for w in range(4) if i in won[w]["create"]][0]
	    data = open(os.path.join(root, "r%d" % i)).read()
	    assert data == "w%d %d\n" % (creator, i), (i, creator, data)
	assert sorted(os.listdir(root)) == sorted("r%d" % i for i in range(n))
	EOF
	[ "$(total create EEXIST)" -eq $((3 * N)) ]
	[ "$(total rename ENOENT)" -eq $((3 * N)) ]

	rm "$TMPD"/*.counts "$TMPD"/*.json
	for i in 0 1 2 3; do
		start "race$i" race "$i" 4 "$N" "$MNT/r" "$TMPD/bar2" unlink,mkdir,rmdir
	done
	wait
	collect race0 race1 race2 race3
	! grep -h UNEXPECTED "$TMPD"/*.counts || false
	for op in unlink mkdir rmdir; do
		[ "$(total "$op" ok)" -eq "$N" ]
	done
	[ "$(total 'unlink|rmdir' ENOENT)" -eq $((2 * 3 * N)) ]
	[ "$(total mkdir EEXIST)" -eq $((3 * N)) ]
	[ -z "$(ls -A "$MNT/r")" ]
	[ "$(stat -c %h "$MNT/r")" -eq 2 ]
	sync
	[ "$(used_inodes)" -eq 2 ]
	umount_and_fsck
}
