/*
 * monitor.c: one printer's reports in, events out.  Ties report merging to the job, HMS and
 * presence state machines and fills the event records.  Pure code: no I/O, no clock.
 * Not for: the MQTT session (printer.c) or delivery (deliver.c).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "monitor.h"
#include "xmalloc.h"

void
monitor_init(struct monitor *m, const char *name, const char *serial)
{
	memset(m, 0, sizeof(*m));
	strlcpy_utf8(m->name, name, sizeof(m->name));
	strlcpy_utf8(m->serial, serial, sizeof(m->serial));
	fields_init(&m->f);
	job_init(&m->job);
	hms_init(&m->hms);
	presence_init(&m->pres);
}

void
monitor_rebase(struct monitor *m)
{
	m->have_base = 0;
	job_rebase(&m->job);
}

/* Serial prefixes of the known models (the first three characters). */
const char *
monitor_model(const struct monitor *m)
{
	static const struct {
		const char	*prefix;
		const char	*model;
	} prefixes[] = {
		{ "00M", "X1C" }, { "00W", "X1" }, { "03W", "X1E" }, { "01S", "P1P" },
		{ "01P", "P1S" }, { "030", "A1 mini" }, { "039", "A1" }, { "094", "H2D" },
	};
	size_t	i;

	if (m->f.product[0] != '\0')
		return m->f.product;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(m->serial, prefixes[i].prefix, 3) == 0)
			return prefixes[i].model;
	return "";
}

static struct event *
new_event(struct monitor *m, struct event *out, int *n, enum ev_type type, time_t wall)
{
	struct event	*ev;

	if (*n >= MONITOR_OUT_MAX)
		return NULL;
	ev = &out[(*n)++];
	event_init(ev, type, m->name, m->serial);
	ev->when = wall;
	strlcpy_utf8(ev->model, monitor_model(m), sizeof(ev->model));
	return ev;
}

/*
 * A job event's id is derived from the printer, the event and the job (identity and start),
 * so the same event regenerated after a crash carries the same id and is queued once.
 */
static void
job_event_id(const struct monitor *m, struct event *ev)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	char		key[640];
	int		len, i;

	len = snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%lld", m->serial,
	    event_name(ev->type), ev->job.id, ev->job.name, ev->job.file,
	    (long long)ev->job.started);
	SHA256((const unsigned char *)key, (size_t)len, md);
	memcpy(ev->id, "evt_", 4);
	for (i = 0; i < 16; i++)
		snprintf(ev->id + 4 + 2 * i, 3, "%02x", md[i]);
}

static void
add_jobs(struct monitor *m, const struct job_out *jo, int njo, time_t wall,
    struct event *out, int *n)
{
	struct event	*ev;
	int		 i;

	for (i = 0; i < njo; i++) {
		if ((ev = new_event(m, out, n, jo[i].type, wall)) != NULL) {
			ev->job = jo[i].info;
			job_event_id(m, ev);
		}
	}
}

static void
add_hms(struct monitor *m, int64_t now, time_t wall, struct event *out, int *n)
{
	struct hms_entry	 fresh[MONITOR_OUT_MAX];
	struct event		*ev;
	int			 i, nfresh;

	nfresh = hms_feed(&m->hms, m->f.hms, m->f.nhms, now, fresh, MONITOR_OUT_MAX);
	for (i = 0; i < nfresh; i++) {
		ev = new_event(m, out, n, hms_is_error(fresh[i].code) ? EV_HMS_ERROR :
		    EV_HMS_WARNING, wall);
		if (ev != NULL)
			hms_describe(fresh[i].attr, fresh[i].code, ev->model, &ev->hms);
	}
}

int
monitor_report(struct monitor *m, const struct report *r, int64_t now, time_t wall,
    struct event *out, int *want_full)
{
	struct job_out	 jo[JOB_OUT_MAX];
	struct event	*ev;
	int		 n = 0, njo;

	*want_full = 0;
	if (presence_heard(&m->pres, now) == EV_PRINTER_ONLINE &&
	    (ev = new_event(m, out, &n, EV_PRINTER_ONLINE, wall)) != NULL)
		ev->down_secs = (int)((now - m->pres.offline_ms) / 1000);
	report_merge(&m->f, r);
	if (!r->status)
		return n;
	if (r->full)
		m->have_base = 1;
	if (!m->have_base) {
		*want_full = 1;
		return n;
	}
	njo = job_feed(&m->job, &m->f, now, wall, jo);
	add_jobs(m, jo, njo, wall, out, &n);
	if (r->mask & F_HMS)
		add_hms(m, now, wall, out, &n);
	return n;
}

int
monitor_tick(struct monitor *m, int64_t now, time_t wall, int64_t offline_ms,
    struct event *out)
{
	struct job_out	 jo[JOB_OUT_MAX];
	struct event	*ev;
	int		 n = 0, njo;

	njo = job_tick(&m->job, now, wall, jo);
	add_jobs(m, jo, njo, wall, out, &n);
	if (presence_tick(&m->pres, now, offline_ms) == EV_PRINTER_OFFLINE &&
	    (ev = new_event(m, out, &n, EV_PRINTER_OFFLINE, wall)) != NULL)
		ev->down_secs = (int)((now - m->pres.offline_ms) / 1000);
	return n;
}

int64_t
monitor_next_ms(const struct monitor *m, int64_t now, int64_t offline_ms)
{
	int64_t	job = job_next_ms(&m->job, now), pres = -1;

	if (m->pres.heard && !m->pres.offline) {
		pres = m->pres.last_ms + offline_ms - now;
		if (pres < 0)
			pres = 0;
	}
	if (job < 0)
		return pres;
	return pres < 0 || job < pres ? job : pres;
}
