/*
 * unit.h: a tiny test harness.  CHECK records one assertion; each binary ends with
 * UNIT_DONE(), which prints "N passed, N failed" and returns the exit status.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int	unit_passed, unit_failed;

#define CHECK(cond, ...) do {						\
	if (cond)							\
		unit_passed++;						\
	else {								\
		unit_failed++;						\
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#define CHECK_STR(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0)		\
		unit_passed++;						\
	else {								\
		unit_failed++;						\
		printf("FAIL %s:%d: got \"%s\", want \"%s\": ", __FILE__,	\
		    __LINE__, g_ ? g_ : "(null)", w_ ? w_ : "(null)");	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#define UNIT_DONE() (printf("%d passed, %d failed\n", unit_passed, unit_failed), \
	unit_failed != 0)

#endif
