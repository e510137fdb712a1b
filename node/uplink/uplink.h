/* Child → parent replication over nng (req/rep). One uplink per node that has
 * a parent. It forwards the store's change log in batches; the parent
 * acknowledges a batch only once it is durable; the acked log position is
 * kept in the store (meta "uplink.acked") and the log trimmed behind it.
 * Heartbeats carrying the subtree's status travel on their own nng context,
 * never queued behind content. Reconnects with backoff, forever. */
#ifndef EDU_UPLINK_H
#define EDU_UPLINK_H

#include <stdint.h>
#include "core/err.h"
#include "store/store.h"

/* One node's last-known status: what /api/v1/status shows and heartbeats carry. */
typedef struct edu_node_status {
	char unit[41];
	char parent[41];       /* "" at the root */
	char role[8];          /* school | phong | so */
	char version[24];      /* software version */
	int64_t uptime_s;
	uint64_t items_total;
	uint64_t items_own;
	char uplink_state[16]; /* "none" (root), "connecting", "online", "offline" */
	uint64_t backlog;      /* changes not yet acknowledged by the parent */
	int64_t oldest_unacked_ms; /* commit time of the oldest unacked change, 0 if none */
	int64_t last_ack_ms;   /* when the parent last acknowledged, 0 if never */
	int64_t reported_ms;   /* when the unit produced this status (its clock) */
} edu_node_status;

/* Fills out[0..max) with the statuses to send up (this node's own first, then
 * its subtree's last-known ones); returns how many. Called on the uplink's
 * heartbeat thread. */
typedef size_t (*edu_uplink_collect_fn)(edu_node_status *out, size_t max, void *arg);

typedef struct edu_uplink_opts {
	edu_store *store;          /* borrowed; must outlive the uplink */
	const char *self_unit;
	const char *parent_url;    /* tcp://HOST:PORT or tls+tcp://HOST:PORT */
	const char *tls_ca, *tls_cert, *tls_key; /* PEM paths; NULL for tcp:// */
	int heartbeat_ms;          /* 0: 1000 */
	edu_uplink_collect_fn collect;
	void *collect_arg;
} edu_uplink_opts;

typedef struct edu_uplink edu_uplink;

typedef struct edu_uplink_info {
	char state[16];            /* "connecting", "online", "offline" */
	uint64_t backlog;
	int64_t oldest_unacked_ms;
	int64_t last_ack_ms;
	uint64_t acked;            /* acked log position */
} edu_uplink_info;

edu_err edu_uplink_start(edu_uplink **out, const edu_uplink_opts *o);
void edu_uplink_stop(edu_uplink *u); /* accepts NULL; joins its threads */
void edu_uplink_get_info(edu_uplink *u, edu_uplink_info *info); /* thread-safe */

#endif
