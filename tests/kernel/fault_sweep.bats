#!/usr/bin/env bats
# No operation is ever half on disk (kmod/src/trans.c, NO OPERATION IS
# HALF ON DISK).  With the test-only fault-injection module (kmod/src/
# fault.c, built into build/fault-kmod by `make`), the Nth item or data
# block allocation of one operation fails, for N = 1, 2, ... until the
# operation no longer reaches N.  After each injected failure the
# filesystem is either unchanged (the operation failed before its first
# change) or read-only (it failed after it), or the operation succeeded
# anyway; after a remount fsck is clean and the namespace is exactly the
# one before or the one after the operation.
#
# FAULT_SWEEP_MAX caps N per operation (default 40, more than any of
# these operations allocates).  Each try is a remount and an fsck under
# TCG, so the CI size tries every N up to 3, then one N in every
# FAULT_SWEEP_STRIDE (6): those with N % 6 equal to an offset drawn at
# random per operation and printed, so successive runs cover every N
# (FAULT_SWEEP_OFFSET=K repeats a run's choice); FAULT_SWEEP_FULL=1
# tries every N.  FAULT_SWEEP_ONLY=TEXT skips the tests whose names do
# not contain TEXT.
load helpers

P=$FAULT_PARAMS
MAXN=${FAULT_SWEEP_MAX:-40}
STRIDE=${FAULT_SWEEP_STRIDE:-6}
[ "${FAULT_SWEEP_FULL:-0}" = 1 ] && STRIDE=1
# operations made of several transactions
MULTI_TXN="unlink truncate release stage"

setup_file() {
	load_fault_module
}

teardown_file() {
	unload_fault_module
}

setup() {
	if [ -n "${FAULT_SWEEP_ONLY:-}" ] &&
	   [[ "$BATS_TEST_DESCRIPTION" != *"$FAULT_SWEEP_ONLY"* ]]; then
		skip "FAULT_SWEEP_ONLY=$FAULT_SWEEP_ONLY"
	fi
	kmsg_mark
	mkfs_and_mount
	head -c $((256 * 1024)) /dev/urandom > /tmp/sweep-data
}

# A description of everything under $1 that two equal trees share: names,
# types, modes, owners, sizes, link counts, xattrs (ACLs too), contents
# (offline files by their block counts: reading them would wait).
snapshot() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
		stat -c "%n %F %a %u %g %s %h" "$p"
		getfattr -h -d -m - -e hex "$p" 2> /dev/null | grep -v "^#" | LC_ALL=C sort
		if [ -f "$p" ] && [ ! -L "$p" ]; then
			off=$(scoutfs stat -s offline_blocks "$p")
			if [ "$off" -eq 0 ]; then
				sha256sum < "$p"
			else
				echo "offline $off online $(scoutfs stat -s online_blocks "$p")"
			fi
		fi
	done)
}

is_read_only() {
	awk -v m="$MNT" '$2 == m { split($4, o, ","); print o[1] }' /proc/mounts | grep -qx ro
}

# The operation's one process: it arms the fault for itself (its pid,
# the Nth allocation, FAULT_N; 0 arms nothing) and execs the command, so
# only the allocations of that system call count.
fx() {
	sh -c 'echo $$ > '"$P"'/fail_pid; echo '"${FAULT_N:-0}"' > '"$P"'/fail_nth; exec "$@"' sh "$@"
}

# Run op_$2 in dir $3 with the Nth ($1) allocation failing; sets fault_rc
# and fault_hit (1 when the fault was injected).
run_with_fault() {
	local before
	before=$(cat "$P/fault_hits")
	set +e
	(cd "$3" && FAULT_N=$1 "op_$2") > /tmp/sweep-out 2>&1
	fault_rc=$?
	set -e
	echo 0 > "$P/fail_nth"
	fault_hit=$(($(cat "$P/fault_hits") - before))
}

# sweep OP: prep_OP DIR makes the starting state, op_OP runs in DIR.
sweep() {
	local op=$1 n dir want_before want_after got ro offset
	mkdir "$MNT/ref"
	"prep_$op" "$MNT/ref"
	want_before=$(snapshot "$MNT/ref")
	(cd "$MNT/ref" && "op_$op")
	want_after=$(snapshot "$MNT/ref")
	[ "$want_before" != "$want_after" ]
	rm -rf "$MNT/ref"
	offset=${FAULT_SWEEP_OFFSET:-$((RANDOM % STRIDE))}
	echo "# $op: every N up to 3, then N % $STRIDE = $offset (FAULT_SWEEP_OFFSET=$offset repeats it)"
	for n in $(seq 1 "$MAXN"); do
		if [ "$n" -gt 3 ] && [ $((n % STRIDE)) -ne $((offset % STRIDE)) ]; then
			continue
		fi
		dir=$MNT/w$n
		mkdir "$dir"
		"prep_$op" "$dir"
		sync
		run_with_fault "$n" "$op" "$dir"
		got=$(snapshot "$dir")
		ro=0
		is_read_only && ro=1
		echo "# $op N=$n: fault $fault_hit, exit $fault_rc, read-only $ro"
		if [ "$fault_hit" -eq 0 ]; then
			# the operation made fewer than N allocations: done
			[ "$fault_rc" -eq 0 ] || { cat /tmp/sweep-out; return 1; }
			[ "$got" = "$want_after" ]
			[ "$n" -gt 1 ]
			return 0
		fi
		if [ "$ro" -eq 0 ]; then
			if [ "$fault_rc" -eq 0 ]; then
				[ "$got" = "$want_after" ] || { echo "succeeded but the tree is not the after tree"; diff <(echo "$want_after") <(echo "$got"); return 1; }
			elif [ "$got" != "$want_before" ]; then
				# operations of several transactions (a truncate's
				# batches, the evict after an unlink) may have
				# committed their change before a later part failed
				case " $MULTI_TXN " in
				*" $op "*) [ "$got" = "$want_after" ] ;;
				*) false ;;
				esac || { echo "failed, not read-only, and the tree changed"; diff <(echo "$want_before") <(echo "$got"); return 1; }
			fi
		else
			kmsg_since_mark | grep -q "after its first change.*read-only" ||
				{ kmsg_since_mark | tail -5; return 1; }
		fi
		umount "$MNT"
		scoutfs fsck "$META" "$DATA" > /tmp/sweep-fsck 2>&1 || { cat /tmp/sweep-fsck; return 1; }
		mount_scoutfs
		got=$(snapshot "$dir")
		[ "$got" = "$want_before" ] || [ "$got" = "$want_after" ] ||
			{ echo "after a remount the tree is neither"; diff <(echo "$want_before") <(echo "$got"); return 1; }
		kmsg_mark
	done
	echo "the operation still reached N=$MAXN"
	return 1
}

prep_create() { mkdir "$1/d"; setfacl -m u:1000:rwx -d -m u:1000:rwx "$1/d"; }
op_create() { fx python3 -c 'import os; os.open("d/new", os.O_CREAT | os.O_WRONLY, 0o644)'; }

prep_rename() { cp /tmp/sweep-data "$1/a"; echo old > "$1/b"; }
op_rename() { fx python3 -c 'import os; os.rename("a", "b")'; }

prep_link() { cp /tmp/sweep-data "$1/a"; }
op_link() { fx ln a l; }

prep_unlink() { cp /tmp/sweep-data "$1/a"; echo keep > "$1/k"; }
op_unlink() { fx rm a; }

prep_truncate() { cp /tmp/sweep-data "$1/a"; }
op_truncate() { fx truncate -s 5000 a; }

# chmod of a file with an ACL: the mode and the ACL xattr change together
prep_setattr() { cp /tmp/sweep-data "$1/a"; setfacl -m u:1000:r "$1/a"; }
op_setattr() { fx chmod 640 a; }

prep_xattr() { cp /tmp/sweep-data "$1/a"; setfattr -n user.old -v 1 "$1/a"; }
op_xattr() { fx setfattr -n user.big -v "$(head -c 3000 /dev/zero | tr '\0' x)" a; }

prep_release() { cp /tmp/sweep-data "$1/a"; }
op_release() { fx scoutfs release -V "$(scoutfs stat -s data_version a)" a; }

prep_stage() {
	cp /tmp/sweep-data "$1/a"
	sync
	scoutfs release -V "$(scoutfs stat -s data_version "$1/a")" "$1/a"
}
op_stage() { fx scoutfs stage -V "$(scoutfs stat -s data_version a)" /tmp/sweep-data a; }

# three one-block extents after holes (the same bytes in every
# directory): one batch, one transaction
prep_move_blocks() {
	python3 - "$1/a" <<'PYEOF'
import os, sys
data = open("/tmp/sweep-data", "rb").read()
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
for i in range(3):
    os.pwrite(fd, data[i * 4096:(i + 1) * 4096], i * 8192)
os.close(fd)
PYEOF
	: > "$1/b"
}
op_move_blocks() { fx scoutfs move-blocks a -f 0 -l 20K b -t 0; }

prep_move_blocks_stage() {
	cp /tmp/sweep-data "$1/b"
	sync
	scoutfs release -V "$(scoutfs stat -s data_version "$1/b")" "$1/b"
	cp /tmp/sweep-data "$1/a"
}
op_move_blocks_stage() {
	fx scoutfs move-blocks a -f 0 -l 256K b -t 0 -s -V "$(scoutfs stat -s data_version b)"
}

@test "fault sweep: create with inherited default ACLs" { sweep create; umount_and_fsck; }
@test "fault sweep: rename over an existing target" { sweep rename; umount_and_fsck; }
@test "fault sweep: link" { sweep link; umount_and_fsck; }
@test "fault sweep: unlink" { sweep unlink; umount_and_fsck; }
@test "fault sweep: truncate" { sweep truncate; umount_and_fsck; }
@test "fault sweep: setattr (chmod, chown)" { sweep setattr; umount_and_fsck; }
@test "fault sweep: xattr set" { sweep xattr; umount_and_fsck; }
@test "fault sweep: release" { sweep release; umount_and_fsck; }
@test "fault sweep: stage" { sweep stage; umount_and_fsck; }
@test "fault sweep: move-blocks into a hole" { sweep move_blocks; umount_and_fsck; }
@test "fault sweep: move-blocks --stage into an offline range" { sweep move_blocks_stage; umount_and_fsck; }
