#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Workers and checks for tests/kernel/concurrency.bats.

  concurrency.py stress ID SECONDS ROOT   random namespace changes in ROOT/A
                                          and ROOT/B for SECONDS
  concurrency.py read ID SECONDS ROOT     list, stat and read everything there
  concurrency.py race ID NR_WORKERS N ROOT BARRIER PHASES
                                          every worker does the same changes
                                          to the same N names, phase by phase
  concurrency.py check ROOT               the tree's consistency; prints its
                                          listing on stdout, problems on stderr

Workers print one JSON object: for each operation the number of outcomes by
errno name ("ok" for success), the outcomes that are no legitimate race
("unexpected") and, for race, the indexes each phase won.  Every file a
worker writes holds lines "w<ID> <N>\\n", which the readers and the check
verify.
"""
import errno
import json
import os
import random
import re
import stat
import sys
import time

DIRS = ("A", "B")
FILES = ["f%d" % i for i in range(40)]
SUBDIRS = ["d%d" % i for i in range(10)]
LINE = re.compile(rb"\A(w[0-9]+ [0-9]+\n)*\Z")

# errnos that are a legitimate outcome of racing with the other workers
RACES = {
    "create": {errno.EEXIST},
    "append": {errno.ENOENT},
    "fsync": {errno.ENOENT},
    "rename": {errno.ENOENT},
    "link": {errno.ENOENT, errno.EEXIST},
    "unlink": {errno.ENOENT},
    "mkdir": {errno.EEXIST},
    "rmdir": {errno.ENOENT, errno.ENOTEMPTY},
    "rename_dir": {errno.ENOENT, errno.ENOTEMPTY},
    "fill_dir": {errno.ENOENT, errno.EEXIST},
    "empty_dir": {errno.ENOENT},
    "listdir": {errno.ENOENT},
    "lstat": {errno.ENOENT},
    "read": {errno.ENOENT},
}


class Counts:
    def __init__(self):
        self.ops = {}
        self.unexpected = []

    def run(self, op, fn, *args):
        try:
            ret = fn(*args)
            name = "ok"
        except OSError as e:
            ret = None
            name = errno.errorcode.get(e.errno, str(e.errno))
            if e.errno not in RACES.get(op, ()):
                self.unexpected.append("%s%r: %s" % (op, args, e))
        counts = self.ops.setdefault(op, {})
        counts[name] = counts.get(name, 0) + 1
        return ret

    def bad(self, what):
        self.unexpected.append(what)

    def dump(self, **extra):
        out = {"ops": self.ops, "unexpected": self.unexpected[:50],
               "nr_unexpected": len(self.unexpected)}
        out.update(extra)
        print(json.dumps(out, sort_keys=True))


def create(path, content):
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        os.write(fd, content)
    finally:
        os.close(fd)


def append(path, content):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, content)
    finally:
        os.close(fd)


def append_fsync(path, content):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def stress(wid, seconds, root):
    c = Counts()
    rnd = random.Random(wid * 7919 + os.getpid())
    deadline = time.monotonic() + seconds
    n = 0
    over = 0
    while time.monotonic() < deadline:
        n += 1
        line = b"w%d %d\n" % (wid, n)
        d1 = os.path.join(root, rnd.choice(DIRS))
        d2 = os.path.join(root, rnd.choice(DIRS))
        f1 = os.path.join(d1, rnd.choice(FILES))
        f2 = os.path.join(d2, rnd.choice(FILES))
        s1 = os.path.join(d1, rnd.choice(SUBDIRS))
        s2 = os.path.join(d2, rnd.choice(SUBDIRS))
        op = rnd.choice(("create", "create", "append", "rename", "rename",
                         "link", "unlink", "mkdir", "rmdir", "rename_dir",
                         "fill_dir", "empty_dir", "fsync"))
        if op == "create":
            c.run(op, create, f1, line)
        elif op == "append":
            c.run(op, append, f1, line)
        elif op == "rename":
            # over an existing target as often as not
            try:
                target = os.lstat(f2).st_ino
            except OSError:
                target = None
            try:
                source = os.lstat(f1).st_ino
            except OSError:
                source = None
            c.run(op, os.rename, f1, f2)
            if target is not None and source is not None and target != source:
                over += 1
        elif op == "link":
            c.run(op, os.link, f1, f2)
        elif op == "unlink":
            c.run(op, os.unlink, f1)
        elif op == "mkdir":
            c.run(op, os.mkdir, s1)
        elif op == "rmdir":
            c.run(op, os.rmdir, s1)
        elif op == "rename_dir":
            c.run(op, os.rename, s1, s2)
        elif op == "fill_dir":
            c.run(op, create, os.path.join(s1, "x"), line)
        elif op == "empty_dir":
            c.run(op, os.unlink, os.path.join(s1, "x"))
        elif op == "fsync":
            # a commit in the middle of everyone else's changes
            c.run(op, append_fsync, f1, line)
    c.dump(renames_over_existing=over)


def read_tree(c, path, depth):
    names = c.run("listdir", os.listdir, path)
    if names is None:
        return
    for name in names:
        p = os.path.join(path, name)
        st = c.run("lstat", os.lstat, p)
        if st is None:
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth < 2:
                read_tree(c, p, depth + 1)
        elif stat.S_ISREG(st.st_mode):
            data = c.run("read", read_file, p)
            if data is not None and not LINE.match(data):
                c.bad("read %s: unexpected contents %r" % (p, data[:80]))
        else:
            c.bad("%s: unexpected mode %o" % (p, st.st_mode))


def read(wid, seconds, root):
    c = Counts()
    deadline = time.monotonic() + seconds
    passes = 0
    while time.monotonic() < deadline:
        for d in DIRS:
            read_tree(c, os.path.join(root, d), 1)
        passes += 1
    c.dump(passes=passes)


def barrier(path, wid, nr, phase):
    open(os.path.join(path, "%s.%d" % (phase, wid)), "w").close()
    deadline = time.monotonic() + 300
    while sum(os.path.exists(os.path.join(path, "%s.%d" % (phase, i)))
              for i in range(nr)) < nr:
        if time.monotonic() > deadline:
            raise SystemExit("worker %d: barrier %s timed out" % (wid, phase))
        time.sleep(0.01)


# phase: (operation, its race errno, what it does to index i)
PHASES = {
    "create": ("create", errno.EEXIST,
               lambda r, w, i: create(os.path.join(r, "c%d" % i), b"w%d %d\n" % (w, i))),
    "rename": ("rename", errno.ENOENT,
               lambda r, w, i: os.rename(os.path.join(r, "c%d" % i), os.path.join(r, "r%d" % i))),
    "unlink": ("unlink", errno.ENOENT,
               lambda r, w, i: os.unlink(os.path.join(r, "r%d" % i))),
    "mkdir": ("mkdir", errno.EEXIST,
              lambda r, w, i: os.mkdir(os.path.join(r, "m%d" % i))),
    "rmdir": ("rmdir", errno.ENOENT,
              lambda r, w, i: os.rmdir(os.path.join(r, "m%d" % i))),
}


def race(wid, nr, n, root, bar, phases):
    c = Counts()
    won = {}
    for phase in phases.split(","):
        op, race_errno, fn = PHASES[phase]
        barrier(bar, wid, nr, "start-" + phase)
        won[phase] = []
        # the workers go through the names in different orders and meet
        order = list(range(n))
        if wid % 2:
            order.reverse()
        for i in order:
            try:
                fn(root, wid, i)
                won[phase].append(i)
                res = "ok"
            except OSError as e:
                res = errno.errorcode.get(e.errno, str(e.errno))
                if e.errno != race_errno:
                    c.bad("%s %d: %s" % (phase, i, e))
            counts = c.ops.setdefault(op, {})
            counts[res] = counts.get(res, 0) + 1
        barrier(bar, wid, nr, "end-" + phase)
    c.dump(won=won)


def check(root):
    """Print the tree (type ino nlink size path) and report what does not
    add up: directory link counts, file link counts against the paths
    found, readdir against lookups, d_type against the mode, contents."""
    problems = []
    paths_of = {}
    nlink_of = {}
    listing = []
    for dirpath, dirnames, filenames in os.walk(root):
        names = dirnames + filenames
        if len(names) != len(set(names)):
            problems.append("%s: readdir returns a name twice" % dirpath)
        with os.scandir(dirpath) as it:
            dtypes = {e.name: (e.is_dir(follow_symlinks=False),
                               e.is_file(follow_symlinks=False)) for e in it}
        st = os.lstat(dirpath)
        subdirs = len(dirnames)
        if st.st_nlink != 2 + subdirs:
            problems.append("%s: nlink %d with %d subdirectories"
                            % (dirpath, st.st_nlink, subdirs))
        listing.append("d %d %d %s" % (st.st_ino, st.st_nlink, dirpath))
        for name in names:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if dtypes[name] != (stat.S_ISDIR(st.st_mode), stat.S_ISREG(st.st_mode)):
                problems.append("%s: d_type does not match mode %o" % (p, st.st_mode))
            if stat.S_ISREG(st.st_mode):
                paths_of.setdefault(st.st_ino, []).append(p)
                nlink_of[st.st_ino] = st.st_nlink
                data = read_file(p)
                if not LINE.match(data) or len(data) != st.st_size:
                    problems.append("%s: contents %r, size %d" % (p, data[:80], st.st_size))
                listing.append("f %d %d %d %s %s" % (st.st_ino, st.st_nlink, st.st_size, p,
                                                    data.decode().replace("\n", "/")))
            elif not stat.S_ISDIR(st.st_mode):
                problems.append("%s: unexpected mode %o" % (p, st.st_mode))
        # every name of the pools that readdir did not return is not there
        for name in FILES + SUBDIRS + ["x"]:
            if name not in dtypes:
                try:
                    os.lstat(os.path.join(dirpath, name))
                    problems.append("%s/%s: found by lookup but not by readdir" % (dirpath, name))
                except FileNotFoundError:
                    pass
    for ino, paths in paths_of.items():
        if nlink_of[ino] != len(paths):
            problems.append("ino %d: nlink %d but %d paths: %s"
                            % (ino, nlink_of[ino], len(paths), " ".join(paths)))
    for line in sorted(listing):
        print(line)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    mode = argv[1]
    if mode == "stress":
        stress(int(argv[2]), float(argv[3]), argv[4])
    elif mode == "read":
        read(int(argv[2]), float(argv[3]), argv[4])
    elif mode == "race":
        race(int(argv[2]), int(argv[3]), int(argv[4]), argv[5], argv[6], argv[7])
    elif mode == "check":
        return check(argv[2])
    else:
        raise SystemExit("unknown mode " + mode)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
