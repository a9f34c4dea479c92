/*
 * event.c: the event record: its names, its unique id, and the JSON body a webhook receives
 * (CONTRACT.md, "What a webhook receives").  Not for: deciding when an event happens (job.c,
 * hms.c, presence.c) or how Discord shows it (discord.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "event.h"
#include "log.h"
#include "xmalloc.h"

static const struct {
	const char	*name;
	const char	*title;
} event_table[EV_COUNT] = {
	[EV_JOB_STARTED] =	{ "job_started",	"Job started" },
	[EV_JOB_SUCCEEDED] =	{ "job_succeeded",	"Job succeeded" },
	[EV_JOB_CANCELLED] =	{ "job_cancelled",	"Job cancelled" },
	[EV_JOB_FAILED] =	{ "job_failed",		"Job failed" },
	[EV_HMS_ERROR] =	{ "hms_error",		"HMS error" },
	[EV_HMS_WARNING] =	{ "hms_warning",	"HMS warning" },
	[EV_PRINTER_OFFLINE] =	{ "printer_offline",	"Printer offline" },
	[EV_PRINTER_ONLINE] =	{ "printer_online",	"Printer online" },
};

const char *
event_name(enum ev_type type)
{
	if ((unsigned)type >= EV_COUNT)
		return "unknown";
	return event_table[type].name;
}

const char *
event_title(enum ev_type type)
{
	if ((unsigned)type >= EV_COUNT)
		return "Unknown event";
	return event_table[type].title;
}

int
event_from_name(const char *s, size_t len)
{
	int	i;

	for (i = 0; i < EV_COUNT; i++) {
		if (strlen(event_table[i].name) == len &&
		    memcmp(event_table[i].name, s, len) == 0)
			return i;
	}
	return -1;
}

/* "evt_" and 32 hex digits from 16 random bytes: unique without coordination. */
static void
event_new_id(char *id, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		r[16];
	size_t			i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		fatalx("RAND_bytes failed");
	if (len < 4 + 2 * sizeof(r) + 1)
		fatalx("event id buffer too small");
	memcpy(id, "evt_", 4);
	for (i = 0; i < sizeof(r); i++) {
		id[4 + 2 * i] = hex[r[i] >> 4];
		id[4 + 2 * i + 1] = hex[r[i] & 0xf];
	}
	id[4 + 2 * sizeof(r)] = '\0';
}

void
event_init(struct event *ev, enum ev_type type, const char *printer, const char *serial)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	event_new_id(ev->id, sizeof(ev->id));
	ev->when = time(NULL);
	strlcpy_utf8(ev->printer, printer != NULL ? printer : "", sizeof(ev->printer));
	strlcpy_utf8(ev->serial, serial != NULL ? serial : "", sizeof(ev->serial));
	ev->job.percent = -1;
	ev->job.layer = -1;
	ev->job.total_layers = -1;
	ev->job.remaining_min = -1;
	ev->down_secs = -1;
}

char *
event_time(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
	return buf;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t
utf8_seq(const unsigned char *p)
{
	size_t	n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

char *
event_utf8_clean(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 n;

	/* Each bad byte grows to three (U+FFFD). */
	out = o = xmalloc(3 * strlen(s) + 1);
	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

/* Strings from printers are untrusted: make them valid UTF-8 before JSON carries them. */
static void
json_add_str(cJSON *o, const char *key, const char *val)
{
	char	*clean = event_utf8_clean(val);

	if (cJSON_AddStringToObject(o, key, clean) == NULL)
		fatalx("cJSON: out of memory");
	free(clean);
}

static void
json_add_num(cJSON *o, const char *key, double val)
{
	if (cJSON_AddNumberToObject(o, key, val) == NULL)
		fatalx("cJSON: out of memory");
}

static cJSON *
json_add_obj(cJSON *o, const char *key)
{
	cJSON	*c;

	if ((c = cJSON_AddObjectToObject(o, key)) == NULL)
		fatalx("cJSON: out of memory");
	return c;
}

static void
json_add_time(cJSON *o, const char *key, time_t t)
{
	char	buf[32];

	json_add_str(o, key, event_time(t, buf, sizeof(buf)));
}

static void
event_json_job(cJSON *data, const struct job_info *job)
{
	cJSON	*o = json_add_obj(data, "job");
	char	 err[16];

	json_add_str(o, "name", job->name);
	json_add_str(o, "file", job->file);
	if (job->id[0] != '\0')
		json_add_str(o, "id", job->id);
	if (job->percent >= 0)
		json_add_num(o, "progress", job->percent);
	if (job->layer >= 0)
		json_add_num(o, "layer", job->layer);
	if (job->total_layers >= 0)
		json_add_num(o, "total_layers", job->total_layers);
	if (job->remaining_min >= 0)
		json_add_num(o, "remaining_minutes", job->remaining_min);
	if (job->started != 0)
		json_add_time(o, "started_at", job->started);
	if (job->ended != 0)
		json_add_time(o, "ended_at", job->ended);
	if (job->started != 0 && job->ended >= job->started)
		json_add_num(o, "duration_seconds", (double)(job->ended - job->started));
	if (job->error != 0) {
		snprintf(err, sizeof(err), "%04X-%04X", (unsigned)(job->error >> 16),
		    (unsigned)(job->error & 0xffff));
		json_add_str(o, "error", err);
	}
}

static void
event_json_hms(cJSON *data, const struct hms_info *hms)
{
	cJSON	*o = json_add_obj(data, "hms");

	json_add_str(o, "code", hms->str);
	json_add_str(o, "severity", hms->severity != NULL ? hms->severity : "unknown");
	if (hms->url[0] != '\0')
		json_add_str(o, "url", hms->url);
	if (hms->module[0] != '\0')
		json_add_str(o, "module", hms->module);
}

static void
event_json_data(cJSON *root, const struct event *ev)
{
	cJSON	*data = json_add_obj(root, "data");
	cJSON	*printer = json_add_obj(data, "printer");

	json_add_str(printer, "name", ev->printer);
	json_add_str(printer, "serial", ev->serial);
	if (ev->model[0] != '\0')
		json_add_str(printer, "model", ev->model);
	switch (ev->type) {
	case EV_JOB_STARTED:
	case EV_JOB_SUCCEEDED:
	case EV_JOB_CANCELLED:
	case EV_JOB_FAILED:
		event_json_job(data, &ev->job);
		break;
	case EV_HMS_ERROR:
	case EV_HMS_WARNING:
		event_json_hms(data, &ev->hms);
		break;
	case EV_PRINTER_OFFLINE:
	case EV_PRINTER_ONLINE:
		if (ev->down_secs >= 0)
			json_add_num(data, "offline_seconds", ev->down_secs);
		break;
	default:
		break;
	}
}

char *
event_json(const struct event *ev)
{
	cJSON	*root;
	char	*s;

	if ((root = cJSON_CreateObject()) == NULL)
		fatalx("cJSON: out of memory");
	json_add_str(root, "id", ev->id);
	json_add_str(root, "type", event_name(ev->type));
	json_add_time(root, "timestamp", ev->when);
	event_json_data(root, ev);
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (s == NULL)
		fatalx("cJSON: out of memory");
	return s;
}
