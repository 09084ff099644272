# mk/common.mk: build settings every userspace Makefile includes.
#
# TOP is the repository root.  Objects and programs go under $(O), so the
# plain build and the sanitizer build (SANITIZE=1) never mix objects:
#   make            -> build/default/...
#   make SANITIZE=1 -> build/asan/...   (AddressSanitizer + UBSan)
# Each component puts its outputs in $(O)/<component>/.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)

CC ?= cc
ifeq ($(SANITIZE),1)
O ?= $(TOP)/build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
O ?= $(TOP)/build/default
SAN_FLAGS :=
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(SAN_FLAGS) \
	-I$(TOP)/kmod/src -I$(TOP)/lib
LDFLAGS += $(SAN_FLAGS)

# cmocka prints TAP with this set; tests/run-all counts TAP lines.
TEST_ENV := CMOCKA_MESSAGE_OUTPUT=TAP

ifeq ($(SANITIZE),1)
TEST_ENV += ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
endif
