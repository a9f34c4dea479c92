/*
 * config.c: read bridge.conf and the printers.d/ drop-ins into a struct config.  One table of
 * keys (conf_keys) says where each key may appear, how its value is parsed and checked, its
 * default and what it is for.  Every problem is reported as "path:line: message", all of them.
 *
 * Not for: contacting anything (a ca_file is only checked to be a readable file), creating the
 * state directory, or generating API keys (the webhook sink does that).  Secrets (URLs, access
 * codes, API keys) are never echoed in a message; a file holding one that every user may read
 * gets a warning, which is not a problem: the configuration is still valid.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum conf_sect {
	SECT_NONE,	/* before the first header */
	SECT_SKIP,	/* inside a header already reported as wrong: its keys are ignored */
	SECT_BRIDGE,
	SECT_DISCORD,
	SECT_WEBHOOK,
	SECT_PRINTER
};

static const char *conf_sect_names[] = {
	[SECT_BRIDGE] = "bridge",
	[SECT_DISCORD] = "discord",
	[SECT_WEBHOOK] = "webhook",
	[SECT_PRINTER] = "printer"
};

enum conf_type {
	CT_PATH,	/* relative to the directory of the file that names it */
	CT_CAFILE,	/* a CT_PATH that must be a readable regular file now */
	CT_NAME,	/* letters, digits, '-', '_', '.': names end up in file names */
	CT_HOST,
	CT_URL,		/* https:// with a host; a secret (Discord's holds a token) */
	CT_SECRET,
	CT_APIKEY,	/* a secret that becomes an HTTP header */
	CT_SERIAL,
	CT_DURATION,
	CT_PORT,
	CT_NUMBER,	/* a whole number in [min, max] */
	CT_BOOL,
	CT_EVENTS
};

/*
 * One key of one section.  The value is stored at off in the section's object: struct config
 * for [bridge], struct sink_conf for [discord] and [webhook], struct printer_conf for
 * [printer].  min and max bound numbers, or the length of strings.
 */
struct conf_key {
	const char	*name;
	enum conf_sect	 sect;
	enum conf_type	 type;
	int		 required;
	const char	*def;		/* parsed like a value when the key is absent */
	long		 min;
	long		 max;
	size_t		 off;
	const char	*help;
};

#define EVENTS_ALL	"job_started job_succeeded job_cancelled job_failed hms_error " \
			"hms_warning printer_offline printer_online"
#define CFG(f)		offsetof(struct config, f)
#define SNK(f)		offsetof(struct sink_conf, f)
#define PRN(f)		offsetof(struct printer_conf, f)

static const struct conf_key conf_keys[] = {
	{ "state_dir", SECT_BRIDGE, CT_PATH, 0, DEFAULT_STATE_DIR, 1, PATH_MAX, CFG(state_dir),
	  "where the outbox, generated API keys and trusted certificates are kept" },
	{ "offline_after", SECT_BRIDGE, CT_DURATION, 0, "60", 2, 86400, CFG(offline_after),
	  "a printer silent or unreachable this long is offline (90, 90s, 5m, 2h)" },

	{ "name", SECT_DISCORD, CT_NAME, 0, NULL, 1, 63, SNK(name),
	  "label in logs and state file names (default discord-N)" },
	{ "webhook_url", SECT_DISCORD, CT_URL, 1, NULL, 1, 4096, SNK(url),
	  "the channel's webhook URL; it holds a token, keep it secret" },
	{ "events", SECT_DISCORD, CT_EVENTS, 0, EVENTS_ALL, 0, 0, SNK(events),
	  "events to post, separated by spaces or commas (default all eight)" },
	{ "ca_file", SECT_DISCORD, CT_CAFILE, 0, NULL, 1, PATH_MAX, SNK(ca_file),
	  "extra CA bundle to trust for this sink's server" },
	{ "retry_for", SECT_DISCORD, CT_DURATION, 0, "24h", 60, 2592000, SNK(retry_for),
	  "keep retrying a failing delivery this long, then move it to the dead letters" },
	{ "queue_max", SECT_DISCORD, CT_NUMBER, 0, "10000", 1, 1000000, SNK(queue_max),
	  "deliveries kept waiting at most; newer events are refused with a log line" },

	{ "name", SECT_WEBHOOK, CT_NAME, 0, NULL, 1, 63, SNK(name),
	  "label in logs and state file names (default webhook-N)" },
	{ "url", SECT_WEBHOOK, CT_URL, 1, NULL, 1, 4096, SNK(url),
	  "where events are POSTed as JSON" },
	{ "api_key", SECT_WEBHOOK, CT_APIKEY, 0, NULL, API_KEY_MIN, 1024, SNK(api_key),
	  "sent as X-API-Key (default: generated into the state directory)" },
	{ "events", SECT_WEBHOOK, CT_EVENTS, 0, EVENTS_ALL, 0, 0, SNK(events),
	  "events to send, separated by spaces or commas (default all eight)" },
	{ "ca_file", SECT_WEBHOOK, CT_CAFILE, 0, NULL, 1, PATH_MAX, SNK(ca_file),
	  "extra CA bundle to trust for this sink's server" },
	{ "retry_for", SECT_WEBHOOK, CT_DURATION, 0, "24h", 60, 2592000, SNK(retry_for),
	  "keep retrying a failing delivery this long, then move it to the dead letters" },
	{ "queue_max", SECT_WEBHOOK, CT_NUMBER, 0, "10000", 1, 1000000, SNK(queue_max),
	  "deliveries kept waiting at most; newer events are refused with a log line" },

	{ "name", SECT_PRINTER, CT_NAME, 0, NULL, 1, 63, PRN(name),
	  "label in events and logs (default: the file name without .conf)" },
	{ "host", SECT_PRINTER, CT_HOST, 1, NULL, 1, 255, PRN(host),
	  "the printer's address on the LAN" },
	{ "port", SECT_PRINTER, CT_PORT, 0, "8883", 1, 65535, PRN(port),
	  "the printer's MQTT over TLS port" },
	{ "serial", SECT_PRINTER, CT_SERIAL, 1, NULL, 1, 31, PRN(serial),
	  "the printer's serial number, case as printed" },
	{ "access_code", SECT_PRINTER, CT_SECRET, 1, NULL, 1, 128, PRN(access_code),
	  "the LAN access code shown on the printer's screen" },
	{ "ca_file", SECT_PRINTER, CT_CAFILE, 0, NULL, 1, PATH_MAX, PRN(ca_file),
	  "verify the printer against this bundle (CN must equal the serial)" },
	{ "tls_insecure", SECT_PRINTER, CT_BOOL, 0, "no", 0, 1, PRN(tls_insecure),
	  "yes: no certificate check at all (logged as a warning)" },
};

/* A name or serial already taken, and where. */
struct conf_seen {
	const char	*what;		/* "printer name", "printer serial", "sink name" */
	char		*value;
	char		*path;
	int		 line;
};

/* A problem with the file being read, kept until it is written in line order. */
struct conf_msg {
	int		 line;		/* 0: the whole file */
	size_t		 seq;
	char		*text;
};

/* The state of one config_load: the file being read and the section being collected. */
struct conf_parse {
	struct config	*conf;
	FILE		*errs;
	int		 nerrs;
	const char	*path;		/* the file being read; not owned */
	char		*dir;		/* its directory, for relative paths */
	int		 dropin;
	int		 line;
	int		 secrets;	/* the file being read sets a secret key */
	enum conf_sect	 sect;
	int		 sect_line;
	char		*vals[nitems(conf_keys)];	/* raw values of the current section */
	int		 lines[nitems(conf_keys)];
	int		 bridge_line;	/* where [bridge] was; 0: not seen */
	int		 printer_line;	/* where this drop-in's [printer] was; 0: not seen */
	int		 ndiscord;
	int		 nwebhook;
	struct conf_seen *seen;
	size_t		 nseen;
	struct conf_msg	*msgs;
	size_t		 nmsgs;
};

typedef int (*conf_set_cb)(struct conf_parse *, const struct conf_key *, const char *, int,
    void *);

static int	conf_set_path(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_cafile(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_name(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_host(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_url(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_secret(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_apikey(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_serial(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_duration(struct conf_parse *, const struct conf_key *, const char *,
		    int, void *);
static int	conf_set_port(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_bool(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);
static int	conf_set_events(struct conf_parse *, const struct conf_key *, const char *, int,
		    void *);

/* How each type is parsed; is_string: min and max bound its length. */
static const struct {
	conf_set_cb	set;
	int		is_string;
} conf_types[] = {
	[CT_PATH] = { conf_set_path, 1 },
	[CT_CAFILE] = { conf_set_cafile, 1 },
	[CT_NAME] = { conf_set_name, 1 },
	[CT_HOST] = { conf_set_host, 1 },
	[CT_URL] = { conf_set_url, 1 },
	[CT_SECRET] = { conf_set_secret, 1 },
	[CT_APIKEY] = { conf_set_apikey, 1 },
	[CT_SERIAL] = { conf_set_serial, 1 },
	[CT_DURATION] = { conf_set_duration, 0 },
	[CT_PORT] = { conf_set_port, 0 },
	[CT_NUMBER] = { conf_set_port, 0 },
	[CT_BOOL] = { conf_set_bool, 0 },
	[CT_EVENTS] = { conf_set_events, 0 },
};

static int
conf_has_cntrl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

static void	conf_error(struct conf_parse *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	conf_warn(struct conf_parse *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Queue a message about the file being read.  Values are checked when their section ends, so
 * messages are queued and conf_flush writes them in line order.
 */
static void
conf_vqueue(struct conf_parse *p, int line, const char *prefix, const char *fmt, va_list ap)
{
	struct conf_msg	*m;
	char		*text;

	p->msgs = xrealloc(p->msgs, (p->nmsgs + 1) * sizeof(*p->msgs));
	m = &p->msgs[p->nmsgs];
	m->line = line;
	m->seq = p->nmsgs++;
	if (vasprintf(&text, fmt, ap) == -1)
		fatal("vasprintf");
	xasprintf(&m->text, "%s%s", prefix, text);
	free(text);
}

/* A problem: the configuration is refused. */
static void
conf_error(struct conf_parse *p, int line, const char *fmt, ...)
{
	va_list	ap;

	p->nerrs++;
	va_start(ap, fmt);
	conf_vqueue(p, line, "", fmt, ap);
	va_end(ap);
}

/* Worth fixing, but the configuration stays valid. */
static void
conf_warn(struct conf_parse *p, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_vqueue(p, line, "warning: ", fmt, ap);
	va_end(ap);
}

static int
conf_msg_cmp(const void *a, const void *b)
{
	const struct conf_msg	*ma = a, *mb = b;
	unsigned		 la = (unsigned)ma->line - 1, lb = (unsigned)mb->line - 1;

	/* Line 0 (the whole file) wraps around to sort last. */
	if (la != lb)
		return la < lb ? -1 : 1;
	return ma->seq < mb->seq ? -1 : ma->seq > mb->seq;
}

/* Write the queued problems of the file being read as "path:line: message". */
static void
conf_flush(struct conf_parse *p)
{
	char	path[1024];
	size_t	i;

	if (p->nmsgs == 0)
		return;
	/* A control character in a file name would break the "path:line:" form. */
	if (conf_has_cntrl(p->path))
		log_escape(path, sizeof(path), p->path, strlen(p->path));
	else
		strlcpy_utf8(path, p->path, sizeof(path));
	qsort(p->msgs, p->nmsgs, sizeof(*p->msgs), conf_msg_cmp);
	for (i = 0; i < p->nmsgs; i++) {
		if (p->errs != NULL && p->msgs[i].line > 0)
			fprintf(p->errs, "%s:%d: %s\n", path, p->msgs[i].line, p->msgs[i].text);
		else if (p->errs != NULL)
			fprintf(p->errs, "%s: %s\n", path, p->msgs[i].text);
		free(p->msgs[i].text);
	}
	free(p->msgs);
	p->msgs = NULL;
	p->nmsgs = 0;
}

/* Make a user's (non-secret) value printable for a message; truncated to fit buf. */
static const char *
conf_esc(char *buf, size_t len, const char *s)
{
	log_escape(buf, len, s, strlen(s));
	return buf;
}

/* Free a string that may hold a secret, wiping it first. */
static void
conf_freezero(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Printable ASCII without spaces: what a URL or an HTTP header value may hold. */
static int
conf_is_token(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	}
	return 1;
}

static int
conf_is_utf8(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, j, len;
	uint32_t		 cp;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = u[i] & 0x1f;
		} else if ((u[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = u[i] & 0x0f;
		} else if ((u[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = u[i] & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (j = 1; j < len; j++) {
			if ((u[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (u[i + j] & 0x3f);
		}
		/* Overlong forms, surrogates and values past Unicode. */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* Strip leading and trailing whitespace in place. */
static char *
conf_trim(char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * Cut a comment: a whole line starting with '#' or ';', or one that follows whitespace.  So a
 * value cannot hold " #" or " ;", but a URL's "#fragment" survives.
 */
static char *
conf_strip(char *s)
{
	char	*c;

	s = conf_trim(s);
	if (*s == '#' || *s == ';')
		return s + strlen(s);
	for (c = s; *c != '\0'; c++) {
		if ((*c == '#' || *c == ';') && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	}
	return conf_trim(s);
}

/* dir/name, or name alone when dir is NULL or ".". */
static char *
conf_join(const char *dir, const char *name)
{
	char	*s;
	size_t	 n;

	if (dir == NULL || strcmp(dir, ".") == 0)
		return xstrdup(name);
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	xasprintf(&s, "%.*s%s%s", (int)n, dir, dir[n - 1] == '/' ? "" : "/", name);
	return s;
}

/* The directory part of path: "." when it has none. */
static char *
conf_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static int
conf_find(enum conf_sect sect, const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(conf_keys); i++) {
		if (conf_keys[i].sect == sect && strcmp(conf_keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* The raw value of key in the section being collected, NULL when absent. */
static const char *
conf_raw(struct conf_parse *p, const char *name, int *line)
{
	int	i = conf_find(p->sect, name);

	if (i == -1 || p->vals[i] == NULL)
		return NULL;
	if (line != NULL)
		*line = p->lines[i];
	return p->vals[i];
}

/* Store a string the caller allocated at the key's place in obj, replacing what was there. */
static void
conf_store(const struct conf_key *k, void *obj, char *s)
{
	char	**sp = (char **)((char *)obj + k->off);

	conf_freezero(*sp);
	*sp = s;
}

static int *
conf_int(const struct conf_key *k, void *obj)
{
	return (int *)((char *)obj + k->off);
}

static char *
conf_resolve(struct conf_parse *p, const char *v)
{
	if (v[0] == '/')
		return xstrdup(v);
	return conf_join(p->dir, v);
}

static int
conf_set_path(struct conf_parse *p, const struct conf_key *k, const char *v,
    __attribute__((unused)) int line, void *obj)
{
	conf_store(k, obj, conf_resolve(p, v));
	return 0;
}

static int
conf_set_cafile(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	struct stat	 sb;
	char		*path = conf_resolve(p, v), buf[256];

	if (stat(path, &sb) == -1 || (S_ISREG(sb.st_mode) && access(path, R_OK) == -1)) {
		conf_error(p, line, "%s \"%s\": %s", k->name, conf_esc(buf, sizeof(buf), path),
		    strerror(errno));
		free(path);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		conf_error(p, line, "%s \"%s\" is not a regular file", k->name,
		    conf_esc(buf, sizeof(buf), path));
		free(path);
		return -1;
	}
	conf_store(k, obj, path);
	return 0;
}

/* Names end up in file names: letters, digits, '-', '_', '.', and no leading dot. */
static int
conf_name_ok(const char *v)
{
	return v[0] != '.' && strspn(v,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(v);
}

static int
conf_set_name(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	buf[128];

	if (!conf_name_ok(v)) {
		conf_error(p, line, "%s \"%s\" may hold only letters, digits, '-', '_' and '.', "
		    "and must not start with '.'", k->name, conf_esc(buf, sizeof(buf), v));
		return -1;
	}
	conf_store(k, obj, xstrdup(v));
	return 0;
}

static int
conf_set_host(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	buf[128];

	/* Names, IPv4 and IPv6 addresses (with a zone): catches "mqtts://..." and typos. */
	if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:[]%") !=
	    strlen(v)) {
		conf_error(p, line, "%s \"%s\" is not a host name or address", k->name,
		    conf_esc(buf, sizeof(buf), v));
		return -1;
	}
	conf_store(k, obj, xstrdup(v));
	return 0;
}

/* Does an https:// URL name a host?  "https://user@:443/" does not. */
static int
conf_url_has_host(const char *v)
{
	const char	*h = v + strlen("https://"), *end, *at;

	end = h + strcspn(h, "/?#");
	for (at = end; at > h; at--) {
		if (at[-1] == '@') {
			h = at;
			break;
		}
	}
	if (*h == '[')
		return end - h > 2 && memchr(h, ']', (size_t)(end - h)) != NULL;
	return h < end && *h != ':';
}

static int
conf_set_url(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	/* Never print v: a Discord webhook URL carries the token that lets anyone post. */
	if (!conf_is_token(v)) {
		conf_error(p, line, "%s must not contain spaces or non-ASCII characters", k->name);
		return -1;
	}
	if (strncasecmp(v, "https://", strlen("https://")) != 0) {
		conf_error(p, line, "%s must be an https:// URL", k->name);
		return -1;
	}
	if (!conf_url_has_host(v)) {
		conf_error(p, line, "%s must be an https:// URL with a host", k->name);
		return -1;
	}
	conf_store(k, obj, xstrdup(v));
	return 0;
}

static int
conf_set_secret(__attribute__((unused)) struct conf_parse *p, const struct conf_key *k,
    const char *v, __attribute__((unused)) int line, void *obj)
{
	/* Emptiness, length and control characters were checked by conf_set. */
	conf_store(k, obj, xstrdup(v));
	return 0;
}

static int
conf_set_apikey(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	if (!conf_is_token(v)) {
		conf_error(p, line, "%s must not contain spaces or non-ASCII characters", k->name);
		return -1;
	}
	conf_store(k, obj, xstrdup(v));
	return 0;
}

static int
conf_set_serial(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	buf[128];

	/* Case is kept: the printer's topic is case-sensitive. */
	if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
	    strlen(v)) {
		conf_error(p, line, "%s \"%s\" may hold only letters and digits", k->name,
		    conf_esc(buf, sizeof(buf), v));
		return -1;
	}
	conf_store(k, obj, xstrdup(v));
	return 0;
}

static int
conf_set_duration(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	buf[128];
	int	n;

	if ((n = config_duration(v)) == -1) {
		conf_error(p, line, "%s \"%s\" is not a duration (90, 90s, 5m, 2h)", k->name,
		    conf_esc(buf, sizeof(buf), v));
		return -1;
	}
	if (n < k->min || n > k->max) {
		conf_error(p, line, "%s must be from %lds to %lds", k->name, k->min, k->max);
		return -1;
	}
	*conf_int(k, obj) = n;
	return 0;
}

static int
conf_set_port(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	buf[128];
	long	n = 0;
	size_t	i;

	for (i = 0; isdigit((unsigned char)v[i]) && n <= k->max; i++)
		n = n * 10 + (v[i] - '0');
	if (v[i] != '\0' && !isdigit((unsigned char)v[i])) {
		conf_error(p, line, "%s \"%s\" is not a number", k->name,
		    conf_esc(buf, sizeof(buf), v));
		return -1;
	}
	if (n < k->min || n > k->max) {
		conf_error(p, line, "%s must be from %ld to %ld", k->name, k->min, k->max);
		return -1;
	}
	*conf_int(k, obj) = (int)n;
	return 0;
}

static int
conf_set_bool(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	buf[128];

	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*conf_int(k, obj) = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*conf_int(k, obj) = 0;
	else {
		conf_error(p, line, "%s \"%s\" is not yes or no", k->name,
		    conf_esc(buf, sizeof(buf), v));
		return -1;
	}
	return 0;
}

static int
conf_set_events(struct conf_parse *p, const struct conf_key *k, const char *v, int line,
    void *obj)
{
	char	bad[64], buf[128];

	if (config_events(v, (unsigned *)((char *)obj + k->off), bad, sizeof(bad)) == 0)
		return 0;
	if (bad[0] == '\0')
		conf_error(p, line, "%s names no event", k->name);
	else
		conf_error(p, line, "%s: unknown event \"%s\"", k->name,
		    conf_esc(buf, sizeof(buf), bad));
	return -1;
}

/* Check what every value must be, then parse it by its type into obj. */
static int
conf_set(struct conf_parse *p, const struct conf_key *k, const char *v, int line, void *obj)
{
	size_t	len = strlen(v);

	if (len == 0) {
		conf_error(p, line, "%s has no value", k->name);
		return -1;
	}
	if (conf_has_cntrl(v)) {
		conf_error(p, line, "%s must not contain control characters", k->name);
		return -1;
	}
	if (conf_types[k->type].is_string && len < (size_t)k->min) {
		conf_error(p, line, "%s must be at least %ld characters", k->name, k->min);
		return -1;
	}
	if (conf_types[k->type].is_string && len > (size_t)k->max) {
		conf_error(p, line, "%s must be at most %ld characters", k->name, k->max);
		return -1;
	}
	return conf_types[k->type].set(p, k, v, line, obj);
}

/* Set every key of the current section in obj: its value, else its default. */
static void
conf_apply(struct conf_parse *p, void *obj)
{
	const struct conf_key	*k;
	size_t			 i;

	for (i = 0; i < nitems(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->sect != p->sect)
			continue;
		if (p->vals[i] != NULL)
			conf_set(p, k, p->vals[i], p->lines[i], obj);
		else if (k->required)
			conf_error(p, p->sect_line, "[%s] needs %s", conf_sect_names[k->sect],
			    k->name);
		else if (k->def != NULL)
			conf_set(p, k, k->def, p->sect_line, obj);
	}
}

/* Report value when another of the same kind had it already; remember it otherwise. */
static void
conf_unique(struct conf_parse *p, const char *what, const char *value, int line)
{
	struct conf_seen	*s;
	size_t			 i;

	for (i = 0; i < p->nseen; i++) {
		s = &p->seen[i];
		if (strcmp(s->what, what) == 0 && strcmp(s->value, value) == 0) {
			conf_error(p, line, "%s \"%s\" already defined in %s:%d", what, value,
			    s->path, s->line);
			return;
		}
	}
	p->seen = xrealloc(p->seen, (p->nseen + 1) * sizeof(*p->seen));
	s = &p->seen[p->nseen++];
	s->what = what;
	s->value = xstrdup(value);
	s->path = xstrdup(p->path);
	s->line = line;
}

static void
conf_add_sink(struct conf_parse *p)
{
	struct sink_conf	*sc = xcalloc(1, sizeof(*sc));
	int			 n, line = p->sect_line;

	sc->kind = p->sect == SECT_DISCORD ? SINK_DISCORD : SINK_WEBHOOK;
	sc->line = p->sect_line;
	n = sc->kind == SINK_DISCORD ? ++p->ndiscord : ++p->nwebhook;
	conf_apply(p, sc);
	if (conf_raw(p, "name", &line) == NULL)
		xasprintf(&sc->name, "%s-%d", conf_sect_names[p->sect], n);
	if (sc->name != NULL)
		conf_unique(p, "sink name", sc->name, line);
	TAILQ_INSERT_TAIL(&p->conf->sinks, sc, entry);
	p->conf->nsinks++;
}

/* The file name without its ".conf", as a printer's default name. */
static void
conf_default_name(struct conf_parse *p, struct printer_conf *pc)
{
	const struct conf_key	*k = &conf_keys[conf_find(SECT_PRINTER, "name")];
	const char		*base = strrchr(p->path, '/');
	char			*name, buf[128];

	base = base == NULL ? p->path : base + 1;
	name = xstrndup(base, strlen(base) - strlen(".conf"));
	if (conf_name_ok(name) && strlen(name) <= (size_t)k->max)
		pc->name = name;
	else {
		conf_error(p, p->sect_line, "file name \"%s\" makes no printer name (at most %ld "
		    "letters, digits, '-', '_', '.'): set name", conf_esc(buf, sizeof(buf), base),
		    k->max);
		free(name);
	}
}

/*
 * A printer is verified against a CA bundle (ca_file), pinned on first use (neither key), or
 * explicitly not checked at all (tls_insecure = yes); both keys at once are a contradiction.
 */
static void
conf_trust(struct conf_parse *p, struct printer_conf *pc)
{
	int	has_ca = conf_raw(p, "ca_file", NULL) != NULL;
	char	buf[128];

	conf_esc(buf, sizeof(buf), pc->name != NULL ? pc->name : "?");
	if (pc->tls_insecure == -1)	/* a bad value, reported already */
		pc->tls_insecure = 0;
	else if (has_ca && pc->tls_insecure)
		conf_error(p, p->sect_line, "printer \"%s\" has both ca_file and "
		    "tls_insecure = yes; choose one", buf);
}

static void
conf_add_printer(struct conf_parse *p)
{
	struct printer_conf	*pc = xcalloc(1, sizeof(*pc));
	int			 line = p->sect_line;

	pc->path = xstrdup(p->path);
	pc->tls_insecure = -1;		/* stays -1 when its value is bad */
	conf_apply(p, pc);
	if (conf_raw(p, "name", &line) == NULL)
		conf_default_name(p, pc);
	conf_trust(p, pc);
	if (pc->name != NULL)
		conf_unique(p, "printer name", pc->name, line);
	line = p->sect_line;
	conf_raw(p, "serial", &line);
	if (pc->serial != NULL)
		conf_unique(p, "printer serial", pc->serial, line);
	TAILQ_INSERT_TAIL(&p->conf->printers, pc, entry);
	p->conf->nprinters++;
}

/* The section being collected is complete: build its object, then forget its values. */
static void
conf_commit(struct conf_parse *p)
{
	size_t	i;

	switch (p->sect) {
	case SECT_BRIDGE:
		conf_apply(p, p->conf);
		break;
	case SECT_DISCORD:
	case SECT_WEBHOOK:
		conf_add_sink(p);
		break;
	case SECT_PRINTER:
		conf_add_printer(p);
		break;
	default:
		break;
	}
	for (i = 0; i < nitems(conf_keys); i++) {
		conf_freezero(p->vals[i]);
		p->vals[i] = NULL;
	}
	p->sect = SECT_NONE;
}

/* Is this section allowed here, and only once?  Reports why not. */
static int
conf_sect_ok(struct conf_parse *p, enum conf_sect sect)
{
	if (!p->dropin && sect == SECT_PRINTER) {
		conf_error(p, p->line, "[printer] goes in a printers.d/ drop-in");
		return -1;
	}
	if (p->dropin && sect != SECT_PRINTER) {
		conf_error(p, p->line, "[%s] goes in the main configuration, not a drop-in",
		    conf_sect_names[sect]);
		return -1;
	}
	if (sect == SECT_BRIDGE && p->bridge_line != 0) {
		conf_error(p, p->line, "[bridge] already defined at line %d", p->bridge_line);
		return -1;
	}
	if (sect == SECT_PRINTER && p->printer_line != 0) {
		conf_error(p, p->line, "only one [printer] per drop-in (first at line %d)",
		    p->printer_line);
		return -1;
	}
	return 0;
}

static void
conf_header(struct conf_parse *p, char *s)
{
	enum conf_sect	 sect;
	size_t		 len = strlen(s);
	char		*name, buf[128];

	conf_commit(p);
	p->sect = SECT_SKIP;
	if (s[len - 1] != ']') {
		conf_error(p, p->line, "expected \"[section]\", \"key = value\" or a comment");
		return;
	}
	s[len - 1] = '\0';
	name = conf_trim(s + 1);
	for (sect = SECT_BRIDGE; sect <= SECT_PRINTER; sect++) {
		if (strcmp(name, conf_sect_names[sect]) == 0)
			break;
	}
	if (sect > SECT_PRINTER) {
		conf_error(p, p->line, "unknown section [%s]", conf_esc(buf, sizeof(buf), name));
		return;
	}
	if (conf_sect_ok(p, sect) == -1)
		return;
	if (sect == SECT_BRIDGE)
		p->bridge_line = p->line;
	if (sect == SECT_PRINTER)
		p->printer_line = p->line;
	p->sect = sect;
	p->sect_line = p->line;
}

/* Keys whose values let someone else post to a channel, or log in to a printer. */
static int
conf_is_secret(const struct conf_key *k)
{
	return k->type == CT_SECRET || k->type == CT_APIKEY ||
	    (k->type == CT_URL && k->sect == SECT_DISCORD);
}

/*
 * A file holding secrets should be root:bambu-bridge 0640.  Only "readable by others" is
 * reported: the group is the service's, and an owner other than root is the admin's choice.
 */
static void
conf_secret_mode(struct conf_parse *p, int fd)
{
	struct stat	 sb;
	char		 buf[1024];
	const char	*path = p->path;

	if (!p->secrets || fstat(fd, &sb) == -1 || (sb.st_mode & S_IROTH) == 0)
		return;
	if (conf_has_cntrl(path))
		path = conf_esc(buf, sizeof(buf), path);
	conf_warn(p, 0, "holds secrets and is readable by others: chmod 0640 %s "
	    "(and chown root:bambu-bridge %s)", path, path);
}

static void
conf_keyval(struct conf_parse *p, char *s, char *eq)
{
	char	*key, *value, buf[128];
	int	 i;

	*eq = '\0';
	key = conf_trim(s);
	value = conf_trim(eq + 1);
	if (*key == '\0') {
		conf_error(p, p->line, "expected \"[section]\", \"key = value\" or a comment");
		return;
	}
	if (p->sect == SECT_SKIP)
		return;
	if (p->sect == SECT_NONE) {
		conf_error(p, p->line, "\"%s\" is outside any section",
		    conf_esc(buf, sizeof(buf), key));
		return;
	}
	if ((i = conf_find(p->sect, key)) == -1) {
		conf_error(p, p->line, "unknown key \"%s\" in [%s]",
		    conf_esc(buf, sizeof(buf), key), conf_sect_names[p->sect]);
		return;
	}
	if (p->vals[i] != NULL) {
		conf_error(p, p->line, "%s already set at line %d", key, p->lines[i]);
		return;
	}
	p->vals[i] = xstrdup(value);
	p->lines[i] = p->line;
	if (conf_is_secret(&conf_keys[i]))
		p->secrets = 1;
}

/* One line of n bytes, newline included.  The line is never echoed: it may hold a secret. */
static void
conf_line(struct conf_parse *p, char *buf, size_t n)
{
	char	*s, *eq;

	if (memchr(buf, '\0', n) != NULL) {
		conf_error(p, p->line, "line holds a NUL byte");
		return;
	}
	if (!conf_is_utf8(buf, n)) {
		conf_error(p, p->line, "line is not valid UTF-8");
		return;
	}
	if (p->line == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
		buf += 3;	/* a byte order mark, as some editors write */
	s = conf_strip(buf);
	if (*s == '\0')
		return;
	if (*s == '[')
		conf_header(p, s);
	else if ((eq = strchr(s, '=')) != NULL)
		conf_keyval(p, s, eq);
	else
		conf_error(p, p->line, "expected \"[section]\", \"key = value\" or a comment");
}

static void
conf_read(struct conf_parse *p, const char *path, int dropin)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 size = 0;
	ssize_t	 n;

	p->path = path;
	if ((f = fopen(path, "r")) == NULL) {
		conf_error(p, 0, "cannot open: %s", strerror(errno));
		conf_flush(p);
		return;
	}
	p->dir = conf_dirname(path);
	p->dropin = dropin;
	p->line = 0;
	p->sect = SECT_NONE;
	p->printer_line = 0;
	p->secrets = 0;
	while ((n = getline(&buf, &size, f)) != -1) {
		p->line++;
		conf_line(p, buf, (size_t)n);
		explicit_bzero(buf, (size_t)n);
	}
	if (ferror(f))
		conf_error(p, 0, "cannot read: %s", strerror(errno));
	conf_commit(p);
	if (dropin && p->printer_line == 0)
		conf_error(p, 0, "no [printer] section");
	conf_secret_mode(p, fileno(f));
	conf_flush(p);
	free(buf);
	fclose(f);
	free(p->dir);
	p->dir = NULL;
}

/* scandir filter: "*.conf", not hidden.  Whether it is a regular file is checked later. */
static int
conf_dropin_name(const struct dirent *de)
{
	size_t	n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > strlen(".conf") &&
	    strcmp(de->d_name + n - strlen(".conf"), ".conf") == 0;
}

/* strcmp, not the locale's collation: the order must not change with LANG. */
static int
conf_dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Read every drop-in in dir.  A missing default directory is no problem (a configuration
 * with sinks only is valid); a missing directory the user named is.
 */
static void
conf_read_dir(struct conf_parse *p, const char *dir, int named)
{
	struct dirent	**des;
	struct stat	  sb;
	char		 *path;
	int		  i, n;

	p->path = dir;
	if ((n = scandir(dir, &des, conf_dropin_name, conf_dropin_cmp)) == -1) {
		if (errno == ENOENT && named)
			conf_error(p, 0, "no such directory");
		else if (errno == ENOTDIR)
			conf_error(p, 0, "not a directory");
		else if (errno != ENOENT)
			conf_error(p, 0, "cannot read: %s", strerror(errno));
		conf_flush(p);
		return;
	}
	for (i = 0; i < n; i++) {
		path = conf_join(dir, des[i]->d_name);
		/* A broken link is reported by conf_read; directories and the like are skipped. */
		if (stat(path, &sb) == -1 || S_ISREG(sb.st_mode))
			conf_read(p, path, 1);
		free(path);
		free(des[i]);
	}
	free(des);
}

static void
conf_parse_free(struct conf_parse *p)
{
	size_t	i;

	for (i = 0; i < p->nseen; i++) {
		free(p->seen[i].value);
		free(p->seen[i].path);
	}
	free(p->seen);
}

struct config *
config_load(const char *path, const char *printers_dir, const char *state_dir, FILE *errs)
{
	struct conf_parse	 p;
	struct config		*conf;
	char			*dir;

	conf = xcalloc(1, sizeof(*conf));
	TAILQ_INIT(&conf->printers);
	TAILQ_INIT(&conf->sinks);
	conf->path = xstrdup(path);
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.errs = errs;
	p.path = path;

	/* [bridge] may be absent: its defaults first. */
	p.sect = SECT_BRIDGE;
	conf_apply(&p, conf);
	p.sect = SECT_NONE;

	conf_read(&p, path, 0);
	if (printers_dir != NULL)
		conf->printers_dir = xstrdup(printers_dir);
	else {
		dir = conf_dirname(path);
		conf->printers_dir = conf_join(dir, "printers.d");
		free(dir);
	}
	conf_read_dir(&p, conf->printers_dir, printers_dir != NULL);
	if (state_dir != NULL) {
		free(conf->state_dir);
		conf->state_dir = xstrdup(state_dir);
	}
	conf_parse_free(&p);
	if (p.nerrs != 0) {
		config_free(conf);
		return NULL;
	}
	return conf;
}

void
config_free(struct config *conf)
{
	struct printer_conf	*pc;
	struct sink_conf	*sc;

	if (conf == NULL)
		return;
	while ((pc = TAILQ_FIRST(&conf->printers)) != NULL) {
		TAILQ_REMOVE(&conf->printers, pc, entry);
		free(pc->name);
		free(pc->host);
		free(pc->serial);
		conf_freezero(pc->access_code);
		free(pc->ca_file);
		free(pc->path);
		free(pc);
	}
	while ((sc = TAILQ_FIRST(&conf->sinks)) != NULL) {
		TAILQ_REMOVE(&conf->sinks, sc, entry);
		free(sc->name);
		conf_freezero(sc->url);
		conf_freezero(sc->api_key);
		free(sc->ca_file);
		free(sc);
	}
	free(conf->path);
	free(conf->printers_dir);
	free(conf->state_dir);
	free(conf);
}

int
config_duration(const char *s)
{
	long long	n = 0;
	int		mult;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		n = n * 10 + (*s - '0');
		if (n > INT_MAX)
			return -1;
	}
	switch (*s) {
	case '\0':
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	default:
		return -1;
	}
	if (*s != '\0' && s[1] != '\0')
		return -1;
	if (n > INT_MAX / mult)
		return -1;
	return (int)n * mult;
}

int
config_events(const char *s, unsigned *mask, char *bad, size_t badlen)
{
	unsigned	m = 0;
	size_t		len;
	int		ev;

	if (badlen > 0)
		bad[0] = '\0';
	for (;;) {
		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t,");
		if ((ev = event_from_name(s, len)) == -1) {
			if (badlen > 0) {
				len = len < badlen - 1 ? len : badlen - 1;
				memcpy(bad, s, len);
				bad[len] = '\0';
			}
			return -1;
		}
		m |= 1u << ev;
		s += len;
	}
	if (m == 0)
		return -1;
	*mask = m;
	return 0;
}
