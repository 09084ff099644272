#!/usr/bin/env bats
# Extended attributes: values up to 65535 bytes (upstream's limit) in parts, the errno of every
# refusal, listing, hidden scoutfs.hide. names, the .srch. index, POSIX
# ACLs (inheritance, mode, enforcement) and nothing left behind by unlink.
# File contents are never needed: xattrs live in metadata items only.
load helpers

PY=/usr/bin/python3

# Python helpers for exact errno checks.  err() runs a call and prints
# "ok" or the errno name; cget()/clist() call getxattr/listxattr with an
# exact buffer size, which os.getxattr() hides by growing its buffer.
PYHELP='
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.restype = ctypes.c_ssize_t
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.listxattr.restype = ctypes.c_ssize_t
libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
def err(fn, *a):
    try:
        fn(*a)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
def cget(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    r = libc.getxattr(path.encode(), name.encode(), buf if size else None, size)
    return errno.errorcode[ctypes.get_errno()] if r < 0 else r
def clist(path, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    r = libc.listxattr(path.encode(), buf if size else None, size)
    return errno.errorcode[ctypes.get_errno()] if r < 0 else r
'

py() {
	"$PY" -c "$PYHELP
$1" "${@:2}"
}

# Run a command as an unprivileged user.
as_user() {
	setpriv --reuid=1000 --regid=1000 --clear-groups "$@"
}

# The items of the metadata device (unmounted) matching a pattern.
count_items() {
	scoutfs print "$META" | grep -cE "$1" || true
}

setup() {
	mkfs_and_mount
}

@test "values of 0, 1, 4000, 4097 and 65535 bytes read back exactly, also after remount" {
	touch "$MNT/f"
	for n in 0 1 4000 4097 65535; do
		head -c "$n" /dev/urandom > "$BATS_TEST_TMPDIR/v$n"
		py 'os.setxattr(sys.argv[1], "user.v" + sys.argv[2], open(sys.argv[3], "rb").read())' \
			"$MNT/f" "$n" "$BATS_TEST_TMPDIR/v$n"
	done
	check_values() {
		for n in 0 1 4000 4097 65535; do
			py 'open(sys.argv[3], "wb").write(os.getxattr(sys.argv[1], "user.v" + sys.argv[2]))' \
				"$MNT/f" "$n" "$BATS_TEST_TMPDIR/r$n"
			cmp "$BATS_TEST_TMPDIR/v$n" "$BATS_TEST_TMPDIR/r$n"
		done
	}
	check_values
	umount "$MNT"
	mount_scoutfs
	check_values
	umount_and_fsck
}

@test "replacing a value of many parts with a short one and back keeps the right bytes" {
	touch "$MNT/f"
	head -c 65535 /dev/urandom > "$BATS_TEST_TMPDIR/big"
	py 'os.setxattr(sys.argv[1], "user.x", open(sys.argv[2], "rb").read())' "$MNT/f" "$BATS_TEST_TMPDIR/big"
	setfattr -n user.x -v short "$MNT/f"
	[ "$(getfattr --only-values -n user.x "$MNT/f")" = "short" ]
	py 'os.setxattr(sys.argv[1], "user.x", open(sys.argv[2], "rb").read())' "$MNT/f" "$BATS_TEST_TMPDIR/big"
	py 'assert os.getxattr(sys.argv[1], "user.x") == open(sys.argv[2], "rb").read()' "$MNT/f" "$BATS_TEST_TMPDIR/big"
	umount_and_fsck
}

@test "a reader racing replacements of a 64 KiB value sees one whole value or the other" {
	touch "$MNT/f"
	run py '
p = sys.argv[1]
a, b = b"a" * 65535, b"b" * 4097
os.setxattr(p, "user.race", a)
pid = os.fork()
if pid == 0:
    for i in range(300):
        os.setxattr(p, "user.race", b if i % 2 else a)
    os._exit(0)
reads = 0
while True:
    v = os.getxattr(p, "user.race")
    assert v in (a, b), (len(v), v[:8])
    reads += 1
    if os.waitpid(pid, os.WNOHANG)[0]:
        break
print("ok", reads > 0)' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "$output" = "ok True" ]
	umount_and_fsck
}

@test "a value of 65536 bytes fails with E2BIG, as upstream's limit is 65535" {
	touch "$MNT/f"
	[ "$(py 'print(err(os.setxattr, sys.argv[1], "user.big", b"x" * 65536))' "$MNT/f")" = "E2BIG" ]
	[ "$(py 'print(err(os.setxattr, sys.argv[1], "user.big", b"x" * 65537))' "$MNT/f")" = "E2BIG" ]
	[ "$(py 'print(err(os.getxattr, sys.argv[1], "user.big"))' "$MNT/f")" = "ENODATA" ]
	umount_and_fsck
}

@test "names of 255 bytes work and 256 bytes fail with ERANGE" {
	touch "$MNT/f"
	run py '
n = "user." + "n" * 250
assert len(n) == 255
os.setxattr(sys.argv[1], n, b"v255")
assert os.getxattr(sys.argv[1], n) == b"v255"
assert n in os.listxattr(sys.argv[1])
print(err(os.setxattr, sys.argv[1], n + "x", b"v"))
print(err(os.getxattr, sys.argv[1], n + "x"))' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ERANGE" ]
	[ "${lines[1]}" = "ERANGE" ]
	umount "$MNT"
	mount_scoutfs
	[ "$(getfattr --only-values -n "user.$(printf 'n%.0s' $(seq 1 250))" "$MNT/f")" = "v255" ]
	umount_and_fsck
}

@test "getxattr and listxattr with a too small buffer fail with ERANGE, size 0 gives the size" {
	touch "$MNT/f"
	setfattr -n user.abc -v 12345 "$MNT/f"
	setfattr -n user.de -v x "$MNT/f"
	run py '
p = sys.argv[1]
print(cget(p, "user.abc", 0), cget(p, "user.abc", 4), cget(p, "user.abc", 5))
print(clist(p, 0), clist(p, 16), clist(p, 17))
print(cget(p, "user.missing", 0), cget(p, "user.missing", 10))' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "5 ERANGE 5" ]
	[ "${lines[1]}" = "17 ERANGE 17" ]
	[ "${lines[2]}" = "ENODATA ENODATA" ]
	umount_and_fsck
}

@test "XATTR_CREATE and XATTR_REPLACE fail with EEXIST and ENODATA; removal of a missing name fails with ENODATA" {
	touch "$MNT/f"
	run py '
p = sys.argv[1]
print(err(os.setxattr, p, "user.a", b"1", os.XATTR_REPLACE))
print(err(os.setxattr, p, "user.a", b"1", os.XATTR_CREATE))
print(err(os.setxattr, p, "user.a", b"2", os.XATTR_CREATE))
print(err(os.setxattr, p, "user.a", b"3", os.XATTR_REPLACE))
print(os.getxattr(p, "user.a").decode())
print(err(os.removexattr, p, "user.a"))
print(err(os.removexattr, p, "user.a"))
print(err(os.getxattr, p, "user.a"))' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "${lines[*]}" = "ENODATA ok EEXIST ok 3 ok ENODATA ENODATA" ]
	umount_and_fsck
}

@test "XATTR_CREATE and XATTR_REPLACE together fail with EINVAL, as upstream's, whether or not the name exists" {
	touch "$MNT/f"
	run py '
p = sys.argv[1]
both = os.XATTR_CREATE | os.XATTR_REPLACE
print(err(os.setxattr, p, "user.a", b"1", both))
os.setxattr(p, "user.a", b"1")
print(err(os.setxattr, p, "user.a", b"2", both))
print(os.getxattr(p, "user.a").decode())' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "${lines[*]}" = "EINVAL EINVAL 1" ]
	umount_and_fsck
}

@test "500 xattrs on one inode are all listed and read back after remount" {
	touch "$MNT/f"
	py '
for i in range(500):
    os.setxattr(sys.argv[1], "user.attr-%d" % i, ("value-%d" % i).encode() * (i % 7 + 1))' "$MNT/f"
	check_all() {
		py '
names = os.listxattr(sys.argv[1])
assert sorted(names) == sorted("user.attr-%d" % i for i in range(500)), len(names)
for i in range(500):
    assert os.getxattr(sys.argv[1], "user.attr-%d" % i) == ("value-%d" % i).encode() * (i % 7 + 1)' "$MNT/f"
	}
	check_all
	umount "$MNT"
	mount_scoutfs
	check_all
	py '
for i in range(0, 500, 2):
    os.removexattr(sys.argv[1], "user.attr-%d" % i)
assert len(os.listxattr(sys.argv[1])) == 250' "$MNT/f"
	umount_and_fsck
}

@test "xattrs on directories, symlinks and special files" {
	mkdir "$MNT/d"
	mknod "$MNT/fifo" p
	ln -s d "$MNT/link"
	setfattr -n user.d -v dir "$MNT/d"
	setfattr -n trusted.t -v fifo "$MNT/fifo"
	setfattr -h -n trusted.t -v link "$MNT/link"
	[ "$(getfattr --only-values -n user.d "$MNT/d")" = "dir" ]
	[ "$(getfattr --only-values -n trusted.t "$MNT/fifo")" = "fifo" ]
	[ "$(getfattr -h --only-values -n trusted.t "$MNT/link")" = "link" ]
	# the VFS keeps user. off special files
	run setfattr -n user.x -v y "$MNT/fifo"
	[ "$status" -ne 0 ]
	umount_and_fsck
}

@test "hidden scoutfs.hide. names are not listed but are readable by name" {
	touch "$MNT/f"
	chmod 644 "$MNT/f"
	setfattr -n scoutfs.hide.secret -v s1 "$MNT/f"
	setfattr -n scoutfs.visible -v v1 "$MNT/f"
	setfattr -n user.plain -v p1 "$MNT/f"
	run getfattr -m - --absolute-names "$MNT/f"
	[[ "$output" == *"scoutfs.visible"* ]]
	[[ "$output" == *"user.plain"* ]]
	[[ "$output" != *"hide"* ]]
	[ "$(getfattr --only-values -n scoutfs.hide.secret "$MNT/f")" = "s1" ]
	[ "$(as_user getfattr --only-values -n scoutfs.hide.secret "$MNT/f")" = "s1" ]
	umount "$MNT"
	mount_scoutfs
	[ "$(getfattr --only-values -n scoutfs.hide.secret "$MNT/f")" = "s1" ]
	umount_and_fsck
}

@test "only CAP_SYS_ADMIN sets or removes scoutfs. names" {
	touch "$MNT/f"
	chown 1000:1000 "$MNT/f"
	setfattr -n scoutfs.hide.x -v root "$MNT/f"
	[ "$(as_user "$PY" -c "$PYHELP
print(err(os.setxattr, '$MNT/f', 'scoutfs.hide.y', b'1'))
print(err(os.removexattr, '$MNT/f', 'scoutfs.hide.x'))
print(err(os.setxattr, '$MNT/f', 'user.mine', b'1'))" | tr '\n' ' ')" = "EPERM EPERM ok " ]
	[ "$(getfattr --only-values -n scoutfs.hide.x "$MNT/f")" = "root" ]
	umount_and_fsck
}

@test "trusted. names are listed only to CAP_SYS_ADMIN; security. names are kept" {
	touch "$MNT/f"
	chmod 644 "$MNT/f"
	setfattr -n trusted.t -v 1 "$MNT/f"
	setfattr -n security.s -v 2 "$MNT/f"
	setfattr -n user.u -v 3 "$MNT/f"
	run getfattr -m - --absolute-names "$MNT/f"
	[[ "$output" == *"trusted.t"* ]]
	[[ "$output" == *"security.s"* ]]
	run as_user getfattr -m - --absolute-names "$MNT/f"
	[[ "$output" != *"trusted.t"* ]]
	[[ "$output" == *"user.u"* ]]
	[ "$(getfattr --only-values -n security.s "$MNT/f")" = "2" ]
	umount_and_fsck
}

@test "every xattr change updates ctime and moves the inode's meta_seq" {
	touch "$MNT/f"
	ino=$(stat -c %i "$MNT/f")
	meta_seq() {
		scoutfs print "$META" | sed -n "s/.*fs\.inode $ino\.0\.0: .* meta_seq \([0-9]*\) .*/\1/p"
	}
	umount "$MNT"
	before=$(meta_seq)
	mount_scoutfs
	ctime=$(stat -c %Z.%z "$MNT/f")
	sleep 1.1
	setfattr -n user.a -v 1 "$MNT/f"
	[ "$(stat -c %Z.%z "$MNT/f")" != "$ctime" ]
	umount "$MNT"
	after_set=$(meta_seq)
	[ "$after_set" -gt "$before" ]
	mount_scoutfs
	setfattr -x user.a "$MNT/f"
	umount "$MNT"
	[ "$(meta_seq)" -gt "$after_set" ]
	mount_scoutfs
	umount_and_fsck
}

@test ".srch. names get one srch index item that follows set, replace and remove" {
	touch "$MNT/a" "$MNT/b"
	setfattr -n user.tag.srch.color -v red "$MNT/a"
	setfattr -n user.tag.srch.color -v blue "$MNT/b"
	setfattr -n user.tag.srch.color -v green "$MNT/b"
	setfattr -n user.nosrch -v x "$MNT/b"
	umount "$MNT"
	[ "$(count_items '^ *srch\.')" -eq 2 ]
	mount_scoutfs
	setfattr -x user.tag.srch.color "$MNT/a"
	umount "$MNT"
	[ "$(count_items '^ *srch\.')" -eq 1 ]
	mount_scoutfs
	[ "$(getfattr --only-values -n user.tag.srch.color "$MNT/b")" = "green" ]
	umount_and_fsck
}

@test "unlink frees every xattr and srch item of the inode" {
	touch "$MNT/keep" "$MNT/gone"
	setfattr -n user.k -v 1 "$MNT/keep"
	gone=$(stat -c %i "$MNT/gone")
	py '
for i in range(40):
    os.setxattr(sys.argv[1], "user.x.srch.%d" % i, b"v" * 5000)
os.setxattr(sys.argv[1], "scoutfs.hide.srch.h", b"h")' "$MNT/gone"
	umount "$MNT"
	[ "$(count_items "fs\.xattr $gone\.")" -gt 40 ]
	[ "$(count_items '^ *srch\.')" -eq 41 ]
	mount_scoutfs
	rm "$MNT/gone"
	umount "$MNT"
	[ "$(count_items "fs\.xattr $gone\.")" -eq 0 ]
	[ "$(count_items '^ *srch\.')" -eq 0 ]
	[ "$(count_items 'fs\.xattr ')" -eq 1 ]
	mount_scoutfs
	[ "$(getfattr --only-values -n user.k "$MNT/keep")" = "1" ]
	umount_and_fsck
}

@test "an unlinked file still open keeps its xattrs until the last close" {
	touch "$MNT/f"
	setfattr -n user.tag.srch.a -v 1 "$MNT/f"
	run py '
fd = os.open(sys.argv[1], os.O_RDONLY)
os.unlink(sys.argv[1])
print(os.getxattr(fd, "user.tag.srch.a").decode())
os.setxattr(fd, "user.more", b"2")
print(os.getxattr(fd, "user.more").decode())
os.close(fd)' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "${lines[*]}" = "1 2" ]
	umount "$MNT"
	[ "$(count_items 'fs\.xattr |^ *srch\.')" -eq 0 ]
	mount_scoutfs
	umount_and_fsck
}

@test "new files get the umask when their directory has no default ACL" {
	(umask 022; touch "$MNT/f"; mkdir "$MNT/d")
	[ "$(stat -c %a "$MNT/f")" = "644" ]
	[ "$(stat -c %a "$MNT/d")" = "755" ]
	(umask 077; touch "$MNT/g")
	[ "$(stat -c %a "$MNT/g")" = "600" ]
	umount_and_fsck
}

@test "a default ACL is inherited by new files and directories, also after remount" {
	mkdir "$MNT/d"
	setfacl -d -m u:1000:rwx,g::r-x,o::--- "$MNT/d"
	(umask 077; touch "$MNT/d/f"; mkdir "$MNT/d/sub")
	check_inherited() {
		getfacl -pn "$MNT/d/f" | grep -qx "user:1000:rwx.*"
		getfacl -pn "$MNT/d/sub" | grep -qx "user:1000:rwx.*"
		getfacl -pn "$MNT/d/sub" | grep -qx "default:user:1000:rwx"
		# the umask does not apply under a default ACL
		[ "$(stat -c %a "$MNT/d/sub")" = "770" ]
		[ "$(stat -c %a "$MNT/d/f")" = "660" ]
	}
	check_inherited
	umount "$MNT"
	mount_scoutfs
	check_inherited
	(umask 077; touch "$MNT/d/sub/deeper")
	getfacl -pn "$MNT/d/sub/deeper" | grep -qx "user:1000:rwx.*"
	umount_and_fsck
}

@test "setfacl changes the mode, chmod changes the ACL mask, and a plain ACL is a mode" {
	touch "$MNT/f"
	chmod 600 "$MNT/f"
	setfacl -m u:1000:r--,g::r-- "$MNT/f"
	[ "$(stat -c %a "$MNT/f")" = "640" ]
	getfacl -pn "$MNT/f" | grep -qx "mask::r--"
	chmod 600 "$MNT/f"
	getfacl -pn "$MNT/f" | grep -qx "mask::---"
	setfacl -b "$MNT/f"
	[ -z "$(getfattr -m system. --absolute-names "$MNT/f")" ]
	# an ACL that is only a mode is stored as the mode
	setfacl -m u::rwx,g::r-x,o::r-- "$MNT/f"
	[ "$(stat -c %a "$MNT/f")" = "754" ]
	[ -z "$(getfattr -m system. --absolute-names "$MNT/f")" ]
	umount_and_fsck
}

@test "an ACL grants and denies another uid through the VFS" {
	mkdir -m 700 "$MNT/d"
	touch "$MNT/d/f"
	chmod 600 "$MNT/d/f"
	run as_user ls "$MNT/d"
	[ "$status" -ne 0 ]
	setfacl -m u:1000:r-x "$MNT/d"
	as_user ls "$MNT/d" | grep -qx f
	open_as_user() {
		as_user "$PY" -c "$PYHELP
print(err(os.open, '$MNT/d/f', os.O_RDONLY))"
	}
	[ "$(open_as_user)" = "EACCES" ]
	setfacl -m u:1000:r-- "$MNT/d/f"
	[ "$(open_as_user)" = "ok" ]
	# after remount the ACLs come from disk, not the cache
	umount "$MNT"
	mount_scoutfs
	[ "$(open_as_user)" = "ok" ]
	setfacl -m u:1000:--- "$MNT/d/f"
	[ "$(open_as_user)" = "EACCES" ]
	setfacl -x u:1000 "$MNT/d"
	run as_user ls "$MNT/d"
	[ "$status" -ne 0 ]
	umount_and_fsck
}

@test "ACL xattrs are listed and removable, and a default ACL is refused on a file" {
	mkdir "$MNT/d"
	touch "$MNT/f"
	setfacl -m u:1000:rw "$MNT/f"
	setfacl -d -m u:1000:rw "$MNT/d"
	getfattr -m - --absolute-names "$MNT/f" | grep -qx system.posix_acl_access
	getfattr -m - --absolute-names "$MNT/d" | grep -qx system.posix_acl_default
	run setfacl -d -m u:1000:rw "$MNT/f"
	[ "$status" -ne 0 ]
	setfattr -x system.posix_acl_access "$MNT/f"
	[ -z "$(getfacl -pn "$MNT/f" | grep "user:1000")" ]
	umount_and_fsck
}

# The ioctls are glue in ioctl.c over scoutfs_xattr_list_hidden() and
# scoutfs_xattr_search(); skipped while a module does not have them.
@test "LISTXATTR_HIDDEN lists every hidden name once, across small buffers" {
	touch "$MNT/f"
	py '
for i in range(100):
    os.setxattr(sys.argv[1], "scoutfs.hide.h%03d" % i, b"v")
os.setxattr(sys.argv[1], "user.visible", b"v")' "$MNT/f"
	run py '
import fcntl, struct
IOC = (3 << 30) | (24 << 16) | (0xE8 << 8) | 8
fd = os.open(sys.argv[1], os.O_RDONLY)
buf = ctypes.create_string_buffer(300)
idp, hashp, names = 0, 0, []
while True:
    arg = bytearray(struct.pack("QQII", idp, ctypes.addressof(buf), 300, hashp))
    try:
        n = fcntl.ioctl(fd, IOC, arg)
    except OSError as e:
        if e.errno == errno.ENOTTY:
            print("NOIOCTL")
            sys.exit(0)
        raise
    if n == 0:
        break
    idp, _, _, hashp = struct.unpack("QQII", arg)
    names += buf.raw[:n].split(b"\0")[:-1]
names = [x.decode() for x in names]
assert sorted(names) == ["scoutfs.hide.h%03d" % i for i in range(100)], names
print("OK")' "$MNT/f"
	[ "$status" -eq 0 ]
	[ "$output" = "NOIOCTL" ] && skip "no LISTXATTR_HIDDEN ioctl in this module"
	[ "$output" = "OK" ]
	umount_and_fsck
}

@test "SEARCH_XATTRS finds exactly the inodes with a .srch. name" {
	mkdir "$MNT/d"
	for i in $(seq 1 20); do touch "$MNT/d/f$i"; done
	for i in $(seq 1 20 | grep '[05]$'); do setfattr -n user.srch.srch.k -v 1 "$MNT/d/f$i"; done
	setfattr -n user.srch.srch.other -v 1 "$MNT/d/f3"
	want=$(for i in 5 10 15 20; do stat -c %i "$MNT/d/f$i"; done | sort -n | tr '\n' ' ')
	run py '
import fcntl, struct
IOC = (1 << 30) | (56 << 16) | (0xE8 << 8) | 9
fd = os.open(sys.argv[1], os.O_RDONLY)
name = b"user.srch.srch.k"
nb = ctypes.create_string_buffer(name)
inos = (ctypes.c_uint64 * 2)()
nxt, found = 0, []
for _ in range(100):
    arg = bytearray(struct.pack("QQQQQQH6x", nxt, 2**64 - 1, ctypes.addressof(nb),
                                ctypes.addressof(inos), 0, 2, len(name)))
    try:
        n = fcntl.ioctl(fd, IOC, arg)
    except OSError as e:
        if e.errno == errno.ENOTTY:
            print("NOIOCTL")
            sys.exit(0)
        raise
    nxt, _, _, _, flags, _, _ = struct.unpack("QQQQQQH6x", arg)
    found += list(inos[:n])
    if flags & 1:
        break
print(" ".join(str(i) for i in found) + " ")' "$MNT/d"
	[ "$status" -eq 0 ]
	[ "$output" = "NOIOCTL" ] && skip "no SEARCH_XATTRS ioctl in this module"
	[ "$output" = "$want" ]
	umount_and_fsck
}
