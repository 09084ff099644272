/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_KEY_H_
#define _SCOUTFS_KEY_H_

#include "scoutfs_os.h"
#include "../format.h"

/* Longest string scoutfs_key_str() writes, with its terminating nul. */
#define SCOUTFS_KEY_STR_LEN 96

static inline u64 scoutfs_key_first(const struct scoutfs_key *key)
{
	return le64_to_cpu(key->_sk_first);
}

static inline u64 scoutfs_key_second(const struct scoutfs_key *key)
{
	return le64_to_cpu(key->_sk_second);
}

static inline u64 scoutfs_key_third(const struct scoutfs_key *key)
{
	return le64_to_cpu(key->_sk_third);
}

void scoutfs_key_init(struct scoutfs_key *key, u8 zone, u64 first, u8 type,
		      u64 second, u64 third);
void scoutfs_key_set_zeros(struct scoutfs_key *key);
void scoutfs_key_set_ones(struct scoutfs_key *key);

void scoutfs_key_init_inode(struct scoutfs_key *key, u64 ino);
void scoutfs_key_init_xattr(struct scoutfs_key *key, u64 ino, u64 hash,
			    u64 id, u8 part);
void scoutfs_key_init_dirent(struct scoutfs_key *key, u64 dir_ino, u64 hash,
			     u64 pos);
void scoutfs_key_init_readdir(struct scoutfs_key *key, u64 dir_ino, u64 pos);
void scoutfs_key_init_backref(struct scoutfs_key *key, u64 ino, u64 dir_ino,
			      u64 pos);
void scoutfs_key_init_symlink(struct scoutfs_key *key, u64 ino, u64 part);
void scoutfs_key_init_data_extent(struct scoutfs_key *key, u64 ino,
				  u64 iblock);
void scoutfs_key_init_orphan(struct scoutfs_key *key, u64 ino);
void scoutfs_key_init_meta_seq(struct scoutfs_key *key, u64 seq, u64 ino);
void scoutfs_key_init_data_seq(struct scoutfs_key *key, u64 seq, u64 ino);
void scoutfs_key_init_srch(struct scoutfs_key *key, u64 hash, u64 ino,
			   u64 id);
void scoutfs_key_init_free_extent(struct scoutfs_key *key, u64 start);
void scoutfs_key_init_log_trees(struct scoutfs_key *key, u64 rid);

int scoutfs_key_compare(const struct scoutfs_key *a,
			const struct scoutfs_key *b);
void scoutfs_key_inc(struct scoutfs_key *key);
void scoutfs_key_dec(struct scoutfs_key *key);

const char *scoutfs_key_zone_name(u8 zone);
const char *scoutfs_key_type_name(u8 zone, u8 type);
int scoutfs_key_str(char *buf, size_t size, const struct scoutfs_key *key);

#endif
