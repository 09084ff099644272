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
 * Building the command is separate from running it so that the exact
 * invocation is testable without a changer.  The command runs with
 * fork + execvp (no shell, so no quoting of device paths), and the backend
 * waits for it: a changer move takes a minute and nothing else can use the
 * drive meanwhile.  mtx's own output goes to our stdout/stderr for the
 * operator.
 */
#include <errno.h>
#include <stdio.h>
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
