/* Shared by the fuzz drivers: an invariant check that aborts (so libFuzzer
 * and the corpus replay both report it as a crash), and quiet logging. */
#ifndef EDU_FUZZ_H
#define EDU_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/log.h"

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, \
			    __LINE__, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* The node logs rejections at warning level; a fuzzer makes millions. */
static inline void fuzz_quiet(void)
{
	edu_log_set_level(LOG_EMERG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
