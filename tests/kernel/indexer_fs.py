#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The namespace side of tests/kernel/indexer.bats.

  indexer_fs.py dump MNT              a full walk of the namespace under MNT:
                                      one line per regular file and
                                      directory, in the form of
                                      `scoutfs-hsm index --dump`
                                      (kind, path, ino, size, data_version,
                                      state, mtime), sorted
  indexer_fs.py work MNT SEED N ARCH  N random changes of the tree under MNT:
                                      create, write, append, truncate,
                                      rename (files and directories), unlink,
                                      rm -r of a directory, mkdir, chmod,
                                      symlinks, release and stage (with the
                                      scoutfs CLI; archive copies in ARCH;
                                      a released file is staged before it
                                      is written, as writes wait for that);
                                      prints what it did by kind on stderr

The dump is the test's own truth, independent of the indexer: os.walk
with lstat, STAT_MORE (ioctl 5, upstream's layout) for data_version and
online/offline blocks.  Hard links are never made, so every inode has
exactly one path and the dump and the catalog can be compared line by
line.
"""
import fcntl
import os
import random
import shutil
import stat
import struct
import subprocess
import sys

STAT_MORE_FMT = "=6QI4x"	# meta_seq .. crtime_sec, crtime_nsec, pad
STAT_MORE = (2 << 30) | (struct.calcsize(STAT_MORE_FMT) << 16) | (0xE8 << 8) | 5


def stat_more(path):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        buf = fcntl.ioctl(fd, STAT_MORE, bytes(struct.calcsize(STAT_MORE_FMT)))
    finally:
        os.close(fd)
    return struct.unpack(STAT_MORE_FMT, buf)


def state_of(online, offline):
    if not offline:
        return "online"
    return "partial" if online else "offline"


def dump(mnt):
    lines = []
    for root, dirs, files in os.walk(mnt):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                kind = "d"
            elif stat.S_ISREG(st.st_mode):
                kind = "f"
            else:
                continue
            sm = stat_more(path)
            lines.append("%s\t%s\t%d\t%d\t%d\t%s\t%d" % (
                kind, os.path.relpath(path, mnt), st.st_ino, st.st_size,
                sm[2], state_of(sm[3], sm[4]), int(st.st_mtime)))
    for line in sorted(lines):
        print(line)


class Work:
    def __init__(self, mnt, seed, arch):
        self.mnt = mnt
        self.arch = arch
        self.rnd = random.Random(seed)
        self.counts = {}
        self.serial = seed * 100000

    def name(self, prefix):
        self.serial += 1
        return "%s%d" % (prefix, self.serial)

    def tree(self):
        dirs, files = [self.mnt], []
        for root, ds, fs in os.walk(self.mnt):
            dirs += [os.path.join(root, d) for d in ds]
            files += [os.path.join(root, f) for f in fs
                      if stat.S_ISREG(os.lstat(os.path.join(root, f)).st_mode)]
        return dirs, files

    def data(self):
        return os.urandom(self.rnd.choice([0, 100, 4096, 5000, 20000, 70000]))

    def done(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def archive_path(self, path):
        return os.path.join(self.arch, str(os.lstat(path).st_ino))

    def op(self):
        dirs, files = self.tree()
        r = self.rnd.random()
        d = self.rnd.choice(dirs)
        f = self.rnd.choice(files) if files else None
        if r < 0.22 or not f:
            with open(os.path.join(d, self.name("f")), "wb") as fh:
                fh.write(self.data())
            self.done("create")
        elif r < 0.38 and stat_more(f)[4]:
            # writes to a released file wait for all of it to be staged
            self.stage(f)
        elif r < 0.32:
            with open(f, "ab") as fh:
                fh.write(self.data() or b"x")
            self.done("append")
        elif r < 0.38:
            with open(f, "r+b") as fh:
                fh.truncate(self.rnd.randrange(0, 10000))
            self.done("truncate")
        elif r < 0.48:
            os.rename(f, os.path.join(d, self.name("r")))
            self.done("rename")
        elif r < 0.56:
            os.unlink(f)
            self.done("unlink")
        elif r < 0.64:
            os.mkdir(os.path.join(d, self.name("d")))
            self.done("mkdir")
        elif r < 0.70 and d != self.mnt:
            # a directory moves with everything beneath it, but not into
            # itself
            dest = self.rnd.choice([x for x in dirs
                                    if x != d and not x.startswith(d + "/")])
            os.rename(d, os.path.join(dest, self.name("m")))
            self.done("rename-dir")
        elif r < 0.73 and d != self.mnt:
            shutil.rmtree(d)
            self.done("rmdir")
        elif r < 0.77:
            os.chmod(f, self.rnd.choice([0o600, 0o644, 0o640]))
            self.done("chmod")
        elif r < 0.79:
            os.symlink("target", os.path.join(d, self.name("l")))
            self.done("symlink")
        elif r < 0.91:
            self.release(f)
        else:
            self.stage(f)

    def release(self, f):
        size = os.lstat(f).st_size
        # a released file is not read (the copy would wait for a stage)
        if size == 0 or stat_more(f)[4]:
            return
        os.sync()
        dv = stat_more(f)[2]
        shutil.copyfile(f, self.archive_path(f))
        subprocess.run(["scoutfs", "release", "-V", str(dv), f], check=True)
        self.done("release")

    def stage(self, f):
        sm = stat_more(f)
        arch = self.archive_path(f)
        if not sm[4] or not os.path.exists(arch):
            return
        subprocess.run(["scoutfs", "stage", "-V", str(sm[2]), arch, f],
                       check=True)
        self.done("stage")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "work":
        os.makedirs(sys.argv[5], exist_ok=True)
        w = Work(sys.argv[2], int(sys.argv[3]), sys.argv[5])
        for _ in range(int(sys.argv[4])):
            w.op()
        print(" ".join("%s=%d" % kv for kv in sorted(w.counts.items())),
              file=sys.stderr)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
