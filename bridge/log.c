/*
 * log.c: logging for journald and for a terminal.  When stderr is the journal, each line is
 * one datagram to journald's native socket with MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER= and
 * the caller's tags (PRINTER=, SERIAL=, SINK=, EVENT=), so that `journalctl PRINTER=shop-x1c`
 * works.  If that send fails, or stderr is anything else, the line is one write(2) to stderr
 * with the <N> priority prefix journald reads, and a time stamp when stderr is not the journal.
 *
 * Not for: syslog(3) or log files (journald and a terminal are the two readers), or
 * deciding what is a secret (callers never pass one).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"
#define LOG_IDENT	"bambu-bridge"
#define LOG_MSG_MAX	2048		/* a message longer than this is cut */
#define LOG_TAG_MAX	256		/* likewise a tag's value */

/* One datagram for journald: fields in its native format, never larger than this. */
struct log_dgram {
	char	buf[LOG_MSG_MAX + 4 * (LOG_TAG_MAX + 32) + 256];
	size_t	len;
	int	full;
};

int				log_verbose;
static int			log_stamp = 1;	/* stderr is not the journal */
static int			log_jfd = -1;	/* journald's socket; -1: write stderr */
static struct sockaddr_un	log_jsun;

/* Is stderr the stream that $JOURNAL_STREAM ("device:inode") names? */
static int
log_stderr_is_journal(void)
{
	const char		*e = getenv("JOURNAL_STREAM");
	char			*end;
	unsigned long long	 dev, ino;
	struct stat		 sb;

	if (e == NULL || fstat(STDERR_FILENO, &sb) == -1)
		return 0;
	errno = 0;
	dev = strtoull(e, &end, 10);
	if (end == e || *end != ':')
		return 0;
	e = end + 1;
	ino = strtoull(e, &end, 10);
	if (end == e || *end != '\0' || errno != 0)
		return 0;
	return (dev_t)dev == sb.st_dev && (ino_t)ino == sb.st_ino;
}

/* $BAMBU_BRIDGE_JOURNAL_SOCKET stands in for journald's socket in tests. */
static void
log_journal_open(void)
{
	const char	*path = getenv("BAMBU_BRIDGE_JOURNAL_SOCKET");

	if (path == NULL || *path != '/')
		path = JOURNAL_SOCKET;
	if (strlen(path) >= sizeof(log_jsun.sun_path))
		return;
	memset(&log_jsun, 0, sizeof(log_jsun));
	log_jsun.sun_family = AF_UNIX;
	memcpy(log_jsun.sun_path, path, strlen(path) + 1);
	log_jfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

void
log_init(int verbose)
{
	int	saved = errno;

	log_verbose = verbose;
	if (log_jfd != -1)
		close(log_jfd);
	log_jfd = -1;
	log_stamp = !log_stderr_is_journal();
	if (!log_stamp)
		log_journal_open();
	errno = saved;
}

/*
 * Append KEY=value.  A value holding a newline takes journald's binary-safe form: KEY, a
 * newline, the length as 64-bit little endian, the bytes, a newline.
 */
static void
log_field(struct log_dgram *d, const char *key, const char *val, size_t len)
{
	size_t		klen = strlen(key), need;
	uint64_t	le = htole64((uint64_t)len);
	int		binary = memchr(val, '\n', len) != NULL;

	need = klen + 1 + (binary ? sizeof(le) : 0) + len + 1;
	if (d->full || need > sizeof(d->buf) - d->len) {
		d->full = 1;
		return;
	}
	memcpy(d->buf + d->len, key, klen);
	d->len += klen;
	d->buf[d->len++] = binary ? '\n' : '=';
	if (binary) {
		memcpy(d->buf + d->len, &le, sizeof(le));
		d->len += sizeof(le);
	}
	memcpy(d->buf + d->len, val, len);
	d->len += len;
	d->buf[d->len++] = '\n';
}

static void
log_tag(struct log_dgram *d, const char *key, const char *val)
{
	if (val != NULL && *val != '\0')
		log_field(d, key, val, strnlen(val, LOG_TAG_MAX));
}

/* Send one line to journald; 0 when it took it, -1 when the caller should write stderr. */
static int
log_journal(int pri, const struct log_tags *tags, int errnum, const char *msg, size_t len)
{
	struct log_dgram	d;
	char			num[16];

	d.len = 0;
	d.full = 0;
	log_field(&d, "MESSAGE", msg, len);
	snprintf(num, sizeof(num), "%d", pri);
	log_field(&d, "PRIORITY", num, strlen(num));
	log_field(&d, "SYSLOG_IDENTIFIER", LOG_IDENT, strlen(LOG_IDENT));
	if (errnum != 0) {
		snprintf(num, sizeof(num), "%d", errnum);
		log_field(&d, "ERRNO", num, strlen(num));
	}
	if (tags != NULL) {
		log_tag(&d, "PRINTER", tags->printer);
		log_tag(&d, "SERIAL", tags->serial);
		log_tag(&d, "SINK", tags->sink);
		log_tag(&d, "EVENT", tags->event);
	}
	if (d.full)
		return -1;
	/* Never block the caller on a stuck journald: a full socket falls back to stderr. */
	if (sendto(log_jfd, d.buf, d.len, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (const struct sockaddr *)&log_jsun, sizeof(log_jsun)) != (ssize_t)d.len)
		return -1;
	return 0;
}

/* One line on stderr with one write(2): "<N>", a time stamp unless journald reads it, msg. */
static void
log_stderr(int pri, const char *msg, size_t len)
{
	char		 line[LOG_MSG_MAX + 64];
	size_t		 n;
	struct timespec	 ts;
	struct tm	 tm;

	n = (size_t)snprintf(line, sizeof(line), "<%d>", pri);
	if (log_stamp) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line + n, sizeof(line) - n, "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ",
		    ts.tv_nsec / 1000000);
	}
	memcpy(line + n, msg, len);
	n += len;
	line[n++] = '\n';
	(void)write(STDERR_FILENO, line, n);
}

static void
vlog(int pri, const struct log_tags *tags, int errnum, const char *fmt, va_list ap)
{
	char	msg[LOG_MSG_MAX];
	size_t	n = 0;
	int	r;

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r > 0)
		n = (size_t)r >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)r;
	if (errnum != 0) {
		r = snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
		if (r > 0)
			n = n + (size_t)r >= sizeof(msg) ? sizeof(msg) - 1 : n + (size_t)r;
	}
	if (log_jfd != -1 && log_journal(pri, tags, errnum, msg, n) == 0)
		return;
	log_stderr(pri, msg, n);
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
	vlog(pri, NULL, 0, fmt, ap);				\
	va_end(ap);						\
	errno = saved;						\
}

LOGFN(log_error, LOG_ERR, 0)
LOGFN(log_warnx, LOG_WARNING, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_debug, LOG_DEBUG, 1)

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_vtagged(int pri, const struct log_tags *tags, const char *fmt, va_list ap)
{
	int	saved = errno;

	if (pri >= LOG_DEBUG && log_verbose < 1)
		return;
	vlog(pri, tags, 0, fmt, ap);
	errno = saved;
}

void
log_tagged(int pri, const struct log_tags *tags, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vtagged(pri, tags, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* FNV-1a: enough to tell one failure's text from another's; never 0. */
static uint64_t
text_digest(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h == 0 ? 1 : h;
}

static void
log_vonce(struct log_once *lo, int pri, const struct log_tags *tags, const char *fmt,
    va_list ap)
{
	char		buf[2048];
	uint64_t	d;
	int		saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if ((d = text_digest(buf)) == lo->digest)
		log_tagged(LOG_DEBUG, tags, "%s (again)", buf);
	else {
		lo->digest = d;
		strlcpy_utf8(lo->last, buf, sizeof(lo->last));
		log_tagged(pri, tags, "%s", buf);
	}
	errno = saved;
}

void
log_once(struct log_once *lo, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vonce(lo, LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_once_tagged(struct log_once *lo, const struct log_tags *tags, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vonce(lo, LOG_WARNING, tags, fmt, ap);
	va_end(ap);
}

void
log_once_at(struct log_once *lo, int pri, const struct log_tags *tags, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vonce(lo, pri, tags, fmt, ap);
	va_end(ap);
}

void
log_once_clear(struct log_once *lo)
{
	lo->digest = 0;
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
