/* Child → parent replication over nng (req/rep). One uplink per node that has
 * a parent. It forwards the store's change log in batches, several in flight
 * (the parent commits them in log order); the parent acknowledges a batch
 * only once it is durable; the acked log position is kept in the store (meta
 * "uplink.acked") and the log trimmed behind it.
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
	uint64_t rejected_total; /* records its downlink rejected since start (signature, origin, conflict...) */
} edu_node_status;

/* Fills out[0..max) with the statuses to send up (this node's own first, then
 * its subtree's last-known ones); returns how many. Called on the uplink's
 * heartbeat thread. */
typedef size_t (*edu_uplink_collect_fn)(edu_node_status *out, size_t max, void *arg);

struct edu_dir;

typedef struct edu_uplink_opts {
	edu_store *store;          /* borrowed; must outlive the uplink */
	const char *self_unit;
	const char *parent_url;    /* tcp://HOST:PORT or tls+tcp://HOST:PORT */
	/* Identity (SPEC §6.5). id NULL: test/demo mode (no [tls], tcp:// only):
	 * the Hello carries no certificate and records travel unsigned. With id,
	 * verifier is required: the parent's certificate is checked (and its CN
	 * against parent_unit when set). Both borrowed, must outlive the uplink. */
	const struct edu_pki_id *id;
	struct edu_pki_verifier *verifier;
	const char *parent_unit;   /* expected parent unit id, or NULL */
	const char *tls_ca, *tls_cert, *tls_key; /* PEM paths: required for tls+tcp:// */
	int heartbeat_ms;          /* 0: 1000 */
	/* Directives (node/directive), borrowed, may be NULL: synced on their own
	 * req context and thread every heartbeat_ms and at once when a receipt
	 * event is queued. */
	struct edu_dir *dirs;
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
