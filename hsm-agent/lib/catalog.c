// SPDX-License-Identifier: GPL-2.0
/*
 * catalog.c: the HSM catalog in one sqlite file.
 *
 * What it owns.  The catalog is the HSM's memory: which filesystems are
 * indexed and how far (filesystems), what the indexer last saw of each
 * inode (inodes: the namespace mirror, kept current in batches together
 * with the seqs it walked to), which versions of which files were
 * archived (files, one row per fsid/ino/data_version), where each copy of
 * such a version lives and whether it can be trusted (copies), the work
 * queue (requests) and tape volumes (volumes).  Backends never see it;
 * they hand back an opaque location string, given back exactly (it is
 * stored packed: "location packing").
 *
 * Schema and migrations.  The schema exists in one place only: the
 * catalog_migrations[] array below.  Entry i turns a version-i catalog
 * into version i + 1, and the version lives in PRAGMA user_version, so a
 * fresh catalog is built by running every step and an old one by running
 * the steps it lacks.  All steps of one open run in one transaction with
 * the new user_version: a crash mid-migration leaves the old version.
 * Steps are never edited once released; changes are new steps.
 * PRAGMA application_id marks the file as a catalog, so that another
 * program's sqlite file is refused rather than "migrated".  A catalog
 * with a user_version newer than HSM_CATALOG_SCHEMA_VERSION is refused
 * (-ENOTSUP): this code cannot know what the newer columns mean.
 *
 * Size.  At 10^9 files every byte of a file's rows is a gigabyte, so
 * (schema 6) rows hold integers, not text: filesystem, backend and
 * volume ids from lookup tables, states and kinds as the enums' values,
 * checksums as 32 bytes, locations packed against their file (see
 * "location packing"); a copy's integer key is its id, file_id << 16 |
 * seq, so a file's copies are one range of the table and need no index
 * to be found (and appends fill whole pages); and every other index is
 * partial, holding only the few rows its question is about.  That is
 * about 186 bytes per archived file with two copies (bench/catalog.sh).
 *
 * Transactions and crashes.  Every state change is one BEGIN IMMEDIATE
 * ... COMMIT transaction (catalog_begin()/catalog_end()): IMMEDIATE takes
 * the write lock up front, so a read-then-write sequence (claim the best
 * queued request, check a copy's state before changing it) cannot race
 * another writer, and a failure anywhere rolls everything back.  With
 * journal_mode=WAL and synchronous=FULL a committed change survives a
 * crash or power loss and an interrupted one vanishes, so a process
 * killed at any instant leaves either the state before or after each
 * call.  Batches (hsm_catalog_batch_begin()/end()) hold one transaction
 * across many calls, each still all-or-nothing (catalog_begin()), so a
 * thousand state changes cost one commit and one fsync; a crash mid-batch
 * leaves the state before the batch.  Opening never reads the whole file (no
 * quick_check: O(size)); hsm_catalog_check() does that on demand and
 * hsm_catalog_backup() copies a consistent snapshot with sqlite's backup
 * API while others keep working.  What a dead process leaves *between* calls is in-flight work:
 * requests 'running' and copies 'writing'.  hsm_catalog_recover() returns
 * those (requests to 'queued', copies to 'bad' so the recycler deletes
 * any partial backend object); the agent calls it once at start-up.  It
 * is not done on every open because tools open the catalog while the
 * agent runs, and must not steal its running requests; and it only takes
 * back the requests of its own node (hsm_catalog_set_owner()), so that
 * agents on several nodes can share a catalog.  Between nodes, a claim is
 * one atomic UPDATE of a queued request or of a running one whose lease
 * expired, and a node that lost its lease is refused (-ESTALE) when it
 * tries to finish.  Request counts come from request_counts, kept by
 * triggers, and finished requests are purged in batches through a
 * partial index of just them.
 *
 * Concurrency.  WAL lets readers run while one writer commits; writers
 * queue on the write lock for up to HSM_CATALOG_BUSY_TIMEOUT_MS.  One
 * struct hsm_catalog is one connection, for one thread at a time.
 *
 * Invariants (enforced by the SQL or, where noted, by catalog.c inside
 * the write transaction; checked by the tests):
 *  - a copy only becomes 'valid' after it was written (has a location)
 *    and verified; 'valid' always has a verified time;
 *  - every copy of a file version that was written carries the same
 *    checksum as the file: the first written copy sets files.checksum, a
 *    differing one is marked 'bad';
 *  - at most one 'writing' or 'valid' copy per (file, copy number)
 *    (hsm_catalog_copy_begin() checks the file's copies under the lock);
 *  - at most one queued or running request per (kind, file);
 *  - release is safe only when copies 1..N of the *current* version are
 *    all valid and verified.
 *
 * 64-bit unsigned values (ino, data_version, sizes, seqs) are stored in
 * sqlite's signed 64-bit INTEGER by cast and read back the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"

/* "SHMC": identifies a catalog among sqlite files */
#define CATALOG_APPLICATION_ID 0x53484d43

/* The schema: entry i migrates version i to version i + 1. */
static const char *const catalog_migrations[] = {
	/* version 1: filesystems, file versions, copies, requests */
	"PRAGMA application_id = 1397247299;\n"
	"CREATE TABLE filesystems (\n"
	"  fsid TEXT PRIMARY KEY NOT NULL,\n"
	"  mount_path TEXT NOT NULL,\n"
	"  meta_seq INTEGER NOT NULL DEFAULT 0,\n"
	"  data_seq INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"CREATE TABLE files (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  fsid TEXT NOT NULL REFERENCES filesystems(fsid),\n"
	"  ino INTEGER NOT NULL,\n"
	"  data_version INTEGER NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  mtime INTEGER NOT NULL,\n"
	"  checksum TEXT,\n"
	"  path TEXT,\n"
	"  UNIQUE (fsid, ino, data_version)\n"
	");\n"
	"CREATE TABLE copies (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  file_id INTEGER NOT NULL REFERENCES files(id),\n"
	"  copy_num INTEGER NOT NULL CHECK (copy_num > 0),\n"
	"  backend TEXT NOT NULL,\n"
	"  location TEXT,\n"
	"  state TEXT NOT NULL\n"
	"    CHECK (state IN ('writing', 'valid', 'bad', 'deleted')),\n"
	"  created INTEGER NOT NULL,\n"
	"  verified INTEGER\n"
	");\n"
	"CREATE UNIQUE INDEX copies_live ON copies (file_id, copy_num)\n"
	"  WHERE state IN ('writing', 'valid');\n"
	"CREATE TABLE requests (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  kind TEXT NOT NULL\n"
	"    CHECK (kind IN ('stage', 'archive', 'release', 'recycle')),\n"
	"  file_id INTEGER NOT NULL REFERENCES files(id),\n"
	"  priority INTEGER NOT NULL,\n"
	"  state TEXT NOT NULL\n"
	"    CHECK (state IN ('queued', 'running', 'done', 'failed')),\n"
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error TEXT,\n"
	"  created INTEGER NOT NULL,\n"
	"  updated INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX requests_queue ON requests (state, priority DESC, id);\n"
	"CREATE INDEX requests_file ON requests (file_id, kind);\n",

	/*
	 * version 2: tape volumes, and copies by state for the recycler
	 * and for recovery, which look for 'bad' and 'writing' copies.
	 */
	"CREATE TABLE volumes (\n"
	"  label TEXT PRIMARY KEY NOT NULL,\n"
	"  capacity INTEGER NOT NULL,\n"
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used <= capacity),\n"
	"  state TEXT NOT NULL\n"
	"    CHECK (state IN ('empty', 'active', 'full', 'readonly',"
	" 'retired'))\n"
	");\n"
	"CREATE INDEX copies_state ON copies (state, file_id);\n",

	/*
	 * version 3: requests get an owner (the node id of the agent that
	 * claimed them) and a lease expiry, so agents on several nodes can
	 * share one catalog: a claim takes queued requests and running ones
	 * whose lease expired, and a restart recovers only its own node's.
	 * Request counts are kept by triggers in request_counts, so counting
	 * never scans the history; finished requests are found for purging
	 * through a partial index of just them.
	 */
	"ALTER TABLE requests ADD COLUMN owner INTEGER;\n"
	"ALTER TABLE requests ADD COLUMN lease_expires INTEGER;\n"
	"CREATE TABLE request_counts (\n"
	"  kind TEXT NOT NULL,\n"
	"  state TEXT NOT NULL,\n"
	"  n INTEGER NOT NULL CHECK (n >= 0),\n"
	"  PRIMARY KEY (kind, state)\n"
	") WITHOUT ROWID;\n"
	"INSERT INTO request_counts (kind, state, n)\n"
	"  SELECT k.column1, s.column1, (SELECT count(*) FROM requests r\n"
	"    WHERE r.kind = k.column1 AND r.state = s.column1)\n"
	"  FROM (VALUES ('stage'), ('archive'), ('release'), ('recycle')) k,\n"
	"       (VALUES ('queued'), ('running'), ('done'), ('failed')) s;\n"
	"CREATE TRIGGER requests_count_insert AFTER INSERT ON requests BEGIN\n"
	"  UPDATE request_counts SET n = n + 1\n"
	"    WHERE kind = NEW.kind AND state = NEW.state;\n"
	"END;\n"
	"CREATE TRIGGER requests_count_update AFTER UPDATE OF kind, state\n"
	"  ON requests WHEN OLD.kind != NEW.kind OR OLD.state != NEW.state\n"
	"BEGIN\n"
	"  UPDATE request_counts SET n = n - 1\n"
	"    WHERE kind = OLD.kind AND state = OLD.state;\n"
	"  UPDATE request_counts SET n = n + 1\n"
	"    WHERE kind = NEW.kind AND state = NEW.state;\n"
	"END;\n"
	"CREATE TRIGGER requests_count_delete AFTER DELETE ON requests BEGIN\n"
	"  UPDATE request_counts SET n = n - 1\n"
	"    WHERE kind = OLD.kind AND state = OLD.state;\n"
	"END;\n"
	"CREATE INDEX requests_finished ON requests (updated, id)\n"
	"  WHERE state IN ('done', 'failed');\n",

	/*
	 * version 4: copies know their tape volume, and are found by it
	 * ("every file with a copy on volume V") and by backend for the
	 * recycler ("every bad copy on backend B") through partial indexes
	 * that hold only the rows those questions ask for.
	 */
	"ALTER TABLE copies ADD COLUMN volume TEXT;\n"
	"CREATE INDEX copies_volume ON copies (volume, id)\n"
	"  WHERE volume IS NOT NULL;\n"
	"CREATE INDEX copies_recycle ON copies (backend, id)\n"
	"  WHERE state = 'bad';\n",

	/*
	 * version 5: filesystems get an integer id, which rows that belong
	 * to a filesystem store instead of its fsid text, and an inode
	 * counter; inodes is the indexer's mirror of the namespace, one row
	 * per (filesystem, ino), keyed by them without a rowid (the key is
	 * the row's address, no second index).  nr_inodes is kept by
	 * triggers so counting never scans.  (Tables are rebuilt with
	 * foreign keys off: catalog_migrate().)
	 */
	"CREATE TABLE filesystems_v5 (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  fsid TEXT NOT NULL UNIQUE,\n"
	"  mount_path TEXT NOT NULL,\n"
	"  meta_seq INTEGER NOT NULL DEFAULT 0,\n"
	"  data_seq INTEGER NOT NULL DEFAULT 0,\n"
	"  nr_inodes INTEGER NOT NULL DEFAULT 0 CHECK (nr_inodes >= 0)\n"
	");\n"
	"INSERT INTO filesystems_v5 (fsid, mount_path, meta_seq, data_seq)\n"
	"  SELECT fsid, mount_path, meta_seq, data_seq FROM filesystems\n"
	"  ORDER BY fsid;\n"
	"DROP TABLE filesystems;\n"
	"ALTER TABLE filesystems_v5 RENAME TO filesystems;\n"
	"CREATE TABLE inodes (\n"
	"  fs INTEGER NOT NULL REFERENCES filesystems(id),\n"
	"  ino INTEGER NOT NULL,\n"
	"  data_version INTEGER NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  mtime INTEGER NOT NULL,\n"
	"  mtime_nsec INTEGER NOT NULL,\n"
	"  mode INTEGER NOT NULL,\n"
	"  uid INTEGER NOT NULL,\n"
	"  gid INTEGER NOT NULL,\n"
	"  meta_seq INTEGER NOT NULL,\n"
	"  data_seq INTEGER NOT NULL,\n"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2),\n"
	"  path TEXT,\n"
	"  PRIMARY KEY (fs, ino)\n"
	") WITHOUT ROWID;\n"
	"CREATE TRIGGER inodes_count_insert AFTER INSERT ON inodes BEGIN\n"
	"  UPDATE filesystems SET nr_inodes = nr_inodes + 1 WHERE id = NEW.fs;\n"
	"END;\n"
	"CREATE TRIGGER inodes_count_delete AFTER DELETE ON inodes BEGIN\n"
	"  UPDATE filesystems SET nr_inodes = nr_inodes - 1 WHERE id = OLD.fs;\n"
	"END;\n",

	/*
	 * version 6: the compact schema, for 10^9 files.  Rows store
	 * integers where they stored text: filesystem, backend and volume
	 * ids (backends and labels are lookup tables; a label exists as
	 * long as copies name it, a volume row only while the volume is
	 * managed), states and kinds as the C enums' values, checksums as
	 * their 32 bytes (hsm_checksum_blob(), registered by catalog.c).
	 * A copy's integer key is its id, file_id << 16 | seq (renumbered
	 * here), so a file's copies are one range of the table and need no
	 * index or file_id column of their own (catalog.c checks the file
	 * exists when a copy begins, in place of a foreign key).  The
	 * indexes left are partial: they hold only the rows a question asks
	 * for (copies being written, bad, on a volume; live and finished
	 * requests), never the bulk of valid copies and done history.
	 * Locations are kept packed against their file (catalog.c:
	 * location packing); migrated ones stay verbatim text.  A copy's
	 * verified time is stored as seconds after its created time: one
	 * or two bytes instead of four.
	 */
	"CREATE TABLE backends (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE\n"
	");\n"
	"INSERT INTO backends (name) SELECT DISTINCT backend FROM copies\n"
	"  ORDER BY 1;\n"
	"CREATE TABLE labels (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  label TEXT NOT NULL UNIQUE\n"
	");\n"
	"INSERT INTO labels (label) SELECT label FROM volumes UNION\n"
	"  SELECT volume FROM copies WHERE volume IS NOT NULL ORDER BY 1;\n"
	"CREATE TABLE files_v6 (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  fs INTEGER NOT NULL REFERENCES filesystems(id),\n"
	"  ino INTEGER NOT NULL,\n"
	"  data_version INTEGER NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  mtime INTEGER NOT NULL,\n"
	"  checksum BLOB,\n"
	"  path TEXT,\n"
	"  UNIQUE (fs, ino, data_version)\n"
	");\n"
	"INSERT INTO files_v6 SELECT f.id,\n"
	"  (SELECT s.id FROM filesystems s WHERE s.fsid = f.fsid), f.ino,\n"
	"  f.data_version, f.size, f.mtime, hsm_checksum_blob(f.checksum),\n"
	"  f.path FROM files f ORDER BY f.id;\n"
	"CREATE TABLE copies_v6 (\n"
	"  id INTEGER PRIMARY KEY CHECK ((id & 65535) > 0),\n"
	"  copy_num INTEGER NOT NULL CHECK (copy_num > 0),\n"
	"  backend INTEGER NOT NULL REFERENCES backends(id),\n"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),\n"
	"  created INTEGER NOT NULL,\n"
	"  verified INTEGER,\n"	/* seconds after created */
	"  volume INTEGER REFERENCES labels(id),\n"
	"  location BLOB\n"
	");\n"
	/* past 65535 copies of a file, ids collide: the migration fails */
	"INSERT INTO copies_v6 SELECT (c.file_id << 16) |\n"
	"  min(row_number() OVER (PARTITION BY c.file_id ORDER BY c.id),\n"
	"      65535),\n"
	"  c.copy_num, (SELECT b.id FROM backends b WHERE b.name = c.backend),\n"
	"  CASE c.state WHEN 'writing' THEN 0 WHEN 'valid' THEN 1\n"
	"    WHEN 'bad' THEN 2 WHEN 'deleted' THEN 3 END,\n"
	"  c.created, c.verified - c.created,\n"
	"  (SELECT l.id FROM labels l WHERE l.label = c.volume), c.location\n"
	"  FROM copies c ORDER BY c.file_id, c.id;\n"
	"CREATE TABLE requests_v6 (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),\n"
	"  file_id INTEGER NOT NULL REFERENCES files(id),\n"
	"  priority INTEGER NOT NULL,\n"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),\n"
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error TEXT,\n"
	"  created INTEGER NOT NULL,\n"
	"  updated INTEGER NOT NULL,\n"
	"  owner INTEGER,\n"
	"  lease_expires INTEGER\n"
	");\n"
	"INSERT INTO requests_v6 SELECT r.id,\n"
	"  CASE r.kind WHEN 'stage' THEN 0 WHEN 'archive' THEN 1\n"
	"    WHEN 'release' THEN 2 WHEN 'recycle' THEN 3 END,\n"
	"  r.file_id, r.priority,\n"
	"  CASE r.state WHEN 'queued' THEN 0 WHEN 'running' THEN 1\n"
	"    WHEN 'done' THEN 2 WHEN 'failed' THEN 3 END,\n"
	"  r.attempts, r.last_error, r.created, r.updated, r.owner,\n"
	"  r.lease_expires FROM requests r ORDER BY r.id;\n"
	"CREATE TABLE volumes_v6 (\n"
	"  id INTEGER PRIMARY KEY REFERENCES labels(id),\n"
	"  capacity INTEGER NOT NULL,\n"
	"  used INTEGER NOT NULL DEFAULT 0 CHECK (used <= capacity),\n"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4)\n"
	");\n"
	"INSERT INTO volumes_v6 SELECT\n"
	"  (SELECT l.id FROM labels l WHERE l.label = v.label), v.capacity,\n"
	"  v.used, CASE v.state WHEN 'empty' THEN 0 WHEN 'active' THEN 1\n"
	"    WHEN 'full' THEN 2 WHEN 'readonly' THEN 3 WHEN 'retired' THEN 4\n"
	"  END FROM volumes v;\n"
	"DROP TABLE request_counts;\n"
	"DROP TABLE requests;\n"
	"DROP TABLE copies;\n"
	"DROP TABLE files;\n"
	"DROP TABLE volumes;\n"
	"ALTER TABLE files_v6 RENAME TO files;\n"
	"ALTER TABLE copies_v6 RENAME TO copies;\n"
	"ALTER TABLE requests_v6 RENAME TO requests;\n"
	"ALTER TABLE volumes_v6 RENAME TO volumes;\n"
	"CREATE INDEX copies_writing ON copies (id)\n"
	"  WHERE state = 0;\n"
	"CREATE INDEX copies_recycle ON copies (backend, id)\n"
	"  WHERE state = 2;\n"
	"CREATE INDEX copies_volume ON copies (volume, id)\n"
	"  WHERE volume IS NOT NULL;\n"
	"CREATE INDEX requests_queue ON requests (priority DESC, id)\n"
	"  WHERE state IN (0, 1);\n"
	"CREATE INDEX requests_file ON requests (file_id, kind)\n"
	"  WHERE state IN (0, 1);\n"
	"CREATE INDEX requests_finished ON requests (updated, id)\n"
	"  WHERE state IN (2, 3);\n"
	"CREATE TABLE request_counts (\n"
	"  kind INTEGER NOT NULL,\n"
	"  state INTEGER NOT NULL,\n"
	"  n INTEGER NOT NULL CHECK (n >= 0),\n"
	"  PRIMARY KEY (kind, state)\n"
	") WITHOUT ROWID;\n"
	"INSERT INTO request_counts (kind, state, n)\n"
	"  SELECT k.column1, s.column1, (SELECT count(*) FROM requests r\n"
	"    WHERE r.kind = k.column1 AND r.state = s.column1)\n"
	"  FROM (VALUES (0), (1), (2), (3)) k,\n"
	"       (VALUES (0), (1), (2), (3)) s;\n"
	"CREATE TRIGGER requests_count_insert AFTER INSERT ON requests BEGIN\n"
	"  UPDATE request_counts SET n = n + 1\n"
	"    WHERE kind = NEW.kind AND state = NEW.state;\n"
	"END;\n"
	"CREATE TRIGGER requests_count_update AFTER UPDATE OF kind, state\n"
	"  ON requests WHEN OLD.kind != NEW.kind OR OLD.state != NEW.state\n"
	"BEGIN\n"
	"  UPDATE request_counts SET n = n - 1\n"
	"    WHERE kind = OLD.kind AND state = OLD.state;\n"
	"  UPDATE request_counts SET n = n + 1\n"
	"    WHERE kind = NEW.kind AND state = NEW.state;\n"
	"END;\n"
	"CREATE TRIGGER requests_count_delete AFTER DELETE ON requests BEGIN\n"
	"  UPDATE request_counts SET n = n - 1\n"
	"    WHERE kind = OLD.kind AND state = OLD.state;\n"
	"END;\n",

	/*
	 * version 7: packs, backend objects that hold many small copies
	 * (pack.h).  A packed copy names its pack (copies.pack) and stores
	 * as its location only its place in the pack (what follows the
	 * pack's location).  A pack counts the members committed into it
	 * and, kept by triggers whatever changes a copy's state, the live
	 * ones (writing or valid); the packs with no live member, the only
	 * ones that may be deleted, are one partial index away.  Copies
	 * only ever leave the live states, so a dead pack stays dead.
	 */
	"CREATE TABLE packs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  backend INTEGER NOT NULL REFERENCES backends(id),\n"
	"  location TEXT NOT NULL,\n"
	"  bytes INTEGER NOT NULL,\n"
	"  members INTEGER NOT NULL DEFAULT 0,\n"
	"  live INTEGER NOT NULL DEFAULT 0 CHECK (live >= 0),\n"
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 1),\n"
	"  created INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX packs_dead ON packs (backend, id)\n"
	"  WHERE live = 0 AND state = 0;\n"
	"ALTER TABLE copies ADD COLUMN pack INTEGER REFERENCES packs(id);\n"
	"CREATE TRIGGER copies_pack_update AFTER UPDATE OF state, pack\n"
	"  ON copies WHEN OLD.pack IS NOT NEW.pack OR\n"
	"  (OLD.state IN (0, 1)) != (NEW.state IN (0, 1))\n"
	"BEGIN\n"
	"  UPDATE packs SET live = live - 1\n"
	"    WHERE id = OLD.pack AND OLD.state IN (0, 1);\n"
	"  UPDATE packs SET live = live + 1\n"
	"    WHERE id = NEW.pack AND NEW.state IN (0, 1);\n"
	"  UPDATE packs SET members = members + 1\n"
	"    WHERE id = NEW.pack AND OLD.pack IS NOT NEW.pack;\n"
	"END;\n"
	"CREATE TRIGGER copies_pack_delete AFTER DELETE ON copies\n"
	"  WHEN OLD.pack IS NOT NULL AND OLD.state IN (0, 1)\n"
	"BEGIN\n"
	"  UPDATE packs SET live = live - 1 WHERE id = OLD.pack;\n"
	"END;\n",
};

_Static_assert(sizeof(catalog_migrations) / sizeof(catalog_migrations[0]) ==
		       HSM_CATALOG_SCHEMA_VERSION,
	       "one migration step per schema version");

/*
 * Names of the enums, which rows store as integers (schema 6; versions
 * before stored these names, and the migration maps them).
 */
static const char *const copy_state_names[] = {
	[HSM_COPY_WRITING] = "writing",
	[HSM_COPY_VALID] = "valid",
	[HSM_COPY_BAD] = "bad",
	[HSM_COPY_DELETED] = "deleted",
};

static const char *const request_kind_names[] = {
	[HSM_REQ_STAGE] = "stage",
	[HSM_REQ_ARCHIVE] = "archive",
	[HSM_REQ_RELEASE] = "release",
	[HSM_REQ_RECYCLE] = "recycle",
};

static const char *const request_state_names[] = {
	[HSM_REQ_QUEUED] = "queued",
	[HSM_REQ_RUNNING] = "running",
	[HSM_REQ_DONE] = "done",
	[HSM_REQ_FAILED] = "failed",
};

/* stored as the enum's integer value */
static const char *const inode_state_names[] = {
	[HSM_INODE_ONLINE] = "online",
	[HSM_INODE_OFFLINE] = "offline",
	[HSM_INODE_PARTIAL] = "partial",
};

static const char *const volume_state_names[] = {
	[HSM_VOL_EMPTY] = "empty",
	[HSM_VOL_ACTIVE] = "active",
	[HSM_VOL_FULL] = "full",
	[HSM_VOL_READONLY] = "readonly",
	[HSM_VOL_RETIRED] = "retired",
};

/* Stage first: a reader is waiting.  Recycling can always wait. */
static const int request_default_priority[] = {
	[HSM_REQ_STAGE] = 300,
	[HSM_REQ_ARCHIVE] = 200,
	[HSM_REQ_RELEASE] = 100,
	[HSM_REQ_RECYCLE] = 0,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * Statements are prepared once per connection and reused: preparing
 * costs more than running most of them, which matters at tens of
 * thousands of state changes per second.
 */
#define CATALOG_STMT_CACHE 96
#define CATALOG_BACKEND_CACHE 4

struct hsm_catalog {
	sqlite3 *db;
	unsigned int max_attempts;
	bool is_in_batch;	/* hsm_catalog_batch_begin() holds a transaction */
	bool is_call_protected;	/* this call opened the "call" savepoint */
	int64_t owner;		/* node id stamped on claimed requests */
	/* prepared statements, kept by their SQL text's address */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} stmts[CATALOG_STMT_CACHE];
	unsigned int nr_stmts;
	unsigned int lease_sec;	/* 0: claims never expire */
	/* the last fsid looked up and its id (ids never change once given) */
	int64_t fs_cache_id;	/* 0: nothing cached */
	char fs_cache_fsid[HSM_CATALOG_FSID_MAX];
	struct {
		int64_t id;	/* 0: empty */
		char name[HSM_CATALOG_NAME_MAX];
	} backend_cache[CATALOG_BACKEND_CACHE];
	unsigned int backend_cache_next;
	char path[PATH_MAX];
	char error[HSM_ERROR_MAX];
};

/* ---- names ---- */

static const char *name_of(const char *const *names, size_t n, int i)
{
	return (i >= 0 && (size_t)i < n && names[i]) ? names[i] : "unknown";
}

const char *hsm_copy_state_name(enum hsm_copy_state state)
{
	return name_of(copy_state_names, ARRAY_SIZE(copy_state_names), state);
}

const char *hsm_request_kind_name(enum hsm_request_kind kind)
{
	return name_of(request_kind_names, ARRAY_SIZE(request_kind_names),
		       kind);
}

const char *hsm_request_state_name(enum hsm_request_state state)
{
	return name_of(request_state_names, ARRAY_SIZE(request_state_names),
		       state);
}

const char *hsm_volume_state_name(enum hsm_volume_state state)
{
	return name_of(volume_state_names, ARRAY_SIZE(volume_state_names),
		       state);
}

const char *hsm_inode_state_name(enum hsm_inode_state state)
{
	return name_of(inode_state_names, ARRAY_SIZE(inode_state_names), state);
}

/* ---- errors ---- */

static int catalog_set_error(struct hsm_catalog *cat, int err,
			     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int catalog_set_error(struct hsm_catalog *cat, int err,
			     const char *fmt, ...)
{
	char msg[HSM_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a very long path may cut the message short: still better than none */
	if (snprintf(cat->error, sizeof(cat->error), "catalog %s: %s",
		     cat->path, msg) >= (int)sizeof(cat->error))
		memcpy(cat->error + sizeof(cat->error) - 4, "...", 4);
	return err;
}

const char *hsm_catalog_error(const struct hsm_catalog *cat)
{
	return cat->error[0] ? cat->error : "no error";
}

static int catalog_rc_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	case SQLITE_CANTOPEN:
		return sys ? -sys : -ENOENT;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -ENOENT;
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Map an sqlite failure to an errno, naming what was being done. */
static int catalog_sql_fail(struct hsm_catalog *cat, int rc, const char *what)
{
	int err = catalog_rc_errno(cat->db, rc);

	if (!err)
		err = -EIO;
	return catalog_set_error(cat, err, "%s: %s", what,
				 cat->db ? sqlite3_errmsg(cat->db) :
					   sqlite3_errstr(rc));
}

/* ---- statements ---- */

static int catalog_exec(struct hsm_catalog *cat, const char *sql,
			const char *what)
{
	int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : catalog_sql_fail(cat, rc, what);
}

static int catalog_prepare(struct hsm_catalog *cat, const char *sql,
			   sqlite3_stmt **stmt, const char *what)
{
	unsigned int i;
	int rc;

	for (i = 0; i < cat->nr_stmts; i++) {
		if (cat->stmts[i].sql != sql)
			continue;
		/* in use by a caller up the stack: fall back to a new one */
		if (sqlite3_stmt_busy(cat->stmts[i].stmt))
			break;
		*stmt = cat->stmts[i].stmt;
		return 0;
	}
	rc = sqlite3_prepare_v3(cat->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				stmt, NULL);
	if (rc != SQLITE_OK) {
		*stmt = NULL;
		return catalog_sql_fail(cat, rc, what);
	}
	if (i == cat->nr_stmts && i < CATALOG_STMT_CACHE) {
		cat->stmts[i].sql = sql;
		cat->stmts[i].stmt = *stmt;
		cat->nr_stmts++;
	}
	return 0;
}

/* Done with a statement: cached ones are reset for the next use. */
static void catalog_finalize(struct hsm_catalog *cat, sqlite3_stmt *stmt)
{
	unsigned int i;

	for (i = 0; i < cat->nr_stmts; i++) {
		if (cat->stmts[i].stmt == stmt) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			return;
		}
	}
	sqlite3_finalize(stmt);
}

/* One statement without rows (transaction control), prepared once. */
static int catalog_exec_cached(struct hsm_catalog *cat, const char *sql,
			       const char *what)
{
	sqlite3_stmt *stmt;
	int rc;
	int ret;

	ret = catalog_prepare(cat, sql, &stmt, what);
	if (ret)
		return ret;
	rc = sqlite3_step(stmt);
	ret = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 :
		catalog_sql_fail(cat, rc, what);
	catalog_finalize(cat, stmt);
	return ret;
}

/* Step a statement that returns no rows, then finalize it. */
static int catalog_step_done(struct hsm_catalog *cat, sqlite3_stmt *stmt,
			     const char *what)
{
	int rc = sqlite3_step(stmt);
	int ret = rc == SQLITE_DONE ? 0 : catalog_sql_fail(cat, rc, what);

	catalog_finalize(cat, stmt);
	return ret;
}

/*
 * Step once: 1 for a row, 0 at the end, negative errno on failure (the
 * statement is then finalized by the caller as usual).
 */
static int catalog_step_row(struct hsm_catalog *cat, sqlite3_stmt *stmt,
			    const char *what)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return catalog_sql_fail(cat, rc, what);
}

static void catalog_column_text(sqlite3_stmt *stmt, int col, char *buf,
				size_t len)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	snprintf(buf, len, "%s", text ? (const char *)text : "");
}

static void bind_u64(sqlite3_stmt *stmt, int i, uint64_t v)
{
	sqlite3_bind_int64(stmt, i, (sqlite3_int64)v);
}

/*
 * Not copied: every caller steps and resets the statement (which clears
 * its bindings, catalog_finalize()) while s is still alive.
 */
static void bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}

static int64_t catalog_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- transactions ---- */

/* A rollback may undo the inserts that gave cached ids: forget them. */
static void catalog_forget_ids(struct hsm_catalog *cat)
{
	cat->fs_cache_id = 0;
	memset(cat->backend_cache, 0, sizeof(cat->backend_cache));
}

/*
 * Outside a batch every call is one transaction.  Inside a batch a call
 * joins the batch's transaction and still succeeds or fails as a whole,
 * but nothing is durable until the batch commits, and the batch pays one
 * fsync for all of its calls.  A failed statement is undone by sqlite
 * itself, so a call whose one write is its last step (after any reads)
 * needs nothing more; a call about to make several writes, or to fail
 * after its write, first calls catalog_protect(), which opens a
 * savepoint that a failure rolls back to.  Most calls write once, and skipping two savepoint statements per
 * call is a good part of a batch's speed.
 */
static int catalog_begin(struct hsm_catalog *cat)
{
	cat->error[0] = '\0';
	cat->is_call_protected = false;
	if (cat->is_in_batch) {
		/*
		 * sqlite rolls a whole transaction back on some errors (I/O,
		 * out of memory, disk full): later calls must not run, and
		 * commit, one by one outside the batch.
		 */
		if (sqlite3_get_autocommit(cat->db))
			return catalog_set_error(cat, -EIO,
						 "batch: an earlier error rolled the whole batch back; end it and start again");
		return 0;
	}
	return catalog_exec_cached(cat, "BEGIN IMMEDIATE",
				   "begin transaction");
}

/* Before the first of several writes of one call. */
static int catalog_protect(struct hsm_catalog *cat)
{
	int ret;

	if (!cat->is_in_batch || cat->is_call_protected)
		return 0;
	ret = catalog_exec_cached(cat, "SAVEPOINT call", "begin call");
	if (!ret)
		cat->is_call_protected = true;
	return ret;
}

/*
 * Commit when ret is 0, else roll back; returns the first error so the
 * message names the step that failed, not the rollback.
 */
static int catalog_end(struct hsm_catalog *cat, int ret)
{
	if (cat->is_in_batch) {
		/* the undone call may have added a cached id */
		if (ret)
			catalog_forget_ids(cat);
		if (!cat->is_call_protected)
			return ret;
		cat->is_call_protected = false;
		if (ret)
			catalog_exec_cached(cat, "ROLLBACK TO call",
					    "undo call");
		catalog_exec_cached(cat, "RELEASE call", "end call");
		return ret;
	}
	if (!ret) {
		ret = catalog_exec_cached(cat, "COMMIT", "commit");
		if (!ret)
			return 0;
	}
	catalog_forget_ids(cat);
	if (!sqlite3_get_autocommit(cat->db))
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int hsm_catalog_batch_begin(struct hsm_catalog *cat)
{
	int ret;

	if (cat->is_in_batch) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "batch begin: a batch is already open");
	}
	ret = catalog_begin(cat);
	if (!ret)
		cat->is_in_batch = true;
	return ret;
}

int hsm_catalog_batch_end(struct hsm_catalog *cat, bool is_commit)
{
	if (!cat->is_in_batch) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "batch end: no batch is open");
	}
	cat->is_in_batch = false;
	return catalog_end(cat, is_commit ? 0 :
			   catalog_set_error(cat, -ECANCELED,
					     "batch rolled back"));
}

/* ---- open, check, migrate ---- */

static void sql_checksum_blob(sqlite3_context *ctx, int argc,
			      sqlite3_value **argv);

static int catalog_pragma_int(struct hsm_catalog *cat, const char *sql,
			      int *value)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat, sql, &stmt, sql);
	if (ret)
		return ret;
	ret = catalog_step_row(cat, stmt, sql);
	if (ret == 1) {
		*value = sqlite3_column_int(stmt, 0);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -EIO, "%s: no result", sql);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_schema_version(struct hsm_catalog *cat, int *version)
{
	return catalog_pragma_int(cat, "PRAGMA user_version", version);
}

const char *hsm_catalog_migration_sql(int to_version)
{
	if (to_version < 1 || to_version > HSM_CATALOG_SCHEMA_VERSION)
		return NULL;
	return catalog_migrations[to_version - 1];
}

/* Is this a catalog, of a version this code understands? */
static int catalog_identify(struct hsm_catalog *cat, int *version)
{
	int app_id = 0;
	int tables = 0;
	int ret;

	ret = hsm_catalog_schema_version(cat, version);
	if (ret == -EUCLEAN &&
	    (sqlite3_extended_errcode(cat->db) & 0xff) == SQLITE_NOTADB)
		return catalog_set_error(cat, ret,
					 "not a catalog: not an sqlite database, or its header is destroyed");
	if (ret == -EUCLEAN)
		return catalog_set_error(cat, ret,
					 "corrupt (truncated or overwritten?): %s",
					 sqlite3_errmsg(cat->db));
	if (ret)
		return ret;
	ret = catalog_pragma_int(cat, "PRAGMA application_id", &app_id);
	if (!ret)
		ret = catalog_pragma_int(cat,
					 "SELECT count(*) FROM sqlite_master",
					 &tables);
	if (ret == -EUCLEAN)
		return catalog_set_error(cat, ret, "corrupt: %s",
					 sqlite3_errmsg(cat->db));
	if (ret)
		return ret;

	if (*version == 0 && tables == 0)
		return 0;	/* empty: will be created */
	if (app_id != CATALOG_APPLICATION_ID)
		return catalog_set_error(cat, -EUCLEAN,
					 "not a catalog: sqlite database of another program (application_id %#x)",
					 (unsigned int)app_id);
	if (*version > HSM_CATALOG_SCHEMA_VERSION)
		return catalog_set_error(cat, -ENOTSUP,
					 "schema version %d is newer than this program's %d: upgrade scoutfs-hsm",
					 *version, HSM_CATALOG_SCHEMA_VERSION);
	return 0;
}

int hsm_catalog_check(struct hsm_catalog *cat)
{
	sqlite3_stmt *stmt;
	char first[256] = "";
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat, "PRAGMA integrity_check(1)", &stmt,
			      "integrity_check");
	if (ret)
		return ret == -EUCLEAN ?
			catalog_set_error(cat, ret, "corrupt: %s",
					  sqlite3_errmsg(cat->db)) : ret;
	ret = catalog_step_row(cat, stmt, "integrity_check");
	if (ret == 1) {
		catalog_column_text(stmt, 0, first, sizeof(first));
		ret = strcmp(first, "ok") == 0 ? 0 :
			catalog_set_error(cat, -EUCLEAN,
					  "corrupt: integrity_check: %s", first);
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -EUCLEAN,
					"corrupt: integrity_check gave no result");
	} else if (ret == -EUCLEAN) {
		ret = catalog_set_error(cat, ret, "corrupt: %s",
					sqlite3_errmsg(cat->db));
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* After a migration: no row may point at a missing parent. */
static int catalog_foreign_key_check(struct hsm_catalog *cat)
{
	sqlite3_stmt *stmt;
	char table[128] = "";
	int ret;

	ret = catalog_prepare(cat, "PRAGMA foreign_key_check", &stmt,
			      "foreign key check");
	if (ret)
		return ret;
	ret = catalog_step_row(cat, stmt, "foreign key check");
	if (ret == 1) {
		catalog_column_text(stmt, 0, table, sizeof(table));
		ret = catalog_set_error(cat, -EUCLEAN,
					"migration left rows of %s without their parent row",
					table);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/*
 * Steps that rebuild a table (create the new one, copy, drop the old,
 * rename) run with foreign keys off, as sqlite requires: dropping a
 * parent would otherwise fail or cascade.  The pragma only takes effect
 * outside a transaction, so it is switched around the migration's one
 * transaction, and every reference is checked before the commit.
 */
static int catalog_migrate(struct hsm_catalog *cat)
{
	char sql[64];
	int version = 0;
	int ret;

	ret = catalog_exec(cat, "PRAGMA foreign_keys = OFF",
			   "disable foreign keys for migration");
	if (ret)
		return ret;
	ret = catalog_begin(cat);
	if (ret)
		goto out;
	/* again under the write lock: another process may have done it */
	ret = catalog_identify(cat, &version);
	for (; !ret && version < HSM_CATALOG_SCHEMA_VERSION; version++) {
		ret = catalog_exec(cat, catalog_migrations[version],
				   "migrate schema");
		if (ret)
			catalog_set_error(cat, ret,
					  "migration to version %d failed: %s",
					  version + 1, sqlite3_errmsg(cat->db));
	}
	if (!ret)
		ret = catalog_foreign_key_check(cat);
	if (!ret) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 HSM_CATALOG_SCHEMA_VERSION);
		ret = catalog_exec(cat, sql, "set schema version");
	}
	ret = catalog_end(cat, ret);
out:
	if (catalog_exec(cat, "PRAGMA foreign_keys = ON",
			 "enable foreign keys") && !ret)
		ret = -EIO;
	return ret;
}

static int catalog_configure(struct hsm_catalog *cat, unsigned int flags)
{
	sqlite3_stmt *stmt;
	char mode[16] = "";
	int ret;

	if (!(flags & HSM_CATALOG_READONLY)) {
		/* readers never block the writer, and vice versa */
		ret = catalog_prepare(cat, "PRAGMA journal_mode = WAL", &stmt,
				      "set WAL mode");
		if (ret)
			return ret;
		ret = catalog_step_row(cat, stmt, "set WAL mode");
		if (ret == 1)
			catalog_column_text(stmt, 0, mode, sizeof(mode));
		catalog_finalize(cat, stmt);
		if (ret < 0)
			return ret;
		if (strcmp(mode, "wal") != 0)
			return catalog_set_error(cat, -EIO,
						 "cannot use WAL journal (mode is '%s')",
						 mode);
		/* the intent must be durable before the HSM acts on it */
		ret = catalog_exec(cat, "PRAGMA synchronous = FULL",
				   "set synchronous");
		if (ret)
			return ret;
	}
	return catalog_exec(cat, "PRAGMA foreign_keys = ON",
			    "enable foreign keys");
}

static int catalog_open_checked(struct hsm_catalog *cat, unsigned int flags)
{
	int version = 0;
	int ret;

	ret = catalog_identify(cat, &version);
	if (ret)
		return ret;
	/*
	 * No integrity check here: it reads every page, hours at 10^9
	 * files, for every command.  hsm_catalog_check() runs it on demand;
	 * sqlite still verifies each page it reads, so damage in use is
	 * reported as -EUCLEAN by the call that meets it.
	 */
	ret = catalog_configure(cat, flags);
	if (ret)
		return ret;
	if (version == HSM_CATALOG_SCHEMA_VERSION)
		return 0;
	if (flags & HSM_CATALOG_READONLY)
		return catalog_set_error(cat, -EROFS,
					 "schema version %d needs migrating to %d: open read-write once",
					 version, HSM_CATALOG_SCHEMA_VERSION);
	return catalog_migrate(cat);
}

static int catalog_open_fail(struct hsm_catalog *cat, int ret, char *err,
			     size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", hsm_catalog_error(cat));
	hsm_catalog_close(cat);
	return ret;
}

int hsm_catalog_open(const char *path, unsigned int flags,
		     struct hsm_catalog **out, char *err, size_t errlen)
{
	struct hsm_catalog *cat;
	int oflags;
	int rc;
	int ret;

	*out = NULL;
	cat = calloc(1, sizeof(*cat));
	if (!cat) {
		if (err && errlen)
			snprintf(err, errlen, "catalog %s: out of memory",
				 path ? path : "");
		return -ENOMEM;
	}
	snprintf(cat->path, sizeof(cat->path), "%s", path ? path : "");
	cat->max_attempts = HSM_CATALOG_DEFAULT_MAX_ATTEMPTS;
	if (!path || !*path)
		return catalog_open_fail(cat,
					 catalog_set_error(cat, -EINVAL,
							   "no path given"),
					 err, errlen);

	if (flags & HSM_CATALOG_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE |
			 ((flags & HSM_CATALOG_CREATE) ? SQLITE_OPEN_CREATE : 0);
	rc = sqlite3_open_v2(path, &cat->db, oflags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		ret = catalog_rc_errno(cat->db, rc);
		if (rc == SQLITE_CANTOPEN && access(path, F_OK))
			ret = -errno;
		catalog_set_error(cat, ret ? ret : -EIO, "cannot open: %s",
				  ret ? strerror(-ret) : sqlite3_errstr(rc));
		return catalog_open_fail(cat, ret ? ret : -EIO, err, errlen);
	}
	sqlite3_extended_result_codes(cat->db, 1);
	sqlite3_busy_timeout(cat->db, HSM_CATALOG_BUSY_TIMEOUT_MS);
	/* for the migration to version 6 */
	rc = sqlite3_create_function(cat->db, "hsm_checksum_blob", 1,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				     sql_checksum_blob, NULL, NULL);
	if (rc != SQLITE_OK)
		return catalog_open_fail(cat,
					 catalog_sql_fail(cat, rc,
							  "register functions"),
					 err, errlen);

	ret = catalog_open_checked(cat, flags);
	if (ret)
		return catalog_open_fail(cat, ret, err, errlen);
	cat->error[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	*out = cat;
	return 0;
}

void hsm_catalog_close(struct hsm_catalog *cat)
{
	if (!cat)
		return;
	while (cat->nr_stmts)
		sqlite3_finalize(cat->stmts[--cat->nr_stmts].stmt);
	/* close_v2: never fails; frees once statements are gone */
	sqlite3_close_v2(cat->db);
	free(cat);
}

void hsm_catalog_set_max_attempts(struct hsm_catalog *cat,
				  unsigned int max_attempts)
{
	cat->max_attempts = max_attempts ? max_attempts : 1;
}

/* ---- backup ---- */

/* pages copied per backup step: writers wait at most one step */
#define CATALOG_BACKUP_STEP_PAGES 1024
#define CATALOG_BACKUP_BUSY_SLEEP_MS 10

static int catalog_fsync_path(struct hsm_catalog *cat, const char *path,
			      int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return catalog_set_error(cat, -errno, "backup: open %s: %s",
					 path, strerror(errno));
	if (fsync(fd))
		ret = catalog_set_error(cat, -errno, "backup: fsync %s: %s",
					path, strerror(errno));
	close(fd);
	return ret;
}

/*
 * sqlite's online backup copies the pages of one consistent snapshot: it
 * restarts by itself when another connection writes in between steps, so
 * writers are never blocked for more than one step.  The copy goes to
 * DEST.tmp and is renamed over DEST once complete and on disk, so DEST is
 * always either the old backup or the whole new one.
 */
int hsm_catalog_backup(struct hsm_catalog *cat, const char *dest)
{
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	sqlite3_backup *bk;
	sqlite3 *out = NULL;
	char *slash;
	int rc;
	int ret;

	cat->error[0] = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dest) >= (int)sizeof(tmp))
		return catalog_set_error(cat, -ENAMETOOLONG,
					 "backup %s: path too long", dest);
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		ret = catalog_set_error(cat, -EIO, "backup: cannot create %s: %s",
					tmp, sqlite3_errstr(rc));
		goto out;
	}
	bk = sqlite3_backup_init(out, "main", cat->db, "main");
	if (!bk) {
		ret = catalog_set_error(cat, -EIO, "backup to %s: %s", tmp,
					sqlite3_errmsg(out));
		goto out;
	}
	do {
		rc = sqlite3_backup_step(bk, CATALOG_BACKUP_STEP_PAGES);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(CATALOG_BACKUP_BUSY_SLEEP_MS);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(bk);
	if (rc != SQLITE_DONE) {
		ret = catalog_set_error(cat, catalog_rc_errno(out, rc) ? catalog_rc_errno(out, rc) : -EIO,
					"backup to %s: %s", tmp,
					sqlite3_errstr(rc));
		goto out;
	}
	/* a backup is a plain rollback-journal file: one file to copy */
	rc = sqlite3_exec(out, "PRAGMA journal_mode = DELETE", NULL, NULL,
			  NULL);
	if (rc != SQLITE_OK) {
		ret = catalog_set_error(cat, -EIO, "backup %s: %s", tmp,
					sqlite3_errmsg(out));
		goto out;
	}
	sqlite3_close_v2(out);
	out = NULL;
	ret = catalog_fsync_path(cat, tmp, O_RDONLY);
	if (!ret && rename(tmp, dest))
		ret = catalog_set_error(cat, -errno, "backup: rename to %s: %s",
					dest, strerror(errno));
	if (ret)
		goto out;
	snprintf(dir, sizeof(dir), "%s", dest);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	return catalog_fsync_path(cat, dir, O_RDONLY | O_DIRECTORY);
out:
	if (out)
		sqlite3_close_v2(out);
	unlink(tmp);
	return ret;
}

/* ---- recovery ---- */

static int catalog_update_count(struct hsm_catalog *cat, const char *sql,
				int64_t now, unsigned int max_attempts,
				unsigned int *changed)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat, sql, &stmt, "recover");
	if (ret)
		return ret;
	/* ?1 is the time and ?2 the attempt limit, where used */
	if (sqlite3_bind_parameter_count(stmt) >= 2) {
		sqlite3_bind_int64(stmt, 1, now);
		sqlite3_bind_int(stmt, 2, (int)max_attempts);
	}
	/* ?3: this node: a restart never takes over another node's work */
	if (sqlite3_bind_parameter_count(stmt) >= 3)
		sqlite3_bind_int64(stmt, 3, cat->owner);
	ret = catalog_step_done(cat, stmt, "recover");
	if (!ret)
		*changed = (unsigned int)sqlite3_changes(cat->db);
	return ret;
}

int hsm_catalog_recover(struct hsm_catalog *cat,
			struct hsm_catalog_recovery *out)
{
	struct hsm_catalog_recovery rec = { 0 };
	int64_t now = catalog_now();
	int ret;

	ret = catalog_begin(cat);
	if (!ret)
		ret = catalog_protect(cat);
	if (ret)
		return catalog_end(cat, ret);
	ret = catalog_update_count(cat,
		"UPDATE requests SET state = 3, updated = ?1,"
		" owner = NULL, lease_expires = NULL,"
		" last_error = 'interrupted: gave up after ' || attempts ||"
		" ' attempts' WHERE state IN (0, 1) AND state = 1"
		" AND attempts >= ?2"
		" AND coalesce(owner, 0) = ?3",
		now, cat->max_attempts, &rec.requests_failed);
	if (!ret)
		ret = catalog_update_count(cat,
			"UPDATE requests SET state = 0, updated = ?1,"
			" owner = NULL, lease_expires = NULL,"
			" last_error = 'interrupted: the process running it"
			" stopped' WHERE state IN (0, 1) AND state = 1"
			" AND attempts < ?2"
			" AND coalesce(owner, 0) = ?3",
			now, cat->max_attempts, &rec.requests_requeued);
	if (!ret)
		ret = catalog_update_count(cat,
			"UPDATE copies SET state = 2 WHERE state = 0",
			now, cat->max_attempts, &rec.copies_abandoned);
	ret = catalog_end(cat, ret);
	if (!ret && out)
		*out = rec;
	return ret;
}

/*
 * A copy left 'writing' by a crash is checked against its backend rather
 * than assumed lost: if the backend holds the whole object with the
 * file's checksum (the put finished, the process died before recording
 * the verify), it is verified and committed.  Otherwise whatever part
 * the backend holds is deleted, the copy becomes 'deleted' and the
 * archive is queued again.  Copies whose backend the caller does not know
 * are left for hsm_catalog_recover(), which marks them bad.
 */
static int catalog_writing_copy_ids(struct hsm_catalog *cat, int64_t **ids,
				    size_t *nr)
{
	sqlite3_stmt *stmt;
	int64_t *grown;
	size_t cap = 0;
	int ret;

	*ids = NULL;
	*nr = 0;
	ret = catalog_prepare(cat,
		"SELECT id FROM copies WHERE state = 0 ORDER BY id",
		&stmt, "list writing copies");
	if (ret)
		return ret;
	while ((ret = catalog_step_row(cat, stmt, "list writing copies")) == 1) {
		if (*nr == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(*ids, cap * sizeof(**ids));
			if (!grown) {
				ret = catalog_set_error(cat, -ENOMEM,
							"recover copies: out of memory");
				break;
			}
			*ids = grown;
		}
		(*ids)[(*nr)++] = sqlite3_column_int64(stmt, 0);
	}
	catalog_finalize(cat, stmt);
	if (ret) {
		free(*ids);
		*ids = NULL;
		*nr = 0;
	}
	return ret;
}

/* Is the backend's object the whole copy, with the file's checksum? */
static bool catalog_copy_is_complete(struct hsm_backend *be,
				     const struct hsm_catalog_copy *copy,
				     const struct hsm_catalog_file *file)
{
	struct hsm_stat_result st;
	char have[HSM_CHECKSUM_TEXT_MAX];

	if (!copy->location[0] || !file->checksum[0])
		return false;
	if (be->ops->stat(be, copy->location, &st))
		return false;
	hsm_checksum_to_text(&st.checksum, have);
	if (st.bytes != file->size || strcmp(have, file->checksum) != 0)
		return false;
	/* the recorded checksum is right: now read it all to be sure */
	return be->ops->verify(be, copy->location) == 0;
}

static int catalog_recover_one_copy(struct hsm_catalog *cat, int64_t copy_id,
				    hsm_catalog_backend_fn lookup, void *arg,
				    struct hsm_catalog_recovery *rec)
{
	struct hsm_catalog_file file;
	struct hsm_catalog_copy copy;
	struct hsm_backend *be;
	int64_t request_id;
	int ret;

	ret = hsm_catalog_copy_get(cat, copy_id, &copy);
	if (!ret)
		ret = hsm_catalog_file_get(cat, copy.file_id, &file);
	if (ret)
		return ret;
	be = lookup(arg, copy.backend);
	if (!be)
		return 0;
	if (catalog_copy_is_complete(be, &copy, &file)) {
		ret = hsm_catalog_copy_verified(cat, copy_id);
		if (!ret)
			rec->copies_committed++;
		return ret;
	}
	/* a partial or wrong object: remove it (a missing one is fine) */
	if (copy.location[0]) {
		ret = be->ops->del(be, copy.location);
		if (ret && ret != -ENOENT)
			return catalog_set_error(cat, ret,
						 "recover copy id %" PRId64 ": delete %s on %s: %s",
						 copy_id, copy.location,
						 copy.backend,
						 hsm_backend_error(be));
	}
	ret = hsm_catalog_copy_mark_deleted(cat, copy_id);
	if (!ret)
		ret = hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE,
						  copy.file_id,
						  HSM_REQ_PRIORITY_DEFAULT,
						  &request_id);
	if (!ret)
		rec->copies_retried++;
	return ret;
}

int hsm_catalog_recover_copies(struct hsm_catalog *cat,
			       hsm_catalog_backend_fn lookup, void *arg,
			       struct hsm_catalog_recovery *out)
{
	struct hsm_catalog_recovery rec = { 0 };
	int64_t *ids;
	size_t nr;
	size_t i;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_writing_copy_ids(cat, &ids, &nr);
	for (i = 0; !ret && i < nr; i++)
		ret = catalog_recover_one_copy(cat, ids[i], lookup, arg, &rec);
	free(ids);
	if (out) {
		out->copies_committed += rec.copies_committed;
		out->copies_retried += rec.copies_retried;
	}
	return ret;
}

/* ---- filesystems ---- */

int hsm_catalog_fs_upsert(struct hsm_catalog *cat, const char *fsid,
			  const char *mount_path)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_prepare(cat,
		"INSERT INTO filesystems (fsid, mount_path) VALUES (?1, ?2)"
		" ON CONFLICT (fsid) DO UPDATE SET mount_path = ?2",
		&stmt, "upsert filesystem");
	if (!ret) {
		bind_text(stmt, 1, fsid);
		bind_text(stmt, 2, mount_path);
		ret = catalog_step_done(cat, stmt, "upsert filesystem");
		if (ret)
			catalog_set_error(cat, ret, "filesystem %s: %s", fsid,
					  sqlite3_errmsg(cat->db));
	}
	return catalog_end(cat, ret);
}

static int catalog_fs_read(struct hsm_catalog *cat, const char *fsid,
			   struct hsm_catalog_fs *out)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT mount_path, meta_seq, data_seq FROM filesystems"
		" WHERE fsid = ?1", &stmt, "read filesystem");
	if (ret)
		return ret;
	bind_text(stmt, 1, fsid);
	ret = catalog_step_row(cat, stmt, "read filesystem");
	if (ret == 1) {
		memset(out, 0, sizeof(*out));
		snprintf(out->fsid, sizeof(out->fsid), "%s", fsid);
		catalog_column_text(stmt, 0, out->mount_path,
				    sizeof(out->mount_path));
		out->meta_seq = (uint64_t)sqlite3_column_int64(stmt, 1);
		out->data_seq = (uint64_t)sqlite3_column_int64(stmt, 2);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no filesystem %s", fsid);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_fs_get(struct hsm_catalog *cat, const char *fsid,
		       struct hsm_catalog_fs *out)
{
	cat->error[0] = '\0';
	return catalog_fs_read(cat, fsid, out);
}

int hsm_catalog_fs_set_seqs(struct hsm_catalog *cat, const char *fsid,
			    uint64_t meta_seq, uint64_t data_seq)
{
	struct hsm_catalog_fs fs;
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_fs_read(cat, fsid, &fs);
	/* walking backwards would re-read or, worse, skip index items */
	if (!ret && (meta_seq < fs.meta_seq || data_seq < fs.data_seq))
		ret = catalog_set_error(cat, -EINVAL,
					"filesystem %s: seqs would go backwards (meta %" PRIu64 " -> %" PRIu64 ", data %" PRIu64 " -> %" PRIu64 ")",
					fsid, fs.meta_seq, meta_seq,
					fs.data_seq, data_seq);
	if (!ret)
		ret = catalog_prepare(cat,
			"UPDATE filesystems SET meta_seq = ?2, data_seq = ?3"
			" WHERE fsid = ?1", &stmt, "update seqs");
	if (!ret) {
		bind_text(stmt, 1, fsid);
		bind_u64(stmt, 2, meta_seq);
		bind_u64(stmt, 3, data_seq);
		ret = catalog_step_done(cat, stmt, "update seqs");
	}
	return catalog_end(cat, ret);
}

/*
 * The integer id rows store for a filesystem.  Ids are never reused or
 * changed (filesystems are never deleted), so the last one is cached;
 * the cache is dropped on every rollback, which may undo the insert
 * that created it.
 */
static int catalog_fs_id(struct hsm_catalog *cat, const char *fsid,
			 int64_t *id)
{
	sqlite3_stmt *stmt;
	int ret;

	if (!fsid)
		fsid = "";
	if (cat->fs_cache_id && strcmp(cat->fs_cache_fsid, fsid) == 0) {
		*id = cat->fs_cache_id;
		return 0;
	}
	ret = catalog_prepare(cat, "SELECT id FROM filesystems WHERE fsid = ?1",
			      &stmt, "find filesystem");
	if (ret)
		return ret;
	bind_text(stmt, 1, fsid);
	ret = catalog_step_row(cat, stmt, "find filesystem");
	if (ret == 1) {
		*id = sqlite3_column_int64(stmt, 0);
		if (strlen(fsid) < sizeof(cat->fs_cache_fsid)) {
			strcpy(cat->fs_cache_fsid, fsid);
			cat->fs_cache_id = *id;
		}
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no filesystem %s", fsid);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* ---- inodes ---- */

int hsm_catalog_inode_upsert(struct hsm_catalog *cat, const char *fsid,
			     const struct hsm_catalog_inode *inode)
{
	sqlite3_stmt *stmt;
	int64_t fs = 0;
	int ret;

	if ((int)inode->state < 0 ||
	    (size_t)inode->state >= ARRAY_SIZE(inode_state_names)) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "inode %s/%" PRIu64 ": invalid state %d",
					 fsid, inode->ino, (int)inode->state);
	}
	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_fs_id(cat, fsid, &fs);
	if (!ret)
		ret = catalog_prepare(cat,
			"INSERT INTO inodes (fs, ino, data_version, size, mtime,"
			" mtime_nsec, mode, uid, gid, meta_seq, data_seq, state,"
			" path) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
			" ?11, ?12, ?13) ON CONFLICT (fs, ino) DO UPDATE SET"
			" data_version = ?3, size = ?4, mtime = ?5,"
			" mtime_nsec = ?6, mode = ?7, uid = ?8, gid = ?9,"
			" meta_seq = ?10, data_seq = ?11, state = ?12, path = ?13",
			&stmt, "upsert inode");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, fs);
		bind_u64(stmt, 2, inode->ino);
		bind_u64(stmt, 3, inode->data_version);
		bind_u64(stmt, 4, inode->size);
		sqlite3_bind_int64(stmt, 5, inode->mtime_sec);
		sqlite3_bind_int64(stmt, 6, inode->mtime_nsec);
		sqlite3_bind_int64(stmt, 7, inode->mode);
		sqlite3_bind_int64(stmt, 8, inode->uid);
		sqlite3_bind_int64(stmt, 9, inode->gid);
		bind_u64(stmt, 10, inode->meta_seq);
		bind_u64(stmt, 11, inode->data_seq);
		sqlite3_bind_int(stmt, 12, (int)inode->state);
		if (inode->path[0])
			sqlite3_bind_text(stmt, 13, inode->path, -1,
					  SQLITE_STATIC);
		ret = catalog_step_done(cat, stmt, "upsert inode");
		if (ret)
			catalog_set_error(cat, ret, "inode %s/%" PRIu64 ": %s",
					  fsid, inode->ino,
					  sqlite3_errmsg(cat->db));
	}
	return catalog_end(cat, ret);
}

int hsm_catalog_inode_delete(struct hsm_catalog *cat, const char *fsid,
			     uint64_t ino)
{
	sqlite3_stmt *stmt;
	int64_t fs = 0;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_fs_id(cat, fsid, &fs);
	if (!ret)
		ret = catalog_prepare(cat,
			"DELETE FROM inodes WHERE fs = ?1 AND ino = ?2", &stmt,
			"delete inode");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, fs);
		bind_u64(stmt, 2, ino);
		ret = catalog_step_done(cat, stmt, "delete inode");
	}
	if (!ret && sqlite3_changes(cat->db) == 0)
		ret = catalog_set_error(cat, -ENOENT, "no inode %s/%" PRIu64,
					fsid, ino);
	return catalog_end(cat, ret);
}

#define INODE_COLUMNS \
	"ino, data_version, size, mtime, mtime_nsec, mode, uid, gid," \
	" meta_seq, data_seq, state, path"

static int catalog_inode_from_row(struct hsm_catalog *cat, sqlite3_stmt *stmt,
				  const char *fsid,
				  struct hsm_catalog_inode *out)
{
	int state = sqlite3_column_int(stmt, 10);

	out->ino = (uint64_t)sqlite3_column_int64(stmt, 0);
	out->data_version = (uint64_t)sqlite3_column_int64(stmt, 1);
	out->size = (uint64_t)sqlite3_column_int64(stmt, 2);
	out->mtime_sec = sqlite3_column_int64(stmt, 3);
	out->mtime_nsec = (uint32_t)sqlite3_column_int64(stmt, 4);
	out->mode = (uint32_t)sqlite3_column_int64(stmt, 5);
	out->uid = (uint32_t)sqlite3_column_int64(stmt, 6);
	out->gid = (uint32_t)sqlite3_column_int64(stmt, 7);
	out->meta_seq = (uint64_t)sqlite3_column_int64(stmt, 8);
	out->data_seq = (uint64_t)sqlite3_column_int64(stmt, 9);
	out->state = (enum hsm_inode_state)state;
	catalog_column_text(stmt, 11, out->path, sizeof(out->path));
	if (state < 0 || (size_t)state >= ARRAY_SIZE(inode_state_names))
		return catalog_set_error(cat, -EUCLEAN,
					 "inode %s/%" PRIu64 ": unknown state %d",
					 fsid, out->ino, state);
	return 0;
}

int hsm_catalog_inode_get(struct hsm_catalog *cat, const char *fsid,
			  uint64_t ino, struct hsm_catalog_inode *out)
{
	sqlite3_stmt *stmt;
	int64_t fs = 0;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_fs_id(cat, fsid, &fs);
	if (ret)
		return ret;
	ret = catalog_prepare(cat,
		"SELECT " INODE_COLUMNS " FROM inodes WHERE fs = ?1 AND ino = ?2",
		&stmt, "read inode");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, fs);
	bind_u64(stmt, 2, ino);
	ret = catalog_step_row(cat, stmt, "read inode");
	if (ret == 1)
		ret = catalog_inode_from_row(cat, stmt, fsid, out);
	else if (ret == 0)
		ret = catalog_set_error(cat, -ENOENT, "no inode %s/%" PRIu64,
					fsid, ino);
	catalog_finalize(cat, stmt);
	return ret;
}

/*
 * Inodes are stored as sqlite's signed integers: inos past 2^63 sort
 * before the others.  scoutfs inode numbers never get there, so the walk
 * simply starts at first_ino in that signed order.
 */
int hsm_catalog_inode_foreach_from(struct hsm_catalog *cat, const char *fsid,
				   uint64_t first_ino,
				   hsm_catalog_inode_fn fn, void *arg)
{
	struct hsm_catalog_inode *inode;
	sqlite3_stmt *stmt;
	int64_t fs = 0;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_fs_id(cat, fsid, &fs);
	if (ret)
		return ret;
	inode = malloc(sizeof(*inode));
	if (!inode)
		return catalog_set_error(cat, -ENOMEM,
					 "inode walk: out of memory");
	ret = catalog_prepare(cat,
		"SELECT " INODE_COLUMNS " FROM inodes WHERE fs = ?1"
		" AND ino >= ?2 ORDER BY ino", &stmt, "walk inodes");
	if (ret) {
		free(inode);
		return ret;
	}
	sqlite3_bind_int64(stmt, 1, fs);
	bind_u64(stmt, 2, first_ino);
	while ((ret = catalog_step_row(cat, stmt, "walk inodes")) == 1) {
		ret = catalog_inode_from_row(cat, stmt, fsid, inode);
		if (!ret)
			ret = fn(arg, inode);
		if (ret)
			break;
	}
	catalog_finalize(cat, stmt);
	free(inode);
	return ret;
}

int hsm_catalog_inode_foreach(struct hsm_catalog *cat, const char *fsid,
			      hsm_catalog_inode_fn fn, void *arg)
{
	return hsm_catalog_inode_foreach_from(cat, fsid, 0, fn, arg);
}

int hsm_catalog_inode_count(struct hsm_catalog *cat, const char *fsid,
			    uint64_t *count)
{
	sqlite3_stmt *stmt;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT nr_inodes FROM filesystems WHERE fsid = ?1", &stmt,
		"count inodes");
	if (ret)
		return ret;
	bind_text(stmt, 1, fsid);
	ret = catalog_step_row(cat, stmt, "count inodes");
	if (ret == 1) {
		*count = (uint64_t)sqlite3_column_int64(stmt, 0);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no filesystem %s", fsid);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* ---- checksums and locations as stored ---- */

/*
 * Checksums are stored as their HSM_CHECKSUM_BYTES bytes; the text form
 * ("sha256:...") is what callers see.  A migrated value that does not
 * parse stays the text it was, and reads back as that text.
 */
/* buf holds HSM_CHECKSUM_TEXT_MAX bytes */
static void catalog_column_checksum(sqlite3_stmt *stmt, int col, char *buf)
{
	struct hsm_checksum sum;

	if (sqlite3_column_type(stmt, col) == SQLITE_BLOB &&
	    sqlite3_column_bytes(stmt, col) == (int)sizeof(sum.bytes)) {
		memcpy(sum.bytes, sqlite3_column_blob(stmt, col),
		       sizeof(sum.bytes));
		hsm_checksum_to_text(&sum, buf);
		return;
	}
	catalog_column_text(stmt, col, buf, HSM_CHECKSUM_TEXT_MAX);
}

/* SQL hsm_checksum_blob(text): the migration to version 6 uses it */
static void sql_checksum_blob(sqlite3_context *ctx, int argc,
			      sqlite3_value **argv)
{
	const unsigned char *text = sqlite3_value_text(argv[0]);
	struct hsm_checksum sum;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (text && hsm_checksum_from_text((const char *)text, &sum) == 0)
		sqlite3_result_blob(ctx, sum.bytes, sizeof(sum.bytes),
				    SQLITE_TRANSIENT);
	else
		sqlite3_result_value(ctx, argv[0]);
}

/*
 * Location packing.  Backends spell their locations from the copy they
 * hold: the directory backend "aa/bb/FSID-INO16-DV16-COPY8-RANDOM16",
 * S3 "PREFIX FSID/INO16/DV-NONCE16", tape "tape:LABEL:SEG:OFF:LEN...".
 * Stored verbatim that is 60-100 bytes per copy, most of it the fsid,
 * ino, data_version and copy number its rows already have.  So a
 * location is stored as a BLOB packed against its copy: bytes 0x01 to
 * 0x09 each stand for one of those spelled out (the fsid; ino and
 * data_version in 16-digit hex or decimal; the size in decimal; the copy
 * number in 8-digit hex or decimal; the 64 hex digits of the file's
 * checksum, which a packed copy's location repeats: pack.h), 0x11 is
 * followed by the 8 bytes of
 * a run of 16 lowercase hex digits, 0x10 N by the N bytes of a run of 2N,
 * 0x00 X is the byte X (which a location may hold, but never does), and
 * every other byte is itself.  Unpacking against the same copy gives
 * back the exact string.  A location packing would not shorten, and
 * every location migrated from version 5, is stored as TEXT verbatim;
 * readers tell the two apart by the value's type.
 */
enum {
	LOC_FSID = 1,
	LOC_INO_HEX,
	LOC_DV_HEX,
	LOC_INO_DEC,
	LOC_DV_DEC,
	LOC_SIZE_DEC,
	LOC_COPY_HEX,
	LOC_COPY_DEC,
	LOC_CHECKSUM_HEX,	/* the file's checksum: a packed copy names it */
	LOC_NR_TOKENS,
};
#define LOC_ESCAPE 0x00
#define LOC_HEX_RUN 0x10
#define LOC_HEX_RUN16 0x11
#define LOC_LITERAL_MIN 0x20	/* bytes below are escaped */
#define LOC_TOKEN_MAX 80	/* a checksum's 64 hex digits fit */
#define LOC_HEX_RUN_MIN 3	/* bytes: shorter runs do not pay */
#define LOC_HEX_RUN_MAX 255
/* packing never makes more than this of a location: escapes double */
#define LOC_PACKED_MAX (2 * HSM_LOCATION_MAX)

_Static_assert(LOC_NR_TOKENS <= LOC_HEX_RUN, "token codes below run codes");

/* What a copy's location is packed against: its file and copy number. */
struct catalog_loc_ctx {
	char tok[LOC_NR_TOKENS][LOC_TOKEN_MAX];
	size_t len[LOC_NR_TOKENS];
};

/* "%0*" PRIx64 */
static void loc_hex(char *out, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = digits - 1; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
	out[digits] = '\0';
}

/* "%" PRIu64 */
static void loc_decimal(char *out, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

static void loc_ctx_init(struct catalog_loc_ctx *lc, const char *fsid,
			 uint64_t ino, uint64_t data_version, uint64_t size,
			 unsigned int copy_num)
{
	int i;

	/* by hand: this runs for every copy written or read */
	lc->tok[LOC_FSID][0] = '\0';
	if (fsid && strlen(fsid) < LOC_TOKEN_MAX)
		strcpy(lc->tok[LOC_FSID], fsid);
	loc_hex(lc->tok[LOC_INO_HEX], ino, 16);
	loc_hex(lc->tok[LOC_DV_HEX], data_version, 16);
	loc_decimal(lc->tok[LOC_INO_DEC], ino);
	loc_decimal(lc->tok[LOC_DV_DEC], data_version);
	loc_decimal(lc->tok[LOC_SIZE_DEC], size);
	loc_hex(lc->tok[LOC_COPY_HEX], copy_num, 8);
	loc_decimal(lc->tok[LOC_COPY_DEC], copy_num);
	lc->tok[LOC_CHECKSUM_HEX][0] = '\0';
	for (i = 1; i < LOC_NR_TOKENS; i++)
		lc->len[i] = strlen(lc->tok[i]);
}

/*
 * The file's checksum text ("sha256:<hex>", "" when none yet) as a token.
 * A file's checksum never changes once set, so what was packed against
 * it unpacks against it.
 */
static void loc_ctx_set_checksum(struct catalog_loc_ctx *lc,
				 const char *checksum)
{
	size_t n = strlen(HSM_CHECKSUM_PREFIX);

	lc->tok[LOC_CHECKSUM_HEX][0] = '\0';
	if (checksum && !strncmp(checksum, HSM_CHECKSUM_PREFIX, n) &&
	    strlen(checksum + n) < LOC_TOKEN_MAX)
		strcpy(lc->tok[LOC_CHECKSUM_HEX], checksum + n);
	lc->len[LOC_CHECKSUM_HEX] = strlen(lc->tok[LOC_CHECKSUM_HEX]);
}

/* The longest token spelled at s, 0 if none (a token costs 1 byte). */
static int loc_token_at(const struct catalog_loc_ctx *lc, const char *s,
			size_t *len)
{
	int best = 0;
	int i;

	*len = 0;
	for (i = 1; i < LOC_NR_TOKENS; i++) {
		if (lc->len[i] > 1 && lc->len[i] > *len &&
		    strncmp(s, lc->tok[i], lc->len[i]) == 0) {
			best = i;
			*len = lc->len[i];
		}
	}
	return best;
}

static int loc_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Pack loc into out (LOC_PACKED_MAX bytes); returns the packed length. */
static size_t loc_pack(const struct catalog_loc_ctx *lc, const char *loc,
		       unsigned char *out)
{
	size_t o = 0;
	size_t i = 0;
	size_t len;
	size_t n;
	int tok;

	while (loc[i]) {
		tok = loc_token_at(lc, loc + i, &len);
		if (tok) {
			out[o++] = (unsigned char)tok;
			i += len;
			continue;
		}
		/* a hex run, up to where a token starts */
		for (n = 0; n < 2 * LOC_HEX_RUN_MAX &&
		     loc_hex_value(loc[i + n]) >= 0; n++)
			if (n && loc_token_at(lc, loc + i + n, &len))
				break;
		n /= 2;
		if (n >= LOC_HEX_RUN_MIN) {
			if (n == 8) {
				out[o++] = LOC_HEX_RUN16;
			} else {
				out[o++] = LOC_HEX_RUN;
				out[o++] = (unsigned char)n;
			}
			for (; n; n--, i += 2)
				out[o++] = (unsigned char)(loc_hex_value(loc[i]) << 4 |
							   loc_hex_value(loc[i + 1]));
			continue;
		}
		if ((unsigned char)loc[i] < LOC_LITERAL_MIN)
			out[o++] = LOC_ESCAPE;
		out[o++] = (unsigned char)loc[i++];
	}
	return o;
}

/* 0, or -EUCLEAN for a packed value this code did not write */
static int loc_unpack(const struct catalog_loc_ctx *lc, const unsigned char *in,
		      size_t in_len, char *out, size_t out_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	size_t i = 0;
	size_t n;
	int code;

	while (i < in_len) {
		code = in[i++];
		if (code >= LOC_LITERAL_MIN || code == LOC_ESCAPE) {
			if (code == LOC_ESCAPE) {
				if (i >= in_len || !in[i] ||
				    in[i] >= LOC_LITERAL_MIN)
					return -EUCLEAN;
				code = in[i++];
			}
			if (o + 1 >= out_len)
				return -EUCLEAN;
			out[o++] = (char)code;
		} else if (code < LOC_NR_TOKENS) {
			if (!lc->len[code] || o + lc->len[code] >= out_len)
				return -EUCLEAN;
			memcpy(out + o, lc->tok[code], lc->len[code]);
			o += lc->len[code];
		} else if (code == LOC_HEX_RUN || code == LOC_HEX_RUN16) {
			if (code == LOC_HEX_RUN16) {
				n = 8;
			} else {
				if (i >= in_len)
					return -EUCLEAN;
				n = in[i++];
			}
			if (i + n > in_len || o + 2 * n >= out_len)
				return -EUCLEAN;
			for (; n; n--, i++) {
				out[o++] = hex[in[i] >> 4];
				out[o++] = hex[in[i] & 15];
			}
		} else {
			return -EUCLEAN;
		}
	}
	if (o >= out_len)
		return -EUCLEAN;
	out[o] = '\0';
	return 0;
}

/* Bind loc packed against its file, or as text when packing does not pay. */
static void bind_location(sqlite3_stmt *stmt, int i,
			  const struct catalog_loc_ctx *lc, const char *loc)
{
	unsigned char packed[LOC_PACKED_MAX];
	size_t len = strlen(loc);
	size_t n;

	if (len >= HSM_LOCATION_MAX) {
		bind_text(stmt, i, loc);
		return;
	}
	n = loc_pack(lc, loc, packed);
	if (n < len)
		sqlite3_bind_blob(stmt, i, packed, (int)n, SQLITE_TRANSIENT);
	else
		bind_text(stmt, i, loc);
}

static int catalog_column_location(sqlite3_stmt *stmt, int col,
				   const struct catalog_loc_ctx *lc, char *out,
				   size_t out_len)
{
	if (sqlite3_column_type(stmt, col) != SQLITE_BLOB) {
		catalog_column_text(stmt, col, out, out_len);
		return 0;
	}
	return loc_unpack(lc, sqlite3_column_blob(stmt, col),
			  (size_t)sqlite3_column_bytes(stmt, col), out,
			  out_len);
}

/*
 * ---- names in lookup tables ----
 *
 * Backend names and volume labels are stored once, rows carry their id.
 * Ids of backends (a handful, used on every copy) are cached per
 * connection like filesystem ids, and dropped on rollback.
 */
static int catalog_name_id(struct hsm_catalog *cat, const char *select_sql,
			   const char *insert_sql, const char *name,
			   int64_t *id)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat, select_sql, &stmt, "find name");
	if (ret)
		return ret;
	bind_text(stmt, 1, name);
	ret = catalog_step_row(cat, stmt, "find name");
	if (ret == 1)
		*id = sqlite3_column_int64(stmt, 0);
	catalog_finalize(cat, stmt);
	if (ret)
		return ret < 0 ? ret : 0;
	/* a new name is a write before the call's own */
	ret = catalog_protect(cat);
	if (!ret)
		ret = catalog_prepare(cat, insert_sql, &stmt, "add name");
	if (ret)
		return ret;
	bind_text(stmt, 1, name);
	ret = catalog_step_done(cat, stmt, "add name");
	if (!ret)
		*id = sqlite3_last_insert_rowid(cat->db);
	return ret;
}

static int catalog_backend_id(struct hsm_catalog *cat, const char *name,
			      int64_t *id)
{
	unsigned int i;
	int ret;

	if (!name || !*name)
		return catalog_set_error(cat, -EINVAL, "empty backend name");
	for (i = 0; i < CATALOG_BACKEND_CACHE; i++) {
		if (cat->backend_cache[i].id &&
		    strcmp(cat->backend_cache[i].name, name) == 0) {
			*id = cat->backend_cache[i].id;
			return 0;
		}
	}
	ret = catalog_name_id(cat, "SELECT id FROM backends WHERE name = ?1",
			      "INSERT INTO backends (name) VALUES (?1)", name,
			      id);
	if (!ret && strlen(name) < HSM_CATALOG_NAME_MAX) {
		i = cat->backend_cache_next++ % CATALOG_BACKEND_CACHE;
		strcpy(cat->backend_cache[i].name, name);
		cat->backend_cache[i].id = *id;
	}
	return ret;
}

static int catalog_label_id(struct hsm_catalog *cat, const char *label,
			    int64_t *id)
{
	if (!label || !*label)
		return catalog_set_error(cat, -EINVAL, "empty volume label");
	return catalog_name_id(cat, "SELECT id FROM labels WHERE label = ?1",
			       "INSERT INTO labels (label) VALUES (?1)", label,
			       id);
}

/* ---- file versions ---- */

#define FILE_COLUMNS \
	"f.id, s.fsid, f.ino, f.data_version, f.size, f.mtime, f.checksum," \
	" f.path FROM files f JOIN filesystems s ON s.id = f.fs"

static void catalog_file_from_row(sqlite3_stmt *stmt,
				  struct hsm_catalog_file *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(stmt, 0);
	catalog_column_text(stmt, 1, out->fsid, sizeof(out->fsid));
	out->ino = (uint64_t)sqlite3_column_int64(stmt, 2);
	out->data_version = (uint64_t)sqlite3_column_int64(stmt, 3);
	out->size = (uint64_t)sqlite3_column_int64(stmt, 4);
	out->mtime_sec = sqlite3_column_int64(stmt, 5);
	catalog_column_checksum(stmt, 6, out->checksum);
	catalog_column_text(stmt, 7, out->path, sizeof(out->path));
}

int hsm_catalog_file_record(struct hsm_catalog *cat,
			    struct hsm_catalog_file *file)
{
	sqlite3_stmt *stmt;
	int64_t fs = 0;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_fs_id(cat, file->fsid, &fs);
	if (ret == -ENOENT)
		catalog_set_error(cat, ret,
				  "file %s/%" PRIu64 " version %" PRIu64 ": no filesystem %s",
				  file->fsid, file->ino, file->data_version,
				  file->fsid);
	if (ret)
		return catalog_end(cat, ret);
	ret = catalog_prepare(cat,
		"INSERT INTO files (fs, ino, data_version, size, mtime, path)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (fs, ino, data_version) DO UPDATE"
		" SET size = ?4, mtime = ?5, path = ?6 RETURNING id",
		&stmt, "record file");
	if (ret)
		return catalog_end(cat, ret);
	sqlite3_bind_int64(stmt, 1, fs);
	bind_u64(stmt, 2, file->ino);
	bind_u64(stmt, 3, file->data_version);
	bind_u64(stmt, 4, file->size);
	sqlite3_bind_int64(stmt, 5, file->mtime_sec);
	if (file->path[0])
		sqlite3_bind_text(stmt, 6, file->path, -1, SQLITE_STATIC);
	ret = catalog_step_row(cat, stmt, "record file");
	if (ret == 1) {
		file->id = sqlite3_column_int64(stmt, 0);
		/* RETURNING applies the change once stepped to the end */
		ret = catalog_step_row(cat, stmt, "record file");
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -EIO, "record file: no id");
	}
	catalog_finalize(cat, stmt);
	return catalog_end(cat, ret);
}

int hsm_catalog_file_get(struct hsm_catalog *cat, int64_t file_id,
			 struct hsm_catalog_file *out)
{
	sqlite3_stmt *stmt;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT " FILE_COLUMNS " WHERE f.id = ?1", &stmt, "read file");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, file_id);
	ret = catalog_step_row(cat, stmt, "read file");
	if (ret == 1) {
		catalog_file_from_row(stmt, out);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no file id %" PRId64,
					file_id);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_file_find(struct hsm_catalog *cat, const char *fsid,
			  uint64_t ino, uint64_t data_version,
			  struct hsm_catalog_file *out)
{
	sqlite3_stmt *stmt;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT " FILE_COLUMNS
		" WHERE f.fs = (SELECT id FROM filesystems WHERE fsid = ?1)"
		" AND f.ino = ?2 AND f.data_version = ?3", &stmt, "find file");
	if (ret)
		return ret;
	bind_text(stmt, 1, fsid);
	bind_u64(stmt, 2, ino);
	bind_u64(stmt, 3, data_version);
	ret = catalog_step_row(cat, stmt, "find file");
	if (ret == 1) {
		catalog_file_from_row(stmt, out);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT,
					"no file %s/%" PRIu64 " version %" PRIu64,
					fsid, ino, data_version);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* ---- copies ---- */

/*
 * A copy id is file_id << 16 | seq, seq counting the copies ever begun
 * for the file version: the id is the copies table's integer key, so a
 * file's copies are one range of it and the file id is in the key.
 */
#define COPY_SEQ_BITS 16
#define COPY_SEQ_MAX ((1 << COPY_SEQ_BITS) - 1)

static int64_t copy_id_make(int64_t file_id, int64_t seq)
{
	return (int64_t)((uint64_t)file_id << COPY_SEQ_BITS) | seq;
}

#define COPY_COLUMNS \
	"c.id >> 16, c.id & 65535, c.copy_num, b.name, c.location, c.state," \
	" c.created, c.created + c.verified, s.fsid, f.ino, f.data_version," \
	" f.size, c.pack, p.location, f.checksum"
#define COPY_PACK_JOIN " LEFT JOIN packs p ON p.id = c.pack"
#define COPY_JOINS \
	" JOIN backends b ON b.id = c.backend" \
	" JOIN files f ON f.id = c.id >> 16" \
	" JOIN filesystems s ON s.id = f.fs" COPY_PACK_JOIN

static int catalog_copy_from_row(struct hsm_catalog *cat, sqlite3_stmt *stmt,
				 struct hsm_catalog_copy *out)
{
	char checksum[HSM_CHECKSUM_TEXT_MAX];
	struct catalog_loc_ctx lc;
	int state = sqlite3_column_int(stmt, 5);
	int ret;

	memset(out, 0, sizeof(*out));
	out->file_id = sqlite3_column_int64(stmt, 0);
	out->id = copy_id_make(out->file_id, sqlite3_column_int64(stmt, 1));
	if (state < 0 || (size_t)state >= ARRAY_SIZE(copy_state_names))
		return catalog_set_error(cat, -EUCLEAN,
					 "copy %" PRId64 ": unknown state %d",
					 out->id, state);
	out->copy_num = (unsigned int)sqlite3_column_int(stmt, 2);
	catalog_column_text(stmt, 3, out->backend, sizeof(out->backend));
	loc_ctx_init(&lc, (const char *)sqlite3_column_text(stmt, 8),
		     (uint64_t)sqlite3_column_int64(stmt, 9),
		     (uint64_t)sqlite3_column_int64(stmt, 10),
		     (uint64_t)sqlite3_column_int64(stmt, 11), out->copy_num);
	catalog_column_checksum(stmt, 14, checksum);
	loc_ctx_set_checksum(&lc, checksum);
	if (sqlite3_column_type(stmt, 12) != SQLITE_NULL) {
		/* a packed copy: its pack's location, then its place in it */
		size_t n;

		out->pack_id = sqlite3_column_int64(stmt, 12);
		catalog_column_text(stmt, 13, out->location,
				    sizeof(out->location));
		n = strlen(out->location);
		ret = catalog_column_location(stmt, 4, &lc, out->location + n,
					      sizeof(out->location) - n);
	} else {
		ret = catalog_column_location(stmt, 4, &lc, out->location,
					      sizeof(out->location));
	}
	if (ret)
		return catalog_set_error(cat, ret,
					 "copy %" PRId64 ": corrupt location",
					 out->id);
	out->state = (enum hsm_copy_state)state;
	out->created = sqlite3_column_int64(stmt, 6);
	out->verified = sqlite3_column_int64(stmt, 7);
	return 0;
}

static int catalog_copy_read(struct hsm_catalog *cat, int64_t copy_id,
			     struct hsm_catalog_copy *out)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT " COPY_COLUMNS " FROM copies c" COPY_JOINS
		" WHERE c.id = ?1", &stmt, "read copy");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, copy_id);
	ret = catalog_step_row(cat, stmt, "read copy");
	if (ret == 1)
		ret = catalog_copy_from_row(cat, stmt, out);
	else if (ret == 0)
		ret = catalog_set_error(cat, -ENOENT, "no copy id %" PRId64,
					copy_id);
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_copy_get(struct hsm_catalog *cat, int64_t copy_id,
			 struct hsm_catalog_copy *out)
{
	cat->error[0] = '\0';
	return catalog_copy_read(cat, copy_id, out);
}

/*
 * The next seq of file_id's copies, and whether copy_num already has a
 * live ('writing' or 'valid') copy: one range of the copies table's ids
 * (and the file must exist: no foreign key can name it in an id).  The
 * transaction holds the write lock, so no other begin can slip between
 * this check and the insert: at most one live copy per copy number.
 */
static int catalog_copy_next_seq(struct hsm_catalog *cat, int64_t file_id,
				 unsigned int copy_num, int64_t *seq,
				 bool *is_live)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT coalesce(max(id & 65535), 0) + 1,"
		" coalesce(max(copy_num = ?2 AND state IN (0, 1)), 0),"
		" (SELECT count(*) FROM files WHERE id = ?1) FROM copies"
		" WHERE id BETWEEN (?1 << 16) AND ((?1 << 16) | 65535)",
		&stmt, "next copy");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, file_id);
	sqlite3_bind_int(stmt, 2, (int)copy_num);
	ret = catalog_step_row(cat, stmt, "next copy");
	if (ret == 1) {
		*seq = sqlite3_column_int64(stmt, 0);
		*is_live = sqlite3_column_int(stmt, 1) != 0;
		/* copies name their file by id: it must exist */
		ret = sqlite3_column_int(stmt, 2) ? 0 :
			catalog_set_error(cat, -ENOENT,
					  "copy %u of file id %" PRId64 ": no such file",
					  copy_num, file_id);
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -EIO, "next copy: no result");
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_copy_begin(struct hsm_catalog *cat, int64_t file_id,
			   unsigned int copy_num, const char *backend,
			   int64_t *copy_id)
{
	sqlite3_stmt *stmt;
	int64_t backend_id = 0;
	int64_t seq = 0;
	bool is_live = false;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_backend_id(cat, backend, &backend_id);
	if (!ret)
		ret = catalog_copy_next_seq(cat, file_id, copy_num, &seq,
					    &is_live);
	if (ret)
		return catalog_end(cat, ret);
	if (is_live)
		return catalog_end(cat, catalog_set_error(cat, -EEXIST,
				   "copy %u of file id %" PRId64 " is already being written or valid",
				   copy_num, file_id));
	if (file_id > (INT64_MAX >> COPY_SEQ_BITS))
		return catalog_end(cat, catalog_set_error(cat, -EOVERFLOW,
				   "file id %" PRId64 " is too large for copy ids",
				   file_id));
	if (seq > COPY_SEQ_MAX)
		return catalog_end(cat, catalog_set_error(cat, -ENOSPC,
				   "file id %" PRId64 ": all %d copy slots used; record a new version",
				   file_id, COPY_SEQ_MAX));
	ret = catalog_prepare(cat,
		"INSERT INTO copies (id, copy_num, backend, state, created)"
		" VALUES (?1, ?2, ?3, 0, ?4)", &stmt, "add copy");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, copy_id_make(file_id, seq));
		sqlite3_bind_int(stmt, 2, (int)copy_num);
		sqlite3_bind_int64(stmt, 3, backend_id);
		sqlite3_bind_int64(stmt, 4, catalog_now());
		ret = catalog_step_done(cat, stmt, "add copy");
	}
	if (ret == -ENOENT)
		catalog_set_error(cat, ret, "copy %u of file id %" PRId64 ": no such file",
				  copy_num, file_id);
	else if (ret == -EINVAL)
		catalog_set_error(cat, ret, "copy number %u is invalid",
				  copy_num);
	if (!ret)
		*copy_id = copy_id_make(file_id, seq);
	return catalog_end(cat, ret);
}

/* Run an UPDATE on one copy; -EINVAL naming the state if it matched none. */
static int catalog_copy_transition(struct hsm_catalog *cat, int64_t copy_id,
				   const char *sql, const char *what)
{
	struct hsm_catalog_copy copy;
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_prepare(cat, sql, &stmt, what);
	if (!ret) {
		/* ?1 is the copy and ?2, where used, the time */
		sqlite3_bind_int64(stmt, 1, copy_id);
		if (sqlite3_bind_parameter_count(stmt) >= 2)
			sqlite3_bind_int64(stmt, 2, catalog_now());
		ret = catalog_step_done(cat, stmt, what);
	}
	if (!ret && sqlite3_changes(cat->db) == 0) {
		ret = catalog_copy_read(cat, copy_id, &copy);
		if (!ret)
			ret = catalog_set_error(cat, -EINVAL,
						"copy id %" PRId64 ": cannot %s a copy that is %s%s",
						copy_id, what,
						hsm_copy_state_name(copy.state),
						copy.state == HSM_COPY_WRITING ?
						" and not yet written" : "");
	}
	return catalog_end(cat, ret);
}

int hsm_catalog_copy_verified(struct hsm_catalog *cat, int64_t copy_id)
{
	return catalog_copy_transition(cat, copy_id,
		"UPDATE copies SET state = 1, verified = ?2 - created"
		" WHERE id = ?1 AND (state = 1 OR"
		" (state = 0 AND location IS NOT NULL))",
		"mark verified");
}

int hsm_catalog_copy_mark_bad(struct hsm_catalog *cat, int64_t copy_id)
{
	return catalog_copy_transition(cat, copy_id,
		"UPDATE copies SET state = 2 WHERE id = ?1"
		" AND state IN (0, 1, 2)",
		"mark bad");
}

int hsm_catalog_copy_mark_deleted(struct hsm_catalog *cat, int64_t copy_id)
{
	return catalog_copy_transition(cat, copy_id,
		"UPDATE copies SET state = 3 WHERE id = ?1 AND state != 3",
		"mark deleted");
}

/* pack_id 0: the copy's own object; else location is its place in it */
static int catalog_copy_store_location(struct hsm_catalog *cat,
				       int64_t copy_id,
				       const struct catalog_loc_ctx *lc,
				       const char *location,
				       enum hsm_copy_state state,
				       int64_t pack_id)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"UPDATE copies SET location = ?2, state = ?3, pack = ?4"
		" WHERE id = ?1", &stmt, "store copy location");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, copy_id);
	bind_location(stmt, 2, lc, location);
	sqlite3_bind_int(stmt, 3, (int)state);
	if (pack_id)
		sqlite3_bind_int64(stmt, 4, pack_id);
	else
		sqlite3_bind_null(stmt, 4);
	return catalog_step_done(cat, stmt, "store copy location");
}

/* What recording a write needs: the copy's state and its file. */
struct catalog_copy_write_info {
	int state;
	bool has_location;
	int64_t file_id;
	char checksum[HSM_CHECKSUM_TEXT_MAX];	/* the file's, "" if none */
	struct catalog_loc_ctx lc;
};

static int catalog_copy_write_info(struct hsm_catalog *cat, int64_t copy_id,
				   struct catalog_copy_write_info *info)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT c.state, c.location IS NOT NULL, f.checksum, s.fsid,"
		" f.ino, f.data_version, f.size, c.id >> 16, c.copy_num"
		" FROM copies c"
		" JOIN files f ON f.id = c.id >> 16"
		" JOIN filesystems s ON s.id = f.fs"
		" WHERE c.id = ?1", &stmt, "read copy");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, copy_id);
	ret = catalog_step_row(cat, stmt, "read copy");
	if (ret == 1) {
		info->state = sqlite3_column_int(stmt, 0);
		info->has_location = sqlite3_column_int(stmt, 1) != 0;
		catalog_column_checksum(stmt, 2, info->checksum);
		loc_ctx_init(&info->lc, (const char *)sqlite3_column_text(stmt, 3),
			     (uint64_t)sqlite3_column_int64(stmt, 4),
			     (uint64_t)sqlite3_column_int64(stmt, 5),
			     (uint64_t)sqlite3_column_int64(stmt, 6),
			     (unsigned int)sqlite3_column_int(stmt, 8));
		loc_ctx_set_checksum(&info->lc, info->checksum);
		info->file_id = sqlite3_column_int64(stmt, 7);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no copy id %" PRId64,
					copy_id);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* The location of pack_id into out; 0, -ENOENT, or -EINVAL once deleted. */
static int catalog_pack_location(struct hsm_catalog *cat, int64_t pack_id,
				 char *out, size_t len)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT location, state FROM packs WHERE id = ?1", &stmt,
		"read pack");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, pack_id);
	ret = catalog_step_row(cat, stmt, "read pack");
	if (ret == 1) {
		catalog_column_text(stmt, 0, out, len);
		ret = sqlite3_column_int(stmt, 1) == 0 ? 0 :
		      catalog_set_error(cat, -EINVAL,
					"pack id %" PRId64 " is deleted",
					pack_id);
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no pack id %" PRId64,
					pack_id);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

static int catalog_copy_write(struct hsm_catalog *cat, int64_t copy_id,
			      int64_t pack_id, const char *location,
			      const struct hsm_checksum *checksum)
{
	struct catalog_copy_write_info info;
	char got[HSM_CHECKSUM_TEXT_MAX];
	char pack[HSM_LOCATION_MAX];
	sqlite3_stmt *stmt;
	int ret;

	if (!location || !*location) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "copy id %" PRId64 ": empty location",
					 copy_id);
	}
	hsm_checksum_to_text(checksum, got);
	ret = catalog_begin(cat);
	if (ret)
		return ret;
	if (pack_id) {
		/* only the member's place in the pack is stored */
		ret = catalog_pack_location(cat, pack_id, pack, sizeof(pack));
		if (!ret && (strncmp(location, pack, strlen(pack)) ||
			     !location[strlen(pack)]))
			ret = catalog_set_error(cat, -EINVAL,
						"copy id %" PRId64 ": %s is not in pack %s",
						copy_id, location, pack);
		if (ret)
			return catalog_end(cat, ret);
		location += strlen(pack);
	}
	ret = catalog_copy_write_info(cat, copy_id, &info);
	if (!ret && (info.state != HSM_COPY_WRITING || info.has_location))
		ret = catalog_set_error(cat, -EINVAL,
					"copy id %" PRId64 ": cannot record a write for a copy that is %s%s",
					copy_id, hsm_copy_state_name(info.state),
					info.has_location ? " and already written" : "");
	if (ret)
		return catalog_end(cat, ret);

	if (info.checksum[0] && strcmp(info.checksum, got) != 0) {
		/* keep the location so the recycler can remove the object */
		ret = catalog_copy_store_location(cat, copy_id, &info.lc,
						  location, HSM_COPY_BAD,
						  pack_id);
		ret = catalog_end(cat, ret);
		if (ret)
			return ret;
		return catalog_set_error(cat, -EBADMSG,
					 "copy id %" PRId64 " of file id %" PRId64 " at %s: checksum %s differs from the file's %s; copy marked bad",
					 copy_id, info.file_id, location, got,
					 info.checksum);
	}
	if (!info.checksum[0]) {
		/* the first copy sets the file's checksum: pack against it */
		loc_ctx_set_checksum(&info.lc, got);
		ret = catalog_protect(cat);
		if (!ret)
			ret = catalog_prepare(cat,
				"UPDATE files SET checksum = ?2 WHERE id = ?1",
				&stmt, "set file checksum");
		if (!ret) {
			sqlite3_bind_int64(stmt, 1, info.file_id);
			sqlite3_bind_blob(stmt, 2, checksum->bytes,
					  sizeof(checksum->bytes),
					  SQLITE_STATIC);
			ret = catalog_step_done(cat, stmt, "set file checksum");
		}
	}
	if (!ret)
		ret = catalog_copy_store_location(cat, copy_id, &info.lc,
						  location, HSM_COPY_WRITING,
						  pack_id);
	return catalog_end(cat, ret);
}

int hsm_catalog_copy_written(struct hsm_catalog *cat, int64_t copy_id,
			     const char *location,
			     const struct hsm_checksum *checksum)
{
	return catalog_copy_write(cat, copy_id, 0, location, checksum);
}

int hsm_catalog_copy_written_packed(struct hsm_catalog *cat, int64_t copy_id,
				    int64_t pack_id, const char *location,
				    const struct hsm_checksum *checksum)
{
	if (pack_id <= 0) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "copy id %" PRId64 ": no pack id",
					 copy_id);
	}
	return catalog_copy_write(cat, copy_id, pack_id, location, checksum);
}

/* ---- packs ---- */

int hsm_catalog_pack_add(struct hsm_catalog *cat, const char *backend,
			 const char *location, uint64_t bytes,
			 int64_t *pack_id)
{
	sqlite3_stmt *stmt;
	int64_t backend_id = 0;
	int ret;

	cat->error[0] = '\0';
	if (!location || !*location || strlen(location) >= HSM_LOCATION_MAX)
		return catalog_set_error(cat, -EINVAL,
					 "pack on %s: invalid location", backend);
	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_backend_id(cat, backend, &backend_id);
	if (!ret)
		ret = catalog_prepare(cat,
			"INSERT INTO packs (backend, location, bytes, created)"
			" VALUES (?1, ?2, ?3, ?4)", &stmt, "add pack");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, backend_id);
		bind_text(stmt, 2, location);
		bind_u64(stmt, 3, bytes);
		sqlite3_bind_int64(stmt, 4, catalog_now());
		ret = catalog_step_done(cat, stmt, "add pack");
	}
	if (!ret)
		*pack_id = sqlite3_last_insert_rowid(cat->db);
	return catalog_end(cat, ret);
}

#define PACK_COLUMNS \
	"p.id, b.name, p.location, p.bytes, p.members, p.live, p.state," \
	" p.created"
#define PACK_JOINS " JOIN backends b ON b.id = p.backend"

static void catalog_pack_from_row(sqlite3_stmt *stmt,
				  struct hsm_catalog_pack *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(stmt, 0);
	catalog_column_text(stmt, 1, out->backend, sizeof(out->backend));
	catalog_column_text(stmt, 2, out->location, sizeof(out->location));
	out->bytes = (uint64_t)sqlite3_column_int64(stmt, 3);
	out->members = (uint64_t)sqlite3_column_int64(stmt, 4);
	out->live = (uint64_t)sqlite3_column_int64(stmt, 5);
	out->is_deleted = sqlite3_column_int(stmt, 6) != 0;
	out->created = sqlite3_column_int64(stmt, 7);
}

int hsm_catalog_pack_get(struct hsm_catalog *cat, int64_t pack_id,
			 struct hsm_catalog_pack *out)
{
	sqlite3_stmt *stmt;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat, "SELECT " PACK_COLUMNS " FROM packs p" PACK_JOINS
			      " WHERE p.id = ?1",
			      &stmt, "read pack");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, pack_id);
	ret = catalog_step_row(cat, stmt, "read pack");
	if (ret == 1) {
		catalog_pack_from_row(stmt, out);
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no pack id %" PRId64,
					pack_id);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_pack_list_dead(struct hsm_catalog *cat, const char *backend,
			       int64_t after_id, struct hsm_catalog_pack *out,
			       size_t max, size_t *count)
{
	sqlite3_stmt *stmt;
	size_t n = 0;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT " PACK_COLUMNS " FROM packs p INDEXED BY packs_dead"
		PACK_JOINS
		" WHERE p.backend = (SELECT id FROM backends WHERE name = ?1)"
		" AND p.live = 0 AND p.state = 0 AND p.id > ?2"
		" ORDER BY p.id LIMIT ?3", &stmt, "list dead packs");
	if (ret)
		return ret;
	bind_text(stmt, 1, backend);
	sqlite3_bind_int64(stmt, 2, after_id);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)max);
	while (n < max &&
	       (ret = catalog_step_row(cat, stmt, "list dead packs")) == 1)
		catalog_pack_from_row(stmt, &out[n++]);
	catalog_finalize(cat, stmt);
	if (ret < 0)
		return ret;
	*count = n;
	return 0;
}

int hsm_catalog_pack_mark_deleted(struct hsm_catalog *cat, int64_t pack_id)
{
	struct hsm_catalog_pack pack;
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = hsm_catalog_pack_get(cat, pack_id, &pack);
	if (!ret && pack.live)
		ret = catalog_set_error(cat, -EBUSY,
					"pack id %" PRId64 " (%s) still holds %" PRIu64 " live copies",
					pack_id, pack.location, pack.live);
	if (!ret)
		ret = catalog_prepare(cat,
			"UPDATE packs SET state = 1 WHERE id = ?1", &stmt,
			"mark pack deleted");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, pack_id);
		ret = catalog_step_done(cat, stmt, "mark pack deleted");
	}
	return catalog_end(cat, ret);
}

int hsm_catalog_copy_list_valid(struct hsm_catalog *cat, const char *fsid,
				uint64_t ino, uint64_t data_version,
				struct hsm_catalog_copy *out, size_t max,
				size_t *count)
{
	sqlite3_stmt *stmt;
	size_t n = 0;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT " COPY_COLUMNS " FROM files f"
		" JOIN copies c ON c.id BETWEEN (f.id << 16)"
		"  AND ((f.id << 16) | 65535)"
		" JOIN backends b ON b.id = c.backend"
		" JOIN filesystems s ON s.id = f.fs" COPY_PACK_JOIN
		" WHERE f.fs = (SELECT id FROM filesystems WHERE fsid = ?1)"
		" AND f.ino = ?2 AND f.data_version = ?3"
		" AND c.state = 1 AND c.verified IS NOT NULL"
		" ORDER BY c.copy_num, c.id", &stmt, "list valid copies");
	if (ret)
		return ret;
	bind_text(stmt, 1, fsid);
	bind_u64(stmt, 2, ino);
	bind_u64(stmt, 3, data_version);
	while ((ret = catalog_step_row(cat, stmt, "list valid copies")) == 1) {
		if (n < max) {
			ret = catalog_copy_from_row(cat, stmt, &out[n]);
			if (ret)
				break;
		}
		n++;
	}
	catalog_finalize(cat, stmt);
	if (!ret)
		*count = n;
	return ret;
}

int hsm_catalog_copy_set_volume(struct hsm_catalog *cat, int64_t copy_id,
				const char *label)
{
	sqlite3_stmt *stmt;
	int64_t label_id = 0;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_label_id(cat, label, &label_id);
	if (!ret)
		ret = catalog_prepare(cat,
			"UPDATE copies SET volume = ?2 WHERE id = ?1",
			&stmt, "set copy volume");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, copy_id);
		sqlite3_bind_int64(stmt, 2, label_id);
		ret = catalog_step_done(cat, stmt, "set copy volume");
	}
	if (!ret && sqlite3_changes(cat->db) == 0)
		ret = catalog_set_error(cat, -ENOENT, "no copy id %" PRId64,
					copy_id);
	return catalog_end(cat, ret);
}

/* Page through copies selected by one name, in id order after a cursor. */
static int catalog_copy_page(struct hsm_catalog *cat, const char *sql,
			     const char *key, int64_t after_id,
			     struct hsm_catalog_copy *out, size_t max,
			     size_t *count, const char *what)
{
	sqlite3_stmt *stmt;
	size_t n = 0;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat, sql, &stmt, what);
	if (ret)
		return ret;
	bind_text(stmt, 1, key);
	sqlite3_bind_int64(stmt, 2, after_id);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)max);
	while (n < max && (ret = catalog_step_row(cat, stmt, what)) == 1) {
		ret = catalog_copy_from_row(cat, stmt, &out[n]);
		if (ret)
			break;
		n++;
	}
	catalog_finalize(cat, stmt);
	if (ret < 0)
		return ret;
	*count = n;
	return 0;
}

int hsm_catalog_copy_list_on_volume(struct hsm_catalog *cat, const char *label,
				    int64_t after_id,
				    struct hsm_catalog_copy *out, size_t max,
				    size_t *count)
{
	return catalog_copy_page(cat,
		"SELECT " COPY_COLUMNS " FROM copies c INDEXED BY copies_volume"
		COPY_JOINS
		" WHERE c.volume = (SELECT id FROM labels WHERE label = ?1)"
		" AND c.id > ?2 ORDER BY c.id LIMIT ?3",
		label, after_id, out, max, count, "list copies on volume");
}

int hsm_catalog_copy_list_to_recycle(struct hsm_catalog *cat,
				     const char *backend, int64_t after_id,
				     struct hsm_catalog_copy *out, size_t max,
				     size_t *count)
{
	return catalog_copy_page(cat,
		"SELECT " COPY_COLUMNS " FROM copies c INDEXED BY copies_recycle"
		COPY_JOINS
		" WHERE c.backend = (SELECT id FROM backends WHERE name = ?1)"
		" AND c.state = 2 AND c.id > ?2 ORDER BY c.id LIMIT ?3",
		backend, after_id, out, max, count, "list copies to recycle");
}

int hsm_catalog_release_is_safe(struct hsm_catalog *cat, const char *fsid,
				 uint64_t ino, uint64_t data_version,
				 unsigned int required_copies, bool *is_safe)
{
	sqlite3_stmt *stmt;
	int ret;

	cat->error[0] = '\0';
	*is_safe = false;
	/* releasing with no copy required would drop the only data */
	if (required_copies == 0)
		return catalog_set_error(cat, -EINVAL,
					 "release of %s/%" PRIu64 ": zero required copies",
					 fsid, ino);
	ret = catalog_prepare(cat,
		"SELECT count(DISTINCT c.copy_num) FROM files f"
		" JOIN copies c ON c.id BETWEEN (f.id << 16)"
		"  AND ((f.id << 16) | 65535)"
		" WHERE f.fs = (SELECT id FROM filesystems WHERE fsid = ?1)"
		" AND f.ino = ?2 AND f.data_version = ?3"
		" AND f.checksum IS NOT NULL"
		" AND c.state = 1 AND c.verified IS NOT NULL"
		" AND c.location IS NOT NULL"
		" AND c.copy_num BETWEEN 1 AND ?4", &stmt, "release check");
	if (ret)
		return ret;
	bind_text(stmt, 1, fsid);
	bind_u64(stmt, 2, ino);
	bind_u64(stmt, 3, data_version);
	sqlite3_bind_int64(stmt, 4, required_copies);
	ret = catalog_step_row(cat, stmt, "release check");
	if (ret == 1) {
		*is_safe = sqlite3_column_int64(stmt, 0) ==
			   (sqlite3_int64)required_copies;
		ret = 0;
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -EIO, "release check: no result");
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* ---- requests ---- */

static bool request_kind_is_valid(enum hsm_request_kind kind)
{
	return (int)kind >= 0 && (size_t)kind < ARRAY_SIZE(request_kind_names);
}

int hsm_catalog_default_priority(enum hsm_request_kind kind)
{
	return request_kind_is_valid(kind) ? request_default_priority[kind] : 0;
}

#define REQUEST_COLUMNS \
	"id, kind, file_id, priority, state, attempts, last_error, created," \
	" updated, coalesce(owner, 0), coalesce(lease_expires, 0)"

static int catalog_request_read(struct hsm_catalog *cat, int64_t request_id,
				struct hsm_catalog_request *out)
{
	sqlite3_stmt *stmt;
	int k;
	int s;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?1",
		&stmt, "read request");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, request_id);
	ret = catalog_step_row(cat, stmt, "read request");
	if (ret == 0)
		ret = catalog_set_error(cat, -ENOENT,
					"no request id %" PRId64, request_id);
	if (ret != 1)
		goto out;

	k = sqlite3_column_int(stmt, 1);
	s = sqlite3_column_int(stmt, 4);
	if (k < 0 || (size_t)k >= ARRAY_SIZE(request_kind_names) || s < 0 ||
	    (size_t)s >= ARRAY_SIZE(request_state_names)) {
		ret = catalog_set_error(cat, -EUCLEAN,
					"request id %" PRId64 ": unknown kind or state",
					request_id);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(stmt, 0);
	out->kind = (enum hsm_request_kind)k;
	out->file_id = sqlite3_column_int64(stmt, 2);
	out->priority = sqlite3_column_int(stmt, 3);
	out->state = (enum hsm_request_state)s;
	out->attempts = (unsigned int)sqlite3_column_int(stmt, 5);
	catalog_column_text(stmt, 6, out->last_error, sizeof(out->last_error));
	out->created = sqlite3_column_int64(stmt, 7);
	out->updated = sqlite3_column_int64(stmt, 8);
	out->owner = sqlite3_column_int64(stmt, 9);
	out->lease_expires = sqlite3_column_int64(stmt, 10);
	ret = 0;
out:
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_request_get(struct hsm_catalog *cat, int64_t request_id,
			    struct hsm_catalog_request *out)
{
	cat->error[0] = '\0';
	return catalog_request_read(cat, request_id, out);
}

/* The queued or running request of this kind for this file, if any. */
static int catalog_request_find_live(struct hsm_catalog *cat,
				     enum hsm_request_kind kind,
				     int64_t file_id, int64_t *id,
				     int *priority)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_prepare(cat,
		"SELECT id, priority FROM requests WHERE file_id = ?1"
		" AND kind = ?2 AND state IN (0, 1)"
		" ORDER BY id LIMIT 1", &stmt, "find request");
	if (ret)
		return ret;
	sqlite3_bind_int64(stmt, 1, file_id);
	sqlite3_bind_int(stmt, 2, (int)kind);
	ret = catalog_step_row(cat, stmt, "find request");
	if (ret == 1) {
		*id = sqlite3_column_int64(stmt, 0);
		*priority = sqlite3_column_int(stmt, 1);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_request_enqueue(struct hsm_catalog *cat,
				enum hsm_request_kind kind, int64_t file_id,
				int priority, int64_t *request_id)
{
	int64_t now = catalog_now();
	sqlite3_stmt *stmt;
	int64_t id = 0;
	int have_priority = 0;
	int ret;

	if (!request_kind_is_valid(kind)) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "enqueue: invalid request kind %d",
					 (int)kind);
	}
	if (priority == HSM_REQ_PRIORITY_DEFAULT)
		priority = request_default_priority[kind];

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_request_find_live(cat, kind, file_id, &id,
					&have_priority);
	if (ret == 1) {
		ret = 0;
		if (priority > have_priority) {
			ret = catalog_prepare(cat,
				"UPDATE requests SET priority = ?2,"
				" updated = ?3 WHERE id = ?1", &stmt,
				"raise request priority");
			if (!ret) {
				sqlite3_bind_int64(stmt, 1, id);
				sqlite3_bind_int(stmt, 2, priority);
				sqlite3_bind_int64(stmt, 3, now);
				ret = catalog_step_done(cat, stmt,
							"raise request priority");
			}
		}
		goto out;
	}
	if (ret)
		goto out;

	ret = catalog_prepare(cat,
		"INSERT INTO requests (kind, file_id, priority, state, created,"
		" updated) VALUES (?1, ?2, ?3, 0, ?4, ?4)", &stmt,
		"enqueue request");
	if (ret)
		goto out;
	sqlite3_bind_int(stmt, 1, (int)kind);
	sqlite3_bind_int64(stmt, 2, file_id);
	sqlite3_bind_int(stmt, 3, priority);
	sqlite3_bind_int64(stmt, 4, now);
	ret = catalog_step_done(cat, stmt, "enqueue request");
	if (ret == -ENOENT)
		catalog_set_error(cat, ret,
				  "enqueue %s: no file id %" PRId64,
				  request_kind_names[kind], file_id);
	if (!ret)
		id = sqlite3_last_insert_rowid(cat->db);
out:
	ret = catalog_end(cat, ret);
	if (!ret)
		*request_id = id;
	return ret;
}

/*
 * One UPDATE picks and takes the request, so two claimers (processes,
 * nodes) can never both get it, whatever the database's locking: the
 * choice and the change are one statement.  Running requests whose lease
 * ran out count as queued: their owner died or lost contact.
 */
int hsm_catalog_request_claim(struct hsm_catalog *cat,
			      enum hsm_request_kind kind,
			      struct hsm_catalog_request *out)
{
	bool is_any = kind == HSM_REQ_ANY;
	int64_t now = catalog_now();
	sqlite3_stmt *stmt;
	int64_t id = 0;
	int ret;

	if (!is_any && !request_kind_is_valid(kind)) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "claim: invalid request kind %d",
					 (int)kind);
	}
	ret = catalog_begin(cat);
	if (ret)
		return ret;
	/* the claim is read back after it is made: undo both on failure */
	ret = catalog_protect(cat);
	if (ret)
		goto out;
	ret = catalog_prepare(cat,
		"UPDATE requests SET state = 1, owner = ?3,"
		" lease_expires = CASE WHEN ?4 > 0 THEN ?2 + ?4 END,"
		" attempts = attempts + 1, updated = ?2"
		" WHERE id = (SELECT id FROM requests"
		"  WHERE state IN (0, 1) AND (state = 0"
		"   OR (lease_expires IS NOT NULL AND lease_expires < ?2))"
		"  AND (?1 IS NULL OR kind = ?1)"
		"  ORDER BY priority DESC, id LIMIT 1)"
		" RETURNING id", &stmt, "claim request");
	if (ret)
		goto out;
	if (!is_any)
		sqlite3_bind_int(stmt, 1, (int)kind);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, cat->owner);
	sqlite3_bind_int64(stmt, 4, cat->lease_sec);
	ret = catalog_step_row(cat, stmt, "claim request");
	if (ret == 1) {
		id = sqlite3_column_int64(stmt, 0);
		/* RETURNING applies the change once stepped to the end */
		ret = catalog_step_row(cat, stmt, "claim request");
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no queued %s requests",
					is_any ? "" : request_kind_names[kind]);
	}
	catalog_finalize(cat, stmt);
	if (!ret)
		ret = catalog_request_read(cat, id, out);
out:
	return catalog_end(cat, ret);
}

int hsm_catalog_request_renew(struct hsm_catalog *cat, int64_t request_id)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_prepare(cat,
		"UPDATE requests SET lease_expires ="
		" CASE WHEN ?3 > 0 THEN ?2 + ?3 END, updated = ?2"
		" WHERE id = ?1 AND state = 1 AND coalesce(owner, 0) = ?4",
		&stmt,
		"renew lease");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, request_id);
		sqlite3_bind_int64(stmt, 2, catalog_now());
		sqlite3_bind_int64(stmt, 3, cat->lease_sec);
		sqlite3_bind_int64(stmt, 4, cat->owner);
		ret = catalog_step_done(cat, stmt, "renew lease");
	}
	if (!ret && sqlite3_changes(cat->db) == 0)
		ret = catalog_set_error(cat, -ESTALE,
					"request id %" PRId64 ": not running under node %" PRId64 " any more (lease lost)",
					request_id, cat->owner);
	return catalog_end(cat, ret);
}

int hsm_catalog_request_purge(struct hsm_catalog *cat, int64_t keep_sec,
			      unsigned int batch, uint64_t *purged)
{
	int64_t before = catalog_now() - keep_sec;
	sqlite3_stmt *stmt;
	uint64_t total = 0;
	int changed;
	int ret;

	if (!batch)
		batch = HSM_CATALOG_PURGE_BATCH;
	/* one transaction per batch: the write lock is never held long */
	do {
		ret = catalog_begin(cat);
		if (ret)
			break;
		ret = catalog_prepare(cat,
			"DELETE FROM requests WHERE id IN (SELECT id FROM"
			" requests WHERE state IN (2, 3)"
			" AND updated < ?1 ORDER BY updated, id LIMIT ?2)",
			&stmt, "purge requests");
		if (!ret) {
			sqlite3_bind_int64(stmt, 1, before);
			sqlite3_bind_int(stmt, 2, (int)batch);
			ret = catalog_step_done(cat, stmt, "purge requests");
		}
		changed = ret ? 0 : sqlite3_changes(cat->db);
		ret = catalog_end(cat, ret);
		total += (uint64_t)changed;
	} while (!ret && (unsigned int)changed == batch);
	if (purged)
		*purged = total;
	return ret;
}

void hsm_catalog_set_owner(struct hsm_catalog *cat, int64_t node_id,
			   unsigned int lease_sec)
{
	cat->owner = node_id;
	cat->lease_sec = lease_sec;
}

/* running -> new_state, or -EINVAL naming the state it was in. */
static int catalog_request_finish(struct hsm_catalog *cat, int64_t request_id,
				  const char *error, bool is_retryable)
{
	struct hsm_catalog_request req;
	enum hsm_request_state new_state = HSM_REQ_DONE;
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_request_read(cat, request_id, &req);
	if (!ret && req.state != HSM_REQ_RUNNING)
		ret = catalog_set_error(cat, -EINVAL,
					"request id %" PRId64 ": cannot finish a request that is %s",
					request_id,
					hsm_request_state_name(req.state));
	/* another node took it over after our lease ran out */
	if (!ret && req.owner != cat->owner)
		ret = catalog_set_error(cat, -ESTALE,
					"request id %" PRId64 ": now owned by node %" PRId64 ", not %" PRId64 " (lease lost)",
					request_id, req.owner, cat->owner);
	if (ret)
		goto out;
	if (error)
		new_state = (is_retryable && req.attempts < cat->max_attempts) ?
			    HSM_REQ_QUEUED : HSM_REQ_FAILED;

	ret = catalog_prepare(cat,
		"UPDATE requests SET state = ?2, updated = ?3,"
		" last_error = coalesce(?4, last_error),"
		" owner = NULL, lease_expires = NULL WHERE id = ?1", &stmt,
		"finish request");
	if (ret)
		goto out;
	sqlite3_bind_int64(stmt, 1, request_id);
	sqlite3_bind_int(stmt, 2, (int)new_state);
	sqlite3_bind_int64(stmt, 3, catalog_now());
	if (error)
		bind_text(stmt, 4, error);
	ret = catalog_step_done(cat, stmt, "finish request");
out:
	return catalog_end(cat, ret);
}

int hsm_catalog_request_complete(struct hsm_catalog *cat, int64_t request_id)
{
	return catalog_request_finish(cat, request_id, NULL, false);
}

int hsm_catalog_request_fail(struct hsm_catalog *cat, int64_t request_id,
			     const char *error, bool is_retryable)
{
	return catalog_request_finish(cat, request_id,
				      error ? error : "failed", is_retryable);
}

int hsm_catalog_request_count(struct hsm_catalog *cat,
			      enum hsm_request_kind kind,
			      enum hsm_request_state state, uint64_t *count)
{
	sqlite3_stmt *stmt;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT coalesce(sum(n), 0) FROM request_counts"
		" WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR state = ?2)", &stmt, "count requests");
	if (ret)
		return ret;
	if (kind != HSM_REQ_ANY)
		sqlite3_bind_int(stmt, 1, (int)kind);
	if (state != HSM_REQ_STATE_ANY)
		sqlite3_bind_int(stmt, 2, (int)state);
	ret = catalog_step_row(cat, stmt, "count requests");
	if (ret == 1) {
		*count = (uint64_t)sqlite3_column_int64(stmt, 0);
		ret = 0;
	}
	catalog_finalize(cat, stmt);
	return ret;
}

/* ---- volumes ---- */

/*
 * A volume row is keyed by its label's id; the label itself stays in
 * labels after the volume is deleted, since copies may still name it.
 */
int hsm_catalog_volume_add(struct hsm_catalog *cat, const char *label,
			   uint64_t capacity)
{
	sqlite3_stmt *stmt;
	int64_t id = 0;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_label_id(cat, label, &id);
	if (!ret)
		ret = catalog_prepare(cat,
			"INSERT INTO volumes (id, capacity, used, state)"
			" VALUES (?1, ?2, 0, 0)", &stmt, "add volume");
	if (!ret) {
		sqlite3_bind_int64(stmt, 1, id);
		bind_u64(stmt, 2, capacity);
		ret = catalog_step_done(cat, stmt, "add volume");
		if (ret == -EEXIST)
			catalog_set_error(cat, ret, "volume %s already exists",
					  label);
	}
	return catalog_end(cat, ret);
}

int hsm_catalog_volume_get(struct hsm_catalog *cat, const char *label,
			   struct hsm_catalog_volume *out)
{
	sqlite3_stmt *stmt;
	int s;
	int ret;

	cat->error[0] = '\0';
	ret = catalog_prepare(cat,
		"SELECT v.capacity, v.used, v.state FROM volumes v"
		" JOIN labels l ON l.id = v.id WHERE l.label = ?1",
		&stmt, "read volume");
	if (ret)
		return ret;
	bind_text(stmt, 1, label);
	ret = catalog_step_row(cat, stmt, "read volume");
	if (ret == 1) {
		s = sqlite3_column_int(stmt, 2);
		memset(out, 0, sizeof(*out));
		snprintf(out->label, sizeof(out->label), "%s", label);
		out->capacity = (uint64_t)sqlite3_column_int64(stmt, 0);
		out->used = (uint64_t)sqlite3_column_int64(stmt, 1);
		if (s < 0 || (size_t)s >= ARRAY_SIZE(volume_state_names)) {
			ret = catalog_set_error(cat, -EUCLEAN,
						"volume %s: unknown state %d",
						label, s);
		} else {
			out->state = (enum hsm_volume_state)s;
			ret = 0;
		}
	} else if (ret == 0) {
		ret = catalog_set_error(cat, -ENOENT, "no volume %s", label);
	}
	catalog_finalize(cat, stmt);
	return ret;
}

int hsm_catalog_volume_update(struct hsm_catalog *cat, const char *label,
			      uint64_t used, enum hsm_volume_state state)
{
	sqlite3_stmt *stmt;
	int ret;

	if ((int)state < 0 || (size_t)state >= ARRAY_SIZE(volume_state_names)) {
		cat->error[0] = '\0';
		return catalog_set_error(cat, -EINVAL,
					 "volume %s: invalid state %d", label,
					 (int)state);
	}
	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_prepare(cat,
		"UPDATE volumes SET used = ?2, state = ?3"
		" WHERE id = (SELECT id FROM labels WHERE label = ?1)",
		&stmt, "update volume");
	if (!ret) {
		bind_text(stmt, 1, label);
		bind_u64(stmt, 2, used);
		sqlite3_bind_int(stmt, 3, (int)state);
		ret = catalog_step_done(cat, stmt, "update volume");
		if (ret == -EINVAL)
			catalog_set_error(cat, ret,
					  "volume %s: used %" PRIu64 " bytes exceeds its capacity",
					  label, used);
	}
	if (!ret && sqlite3_changes(cat->db) == 0)
		ret = catalog_set_error(cat, -ENOENT, "no volume %s", label);
	return catalog_end(cat, ret);
}

int hsm_catalog_volume_delete(struct hsm_catalog *cat, const char *label)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = catalog_begin(cat);
	if (ret)
		return ret;
	ret = catalog_prepare(cat,
		"DELETE FROM volumes"
		" WHERE id = (SELECT id FROM labels WHERE label = ?1)",
		&stmt, "delete volume");
	if (!ret) {
		bind_text(stmt, 1, label);
		ret = catalog_step_done(cat, stmt, "delete volume");
	}
	if (!ret && sqlite3_changes(cat->db) == 0)
		ret = catalog_set_error(cat, -ENOENT, "no volume %s", label);
	return catalog_end(cat, ret);
}
