/*
 * deliver.c: getting rendered events to Discord and webhook sinks over HTTPS.  One thread runs
 * libcurl's multi interface for every sink; each sink has a queue and at most one request in
 * flight, so order holds within a sink and pacing is per sink: back-off after failures, the
 * server's word after a 429 or an exhausted rate-limit bucket, and a sink switched off when
 * Discord says its webhook is gone.  Every record is in the sink's outbox (outbox.c) before
 * deliver_event returns, and leaves it only when delivered (removed) or given up (dead/).
 * Not for: what a body says (discord.c, webhook.c, event.c) or how files are written
 * (outbox.c).
 *
 * Threads: deliver_add, deliver_start, deliver_stop and deliver_now run on the main thread;
 * deliver_event and deliver_queued may run on any thread; everything else runs on the delivery
 * thread.  deliver_lock guards each sink's queue, its count and its disabled flag.
 */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "clock.h"
#include "config.h"
#include "deliver.h"
#include "event.h"
#include "log.h"
#include "outbox.h"
#include "sink.h"
#include "xmalloc.h"

#define USER_AGENT		"bambu-bridge/0.1"
#define CONNECT_TIMEOUT		10L		/* seconds */
#define TOTAL_TIMEOUT		20L
#define BACKOFF_MIN_MS		1000
#define BACKOFF_MAX_MS		600000
#define RATE_DEFAULT_MS		5000		/* a 429 that does not say how long */
#define RATE_MAX_MS		3600000		/* believe no longer wait than this */
#define IDLE_POLL_MS		60000
#define DRAIN_MS		3000		/* deliver_stop lets requests finish */
/* journald fields of a sink's log lines: journalctl SINK=name */
#define SINK_TAGS(s)	(&(struct log_tags){ .sink = (s)->name })

#define SPOOL_RETRY_MS		5000		/* a failed outbox write is tried again */
#define POKE_POLL_MS		2000		/* look for records revived by `outbox retry` */
#define REPLY_MAX		4096		/* bytes of an answer's body kept */
#define LOGBODY_MAX		200		/* bytes of an answer's body logged */

struct record {
	TAILQ_ENTRY(record)	 entry;
	enum ev_type		 type;
	char			 id[40];
	char			 name[96];	/* its file in the outbox */
	int			 spooled;	/* the file exists: the record is accepted */
	time_t			 created;
	char			*body;
	size_t			 len;
};
TAILQ_HEAD(records, record);

/* What one answer said, gathered by libcurl's callbacks. */
struct reply {
	char	body[REPLY_MAX + 1];
	size_t	len;
	long	rl_remaining;		/* X-RateLimit-Remaining; -1 absent */
	double	rl_reset;		/* X-RateLimit-Reset-After, seconds; -1 absent */
};

enum verdict { V_OK, V_RETRY, V_RATE, V_GONE, V_DROP };

/* How an attempt ended, for the log and for the schedule. */
struct result {
	enum verdict	v;
	long		status;		/* 0: no HTTP answer */
	int64_t		wait_ms;	/* V_RATE */
	char		reason[1024];	/* for a person; no URL, key or header value */
};

struct sink {
	TAILQ_ENTRY(sink)	 entry;
	enum sink_kind		 kind;
	char			*name;
	char			*url;		/* secret; Discord's with wait=true */
	char			*api_key;	/* secret; webhook only */
	char			*ca_file;
	unsigned		 events;
	int64_t			 retry_for;	/* seconds */
	int			 queue_max;
	char			 tag[2 * SHA256_DIGEST_LENGTH + 1];	/* digest of the URL */
	struct outbox		*ob;		/* NULL: memory only (test-notify) */

	/* Under deliver_lock. */
	struct records		 queue;		/* the head is the one in flight */
	int			 nqueued;
	int			 unspooled;	/* records whose outbox write failed */
	int			 disabled;
	time_t			 last_ok;	/* wall clock of the last delivery; 0 none */
	char			 last_error[160];	/* "" after a success */
	struct log_once		 qlo;
	struct log_once		 spool_lo;

	/* Delivery thread only. */
	CURL			*easy;		/* the request in flight, or NULL */
	struct record		*inflight;
	struct curl_slist	*headers;
	struct reply		 reply;
	char			 errbuf[CURL_ERROR_SIZE];
	int64_t			 not_before;	/* monotonic ms */
	int			 failures;	/* in a row, for the back-off */
	int64_t			 spool_at;	/* next retry of failed outbox writes */
	int64_t			 poke_at;	/* next look for revived records */
	struct log_once		 lo;
};

static TAILQ_HEAD(, sink) sinks = TAILQ_HEAD_INITIALIZER(sinks);
static pthread_mutex_t	 deliver_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t	 deliver_thread;
static int		 deliver_running;
static atomic_int	 deliver_stopping;
static CURLM		*deliver_multi;
static int		 curl_ready;
static char		*deliver_state_dir;	/* NULL: no outbox */
static uint64_t		 deliver_seq;		/* under deliver_lock */

static void
curl_start(void)
{
	if (curl_ready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	curl_ready = 1;
}

static struct record *
record_new(const struct event *ev, char *body)
{
	struct record	*r = xcalloc(1, sizeof(*r));

	r->type = ev->type;
	strlcpy_utf8(r->id, ev->id, sizeof(r->id));
	r->created = ev->when;
	r->body = body;
	r->len = strlen(body);
	return r;
}

static void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r);
}

/* Remove and free every queued record; the caller holds deliver_lock.  Returns how many. */
static int
sink_drain(struct sink *s)
{
	struct record	*r;
	int		 n = 0;

	while ((r = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->queue, r, entry);
		record_free(r);
		n++;
	}
	s->nqueued = 0;
	return n;
}

static void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	sink_drain(s);
	free(s->name);
	free(s->url);
	if (s->api_key != NULL) {
		explicit_bzero(s->api_key, strlen(s->api_key));
		free(s->api_key);
	}
	free(s->ca_file);
	outbox_close(s->ob);
	free(s);
}

/* libcurl sends custom headers as given: a CR or LF in a key would split the request. */
static int
header_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	}
	return 1;
}

void
deliver_init(const char *state_dir)
{
	free(deliver_state_dir);
	deliver_state_dir = state_dir != NULL ? xstrdup(state_dir) : NULL;
}

/* A digest of the sink's URL: a disabled sink comes back when its URL changes. */
void
deliver_url_tag(const char *url, char *tag, size_t len)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	size_t		i;

	SHA256((const unsigned char *)url, strlen(url), md);
	for (i = 0; i < sizeof(md) && 2 * i + 2 < len; i++)
		snprintf(tag + 2 * i, 3, "%02x", md[i]);
}

/* Insert r in name (= event) order; records revived from dead/ may be older. */
static void
queue_insert(struct sink *s, struct record *r)
{
	struct record	*q;

	TAILQ_FOREACH_REVERSE(q, &s->queue, records, entry) {
		if (strcmp(q->name, r->name) < 0) {
			TAILQ_INSERT_AFTER(&s->queue, q, r, entry);
			s->nqueued++;
			return;
		}
	}
	TAILQ_INSERT_HEAD(&s->queue, r, entry);
	s->nqueued++;
}

static struct record *
queue_find(struct sink *s, const char *id, const char *name)
{
	struct record	*r;

	TAILQ_FOREACH(r, &s->queue, entry) {
		if ((id != NULL && strcmp(r->id, id) == 0) ||
		    (name != NULL && strcmp(r->name, name) == 0))
			return r;
	}
	return NULL;
}

/* outbox_load's callback: a spooled record becomes a queued one (unless known already). */
static void
sink_adopt(void *arg, struct spooled *sp)
{
	struct sink	*s = arg;
	struct record	*r;

	pthread_mutex_lock(&deliver_lock);
	if (queue_find(s, NULL, sp->name) != NULL) {
		pthread_mutex_unlock(&deliver_lock);
		free(sp->body);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->type = sp->type;
	strlcpy_utf8(r->id, sp->id, sizeof(r->id));
	strlcpy_utf8(r->name, sp->name, sizeof(r->name));
	r->spooled = 1;
	r->created = sp->created;
	r->body = sp->body;
	r->len = sp->len;
	queue_insert(s, r);
	if (sp->seq > deliver_seq)
		deliver_seq = sp->seq;
	pthread_mutex_unlock(&deliver_lock);
}

/* Open s's outbox, keep it disabled if its service said so, and resume what it holds. */
static int
sink_outbox(struct sink *s)
{
	char	cause[512];

	if ((s->ob = outbox_open(deliver_state_dir, s->name, cause, sizeof(cause))) == NULL) {
		log_tagged(LOG_ERR, SINK_TAGS(s), "sink %s: %s", s->name, cause);
		return -1;
	}
	if (outbox_disabled(s->ob, s->tag)) {
		s->disabled = 1;
		log_tagged(LOG_ERR, SINK_TAGS(s), "sink %s: stays disabled: its service said the webhook is gone; "
		    "deliveries are kept; change its URL to enable it again", s->name);
	} else
		outbox_enable(s->ob);
	outbox_load(s->ob, sink_adopt, s);
	if (s->nqueued > 0)
		log_tagged(LOG_INFO, SINK_TAGS(s), "sink %s: %d deliveries waiting in the outbox", s->name, s->nqueued);
	return 0;
}

struct sink *
deliver_add(const struct sink_conf *sc, const char *api_key)
{
	struct sink	*s;

	if (api_key == NULL)
		api_key = sc->api_key;
	if (sc->kind == SINK_WEBHOOK && (api_key == NULL || !header_safe(api_key))) {
		log_error("sink %s: no usable api_key", sc->name);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->kind = sc->kind;
	s->name = xstrdup(sc->name);
	s->url = sc->kind == SINK_DISCORD ? discord_url(sc->url) : xstrdup(sc->url);
	if (sc->kind == SINK_WEBHOOK)
		s->api_key = xstrdup(api_key);
	if (sc->ca_file != NULL)
		s->ca_file = xstrdup(sc->ca_file);
	s->events = sc->events;
	s->retry_for = sc->retry_for > 0 ? sc->retry_for : 86400;
	s->queue_max = sc->queue_max > 0 ? sc->queue_max : 10000;
	deliver_url_tag(sc->url, s->tag, sizeof(s->tag));
	TAILQ_INIT(&s->queue);
	if (deliver_state_dir != NULL && sink_outbox(s) == -1) {
		sink_free(s);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&sinks, s, entry);
	return s;
}

/* Callbacks: libcurl calls them on the thread that runs the transfer. */

static size_t
reply_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reply	*rp = arg;
	size_t		 n = size * nmemb, keep;

	keep = REPLY_MAX - rp->len < n ? REPLY_MAX - rp->len : n;
	memcpy(rp->body + rp->len, data, keep);
	rp->len += keep;
	rp->body[rp->len] = '\0';
	return n;
}

/* Header value as a NUL-terminated string when line is "name: value"; else NULL. */
static const char *
header_value(const char *line, size_t len, const char *name, char *buf, size_t buflen)
{
	size_t	nl = strlen(name), i, j = 0;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	for (i = nl + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (; i < len && j + 1 < buflen && line[i] != '\r' && line[i] != '\n'; i++)
		buf[j++] = line[i];
	buf[j] = '\0';
	return buf;
}

static size_t
reply_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct reply	*rp = arg;
	size_t		 n = size * nitems;
	char		 buf[64];

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new answer (after a 100 Continue): forget the last one's headers. */
		rp->rl_remaining = -1;
		rp->rl_reset = -1;
	} else if (header_value(line, n, "X-RateLimit-Remaining", buf, sizeof(buf)))
		rp->rl_remaining = strtol(buf, NULL, 10);
	else if (header_value(line, n, "X-RateLimit-Reset-After", buf, sizeof(buf)))
		rp->rl_reset = strtod(buf, NULL);
	return n;
}

static void
reply_reset(struct reply *rp)
{
	rp->len = 0;
	rp->body[0] = '\0';
	rp->rl_remaining = -1;
	rp->rl_reset = -1;
}

static struct curl_slist *
headers_add(struct curl_slist *h, char *line)
{
	struct curl_slist	*n = curl_slist_append(h, line);

	explicit_bzero(line, strlen(line));
	free(line);
	if (n == NULL)
		fatalx("curl_slist_append: out of memory");
	return n;
}

/* The request headers; a webhook's carry its key and a signature made now. */
static struct curl_slist *
request_headers(const struct sink *s, const struct record *r)
{
	struct curl_slist	*h = NULL;
	char			*line, sig[64];
	long			 ts = (long)time(NULL);

	h = headers_add(h, xstrdup("Content-Type: application/json"));
	h = headers_add(h, xstrdup("Expect:"));
	if (s->kind != SINK_WEBHOOK)
		return h;
	if (webhook_sign((const unsigned char *)s->api_key, strlen(s->api_key), r->id, ts,
	    r->body, r->len, sig, sizeof(sig)) == -1)
		fatalx("webhook_sign failed");
	xasprintf(&line, "X-API-Key: %s", s->api_key);
	h = headers_add(h, line);
	xasprintf(&line, "webhook-id: %s", r->id);
	h = headers_add(h, line);
	xasprintf(&line, "webhook-timestamp: %ld", ts);
	h = headers_add(h, line);
	xasprintf(&line, "webhook-signature: %s", sig);
	return headers_add(h, line);
}

/* One POST of r to s; the caller owns the handle and *hdrs.  NULL when libcurl cannot. */
static CURL *
request_new(struct sink *s, const struct record *r, struct curl_slist **hdrs,
    struct reply *rp, char *errbuf)
{
	CURL	*c;

	if ((c = curl_easy_init()) == NULL)
		return NULL;
	*hdrs = request_headers(s, r);
	reply_reset(rp);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TOTAL_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, reply_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rp);
	curl_easy_setopt(c, CURLOPT_PRIVATE, s);
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	return c;
}

/*
 * Drop the timings libcurl puts in its messages ("after 4 ms", "after 20001 milliseconds with
 * 0 bytes received") so that the same failure reads the same every time, for log_once.
 */
static void
strip_timings(char *s)
{
	char	*p, *q, *r;

	while ((p = strstr(s, " after ")) != NULL && p[7] >= '0' && p[7] <= '9') {
		q = p + 7 + strspn(p + 7, "0123456789");
		if (strncmp(q, " milliseconds", 13) == 0)
			q += 13;
		else if (strncmp(q, " ms", 3) == 0)
			q += 3;
		if (strncmp(q, " with ", 6) == 0 && (r = strstr(q, " received")) != NULL)
			q = r + 9;
		memmove(p, q, strlen(q) + 1);
	}
}

/* Does msg quote a part of the URL's path or query (a Discord token)? */
static int
leaks_url(const char *msg, const char *url)
{
	const char	*p = strstr(url, "://");
	size_t		 n;

	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return 0;
	while (*p != '\0') {
		p += strspn(p, "/?&=#");
		n = strcspn(p, "/?&=#");
		if (n >= 8 && memmem(msg, strlen(msg), p, n) != NULL)
			return 1;
		p += n;
	}
	return 0;
}

/* libcurl's words for a failed transfer, escaped, and never anything from the URL's path. */
static void
transfer_reason(const struct sink *s, CURLcode cc, const char *errbuf, char *buf, size_t len)
{
	const char	*msg = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
	char		 tmp[CURL_ERROR_SIZE];

	if (leaks_url(msg, s->url))
		msg = curl_easy_strerror(cc);
	snprintf(tmp, sizeof(tmp), "%s", msg);
	strip_timings(tmp);
	log_escape(buf, len, tmp, strlen(tmp));
}

/* A JSON number member of the answer's body, or -1. */
static double
reply_number(const struct reply *rp, const char *key)
{
	cJSON	*root, *item;
	double	 d = -1;

	if ((root = cJSON_ParseWithLength(rp->body, rp->len)) == NULL)
		return -1;
	item = cJSON_GetObjectItemCaseSensitive(root, key);
	if (cJSON_IsNumber(item) && item->valuedouble >= 0)
		d = item->valuedouble;
	cJSON_Delete(root);
	return d;
}

/* How long a 429 asks us to hold the queue: Discord's body, else Retry-After. */
static int64_t
rate_wait(CURL *c, const struct reply *rp)
{
	curl_off_t	ra = -1;
	double		secs = reply_number(rp, "retry_after");

	if (secs < 0 && curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		secs = (double)ra;
	if (secs < 0)
		return RATE_DEFAULT_MS;
	if (secs * 1000 > RATE_MAX_MS)
		return RATE_MAX_MS;
	return (int64_t)(secs * 1000) + 1;
}

static void
judge_gone(const struct sink *s, const struct reply *rp, struct result *res)
{
	double	code = reply_number(rp, "code");

	res->v = V_GONE;
	if (s->kind == SINK_WEBHOOK)
		snprintf(res->reason, sizeof(res->reason),
		    "the receiver says the endpoint is gone (HTTP %ld)", res->status);
	else if (code >= 0)
		snprintf(res->reason, sizeof(res->reason),
		    "Discord says the webhook is gone (HTTP %ld, code %.0f)", res->status, code);
	else
		snprintf(res->reason, sizeof(res->reason),
		    "Discord says the webhook is gone (HTTP %ld)", res->status);
}

static void
judge_refused(const struct reply *rp, struct result *res)
{
	char	esc[4 * LOGBODY_MAX + 1];

	res->v = V_DROP;
	log_escape(esc, sizeof(esc), rp->body, rp->len < LOGBODY_MAX ? rp->len : LOGBODY_MAX);
	snprintf(res->reason, sizeof(res->reason), "HTTP %ld: %s", res->status, esc);
}

/* Sort an answer (or its absence) into what to do next. */
static void
judge(const struct sink *s, CURL *c, CURLcode cc, const struct reply *rp, const char *errbuf,
    struct result *res)
{
	long	st = 0;

	memset(res, 0, sizeof(*res));
	if (cc != CURLE_OK) {
		res->v = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ?
		    V_GONE : V_RETRY;
		transfer_reason(s, cc, errbuf, res->reason, sizeof(res->reason));
		return;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	res->status = st;
	snprintf(res->reason, sizeof(res->reason), "HTTP %ld", st);
	if (st >= 200 && st <= 299)
		res->v = V_OK;
	else if (st == 429) {
		res->v = V_RATE;
		res->wait_ms = rate_wait(c, rp);
		snprintf(res->reason, sizeof(res->reason), "rate limited (HTTP 429)");
	} else if ((s->kind == SINK_DISCORD && (st == 404 || st == 401)) ||
	    (s->kind == SINK_WEBHOOK && st == 410))
		judge_gone(s, rp, res);
	else if (st >= 400 && st <= 499 && st != 408)
		judge_refused(rp, res);
	else {
		res->v = V_RETRY;	/* 5xx, 408, and 3xx: redirects are not followed */
		if (st >= 300 && st <= 399)
			snprintf(res->reason, sizeof(res->reason),
			    "HTTP %ld (redirects are not followed)", st);
	}
}

/* 1 s doubling to 600 s, each with up to a quarter either way of jitter. */
static int64_t
backoff_ms(int failures)
{
	int64_t		base = BACKOFF_MIN_MS;
	uint32_t	rnd = 0;

	if (failures > 1)
		base <<= failures - 1 > 10 ? 10 : failures - 1;
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint32_t)clock_ms();
	base = base * 3 / 4 + (int64_t)(rnd % (uint32_t)(base / 2 + 1));
	return base > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : base;
}

/*
 * Remove the record that was in flight (not the head: records revived from dead/ may have
 * been queued ahead of it meanwhile): delivered (its file goes), or given up (its file goes
 * to dead/, where `bambu-bridge outbox retry` can bring it back).
 */
static void
sink_pop(struct sink *s, int bury)
{
	struct record	*r = s->inflight;

	if (r == NULL)
		return;
	s->inflight = NULL;
	pthread_mutex_lock(&deliver_lock);
	TAILQ_REMOVE(&s->queue, r, entry);
	s->nqueued--;
	if (!r->spooled)
		s->unspooled--;
	pthread_mutex_unlock(&deliver_lock);
	if (r->spooled) {
		if (bury ? outbox_bury(s->ob, r->name) : outbox_done(s->ob, r->name))
			log_warn("sink %s: outbox record %s", s->name, r->name);
	}
	record_free(r);
}

/* Discord says the webhook is gone: stop, keep the queue, and remember across restarts. */
static void
sink_disable(struct sink *s, const struct result *res)
{
	log_tagged(LOG_ERR, SINK_TAGS(s), "sink %s: %s; sink disabled until its URL changes (%d deliveries kept)",
	    s->name, res->reason, s->nqueued);
	pthread_mutex_lock(&deliver_lock);
	s->disabled = 1;
	pthread_mutex_unlock(&deliver_lock);
	if (s->ob != NULL && outbox_disable(s->ob, s->tag, res->reason) == -1)
		log_warn("sink %s: cannot record that it is disabled", s->name);
}

/* Discord's bucket is empty: wait until it refills before the next request. */
static void
sink_pace(struct sink *s, const struct reply *rp, int64_t now)
{
	int64_t	until;

	if (rp->rl_remaining != 0 || rp->rl_reset <= 0)
		return;
	until = now + (int64_t)(rp->rl_reset * 1000) + 1;
	if (rp->rl_reset * 1000 > RATE_MAX_MS)
		until = now + RATE_MAX_MS;
	if (until > s->not_before)
		s->not_before = until;
	log_tagged(LOG_DEBUG, SINK_TAGS(s), "sink %s: rate limit bucket empty, next in %.3f s", s->name, rp->rl_reset);
}

static void
sink_retry(struct sink *s, const struct result *res, int64_t now)
{
	int64_t	wait;

	if (s->ob != NULL && time(NULL) - s->inflight->created >= s->retry_for) {
		log_tagged(LOG_ERR, SINK_TAGS(s), "sink %s: gave up on %s %s after %lld s of failures (%s); moved to "
		    "the dead letters", s->name, event_name(s->inflight->type), s->inflight->id,
		    (long long)s->retry_for, res->reason);
		s->failures = 0;
		sink_pop(s, 1);
		return;
	}
	s->failures++;
	wait = backoff_ms(s->failures);
	s->not_before = now + wait;
	log_once_tagged(&s->lo, SINK_TAGS(s), "sink %s: %s %s failed: %s; retrying", s->name,
	    event_name(s->inflight->type), s->inflight->id, res->reason);
	log_tagged(LOG_DEBUG, SINK_TAGS(s), "sink %s: attempt %d failed, next in %.1f s", s->name, s->failures,
	    (double)wait / 1000);
}

/* Act on how the request in flight ended. */
static void
sink_done(struct sink *s, const struct result *res)
{
	struct record	*r = s->inflight;
	int64_t		 now = clock_ms();

	if (res->status != 0)
		sink_pace(s, &s->reply, now);
	pthread_mutex_lock(&deliver_lock);
	if (res->v == V_OK) {
		s->last_ok = time(NULL);
		s->last_error[0] = '\0';
	} else
		strlcpy_utf8(s->last_error, res->reason, sizeof(s->last_error));
	pthread_mutex_unlock(&deliver_lock);
	switch (res->v) {
	case V_OK:
		log_tagged(LOG_INFO, SINK_TAGS(s), "sink %s: delivered %s %s (HTTP %ld)", s->name, event_name(r->type),
		    r->id, res->status);
		s->failures = 0;
		log_once_clear(&s->lo);
		sink_pop(s, 0);
		break;
	case V_RETRY:
		sink_retry(s, res, now);
		break;
	case V_RATE:
		if (now + res->wait_ms > s->not_before)
			s->not_before = now + res->wait_ms;
		log_once_tagged(&s->lo, SINK_TAGS(s), "sink %s: rate limited (HTTP 429); holding its queue", s->name);
		log_tagged(LOG_DEBUG, SINK_TAGS(s), "sink %s: waiting %.3f s", s->name, (double)res->wait_ms / 1000);
		break;
	case V_GONE:
		sink_disable(s, res);
		break;
	case V_DROP:
		log_tagged(LOG_ERR, SINK_TAGS(s), "sink %s: %s %s refused, not retried (moved to the dead letters): %s",
		    s->name, event_name(r->type), r->id, res->reason);
		s->failures = 0;
		sink_pop(s, 1);
		break;
	}
	s->inflight = NULL;
}

static void
request_end(struct sink *s)
{
	if (s->easy != NULL) {
		curl_multi_remove_handle(deliver_multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->headers);
	s->headers = NULL;
}

/* Start the head of s's queue when s is idle and allowed to send. */
static void
sink_launch(struct sink *s, int64_t now)
{
	struct record	*r;

	if (s->easy != NULL || now < s->not_before)
		return;
	pthread_mutex_lock(&deliver_lock);
	r = s->disabled ? NULL : TAILQ_FIRST(&s->queue);
	pthread_mutex_unlock(&deliver_lock);
	if (r == NULL)
		return;
	s->inflight = r;
	s->easy = request_new(s, r, &s->headers, &s->reply, s->errbuf);
	if (s->easy == NULL) {
		struct result	res = { .v = V_RETRY, .reason = "curl_easy_init failed" };

		request_end(s);
		sink_retry(s, &res, now);
		s->inflight = NULL;
		return;
	}
	curl_multi_add_handle(deliver_multi, s->easy);
}

/* Does s have a request to start now, or one in flight? */
static int
sink_busy(struct sink *s, int64_t now)
{
	int	ready;

	if (s->easy != NULL)
		return 1;
	pthread_mutex_lock(&deliver_lock);
	ready = !s->disabled && s->nqueued > 0 && now >= s->not_before;
	pthread_mutex_unlock(&deliver_lock);
	return ready;
}

/* Milliseconds until some idle sink may send its next request. */
static int
deliver_timeout(int64_t now)
{
	struct sink	*s;
	int64_t		 t = IDLE_POLL_MS;
	int		 waiting, unspooled;

	TAILQ_FOREACH(s, &sinks, entry) {
		pthread_mutex_lock(&deliver_lock);
		waiting = s->easy == NULL && !s->disabled && s->nqueued > 0;
		unspooled = s->unspooled > 0;
		pthread_mutex_unlock(&deliver_lock);
		if (waiting && s->not_before - now < t)
			t = s->not_before - now;
		/* Also wake for `outbox retry` and for outbox writes to try again. */
		if (s->ob != NULL && s->poke_at - now < t)
			t = s->poke_at - now;
		if (unspooled && s->spool_at - now < t)
			t = s->spool_at - now;
	}
	return t < 0 ? 0 : (int)t;
}

static void
deliver_reap(void)
{
	CURLMsg		*msg;
	struct sink	*s;
	struct result	 res;
	char		*priv;
	int		 left;

	while ((msg = curl_multi_info_read(deliver_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		s = (struct sink *)(void *)priv;
		judge(s, s->easy, msg->data.result, &s->reply, s->errbuf, &res);
		request_end(s);
		sink_done(s, &res);
	}
}

/* Keep going until stopped; then let what can finish finish, for up to DRAIN_MS. */
static int
deliver_more(int64_t now, int64_t *deadline)
{
	struct sink	*s;

	if (!atomic_load(&deliver_stopping))
		return 1;
	if (*deadline == 0)
		*deadline = now + DRAIN_MS;
	if (now >= *deadline)
		return 0;
	TAILQ_FOREACH(s, &sinks, entry) {
		if (sink_busy(s, now))
			return 1;
	}
	return 0;
}

static void	sink_spool_retry(struct sink *, int64_t);
static void	sink_poked(struct sink *, int64_t);

static void *
deliver_main(void *arg)
{
	struct sink	*s;
	int64_t		 now, deadline = 0;
	int		 running, timeout;

	(void)arg;
	while (deliver_more((now = clock_ms()), &deadline)) {
		TAILQ_FOREACH(s, &sinks, entry) {
			sink_spool_retry(s, now);
			sink_poked(s, now);
			sink_launch(s, now);
		}
		timeout = deliver_timeout(now);
		if (deadline != 0 && deadline - now < timeout)
			timeout = (int)(deadline - now);
		curl_multi_poll(deliver_multi, NULL, 0, timeout, NULL);
		curl_multi_perform(deliver_multi, &running);
		deliver_reap();
	}
	TAILQ_FOREACH(s, &sinks, entry) {
		request_end(s);
		s->inflight = NULL;
	}
	return NULL;
}

int
deliver_start(void)
{
	curl_start();
	if (deliver_running || TAILQ_EMPTY(&sinks))
		return 0;
	if ((deliver_multi = curl_multi_init()) == NULL) {
		log_error("curl_multi_init failed");
		return -1;
	}
	atomic_store(&deliver_stopping, 0);
	if (pthread_create(&deliver_thread, NULL, deliver_main, NULL) != 0) {
		log_error("cannot start the delivery thread");
		curl_multi_cleanup(deliver_multi);
		deliver_multi = NULL;
		return -1;
	}
	deliver_running = 1;
	return 0;
}

static void
deliver_join(void)
{
	CURLM	*m;

	if (!deliver_running)
		return;
	atomic_store(&deliver_stopping, 1);
	pthread_mutex_lock(&deliver_lock);
	curl_multi_wakeup(deliver_multi);
	pthread_mutex_unlock(&deliver_lock);
	pthread_join(deliver_thread, NULL);
	deliver_running = 0;
	pthread_mutex_lock(&deliver_lock);
	m = deliver_multi;
	deliver_multi = NULL;
	pthread_mutex_unlock(&deliver_lock);
	curl_multi_cleanup(m);
}

void
deliver_stop(void)
{
	struct sink	*s;

	deliver_join();
	while ((s = TAILQ_FIRST(&sinks)) != NULL) {
		TAILQ_REMOVE(&sinks, s, entry);
		if (s->nqueued - s->unspooled > 0)
			log_tagged(LOG_INFO, SINK_TAGS(s), "sink %s: %d deliveries stay in the outbox for the next start",
			    s->name, s->nqueued - s->unspooled);
		if (s->unspooled > 0)
			log_tagged(LOG_ERR, SINK_TAGS(s), "sink %s: %d deliveries could not be written to the outbox "
			    "and are lost", s->name, s->unspooled);
		sink_free(s);
	}
	if (curl_ready) {
		curl_global_cleanup();
		curl_ready = 0;
	}
}

/* Sequence numbers order the outbox's files: increasing, also across restarts. */
static uint64_t
seq_next(void)
{
	uint64_t	t = (uint64_t)time(NULL) << 20;

	deliver_seq = deliver_seq + 1 > t ? deliver_seq + 1 : t;
	return deliver_seq;
}

/* Write r into s's outbox; on failure (a full disk) it stays in memory and is tried again. */
static void
record_spool(struct sink *s, struct record *r)
{
	if (s->ob == NULL)
		return;
	if (outbox_put(s->ob, strtoull(r->name, NULL, 16), r->id, r->type, r->created, r->body,
	    r->len, r->name, sizeof(r->name)) == 0) {
		r->spooled = 1;
		log_once_clear(&s->spool_lo);
		return;
	}
	log_once_tagged(&s->spool_lo, SINK_TAGS(s), "sink %s: cannot write to the outbox: %s; the delivery is kept "
	    "in memory and the write tried again", s->name, strerror(errno));
	s->unspooled++;
}

/*
 * Queue r on s, in its outbox first.  Over queue_max the event is refused with a log line;
 * an event already queued (the same id, regenerated after a crash) is not queued twice.
 */
static void
sink_enqueue(struct sink *s, struct record *r)
{
	int	kept = 0;

	pthread_mutex_lock(&deliver_lock);
	if (queue_find(s, r->id, NULL) != NULL)
		log_tagged(LOG_DEBUG, SINK_TAGS(s), "sink %s: %s is queued already", s->name, r->id);
	else if (s->nqueued < s->queue_max) {
		snprintf(r->name, sizeof(r->name), "%016" PRIx64, seq_next());
		record_spool(s, r);
		TAILQ_INSERT_TAIL(&s->queue, r, entry);
		s->nqueued++;
		kept = 1;
		log_once_clear(&s->qlo);
	} else
		log_once_tagged(&s->qlo, SINK_TAGS(s), "sink %s: queue_max (%d) deliveries are waiting; refusing new "
		    "ones until it drains", s->name, s->queue_max);
	pthread_mutex_unlock(&deliver_lock);
	if (!kept)
		record_free(r);
}

/* Records whose outbox write failed: try again, in order. */
static void
sink_spool_retry(struct sink *s, int64_t now)
{
	struct record	*r;

	if (s->ob == NULL || s->unspooled == 0 || now < s->spool_at)
		return;
	s->spool_at = now + SPOOL_RETRY_MS;
	pthread_mutex_lock(&deliver_lock);
	TAILQ_FOREACH(r, &s->queue, entry) {
		if (!r->spooled) {
			s->unspooled--;
			record_spool(s, r);
		}
	}
	if (outbox_sync(s->ob) == -1)
		log_warn("sink %s: cannot sync the outbox", s->name);
	pthread_mutex_unlock(&deliver_lock);
}

/* `bambu-bridge outbox retry` moved dead records back: take them in. */
static void
sink_poked(struct sink *s, int64_t now)
{
	int	before = s->nqueued;

	if (s->ob == NULL || now < s->poke_at)
		return;
	s->poke_at = now + POKE_POLL_MS;
	if (!outbox_poked(s->ob))
		return;
	outbox_load(s->ob, sink_adopt, s);
	log_tagged(LOG_INFO, SINK_TAGS(s), "sink %s: %d deliveries brought back from the dead letters", s->name,
	    s->nqueued - before);
}

static char *
sink_render(const struct sink *s, const struct event *ev)
{
	return s->kind == SINK_DISCORD ? discord_body(ev) : webhook_body(ev);
}

void
deliver_event(const struct event *ev)
{
	struct sink	*s;

	if ((unsigned)ev->type >= EV_COUNT)
		return;
	TAILQ_FOREACH(s, &sinks, entry) {
		if (s->events & (1u << ev->type))
			sink_enqueue(s, record_new(ev, sink_render(s, ev)));
	}
	/* One directory fsync per sink and event: now the event is accepted. */
	TAILQ_FOREACH(s, &sinks, entry) {
		if (s->ob != NULL && outbox_sync(s->ob) == -1)
			log_warn("sink %s: cannot sync the outbox", s->name);
	}
	pthread_mutex_lock(&deliver_lock);
	if (deliver_multi != NULL)
		curl_multi_wakeup(deliver_multi);
	pthread_mutex_unlock(&deliver_lock);
}

int
deliver_queued(void)
{
	struct sink	*s;
	int		 n = 0;

	pthread_mutex_lock(&deliver_lock);
	TAILQ_FOREACH(s, &sinks, entry)
		n += s->nqueued;
	pthread_mutex_unlock(&deliver_lock);
	return n;
}

/* test-notify: one attempt, now, and a line saying how it went. */
static int
deliver_now_one(struct sink *s, const struct event *ev, FILE *out)
{
	struct record		*r = record_new(ev, sink_render(s, ev));
	struct curl_slist	*hdrs = NULL;
	struct reply		*rp = xcalloc(1, sizeof(*rp));
	struct result		 res;
	char			 errbuf[CURL_ERROR_SIZE];
	CURL			*c;
	CURLcode		 cc;

	if ((c = request_new(s, r, &hdrs, rp, errbuf)) == NULL) {
		res.v = V_RETRY;
		snprintf(res.reason, sizeof(res.reason), "curl_easy_init failed");
	} else {
		cc = curl_easy_perform(c);
		judge(s, c, cc, rp, errbuf, &res);
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(hdrs);
	record_free(r);
	free(rp);
	if (res.v == V_OK)
		fprintf(out, "%s: ok (HTTP %ld)\n", s->name, res.status);
	else
		fprintf(out, "%s: failed: %s\n", s->name, res.reason);
	return res.v == V_OK ? 0 : -1;
}

int
deliver_now(const struct event *ev, FILE *out)
{
	struct sink	*s;
	int		 rc = 0;

	curl_start();
	TAILQ_FOREACH(s, &sinks, entry) {
		if ((unsigned)ev->type >= EV_COUNT || !(s->events & (1u << ev->type)))
			fprintf(out, "%s: skipped (filter)\n", s->name);
		else if (deliver_now_one(s, ev, out) == -1)
			rc = -1;
	}
	fflush(out);
	return rc;
}

/* For `status`: each sink as an object appended to arr.  Any thread. */
void
deliver_describe(cJSON *arr)
{
	struct sink	*s;
	cJSON		*o;
	time_t		 now = time(NULL);

	pthread_mutex_lock(&deliver_lock);
	TAILQ_FOREACH(s, &sinks, entry) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddStringToObject(o, "kind", s->kind == SINK_DISCORD ? "discord" :
		    "webhook");
		cJSON_AddStringToObject(o, "state", s->disabled ? "disabled" :
		    s->last_error[0] != '\0' ? "failing" : "ok");
		cJSON_AddNumberToObject(o, "queued", s->nqueued);
		cJSON_AddNumberToObject(o, "last_success_age", s->last_ok != 0 ?
		    (double)(now - s->last_ok) : -1);
		if (s->last_error[0] != '\0')
			cJSON_AddStringToObject(o, "last_error", s->last_error);
		cJSON_AddItemToArray(arr, o);
	}
	pthread_mutex_unlock(&deliver_lock);
}
