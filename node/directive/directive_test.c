/* Unit tests of node/directive: durability, format check, audience
 * expansion, the state rule at the deadline boundary, and the transport
 * halves (parent serve / child apply) including refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

#include "directive.pb-c.h"
#include "directive/directive.h"
#include "pki/pki.h"
#include "registry.h"

static const char REG[] = "id,name,type,parent\n"
			  "so-x,Sở,so,\n"
			  "pgd-a,Phòng A,phong,so-x\n"
			  "pgd-b,Phòng B,phong,so-x\n"
			  "thcs-a1,THCS A1,thcs,pgd-a\n"
			  "th-a1,TH A1,th,pgd-a\n"
			  "thcs-b1,THCS B1,thcs,pgd-b\n"
			  "thpt-s1,THPT S1,thpt,so-x\n";

typedef struct fx {
	char dir[64];
	edu_registry *reg;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char why[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/edu-dir-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(edu_registry_parse(&f->reg, "test", REG, strlen(REG), why, sizeof why), EDU_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	edu_registry_free(f->reg);
	free(f);
	return 0;
}

static edu_dir *open_at(fx *f, const char *unit, bool reg, bool parent)
{
	char path[128], why[256] = "";
	edu_dir *d = NULL;
	snprintf(path, sizeof path, "%s/%s", f->dir, unit);
	edu_dir_opts o = {.dir = path, .self_unit = unit, .reg = reg ? f->reg : NULL, .has_parent = parent};
	assert_int_equal(edu_dir_open(&d, &o, why, sizeof why), EDU_OK);
	return d;
}

static void publish(edu_dir *d, const char *const *types, size_t nt, int64_t deadline, char id[EDU_DIR_ID_MAX])
{
	char why[256] = "";
	edu_dir_new n = {.title = "Chỉ đạo", .body = "Nội dung", .types = types, .n_types = nt,
			 .report_requested = true, .deadline = deadline};
	assert_int_equal(edu_dir_publish(d, &n, id, why, sizeof why), EDU_OK);
}

static size_t count_list(edu_dir *d)
{
	json_t *j = NULL;
	assert_int_equal(edu_dir_list_json(d, 0, &j), EDU_OK);
	size_t n = json_array_size(json_object_get(j, "directives"));
	json_decref(j);
	return n;
}

static void reopen_durable(void **state)
{
	fx *f = *state;
	static const char *const thcs[] = {"thcs"};
	char id[EDU_DIR_ID_MAX], id2[EDU_DIR_ID_MAX];
	edu_dir *d = open_at(f, "so-x", true, false);
	publish(d, thcs, 1, 0, id);
	assert_string_equal(id, "so-x:d1");
	edu_dir_close(d);
	d = open_at(f, "so-x", true, false);
	assert_int_equal(count_list(d), 1);
	publish(d, thcs, 1, 0, id2);
	assert_string_equal(id2, "so-x:d2"); /* the number survives the reopen */
	edu_dir_close(d);
}

static void format_check(void **state)
{
	fx *f = *state;
	char path[128], why[256] = "";
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi meta;
	edu_dir *d = open_at(f, "so-x", true, false);
	edu_dir_close(d);
	snprintf(path, sizeof path, "%s/so-x", f->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "meta", 0, &meta), 0);
	MDB_val k = {6, "format"}, v = {2, "99"};
	assert_int_equal(mdb_put(t, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(t), 0);
	mdb_env_close(env);
	edu_dir_opts o = {.dir = path, .self_unit = "so-x", .reg = f->reg};
	assert_int_equal(edu_dir_open(&d, &o, why, sizeof why), EDU_EVERSION);
	assert_non_null(strstr(why, "99"));
}

static void expand_audience(void **state)
{
	fx *f = *state;
	static const char *const thcs[] = {"thcs"}, *const bad[] = {"nope"};
	static const char *const out_units[] = {"thcs-b1"};
	char id[EDU_DIR_ID_MAX], why[256] = "";
	json_t *j = NULL;
	edu_dir *so = open_at(f, "so-x", true, false), *pa = open_at(f, "pgd-a", true, true);
	publish(so, thcs, 1, 0, id);
	assert_int_equal(edu_dir_get_json(so, id, &j), EDU_OK);
	json_t *t = json_object_get(j, "target_units");
	assert_int_equal(json_array_size(t), 2);
	assert_string_equal(json_string_value(json_array_get(t, 0)), "thcs-a1");
	assert_string_equal(json_string_value(json_array_get(t, 1)), "thcs-b1");
	json_decref(j);
	/* empty audience: the whole subtree below the issuer */
	publish(so, NULL, 0, 0, id);
	assert_int_equal(edu_dir_get_json(so, id, &j), EDU_OK);
	assert_int_equal(json_array_size(json_object_get(j, "target_units")), 6);
	json_decref(j);
	edu_dir_new n = {.title = "x", .types = bad, .n_types = 1};
	assert_int_equal(edu_dir_publish(so, &n, id, why, sizeof why), EDU_EINVAL);
	n = (edu_dir_new){.title = "x", .units = out_units, .n_units = 1};
	assert_int_equal(edu_dir_publish(pa, &n, id, why, sizeof why), EDU_EINVAL); /* outside pgd-a */
	n = (edu_dir_new){.title = "", .types = thcs, .n_types = 1};
	assert_int_equal(edu_dir_publish(so, &n, id, why, sizeof why), EDU_EINVAL);
	edu_dir_close(so);
	edu_dir_close(pa);
}

static void publish_requires_registry(void **state)
{
	fx *f = *state;
	char id[EDU_DIR_ID_MAX], why[256] = "";
	edu_dir *school = open_at(f, "thcs-a1", false, true);
	edu_dir_new n = {.title = "Giả mạo"};
	assert_int_equal(edu_dir_publish(school, &n, id, why, sizeof why), EDU_EPERM);
	edu_dir_close(school);
}

static void state_rule(void **state)
{
	int64_t dl = 1000; /* seconds */
	assert_string_equal(edu_dir_state(true, dl, 0, 0, 999000), "pending");
	assert_string_equal(edu_dir_state(true, dl, 0, 0, 1000000), "pending"); /* exactly at the deadline */
	assert_string_equal(edu_dir_state(true, dl, 0, 0, 1000001), "missing");
	assert_string_equal(edu_dir_state(true, dl, 5, 1000000, 2000000), "on_time"); /* reported at the deadline */
	assert_string_equal(edu_dir_state(true, dl, 5, 1000001, 2000000), "late");
	assert_string_equal(edu_dir_state(true, dl, 5, 1000001, 999000), "pending"); /* not yet at `at` */
	assert_string_equal(edu_dir_state(true, 0, 5, 0, 9e12), "pending");
	assert_string_equal(edu_dir_state(false, dl, 900000, 0, 2000000), "on_time"); /* ack is enough */
	assert_string_equal(edu_dir_state(false, dl, 0, 0, 2000000), "missing");
}

/* One sync round child <- parent (both directions). */
static void sync_round_as(edu_dir *parent, const char *parent_unit, const char *child_unit, edu_dir *child)
{
	Edunet__Wire__DirSync req;
	Edunet__Wire__DirSyncAck ack;
	uint64_t upto;
	assert_int_equal(edu_dir_sync_build(child, &req, &upto), EDU_OK);
	assert_int_equal(edu_dir_serve(parent, child_unit, &req, &ack), EDU_OK);
	size_t n = req.n_receipts;
	assert_int_equal(edu_dir_sync_apply(child, &ack, upto, n, parent_unit), EDU_OK);
	edu_dir_serve_free(&ack);
	edu_dir_sync_free(&req);
}

/* The parent of each child in REG (what the uplink's handshake would bind). */
static void sync_round(edu_dir *parent, const char *child_unit, edu_dir *child)
{
	const char *pu = strncmp(child_unit, "pgd-", 4) == 0 || strncmp(child_unit, "thpt-", 5) == 0 ? "so-x"
	    : strstr(child_unit, "-a") ? "pgd-a" : "pgd-b";
	sync_round_as(parent, pu, child_unit, child);
}

static json_t *status_of(edu_dir *d, const char *id, int64_t at)
{
	json_t *j = NULL;
	assert_int_equal(edu_dir_status_json(d, id, at, &j), EDU_OK);
	return j;
}

static const char *unit_state(json_t *st, const char *unit)
{
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(st, "units"), i, u)
		if (strcmp(json_string_value(json_object_get(u, "unit")), unit) == 0)
			return json_string_value(json_object_get(u, "state"));
	return "?";
}

static void sync_roundtrip(void **state)
{
	fx *f = *state;
	static const char *const thcs[] = {"thcs"};
	char id[EDU_DIR_ID_MAX], why[256] = "";
	edu_dir *so = open_at(f, "so-x", true, false), *pa = open_at(f, "pgd-a", true, true),
		*a1 = open_at(f, "thcs-a1", false, true), *ta = open_at(f, "th-a1", false, true);
	publish(so, thcs, 1, 2000000000, id);
	sync_round(so, "pgd-a", pa);
	sync_round(pa, "thcs-a1", a1);
	sync_round(pa, "th-a1", ta);
	assert_int_equal(count_list(pa), 0); /* passing through, not for the Phòng */
	assert_int_equal(count_list(a1), 1);
	assert_int_equal(count_list(ta), 0);
	assert_int_equal(edu_dir_ack(ta, id, 0, why, sizeof why), EDU_ENOENT);
	assert_int_equal(edu_dir_report(a1, id, "Xong", NULL, 0, 1500000000000, why, sizeof why), EDU_OK);
	assert_int_equal(edu_dir_report(a1, id, "Lần hai", NULL, 0, 0, why, sizeof why), EDU_EEXIST);
	sync_round(pa, "thcs-a1", a1); /* receipts up to the Phòng */
	sync_round(so, "pgd-a", pa);   /* and on to the Sở */
	json_t *st = status_of(so, id, 1600000000000);
	assert_string_equal(unit_state(st, "thcs-a1"), "on_time");
	assert_string_equal(unit_state(st, "thcs-b1"), "pending");
	json_decref(st);
	st = status_of(so, id, 2000000001000);
	assert_string_equal(unit_state(st, "thcs-b1"), "missing");
	json_decref(st);
	edu_dir_close(so);
	edu_dir_close(pa);
	edu_dir_close(a1);
	edu_dir_close(ta);
}

static void cursor_and_uplog(void **state)
{
	fx *f = *state;
	static const char *const thcs[] = {"thcs"};
	char id[EDU_DIR_ID_MAX];
	Edunet__Wire__DirSync req;
	uint64_t upto;
	edu_dir *so = open_at(f, "so-x", true, false), *pa = open_at(f, "pgd-a", true, true);
	publish(so, thcs, 1, 0, id);
	sync_round(so, "pgd-a", pa);
	assert_int_equal(edu_dir_sync_build(pa, &req, &upto), EDU_OK);
	assert_true(req.down_cursor == 1); /* advanced past what it got */
	edu_dir_sync_free(&req);
	edu_dir_close(pa);
	/* a lost ack: the child re-sends its receipts and re-asks from the old cursor */
	pa = open_at(f, "pgd-a", true, true);
	assert_int_equal(edu_dir_sync_build(pa, &req, &upto), EDU_OK);
	assert_true(req.down_cursor == 1);
	edu_dir_sync_free(&req);
	edu_dir_close(pa);
	edu_dir_close(so);
}

static void forged_refused(void **state)
{
	fx *f = *state;
	static const char *const thcs[] = {"thcs"};
	char id[EDU_DIR_ID_MAX];
	/* pgd-b publishes; pgd-a (another branch, with a registry) must refuse
	 * it: the issuer is not above it. */
	edu_dir *pb = open_at(f, "pgd-b", true, true), *pa = open_at(f, "pgd-a", true, true);
	publish(pb, thcs, 1, 0, id);
	Edunet__Wire__DirSync req;
	Edunet__Wire__DirSyncAck ack;
	uint64_t upto;
	/* serve as if pgd-b were pgd-a's parent: thcs-b1 is the only target,
	 * so pretend the child is pgd-b itself to get the record out */
	assert_int_equal(edu_dir_sync_build(pa, &req, &upto), EDU_OK);
	assert_int_equal(edu_dir_serve(pb, "thcs-b1", &req, &ack), EDU_OK);
	assert_int_equal(ack.n_directives, 1);
	assert_int_equal(edu_dir_sync_apply(pa, &ack, upto, 0, "pgd-b"), EDU_OK);
	assert_int_equal(count_list(pa), 0); /* refused, not stored */
	edu_dir_serve_free(&ack);
	edu_dir_sync_free(&req);
	edu_dir_close(pa);
	edu_dir_close(pb);
}

static void report_rules(void **state)
{
	fx *f = *state;
	char id[EDU_DIR_ID_MAX], why[256] = "";
	static const char *const thcs[] = {"thcs"};
	edu_dir *so = open_at(f, "so-x", true, false), *pa = open_at(f, "pgd-a", true, true),
		*a1 = open_at(f, "thcs-a1", false, true);
	edu_dir_new n = {.title = "Chỉ thông báo", .types = thcs, .n_types = 1};
	assert_int_equal(edu_dir_publish(so, &n, id, why, sizeof why), EDU_OK);
	sync_round(so, "pgd-a", pa);
	sync_round(pa, "thcs-a1", a1);
	assert_int_equal(edu_dir_report(a1, id, "x", NULL, 0, 0, why, sizeof why), EDU_EINVAL); /* no report asked */
	assert_int_equal(edu_dir_ack(a1, id, 0, why, sizeof why), EDU_OK);
	assert_int_equal(edu_dir_ack(a1, id, 0, why, sizeof why), EDU_OK); /* idempotent */
	edu_dir_file big = {"a.bin", "application/octet-stream", (const uint8_t *)"x", 0};
	assert_int_equal(edu_dir_report(a1, "so-x:d9", "x", &big, 1, 0, why, sizeof why), EDU_ETOOBIG);
	edu_dir_close(so);
	edu_dir_close(pa);
	edu_dir_close(a1);
}

static void status_rollup(void **state)
{
	fx *f = *state;
	char id[EDU_DIR_ID_MAX];
	edu_dir *so = open_at(f, "so-x", true, false);
	publish(so, NULL, 0, 1000, id);
	json_t *st = status_of(so, id, 2000000);
	json_t *ph = json_object_get(json_object_get(st, "rollup"), "by_phong");
	assert_int_equal(json_array_size(ph), 3); /* pgd-a, pgd-b, and the Sở's direct units */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "total"), "missing")), 6);
	json_decref(st);
	edu_dir_close(so);
}


/* ---- real keys: a throw-away CA in the fixture's directory ---- */

typedef struct keys {
	edu_pki_id *so, *pa, *a1, *other_so;
	edu_pki_verifier *v;
} keys;

static edu_pki_id *load_unit(const char *dir, const char *unit)
{
	char crt[256], key[256], ed[256], why[256] = "";
	edu_pki_id *id = NULL;
	snprintf(crt, sizeof crt, "%s/%s.crt", dir, unit);
	snprintf(key, sizeof key, "%s/%s.key", dir, unit);
	snprintf(ed, sizeof ed, "%s/%s.ed25519", dir, unit);
	assert_int_equal(edu_pki_id_load(&id, crt, key, ed, why, sizeof why), EDU_OK);
	return id;
}

static void keys_make(fx *f, keys *k)
{
	char ca[128], out[128], oca[128], oout[128], pem[160], why[256] = "";
	snprintf(ca, sizeof ca, "%s/ca", f->dir);
	snprintf(out, sizeof out, "%s/units", f->dir);
	snprintf(oca, sizeof oca, "%s/other-ca", f->dir);
	snprintf(oout, sizeof oout, "%s/other-units", f->dir);
	assert_int_equal(edu_pki_ca_init(ca, "Sở Thử", 0, why, sizeof why), EDU_OK);
	assert_int_equal(edu_pki_ca_init(oca, "Sở Khác", 0, why, sizeof why), EDU_OK);
	assert_int_equal(edu_pki_issue(ca, "so-x", out, -1, why, sizeof why), EDU_OK);
	assert_int_equal(edu_pki_issue(ca, "pgd-a", out, -1, why, sizeof why), EDU_OK);
	assert_int_equal(edu_pki_issue(ca, "thcs-a1", out, -1, why, sizeof why), EDU_OK);
	assert_int_equal(edu_pki_issue(oca, "so-x", oout, -1, why, sizeof why), EDU_OK);
	k->so = load_unit(out, "so-x");
	k->pa = load_unit(out, "pgd-a");
	k->a1 = load_unit(out, "thcs-a1");
	k->other_so = load_unit(oout, "so-x");
	snprintf(pem, sizeof pem, "%s/ca.crt", ca);
	assert_int_equal(edu_pki_verifier_new(&k->v, pem, NULL, why, sizeof why), EDU_OK);
}

static void keys_free(keys *k)
{
	edu_pki_id_free(k->so);
	edu_pki_id_free(k->pa);
	edu_pki_id_free(k->a1);
	edu_pki_id_free(k->other_so);
	edu_pki_verifier_free(k->v);
}

static edu_dir *open_signed(fx *f, const char *path_name, const char *unit, bool reg, bool parent,
    const edu_pki_id *id, edu_pki_verifier *v)
{
	char path[128], why[256] = "";
	edu_dir *d = NULL;
	snprintf(path, sizeof path, "%s/%s", f->dir, path_name);
	edu_dir_opts o = {.dir = path, .self_unit = unit, .reg = reg ? f->reg : NULL, .has_parent = parent,
			  .id = id, .verifier = v};
	assert_int_equal(edu_dir_open(&d, &o, why, sizeof why), EDU_OK);
	return d;
}

/* Re-signs directive bytes dir (with cert of `cert`, key of `key`; NULL: unsigned). */
static ProtobufCBinaryData resign(const uint8_t *dir, size_t len, const edu_pki_id *key, const edu_pki_id *cert)
{
	Edunet__Dir__SignedDirective s = EDUNET__DIR__SIGNED_DIRECTIVE__INIT;
	uint8_t sig[EDU_PKI_SIG_LEN], *m;
	size_t cl = strlen(EDU_DIR_SIGN_CTX) + 1;
	const uint8_t *der;
	size_t dl;
	ProtobufCBinaryData out;
	s.directive.data = (uint8_t *)dir;
	s.directive.len = len;
	if (key) {
		assert_non_null(m = malloc(cl + len));
		memcpy(m, EDU_DIR_SIGN_CTX, cl);
		memcpy(m + cl, dir, len);
		edu_pki_sign(key, m, cl + len, sig);
		free(m);
		assert_int_equal(edu_pki_id_cert_der(cert, &der, &dl), EDU_OK);
		s.sig.data = sig;
		s.sig.len = sizeof sig;
		s.cert.data = (uint8_t *)der;
		s.cert.len = dl;
	}
	out.len = edunet__dir__signed_directive__get_packed_size(&s);
	assert_non_null(out.data = malloc(out.len));
	edunet__dir__signed_directive__pack(&s, out.data);
	return out;
}

/* Offers one record to a fresh signed school store; returns how many it lists. */
static size_t offer(fx *f, keys *k, const char *name, ProtobufCBinaryData rec, const char *parent_unit)
{
	Edunet__Wire__DirSyncAck ack = EDUNET__WIRE__DIR_SYNC_ACK__INIT;
	edu_dir *a1 = open_signed(f, name, "thcs-a1", false, true, k->a1, k->v);
	ack.n_directives = 1;
	ack.directives = &rec;
	ack.down_cursor = 1;
	assert_int_equal(edu_dir_sync_apply(a1, &ack, 0, 0, parent_unit), EDU_OK);
	size_t n = count_list(a1);
	edu_dir_close(a1);
	free(rec.data);
	return n;
}

static void signed_real_key(void **state)
{
	fx *f = *state;
	keys k = {0};
	static const char *const thcs[] = {"thcs"};
	char id[EDU_DIR_ID_MAX], why[256] = "";
	Edunet__Wire__DirSync req = EDUNET__WIRE__DIR_SYNC__INIT;
	Edunet__Wire__DirSyncAck ack;
	keys_make(f, &k);
	edu_dir *so = open_signed(f, "so-x", "so-x", true, false, k.so, k.v);
	edu_dir *pa = open_signed(f, "pgd-a", "pgd-a", true, true, k.pa, k.v);
	edu_dir *a1 = open_signed(f, "thcs-a1", "thcs-a1", false, true, k.a1, k.v);
	publish(so, thcs, 1, 2000000000, id);

	/* the genuine record, as the Sở serves it */
	assert_int_equal(edu_dir_serve(so, "pgd-a", &req, &ack), EDU_OK);
	assert_int_equal(ack.n_directives, 1);
	Edunet__Dir__SignedDirective *sd = edunet__dir__signed_directive__unpack(NULL, ack.directives[0].len,
	    ack.directives[0].data);
	assert_non_null(sd);
	assert_int_equal(sd->sig.len, EDU_PKI_SIG_LEN);
	assert_true(sd->cert.len > 0);
	size_t dl = sd->directive.len;
	uint8_t *dir = malloc(dl), *bad = malloc(dl);
	assert_non_null(dir);
	assert_non_null(bad);
	memcpy(dir, sd->directive.data, dl);
	edunet__dir__signed_directive__free_unpacked(sd, NULL);

	/* verbatim from pgd-a: accepted */
	ProtobufCBinaryData raw = {ack.directives[0].len, malloc(ack.directives[0].len)};
	memcpy(raw.data, ack.directives[0].data, raw.len);
	assert_int_equal(offer(f, &k, "t-genuine", raw, "pgd-a"), 1);
	/* the same bytes handed over by another parent (routing): refused */
	raw.data = malloc(raw.len);
	memcpy(raw.data, ack.directives[0].data, raw.len);
	assert_int_equal(offer(f, &k, "t-route", raw, "pgd-b"), 0);
	edu_dir_serve_free(&ack);
	/* one byte of the title changed after signing */
	memcpy(bad, dir, dl);
	{
		const char *t = "Chỉ đạo";
		size_t tl = strlen(t), i;
		for (i = 0; i + tl <= dl && memcmp(bad + i, t, tl) != 0; i++)
			;
		assert_true(i + tl <= dl);
		bad[i] ^= 0x01;
	}
	Edunet__Dir__SignedDirective *orig = NULL;
	(void)orig;
	{
		/* keep the Sở's genuine signature and certificate over the original bytes */
		uint8_t sig[EDU_PKI_SIG_LEN], *m;
		size_t cl = strlen(EDU_DIR_SIGN_CTX) + 1, derl;
		const uint8_t *der;
		Edunet__Dir__SignedDirective s = EDUNET__DIR__SIGNED_DIRECTIVE__INIT;
		m = malloc(cl + dl);
		memcpy(m, EDU_DIR_SIGN_CTX, cl);
		memcpy(m + cl, dir, dl);
		edu_pki_sign(k.so, m, cl + dl, sig);
		free(m);
		edu_pki_id_cert_der(k.so, &der, &derl);
		s.directive.data = bad;
		s.directive.len = dl;
		s.sig.data = sig;
		s.sig.len = sizeof sig;
		s.cert.data = (uint8_t *)der;
		s.cert.len = derl;
		raw.len = edunet__dir__signed_directive__get_packed_size(&s);
		raw.data = malloc(raw.len);
		edunet__dir__signed_directive__pack(&s, raw.data);
		assert_int_equal(offer(f, &k, "t-tamper", raw, "pgd-a"), 0);
	}
	/* signed by the school's own key with its own certificate, claiming so-x: CN != issuer */
	assert_int_equal(offer(f, &k, "t-school-key", resign(dir, dl, k.a1, k.a1), "pgd-a"), 0);
	/* the school's key under the Sở's certificate: the signature does not verify */
	assert_int_equal(offer(f, &k, "t-school-sig", resign(dir, dl, k.a1, k.so), "pgd-a"), 0);
	/* a so-x certificate from another CA */
	assert_int_equal(offer(f, &k, "t-other-ca", resign(dir, dl, k.other_so, k.other_so), "pgd-a"), 0);
	/* unsigned while this node requires signatures */
	assert_int_equal(offer(f, &k, "t-unsigned", resign(dir, dl, NULL, NULL), "pgd-a"), 0);
	/* the real key again, over the same bytes: accepted (the helper itself is sound) */
	assert_int_equal(offer(f, &k, "t-resigned", resign(dir, dl, k.so, k.so), "pgd-a"), 1);
	free(dir);
	free(bad);

	/* the whole path with real keys: Sở -> Phòng -> school, signed report back */
	sync_round(so, "pgd-a", pa);
	sync_round(pa, "thcs-a1", a1);
	assert_int_equal(count_list(a1), 1);
	assert_int_equal(edu_dir_report(a1, id, "Đã xong", NULL, 0, 1500000000000, why, sizeof why), EDU_OK);
	/* a tampered receipt is refused at the Phòng */
	{
		Edunet__Wire__DirSync r2;
		uint64_t upto;
		assert_int_equal(edu_dir_sync_build(a1, &r2, &upto), EDU_OK);
		assert_true(r2.n_receipts >= 1);
		Edunet__Dir__SignedReceipt *sr = edunet__dir__signed_receipt__unpack(NULL, r2.receipts[0].len,
		    r2.receipts[0].data);
		assert_non_null(sr);
		sr->event.data[sr->event.len - 1] ^= 0x01;
		size_t l = edunet__dir__signed_receipt__get_packed_size(sr);
		ProtobufCBinaryData forged = {l, malloc(l)};
		edunet__dir__signed_receipt__pack(sr, forged.data);
		edunet__dir__signed_receipt__free_unpacked(sr, NULL);
		Edunet__Wire__DirSync r3 = EDUNET__WIRE__DIR_SYNC__INIT;
		r3.n_receipts = 1;
		r3.receipts = &forged;
		r3.down_cursor = 99;
		assert_int_equal(edu_dir_serve(pa, "thcs-a1", &r3, &ack), EDU_OK);
		assert_int_equal(ack.receipts_refused, 1);
		edu_dir_serve_free(&ack);
		free(forged.data);
		edu_dir_sync_free(&r2);
	}
	sync_round(pa, "thcs-a1", a1);
	sync_round(so, "pgd-a", pa);
	json_t *st = status_of(so, id, 1600000000000);
	assert_string_equal(unit_state(st, "thcs-a1"), "on_time");
	json_decref(st);
	edu_dir_close(so);
	edu_dir_close(pa);
	edu_dir_close(a1);
	keys_free(&k);
}

/* A store that cannot grow any more: EDU_ENOSPC (the API's 507), nothing
 * half-written, and the store keeps working and reopens. */
static void map_full_enospc(void **state)
{
	fx *f = *state;
	char path[128], why[256] = "", id[EDU_DIR_ID_MAX];
	static const char *const thcs[] = {"thcs"};
	edu_dir *d = NULL;
	size_t ok = 0, i;
	edu_err rv = EDU_OK;
	uint8_t *blob = malloc(200 * 1024);
	assert_non_null(blob);
	for (i = 0; i < 200 * 1024; i++)
		blob[i] = (uint8_t)(i * 2654435761u >> 13);
	snprintf(path, sizeof path, "%s/tiny", f->dir);
	edu_dir_opts o = {.dir = path, .self_unit = "so-x", .reg = f->reg, .map_size = 256 * 1024,
			  .map_max = 1024 * 1024};
	assert_int_equal(edu_dir_open(&d, &o, why, sizeof why), EDU_OK);
	for (i = 0; i < 20; i++) {
		edu_dir_file file = {"bang.bin", "application/octet-stream", blob, 200 * 1024};
		edu_dir_new n = {.title = "Lớn", .types = thcs, .n_types = 1, .files = &file, .n_files = 1};
		why[0] = '\0';
		rv = edu_dir_publish(d, &n, id, why, sizeof why);
		if (rv != EDU_OK)
			break;
		ok++;
	}
	assert_int_equal(rv, EDU_ENOSPC);
	assert_true(ok >= 2); /* it grew past the first 256 KiB before giving up */
	assert_int_equal(count_list(d), ok);
	/* a small one may still fit or not, but never anything but OK / ENOSPC */
	edu_dir_new small = {.title = "Nhỏ", .types = thcs, .n_types = 1};
	rv = edu_dir_publish(d, &small, id, why, sizeof why);
	assert_true(rv == EDU_OK || rv == EDU_ENOSPC);
	size_t listed = count_list(d);
	edu_dir_close(d);
	assert_int_equal(edu_dir_open(&d, &o, why, sizeof why), EDU_OK);
	assert_int_equal(count_list(d), listed);
	edu_dir_close(d);
	free(blob);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reopen_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(format_check, setup, teardown),
		cmocka_unit_test_setup_teardown(expand_audience, setup, teardown),
		cmocka_unit_test_setup_teardown(publish_requires_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(state_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(sync_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(cursor_and_uplog, setup, teardown),
		cmocka_unit_test_setup_teardown(forged_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(report_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(status_rollup, setup, teardown),
		cmocka_unit_test_setup_teardown(signed_real_key, setup, teardown),
		cmocka_unit_test_setup_teardown(map_full_enospc, setup, teardown),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
