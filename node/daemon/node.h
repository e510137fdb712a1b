/* One running node (edunetd's library side): config → store → aggregator
 * (phong/so) → uplink (when [uplink] parent is set) → API → HTTP, and the
 * reverse on stop. The status this node reports about itself (API,
 * heartbeats, the aggregator's rollup) is built here. */
#ifndef EDU_NODE_H
#define EDU_NODE_H

#include <stddef.h>
#include "conf/conf.h"
#include "core/err.h"

typedef struct edu_node edu_node;

/* Starts everything the config asks for. conf is borrowed and must outlive
 * the node; version is copied. On failure *why holds a human reason. */
edu_err edu_node_start(edu_node **out, const edu_conf *conf, const char *version, char *why, size_t whylen);
/* Stops accepting HTTP, answers requests whose writes are in flight, stops the
 * uplink and the aggregator, drains the store's queue and closes it. Accepts NULL. */
void edu_node_stop(edu_node *n);
int edu_node_http_port(const edu_node *n);
/* SIGHUP: re-reads [tls] revoked (edu_pki_verifier_reload; on failure the
 * previous list stays) and drops the links of children now revoked. The
 * node also does this by itself when the file's mtime changes (checked
 * every 60 s). Thread-safe; accepts NULL. */
void edu_node_reload(edu_node *n);

#endif
