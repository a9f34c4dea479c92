/*
 * log.c: logging to stderr, one write(2) per line, with the <N> priority prefix that journald
 * reads.  Not for: syslog or files; journald and a terminal are the two readers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int		log_verbose;
static int	log_stamp;	/* prefix a time stamp: stderr is not the journal */

void
log_init(int verbose)
{
	log_verbose = verbose;
	log_stamp = getenv("JOURNAL_STREAM") == NULL && getenv("INVOCATION_ID") == NULL;
}

static void
vlog(int pri, const char *emsg, const char *fmt, va_list ap)
{
	char		 line[2048];
	size_t		 n;
	int		 r;
	struct timespec	 ts;
	struct tm	 tm;

	r = snprintf(line, sizeof(line), "<%d>", pri);
	n = (size_t)r;
	if (log_stamp) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line + n, sizeof(line) - n, "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
		n += (size_t)r;
	}
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n = n + (size_t)r >= sizeof(line) - 1 ? sizeof(line) - 2 : n + (size_t)r;
	if (emsg != NULL) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", emsg);
		if (r > 0)
			n = n + (size_t)r >= sizeof(line) - 1 ? sizeof(line) - 2 : n + (size_t)r;
	}
	line[n++] = '\n';
	(void)write(STDERR_FILENO, line, n);
}

#define LOGFN(fn, pri, min)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list	ap;						\
	int	saved = errno;					\
								\
	if (log_verbose < (min))				\
		return;						\
	va_start(ap, fmt);					\
	vlog(pri, NULL, fmt, ap);				\
	va_end(ap);						\
	errno = saved;						\
}

LOGFN(log_error, 3, 0)
LOGFN(log_warnx, 4, 0)
LOGFN(log_info, 6, 0)
LOGFN(log_debug, 7, 1)

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(4, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(2, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(2, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_once(struct log_once *lo, const char *fmt, ...)
{
	char	buf[sizeof(lo->last)];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, lo->last) == 0) {
		log_debug("%s (again)", buf);
		return;
	}
	memcpy(lo->last, buf, sizeof(buf));
	log_warnx("%s", buf);
}

void
log_once_clear(struct log_once *lo)
{
	lo->last[0] = '\0';
}

void
log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, n = 0;
	unsigned char		c;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (n + 1 >= dstlen)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 4 >= dstlen)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		}
	}
	dst[n] = '\0';
}
