// SPDX-License-Identifier: GPL-2.0
/*
 * tape_changer.c: moving volumes between slots and the drive with mtx(1).
 *
 * The tape backend knows volumes by label; the configuration maps each
 * label to the changer slot it lives in and names the changer device and
 * our drive's element number.  Before the backend uses a volume on a real
 * device it unloads whatever it loaded before (back to that volume's
 * slot) and loads the wanted one:
 *
 *   mtx -f /dev/sgN unload <slot> <drive>
 *   mtx -f /dev/sgN load <slot> <drive>
 *
 * and then checks the volume's label segment, so a mislabelled slot map
 * can never make it write to or read from the wrong volume.
 *
 * Which slot: the library knows, by barcode.  Before every move the
 * backend reads `mtx -f /dev/sgN status` (the inventory: each drive and
 * storage slot, full or empty, its volume tag, and for a full drive the
 * slot it was loaded from) and acts on that rather than on what it
 * believes it did last: the wanted volume is found by its barcode (the
 * label, or the label plus an LTO media id, "VOL001L8"); a volume already
 * in our drive is not moved; one in another drive (a library with
 * several drives, some used by other agents) is refused with -EBUSY
 * instead of being pulled out under someone; the volume in our drive goes
 * back to the slot it came from, or to the first empty storage slot
 * (import/export slots are never used).  The configured slot of a volume
 * is only a fallback for libraries without a barcode reader.
 *
 * Building the command is separate from running it so that the exact
 * invocation is testable without a changer.  The command runs with
 * fork + execvp (no shell, so no quoting of device paths), and the backend
 * waits for it: a changer move takes a minute and nothing else can use the
 * drive meanwhile.  mtx's own output goes to our stdout/stderr for the
 * operator.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tape_changer.h"

/* exit status of the child when exec itself failed, as a shell does */
#define TAPE_CHANGER_EXEC_FAILED 127

static int tape_changer_copy(char *dst, size_t len, const char *src)
{
	int ret = snprintf(dst, len, "%s", src);

	return ret < 0 || (size_t)ret >= len ? -ENAMETOOLONG : 0;
}

int hsm_tape_changer_build(const struct hsm_tape_changer_config *cfg,
			   enum hsm_tape_changer_op op, unsigned int slot,
			   struct hsm_tape_changer_cmd *cmd)
{
	int ret;

	memset(cmd, 0, sizeof(*cmd));
	if (!cfg->mtx_path || !cfg->mtx_path[0] || !cfg->device ||
	    !cfg->device[0] ||
	    (op != HSM_TAPE_CHANGER_LOAD && op != HSM_TAPE_CHANGER_UNLOAD))
		return -EINVAL;

	ret = tape_changer_copy(cmd->program, sizeof(cmd->program),
				cfg->mtx_path);
	if (!ret)
		ret = tape_changer_copy(cmd->device, sizeof(cmd->device),
					cfg->device);
	if (ret)
		return ret;
	snprintf(cmd->op, sizeof(cmd->op), "%s",
		 op == HSM_TAPE_CHANGER_LOAD ? "load" : "unload");
	snprintf(cmd->slot, sizeof(cmd->slot), "%u", slot);
	snprintf(cmd->drive, sizeof(cmd->drive), "%u", cfg->drive);

	cmd->argv[0] = cmd->program;
	cmd->argv[1] = "-f";
	cmd->argv[2] = cmd->device;
	cmd->argv[3] = cmd->op;
	cmd->argv[4] = cmd->slot;
	cmd->argv[5] = cmd->drive;
	cmd->argv[6] = NULL;
	return 0;
}

int hsm_tape_changer_run(struct hsm_backend *be,
			 const struct hsm_tape_changer_cmd *cmd)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return hsm_backend_set_error(be, -errno,
					     "tape: changer: fork for %s %s: %s",
					     cmd->program, cmd->op,
					     strerror(errno));
	if (pid == 0) {
		execvp(cmd->program, cmd->argv);
		_exit(TAPE_CHANGER_EXEC_FAILED);
	}

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return hsm_backend_set_error(be, -errno,
					"tape: changer: wait for %s: %s",
					cmd->program, strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == TAPE_CHANGER_EXEC_FAILED)
		return hsm_backend_set_error(be, -EIO,
				"tape: changer: could not run %s",
				cmd->program);
	return hsm_backend_set_error(be, -EIO,
			"tape: changer: %s -f %s %s slot %s drive %s failed (%s %d)",
			cmd->program, cmd->device, cmd->op, cmd->slot,
			cmd->drive,
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) :
					    WTERMSIG(status));
}

/*
 * Inventory
 */

/* mtx status of a big library is a few hundred lines */
#define TAPE_CHANGER_OUTPUT_MAX (4 * 1024 * 1024)

static const char *tape_skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int tape_parse_uint(const char **pp, unsigned int *out)
{
	const char *p = *pp;
	unsigned long v = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 0xffffffffUL)
			return -EINVAL;
		p++;
	}
	*out = (unsigned int)v;
	*pp = p;
	return 0;
}

/* "VolumeTag = ABC123L8" or "VolumeTag=ABC123L8" within [p, end) */
static void tape_parse_tag(const char *p, const char *end, char *barcode)
{
	const char *tag = strstr(p, ":VolumeTag");
	size_t n = 0;

	barcode[0] = '\0';
	if (!tag || tag >= end)
		return;
	p = tape_skip_spaces(tag + strlen(":VolumeTag"));
	if (*p != '=')
		return;
	p = tape_skip_spaces(p + 1);
	while (p < end && *p && !isspace((unsigned char)*p) && *p != ':' &&
	       n < HSM_TAPE_BARCODE_MAX)
		barcode[n++] = *p++;
	barcode[n] = '\0';
}

static int tape_add_element(struct hsm_tape_element **arr, size_t *nr,
			    const struct hsm_tape_element *el)
{
	struct hsm_tape_element *p = realloc(*arr, (*nr + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	p[*nr] = *el;
	*arr = p;
	(*nr)++;
	return 0;
}

/* One line: a drive, a slot, or anything else (ignored). */
#define TAPE_CHANGER_LINE_MAX 512

static int tape_parse_line(const char *text, const char *text_end,
			   struct hsm_tape_inventory *inv)
{
	static const char drive_word[] = "Data Transfer Element ";
	static const char slot_word[] = "Storage Element ";
	char line[TAPE_CHANGER_LINE_MAX];
	size_t len = (size_t)(text_end - text);
	struct hsm_tape_element el;
	const char *end;
	const char *p;
	const char *src;
	bool is_drive;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, text, len);
	line[len] = '\0';
	end = line + len;
	p = tape_skip_spaces(line);

	memset(&el, 0, sizeof(el));
	if (!strncmp(p, drive_word, strlen(drive_word))) {
		is_drive = true;
		p += strlen(drive_word);
	} else if (!strncmp(p, slot_word, strlen(slot_word))) {
		is_drive = false;
		p += strlen(slot_word);
	} else {
		return 0;
	}
	if (tape_parse_uint(&p, &el.number))
		return 0;
	p = tape_skip_spaces(p);
	if (!strncmp(p, "IMPORT/EXPORT", 13)) {
		el.is_import_export = true;
		p = tape_skip_spaces(p + 13);
	}
	if (*p != ':')
		return 0;
	p++;
	if (!strncmp(p, "Full", 4))
		el.is_full = true;
	else if (strncmp(p, "Empty", 5))
		return 0;
	if (el.is_full) {
		src = strstr(p, "(Storage Element ");
		if (src && src < end) {
			src += strlen("(Storage Element ");
			if (tape_parse_uint(&src, &el.source_slot))
				el.source_slot = 0;
		}
		tape_parse_tag(p, end, el.barcode);
	}
	return is_drive ? tape_add_element(&inv->drives, &inv->nr_drives, &el) :
			  tape_add_element(&inv->slots, &inv->nr_slots, &el);
}

int hsm_tape_inventory_parse(const char *text,
			     struct hsm_tape_inventory *inv)
{
	const char *line = text;
	const char *end;
	int ret = 0;

	memset(inv, 0, sizeof(*inv));
	while (!ret && *line) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		ret = tape_parse_line(line, end, inv);
		line = *end ? end + 1 : end;
	}
	if (!ret && (!inv->nr_drives || !inv->nr_slots))
		ret = -EINVAL;
	if (ret)
		hsm_tape_inventory_free(inv);
	return ret;
}

void hsm_tape_inventory_free(struct hsm_tape_inventory *inv)
{
	free(inv->drives);
	free(inv->slots);
	memset(inv, 0, sizeof(*inv));
}

bool hsm_tape_barcode_matches(const char *barcode, const char *label)
{
	size_t len = strlen(label);

	if (!len || strncmp(barcode, label, len) != 0)
		return false;
	if (barcode[len] == '\0')
		return true;
	/* LTO media id: L1..L9, LT, LU..LZ (WORM), M8 */
	return strlen(barcode + len) == 2 &&
	       (barcode[len] == 'L' || barcode[len] == 'M') &&
	       isalnum((unsigned char)barcode[len + 1]);
}

/* Run argv with stdout captured into *out (NUL-terminated). */
static int tape_changer_capture(struct hsm_backend *be, char *const argv[],
				char **out)
{
	size_t len = 0;
	size_t cap = 4096;
	char *buf = malloc(cap);
	int fds[2];
	int status;
	ssize_t n;
	pid_t pid;

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	if (pipe(fds) < 0) {
		free(buf);
		return hsm_backend_set_error(be, -errno,
			"tape: changer: pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return hsm_backend_set_error(be, -errno,
			"tape: changer: fork for %s: %s", argv[0],
			strerror(errno));
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(TAPE_CHANGER_EXEC_FAILED);
	}
	close(fds[1]);
	for (;;) {
		if (cap - len < 1024 && cap < TAPE_CHANGER_OUTPUT_MAX) {
			char *p = realloc(buf, cap * 2);

			if (p) {
				buf = p;
				cap *= 2;
			}
		}
		if (cap - len <= 1)
			break;
		n = read(fds[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			free(buf);
			return hsm_backend_set_error(be, -errno,
				"tape: changer: wait for %s: %s", argv[0],
				strerror(errno));
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(buf);
		return hsm_backend_set_error(be, -EIO,
			"tape: changer: %s -f %s status failed (%s %d)",
			argv[0], argv[2],
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) :
					    WTERMSIG(status));
	}
	*out = buf;
	return 0;
}

int hsm_tape_changer_status(struct hsm_backend *be,
			    const struct hsm_tape_changer_config *cfg,
			    struct hsm_tape_inventory *inv)
{
	struct hsm_tape_changer_cmd cmd;
	char *text;
	int ret;

	memset(inv, 0, sizeof(*inv));
	/* built as a load, then made "status" with no slot and drive */
	ret = hsm_tape_changer_build(cfg, HSM_TAPE_CHANGER_LOAD, 0, &cmd);
	if (ret)
		return hsm_backend_set_error(be, ret,
			"tape: changer: incomplete configuration");
	snprintf(cmd.op, sizeof(cmd.op), "status");
	cmd.argv[4] = NULL;
	ret = tape_changer_capture(be, cmd.argv, &text);
	if (ret)
		return ret;
	ret = hsm_tape_inventory_parse(text, inv);
	free(text);
	if (ret)
		return hsm_backend_set_error(be, ret,
			"tape: changer: %s -f %s status: %s",
			cmd.program, cmd.device,
			ret == -EINVAL ? "no drives or slots in its output" :
					 strerror(-ret));
	return 0;
}

static struct hsm_tape_element *
tape_find_drive(struct hsm_tape_inventory *inv, unsigned int number)
{
	size_t i;

	for (i = 0; i < inv->nr_drives; i++)
		if (inv->drives[i].number == number)
			return &inv->drives[i];
	return NULL;
}

static struct hsm_tape_element *
tape_find_slot_number(struct hsm_tape_inventory *inv, unsigned int number)
{
	size_t i;

	for (i = 0; i < inv->nr_slots; i++)
		if (inv->slots[i].number == number)
			return &inv->slots[i];
	return NULL;
}

static int tape_changer_move(struct hsm_backend *be,
			     const struct hsm_tape_changer_config *cfg,
			     enum hsm_tape_changer_op op, unsigned int slot)
{
	struct hsm_tape_changer_cmd cmd;
	int ret = hsm_tape_changer_build(cfg, op, slot, &cmd);

	if (ret)
		return hsm_backend_set_error(be, ret,
			"tape: changer: incomplete configuration");
	return hsm_tape_changer_run(be, &cmd);
}

/* Unload a full drive: to its source slot when empty, else the first. */
static int tape_changer_unload(struct hsm_backend *be,
			       const struct hsm_tape_changer_config *cfg,
			       struct hsm_tape_inventory *inv,
			       struct hsm_tape_element *drive,
			       int (*before_unload)(void *arg), void *arg)
{
	struct hsm_tape_element *slot = NULL;
	size_t i;
	int ret;

	if (drive->source_slot) {
		slot = tape_find_slot_number(inv, drive->source_slot);
		if (slot && (slot->is_full || slot->is_import_export))
			slot = NULL;
	}
	for (i = 0; !slot && i < inv->nr_slots; i++)
		if (!inv->slots[i].is_full && !inv->slots[i].is_import_export)
			slot = &inv->slots[i];
	if (!slot)
		return hsm_backend_set_error(be, -ENOSPC,
			"tape: changer: no empty slot to unload drive %u (%s) into",
			drive->number, drive->barcode[0] ? drive->barcode : "no barcode");
	ret = before_unload ? before_unload(arg) : 0;
	if (!ret)
		ret = tape_changer_move(be, cfg, HSM_TAPE_CHANGER_UNLOAD,
					slot->number);
	if (ret)
		return ret;
	slot->is_full = true;
	memcpy(slot->barcode, drive->barcode, sizeof(slot->barcode));
	drive->is_full = false;
	drive->barcode[0] = '\0';
	drive->source_slot = 0;
	return 0;
}

int hsm_tape_changer_load_label(struct hsm_backend *be,
				const struct hsm_tape_changer_config *cfg,
				const char *label, unsigned int fallback_slot,
				int (*before_unload)(void *arg), void *arg,
				bool *was_loaded)
{
	struct hsm_tape_inventory inv;
	struct hsm_tape_element *drive;
	struct hsm_tape_element *slot = NULL;
	size_t i;
	int ret;

	if (was_loaded)
		*was_loaded = false;
	ret = hsm_tape_changer_status(be, cfg, &inv);
	if (ret)
		return ret;
	drive = tape_find_drive(&inv, cfg->drive);
	if (!drive) {
		ret = hsm_backend_set_error(be, -ENODEV,
			"tape: changer %s has no drive %u", cfg->device,
			cfg->drive);
		goto out;
	}
	if (drive->is_full && hsm_tape_barcode_matches(drive->barcode, label))
		goto out;	/* already here */
	for (i = 0; i < inv.nr_drives; i++) {
		if (inv.drives[i].is_full &&
		    hsm_tape_barcode_matches(inv.drives[i].barcode, label)) {
			ret = hsm_backend_set_error(be, -EBUSY,
				"tape: changer: volume %s is in drive %u, not ours (%u)",
				label, inv.drives[i].number, cfg->drive);
			goto out;
		}
	}
	for (i = 0; !slot && i < inv.nr_slots; i++)
		if (inv.slots[i].is_full &&
		    hsm_tape_barcode_matches(inv.slots[i].barcode, label))
			slot = &inv.slots[i];
	if (!slot && fallback_slot) {
		slot = tape_find_slot_number(&inv, fallback_slot);
		if (slot && (!slot->is_full || slot->barcode[0]))
			slot = NULL;	/* only an unreadable barcode */
	}
	if (!slot) {
		ret = hsm_backend_set_error(be, -ENOENT,
			"tape: changer: no volume with barcode %s in the library",
			label);
		goto out;
	}
	if (drive->is_full) {
		ret = tape_changer_unload(be, cfg, &inv, drive, before_unload,
					  arg);
		if (ret)
			goto out;
	}
	ret = tape_changer_move(be, cfg, HSM_TAPE_CHANGER_LOAD, slot->number);
	if (!ret && was_loaded)
		*was_loaded = true;
out:
	hsm_tape_inventory_free(&inv);
	return ret;
}

int hsm_tape_changer_unload_drive(struct hsm_backend *be,
				  const struct hsm_tape_changer_config *cfg,
				  int (*before_unload)(void *arg), void *arg)
{
	struct hsm_tape_inventory inv;
	struct hsm_tape_element *drive;
	int ret;

	ret = hsm_tape_changer_status(be, cfg, &inv);
	if (ret)
		return ret;
	drive = tape_find_drive(&inv, cfg->drive);
	if (!drive)
		ret = hsm_backend_set_error(be, -ENODEV,
			"tape: changer %s has no drive %u", cfg->device,
			cfg->drive);
	else if (drive->is_full)
		ret = tape_changer_unload(be, cfg, &inv, drive, before_unload,
					  arg);
	hsm_tape_inventory_free(&inv);
	return ret;
}
