# scoutfs: top-level Makefile.
#
#   make            build the module (against KDIR, default: the installed
#                   Debian kernel's build tree) and every userspace program
#   make deps       install every Debian and npm package the project needs
#   make check      the whole test suite (unit, ASan/UBSan, bats, VM); ends
#                   with "N passed, N failed[, N skipped]"
#   make demo       the main job, end to end, in a VM
#   make bench      the benchmarks, one "ratio NAME = X (target >= Y)" line each
#   make debug-kernel / check-debug   the lockdep+KASAN kernel pass
#   make check-crash [CRASH_CYCLES=300] [SEED=S] [CRASH_MODE=kill|power|mixed]
#                   the power-cut test (tests/crash/run-cycles): a workload
#                   killed at random moments, fsck and every fsync checked
#                   after each; tests/run-all's "crash" suite runs 2 cycles
#
# Userspace objects go under build/default (build/asan with SANITIZE=1);
# see mk/common.mk.
TOP := $(CURDIR)
export TOP

# KDIR is not looked up here: on a fresh machine the kernel build tree only
# appears once "make deps" has run, which is part of this same invocation
# for "make demo" and "make check".  kmod/Makefile finds the default in its
# own (later) make; a KDIR given on the command line reaches it through
# MAKEFLAGS.

USER_DIRS := lib hsm-agent/lib indexers hsm-agent cli tests/fsx tests/ioctl-fuzz tests/crash tests/upstream-abi tests/fhandle

# Kernel tests: VM bats files, all run in one guest boot (tests/vm/run).
KERNEL_TESTS := $(sort $(wildcard tests/kernel/*.bats))
# The lockdep+KASAN pass runs several times slower under TCG; by default it
# takes the tests that exercise locking and the archive paths, so CI stays
# within its time (KERNEL_TESTS_DEBUG='$$(KERNEL_TESTS)' runs them all).
KERNEL_TESTS_DEBUG ?= tests/kernel/module_load.bats tests/kernel/archive.bats \
	tests/kernel/wait_locks.bats tests/kernel/inode_stamp.bats
# per test file, generous: the slowest files take 10-15 minutes beside a second guest
VM_TIMEOUT ?= 1800
# every kernel test gets /dev/vda (metadata) and /dev/vdb (data)
VM_DISKS ?= --disk 2G --disk 8G

all: kmod user

kmod:
	$(MAKE) -C kmod
	$(MAKE) -C kmod fault

user:
	@for d in $(USER_DIRS); do $(MAKE) -s -C $$d || exit 1; done

# the dependency step; tests/bats/fresh_machine.bats replaces it with one
# that makes the kernel build tree appear, as apt-get does on a fresh machine
DEPS_CMD ?= scripts/install-deps
deps:
	$(DEPS_CMD)

# what "make check" and "make demo" do first: install, then build in a new
# make, which sees what the dependency step installed
build: deps
	$(MAKE) all

check: build
	tests/run-all

check-unit:
	@for d in $(USER_DIRS); do $(MAKE) -s -C $$d || exit 1; done
	@$(MAKE) -s -C tests/unit/libscoutfs check
	@$(MAKE) -s -C tests/unit/hsm check
	@$(MAKE) -s -C tests/unit/indexer check
	@$(MAKE) -s -C tests/unit/agent check

# the files are dealt out to VM_JOBS guests running side by side
# (tests/vm/run-jobs; VM_JOBS=1 runs them all in one guest)
VM_JOBS ?= 2
export VM_JOBS
check-vm: all
	tests/vm/run-jobs --timeout $(VM_TIMEOUT) $(VM_DISKS) -- $(KERNEL_TESTS)

# the long run on demand: make check-crash CRASH_CYCLES=300 (about a
# minute per cycle on a busy 2-core machine)
CRASH_CYCLES ?= 300
check-crash: all
	CRASH_CYCLES=$(CRASH_CYCLES) tests/crash/run-cycles

demo: build
	scripts/demo

bench: all
	@for b in $(sort $(wildcard bench/*.sh)); do bash $$b || exit 1; done

clean:
	$(MAKE) -C kmod clean
	rm -rf build

DEBUG_VM_ARGS ?= $(VM_DISKS)
-include tests/vm/debug-kernel/debug-kernel.mk


ifeq ($(wildcard tests/vm/debug-kernel/debug-kernel.mk),)
check-debug:
	@echo "ok - debug kernel pass # skip: tests/vm/debug-kernel is not in this tree"
endif

.PHONY: all build kmod user deps check check-unit check-vm check-crash demo bench clean
