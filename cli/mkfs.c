// SPDX-License-Identifier: GPL-2.0
/*
 * mkfs.c: `scoutfs mkfs [-f] [-Q NR,ADDR,PORT]... [-m SIZE] [-d SIZE]
 * META_DEV DATA_DEV`.
 *
 * Everything is validated before the first write (slot numbers, addresses,
 * ports, sizes, an existing filesystem without -f), so a refused mkfs
 * leaves both devices byte for byte as they were.  Each refusal is one
 * line on stderr naming the problem, exit 1.  The writing itself is
 * lib/mkfs_write.c.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "commands.h"
#include "devio.h"
#include "mkfs_write.h"
#include "parse.h"
#include "txn.h"

static void mkfs_usage(void)
{
	fprintf(stderr, "usage: scoutfs mkfs [-f|--force] [-Q|--quorum-slot NR,ADDR,PORT]...\n"
		"       [-m|--max-meta-size SIZE] [-d|--max-data-size SIZE] [-A|--allow-small-size]\n"
		"       META_DEV DATA_DEV\n"
		"  -A is accepted for upstream's scripts; the minimum sizes (8 MiB of\n"
		"  metadata, 1 MiB of data) are already the format's floor\n");
}

static int parse_slot(const char *arg, struct scoutfs_quorum_slot *slots,
		      bool *used)
{
	char buf[128];
	char *addr;
	char *port_str;
	char *end;
	unsigned long nr;
	unsigned long port;
	struct scoutfs_quorum_slot *slot;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "scoutfs mkfs: quorum slot '%s' is too long\n", arg);
		return -1;
	}
	strcpy(buf, arg);
	addr = strchr(buf, ',');
	port_str = addr ? strrchr(addr + 1, ',') : NULL;
	if (!addr || !port_str) {
		fprintf(stderr, "scoutfs mkfs: quorum slot '%s' is not NR,ADDR,PORT\n", arg);
		return -1;
	}
	*addr++ = '\0';
	*port_str++ = '\0';
	nr = strtoul(buf, &end, 10);
	if (!buf[0] || *end || nr >= SCOUTFS_QUORUM_MAX_SLOTS) {
		fprintf(stderr, "scoutfs mkfs: quorum slot number '%s' must be 0 to %d\n",
			buf, SCOUTFS_QUORUM_MAX_SLOTS - 1);
		return -1;
	}
	if (used[nr]) {
		fprintf(stderr, "scoutfs mkfs: quorum slot %lu given more than once\n", nr);
		return -1;
	}
	slot = &slots[nr];
	memset(slot, 0, sizeof(*slot));
	if (inet_pton(AF_INET, addr, slot->addr) == 1) {
		slot->addr_family = SCOUTFS_QUORUM_ADDR_IPV4;
	} else if (inet_pton(AF_INET6, addr, slot->addr) == 1) {
		slot->addr_family = SCOUTFS_QUORUM_ADDR_IPV6;
	} else {
		fprintf(stderr, "scoutfs mkfs: quorum slot %lu address '%s' is not an IPv4 or IPv6 address\n",
			nr, addr);
		return -1;
	}
	port = strtoul(port_str, &end, 10);
	if (!port_str[0] || *end || port < 1 || port > 65535) {
		fprintf(stderr, "scoutfs mkfs: quorum slot %lu port '%s' must be 1 to 65535\n",
			nr, port_str);
		return -1;
	}
	slot->port = cpu_to_le16(port);
	used[nr] = true;
	return 0;
}

/* Does the device already hold a scoutfs filesystem (either super)? */
static bool holds_scoutfs(struct scoutfs_dev *meta, struct scoutfs_dev *data)
{
	struct scoutfs_block_header *hdr = malloc(SCOUTFS_BLOCK_SIZE);
	struct scoutfs_data_super *dsuper = (void *)hdr;
	bool found = false;
	int problems;
	int i;

	if (!hdr)
		return false;
	for (i = 0; i < SCOUTFS_SUPER_SLOTS && !found; i++)
		found = scoutfs_super_read_slot(meta, i, hdr, &problems) == 0 &&
			le32_to_cpu(hdr->magic) == SCOUTFS_BLOCK_MAGIC_SUPER;
	if (!found && scoutfs_dev_read(data, 0, dsuper, sizeof(*dsuper)) == 0)
		found = le32_to_cpu(dsuper->magic) == SCOUTFS_DATA_SUPER_MAGIC;
	free(hdr);
	return found;
}

/* Works out the size to use; extends a regular file only when asked to. */
static int check_size(struct scoutfs_dev *dev, const char *what,
		      uint64_t want, int shift, uint64_t min_blocks,
		      uint64_t *blocks)
{
	uint64_t bytes = want ? want : dev->size;

	if (want && want > dev->size && dev->is_blkdev) {
		fprintf(stderr, "scoutfs mkfs: %s size %llu is larger than device %s (%llu bytes)\n",
			what, (unsigned long long)want, dev->path,
			(unsigned long long)dev->size);
		return -1;
	}
	*blocks = bytes >> shift;
	if (*blocks < min_blocks) {
		fprintf(stderr, "scoutfs mkfs: %s device %s is too small: %llu bytes, need at least %llu\n",
			what, dev->path, (unsigned long long)bytes,
			(unsigned long long)(min_blocks << shift));
		return -1;
	}
	return 0;
}

int cmd_mkfs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "quorum-slot", required_argument, NULL, 'Q' },
		{ "meta-size", required_argument, NULL, 'm' },
		{ "data-size", required_argument, NULL, 'd' },
		{ "max-meta-size", required_argument, NULL, 'm' },
		{ "max-data-size", required_argument, NULL, 'd' },
		{ "allow-small-size", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	struct scoutfs_mkfs_params params;
	struct scoutfs_dev meta = { .fd = -1 };
	struct scoutfs_dev data = { .fd = -1 };
	bool used[SCOUTFS_QUORUM_MAX_SLOTS] = { false };
	uint64_t meta_size = 0;
	uint64_t data_size = 0;
	bool force = false;
	struct timespec now;
	char err[512];
	int nr_slots = 0;
	int ret = CMD_EXIT_FAILURE;
	int c;
	int i;

	memset(&params, 0, sizeof(params));
	optind = 1;
	while ((c = getopt_long(argc, argv, "fQ:m:d:A", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'A':
			/* upstream lowers its (GiB) minimums; ours are the floor */
			break;
		case 'Q':
			if (parse_slot(optarg, params.slots, used) < 0)
				return CMD_EXIT_FAILURE;
			nr_slots++;
			break;
		case 'm':
		case 'd':
			if (scoutfs_parse_size(optarg, c == 'm' ? &meta_size :
					   &data_size) < 0) {
				fprintf(stderr, "scoutfs mkfs: invalid %s size '%s'\n",
					c == 'm' ? "metadata" : "data", optarg);
				return CMD_EXIT_FAILURE;
			}
			break;
		default:
			mkfs_usage();
			return CMD_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		mkfs_usage();
		return CMD_EXIT_USAGE;
	}

	if (scoutfs_dev_open(&meta, argv[optind], true) < 0) {
		fprintf(stderr, "scoutfs mkfs: cannot open metadata device %s: %m\n",
			argv[optind]);
		goto out;
	}
	if (scoutfs_dev_open(&data, argv[optind + 1], true) < 0) {
		fprintf(stderr, "scoutfs mkfs: cannot open data device %s: %m\n",
			argv[optind + 1]);
		goto out;
	}
	if (check_size(&meta, "metadata", meta_size, SCOUTFS_BLOCK_SHIFT,
		       SCOUTFS_META_MIN_BLOCKS, &params.meta_blocks) < 0 ||
	    check_size(&data, "data", data_size, SCOUTFS_DATA_BLOCK_SHIFT,
		       SCOUTFS_DATA_MIN_BLOCKS, &params.data_blocks) < 0)
		goto out;
	if (!force && holds_scoutfs(&meta, &data)) {
		fprintf(stderr, "scoutfs mkfs: %s or %s already holds a scoutfs filesystem (use -f to overwrite)\n",
			meta.path, data.path);
		goto out;
	}

	/* validated: from here on we write */
	if (scoutfs_dev_extend(&meta, params.meta_blocks << SCOUTFS_BLOCK_SHIFT) < 0 ||
	    scoutfs_dev_extend(&data, params.data_blocks << SCOUTFS_DATA_BLOCK_SHIFT) < 0) {
		fprintf(stderr, "scoutfs mkfs: cannot extend device file: %m\n");
		goto out;
	}
	if (getrandom(&params.fsid, sizeof(params.fsid), 0) !=
	    sizeof(params.fsid) ||
	    getrandom(params.uuid, sizeof(params.uuid), 0) !=
	    sizeof(params.uuid)) {
		fprintf(stderr, "scoutfs mkfs: cannot get random fsid: %m\n");
		goto out;
	}
	if (!params.fsid)
		params.fsid = 1;
	clock_gettime(CLOCK_REALTIME, &now);
	params.now_sec = now.tv_sec;
	params.now_nsec = now.tv_nsec;

	if (scoutfs_mkfs_write(&meta, &data, &params, err, sizeof(err)) < 0) {
		fprintf(stderr, "scoutfs mkfs: %s\n", err);
		goto out;
	}

	printf("Created scoutfs filesystem:\n");
	printf("  fsid:            %016llx\n", (unsigned long long)params.fsid);
	printf("  metadata device: %s, %llu blocks of 64 KiB (%llu bytes)\n",
	       meta.path, (unsigned long long)params.meta_blocks,
	       (unsigned long long)params.meta_blocks << SCOUTFS_BLOCK_SHIFT);
	printf("  data device:     %s, %llu blocks of 4 KiB (%llu bytes)\n",
	       data.path, (unsigned long long)params.data_blocks,
	       (unsigned long long)params.data_blocks << SCOUTFS_DATA_BLOCK_SHIFT);
	printf("  quorum slots:    %d\n", nr_slots);
	for (i = 0; i < SCOUTFS_QUORUM_MAX_SLOTS; i++) {
		char addr[INET6_ADDRSTRLEN];
		struct scoutfs_quorum_slot *slot = &params.slots[i];

		if (!used[i])
			continue;
		inet_ntop(slot->addr_family == SCOUTFS_QUORUM_ADDR_IPV4 ?
			  AF_INET : AF_INET6, slot->addr, addr, sizeof(addr));
		printf("    slot %d: %s port %u\n", i, addr,
		       le16_to_cpu(slot->port));
	}
	ret = CMD_EXIT_OK;
out:
	scoutfs_dev_close(&meta);
	scoutfs_dev_close(&data);
	return ret;
}
