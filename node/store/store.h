/* Durable storage on LMDB: items by id, newest-first indexes, search index,
 * origin sequences, attachments by sha256, the change log that feeds the
 * uplink, and small metadata. Every write is a durable commit; concurrent
 * writers are grouped into one transaction by a writer thread (group commit).
 *
 * Threads: edu_store_submit/commit may be called from any thread. Read
 * handles (edu_store_rd) belong to the thread that began them and must be
 * ended before that thread blocks for long: never hold one across
 * edu_store_commit (growing the map waits for every read handle to end).
 * Done callbacks run on the writer thread and must not call edu_store_commit. */
#ifndef EDU_STORE_H
#define EDU_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../core/err.h"
#include "../item/item.h"

typedef struct edu_store edu_store;
typedef struct edu_store_rd edu_store_rd;
typedef struct edu_store_batch edu_store_batch;

typedef struct edu_store_opts {
	const char *dir;     /* created if missing */
	uint64_t map_size;   /* initial map size, bytes (0: 64 MiB) */
	uint64_t map_max;    /* the map never grows past this (0: no limit but the disk) */
	const char *self_unit; /* this node's unit id: items_own counts it */
	/* Called on the writer thread when the store has gone a whole idle
	 * period (about a second) unused, after it gave its mapped pages back:
	 * a hook for the process to give memory back too. NULL: none. */
	void (*idle_fn)(void *arg);
	void *idle_arg;
} edu_store_opts;

edu_err edu_store_open(edu_store **out, const edu_store_opts *o);
/* Drains queued writes, stops the writer thread, closes the env. Accepts NULL. */
void edu_store_close(edu_store *s);

/* ---- writes ---------------------------------------------------------- */

/* Outcome of one put_record in a batch. */
typedef enum edu_put_result {
	EDU_PUT_APPLIED = 0,  /* newer than what was stored: stored, indexed, logged */
	EDU_PUT_DUPLICATE,    /* same unit/seq/version with identical bytes: no effect */
	EDU_PUT_STALE,        /* older version than stored: no effect */
	EDU_PUT_CONFLICT,     /* same version, different bytes: rejected */
	EDU_PUT_INVALID,      /* undecodable or fails edu_item_validate: rejected */
	EDU_PUT_MISSING_BLOB, /* an attachment's blob is neither stored nor in the batch */
} edu_put_result;

edu_err edu_store_batch_new(edu_store_batch **out);
void edu_store_batch_free(edu_store_batch *b); /* accepts NULL */
/* Each adder copies its arguments. Operations apply in the order added.
 * put_record refuses records over EDU_RECORD_MAX bytes (EDU_ETOOBIG). */
edu_err edu_store_batch_put_record(edu_store_batch *b, const edu_record *r);
/* put_record decodes and validates the item and derives its index keys and
 * search tokens on the caller's thread (the writer thread only does LMDB
 * work). A caller that already holds the item r->item encodes, and validated
 * it with edu_item_validate (a local publish: normalize, validate, encode),
 * passes it here to skip the decode and second validation. it is borrowed
 * for the call; a mismatch between it and r->item would index the record
 * wrongly, so records from anywhere else go through put_record. */
edu_err edu_store_batch_put_item(edu_store_batch *b, const edu_record *r, const edu_item *it);
/* Verifies sha256(data) == sha256 when added (EDU_EINVAL on mismatch,
 * EDU_ETOOBIG above EDU_ATTACH_MAX); stored once. */
edu_err edu_store_batch_put_blob(edu_store_batch *b, const uint8_t sha256[32], const void *data, size_t len);
/* Meta keys: 1..EDU_STORE_META_KEY_MAX bytes, values up to EDU_STORE_META_VAL_MAX;
 * keys starting with "store." belong to the store (EDU_EPERM). */
#define EDU_STORE_META_KEY_MAX 200
#define EDU_STORE_META_VAL_MAX (64 * 1024)
edu_err edu_store_batch_put_meta(edu_store_batch *b, const char *key, const void *val, size_t len);
/* Removes change-log entries with log seq <= upto (the parent holds them). */
edu_err edu_store_batch_trim_log(edu_store_batch *b, uint64_t upto);
size_t edu_store_batch_records(const edu_store_batch *b);
/* Valid after the batch committed: the outcome of the i-th put_record, and the
 * change-log seq it was given (0 unless APPLIED). */
edu_put_result edu_store_batch_result(const edu_store_batch *b, size_t i, uint64_t *log_seq);

/* Called on the writer thread once the batch is durable (rv == EDU_OK) or has
 * failed as a whole (EDU_ENOSPC when the map cannot grow or the disk is full,
 * EDU_EIO). Keep it short: marshal work back to your own thread. */
typedef void (*edu_store_done_fn)(edu_store_batch *b, edu_err rv, void *arg);
/* Queues b; the caller must not touch b until fn runs (then it owns b again). */
edu_err edu_store_submit(edu_store *s, edu_store_batch *b, edu_store_done_fn fn, void *arg);
/* Queues b and blocks until it is durable or failed. */
edu_err edu_store_commit(edu_store *s, edu_store_batch *b);

/* Local publishing: the next unused seq of this node's own unit (never reused
 * within a run; after a restart continues after the highest committed seq). */
uint64_t edu_store_next_seq(edu_store *s);

/* Live items (all origins, and this node's own) as of the last commit,
 * without a read transaction: periodic status reports use it, so that they
 * do not keep an idle store from giving its pages back. */
void edu_store_counts(edu_store *s, uint64_t *items_total, uint64_t *items_own);

/* Bumped after every commit that changed anything: a cheap cache validator. */
uint64_t edu_store_generation(edu_store *s);

/* ---- change log (feeds the uplink) ------------------------------------ */

uint64_t edu_store_log_head(edu_store *s); /* highest committed log seq, 0 if none */
/* Blocks until log head > after or timeout_ms passes (or the store closes);
 * returns the head. Woken by commits, not by polling. */
uint64_t edu_store_log_wait(edu_store *s, uint64_t after, int timeout_ms);
/* Makes every thread inside edu_store_log_wait return now (to see a stop). */
void edu_store_log_wake(edu_store *s);

typedef struct edu_log_entry {
	uint64_t log_seq;
	const uint8_t *record;  /* the stored Record's bytes, exactly as stored (in the batch's buffer) */
	size_t record_len;
	edu_record_ref rec;     /* view of record: rec.item points into it */
	edu_item_head head;     /* its item's identity */
} edu_log_entry;
/* What edu_store_log_read fills. Zero-initialize it once and pass it to
 * every read: its memory is reused; edu_store_log_batch_free releases it.
 * Entries and their bytes stay valid until the next read into it. */
typedef struct edu_log_batch {
	edu_log_entry *e;
	size_t n, cap;
	uint8_t *buf;
	size_t len, buf_cap;
} edu_log_batch;
/* Entries with log seq > after, oldest first, at most max_n entries and about
 * max_bytes of records (at least one entry when any exists); an entry whose
 * item has a newer version (which has its own later entry) is skipped. The
 * records are copied out, so b outlives the read handle. */
edu_err edu_store_log_read(edu_store_rd *r, uint64_t after, size_t max_n, size_t max_bytes, edu_log_batch *b);
void edu_store_log_batch_free(edu_log_batch *b); /* accepts NULL */
/* Number of log entries with seq > after and the commit time (ms) of the oldest. */
edu_err edu_store_log_backlog(edu_store_rd *r, uint64_t after, uint64_t *count, int64_t *oldest_ms);

/* ---- reads ------------------------------------------------------------ */

edu_err edu_store_read_begin(edu_store *s, edu_store_rd **out);
void edu_store_read_end(edu_store_rd *r); /* accepts NULL */

/* Current version of an item (tombstones included). Caller owns *out. */
edu_err edu_store_get(edu_store_rd *r, const char *unit, uint64_t seq, edu_item **out);
/* The exact stored record (for forwarding / signature checks). Caller clears rec. */
edu_err edu_store_get_record(edu_store_rd *r, const char *unit, uint64_t seq, edu_record *rec);

typedef struct edu_query {
	const char *const *units; /* NULL: every unit; else only items of these units */
	size_t n_units;
	edu_kind kind;            /* EDU_KIND_NONE: any */
	const char *q;            /* search text (folded by the store), NULL/"" for none */
	/* cursor: only items strictly older than (before_ts, before_unit, before_seq) */
	int64_t before_ts;        /* 0: no cursor */
	const char *before_unit;
	uint64_t before_seq;
	size_t limit;             /* 1..1000 */
} edu_query;
/* A search (q set) examines at most this many items that contain every query
 * token (newest first); when the cap ends a page early, *more is true and the
 * next page continues from the last item returned. Only the first
 * EDU_STORE_QUERY_TOKENS_MAX tokens of q are used. */
#define EDU_STORE_SEARCH_SCAN_MAX 10000
#define EDU_STORE_QUERY_TOKENS_MAX 32
/* Live (not deleted) items matching q, newest published first (ties: unit, seq
 * descending). *more tells whether another page exists. Caller frees with
 * edu_store_items_free. */
edu_err edu_store_query(edu_store_rd *r, const edu_query *q, edu_item ***out, size_t *n, bool *more);
void edu_store_items_free(edu_item **items, size_t n);

/* Writes a consistent, compacted copy of the whole store (an LMDB data.mdb
 * file) to fd while reads and writes go on. Restore: stop the node, put the
 * file at <data_dir>/data.mdb. */
edu_err edu_store_backup(edu_store *s, int fd);

/* Blob by sha256; *data is an owned copy. */
edu_err edu_store_blob_get(edu_store_rd *r, const uint8_t sha256[32], uint8_t **data, size_t *len);
bool edu_store_blob_has(edu_store_rd *r, const uint8_t sha256[32]);

/* Metadata; *val is an owned copy (NUL-terminated for convenience). */
edu_err edu_store_meta_get(edu_store_rd *r, const char *key, char **val, size_t *len);

/* ---- old portal links (import) ------------------------------------------ */

/* Items whose source_url is set are indexed by the normalized path of that
 * URL, so a node answers old portal paths with a redirect. Normalization:
 * the path and query of the URL (scheme, host and fragment dropped; a
 * path-only reference is taken as is), unreserved characters in the path
 * percent-decoded (other escapes kept, hex uppercased), one trailing '/'
 * dropped except for the root, the query kept as written ("?" alone
 * dropped). Paths longer than EDU_STORE_SOURCE_PATH_MAX bytes (an LMDB key)
 * are not indexed. */
#define EDU_STORE_SOURCE_PATH_MAX 480
/* url: an absolute URL, "//host/..." or a path (a request target). out gets
 * the normalized path (NUL-terminated). EDU_EINVAL for a relative reference,
 * spaces or control characters; EDU_ETOOBIG past EDU_STORE_SOURCE_PATH_MAX
 * or outlen. */
edu_err edu_store_source_path(const char *url, char *out, size_t outlen);
/* The live item recorded for path (normalized here with
 * edu_store_source_path): the one with the newest `updated` (then
 * `published`) when several share it. unit_out has room for
 * EDU_UNIT_ID_MAX + 1. EDU_ENOENT when none; EDU_EINVAL for a path that
 * cannot be normalized. */
edu_err edu_store_find_source(edu_store_rd *r, const char *path, char *unit_out, uint64_t *seq);

typedef struct edu_store_stats {
	uint64_t items_total;   /* live items, all origins */
	uint64_t items_own;     /* live items of self_unit */
	uint64_t tombstones;
	uint64_t blobs;
	uint64_t map_size;      /* current map size, bytes */
	uint64_t map_used;      /* bytes in use */
	uint64_t commits;       /* transactions committed since open */
	uint64_t log_head;
} edu_store_stats;
edu_err edu_store_stats_get(edu_store_rd *r, edu_store_stats *st);

/* Per-origin counters: live items and highest seq, for every origin unit
 * stored. fn is called once per unit, in unit id order. */
typedef void (*edu_store_origin_fn)(const char *unit, uint64_t items, uint64_t max_seq, void *arg);
edu_err edu_store_origins(edu_store_rd *r, edu_store_origin_fn fn, void *arg);

#endif
