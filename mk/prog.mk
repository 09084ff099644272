# mk/prog.mk: one standalone test program from the .c files of its
# directory, into $(O)/bin/$(PROG).  A Makefile sets PROG and includes
# this after mk/common.mk.
OUT := $(O)/tests/$(PROG)
BIN := $(O)/bin
PROG_SRCS ?= $(wildcard *.c)
PROG_OBJS := $(PROG_SRCS:%.c=$(OUT)/%.o)

all: $(BIN)/$(PROG)

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN)/$(PROG): $(PROG_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

clean:
	rm -rf $(OUT) $(BIN)/$(PROG)

-include $(wildcard $(OUT)/*.d)
.PHONY: all clean
