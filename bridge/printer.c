/*
 * printer.c: one MQTT session per printer: connect over TLS, subscribe to the report topic,
 * ask for a full report, notice silence, reconnect with back-off.
 *
 * Threads: Paho runs every client's callbacks on one thread of its own; they only copy what
 * arrived into a struct pmsg, queue it and wake the main loop.  Before Paho connects to a
 * printer that is not tls_insecure, a worker thread checks its certificate with OpenSSL
 * directly (trust.c: the chain against ca_file or the leaf against its pin, and the CN against
 * the serial, which Paho cannot check); the result comes back through the same queue.
 * Everything else runs on the main thread.
 * Not for: understanding reports (report.c, monitor.c).
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "log.h"
#include "persist.h"
#include "printer.h"
#include "report.h"
#include "trust.h"
#include "xmalloc.h"

/* journald fields of a printer's log lines: journalctl PRINTER=name */
#define PRINTER_TAGS(p)	(&(struct log_tags){ .printer = (p)->name, .serial = (p)->serial })

#define BACKOFF_MIN_MS		1000
#define BACKOFF_MAX_MS		30000	/* a LAN printer: retrying is cheap */
#define PUSHALL_GAP_MS		3000	/* Studio waits at least 3 s between two */
#define WRONG_SERIAL_MS		10000	/* connected, asked, heard nothing: serial? */
#define PROBE_WAIT_MS		2000	/* a probe gets this long to be answered */
#define CHECK_THREADS		2

enum conn {
	C_WAIT,		/* not connected; next attempt at retry_at */
	C_CHECKING,	/* the certificate check is queued or running */
	C_CONNECTING,
	C_UP,
};

struct printer {
	char		*name;
	char		*host;
	int		 port;
	char		*serial;
	char		*code;		/* the access code: never logged */
	char		*ca_file;	/* TRUST_CA_FILE only */
	enum trust_mode	 trust;
	char		 topic_report[64];
	char		 topic_request[64];
	MQTTAsync	 client;
	enum conn	 conn;
	int64_t		 retry_at;
	int		 backoff_ms;
	int64_t		 up_at;
	int64_t		 pushall_at;	/* last pushall sent; 0 never */
	int64_t		 probe_at;	/* the probe of the current silence; 0 none */
	int		 warned_serial;	/* until a report arrives */
	unsigned	 seq;
	struct log_once	 conn_err;
	struct log_once	 bad_input;
	struct monitor	 mon;
	struct persist_mark saved;	/* what persist_save last wrote */
	TAILQ_ENTRY(printer) check_entry;
	int		 check_state;	/* under c_lock: CHECK_NONE, _QUEUED, _RUNNING */
};

/* --- the queue from Paho's thread and the check workers to the main loop --- */

static pthread_mutex_t	 q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pmsg	*q_head, **q_tail = &q_head;
static int		 q_fd = -1;

int
printer_queue_init(void)
{
	if ((q_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	return 0;
}

int
printer_queue_fd(void)
{
	return q_fd;
}

static void
post(struct printer *p, enum pmsg_kind kind, const char *data, size_t len)
{
	struct pmsg	*m = xcalloc(1, sizeof(*m));
	uint64_t	 one = 1;

	m->p = p;
	m->kind = kind;
	m->len = len;
	if (data != NULL) {
		m->data = xmalloc(len + 1);
		memcpy(m->data, data, len);
		m->data[len] = '\0';
	}
	pthread_mutex_lock(&q_lock);
	*q_tail = m;
	q_tail = &m->next;
	pthread_mutex_unlock(&q_lock);
	(void)write(q_fd, &one, sizeof(one));
}

static void
post_text(struct printer *p, enum pmsg_kind kind, const char *text)
{
	post(p, kind, text, strlen(text));
}

struct pmsg *
printer_queue_take(void)
{
	struct pmsg	*m;
	uint64_t	 n;

	(void)read(q_fd, &n, sizeof(n));
	pthread_mutex_lock(&q_lock);
	m = q_head;
	q_head = NULL;
	q_tail = &q_head;
	pthread_mutex_unlock(&q_lock);
	return m;
}

/* Drop the messages of a printer that is going away (no callback can add more by then). */
static void
queue_purge(struct printer *p)
{
	struct pmsg	**mp = &q_head, *m;

	pthread_mutex_lock(&q_lock);
	while ((m = *mp) != NULL) {
		if (m->p == p) {
			*mp = m->next;
			pmsg_free(m);
		} else
			mp = &m->next;
	}
	q_tail = mp;
	pthread_mutex_unlock(&q_lock);
}

void
pmsg_free(struct pmsg *m)
{
	if (m == NULL)
		return;
	free(m->data);
	free(m);
}

/* --- Paho's callbacks: on Paho's thread; copy, hand over, return --- */

static int
on_message(void *ctx, char *topic, int topiclen, MQTTAsync_message *msg)
{
	struct printer	*p = ctx;
	size_t		 len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;

	(void)topiclen;
	if (len > REPORT_MAX)
		post(p, PM_OVERSIZE, NULL, len);
	else
		post(p, PM_REPORT, msg->payload, len);
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

static void
on_lost(void *ctx, char *cause)
{
	post_text(ctx, PM_LOST, cause != NULL ? cause : "connection lost");
}

static void
on_connect(void *ctx, MQTTAsync_successData *resp)
{
	struct printer	*p = ctx;

	(void)resp;
	/* Subscribe on every connect: the session is clean. */
	MQTTAsync_subscribe(p->client, p->topic_report, 0, NULL);
	post(p, PM_CONNECTED, NULL, 0);
}

static const char *
connack_text(int code)
{
	switch (code) {
	case 1:	return "the printer refused MQTT 3.1.1";
	case 2:	return "the printer refused the client id";
	case 3:	return "the printer's MQTT service is unavailable";
	case 4:	return "the printer refused the access code (bad user name or password)";
	case 5:	return "the printer refused the access code (not authorized)";
	default: return NULL;
	}
}

static void
on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
	char		 why[256], msg[128] = "";
	const char	*t;
	int		 code = resp != NULL ? resp->code : -1;

	if (resp != NULL && resp->message != NULL)
		log_escape(msg, sizeof(msg), resp->message, strlen(resp->message));
	if ((t = connack_text(code)) != NULL)
		snprintf(why, sizeof(why), "%s", t);
	else if (msg[0] != '\0')
		snprintf(why, sizeof(why), "%s", msg);
	else
		snprintf(why, sizeof(why), "connect failed (code %d)", code);
	post_text(ctx, PM_CONNECT_FAILED, why);
}

/* --- the certificate check, on worker threads --- */

enum { CHECK_NONE, CHECK_QUEUED, CHECK_RUNNING };

static pthread_mutex_t	 c_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 c_cond = PTHREAD_COND_INITIALIZER;	/* work queued */
static pthread_cond_t	 c_done = PTHREAD_COND_INITIALIZER;	/* a check ended */
static TAILQ_HEAD(, printer) c_queue = TAILQ_HEAD_INITIALIZER(c_queue);
static pthread_t	 c_threads[CHECK_THREADS];
static int		 c_nthreads, c_stop;

static void *
check_worker(void *arg)
{
	struct printer		*p;
	struct trust_target	 t;
	char			 note[512], why[512];

	(void)arg;
	pthread_mutex_lock(&c_lock);
	for (;;) {
		while (!c_stop && TAILQ_EMPTY(&c_queue))
			pthread_cond_wait(&c_cond, &c_lock);
		if (c_stop)
			break;
		p = TAILQ_FIRST(&c_queue);
		TAILQ_REMOVE(&c_queue, p, check_entry);
		p->check_state = CHECK_RUNNING;
		pthread_mutex_unlock(&c_lock);
		t = (struct trust_target){ .name = p->name, .host = p->host, .port = p->port,
		    .serial = p->serial, .ca_file = p->ca_file, .mode = p->trust };
		switch (trust_check(&t, note, sizeof(note), why, sizeof(why))) {
		case 0:
			post(p, PM_CHECKED, note[0] != '\0' ? note : NULL, strlen(note));
			break;
		case -2:
			post_text(p, PM_CONNECT_FAILED, why);
			break;
		default:
			post_text(p, PM_CHECK_FAILED, why);
			break;
		}
		pthread_mutex_lock(&c_lock);
		p->check_state = CHECK_NONE;
		pthread_cond_broadcast(&c_done);
	}
	pthread_mutex_unlock(&c_lock);
	return NULL;
}

int
printer_checks_start(void)
{
	for (c_nthreads = 0; c_nthreads < CHECK_THREADS; c_nthreads++)
		if (pthread_create(&c_threads[c_nthreads], NULL, check_worker, NULL) != 0)
			return -1;
	return 0;
}

void
printer_checks_stop(void)
{
	int	i;

	pthread_mutex_lock(&c_lock);
	c_stop = 1;
	pthread_cond_broadcast(&c_cond);
	pthread_mutex_unlock(&c_lock);
	for (i = 0; i < c_nthreads; i++)
		pthread_join(c_threads[i], NULL);
	c_nthreads = 0;
}

/* p is going away: take it off the check queue, or wait for its check to end. */
static void
check_forget(struct printer *p)
{
	pthread_mutex_lock(&c_lock);
	if (p->check_state == CHECK_QUEUED) {
		TAILQ_REMOVE(&c_queue, p, check_entry);
		p->check_state = CHECK_NONE;
	}
	while (p->check_state == CHECK_RUNNING)
		pthread_cond_wait(&c_done, &c_lock);
	pthread_mutex_unlock(&c_lock);
}

static void
check_queue(struct printer *p)
{
	pthread_mutex_lock(&c_lock);
	p->check_state = CHECK_QUEUED;
	TAILQ_INSERT_TAIL(&c_queue, p, check_entry);
	pthread_cond_signal(&c_cond);
	pthread_mutex_unlock(&c_lock);
}

/* --- the session, on the main thread --- */

struct printer *
printer_new(const struct printer_conf *pc)
{
	struct printer		*p = xcalloc(1, sizeof(*p));
	MQTTAsync_createOptions	 co = MQTTAsync_createOptions_initializer;
	char			*uri, *id;
	unsigned char		 rnd[4];

	p->name = xstrdup(pc->name);
	p->host = xstrdup(pc->host);
	p->port = pc->port;
	p->serial = xstrdup(pc->serial);
	p->code = xstrdup(pc->access_code);
	p->trust = trust_mode(pc);
	p->ca_file = p->trust == TRUST_CA_FILE ? xstrdup(pc->ca_file) : NULL;
	snprintf(p->topic_report, sizeof(p->topic_report), "device/%s/report", p->serial);
	snprintf(p->topic_request, sizeof(p->topic_request), "device/%s/request", p->serial);
	monitor_init(&p->mon, p->name, p->serial);

	/* A random suffix, so that two bridges never knock each other off one printer. */
	RAND_bytes(rnd, sizeof(rnd));
	xasprintf(&uri, "ssl://%s:%d", p->host, p->port);
	xasprintf(&id, "bambu-bridge-%s-%02x%02x%02x%02x", p->serial, rnd[0], rnd[1], rnd[2],
	    rnd[3]);
	co.MQTTVersion = MQTTVERSION_3_1_1;
	if (MQTTAsync_createWithOptions(&p->client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
	    &co) != MQTTASYNC_SUCCESS)
		fatalx("printer %s: cannot create an MQTT client", p->name);
	MQTTAsync_setCallbacks(p->client, p, on_lost, on_message, NULL);
	free(uri);
	free(id);
	if (p->trust == TRUST_INSECURE)
		log_tagged(LOG_WARNING, PRINTER_TAGS(p), "printer %s: tls_insecure = yes: its certificate is not checked",
		    p->name);
	return p;
}

void
printer_free(struct printer *p)
{
	MQTTAsync_disconnectOptions	do_ = MQTTAsync_disconnectOptions_initializer;
	int				i;

	if (p == NULL)
		return;
	check_forget(p);
	if (MQTTAsync_isConnected(p->client)) {
		do_.timeout = 500;
		MQTTAsync_disconnect(p->client, &do_);
		for (i = 0; i < 50 && MQTTAsync_isConnected(p->client); i++)
			usleep(10000);
	}
	MQTTAsync_destroy(&p->client);
	queue_purge(p);
	explicit_bzero(p->code, strlen(p->code));
	free(p->code);
	free(p->name);
	free(p->host);
	free(p->serial);
	free(p->ca_file);
	free(p);
}

const char *
printer_name(const struct printer *p)
{
	return p->name;
}

struct monitor *
printer_monitor(struct printer *p)
{
	return &p->mon;
}

struct persist_mark *
printer_saved(struct printer *p)
{
	return &p->saved;
}

static void
retry_later(struct printer *p, int64_t now)
{
	int	jitter;

	p->conn = C_WAIT;
	if (p->backoff_ms < BACKOFF_MIN_MS)
		p->backoff_ms = BACKOFF_MIN_MS;
	jitter = (int)(random() % (p->backoff_ms / 5 + 1));
	p->retry_at = now + p->backoff_ms + jitter;
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static void
paho_connect(struct printer *p, int64_t now)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions	 so = MQTTAsync_SSLOptions_initializer;
	int			 rc;

	co.keepAliveInterval = 20;
	co.cleansession = 1;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.connectTimeout = 10;
	co.username = "bblp";
	co.password = p->code;
	co.onSuccess = on_connect;
	co.onFailure = on_connect_failure;
	co.context = p;
	/* verify stays 0: it would match the IP against the name, which never matches. */
	so.enableServerCertAuth = p->ca_file != NULL;
	so.trustStore = p->ca_file;
	/*
	 * Never the system's store: Paho builds a context per connect, and loading the whole
	 * store into each cost ~0.3 s and ~0.8 MB per printer (measured with 1000 printers:
	 * 290 s to connect them all and 820 MB).  A printer is never signed by a public CA.
	 */
	so.disableDefaultTrustStore = 1;
	so.verify = 0;
	co.ssl = &so;
	if ((rc = MQTTAsync_connect(p->client, &co)) != MQTTASYNC_SUCCESS) {
		log_once_tagged(&p->conn_err, PRINTER_TAGS(p), "printer %s: cannot start connecting: %s", p->name,
		    MQTTAsync_strerror(rc));
		retry_later(p, now);
		return;
	}
	p->conn = C_CONNECTING;
}

static void
start_connect(struct printer *p, int64_t now)
{
	log_tagged(LOG_DEBUG, PRINTER_TAGS(p), "printer %s: connecting to %s:%d", p->name, p->host, p->port);
	if (p->trust != TRUST_INSECURE) {
		p->conn = C_CHECKING;
		check_queue(p);
	} else
		paho_connect(p, now);
}

/* Request ids are strings and stay below 2^31. */
static unsigned
next_seq(struct printer *p)
{
	p->seq = (p->seq + 1) & 0x7fffffff;
	return p->seq;
}

static void
publish(struct printer *p, const char *buf)
{
	MQTTAsync_send(p->client, p->topic_request, (int)strlen(buf), buf, 0, 0, NULL);
}

int
printer_pushall(struct printer *p, int64_t now)
{
	char	buf[128];

	if (p->conn != C_UP || (p->pushall_at != 0 && now - p->pushall_at < PUSHALL_GAP_MS))
		return -1;
	p->pushall_at = now;
	snprintf(buf, sizeof(buf), "{\"pushing\":{\"sequence_id\":\"%u\","
	    "\"command\":\"pushall\",\"version\":1,\"push_target\":1}}", next_seq(p));
	publish(p, buf);
	return 0;
}

static void
session_up(struct printer *p, int64_t now)
{
	char	buf[128];

	if (p->conn_err.last[0] != '\0')
		log_tagged(LOG_INFO, PRINTER_TAGS(p), "printer %s: connected again", p->name);
	else
		log_tagged(LOG_INFO, PRINTER_TAGS(p), "printer %s: connected", p->name);
	log_once_clear(&p->conn_err);
	p->conn = C_UP;
	p->up_at = now;
	p->probe_at = 0;
	p->pushall_at = 0;
	monitor_rebase(&p->mon);
	printer_pushall(p, now);
	snprintf(buf, sizeof(buf), "{\"info\":{\"sequence_id\":\"%u\","
	    "\"command\":\"get_version\"}}", next_seq(p));
	publish(p, buf);
}

void
printer_session(struct printer *p, const struct pmsg *m, int64_t now)
{
	switch (m->kind) {
	case PM_CHECKED:
		/* At a first contact, the check says what it pinned. */
		if (m->data != NULL)
			log_tagged(LOG_INFO, PRINTER_TAGS(p), "printer %s: %s", p->name, m->data);
		paho_connect(p, now);
		break;
	case PM_CHECK_FAILED:
		/* A refused certificate is an error; connecting again ("connected again") ends it. */
		log_once_at(&p->conn_err, LOG_ERR, PRINTER_TAGS(p), "printer %s: not connecting: %s",
		    p->name, m->data);
		retry_later(p, now);
		break;
	case PM_CONNECTED:
		session_up(p, now);
		break;
	case PM_CONNECT_FAILED:
		log_once_tagged(&p->conn_err, PRINTER_TAGS(p), "printer %s: cannot connect to %s:%d: %s", p->name,
		    p->host, p->port, m->data);
		retry_later(p, now);
		break;
	case PM_LOST:
		log_tagged(LOG_WARNING, PRINTER_TAGS(p), "printer %s: connection lost", p->name);
		retry_later(p, now);
		break;
	case PM_REPORT:
	case PM_OVERSIZE:
		/* A report proves the session works: the next outage starts the back-off anew. */
		p->backoff_ms = 0;
		p->probe_at = 0;
		p->warned_serial = 0;
		break;
	}
}

/* When the session last showed life: a report since it came up, or its start. */
static int64_t
last_sign(const struct printer *p)
{
	return p->mon.pres.last_ms > p->up_at ? p->mon.pres.last_ms : p->up_at;
}

/* How long a probe gets to be answered before the session is given up. */
static int64_t
probe_wait(int64_t offline_ms)
{
	return offline_ms / 2 < PROBE_WAIT_MS ? offline_ms / 2 : PROBE_WAIT_MS;
}

static void
warn_serial(struct printer *p, int64_t now)
{
	p->warned_serial = 1;
	log_tagged(LOG_WARNING, PRINTER_TAGS(p), "printer %s: connected, but no report %d s after asking for one: "
	    "is serial %s right? (it is case-sensitive)", p->name,
	    (int)((now - p->up_at) / 1000), p->serial);
}

/*
 * Silence on a session that is up: probe with a pushall once the silence has lasted half of
 * offline_after, and give the session up when it lasted offline_after and the probe had time
 * to be answered.  A session that never brought a report is most likely a wrong serial.
 */
static void
watch_silence(struct printer *p, int64_t now, int64_t offline_ms)
{
	MQTTAsync_disconnectOptions do_ = MQTTAsync_disconnectOptions_initializer;
	int64_t		silent = now - last_sign(p);
	int		never = p->mon.pres.last_ms < p->up_at;

	if (never && !p->warned_serial && now - p->up_at >= WRONG_SERIAL_MS)
		warn_serial(p, now);
	if (silent >= offline_ms / 2 && p->probe_at == 0 && printer_pushall(p, now) == 0) {
		p->probe_at = now;
		log_tagged(LOG_DEBUG, PRINTER_TAGS(p), "printer %s: silent for %d s: asked for a full report", p->name,
		    (int)(silent / 1000));
	}
	if (silent >= offline_ms && p->probe_at != 0 &&
	    now - p->probe_at >= probe_wait(offline_ms)) {
		if (never && !p->warned_serial)
			warn_serial(p, now);
		log_tagged(LOG_WARNING, PRINTER_TAGS(p), "printer %s: silent for %d s after a probe: reconnecting", p->name,
		    (int)(silent / 1000));
		do_.timeout = 0;
		MQTTAsync_disconnect(p->client, &do_);
		retry_later(p, now);
	}
}

void
printer_tick(struct printer *p, int64_t now, int64_t offline_ms)
{
	if (p->conn == C_WAIT && now >= p->retry_at)
		start_connect(p, now);
	else if (p->conn == C_UP)
		watch_silence(p, now, offline_ms);
}

int64_t
printer_next_ms(const struct printer *p, int64_t now, int64_t offline_ms)
{
	int64_t	at;

	if (p->conn == C_WAIT)
		return p->retry_at > now ? p->retry_at - now : 0;
	if (p->conn != C_UP)
		return -1;
	if (p->probe_at == 0) {
		at = last_sign(p) + offline_ms / 2;
		if (p->pushall_at + PUSHALL_GAP_MS > at)
			at = p->pushall_at + PUSHALL_GAP_MS;
	} else {
		at = last_sign(p) + offline_ms;
		if (p->probe_at + probe_wait(offline_ms) > at)
			at = p->probe_at + probe_wait(offline_ms);
	}
	if (!p->warned_serial && p->mon.pres.last_ms < p->up_at &&
	    p->up_at + WRONG_SERIAL_MS < at)
		at = p->up_at + WRONG_SERIAL_MS;
	return at > now ? at - now : 0;
}

void
printer_bad_report(struct printer *p, const char *cause)
{
	log_once_tagged(&p->bad_input, PRINTER_TAGS(p), "printer %s: dropped a report: %s", p->name, cause);
}

static const char *
conn_name(enum conn c)
{
	switch (c) {
	case C_WAIT:		return "waiting";
	case C_CHECKING:	return "checking";
	case C_CONNECTING:	return "connecting";
	case C_UP:		return "up";
	}
	return "?";
}

/* For `status`: what this printer is doing, as a JSON object appended to arr. */
void
printer_describe(const struct printer *p, int64_t now, cJSON *arr)
{
	const struct monitor	*m = &p->mon;
	cJSON			*o = cJSON_CreateObject(), *job;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "serial", p->serial);
	cJSON_AddStringToObject(o, "model", monitor_model(m));
	cJSON_AddStringToObject(o, "connection", conn_name(p->conn));
	cJSON_AddStringToObject(o, "trust", trust_mode_name(p->trust));
	cJSON_AddStringToObject(o, "state", gstate_name(m->f.state));
	cJSON_AddBoolToObject(o, "online", m->pres.heard && !m->pres.offline);
	cJSON_AddNumberToObject(o, "last_report_age", m->pres.heard ?
	    (double)(now - m->pres.last_ms) / 1000 : -1);
	if (p->conn_err.last[0] != '\0')
		cJSON_AddStringToObject(o, "last_error", p->conn_err.last);
	if (m->job.active) {
		job = cJSON_AddObjectToObject(o, "job");
		cJSON_AddStringToObject(job, "name", m->job.cur.name);
		cJSON_AddStringToObject(job, "file", m->job.cur.file);
		cJSON_AddNumberToObject(job, "progress", m->job.cur.percent);
		cJSON_AddNumberToObject(job, "remaining_minutes", m->job.cur.remaining_min);
	}
	cJSON_AddItemToArray(arr, o);
}

int
printer_online(const struct printer *p)
{
	return p->mon.pres.heard && !p->mon.pres.offline;
}

/* Would this configuration give the same session?  Then a reload leaves the printer alone. */
int
printer_conf_same(const struct printer *p, const struct printer_conf *pc)
{
	return strcmp(p->name, pc->name) == 0 && strcmp(p->host, pc->host) == 0 &&
	    p->port == pc->port && strcmp(p->serial, pc->serial) == 0 &&
	    strcmp(p->code, pc->access_code) == 0 && p->trust == trust_mode(pc) &&
	    str_same(p->ca_file, p->trust == TRUST_CA_FILE ? pc->ca_file : NULL);
}
