/* The JSON API under /api/v1 (SPEC §5) on top of node/http: items (list,
 * read, create, update, delete), attachments, status, topology and the
 * deployment report. Writes need "Authorization: Bearer TOKEN" and answer
 * only after the store has made them durable (SPEC §6.1). Every error is
 * {"error": CODE, "message": TEXT}. */
#ifndef EDU_API_H
#define EDU_API_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "http/http.h"
#include "store/store.h"
#include "uplink/uplink.h"

struct edu_agg;
struct edu_dir;
struct evhttp_request;

#define EDU_API_JSON_MAX (2u * 1024 * 1024)  /* bytes of an item create/update body */
/* Items in one batch create (POST /api/v1/items with a JSON array); the whole
 * array is bounded by [http] max_body instead of EDU_API_JSON_MAX. */
#define EDU_API_BATCH_MAX 256
#define EDU_API_LIMIT_DEFAULT 20
#define EDU_API_LIMIT_MAX 100

typedef struct edu_api edu_api;

typedef struct edu_api_opts {
	edu_store *store;         /* borrowed */
	struct edu_agg *agg;      /* borrowed; NULL on school nodes */
	const char *self_unit;
	const char *self_name;
	const char *token;        /* admin bearer token; NULL or "": every write gets 401 */
	int tz_offset_min;        /* offset given to new items without one */
	/* This node's status (called on a loop thread; must not block long). */
	void (*self_status)(edu_node_status *out, void *arg);
	void *self_status_arg;
	/* Origin signature (SPEC §6.5): when set, every record this node creates
	 * (create, update, delete tombstone) is signed over its exact Item bytes.
	 * NULL: test/demo mode, records unsigned. Thread-safe, called on loop threads. */
	void (*sign)(const void *msg, size_t len, uint8_t sig[64], void *arg);
	void *sign_arg;
	/* Directives (node/directive), borrowed; NULL: /directives answers 404. */
	struct edu_dir *dirs;
} edu_api_opts;

/* Copies the strings of o. */
edu_err edu_api_new(edu_api **out, const edu_api_opts *o);
void edu_api_free(edu_api *a); /* accepts NULL; call after edu_http_stop */

/* The edu_http_handler_fn for /api/...; arg is the edu_api. */
void edu_api_handle(edu_http_loop *l, struct evhttp_request *req, const char *path, void *arg);

#endif
