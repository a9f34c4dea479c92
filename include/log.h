/*
 * log.h: ntpd-style logging.  Under systemd with stderr connected to the journal, each line is
 * sent to journald with fields (PRIORITY, PRINTER, SERIAL, SINK, EVENT) that journalctl can
 * filter on; elsewhere it is one line on stderr with a <N> priority prefix and a time stamp.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>	/* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG for log_tagged */

extern int log_verbose;		/* 0: info and above; 1+: debug */

/*
 * Read the environment: stderr is the journal when $JOURNAL_STREAM names its device and inode.
 * Call once before threads start (again only in tests).
 */
void	log_init(int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));	/* + errno text */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));	/* <3> */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * What a line is about, for journalctl's matches (PRINTER=shop-x1c, SINK=ops, ...).  A NULL
 * member (or a NULL struct) adds no field.  The fields only help filtering: the message itself
 * should still name the printer or sink, as it is all a terminal or `journalctl` shows.
 */
struct log_tags {
	const char	*printer;	/* PRINTER= */
	const char	*serial;	/* SERIAL= */
	const char	*sink;		/* SINK= */
	const char	*event;		/* EVENT= */
};
/* pri is LOG_ERR, LOG_WARNING, LOG_INFO or LOG_DEBUG (shown only with -v).  Any thread. */
void	log_tagged(int pri, const struct log_tags *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_vtagged(int pri, const struct log_tags *, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));

/*
 * A failure that repeats is logged once (at warning level, or pri), then at debug level until
 * its text changes (ntpd's client_log_error).  The whole line is compared, however long; its
 * start is kept in last for `status`.  The caller keeps one struct log_once per source.
 */
struct log_once {
	uint64_t digest;	/* of the whole last line; 0: none */
	char	 last[256];	/* its start */
};
void	log_once(struct log_once *, const char *, ...) __attribute__((format(printf, 2, 3)));
void	log_once_tagged(struct log_once *, const struct log_tags *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_once_at(struct log_once *, int pri, const struct log_tags *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	log_once_clear(struct log_once *);	/* the failure is over: log the next one again */

/* Copy untrusted bytes into dst as printable ASCII (\xNN escapes), NUL-terminated, truncated. */
void	log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
