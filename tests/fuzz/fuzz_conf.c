/* Fuzzes the node configuration loader (node/conf: inih + the key table) on
 * an INI file written from the input. node/conf reads only from a path, so
 * each process keeps one scratch directory (removed at exit) holding the
 * config file and the files a config may name (token file, registry, PEM
 * files), and relative paths resolve there.
 *
 * edu_conf_load creates data_dir and opens the files a config names, so an
 * input whose values could reach outside the scratch directory (a value
 * starting with '/', or any "..") is skipped rather than loaded: the fuzzer
 * must not create directories around the machine. The filter mirrors how the
 * loader splits a line: blanks stripped, the key ends at the first '=' or ':'
 * (inih's delimiters), the value is what follows, blanks stripped. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "conf/conf.h"

static char scratch[64];   /* per-process directory; set once */
static char conf_path[96];
static FILE *devnull;

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char p[512];
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				rm_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static void cleanup(void)
{
	if (scratch[0])
		rm_tree(scratch);
}

static void put_file(const char *name, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", scratch, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	FUZZ_CHECK(fd >= 0, "cannot create %s", p);
	FUZZ_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "short write %s", p);
	close(fd);
	chmod(p, mode);
}

static void setup(void)
{
	if (scratch[0])
		return;
	snprintf(scratch, sizeof scratch, "/tmp/edu-fuzz-conf-%ld", (long)getpid());
	rm_tree(scratch);
	FUZZ_CHECK(mkdir(scratch, 0700) == 0, "cannot create %s", scratch);
	atexit(cleanup);
	snprintf(conf_path, sizeof conf_path, "%s/node.ini", scratch);
	/* Names the seed corpus uses. */
	put_file("admin.token", "0123456789abcdef0123456789abcdef\n", 0600);
	put_file("open.token", "0123456789abcdef0123456789abcdef\n", 0644);
	put_file("units.csv", "id,name,type,parent\nso-x,Sở X,so,\npgd-y,Phòng Y,phong,so-x\n", 0644);
	put_file("ca.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 0644);
	put_file("node.crt", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 0644);
	put_file("node.key", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", 0600);
	devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL, "cannot open /dev/null");
}

/* True when some value could name a path outside the scratch directory. */
static bool escapes(const uint8_t *data, size_t size)
{
	if (memmem(data, size, "..", 2))
		return true;
	size_t i = 0;
	while (i < size) {
		size_t end = i;
		while (end < size && data[end] != '\n')
			end++;
		size_t k = i;
		while (k < end && data[k] != '=' && data[k] != ':' && data[k] != '\0')
			k++;
		if (k < end && data[k] != '\0') {
			k++;
			while (k < end && isspace(data[k]))
				k++;
			if (k < end && data[k] == '/')
				return true;
		}
		i = end + 1;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	setup();
	if (escapes(data, size))
		return 0;
	int fd = open(conf_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write %s", conf_path);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "short write");
	close(fd);

	edu_conf *c = NULL;
	char why[512];
	memset(why, 'x', sizeof why);
	edu_err e = edu_conf_load(&c, conf_path, why, sizeof why);
	FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL, "reason not terminated");
	if (e != EDU_OK) {
		FUZZ_CHECK(c == NULL, "failed load left a config");
		FUZZ_CHECK(why[0] != '\0', "failed load (%s) without a reason", edu_strerror(e));
		/* Errors name the file (SPEC §4). */
		FUZZ_CHECK(strncmp(why, conf_path, strlen(conf_path)) == 0, "reason does not name the file: %s", why);
		return 0;
	}
	FUZZ_CHECK(c != NULL, "load OK without a config");
	FUZZ_CHECK(c->id && c->data_dir && c->http_listen_host && c->http_base_url && c->name,
	    "loaded config lacks a required field");
	FUZZ_CHECK(c->http_listen_port > 0 && c->http_listen_port < 65536, "port %d", c->http_listen_port);
	FUZZ_CHECK(c->role != EDU_ROLE_SO || c->uplink_parent == NULL, "so node with a parent");
	FUZZ_CHECK(c->role != EDU_ROLE_PHONG || c->uplink_parent != NULL, "phong node without a parent");
	FUZZ_CHECK(c->role == EDU_ROLE_SCHOOL || (c->registry && c->downlink_listen),
	    "aggregating node without registry or downlink");
	edu_conf_write_effective(c, devnull);
	fflush(devnull);
	edu_conf_free(c);
	return 0;
}
