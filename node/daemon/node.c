/* Node wiring: what starts in which order, who borrows what, and the
 * node's own status. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node.h"
#include "aggregator/agg.h"
#include "api/api.h"
#include "directive/directive.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "pki/pki.h"
#include "store/store.h"
#include "uplink/uplink.h"

struct edu_node {
	const edu_conf *conf;
	char version[24];
	int64_t started_ms;
	edu_store *store;
	edu_agg *agg;
	edu_dir *dirs; /* directives and receipts: <data_dir>/directives */
	/* Set after the aggregator starts, read by its threads through self_status. */
	_Atomic(edu_uplink *) uplink;
	edu_api *api;
	edu_http *http;
	/* Identity (SPEC §6.5); both NULL in test/demo mode. */
	edu_pki_id *id;
	edu_pki_verifier *verifier;
	/* Re-reads revoked.list when its mtime changes (checked every
	 * EDU_NODE_REVOKED_POLL_S) and on edu_node_reload. */
	pthread_t watch_thr;
	bool watch_started;
	pthread_mutex_t watch_mu; /* watch_stop, revoked_mtime, reload */
	pthread_cond_t watch_cv;
	bool watch_stop;
	struct timespec revoked_mtime;
};

#define EDU_NODE_REVOKED_POLL_S 60

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
	/* Every heartbeat asks: no read transaction, so an idle node's store
	 * still counts as idle and gives its pages (and the heap) back. */
	edu_store_counts(n->store, &out->items_total, &out->items_own);
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
	out->rejected_total = edu_agg_rejected_total(n->agg);
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

/* api signing hook: every record this node creates carries its signature. */
static void sign_item(const void *msg, size_t len, uint8_t sig[64], void *arg)
{
	edu_pki_sign(arg, msg, len, sig);
}

static bool revoked_mtime(const edu_conf *c, struct timespec *ts)
{
	struct stat st;
	if (!c->tls_revoked || stat(c->tls_revoked, &st) != 0)
		return false;
	*ts = st.st_mtim;
	return true;
}

/* Called with watch_mu held. */
static void reload_locked(edu_node *n, const char *why_now)
{
	char why[256] = "";
	edu_err rv;
	size_t dropped;
	if (!n->verifier || !n->conf->tls_revoked)
		return;
	revoked_mtime(n->conf, &n->revoked_mtime);
	if ((rv = edu_pki_verifier_reload(n->verifier, why, sizeof why)) != EDU_OK) {
		edu_log(LOG_ERR, "node: reloading %s (%s) failed, the previous list stays in force: %s",
		    n->conf->tls_revoked, why_now, why[0] ? why : edu_strerror(rv));
		return;
	}
	dropped = edu_agg_revalidate(n->agg);
	edu_log(LOG_NOTICE, "node: reloaded %s (%s); %zu link(s) dropped", n->conf->tls_revoked, why_now, dropped);
}

void edu_node_reload(edu_node *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->watch_mu);
	reload_locked(n, "SIGHUP");
	pthread_mutex_unlock(&n->watch_mu);
}

/* The node went idle: return the heap memory a burst left free (edunetd
 * keeps it while busy, see its main) so an idle school stays small. */
static void give_memory_back(void *arg)
{
	(void)arg;
	malloc_trim(0);
}

static void *watch_main(void *arg)
{
	edu_node *n = arg;
	pthread_setname_np(pthread_self(), "edu-watch");
	pthread_mutex_lock(&n->watch_mu);
	while (!n->watch_stop) {
		struct timespec ts, mt;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += EDU_NODE_REVOKED_POLL_S;
		pthread_cond_timedwait(&n->watch_cv, &n->watch_mu, &ts);
		if (n->watch_stop)
			break;
		if (revoked_mtime(n->conf, &mt) &&
		    (mt.tv_sec != n->revoked_mtime.tv_sec || mt.tv_nsec != n->revoked_mtime.tv_nsec))
			reload_locked(n, "file changed");
	}
	pthread_mutex_unlock(&n->watch_mu);
	return NULL;
}

/* Loads this node's identity and the verifier; refuses a certificate issued
 * to another unit. */
static edu_err identity_load(edu_node *n, const edu_conf *c, char *why, size_t whylen)
{
	char w[256] = "";
	edu_err rv;
	if ((rv = edu_pki_id_load(&n->id, c->tls_cert, c->tls_key, c->tls_ed25519, w, sizeof w)) != EDU_OK) {
		snprintf(why, whylen, "[tls] identity: %s", w[0] ? w : edu_strerror(rv));
		return rv;
	}
	if (strcmp(edu_pki_id_unit(n->id), c->id) != 0) {
		snprintf(why, whylen, "[tls] cert %s is issued to unit %s, but [node] id is %s: refusing to start "
		    "(issue a certificate for %s with `edunetctl ca issue --unit %s`)", c->tls_cert,
		    edu_pki_id_unit(n->id), c->id, c->id, c->id);
		return EDU_EPERM;
	}
	if ((rv = edu_pki_verifier_new(&n->verifier, c->tls_ca, c->tls_revoked, w, sizeof w)) != EDU_OK) {
		snprintf(why, whylen, "[tls] ca/revoked: %s", w[0] ? w : edu_strerror(rv));
		return rv;
	}
	/* Our own certificate must pass what our peers will check. */
	{
		const uint8_t *der;
		size_t len;
		uint8_t pub[EDU_PKI_PUB_LEN];
		if ((rv = edu_pki_id_cert_der(n->id, &der, &len)) == EDU_OK)
			rv = edu_pki_verify_cert(n->verifier, der, len, c->id, pub, w, sizeof w);
		if (rv != EDU_OK) {
			snprintf(why, whylen, "[tls] cert %s does not verify against [tls] ca: %s", c->tls_cert, w);
			return rv;
		}
	}
	revoked_mtime(c, &n->revoked_mtime);
	return EDU_OK;
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
	pthread_mutex_init(&n->watch_mu, NULL);
	pthread_cond_init(&n->watch_cv, NULL);

	if (edu_conf_has_identity(c)) {
		if ((rv = identity_load(n, c, why, whylen)) != EDU_OK)
			goto out;
		edu_log(LOG_INFO, "node: identity %s loaded; every record received must carry a valid origin signature",
		    c->id);
	} else {
		edu_log(LOG_WARNING, "node: no [tls]: test/demo mode, items unsigned and links unauthenticated; "
		    "only for tests and demos");
	}

	edu_store_opts so = {
		.dir = c->data_dir, .map_size = c->map_size, .map_max = c->map_max, .self_unit = c->id,
		.idle_fn = give_memory_back,
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
			.id = n->id,
			.verifier = n->verifier,
			.self_status = self_status,
			.self_status_arg = n,
		};
		char aw[256] = "";
		if ((rv = edu_agg_start(&n->agg, &ao, aw, sizeof aw)) != EDU_OK) {
			snprintf(why, whylen, "aggregator: %s", aw[0] ? aw : edu_strerror(rv));
			goto out;
		}
	}

	{
		char dpath[4096], dw[256] = "";
		snprintf(dpath, sizeof dpath, "%s/directives", c->data_dir);
		edu_dir_opts dopts = {
			.dir = dpath, .self_unit = c->id, .self_name = c->name, .reg = edu_agg_registry(n->agg),
			.id = n->id, .verifier = n->verifier, .has_parent = c->uplink_parent != NULL,
		};
		if ((rv = edu_dir_open(&n->dirs, &dopts, dw, sizeof dw)) != EDU_OK) {
			snprintf(why, whylen, "directives: %s", dw[0] ? dw : edu_strerror(rv));
			goto out;
		}
		edu_agg_set_dirs(n->agg, n->dirs);
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
			.id = n->id,
			.verifier = n->verifier,
			.parent_unit = c->uplink_parent_unit,
			.dirs = n->dirs,
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
		.sign = n->id ? sign_item : NULL,
		.sign_arg = n->id,
		.dirs = n->dirs,
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
		.dirs = n->dirs, /* portal: "Văn bản chỉ đạo" (/d) */
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
	if (n->verifier && c->tls_revoked) {
		if (pthread_create(&n->watch_thr, NULL, watch_main, n) != 0) {
			snprintf(why, whylen, "cannot start the revocation list watcher");
			rv = EDU_ENOMEM;
			goto out;
		}
		n->watch_started = true;
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
	if (n->watch_started) {
		pthread_mutex_lock(&n->watch_mu);
		n->watch_stop = true;
		pthread_cond_broadcast(&n->watch_cv);
		pthread_mutex_unlock(&n->watch_mu);
		pthread_join(n->watch_thr, NULL);
	}
	edu_http_stop(n->http); /* answers in-flight writes first */
	edu_uplink *u = atomic_exchange(&n->uplink, NULL);
	edu_uplink_stop(u);
	edu_agg_stop(n->agg);
	edu_api_free(n->api);
	edu_dir_close(n->dirs);
	edu_store_close(n->store); /* drains queued writes */
	if (n->store)
		edu_log(LOG_NOTICE, "node: %s stopped", n->conf->id);
	edu_pki_verifier_free(n->verifier);
	edu_pki_id_free(n->id);
	pthread_cond_destroy(&n->watch_cv);
	pthread_mutex_destroy(&n->watch_mu);
	free(n);
}
