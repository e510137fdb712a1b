/* Aggregating role (phong, xa, so): the units registry, the downlink that
 * accepts children over nng, the children's last-known status, and the
 * topology / deployment views built from them. */
#ifndef EDU_AGG_H
#define EDU_AGG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "store/store.h"
#include "uplink/uplink.h"

typedef struct edu_agg edu_agg;

typedef struct edu_agg_opts {
	edu_store *store;          /* borrowed */
	const char *self_unit;
	const char *registry_path; /* units CSV (SPEC §1) */
	const char *listen_url;    /* tcp://HOST:PORT or tls+tcp://HOST:PORT; NULL: no downlink */
	const char *tls_ca, *tls_cert, *tls_key; /* PEM paths: required for tls+tcp:// */
	/* Identity (SPEC §6.5), both borrowed. With them, a child must prove its
	 * unit (certificate + signed challenge) and every record must carry a
	 * valid origin signature. Both NULL: test/demo mode (tcp:// only):
	 * children without certificates, records unsigned. */
	const struct edu_pki_id *id;
	struct edu_pki_verifier *verifier;
	/* This node's own status, for the subtree rollup. Called from agg threads. */
	void (*self_status)(edu_node_status *out, void *arg);
	void *self_status_arg;
} edu_agg_opts;

struct edu_registry;
struct edu_dir;
/* The loaded registry (immutable, lives as long as the agg). */
const struct edu_registry *edu_agg_registry(edu_agg *a);
/* Directives (node/directive): children's DirSync requests are served from
 * d from now on (borrowed, must outlive the agg; until set, DirSync gets
 * Error{INTERNAL} and the child retries). Set after edu_agg_start because
 * the directive store needs the registry. */
void edu_agg_set_dirs(edu_agg *a, struct edu_dir *d);

/* Loads the registry (errors name file, line and reason in why) and starts the downlink. */
edu_err edu_agg_start(edu_agg **out, const edu_agg_opts *o, char *why, size_t whylen);
void edu_agg_stop(edu_agg *a); /* accepts NULL */

/* After the verifier's revocation list was reloaded: drops the links of
 * children whose certificate no longer verifies. Returns how many. */
size_t edu_agg_revalidate(edu_agg *a);
/* Records refused since start (bad/missing signature or certificate, origin
 * outside the child's subtree, undecodable, conflicting bytes, missing blob). */
uint64_t edu_agg_rejected_total(edu_agg *a);

/* Registry lookups (thread-safe; strings live as long as the agg). */
const char *edu_agg_unit_name(edu_agg *a, const char *unit);  /* NULL if not in registry */
/* Every unit id in the subtree rooted at unit (itself included), for unit= filters.
 * Caller frees *units (one allocation; the strings live as long as the agg). */
edu_err edu_agg_subtree(edu_agg *a, const char *unit, const char ***units, size_t *n);

/* For edu_uplink_opts.collect on aggregating nodes: own status, then every
 * last-known status in the subtree. */
size_t edu_agg_collect(edu_node_status *out, size_t max, void *arg /* edu_agg* */);

/* JSON views (SPEC §5). Caller owns the result. */
json_t *edu_agg_topology_json(edu_agg *a);
json_t *edu_agg_report_json(edu_agg *a);
json_t *edu_agg_children_json(edu_agg *a); /* {"expected":n,"online":n,"offline":n,"never_seen":n} */

#endif
