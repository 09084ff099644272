#!/usr/bin/env bats
# Names: create, mkdir, links, symlinks, special files, unlink, rmdir,
# rename, readdir; and all of it surviving unmount and remount.
load helpers

setup() {
	mkfs_and_mount
}

@test "files, directories, symlinks and special files persist across remount" {
	mkdir "$MNT/dir"
	touch "$MNT/dir/file"
	ln -s dir/file "$MNT/link"
	mknod "$MNT/fifo" p
	mknod "$MNT/chr" c 1 3
	umount "$MNT"
	mount_scoutfs
	[ -d "$MNT/dir" ]
	[ -f "$MNT/dir/file" ]
	[ "$(readlink "$MNT/link")" = "dir/file" ]
	[ -p "$MNT/fifo" ]
	[ "$(stat -c %t,%T "$MNT/chr")" = "1,3" ]
	umount_and_fsck
}

@test "link counts follow links and subdirectories" {
	mkdir -p "$MNT/a/b" "$MNT/a/c"
	[ "$(stat -c %h "$MNT/a")" -eq 4 ]
	touch "$MNT/f"
	ln "$MNT/f" "$MNT/a/g"
	[ "$(stat -c %h "$MNT/f")" -eq 2 ]
	[ "$(stat -c %i "$MNT/f")" -eq "$(stat -c %i "$MNT/a/g")" ]
	rm "$MNT/f"
	[ "$(stat -c %h "$MNT/a/g")" -eq 1 ]
	umount_and_fsck
}

@test "rmdir of a non-empty directory fails with ENOTEMPTY" {
	mkdir -p "$MNT/d/e"
	run rmdir "$MNT/d"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not empty"* ]]
	rmdir "$MNT/d/e" "$MNT/d"
	[ ! -e "$MNT/d" ]
	umount_and_fsck
}

@test "readdir lists every entry once, with . and .." {
	mkdir "$MNT/d"
	for i in $(seq 1 300); do touch "$MNT/d/file-$i"; done
	[ "$(ls -a "$MNT/d" | wc -l)" -eq 302 ]
	[ "$(ls "$MNT/d" | sort -u | wc -l)" -eq 300 ]
	rm "$MNT"/d/file-1*
	[ "$(ls "$MNT/d" | wc -l)" -eq 189 ]
	umount_and_fsck
}

@test "names of 255 bytes work and 256 bytes fail" {
	long=$(printf 'n%.0s' $(seq 1 255))
	touch "$MNT/$long"
	[ -f "$MNT/$long" ]
	run touch "$MNT/${long}x"
	[ "$status" -ne 0 ]
	umount_and_fsck
}

@test "rename moves across directories and replaces a target" {
	mkdir "$MNT/a" "$MNT/b"
	echo -n > "$MNT/a/x"
	touch "$MNT/b/y"
	yino=$(stat -c %i "$MNT/b/y")
	xino=$(stat -c %i "$MNT/a/x")
	mv "$MNT/a/x" "$MNT/b/y"
	[ ! -e "$MNT/a/x" ]
	[ "$(stat -c %i "$MNT/b/y")" -eq "$xino" ]
	[ "$xino" -ne "$yino" ]
	mkdir "$MNT/a/sub"
	mv "$MNT/a/sub" "$MNT/b/"
	[ "$(stat -c %h "$MNT/a")" -eq 2 ]
	[ "$(stat -c %h "$MNT/b")" -eq 3 ]
	umount_and_fsck
}

@test "RENAME_NOREPLACE refuses an existing target and RENAME_EXCHANGE swaps" {
	touch "$MNT/p" "$MNT/q"
	pino=$(stat -c %i "$MNT/p")
	qino=$(stat -c %i "$MNT/q")
	run mv --no-clobber -T "$MNT/p" "$MNT/q"
	[ "$(stat -c %i "$MNT/q")" -eq "$qino" ]
	run python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.renameat2(-100,sys.argv[1].encode(),-100,sys.argv[2].encode(),1); sys.exit(ctypes.get_errno() if r else 0)' "$MNT/p" "$MNT/q"
	[ "$status" -eq 17 ]
	python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); sys.exit(1 if l.renameat2(-100,sys.argv[1].encode(),-100,sys.argv[2].encode(),2) else 0)' "$MNT/p" "$MNT/q"
	[ "$(stat -c %i "$MNT/p")" -eq "$qino" ]
	[ "$(stat -c %i "$MNT/q")" -eq "$pino" ]
	umount_and_fsck
}

@test "a deep tree of 100 directories works and persists" {
	path=$MNT
	for i in $(seq 1 100); do path=$path/d$i; done
	mkdir -p "$path"
	touch "$path/leaf"
	umount "$MNT"
	mount_scoutfs
	[ -f "$path/leaf" ]
	umount_and_fsck
}
