/*
 * main.c: the commands (run, check, test-notify), signals, and the main loop that carries
 * printer messages through the monitors to delivery.
 * Not for: parsing (config.c, report.c), deciding events (monitor.c) or HTTP (deliver.c).
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "clock.h"
#include "config.h"
#include "deliver.h"
#include "hms.h"
#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "outbox.h"
#include "persist.h"
#include "printer.h"
#include "report.h"
#include "status.h"
#include "trust.h"
#include "xmalloc.h"

#define TICK_MAX_MS	1000
#define TICK_MIN_MS	100	/* timers are seconds apart: scan printers at most 10 times/s */
#define RELOAD_SETTLE_MS 700

static volatile sig_atomic_t	quit, reload;
static const char		*opt_pdir, *opt_sdir;	/* -p and -s, kept for a reload */

struct bridge;
static int	online_count(const struct bridge *);
static const char		*state_dir;	/* the configuration's, for persist_save */

#define VERSION		"0.3"

struct bridge {
	struct config	 *conf;		/* in use */
	struct config	 *first;	/* the one main() loaded and frees */
	struct printer	**printers;
	int		  nprinters;
	int64_t		  offline_ms;
	int64_t		  started_ms;
	int		  status_fd;	/* -1: no status socket */
	int		  watch_fd;	/* inotify on printers.d/; -1 none */
	int64_t		  reload_at;	/* a change in printers.d/ settles, then reload */
	int64_t		  tick_at;	/* next scan of the printers' timers */
	int64_t		  watchdog_ms;	/* systemd's watchdog: ping this often; -1 none */
	int64_t		  watchdog_at;
	int64_t		  status_at;	/* next STATUS= for systemctl status */
	char		  status_line[96];
};

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bambu-bridge [-c FILE] [-p DIR] [-s DIR] [-v] "
	    "[run | check | test-notify [EVENT] | status [--json] |\n"
	    "    outbox [retry [SINK]] | trust NAME]\n");
	exit(1);
}

/* --- webhook keys: configured, or generated once and kept in the state directory --- */

static int
key_read(const char *path, char *key, size_t keylen)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(key, (int)keylen, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strcspn(key, "\r\n");
	key[n] = '\0';
	return n >= API_KEY_MIN ? 0 : -1;
}

static int
key_make(const char *path, char *key, size_t keylen)
{
	unsigned char	rnd[32];
	size_t		i;
	int		fd;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 || keylen < 2 * sizeof(rnd) + 2)
		return -1;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(key + 2 * i, 3, "%02x", rnd[i]);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1)
		return -1;
	key[2 * sizeof(rnd)] = '\n';
	if (write(fd, key, 2 * sizeof(rnd) + 1) != (ssize_t)(2 * sizeof(rnd) + 1) ||
	    fsync(fd) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	key[2 * sizeof(rnd)] = '\0';
	return 0;
}

/* The api_key of a webhook sink without one in the configuration. */
static int
key_for(const struct config *conf, const struct sink_conf *sc, char *key, size_t keylen)
{
	char	*path;
	int	 rv = 0;

	xasprintf(&path, "%s/webhook-%s.key", conf->state_dir, sc->name);
	if (key_read(path, key, keylen) == 0)
		log_debug("sink %s: api_key from %s", sc->name, path);
	else if (access(path, F_OK) == 0) {
		log_error("sink %s: %s does not hold a usable api_key (%d characters or more);"
		    " remove it to have a new one made", sc->name, path, API_KEY_MIN);
		rv = -1;
	} else if (key_make(path, key, keylen) == 0)
		log_info("sink %s: generated an api_key, kept in %s", sc->name, path);
	else {
		log_warn("sink %s: cannot create %s", sc->name, path);
		rv = -1;
	}
	free(path);
	return rv;
}

static int
state_dir_make(const char *dir)
{
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		log_warn("cannot create state directory %s", dir);
		return -1;
	}
	return 0;
}

static int
sinks_add(const struct config *conf)
{
	struct sink_conf	*sc;
	char			 key[128];

	struct sink		*s;

	TAILQ_FOREACH(sc, &conf->sinks, entry) {
		if (sc->kind == SINK_WEBHOOK && sc->api_key == NULL) {
			if (key_for(conf, sc, key, sizeof(key)) == -1)
				return -1;
			s = deliver_add(sc, key);
			explicit_bzero(key, sizeof(key));
		} else
			s = deliver_add(sc, sc->api_key);
		if (s == NULL)
			return -1;
	}
	return 0;
}

/* --- events --- */

static void
event_log(const struct event *ev)
{
	struct log_tags	tags;
	char		what[192];

	switch (ev->type) {
	case EV_HMS_ERROR:
	case EV_HMS_WARNING:
		snprintf(what, sizeof(what), "%s (%s, %s)", ev->hms.str, ev->hms.severity,
		    ev->hms.module);
		break;
	case EV_PRINTER_OFFLINE:
		snprintf(what, sizeof(what), "not heard from for %d s", ev->down_secs);
		break;
	case EV_PRINTER_ONLINE:
		snprintf(what, sizeof(what), "back after %d s", ev->down_secs);
		break;
	default:
		log_escape(what, sizeof(what), ev->job.name, strlen(ev->job.name));
		break;
	}
	tags = (struct log_tags){ .printer = ev->printer, .serial = ev->serial,
	    .event = event_name(ev->type) };
	log_tagged(LOG_INFO, &tags, "printer %s: %s: %s [%s]", ev->printer,
	    event_name(ev->type), what, ev->id);
}

/*
 * Events go to the outbox first; only then is the printer's new state written, so a crash
 * in between regenerates the event (with the same id) rather than losing it.
 */
static void
events_send(struct printer *p, struct event *evs, int n)
{
	struct monitor	*m = printer_monitor(p);
	int		 i;

	for (i = 0; i < n; i++) {
		event_log(&evs[i]);
		deliver_event(&evs[i]);
	}
	persist_save(state_dir, m->serial, &m->job, printer_saved(p), 0);
}

static void
handle_report(struct printer *p, const struct pmsg *m, int64_t now)
{
	struct report	 r;
	struct event	 evs[MONITOR_OUT_MAX];
	char		 cause[160];
	int		 n, want_full;

	if (m->kind == PM_OVERSIZE) {
		snprintf(cause, sizeof(cause), "report of %zu bytes is over the %d byte limit",
		    m->len, REPORT_MAX);
		printer_bad_report(p, cause);
		return;
	}
	if (report_parse(m->data, m->len, &r, cause, sizeof(cause)) == -1) {
		printer_bad_report(p, cause);
		return;
	}
	n = monitor_report(printer_monitor(p), &r, now, time(NULL), evs, &want_full);
	if (want_full)
		printer_pushall(p, now);
	events_send(p, evs, n);
}

/* Returns how many messages there were. */
static int
handle_messages(void)
{
	struct pmsg	*m, *next;
	int64_t		 now = clock_ms();
	int		 n = 0;

	for (m = printer_queue_take(); m != NULL; m = next, n++) {
		next = m->next;
		printer_session(m->p, m, now);
		if (m->kind == PM_REPORT || m->kind == PM_OVERSIZE)
			handle_report(m->p, m, now);
		pmsg_free(m);
	}
	return n;
}

/* Time passes for every printer; returns how long the loop may sleep. */
static int
tick(struct bridge *b)
{
	struct event	 evs[MONITOR_OUT_MAX];
	int64_t		 now = clock_ms(), next = TICK_MAX_MS, t;
	int		 i, n;

	for (i = 0; i < b->nprinters; i++) {
		printer_tick(b->printers[i], now, b->offline_ms);
		n = monitor_tick(printer_monitor(b->printers[i]), now, time(NULL),
		    b->offline_ms, evs);
		events_send(b->printers[i], evs, n);
		t = printer_next_ms(b->printers[i], now, b->offline_ms);
		if (t >= 0 && t < next)
			next = t;
		t = monitor_next_ms(printer_monitor(b->printers[i]), now, b->offline_ms);
		if (t >= 0 && t < next)
			next = t;
	}
	return (int)next;
}

static void
signals_init(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* A printer joins: its session starts, and its job state resumes from the state directory. */
static struct printer *
printer_join(const struct printer_conf *pc)
{
	struct printer	*p = printer_new(pc);

	if (persist_load(state_dir, pc->serial, &printer_monitor(p)->job, clock_ms()) == 0)
		log_debug("printer %s: resuming from its saved state", pc->name);
	return p;
}

/* A printer leaves: its job state is written, its session closed. */
static void
printer_leave(struct printer *p)
{
	struct monitor	*m = printer_monitor(p);

	persist_save(state_dir, m->serial, &m->job, printer_saved(p), 1);
	printer_free(p);
}

static int
sinks_same(const struct config *a, const struct config *b)
{
	const struct sink_conf	*x, *y;

	for (x = TAILQ_FIRST(&a->sinks), y = TAILQ_FIRST(&b->sinks); x != NULL && y != NULL;
	    x = TAILQ_NEXT(x, entry), y = TAILQ_NEXT(y, entry)) {
		if (x->kind != y->kind || strcmp(x->name, y->name) != 0 ||
		    strcmp(x->url, y->url) != 0 || !str_same(x->api_key, y->api_key) ||
		    !str_same(x->ca_file, y->ca_file) || x->events != y->events ||
		    x->retry_for != y->retry_for || x->queue_max != y->queue_max)
			return 0;
	}
	return x == NULL && y == NULL;
}

/* The new printer list: unchanged printers keep their session and state; the rest join. */
static void
printers_swap(struct bridge *b, const struct config *nc)
{
	struct printer		**next, *p;
	struct printer_conf	 *pc;
	int			  i, n = 0, kept = 0;

	next = xcalloc((size_t)nc->nprinters + 1, sizeof(*next));
	TAILQ_FOREACH(pc, &nc->printers, entry) {
		for (i = 0, p = NULL; i < b->nprinters && p == NULL; i++) {
			if (b->printers[i] != NULL &&
			    printer_conf_same(b->printers[i], pc)) {
				p = b->printers[i];
				b->printers[i] = NULL;
			}
		}
		if (p != NULL)
			kept++;
		next[n++] = p != NULL ? p : printer_join(pc);
	}
	for (i = 0; i < b->nprinters; i++) {
		if (b->printers[i] != NULL) {
			log_info("printer %s: removed or changed; disconnecting",
			    printer_name(b->printers[i]));
			printer_leave(b->printers[i]);
		}
	}
	log_info("reload: %d printers kept as they were, %d (re)connecting", kept, n - kept);
	free(b->printers);
	b->printers = next;
	b->nprinters = n;
}

/* Problems of a refused configuration go to the log, one line each. */
static void
problems_log(char *text)
{
	char	*line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		log_error("%s", line);
}

/*
 * SIGHUP, or a change in printers.d/: load the configuration anew; an invalid one is refused
 * and the running one kept.  Sinks are only replaced when they changed; what they had queued
 * waits in their outboxes and is taken up again.
 */
static void
reload_config(struct bridge *b)
{
	struct config	*nc;
	FILE		*errs;
	char		*text = NULL;
	size_t		 len = 0;

	notify_send("RELOADING=1");
	log_info("reloading the configuration");
	if ((errs = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream");
	nc = config_load(b->conf->path, opt_pdir, opt_sdir, errs);
	fclose(errs);
	if (nc == NULL) {
		problems_log(text);
		log_error("reload refused: the configuration in use is kept");
		free(text);
		notify_send("READY=1");
		return;
	}
	if (len > 0)
		problems_log(text);	/* warnings of a valid configuration */
	free(text);
	if (strcmp(nc->state_dir, b->conf->state_dir) != 0) {
		log_warnx("state_dir changed: that takes a restart; keeping %s",
		    b->conf->state_dir);
		free(nc->state_dir);
		nc->state_dir = xstrdup(b->conf->state_dir);
	}
	if (!sinks_same(b->conf, nc)) {
		log_info("sinks changed: restarting delivery (queued deliveries are kept)");
		deliver_stop();
		deliver_init(nc->state_dir);
		if (sinks_add(nc) == -1 || deliver_start() == -1)
			log_error("reload: some sinks could not start; see above");
	}
	printers_swap(b, nc);
	b->offline_ms = (int64_t)nc->offline_after * 1000;
	if (b->conf != b->first)	/* main() frees the first one */
		config_free(b->conf);
	b->conf = nc;
	state_dir = nc->state_dir;
	b->status_line[0] = '\0';	/* say STATUS= again */
	notify_send("READY=1");
}

/*
 * systemd: the watchdog is pinged from this loop, the one that would hang; STATUS= shows
 * printers online and deliveries queued in `systemctl status`, sent when it changes.
 */
static int
notify_tick(struct bridge *b, int64_t now, int timeout)
{
	char	line[sizeof(b->status_line)];

	if (b->watchdog_ms > 0) {
		if (now >= b->watchdog_at) {
			notify_send("WATCHDOG=1");
			b->watchdog_at = now + b->watchdog_ms;
		}
		if (b->watchdog_at - now < timeout)
			timeout = (int)(b->watchdog_at - now);
	}
	if (now >= b->status_at) {
		b->status_at = now + 1000;
		snprintf(line, sizeof(line), "%d/%d printers online, %d deliveries queued",
		    online_count(b), b->nprinters, deliver_queued());
		if (strcmp(line, b->status_line) != 0) {
			memcpy(b->status_line, line, sizeof(line));
			notify_send("STATUS=%s", line);
		}
	}
	return timeout;
}

static int
online_count(const struct bridge *b)
{
	int	i, n = 0;

	for (i = 0; i < b->nprinters; i++)
		n += printer_online(b->printers[i]);
	return n;
}

/* The document `bambu-bridge status` shows. */
static cJSON *
status_doc(const struct bridge *b)
{
	cJSON	*doc = cJSON_CreateObject(), *arr;
	int64_t	 now = clock_ms();
	int	 i;

	cJSON_AddStringToObject(doc, "version", VERSION);
	cJSON_AddNumberToObject(doc, "uptime", (double)(now - b->started_ms) / 1000);
	cJSON_AddNumberToObject(doc, "printers_total", b->nprinters);
	cJSON_AddNumberToObject(doc, "printers_online", online_count(b));
	cJSON_AddNumberToObject(doc, "queued", deliver_queued());
	arr = cJSON_AddArrayToObject(doc, "printers");
	for (i = 0; i < b->nprinters; i++)
		printer_describe(b->printers[i], now, arr);
	deliver_describe(cJSON_AddArrayToObject(doc, "sinks"));
	return doc;
}

/*
 * Watch printers.d/ so that a drop-in added, changed or removed is taken up without a
 * signal.  Editors write in several steps: the reload waits for RELOAD_SETTLE_MS of quiet.
 */
static int
watch_printers(const char *dir)
{
	int	fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
	    IN_DELETE | IN_CREATE | IN_ATTRIB) == -1) {
		if (errno == ENOENT)
			log_debug("no %s to watch", dir);
		else
			log_warn("cannot watch %s; changes there need SIGHUP", dir);
		close(fd);
		return -1;
	}
	return fd;
}

static void
watch_drain(struct bridge *b)
{
	char	buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(b->watch_fd, buf, sizeof(buf)) > 0)
		;
	b->reload_at = clock_ms() + RELOAD_SETTLE_MS;
}

static void
loop(struct bridge *b)
{
	struct pollfd	pfd[3] = {
		{ .fd = printer_queue_fd(), .events = POLLIN },
		{ .fd = b->status_fd, .events = POLLIN },
		{ .fd = b->watch_fd, .events = POLLIN },
	};
	cJSON		*doc;
	int		 timeout;
	int64_t		 now;

	while (!quit) {
		now = clock_ms();
		if (reload || (b->reload_at != 0 && now >= b->reload_at)) {
			reload = 0;
			b->reload_at = 0;
			reload_config(b);
		}
		/*
		 * The printers' timers are scanned when one falls due, and after messages
		 * (which may set new ones), but never more than 10 times a second: with a
		 * thousand printers reporting, a scan per wake-up would cost more than the
		 * reports themselves.
		 */
		if (now >= b->tick_at) {
			timeout = tick(b);
			b->tick_at = now + (timeout < TICK_MIN_MS ? TICK_MIN_MS : timeout);
		}
		timeout = notify_tick(b, now, (int)(b->tick_at - now));
		if (b->reload_at != 0 && b->reload_at - now < timeout)
			timeout = (int)(b->reload_at - now);
		if (poll(pfd, 3, timeout < 0 ? 0 : timeout) == -1 && errno != EINTR)
			fatal("poll");
		if (handle_messages() > 0 && b->tick_at > clock_ms() + TICK_MIN_MS)
			b->tick_at = clock_ms() + TICK_MIN_MS;
		if (pfd[1].revents & POLLIN) {
			doc = status_doc(b);
			status_answer(b->status_fd, doc);
			cJSON_Delete(doc);
		}
		if (pfd[2].revents & POLLIN)
			watch_drain(b);
	}
}

static int
cmd_run(struct config *conf, int argc, char **argv)
{
	struct bridge		 b = { .conf = conf, .first = conf };
	struct printer_conf	*pc;
	struct pmsg		*m, *next;
	int			 i = 0;

	(void)argv;
	if (argc != 0)
		usage();
	b.offline_ms = (int64_t)conf->offline_after * 1000;
	if (state_dir_make(conf->state_dir) == -1)
		return 1;
	deliver_init(conf->state_dir);
	if (sinks_add(conf) == -1) {
		deliver_stop();
		return 1;
	}
	if (printer_queue_init() == -1 || printer_checks_start() == -1 || deliver_start() == -1)
		fatal("cannot start threads");
	signals_init();
	b.printers = xcalloc((size_t)conf->nprinters, sizeof(*b.printers));
	state_dir = conf->state_dir;
	TAILQ_FOREACH(pc, &conf->printers, entry)
		b.printers[i++] = printer_join(pc);
	b.nprinters = i;
	b.started_ms = clock_ms();
	b.status_fd = status_listen(conf->state_dir);
	b.watch_fd = watch_printers(conf->printers_dir);
	b.watchdog_ms = notify_watchdog_ms();
	notify_send("READY=1");
	log_info("bambu-bridge started: %d printers, %d sinks, offline after %d s",
	    conf->nprinters, conf->nsinks, conf->offline_after);
	loop(&b);
	notify_send("STOPPING=1");
	status_close();
	if (b.watch_fd != -1)
		close(b.watch_fd);
	log_info("stopping");
	printer_checks_stop();
	for (i = 0; i < b.nprinters; i++)
		printer_leave(b.printers[i]);
	for (m = printer_queue_take(); m != NULL; m = next) {
		next = m->next;
		pmsg_free(m);
	}
	free(b.printers);
	deliver_stop();
	if (b.conf != b.first)
		config_free(b.conf);
	return 0;
}

/* --- the other commands --- */

static int
cmd_check(struct config *conf, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		usage();
	printf("%s: ok: %d printers, %d sinks\n", conf->path, conf->nprinters, conf->nsinks);
	return 0;
}

/* A sample event of the given type, with everything a real one would carry. */
static void
sample_event(struct event *ev, enum ev_type type)
{
	time_t	now = time(NULL);

	event_init(ev, type, "example-printer", "00M09A350100123");
	snprintf(ev->model, sizeof(ev->model), "Bambu Lab X1 Carbon");
	snprintf(ev->job.name, sizeof(ev->job.name), "Test print (bambu-bridge test-notify)");
	snprintf(ev->job.file, sizeof(ev->job.file), "/data/Metadata/plate_1.gcode");
	ev->job.percent = type == EV_JOB_STARTED ? 0 : type == EV_JOB_SUCCEEDED ? 100 : 42;
	ev->job.layer = type == EV_JOB_SUCCEEDED ? 120 : 50;
	ev->job.total_layers = 120;
	ev->job.remaining_min = type == EV_JOB_SUCCEEDED ? 0 : 37;
	ev->job.started = now - 3600;
	ev->job.ended = type == EV_JOB_STARTED ? 0 : now;
	if (type == EV_JOB_CANCELLED)
		ev->job.error = 0x0300400C;
	if (type == EV_HMS_ERROR)
		hms_describe(0x0C000300, 0x00010001, ev->model, &ev->hms);
	else
		hms_describe(0x07000200, 0x00030002, ev->model, &ev->hms);
	ev->down_secs = 90;
}

static int
cmd_test_notify(struct config *conf, int argc, char **argv)
{
	struct event	ev;
	int		type = EV_JOB_SUCCEEDED, rv;

	if (argc > 1)
		usage();
	if (argc == 1 && (type = event_from_name(argv[0], strlen(argv[0]))) == -1) {
		fprintf(stderr, "bambu-bridge: unknown event \"%s\"\n", argv[0]);
		return 1;
	}
	if (conf->nsinks == 0) {
		fprintf(stderr, "bambu-bridge: %s has no [discord] or [webhook] sink\n",
		    conf->path);
		return 1;
	}
	if (state_dir_make(conf->state_dir) == -1 || sinks_add(conf) == -1)
		return 1;
	sample_event(&ev, (enum ev_type)type);
	rv = deliver_now(&ev, stdout);
	deliver_stop();
	return rv == 0 ? 0 : 1;
}

static struct outbox *
sink_outbox_open(const struct config *conf, const struct sink_conf *sc)
{
	struct outbox	*ob;
	char		 cause[512];

	if ((ob = outbox_open(conf->state_dir, sc->name, cause, sizeof(cause))) == NULL)
		fprintf(stderr, "bambu-bridge: %s\n", cause);
	return ob;
}

/* outbox: what waits and what was given up, per sink.  outbox retry [SINK]: revive. */
static int
cmd_outbox(struct config *conf, int argc, char **argv)
{
	struct sink_conf	*sc;
	struct outbox		*ob;
	char			 tag[80];
	int			 queued, dead, n, found = 0, rv = 0;

	if (argc > 2 || (argc >= 1 && strcmp(argv[0], "retry") != 0))
		usage();
	if (argc == 0)
		printf("%-24s %8s %8s  %s\n", "SINK", "QUEUED", "DEAD", "STATE");
	TAILQ_FOREACH(sc, &conf->sinks, entry) {
		if (argc == 2 && strcmp(argv[1], sc->name) != 0)
			continue;
		found = 1;
		if ((ob = sink_outbox_open(conf, sc)) == NULL) {
			rv = 1;
			continue;
		}
		deliver_url_tag(sc->url, tag, sizeof(tag));
		if (argc == 0) {
			outbox_count(ob, &queued, &dead);
			printf("%-24s %8d %8d  %s\n", sc->name, queued, dead,
			    outbox_disabled(ob, tag) ? "disabled (the service said the webhook "
			    "is gone; change its URL)" : "enabled");
		} else if ((n = outbox_revive(ob)) == -1 || outbox_poke(ob) == -1) {
			fprintf(stderr, "bambu-bridge: sink %s: cannot move its dead letters: "
			    "%s\n", sc->name, strerror(errno));
			rv = 1;
		} else
			printf("%s: %d deliveries moved back to the queue\n", sc->name, n);
		outbox_close(ob);
	}
	if (argc == 2 && !found) {
		fprintf(stderr, "bambu-bridge: no sink named \"%s\" in %s\n", argv[1],
		    conf->path);
		return 1;
	}
	if (argc >= 1 && rv == 0)
		printf("A running bridge takes them within seconds; otherwise at its next start.\n");
	return rv;
}

struct command {
	const char	*name;
	int		(*fn)(struct config *, int, char **);
};

static const struct command commands[] = {
	{ "run", cmd_run },
	{ "check", cmd_check },
	{ "test-notify", cmd_test_notify },
	{ "outbox", cmd_outbox },
	{ "status", cmd_status },
	{ "trust", cmd_trust },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	const char		*path = DEFAULT_CONF, *pdir = NULL, *sdir = NULL, *cmd = "run";
	const struct command	*c;
	struct config		*conf;
	int		 ch, verbose = 0, rv;

	while ((ch = getopt(argc, argv, "+c:p:s:vh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'p': pdir = opt_pdir = optarg; break;
		case 's': sdir = opt_sdir = optarg; break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		cmd = argv[0];
	log_init(verbose);
	notify_init();
	srandom((unsigned)clock_ms() ^ (unsigned)getpid());
	for (c = commands; c->name != NULL && strcmp(c->name, cmd) != 0; c++)
		;
	if (c->name == NULL) {
		fprintf(stderr, "bambu-bridge: unknown command \"%s\"\n", cmd);
		usage();
	}
	if ((conf = config_load(path, pdir, sdir, stderr)) == NULL)
		return 1;
	trust_init(conf->state_dir);	/* where pins are kept */
	rv = c->fn(conf, argc - 1, argv + 1);
	config_free(conf);
	return rv;
}
