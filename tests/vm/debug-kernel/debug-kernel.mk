# tests/vm/debug-kernel/debug-kernel.mk: the debug-kernel test pass.
# Included by the top-level Makefile, which defines TOP (the repository
# root) and KERNEL_TESTS (the VM test files, relative to TOP).
#
#   make debug-kernel   build (once, cached outside the clone, 15+ min) the
#                       lockdep+KASAN+hung-task kernel, then scoutfs.ko and
#                       the self-test modules against it, into
#                       build/debug-kernel/{kmod,selftest-modules}/
#   make check-debug    run KERNEL_TESTS_DEBUG on that kernel, then the
#                       detector self-test (debug-selftest.bats)
#
# Knobs:
#   KERNEL_TESTS_DEBUG  tests for the debug pass (default: KERNEL_TESTS)
#   DEBUG_VM_TIMEOUT    per-test timeout in seconds (default 600: TCG with
#                       KASAN and lockdep is slow)
#   DEBUG_VM_ARGS       more tests/vm/run options (--disk, --mem, ...)
#   SCOUTFS_DEBUG_KERNEL_CACHE  cache root (default /var/cache/scoutfs/debug-kernel)

DEBUG_KERNEL_DIR := $(TOP)/tests/vm/debug-kernel
DEBUG_KERNEL_OUT := $(TOP)/build/debug-kernel
KERNEL_TESTS_DEBUG ?= $(KERNEL_TESTS)
DEBUG_VM_TIMEOUT ?= 600
DEBUG_VM_ARGS ?=

debug-kernel:
	$(DEBUG_KERNEL_DIR)/build
	$(DEBUG_KERNEL_DIR)/build-modules

# Both halves always run; the target fails if either did.
check-debug: debug-kernel
	@rc=0; dk=$$($(DEBUG_KERNEL_DIR)/path) || exit 1; \
	if [ -n "$(strip $(KERNEL_TESTS_DEBUG))" ]; then \
		echo "# debug kernel $$dk: $(words $(KERNEL_TESTS_DEBUG)) VM tests"; \
		cd $(TOP) && tests/vm/run --kernel $$dk/bzImage --modules-dir none \
			--module $(DEBUG_KERNEL_OUT)/kmod/scoutfs.ko \
			--timeout $(DEBUG_VM_TIMEOUT) --boot-timeout $(DEBUG_VM_TIMEOUT) \
			--out $(DEBUG_KERNEL_OUT)/vm \
			$(DEBUG_VM_ARGS) $(KERNEL_TESTS_DEBUG) || rc=1; \
	else \
		echo "# debug kernel $$dk: no KERNEL_TESTS_DEBUG to run"; \
	fi; \
	bats --tap $(DEBUG_KERNEL_DIR)/debug-selftest.bats || rc=1; \
	exit $$rc

.PHONY: debug-kernel check-debug
