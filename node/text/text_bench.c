/* Microbenchmark, not a test: MB/s of the text scanners against the old byte
 * loops (text_ref.h) on 1 KiB of Vietnamese prose and of ASCII. Run it from a
 * RelWithDebInfo build: bin/text_bench */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "text/text.h"
#include "text/text_ref.h"

#define BENCH_LEN 1024

static const char viet[] =
    "Tr\xC6\xB0\xE1\xBB\x9Dng THCS Sa R\xC3\xA0i t\xE1\xBB\x95 ch\xE1\xBB\xA9" "c l\xE1\xBB\x85 khai gi\xE1\xBA\xA3ng "
    "n\xC4\x83m h\xE1\xBB\x8D" "c 2025-2026. \xC4\x90\xE1\xBB\x93ng Th\xC3\xA1p, ng\xC3\xA0y 5/9: H\xE1\xBB\x8D" "c sinh "
    "l\xE1\xBB\x9Bp 10A1 \xC4\x91\xC6\xB0\xE1\xBB\xA3" "c khen th\xC6\xB0\xE1\xBB\x9Fng. "
    "Ph\xC3\xB2ng Gi\xC3\xA1o d\xE1\xBB\xA5" "c v\xC3\xA0 \xC4\x90\xC3\xA0o t\xE1\xBA\xA1o huy\xE1\xBB\x87n T\xC3\xA2n H\xE1\xBB\x93ng.\n";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

enum fn { OLD_VALID, NEW_VALID, OLD_CTL, NEW_CTL, OLD_CHECK3, NEW_CHECK, NFC_QUICK, FN_COUNT };
static const char *const names[] = {"utf8_valid (old utf8proc loop)", "edu_text_utf8_valid",
    "has_ctl (old byte loop)", "edu_text_has_ctl", "valid+has_ctl+chars (old, 3 passes)",
    "edu_text_check (1 pass)", "edu_text_is_nfc_quick"};

static size_t run(enum fn f, const char *s, size_t len)
{
	size_t n = 0;
	bool ctl;
	switch (f) {
	case OLD_VALID: return ref_utf8_valid(s, len);
	case NEW_VALID: return edu_text_utf8_valid(s, len);
	case OLD_CTL: return ref_has_ctl(s, true);
	case NEW_CTL: return edu_text_has_ctl(s, true);
	case OLD_CHECK3: return ref_utf8_valid(s, len) + ref_has_ctl(s, true) + ref_chars(s);
	case NEW_CHECK: return edu_text_check(s, len, true, &n, &ctl) + n;
	case NFC_QUICK: return edu_text_is_nfc_quick(s, len);
	default: return 0;
	}
}

static void bench(const char *label, const char *s, size_t len)
{
	printf("%s (%zu bytes):\n", label, len);
	for (int f = 0; f < FN_COUNT; f++) {
		size_t iters = 1000;
		double t;
		for (;;) { /* grow until a run takes 0.2 s */
			double t0 = now();
			for (size_t i = 0; i < iters; i++) {
				sink += run((enum fn)f, s, len);
				__asm__ volatile("" ::: "memory");
			}
			t = now() - t0;
			if (t > 0.2)
				break;
			iters *= 4;
		}
		printf("  %-38s %8.0f MB/s\n", names[f], (double)len * (double)iters / t / 1e6);
	}
}

int main(void)
{
	static char text[BENCH_LEN + 1], ascii[BENCH_LEN + 1];
	size_t vl = strlen(viet), n = 0;
	while (n + vl <= BENCH_LEN) {
		memcpy(text + n, viet, vl);
		n += vl;
	}
	memcpy(text + n, "Tr\xC6\xB0\xE1\xBB\x9Dng THCS Sa Rai to chuc le khai giang nam hoc moi va", BENCH_LEN - n);
	n = BENCH_LEN;
	while (n > 0 && (text[n] & 0xC0) == 0x80)
		n--;
	text[n] = '\0';
	if (!edu_text_utf8_valid(text, n) || !ref_utf8_valid(text, n)) {
		fprintf(stderr, "bench text is not valid UTF-8\n");
		return 1;
	}
	for (size_t i = 0; i < BENCH_LEN; i++)
		ascii[i] = "Truong THCS Sa Rai to chuc le khai giang nam hoc moi.\n"[i % 54];
	bench("Vietnamese", text, n);
	bench("ASCII", ascii, BENCH_LEN);
	return 0;
}
