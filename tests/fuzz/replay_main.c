/* Corpus replay for the normal (gcc) build: runs LLVMFuzzerTestOneInput once
 * on every file named on the command line, or found (non-recursively) in the
 * directories named there. A crash, sanitizer report or abort() from a
 * driver's invariant check fails the ctest test that runs this. With no file
 * found at all it fails too, so a missing corpus cannot pass silently. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_FILE_MAX (1024u * 1024) /* seeds are <= 64 KiB; -max_len of run.sh is far below */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv = -1;
	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		goto out;
	}
	/* One byte more than the limit, so an over-long seed is noticed. */
	buf = malloc(REPLAY_FILE_MAX + 1);
	if (!buf)
		goto out;
	len = fread(buf, 1, REPLAY_FILE_MAX + 1, f);
	if (ferror(f) || len > REPLAY_FILE_MAX) {
		fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path, REPLAY_FILE_MAX);
		goto out;
	}
	/* An exact-size copy, so ASan sees reads past the end of the input. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact)
		goto out;
	memcpy(exact, buf, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	rv = 0;
out:
	free(buf);
	if (f)
		fclose(f);
	return rv;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t ran = 0;
	int failed = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
			failed = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= run_file(argv[i]) != 0;
			ran++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d) {
			failed = 1;
			continue;
		}
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				char **nn = realloc(names, cap * sizeof *names);
				if (!nn)
					abort();
				names = nn;
			}
			size_t pl = strlen(argv[i]) + strlen(e->d_name) + 2;
			if (!(names[n] = malloc(pl)))
				abort();
			snprintf(names[n], pl, "%s/%s", argv[i], e->d_name);
			n++;
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof *names, cmp_str); /* same order on every run */
		for (size_t k = 0; k < n; k++) {
			fprintf(stderr, "replay: %s\n", names[k]);
			failed |= run_file(names[k]) != 0;
			ran++;
			free(names[k]);
		}
		free(names);
	}
	fprintf(stderr, "replay: %zu inputs run\n", ran);
	if (ran == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	return failed;
}
