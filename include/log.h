/* log.h: ntpd-style logging to stderr with journald <N> priority prefixes. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

extern int log_verbose;		/* 0: info and above; 1+: debug */

void	log_init(int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));	/* + errno text */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));	/* <3> */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A failure that repeats is logged once at warning level, then at debug level until its text
 * changes (ntpd's client_log_error).  The caller keeps one struct log_once per source.
 */
struct log_once {
	char	last[256];
};
void	log_once(struct log_once *, const char *, ...) __attribute__((format(printf, 2, 3)));
void	log_once_clear(struct log_once *);	/* the failure is over: log the next one again */

/* Copy untrusted bytes into dst as printable ASCII (\xNN escapes), NUL-terminated, truncated. */
void	log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
