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

/* Items are made of words drawn at random from this list, so the branch
 * predictor cannot learn one text by heart. */
static const char *const words[] = {"Tr\xC6\xB0\xE1\xBB\x9Dng", "THCS", "Sa", "R\xC3\xA0i", "t\xE1\xBB\x95",
    "ch\xE1\xBB\xA9" "c", "l\xE1\xBB\x85", "khai", "gi\xE1\xBA\xA3ng", "n\xC4\x83m", "h\xE1\xBB\x8D" "c",
    "2025-2026,", "\xC4\x90\xE1\xBB\x93ng", "Th\xC3\xA1p", "ng\xC3\xA0y", "5/9", "sinh", "l\xE1\xBB\x9Bp", "10A1",
    "\xC4\x91\xC6\xB0\xE1\xBB\xA3" "c", "khen", "th\xC6\xB0\xE1\xBB\x9Fng.", "Ph\xC3\xB2ng", "Gi\xC3\xA1o",
    "d\xE1\xBB\xA5" "c", "v\xC3\xA0", "\xC4\x90\xC3\xA0o", "t\xE1\xBA\xA1o", "huy\xE1\xBB\x87n", "T\xC3\xA2n",
    "H\xE1\xBB\x93ng", "the", "of", "UBND", "x\xC3\xA3", "gi\xC3\xA1o", "vi\xC3\xAAn", "c\xC3\xB4ng", "t\xC3\xA1" "c",
    "thi", "\xC4\x91ua", "ho\xE1\xBA\xA1t", "\xC4\x91\xE1\xBB\x99ng", "ngo\xE1\xBA\xA1i", "kh\xC3\xB3" "a",
    "tuy\xE1\xBB\x83n", "sinh.", "k\xE1\xBA\xBF", "ho\xE1\xBA\xA1" "ch", "(", ")", "-", "em", "c\xC3\xA1" "c",
    "nh\xE1\xBB\xAFng", "ch\xC6\xB0\xC6\xA1ng", "tr\xC3\xACnh", "m\xE1\xBB\x9Bi", "2024", "s\xE1\xBB\x91", "123/Q\xC4\x90-UBND"};

#define ITEMS 512

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

/* Best of many short rounds: the machine is shared, and the fastest round is
 * the one least disturbed by other work. */
static void bench(const char *label, char (*items)[BENCH_LEN + 1], const size_t *lens)
{
	size_t total = 0;
	for (size_t i = 0; i < ITEMS; i++)
		total += lens[i];
	printf("%s (%d items of ~%zu bytes), best of 50 rounds:\n", label, ITEMS, total / ITEMS);
	for (int f = 0; f < FN_COUNT; f++) {
		size_t iters = ITEMS;
		for (;;) { /* calibrate a round to about 4 ms */
			double t0 = now();
			for (size_t i = 0; i < iters; i++) {
				sink += run((enum fn)f, items[i % ITEMS], lens[i % ITEMS]);
				__asm__ volatile("" ::: "memory");
			}
			if (now() - t0 > 0.004)
				break;
			iters *= 2;
		}
		double best = 1e9;
		for (int round = 0; round < 50; round++) {
			double t0 = now();
			for (size_t i = 0; i < iters; i++) {
				sink += run((enum fn)f, items[i % ITEMS], lens[i % ITEMS]);
				__asm__ volatile("" ::: "memory");
			}
			double t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("  %-38s %8.0f MB/s\n", names[f], (double)total * (double)(iters / ITEMS) / best / 1e6);
	}
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Fills item (BENCH_LEN + 1 bytes) with random words; a newline now and then
 * when prose. Returns the length, cut at a character boundary. */
static size_t make_item(char *item, uint32_t *x, bool prose)
{
	size_t n = 0;
	for (;;) {
		const char *w = prose ? words[rnd(x) % (sizeof words / sizeof words[0])] : "Truong";
		size_t wl = strlen(w);
		if (n + wl + 1 > BENCH_LEN)
			break;
		memcpy(item + n, w, wl);
		n += wl;
		item[n++] = prose && rnd(x) % 24 == 0 ? '\n' : ' ';
	}
	item[n] = '\0';
	return n;
}

int main(void)
{
	static char viet[ITEMS][BENCH_LEN + 1], ascii[ITEMS][BENCH_LEN + 1];
	static size_t vlen[ITEMS], alen[ITEMS];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < ITEMS; i++) {
		vlen[i] = make_item(viet[i], &x, true);
		alen[i] = make_item(ascii[i], &x, false);
		if (!edu_text_utf8_valid(viet[i], vlen[i]) || !ref_utf8_valid(viet[i], vlen[i])) {
			fprintf(stderr, "bench text is not valid UTF-8\n");
			return 1;
		}
	}
	bench("Vietnamese", viet, vlen);
	bench("ASCII", ascii, alen);
	return 0;
}
