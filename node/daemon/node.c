/* Node wiring: what starts in which order, who borrows what, and the
 * node's own status. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "aggregator/agg.h"
#include "api/api.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "store/store.h"
#include "uplink/uplink.h"

struct edu_node {
	const edu_conf *conf;
	char version[24];
	int64_t started_ms;
	edu_store *store;
	edu_agg *agg;
	/* Set after the aggregator starts, read by its threads through self_status. */
	_Atomic(edu_uplink *) uplink;
	edu_api *api;
	edu_http *http;
};

/* This node's own status: store counters and the uplink's state. Called from
 * loop, heartbeat and aggregator threads; each read uses its own transaction. */
static void self_status(edu_node_status *out, void *arg)
{
	edu_node *n = arg;
	memset(out, 0, sizeof *out);
	snprintf(out->unit, sizeof out->unit, "%s", n->conf->id);
	snprintf(out->role, sizeof out->role, "%s", edu_role_name(n->conf->role));
	snprintf(out->version, sizeof out->version, "%s", n->version);
	int64_t now = edu_time_now_ms();
	out->uptime_s = (now - n->started_ms) / 1000;
	out->reported_ms = now;
	edu_store_rd *rd = NULL;
	edu_store_stats st;
	if (edu_store_read_begin(n->store, &rd) == EDU_OK && edu_store_stats_get(rd, &st) == EDU_OK) {
		out->items_total = st.items_total;
		out->items_own = st.items_own;
	}
	edu_store_read_end(rd);
	edu_uplink *u = atomic_load(&n->uplink);
	if (u) {
		edu_uplink_info ui;
		edu_uplink_get_info(u, &ui);
		snprintf(out->uplink_state, sizeof out->uplink_state, "%s", ui.state);
		out->backlog = ui.backlog;
		out->oldest_unacked_ms = ui.oldest_unacked_ms;
		out->last_ack_ms = ui.last_ack_ms;
	} else if (n->conf->uplink_parent) {
		snprintf(out->uplink_state, sizeof out->uplink_state, "connecting");
	} else {
		snprintf(out->uplink_state, sizeof out->uplink_state, "none");
	}
}

/* A school's heartbeat carries only its own status. */
static size_t own_collect(edu_node_status *out, size_t max, void *arg)
{
	if (max == 0)
		return 0;
	self_status(out, arg);
	return 1;
}

static bool is_tls(const char *url)
{
	return url && strncmp(url, "tls+tcp://", 10) == 0;
}

edu_err edu_node_start(edu_node **out, const edu_conf *c, const char *version, char *why, size_t whylen)
{
	edu_err rv;
	*out = NULL;
	why[0] = '\0';
	edu_node *n = calloc(1, sizeof *n);
	if (!n)
		return EDU_ENOMEM;
	n->conf = c;
	snprintf(n->version, sizeof n->version, "%s", version);
	n->started_ms = edu_time_now_ms();
	atomic_init(&n->uplink, NULL);

	edu_store_opts so = {
		.dir = c->data_dir, .map_size = c->map_size, .map_max = c->map_max, .self_unit = c->id,
	};
	if ((rv = edu_store_open(&n->store, &so)) != EDU_OK) {
		snprintf(why, whylen, "cannot open the store in %s: %s", c->data_dir, edu_strerror(rv));
		goto out;
	}

	if (c->role != EDU_ROLE_SCHOOL) {
		bool tls = is_tls(c->downlink_listen);
		edu_agg_opts ao = {
			.store = n->store,
			.self_unit = c->id,
			.registry_path = c->registry,
			.listen_url = c->downlink_listen,
			.tls_ca = tls ? c->tls_ca : NULL,
			.tls_cert = tls ? c->tls_cert : NULL,
			.tls_key = tls ? c->tls_key : NULL,
			.tls_crl = tls ? c->tls_crl : NULL,
			.self_status = self_status,
			.self_status_arg = n,
		};
		char aw[256] = "";
		if ((rv = edu_agg_start(&n->agg, &ao, aw, sizeof aw)) != EDU_OK) {
			snprintf(why, whylen, "aggregator: %s", aw[0] ? aw : edu_strerror(rv));
			goto out;
		}
	}

	if (c->uplink_parent) {
		bool tls = is_tls(c->uplink_parent);
		edu_uplink_opts uo = {
			.store = n->store,
			.self_unit = c->id,
			.parent_url = c->uplink_parent,
			.tls_ca = tls ? c->tls_ca : NULL,
			.tls_cert = tls ? c->tls_cert : NULL,
			.tls_key = tls ? c->tls_key : NULL,
			.collect = n->agg ? edu_agg_collect : own_collect,
			.collect_arg = n->agg ? (void *)n->agg : (void *)n,
		};
		edu_uplink *u = NULL;
		if ((rv = edu_uplink_start(&u, &uo)) != EDU_OK) {
			snprintf(why, whylen, "uplink to %s: %s", c->uplink_parent, edu_strerror(rv));
			goto out;
		}
		atomic_store(&n->uplink, u);
	}

	edu_api_opts apo = {
		.store = n->store,
		.agg = n->agg,
		.self_unit = c->id,
		.self_name = c->name,
		.token = c->admin_token,
		.tz_offset_min = c->tz_offset_min,
		.self_status = self_status,
		.self_status_arg = n,
	};
	if ((rv = edu_api_new(&n->api, &apo)) != EDU_OK) {
		snprintf(why, whylen, "api: %s", edu_strerror(rv));
		goto out;
	}
	if (!c->admin_token || !*c->admin_token)
		edu_log(LOG_WARNING, "node: no [admin] token_file: every API write will be refused");

	edu_http_opts ho = {
		.host = c->http_listen_host,
		.port = c->http_listen_port,
		.threads = c->http_threads,
		.max_body = c->http_max_body,
		.timeout_s = c->http_timeout_s,
		.base_url = c->http_base_url,
		.store = n->store,
		.agg = n->agg,
		.uplink = atomic_load(&n->uplink),
		.self_unit = c->id,
		.self_name = c->name,
		.role = edu_role_name(c->role),
		.started_ms = n->started_ms,
		.api = edu_api_handle,
		.api_arg = n->api,
	};
	if ((rv = edu_http_start(&n->http, &ho)) != EDU_OK) {
		snprintf(why, whylen, "http: cannot serve on %s:%d: %s", c->http_listen_host, c->http_listen_port,
		    rv == EDU_EEXIST ? "address already in use" : edu_strerror(rv));
		goto out;
	}
	edu_log(LOG_NOTICE, "node: %s (%s, %s) running, version %s", c->id, edu_role_name(c->role),
	    c->name, n->version);
	*out = n;
out:
	if (rv != EDU_OK)
		edu_node_stop(n);
	return rv;
}

int edu_node_http_port(const edu_node *n)
{
	return edu_http_port(n->http);
}

void edu_node_stop(edu_node *n)
{
	if (!n)
		return;
	edu_http_stop(n->http); /* answers in-flight writes first */
	edu_uplink *u = atomic_exchange(&n->uplink, NULL);
	edu_uplink_stop(u);
	edu_agg_stop(n->agg);
	edu_api_free(n->api);
	edu_store_close(n->store); /* drains queued writes */
	if (n->store)
		edu_log(LOG_NOTICE, "node: %s stopped", n->conf->id);
	free(n);
}
