/*
 * test_log.c: where log lines go.  With $JOURNAL_STREAM naming stderr, each line arrives as one
 * datagram with journald's fields at a socket standing in for journald's; when that socket is
 * gone, or stderr is not the journal, it is a "<N>" line on stderr.  Also log_once and
 * log_escape.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_log.XXXXXX";
static char	errpath[PATH_MAX];
static int	saved_stderr = -1;

/* Send stderr to a fresh file until capture_end. */
static void
capture_start(void)
{
	int	fd;

	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	fflush(stderr);
	if ((fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(errpath);
		exit(2);
	}
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Put stderr back; what was written to it, in buf. */
static const char *
capture_end(char *buf, size_t len)
{
	FILE	*f;
	size_t	 n = 0;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	if ((f = fopen(errpath, "r")) != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Point $JOURNAL_STREAM at what stderr is now. */
static void
journal_stream_is_stderr(void)
{
	struct stat	sb;
	char		v[64];

	fstat(STDERR_FILENO, &sb);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)sb.st_dev,
	    (unsigned long long)sb.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
}

static int
bind_dgram(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: too long for a socket\n", path);
		exit(2);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror(path);
		exit(2);
	}
	return fd;
}

/*
 * The value of key in the journald datagram d[len], into out; NULL when absent or malformed.
 * Both forms: "KEY=value\n" and "KEY\n" + 64-bit little-endian length + bytes + "\n".
 */
static const char *
field(const char *d, size_t len, const char *key, char *out, size_t outlen)
{
	const char	*p = d, *end = d + len, *nl, *eq, *val;
	size_t		 nlen, vlen;
	uint64_t	 le;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return NULL;
		if ((eq = memchr(p, '=', (size_t)(nl - p))) != NULL) {
			nlen = (size_t)(eq - p);
			val = eq + 1;
			vlen = (size_t)(nl - val);
		} else {
			nlen = (size_t)(nl - p);
			if ((size_t)(end - nl - 1) < sizeof(le))
				return NULL;
			memcpy(&le, nl + 1, sizeof(le));
			vlen = (size_t)le64toh(le);
			val = nl + 1 + sizeof(le);
			if (vlen >= (size_t)(end - val) || val[vlen] != '\n')
				return NULL;
			nl = val + vlen;
		}
		if (nlen == strlen(key) && memcmp(p, key, nlen) == 0) {
			if (vlen >= outlen)
				return NULL;
			memcpy(out, val, vlen);
			out[vlen] = '\0';
			return out;
		}
		p = nl + 1;
	}
	return NULL;
}

static int
matches(const char *s, const char *re)
{
	regex_t	rx;
	int	ok;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

#define STAMP	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

static void
test_stderr(void)
{
	struct log_tags	tags = { "shop-x1c", "00M09A350100123", NULL, "job_failed" };
	char		out[8192];

	unsetenv("JOURNAL_STREAM");
	capture_start();
	log_init(0);
	log_info("hello %d", 1);
	log_debug("hidden without -v");
	log_error("an error");
	errno = ENOENT;
	log_warn("open %s", "x.conf");
	CHECK(errno == ENOENT, "log_warn keeps errno: %d", errno);
	log_tagged(LOG_WARNING, &tags, "job failed on %s", tags.printer);
	log_tagged(LOG_DEBUG, &tags, "tagged debug, hidden");
	log_init(1);
	log_debug("shown with -v");
	capture_end(out, sizeof(out));
	CHECK(matches(out, "^<6>" STAMP "hello 1$"), "info line: %s", out);
	CHECK(matches(out, "^<3>" STAMP "an error$"), "error line: %s", out);
	CHECK(matches(out, "^<4>" STAMP "open x\\.conf: No such file or directory$"),
	    "warn line: %s", out);
	CHECK(matches(out, "^<4>" STAMP "job failed on shop-x1c$"), "tagged line: %s", out);
	CHECK(matches(out, "^<7>" STAMP "shown with -v$"), "debug line: %s", out);
	CHECK(strstr(out, "hidden") == NULL, "debug shown without -v: %s", out);
	CHECK(strstr(out, "PRINTER") == NULL && strstr(out, "00M09A") == NULL,
	    "tags on a terminal line: %s", out);

	/* $JOURNAL_STREAM set, but for another stream: still a terminal's lines. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	capture_start();
	log_init(0);
	log_info("not the journal");
	capture_end(out, sizeof(out));
	CHECK(matches(out, "^<6>" STAMP "not the journal$"), "JOURNAL_STREAM of another: %s",
	    out);
	unsetenv("JOURNAL_STREAM");
}

static void
test_journal(void)
{
	struct log_tags	 tags = { "shop-x1c", "00M09A350100123", NULL, "job_failed" };
	struct log_tags	 sink = { NULL, NULL, "ops", NULL };
	char		 path[PATH_MAX], d[8192], v[2048], out[4096];
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	snprintf(path, sizeof(path), "%s/journal", tmpdir);
	fd = bind_dgram(path);
	setenv("BAMBU_BRIDGE_JOURNAL_SOCKET", path, 1);
	capture_start();
	journal_stream_is_stderr();
	log_init(0);
	log_tagged(LOG_WARNING, &tags, "job failed on %s", tags.printer);
	log_tagged(LOG_INFO, &sink, "sink %s: delivered", sink.sink);
	log_info("line one\nline two");
	errno = EACCES;
	log_warn("open %s", "k.key");
	log_debug("hidden without -v");

	n = recv(fd, d, sizeof(d), 0);
	len = n < 0 ? 0 : (size_t)n;
	CHECK_STR(field(d, len, "MESSAGE", v, sizeof(v)), "job failed on shop-x1c", "MESSAGE");
	CHECK_STR(field(d, len, "PRIORITY", v, sizeof(v)), "4", "PRIORITY");
	CHECK_STR(field(d, len, "SYSLOG_IDENTIFIER", v, sizeof(v)), "bambu-bridge", "IDENT");
	CHECK_STR(field(d, len, "PRINTER", v, sizeof(v)), "shop-x1c", "PRINTER");
	CHECK_STR(field(d, len, "SERIAL", v, sizeof(v)), "00M09A350100123", "SERIAL");
	CHECK_STR(field(d, len, "EVENT", v, sizeof(v)), "job_failed", "EVENT");
	CHECK(field(d, len, "SINK", v, sizeof(v)) == NULL, "SINK without a sink");

	n = recv(fd, d, sizeof(d), 0);
	len = n < 0 ? 0 : (size_t)n;
	CHECK_STR(field(d, len, "SINK", v, sizeof(v)), "ops", "SINK");
	CHECK_STR(field(d, len, "PRIORITY", v, sizeof(v)), "6", "PRIORITY of info");
	CHECK(field(d, len, "PRINTER", v, sizeof(v)) == NULL, "PRINTER without a printer");

	n = recv(fd, d, sizeof(d), 0);
	len = n < 0 ? 0 : (size_t)n;
	CHECK_STR(field(d, len, "MESSAGE", v, sizeof(v)), "line one\nline two",
	    "a newline in the binary-safe form");
	CHECK_STR(field(d, len, "SYSLOG_IDENTIFIER", v, sizeof(v)), "bambu-bridge",
	    "fields after a binary-safe one");

	n = recv(fd, d, sizeof(d), 0);
	len = n < 0 ? 0 : (size_t)n;
	CHECK_STR(field(d, len, "MESSAGE", v, sizeof(v)), "open k.key: Permission denied",
	    "log_warn's MESSAGE");
	CHECK_STR(field(d, len, "ERRNO", v, sizeof(v)), "13", "ERRNO");
	CHECK(recv(fd, d, sizeof(d), 0) == -1, "a debug line without -v was sent");

	/* journald is gone: the line falls back to stderr, without a time stamp. */
	close(fd);
	unlink(path);
	log_error("journal %s", "gone");
	capture_end(out, sizeof(out));
	CHECK_STR(out, "<3>journal gone\n", "fallback to stderr");
	unsetenv("JOURNAL_STREAM");
	unsetenv("BAMBU_BRIDGE_JOURNAL_SOCKET");
}

static void
test_once(void)
{
	struct log_once	lo;
	char		out[4096];

	memset(&lo, 0, sizeof(lo));
	capture_start();
	log_init(0);
	log_once(&lo, "printer %s: connection refused", "a");
	log_once(&lo, "printer %s: connection refused", "a");
	log_once(&lo, "printer %s: timed out", "a");
	log_once_clear(&lo);
	log_once(&lo, "printer %s: timed out", "a");
	log_init(1);
	log_once(&lo, "printer %s: timed out", "a");
	capture_end(out, sizeof(out));
	CHECK(matches(out, "\\`<4>" STAMP "printer a: connection refused\n"
	    "<4>" STAMP "printer a: timed out\n<4>" STAMP "printer a: timed out\n"
	    "<7>" STAMP "printer a: timed out \\(again\\)\n\\'"), "log_once: %s", out);
}

/* Two long failures that differ only past what log_once keeps are two failures; pri holds. */
static void
test_once_long(void)
{
	struct log_once	lo;
	char		pad[301], out[8192];

	memset(&lo, 0, sizeof(lo));
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	capture_start();
	log_init(0);
	log_once_at(&lo, LOG_ERR, NULL, "pin %s: SHA256:AA", pad);
	log_once_at(&lo, LOG_ERR, NULL, "pin %s: SHA256:BB", pad);
	log_once_at(&lo, LOG_ERR, NULL, "pin %s: SHA256:BB", pad);
	capture_end(out, sizeof(out));
	CHECK(matches(out, "\\`<3>" STAMP "pin x+: SHA256:AA\n<3>" STAMP "pin x+: SHA256:BB\n\\'"),
	    "log_once_at with long lines: %s", out);
	CHECK(strlen(lo.last) == sizeof(lo.last) - 1 && strncmp(lo.last, "pin xxx", 7) == 0,
	    "last keeps the line's start: %zu", strlen(lo.last));
}

struct escape_case {
	const char	*in;
	size_t		 inlen;
	size_t		 dstlen;
	const char	*want;
};

static const struct escape_case escapes[] = {
	{ "plain text", 10, 64, "plain text" },
	{ "a\nb\r\x1b[2J", 8, 64, "a\\x0ab\\x0d\\x1b[2J" },
	{ "back\\slash", 10, 64, "back\\x5cslash" },
	{ "nul\0after", 9, 64, "nul\\x00after" },
	{ "\xc3\xa9\x7f", 3, 64, "\\xc3\\xa9\\x7f" },
	{ "truncated", 9, 6, "trunc" },
	{ "ab\ncd", 5, 6, "ab" },		/* an escape that does not fit is left out whole */
	{ "", 0, 1, "" },
};

static void
test_escape(void)
{
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		log_escape(buf, escapes[i].dstlen, escapes[i].in, escapes[i].inlen);
		CHECK_STR(buf, escapes[i].want, "escape case %zu", i);
	}
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	unsetenv("BAMBU_BRIDGE_JOURNAL_SOCKET");
	test_stderr();
	test_journal();
	test_once();
	test_once_long();
	test_escape();
	unlink(errpath);
	rmdir(tmpdir);
	return UNIT_DONE();
}
