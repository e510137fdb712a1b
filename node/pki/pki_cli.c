/* `edunetctl ca …`: the operator face of the CA functions. */
#include "pki/pki_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/timefmt.h"

#define EXIT_DONE 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char USAGE[] =
	"usage: edunetctl ca init   --dir DIR --name NAME [--days N]\n"
	"       edunetctl ca issue  --dir DIR --unit ID --out DIR [--days N]\n"
	"       edunetctl ca revoke --dir DIR (--unit ID | --serial HEX)\n"
	"       edunetctl ca list   --dir DIR [--json]\n";

struct opts {
	const char *dir, *name, *unit, *out, *serial;
	int days;
	bool json;
};

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "edunetctl ca: %s\n", msg);
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}

/* --key VALUE or --key=VALUE; only the keys in allowed (space-separated) are accepted. */
static int parse(int argc, char **argv, const char *allowed, struct opts *o)
{
	char msg[128];

	memset(o, 0, sizeof(*o));
	o->days = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		char key[32];
		size_t kl;

		if (strncmp(a, "--", 2) != 0) {
			snprintf(msg, sizeof(msg), "unexpected argument '%s'", a);
			return usage(msg);
		}
		eq = strchr(a, '=');
		kl = eq ? (size_t)(eq - a - 2) : strlen(a) - 2;
		if (kl == 0 || kl >= sizeof(key)) {
			snprintf(msg, sizeof(msg), "unknown option '%s'", a);
			return usage(msg);
		}
		memcpy(key, a + 2, kl);
		key[kl] = '\0';
		{ /* whole-word match in allowed */
			const char *p = allowed;
			bool ok = false;
			while ((p = strstr(p, key)) != NULL) {
				if ((p == allowed || p[-1] == ' ') && (p[kl] == ' ' || p[kl] == '\0')) {
					ok = true;
					break;
				}
				p++;
			}
			if (!ok) {
				snprintf(msg, sizeof(msg), "unknown option '--%s'", key);
				return usage(msg);
			}
		}
		if (strcmp(key, "json") == 0) {
			if (eq) {
				snprintf(msg, sizeof(msg), "--json takes no value");
				return usage(msg);
			}
			o->json = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			snprintf(msg, sizeof(msg), "--%s needs a value", key);
			return usage(msg);
		}
		if (strcmp(key, "dir") == 0)
			o->dir = val;
		else if (strcmp(key, "name") == 0)
			o->name = val;
		else if (strcmp(key, "unit") == 0)
			o->unit = val;
		else if (strcmp(key, "out") == 0)
			o->out = val;
		else if (strcmp(key, "serial") == 0)
			o->serial = val;
		else if (strcmp(key, "days") == 0) {
			char *end = NULL;
			long d = strtol(val, &end, 10);
			if (end == val || *end != '\0' || d < 0 || d > EDU_PKI_DAYS_MAX) {
				snprintf(msg, sizeof(msg), "--days must be 0..%d", EDU_PKI_DAYS_MAX);
				return usage(msg);
			}
			o->days = (int)d;
		}
	}
	if (o->dir == NULL)
		return usage("--dir is required");
	return EXIT_DONE;
}

static int fail(const char *what, edu_err rv, const char *why)
{
	fprintf(stderr, "edunetctl ca %s: %s: %s\n", what, edu_strerror(rv), why[0] ? why : "failed");
	return EXIT_FAIL;
}

static void fmt_time(char out[EDU_RFC3339_LEN], int64_t t)
{
	edu_time_format(out, t, EDU_TZ_VN_MIN);
}

static int cmd_list(const struct opts *o)
{
	char path[PATH_MAX], why[256] = "", *buf = NULL, *crt = NULL;
	size_t len = 0, nis = 0, nrev = 0;
	struct pki_issued *is = NULL;
	struct pki_rev *rev = NULL;
	mbedtls_x509_crt ca;
	int64_t now = (int64_t)time(NULL), written = 0;
	char ca_name[EDU_PKI_NAME_MAX + 1] = "?";
	int code = EXIT_FAIL, rc;
	edu_err rv;

	mbedtls_x509_crt_init(&ca);
	if ((rv = pki_path(path, sizeof(path), o->dir, "ca.crt", NULL, why, sizeof(why))) != EDU_OK ||
	    (rv = pki_read_file(path, EDU_PKI_PEM_MAX, &crt, &len, why, sizeof(why))) != EDU_OK)
		goto fail;
	if ((rc = mbedtls_x509_crt_parse(&ca, (const unsigned char *)crt, len + 1)) != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, sizeof(why), path, rc);
		goto fail;
	}
	pki_name_cn(&ca.subject, ca_name, sizeof(ca_name));
	if ((rv = pki_path(path, sizeof(path), o->dir, "issued.csv", NULL, why, sizeof(why))) != EDU_OK ||
	    (rv = pki_read_file(path, PKI_ISSUED_MAX, &buf, &len, why, sizeof(why))) != EDU_OK ||
	    (rv = pki_issued_parse(buf, len, &is, &nis, why, sizeof(why))) != EDU_OK)
		goto fail;
	free(buf);
	buf = NULL;
	if ((rv = pki_path(path, sizeof(path), o->dir, "revoked.list", NULL, why, sizeof(why))) != EDU_OK ||
	    (rv = pki_read_file(path, EDU_PKI_REVOKED_MAX, &buf, &len, why, sizeof(why))) != EDU_OK ||
	    (rv = pki_revoked_parse(buf, len, &ca.pk, &rev, &nrev, &written, why, sizeof(why))) != EDU_OK)
		goto fail;

	if (o->json) {
		json_t *doc = json_object(), *arr = json_array(), *rarr = json_array();
		char *s;
		for (size_t i = 0; i < nis; i++) {
			struct pki_rev key, *r;
			char nb[EDU_RFC3339_LEN], na[EDU_RFC3339_LEN], ia[EDU_RFC3339_LEN];
			memcpy(key.serial, is[i].serial, sizeof(key.serial));
			r = nrev ? bsearch(&key, rev, nrev, sizeof(*rev), pki_rev_cmp) : NULL;
			fmt_time(nb, is[i].not_before);
			fmt_time(na, is[i].not_after);
			fmt_time(ia, is[i].issued_at);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "serial", is[i].serial,
							     "unit", is[i].unit, "not_before", nb, "not_after", na,
							     "issued_at", ia,
							     "status", r ? "revoked" : now > is[i].not_after ? "expired" : "valid"));
		}
		for (size_t i = 0; i < nrev; i++) {
			char t[EDU_RFC3339_LEN];
			fmt_time(t, rev[i].when);
			json_array_append_new(rarr, json_pack("{s:s, s:s, s:s}", "serial", rev[i].serial, "unit",
							      rev[i].unit, "revoked_at", t));
		}
		json_object_set_new(doc, "ca", json_string(ca_name));
		json_object_set_new(doc, "issued", arr);
		json_object_set_new(doc, "revoked", rarr);
		s = json_dumps(doc, JSON_INDENT(2));
		json_decref(doc);
		if (s == NULL) {
			rv = EDU_ENOMEM;
			snprintf(why, sizeof(why), "JSON output");
			goto fail;
		}
		printf("%s\n", s);
		free(s);
	} else {
		printf("CA: %s\n", ca_name);
		printf("%-10s %-40s %-25s %-25s %s\n", "SERIAL", "UNIT", "FROM", "UNTIL", "STATUS");
		for (size_t i = 0; i < nis; i++) {
			struct pki_rev key, *r;
			char nb[EDU_RFC3339_LEN], na[EDU_RFC3339_LEN];
			memcpy(key.serial, is[i].serial, sizeof(key.serial));
			r = nrev ? bsearch(&key, rev, nrev, sizeof(*rev), pki_rev_cmp) : NULL;
			fmt_time(nb, is[i].not_before);
			fmt_time(na, is[i].not_after);
			printf("%-10s %-40s %-25s %-25s %s\n", is[i].serial, is[i].unit, nb, na,
			       r ? "revoked" : now > is[i].not_after ? "expired" : "valid");
		}
		printf("%zu issued, %zu revoked\n", nis, nrev);
		for (size_t i = 0; i < nrev; i++) {
			char t[EDU_RFC3339_LEN];
			fmt_time(t, rev[i].when);
			printf("revoked %s %s at %s\n", rev[i].serial, rev[i].unit, t);
		}
	}
	code = EXIT_DONE;
	goto out;
fail:
	code = fail("list", rv, why);
out:
	free(buf);
	free(crt);
	free(is);
	free(rev);
	mbedtls_x509_crt_free(&ca);
	return code;
}

int edu_pki_cli(int argc, char **argv)
{
	struct opts o;
	char why[512] = "", arg[64];
	edu_err rv;
	int code;

	if (argc < 1 || argv[0] == NULL)
		return usage(NULL);
	if (strcmp(argv[0], "init") == 0) {
		if ((code = parse(argc, argv, "dir name days", &o)) != EXIT_DONE)
			return code;
		if (o.name == NULL)
			return usage("--name is required");
		rv = edu_pki_ca_init(o.dir, o.name, o.days, why, sizeof(why));
		if (rv != EDU_OK)
			return fail("init", rv, why);
		printf("CA \"%s\" created in %s (ca.key is secret: keep it offline)\n", o.name, o.dir);
		return EXIT_DONE;
	}
	if (strcmp(argv[0], "issue") == 0) {
		if ((code = parse(argc, argv, "dir unit out days", &o)) != EXIT_DONE)
			return code;
		if (o.unit == NULL || o.out == NULL)
			return usage("--unit and --out are required");
		rv = edu_pki_issue(o.dir, o.unit, o.out, o.days, why, sizeof(why));
		if (rv != EDU_OK)
			return fail("issue", rv, why);
		printf("issued %s: %s/%s.crt %s/%s.key %s/%s.ed25519 %s/ca.crt\n", o.unit, o.out, o.unit, o.out,
		       o.unit, o.out, o.unit, o.out);
		return EXIT_DONE;
	}
	if (strcmp(argv[0], "revoke") == 0) {
		if ((code = parse(argc, argv, "dir unit serial", &o)) != EXIT_DONE)
			return code;
		if ((o.unit == NULL) == (o.serial == NULL))
			return usage("give exactly one of --unit or --serial");
		if (strlen(o.unit ? o.unit : o.serial) > EDU_PKI_SERIAL_HEX_MAX + 2)
			return usage("--unit / --serial value too long");
		snprintf(arg, sizeof(arg), "%s:%s", o.unit ? "unit" : "serial", o.unit ? o.unit : o.serial);
		rv = edu_pki_revoke(o.dir, arg, why, sizeof(why));
		if (rv != EDU_OK)
			return fail("revoke", rv, why);
		printf("revoked %s; copy %s/revoked.list to the nodes\n", arg, o.dir);
		return EXIT_DONE;
	}
	if (strcmp(argv[0], "list") == 0) {
		if ((code = parse(argc, argv, "dir json", &o)) != EXIT_DONE)
			return code;
		return cmd_list(&o);
	}
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		fputs(USAGE, stdout);
		return EXIT_DONE;
	}
	snprintf(why, sizeof(why), "unknown subcommand '%s'", argv[0]);
	return usage(why);
}
