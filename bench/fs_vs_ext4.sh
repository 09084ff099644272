#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/fs_vs_ext4.sh: scoutfs against ext4 on the same work, in one VM
# boot, on virtio disks of the same sizes.
#
#   seq_write        BENCH_SEQ_MB MiB in 1 MiB writes, fsync at the end
#   seq_read         the same file after a remount and drop_caches
#   random_write     BENCH_RANDOM_WRITES 4 KiB pwrites at random offsets
#                    inside that file, each followed by fdatasync
#   meta_one_dir     create + stat + unlink of BENCH_FILES empty files in
#                    one directory, then syncfs
#   meta_spread      the same over BENCH_DIRS directories
#   find_stat        `find | xargs stat` of a BENCH_FILES tree over
#                    BENCH_DIRS directories, after a remount and drop_caches
#
# Each prints "ratio NAME = X.XX (target >= Y)", X = scoutfs speed over
# ext4 speed (above 1: scoutfs is faster); targets are 1.0 for the
# sequential pair and 0.8 for the rest.  "#" lines give the sizes, each
# side's seconds, the phases of the metadata runs and, unless
# BENCH_TRACE=0, how many times and how long each filesystem committed
# (scoutfs_trans_commit, jbd2_journal_commit_transaction, timed by the
# function_graph tracer on that function and its steps alone) and, for
# scoutfs, how long the commits spent merging the item log into the fs
# tree (item_write_log), recording freed blocks and returning the
# allocator's reserve (alloc_commit) and writing the dirty blocks
# (block_write_dirty).
#
# Sizes (defaults are the issue's): BENCH_SEQ_MB=1024 BENCH_FILES=100000
# BENCH_DIRS=1000 BENCH_RANDOM_WRITES=10000.  BENCH_QUICK=1 makes the
# defaults 32 MiB, 2000 files, 20 directories and 200 writes, to try it
# out in a few minutes; any BENCH_* set explicitly still wins.
#
# Disks: scoutfs gets /dev/vda (metadata, 2G) and /dev/vdb (data, 8G, or
# twice BENCH_SEQ_MB if that is more); ext4 gets /dev/vdc and /dev/vdd of
# the same sizes.  ext4 is made as a site would make it, on one device
# with its internal journal (/dev/vdd, the size of scoutfs's data
# device); /dev/vdc is then left idle.  All four disks are sparse files
# in the same host directory behind the same qemu, so a second device
# buys ext4 no separate spindle, and the internal journal is the ext4
# people run.  BENCH_EXT4_JOURNAL=external puts its journal on /dev/vdc
# instead, to mirror scoutfs's metadata device.  mkfs.ext4 initialises
# the inode tables and journal up front (lazy_*_init=0) so no background
# thread writes during the runs.
#
# Both filesystems are timed the same way, ext4 first and scoutfs right
# after for each workload so a change in the host's load hits both: the
# work of bench/fs_bench.c is timed by its own CLOCK_MONOTONIC (its exec
# from the 9p root is slow under TCG and no filesystem's work), find_stat
# by the guest's wall clock around the pipeline.
#
# Other knobs: BENCH_REPEAT=N times every workload N times on each
# filesystem (alternating) and takes each one's best, against a busy
# host's noise (default 1); BENCH_VM_TIMEOUT (seconds for the guest run,
# default 14400); BENCH_KEEP=1 keeps the work directory (console,
# results) under build/; BENCH_PERF=1 runs every timed command of both
# filesystems under `perf record -g` (so the ratios then include its
# overhead) and keeps each one's `perf report`, by function with and
# without its callees, in vm/results/perf.FS.NAME.TRY.txt there.
# Under TCG perf can only sample a software clock, whose interrupts land
# where interrupts are re-enabled (_raw_spin_unlock_irqrestore and the
# like): read the inclusive view.
#
# Inside the guest (tests/vm/run runs a generated script that calls this
# file with --guest) the same file does the work.
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	SEQ_MB=${BENCH_SEQ_MB:-32} FILES=${BENCH_FILES:-2000}
	DIRS=${BENCH_DIRS:-20} RANDOM_WRITES=${BENCH_RANDOM_WRITES:-200}
else
	SEQ_MB=${BENCH_SEQ_MB:-1024} FILES=${BENCH_FILES:-100000}
	DIRS=${BENCH_DIRS:-1000} RANDOM_WRITES=${BENCH_RANDOM_WRITES:-10000}
fi
EXT4_JOURNAL=${BENCH_EXT4_JOURNAL:-internal}
TRACE=${BENCH_TRACE:-1}
PERF=${BENCH_PERF:-0}
REPEAT=${BENCH_REPEAT:-1}
for v in SEQ_MB FILES DIRS RANDOM_WRITES REPEAT; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_$v wants a positive number, got '${!v}'" >&2; exit 2; }
done
case "$EXT4_JOURNAL" in internal|external) ;; *)
	echo "bench: BENCH_EXT4_JOURNAL is internal or external, got '$EXT4_JOURNAL'" >&2; exit 2 ;;
esac

sizes() {
	echo "# bench fs_vs_ext4: seq $SEQ_MB MiB, $RANDOM_WRITES random 4 KiB writes + fdatasync, $FILES files in 1 dir and over $DIRS dirs, best of $REPEAT, ext4 journal $EXT4_JOURNAL"
}

#
# The guest side: runs in the VM as root, the disks blank.
#
guest() {
	local FSB=$SCOUTFS_TOP/build/default/bench/fs_bench
	local SC_META=/dev/vda SC_DATA=/dev/vdb EXT4_JDEV=/dev/vdc EXT4_DEV=/dev/vdd
	local R=/run/results
	declare -A MNT=([ext4]=/mnt/ext4 [scoutfs]=/mnt/scoutfs)
	local TR=/sys/kernel/debug/tracing
	[ -d /sys/kernel/tracing/events ] && TR=/sys/kernel/tracing

	# a long fsync under TCG is not a hung task
	[ -w /proc/sys/kernel/hung_task_timeout_secs ] &&
		echo 0 > /proc/sys/kernel/hung_task_timeout_secs
	sizes
	echo "# kernel $(uname -r), $(nproc) vcpus, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB, $(date -u +%Y-%m-%d)"

	# the kernel's own request_module would look for modprobe outside
	# the chroot, in the initramfs, and not find it
	modprobe ext4
	scoutfs mkfs -f -Q 0,127.0.0.1,12345 "$SC_META" "$SC_DATA" > /dev/null
	local lazy=lazy_itable_init=0,lazy_journal_init=0
	if [ "$EXT4_JOURNAL" = external ]; then
		mkfs.ext4 -F -q -b 4096 -O journal_dev "$EXT4_JDEV"
		mkfs.ext4 -F -q -E "$lazy" -J device="$EXT4_JDEV" "$EXT4_DEV"
	else
		mkfs.ext4 -F -q -E "$lazy" "$EXT4_DEV"
	fi

	mount_fs() {
		mkdir -p "${MNT[$1]}"
		case $1 in
		ext4) mount -t ext4 "$EXT4_DEV" "${MNT[ext4]}" ;;
		scoutfs) mount -t scoutfs -o "metadev_path=$SC_META,quorum_slot_nr=0" \
				"$SC_DATA" "${MNT[scoutfs]}" ;;
		esac
	}
	# cold caches: unmount, drop every clean page and inode, mount again
	remount() {
		umount "${MNT[$1]}"
		sync
		echo 3 > /proc/sys/vm/drop_caches
		mount_fs "$1"
	}

	# commit tracing: the function_graph tracer on the commit function
	# and, one level down, on its main steps; nothing else is traced
	declare -A COMMIT_FN=([ext4]=jbd2_journal_commit_transaction [scoutfs]=scoutfs_trans_commit)
	declare -A COMMIT_PARTS=([ext4]="" [scoutfs]="scoutfs_item_write_log scoutfs_alloc_commit scoutfs_block_write_dirty")
	if [ "$TRACE" = 1 ] && [ -w "$TR/current_tracer" ] &&
	   grep -qx 'function_graph' <(tr ' ' '\n' < "$TR/available_tracers"); then
		echo 8192 > "$TR/buffer_size_kb"
	else
		TRACE=0
	fi
	trace_start() {
		[ "$TRACE" = 1 ] || return 0
		echo 0 > "$TR/tracing_on"
		echo nop > "$TR/current_tracer"
		echo "${COMMIT_FN[$1]} ${COMMIT_PARTS[$1]}" > "$TR/set_ftrace_filter" 2> /dev/null ||
			echo "${COMMIT_FN[$1]}" > "$TR/set_ftrace_filter" || { TRACE=0; return 0; }
		echo "${COMMIT_FN[$1]}" > "$TR/set_graph_function"
		echo 2 > "$TR/max_graph_depth"
		echo 1 > "$TR/options/funcgraph-tail"
		echo function_graph > "$TR/current_tracer"
		echo > "$TR/trace"
		echo 1 > "$TR/tracing_on"
	}
	# " N commits X.XXs (step=Y.YYs ...)": calls of FS's commit function,
	# their total time and that of each step inside them
	trace_stop() {
		[ "$TRACE" = 1 ] || return 0
		echo 0 > "$TR/tracing_on"
		# a line with a duration ends a call: "name();" or "} /* name */"
		awk -v main="${COMMIT_FN[$1]}" -F '|' '
			$1 ~ / us/ {
				n = split($1, f, " ")
				for (i = 1; i < n; i++) if (f[i + 1] == "us") d = f[i]
				name = $2
				sub(/^ *(\} \/\* )?/, "", name)
				sub(/[ (].*/, "", name)
				t[name] += d; c[name]++
			}
			END {
				printf " %d commits %.2fs", c[main], t[main] / 1e6
				sep = " ("
				for (k in t) if (k != main) {
					s = k; sub(/^scoutfs_/, "", s)
					printf "%s%s=%.2fs", sep, s, t[k] / 1e6; sep = " "
				}
				if (sep == " ") printf ")"
			}' "$TR/trace"
		echo nop > "$TR/current_tracer"
	}

	# run FS NAME TRY CMD...: time CMD, the work on FS; sets SECS, logs
	# phases
	local SECS
	run() {
		local fs=$1 name=$2 try=$3 t0 t1 out tr
		shift 3
		trace_start "$fs"
		t0=$(date +%s.%N)
		if [ "$PERF" = 1 ]; then
			out=$(perf record -q -g -F 500 -o "/tmp/perf.$fs.$name.$try" -- "$@") ||
				{ echo "bench: $fs $name failed: $*" >&2; exit 1; }
		else
			out=$("$@") || { echo "bench: $fs $name failed: $*" >&2; exit 1; }
		fi
		t1=$(date +%s.%N)
		tr=$(trace_stop "$fs")
		# fs_bench's own clock when it is the command (its exec from the
		# 9p root is slow under TCG and is not the filesystem's work)
		SECS=$(echo "$out" | awk -v a="$t0" -v b="$t1" '
			$1 == "total" { t = $2 } END { printf "%.3f", t != "" ? t : b - a }')
		echo "# $name $fs ${SECS}s$tr$(echo "$out" | awk '$1 == "phase" { printf " %s=%ss", $2, $3 }')"
		if [ "$PERF" = 1 ]; then
			# time with and without what each function calls
			{
				echo "== $fs $name: inclusive (children)"
				perf report -q -i "/tmp/perf.$fs.$name.$try" --stdio --children \
					--sort sym -g none --percent-limit 2 2> /dev/null
				echo "== $fs $name: self"
				perf report -q -i "/tmp/perf.$fs.$name.$try" --stdio --no-children \
					--sort sym -g none --percent-limit 1 2> /dev/null
			} | grep -v '^$' > "$R/perf.$fs.$name.$try.txt" || true
			rm -f "/tmp/perf.$fs.$name.$try"
		fi
	}
	# compare NAME TARGET CMD-TEMPLATE...: @M in the command is the mount.
	# BENCH_REPEAT tries, ext4 then scoutfs in each, each filesystem's
	# best counts; $PRE FS, if set, runs (untimed) before every try.
	compare() {
		local name=$1 target=$2 fs try
		declare -A best=()
		shift 2
		for ((try = 1; try <= REPEAT; try++)); do
			for fs in ext4 scoutfs; do
				[ -z "${PRE:-}" ] || $PRE "$fs" > /dev/null
				run "$fs" "$name" "$try" "${@//@M/${MNT[$fs]}}"
				best[$fs]=$(awk -v a="${best[$fs]:-}" -v b="$SECS" \
					'BEGIN { print (a == "" || b < a) ? b : a }')
			done
		done
		awk -v n="$name" -v e="${best[ext4]}" -v s="${best[scoutfs]}" -v t="$target" \
			'BEGIN { printf "ratio %s = %.2f (target >= %s)\n", n, (s > 0 ? e / s : 0), t }'
	}
	each() { # each CMD-TEMPLATE...: untimed setup on both
		local fs
		for fs in ext4 scoutfs; do "${@//@M/${MNT[$fs]}}" > /dev/null; done
	}
	# find, xargs and stat come from the 9p root, whose page cache
	# drop_caches empties too: run them once on the mount's root alone so
	# their loading is not timed
	FIND_STAT='find "$1" -type f -print0 | xargs -0 stat -c "%i %s %Y" > /dev/null'
	remount_warm() {
		remount "$1"
		sh -c "${FIND_STAT/-type f/-maxdepth 0}" sh "${MNT[$1]}"
	}
	# a new file each try: O_TRUNC of the last one would time its truncate
	no_seq() { rm -f "${MNT[$1]}/seq"; sync; }

	mount_fs ext4
	mount_fs scoutfs

	PRE=no_seq compare seq_write 1.0 "$FSB" seqwrite @M/seq "$SEQ_MB"
	PRE=remount compare seq_read 1.0 "$FSB" seqread @M/seq
	compare random_write 0.8 "$FSB" randwrite @M/seq "$RANDOM_WRITES"
	each rm -f @M/seq
	each sync

	each mkdir @M/one @M/spread @M/tree
	compare meta_one_dir 0.8 "$FSB" meta @M/one "$FILES" 1
	compare meta_spread 0.8 "$FSB" meta @M/spread "$FILES" "$DIRS"

	each "$FSB" mktree @M/tree "$FILES" "$DIRS"
	PRE=remount_warm compare find_stat 0.8 sh -c "$FIND_STAT" sh @M/tree

	umount "${MNT[ext4]}"
	umount "${MNT[scoutfs]}"
}

if [ "${1:-}" = --guest ]; then
	guest
	exit 0
fi

#
# The host side: build, boot the guest with four disks, print its lines.
#
[ -r "$TOP/kmod/src/scoutfs.ko" ] || { echo "bench: no kmod/src/scoutfs.ko; run make" >&2; exit 1; }
# the guest runs the host's tools (its root is the host's, over 9p)
tools="mkfs.ext4 find xargs stat"
if [ "$PERF" = 1 ]; then tools="$tools perf"; fi
for cmd in $tools; do
	command -v "$cmd" > /dev/null || { echo "bench: $cmd not found; run make deps" >&2; exit 1; }
done
make -s -C "$TOP/bench"
mkdir -p "$TOP/build"
WORK=$(mktemp -d "$TOP/build/bench-fs.XXXXXX")
keep=${BENCH_KEEP:-$PERF}
cleanup() {
	rm -f "$WORK"/vm/disk.*
	[ "$keep" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

data_gb=$(( (SEQ_MB * 2 + 1023) / 1024 ))
[ "$data_gb" -ge 8 ] || data_gb=8
# the guest sees this tree at the same path; the environment it gets is
# only what tests/vm/run passes, so the sizes travel in the script
{
	echo '#!/bin/bash'
	for v in SEQ_MB FILES DIRS RANDOM_WRITES REPEAT EXT4_JOURNAL TRACE PERF; do
		echo "export BENCH_$v=${!v}"
	done
	echo "exec bash '$TOP/bench/fs_vs_ext4.sh' --guest"
} > "$WORK/fs_vs_ext4.guest.sh"
chmod +x "$WORK/fs_vs_ext4.guest.sh"

sizes
rc=0
"$TOP/tests/vm/run" -q --out "$WORK/vm" --timeout "${BENCH_VM_TIMEOUT:-14400}" \
	--disk 2G --disk "${data_gb}G" --disk 2G --disk "${data_gb}G" \
	"$WORK/fs_vs_ext4.guest.sh" > "$WORK/vm.tap" 2>&1 || rc=$?
log=$WORK/vm/results/0.log
[ -f "$log" ] && grep -E '^(ratio |# )' "$log" | grep -v '^# bench fs_vs_ext4:' || true
if [ "$rc" -ne 0 ]; then
	keep=1
	echo "bench: the guest run failed; its output and console are in $WORK" >&2
	cat "$WORK/vm.tap" >&2
	[ -f "$log" ] && tail -n 20 "$log" >&2
	exit 1
fi
[ "$keep" = 1 ] && echo "# kept $WORK"
exit 0
