# tests/vm/debug-kernel/debug-kernel.mk: the debug-kernel test pass.
# Included by the top-level Makefile, which defines TOP (the repository
# root) and KERNEL_TESTS (the VM test files, relative to TOP).
#
#   make debug-kernel   build (once, cached outside the clone, 15+ min) the
#                       lockdep+KASAN+hung-task kernel, then scoutfs.ko and
#                       the self-test modules against it, into
#                       build/debug-kernel/{kmod,fault-kmod,selftest-modules}/
#   make check-debug    run KERNEL_TESTS_DEBUG on that kernel, then the
#                       detector self-test (debug-selftest.bats)
#
# Knobs:
#   KERNEL_TESTS_DEBUG  tests for the debug pass (default: KERNEL_TESTS)
#   DEBUG_VM_TIMEOUT    per-test timeout in seconds (default 1200: TCG with
#                       KASAN and lockdep is slow: wait_locks took 15
#                       minutes beside two more guests)
#   DEBUG_KERNEL_BOOT_TIMEOUT  seconds the kernel may take to reach /init
#                       before the guest is booted again, once (default 400)
#   DEBUG_VM_ARGS       more tests/vm/run options (--disk, --mem, ...)
#   SCOUTFS_DEBUG_KERNEL_CACHE  cache root (default /var/cache/scoutfs/debug-kernel)

DEBUG_KERNEL_DIR := $(TOP)/tests/vm/debug-kernel
DEBUG_KERNEL_OUT := $(TOP)/build/debug-kernel
KERNEL_TESTS_DEBUG ?= $(KERNEL_TESTS)
DEBUG_VM_TIMEOUT ?= 1200
# the kernel's own boot reaches /init in about a minute under TCG; one stuck
# (seen: in the RCU-tasks self-test, on a busy host) is booted again once
DEBUG_KERNEL_BOOT_TIMEOUT ?= 400
DEBUG_VM_ARGS ?=

debug-kernel:
	$(DEBUG_KERNEL_DIR)/build
	$(DEBUG_KERNEL_DIR)/build-modules

# Both halves always run; the target fails if either did.  One guest:
# two debug guests side by side (tests/vm/run-jobs) were seen to hang one
# boot in the RCU-tasks self-test under TCG.
check-debug: debug-kernel
	@rc=0; dk=$$($(DEBUG_KERNEL_DIR)/path) || exit 1; \
	if [ -n "$(strip $(KERNEL_TESTS_DEBUG))" ]; then \
		echo "# debug kernel $$dk: $(words $(KERNEL_TESTS_DEBUG)) VM tests"; \
		cd $(TOP) && tests/vm/run --kernel $$dk/bzImage --modules-dir none \
			--module $(DEBUG_KERNEL_OUT)/kmod/scoutfs.ko \
			--timeout $(DEBUG_VM_TIMEOUT) --boot-timeout $(DEBUG_VM_TIMEOUT) \
			--kernel-boot-timeout $(DEBUG_KERNEL_BOOT_TIMEOUT) \
			--env SCOUTFS_FAULT_KO=$(DEBUG_KERNEL_OUT)/fault-kmod/scoutfs.ko \
			--out $(DEBUG_KERNEL_OUT)/vm \
			$(DEBUG_VM_ARGS) $(KERNEL_TESTS_DEBUG) || rc=1; \
	else \
		echo "# debug kernel $$dk: no KERNEL_TESTS_DEBUG to run"; \
	fi; \
	bats --tap $(DEBUG_KERNEL_DIR)/debug-selftest.bats || rc=1; \
	exit $$rc

.PHONY: debug-kernel check-debug
