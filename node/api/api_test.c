/* node/api against a real store and HTTP server in this process: requests go
 * over a loopback socket, writes complete through the store's writer thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include "api/api.h"
#include "core/timefmt.h"
#include "http/http.h"

typedef struct fixture {
	char dir[64];
	edu_store *store;
	edu_api *api;
	edu_http *http;
} fixture;

static void status_fn(edu_node_status *out, void *arg)
{
	memset(out, 0, sizeof *out);
	snprintf(out->unit, sizeof out->unit, "th-test");
	snprintf(out->role, sizeof out->role, "school");
	snprintf(out->version, sizeof out->version, "test");
	snprintf(out->uplink_state, sizeof out->uplink_state, "none");
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/edu-api-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	edu_store_opts so = {.dir = f->dir, .self_unit = "th-test"};
	if (edu_store_open(&f->store, &so) != EDU_OK)
		return -1;
	edu_api_opts ao = {.store = f->store, .self_unit = "th-test", .self_name = "Trường Thử",
	    .token = "sekret", .tz_offset_min = EDU_TZ_VN_MIN, .self_status = status_fn};
	if (edu_api_new(&f->api, &ao) != EDU_OK)
		return -1;
	edu_http_opts ho = {.host = "127.0.0.1", .port = 0, .threads = 2, .max_body = 1 << 20,
	    .base_url = "http://127.0.0.1", .store = f->store, .self_unit = "th-test",
	    .self_name = "Trường Thử", .role = "school", .api = edu_api_handle, .api_arg = f->api};
	if (edu_http_start(&f->http, &ho) != EDU_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	edu_http_stop(f->http);
	edu_api_free(f->api);
	edu_store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* One request on a fresh connection; returns the status, body in *out (malloc'd). */
static int request(fixture *f, const char *method, const char *path, const char *auth, const char *ctype,
    const char *body, size_t blen, char **out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)edu_http_port(f->http))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	char head[1024], auth_h[128] = "", ct_h[128] = "";
	if (auth)
		snprintf(auth_h, sizeof auth_h, "Authorization: Bearer %s\r\n", auth);
	if (ctype)
		snprintf(ct_h, sizeof ct_h, "Content-Type: %s\r\n", ctype);
	int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s%s"
	    "Content-Length: %zu\r\n\r\n", method, path, auth_h, ct_h, blen);
	char *req = malloc((size_t)n + blen + 1);
	memcpy(req, head, (size_t)n);
	memcpy(req + n, body, blen);
	assert_int_equal(write(fd, req, (size_t)n + blen), (ssize_t)((size_t)n + blen));
	free(req);
	size_t cap = 1 << 16, have = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while ((r = read(fd, buf + have, cap - 1 - have)) > 0)
		have += (size_t)r;
	buf[have] = '\0';
	close(fd);
	int status = atoi(buf + 9);
	char *b = strstr(buf, "\r\n\r\n");
	*out = strdup(b ? b + 4 : "");
	if (strstr(buf, "X-Content-Type-Options: nosniff") == NULL)
		status = -1; /* every answer carries it */
	free(buf);
	return status;
}

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	assert_non_null(j);
	return j;
}

static void create_get(void **state)
{
	fixture *f = *state;
	char *out;
	const char *body = "{\"kind\":\"announcement\",\"title\":\"Thông báo tuyển sinh\"}";
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", body, strlen(body), &out), 201);
	json_t *j = parse(out);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "th-test:1");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	/* The create reply is short (id, version, published); Location names the item. */
	assert_non_null(json_string_value(json_object_get(j, "published")));
	assert_int_equal(json_object_size(j), 3);
	json_decref(j);
	free(out);
	assert_int_equal(request(f, "GET", "/api/v1/items/th-test:1", NULL, NULL, "", 0, &out), 200);
	j = parse(out);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "Thông báo tuyển sinh");
	assert_string_equal(json_string_value(json_object_get(j, "unit_name")), "Trường Thử");
	json_decref(j);
	free(out);
	assert_int_equal(request(f, "GET", "/api/v1/items?kind=announcement", NULL, NULL, "", 0, &out), 200);
	j = parse(out);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_true(json_is_null(json_object_get(j, "next")));
	json_decref(j);
	free(out);
	/* The page cache sees the new generation. */
	assert_int_equal(request(f, "GET", "/feed.json", NULL, NULL, "", 0, &out), 200);
	assert_non_null(strstr(out, "Thông báo tuyển sinh"));
	free(out);
}

static void auth(void **state)
{
	fixture *f = *state;
	char *out;
	const char *body = "{\"kind\":\"news\",\"title\":\"x\"}";
	assert_int_equal(request(f, "POST", "/api/v1/items", NULL, "application/json", body, strlen(body), &out), 401);
	json_t *j = parse(out);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "unauthorized");
	json_decref(j);
	free(out);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekre", "application/json", body, strlen(body), &out), 401);
	free(out);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekrett", "application/json", body, strlen(body), &out), 401);
	free(out);
	assert_int_equal(request(f, "DELETE", "/api/v1/items/th-test:1", NULL, NULL, "", 0, &out), 401);
	free(out);
}

static void bad_bodies(void **state)
{
	fixture *f = *state;
	char *out;
	static const struct { const char *body; size_t len; int status; } cases[] = {
		{"{", 1, 400},
		{"42", 2, 400},
		{"{\"kind\":\"news\",\"title\":\"x\",\"nope\":1}", 36, 400},
		{"{\"kind\":\"news\",\"title\":\"a\0b\"}", 29, 400},
		{"{\"kind\":\"news\",\"title\":\"\xc3\x28\"}", 29, 400},
		{"{\"kind\":\"news\"}", 15, 400},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st = request(f, "POST", "/api/v1/items", "sekret", "application/json", cases[i].body,
		    cases[i].len, &out);
		if (st != cases[i].status)
			fail_msg("case %zu: status %d body %s", i, st, out);
		json_t *j = parse(out);
		assert_string_equal(json_string_value(json_object_get(j, "error")), "bad_request");
		assert_non_null(json_string_value(json_object_get(j, "message")));
		json_decref(j);
		free(out);
	}
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "text/plain", "{}", 2, &out), 415);
	free(out);
	/* Nesting far past the parser's limit (1,000 levels) is a plain 400, in
	 * a batch and in an update, and \u0000 is refused there too. */
	size_t deep = 200000;
	char *nest = malloc(deep);
	assert_non_null(nest);
	memset(nest, '[', deep);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", nest, deep, &out), 400);
	assert_non_null(strstr(out, "bad JSON"));
	free(out);
	memset(nest, '{', 1);
	for (size_t i = 1; i + 5 < deep; i += 5)
		memcpy(nest + i, "\"a\":{", 5);
	assert_int_equal(request(f, "PUT", "/api/v1/items/th-test:1", "sekret", "application/json", nest, deep, &out),
	    400);
	free(out);
	free(nest);
	const char *nul = "{\"kind\":\"news\",\"title\":\"a\\u0000b\"}";
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", nul, strlen(nul), &out), 400);
	assert_non_null(strstr(out, "NUL"));
	free(out);
}

static void update_conflict(void **state)
{
	fixture *f = *state;
	char *out;
	const char *body = "{\"kind\":\"news\",\"title\":\"Bản 1\"}";
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", body, strlen(body), &out), 201);
	free(out);
	const char *upd = "{\"title\":\"Bản 2\"}";
	assert_int_equal(request(f, "PUT", "/api/v1/items/th-test:1", "sekret", "application/json", upd, strlen(upd), &out), 200);
	json_t *j = parse(out);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
	json_decref(j);
	free(out);
	assert_int_equal(request(f, "PUT", "/api/v1/items/th-khac:1", "sekret", "application/json", upd, strlen(upd), &out), 403);
	free(out);
	assert_int_equal(request(f, "DELETE", "/api/v1/items/th-test:1", "sekret", NULL, "", 0, &out), 200);
	free(out);
	assert_int_equal(request(f, "DELETE", "/api/v1/items/th-test:1", "sekret", NULL, "", 0, &out), 404);
	free(out);
	assert_int_equal(request(f, "DELETE", "/api/v1/items/th-test:9", "sekret", NULL, "", 0, &out), 404);
	free(out);
}

static void status_paths(void **state)
{
	fixture *f = *state;
	char *out;
	assert_int_equal(request(f, "GET", "/api/v1/status", NULL, NULL, "", 0, &out), 200);
	json_t *j = parse(out);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "th-test");
	assert_non_null(json_object_get(json_object_get(j, "uplink"), "backlog"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "children"), "expected")), 0);
	json_decref(j);
	free(out);
	assert_int_equal(request(f, "GET", "/api/v1/report/deployment", NULL, NULL, "", 0, &out), 404);
	free(out);
	assert_int_equal(request(f, "GET", "/api/v1/topology", NULL, NULL, "", 0, &out), 200);
	free(out);
	assert_int_equal(request(f, "POST", "/api/v1/status", "sekret", NULL, "", 0, &out), 405);
	free(out);
	assert_int_equal(request(f, "GET", "/api/v2/items", NULL, NULL, "", 0, &out), 404);
	free(out);
}


/* Builds a JSON array of n simple items titled "Batch i". */
static char *batch_body(size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char t[64];
		snprintf(t, sizeof t, "Bản tin số %zu", i);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "kind", "news", "title", t, "body", "Nội dung"));
	}
	char *s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

static void batch_create(void **state)
{
	fixture *f = *state;
	char *out, *body = batch_body(EDU_API_BATCH_MAX);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", body, strlen(body), &out),
	    201);
	free(body);
	json_t *j = parse(out);
	free(out);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), EDU_API_BATCH_MAX);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 0);
	json_t *items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), EDU_API_BATCH_MAX);
	/* Every input index has its own id; each one reads back with its own title. */
	for (size_t i = 0; i < EDU_API_BATCH_MAX; i += 51) {
		json_t *r = json_array_get(items, i);
		const char *id = json_string_value(json_object_get(r, "id"));
		assert_non_null(id);
		assert_int_equal(json_integer_value(json_object_get(r, "version")), 1);
		assert_non_null(json_string_value(json_object_get(r, "published")));
		char path[128], want[64];
		snprintf(path, sizeof path, "/api/v1/items/%s", id);
		assert_int_equal(request(f, "GET", path, NULL, NULL, "", 0, &out), 200);
		json_t *g = parse(out);
		free(out);
		snprintf(want, sizeof want, "Bản tin số %zu", i);
		assert_string_equal(json_string_value(json_object_get(g, "title")), want);
		json_decref(g);
	}
	/* Distinct ids. */
	const char *first = json_string_value(json_object_get(json_array_get(items, 0), "id"));
	const char *last = json_string_value(json_object_get(json_array_get(items, EDU_API_BATCH_MAX - 1), "id"));
	assert_string_not_equal(first, last);
	json_decref(j);
	assert_int_equal(request(f, "GET", "/api/v1/items?kind=news&limit=100", NULL, NULL, "", 0, &out), 200);
	j = parse(out);
	free(out);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 100);
	assert_true(json_is_string(json_object_get(j, "next")));
	json_decref(j);
}

static void batch_mixed(void **state)
{
	fixture *f = *state;
	char *out;
	const char *body = "[{\"kind\":\"news\",\"title\":\"Một\"},"
	    "{\"kind\":\"nope\",\"title\":\"Sai loại\"},"
	    "42,"
	    "{\"kind\":\"news\"},"
	    "{\"kind\":\"news\",\"title\":\"Hai\",\"bogus\":1},"
	    "{\"kind\":\"event\",\"title\":\"Ba\",\"attachments\":[{\"sha256\":\""
	    "0000000000000000000000000000000000000000000000000000000000000000\",\"name\":\"a.pdf\","
	    "\"media_type\":\"application/pdf\",\"size\":1}]},"
	    "{\"kind\":\"event\",\"title\":\"Bốn\"}]";
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", body, strlen(body), &out),
	    201);
	json_t *j = parse(out);
	free(out);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 5);
	json_t *items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 7);
	const bool ok[7] = {true, false, false, false, false, false, true};
	for (size_t i = 0; i < 7; i++) {
		json_t *r = json_array_get(items, i);
		if (ok[i]) {
			assert_non_null(json_string_value(json_object_get(r, "id")));
			assert_null(json_object_get(r, "error"));
		} else {
			assert_string_equal(json_string_value(json_object_get(r, "error")), "bad_request");
			assert_non_null(json_string_value(json_object_get(r, "message")));
			assert_null(json_object_get(r, "id"));
		}
	}
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(items, 5), "message")),
	    "attachments[0]"));
	/* The valid ones are stored, with consecutive seqs: invalid ones took none. */
	const char *id0 = json_string_value(json_object_get(json_array_get(items, 0), "id"));
	const char *id6 = json_string_value(json_object_get(json_array_get(items, 6), "id"));
	assert_string_equal(id0, "th-test:1");
	assert_string_equal(id6, "th-test:2");
	assert_int_equal(request(f, "GET", "/api/v1/items/th-test:2", NULL, NULL, "", 0, &out), 200);
	json_t *g = parse(out);
	free(out);
	assert_string_equal(json_string_value(json_object_get(g, "title")), "Bốn");
	json_decref(g);
	json_decref(j);
}

static void batch_limits(void **state)
{
	fixture *f = *state;
	char *out, *body = batch_body(EDU_API_BATCH_MAX + 1);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", body, strlen(body), &out),
	    413);
	assert_non_null(strstr(out, "too_large"));
	free(out);
	free(body);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", "[]", 2, &out), 400);
	free(out);
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", "\"x\"", 3, &out), 400);
	free(out);
	/* Nothing valid: 400, with the per-item answers and the usual error fields. */
	const char *bad = "[{\"kind\":\"news\"}, [], {\"q\\\"\\\\\\u0001\":1}]";
	assert_int_equal(request(f, "POST", "/api/v1/items", "sekret", "application/json", bad, strlen(bad), &out), 400);
	json_t *j = parse(out);
	free(out);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "bad_request");
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 3);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	/* a message quoting the client's key is still JSON, and says it */
	const char *m = json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 2), "message"));
	assert_non_null(m);
	assert_non_null(strstr(m, "unknown key \"q\"\\"));
	json_decref(j);
	/* Writes need the token, arrays too. */
	assert_int_equal(request(f, "POST", "/api/v1/items", NULL, "application/json", "[{}]", 4, &out), 401);
	free(out);
	/* Nothing was stored by any of these. */
	assert_int_equal(request(f, "GET", "/api/v1/items", NULL, NULL, "", 0, &out), 200);
	j = parse(out);
	free(out);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(auth, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(update_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(status_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_create, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_limits, setup, teardown),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
