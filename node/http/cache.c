/* Response cache for GET pages and feeds: a small table scanned by hash,
 * LRU eviction by a use tick, bounded by entry count and bytes. Entries are
 * valid only for the store generation they were built at, so a commit
 * invalidates everything without any callback from the store. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_internal.h"

struct http_cache {
	pthread_mutex_t mu;
	http_entry **slots;
	size_t max_entries, max_bytes;
	size_t n, bytes;
	uint64_t tick;
};

uint64_t http_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

http_cache *http_cache_new(size_t max_entries, size_t max_bytes)
{
	http_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->slots = calloc(max_entries ? max_entries : 1, sizeof *c->slots);
	if (!c->slots) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->max_entries = max_entries ? max_entries : 1;
	c->max_bytes = max_bytes;
	return c;
}

void http_entry_unref(http_entry *e)
{
	if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	free(e->key);
	free(e->body);
	free(e);
}

static size_t entry_cost(const http_entry *e)
{
	return e->len + strlen(e->key) + sizeof *e;
}

/* Removes slot i (lock held); the last slot moves into its place. */
static void drop(http_cache *c, size_t i)
{
	http_entry *e = c->slots[i];
	c->bytes -= entry_cost(e);
	c->slots[i] = c->slots[--c->n];
	c->slots[c->n] = NULL;
	http_entry_unref(e);
}

void http_cache_free(http_cache *c)
{
	if (!c)
		return;
	while (c->n)
		drop(c, c->n - 1);
	pthread_mutex_destroy(&c->mu);
	free(c->slots);
	free(c);
}

http_entry *http_cache_get(http_cache *c, const char *key, uint64_t gen)
{
	uint64_t h = http_hash(key, strlen(key));
	http_entry *found = NULL;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n;) {
		http_entry *e = c->slots[i];
		if (e->gen != gen) {
			drop(c, i); /* stale: the store changed since it was built */
			continue;
		}
		if (e->hash == h && strcmp(e->key, key) == 0) {
			e->last_used = ++c->tick;
			atomic_fetch_add(&e->refs, 1);
			found = e;
			break;
		}
		i++;
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}

http_entry *http_cache_put(http_cache *c, const char *key, uint64_t gen, int status, const char *ctype,
    const char *body, size_t len, const char *etag, const char *last_modified)
{
	http_entry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	size_t klen = strlen(key);
	e->key = malloc(klen + 1);
	e->body = malloc(len ? len : 1);
	if (!e->key || !e->body) {
		free(e->key);
		free(e->body);
		free(e);
		return NULL;
	}
	memcpy(e->key, key, klen + 1);
	if (len)
		memcpy(e->body, body, len);
	e->len = len;
	e->hash = http_hash(key, klen);
	e->gen = gen;
	e->status = status;
	e->ctype = ctype;
	snprintf(e->etag, sizeof e->etag, "%s", etag ? etag : "");
	snprintf(e->last_modified, sizeof e->last_modified, "%s", last_modified ? last_modified : "");
	atomic_init(&e->refs, 1); /* the caller's reference */
	size_t cost = entry_cost(e);
	if (cost > c->max_bytes)
		return e; /* served once, never cached */

	pthread_mutex_lock(&c->mu);
	/* Replace an existing entry for the same key (two loops built it at once). */
	for (size_t i = 0; i < c->n; i++) {
		if (c->slots[i]->hash == e->hash && strcmp(c->slots[i]->key, key) == 0) {
			drop(c, i);
			break;
		}
	}
	while (c->n && (c->n >= c->max_entries || c->bytes + cost > c->max_bytes)) {
		size_t victim = 0;
		for (size_t i = 1; i < c->n; i++) {
			if (c->slots[i]->gen != gen) { /* stale ones go first */
				victim = i;
				break;
			}
			if (c->slots[i]->last_used < c->slots[victim]->last_used)
				victim = i;
		}
		drop(c, victim);
	}
	e->last_used = ++c->tick;
	atomic_fetch_add(&e->refs, 1); /* the cache's reference */
	c->slots[c->n++] = e;
	c->bytes += cost;
	pthread_mutex_unlock(&c->mu);
	return e;
}

void http_cache_stats(http_cache *c, size_t *entries, size_t *bytes)
{
	pthread_mutex_lock(&c->mu);
	*entries = c->n;
	*bytes = c->bytes;
	pthread_mutex_unlock(&c->mu);
}
