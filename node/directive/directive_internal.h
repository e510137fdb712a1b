/* Shared by directive.c (store, rules, transport) and directive_json.c (views). */
#ifndef EDU_DIRECTIVE_INTERNAL_H
#define EDU_DIRECTIVE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <lmdb.h>
#include "directive/directive.h"
#include "directive.pb-c.h"

struct edu_dir {
	MDB_env *env;
	MDB_dbi dirs, down, receipts, uplog, meta;
	uint64_t map_size, map_max;
	bool map_full;         /* set inside a write when LMDB said MDB_MAP_FULL (grow and retry) */
	pthread_mutex_t mu;    /* every transaction */
	bool queued;           /* set inside a write: a receipt event went to the uplog */
	char *self, *self_name;
	const struct edu_registry *reg;
	const struct edu_pki_id *id;
	struct edu_pki_verifier *verifier;
	bool has_parent;
	pthread_mutex_t wmu;   /* gen, woken */
	pthread_cond_t wcv;
	uint64_t gen;
	bool woken;
};

typedef struct DirFileList {
	Edunet__Dir__DirAttachment **v;
	size_t n;
} DirFileList;

edu_err dir_write(edu_dir *d, edu_err (*fn)(edu_dir *, MDB_txn *, void *), void *arg);
edu_err dir_get(MDB_txn *t, MDB_dbi db, const void *k, size_t kl, MDB_val *v);
edu_err dir_put(MDB_txn *t, MDB_dbi db, const void *k, size_t kl, const void *v, size_t vl);
edu_err dir_append(MDB_txn *t, MDB_dbi db, const void *v, size_t vl, uint64_t *seq_out);
uint64_t dir_meta_u64(MDB_txn *t, edu_dir *d, const char *key);
edu_err dir_meta_set_u64(MDB_txn *t, edu_dir *d, const char *key, uint64_t val);
Edunet__Dir__SignedDirective *dir_unpack_signed(const uint8_t *buf, size_t len);
Edunet__Dir__Directive *dir_unpack_directive(const uint8_t *buf, size_t len);
Edunet__Dir__ReceiptState *dir_unpack_state(const uint8_t *buf, size_t len);
edu_err dir_load(edu_dir *d, MDB_txn *t, const char *id, Edunet__Dir__SignedDirective **sd,
    Edunet__Dir__Directive **x);
void dir_free(Edunet__Dir__SignedDirective *sd, Edunet__Dir__Directive *x);
void dir_id_of(const Edunet__Dir__Directive *x, char id[EDU_DIR_ID_MAX]);
bool dir_targets(const Edunet__Dir__Directive *x, const char *unit);
edu_err dir_check(const Edunet__Dir__Directive *x, char *why, size_t whylen);
edu_err dir_verify(edu_dir *d, const char *ctx, const char *unit, const ProtobufCBinaryData *bytes,
    const ProtobufCBinaryData *sig, const ProtobufCBinaryData *cert, char *why, size_t whylen);
/* The audience expanded with the registry (strings borrowed from it). Caller frees *targets. */
edu_err dir_expand(const struct edu_registry *reg, const char *self, const char *const *types, size_t n_types,
    const char *const *units, size_t n_units, char ***targets, size_t *n, char *why, size_t whylen);

#endif
