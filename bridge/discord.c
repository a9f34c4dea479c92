/*
 * discord.c: what a Discord sink sends: one embed per event, held to Discord's limits (counted
 * in code points), with mentions switched off, and the URL with wait=true.  Not for: sending
 * it, retrying or pacing (deliver.c), or the webhook body (event.c, webhook.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event.h"
#include "log.h"
#include "sink.h"
#include "xmalloc.h"

#define TITLE_MAX	256
#define DESC_MAX	4096
#define NAME_MAX_	256
#define VALUE_MAX	1024
#define FOOTER_MAX	2048
#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 */

static const int discord_colors[EV_COUNT] = {
	[EV_JOB_STARTED] =	0x3498db,	/* blue */
	[EV_JOB_SUCCEEDED] =	0x2ecc71,	/* green */
	[EV_JOB_CANCELLED] =	0xe67e22,	/* orange */
	[EV_JOB_FAILED] =	0xe74c3c,	/* red */
	[EV_HMS_ERROR] =	0xe74c3c,	/* red */
	[EV_HMS_WARNING] =	0xffbf00,	/* amber */
	[EV_PRINTER_OFFLINE] =	0x4f545c,	/* dark grey */
	[EV_PRINTER_ONLINE] =	0x2ecc71,	/* green */
};

/* One text of the embed, owned, with its length in code points. */
struct text {
	char	*s;
	size_t	 len;
};

/* The embed while it is being fitted into Discord's limits. */
struct fit {
	struct text	title, desc, footer;
	struct text	name[DISCORD_FIELDS_MAX], value[DISCORD_FIELDS_MAX];
	int		narrow[DISCORD_FIELDS_MAX];
	int		n;
};

size_t
discord_len(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

char *
discord_clip(const char *s, size_t max)
{
	const char	*p = s;
	size_t		 n = 0;
	char		*out;

	if (discord_len(s) <= max)
		return xstrdup(s);
	if (max == 0)
		return xstrdup("");
	/* Keep max - 1 code points: the ellipsis is the last one. */
	for (; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == max - 1)
			break;
	}
	xasprintf(&out, "%.*s%s", (int)(p - s), s, ELLIPSIS);
	return out;
}

static void
text_set(struct text *t, const char *s, size_t max)
{
	char	*clean = event_utf8_clean(s != NULL ? s : "");

	t->s = discord_clip(clean, max);
	t->len = discord_len(t->s);
	free(clean);
}

static void
text_cut(struct text *t, size_t max)
{
	char	*s = discord_clip(t->s, max);

	free(t->s);
	t->s = s;
	t->len = discord_len(s);
}

/* Discord refuses a field whose name or value is empty or only white space. */
static int
blank(const char *s)
{
	if (s == NULL)
		return 1;
	return s[strspn(s, " \t\r\n")] == '\0';
}

static size_t
fit_total(const struct fit *f)
{
	size_t	n = f->title.len + f->desc.len + f->footer.len;
	int	i;

	for (i = 0; i < f->n; i++)
		n += f->name[i].len + f->value[i].len;
	return n;
}

/* Over 6000 in all: cut the description first, then field values, footer, names, title. */
static void
fit_shrink(struct fit *f)
{
	struct text	*order[3 + 2 * DISCORD_FIELDS_MAX];
	size_t		 total = fit_total(f), excess, cut;
	int		 i, n = 0;

	if (total <= DISCORD_EMBED_MAX)
		return;
	excess = total - DISCORD_EMBED_MAX;
	order[n++] = &f->desc;
	for (i = f->n - 1; i >= 0; i--)
		order[n++] = &f->value[i];
	order[n++] = &f->footer;
	for (i = f->n - 1; i >= 0; i--)
		order[n++] = &f->name[i];
	order[n++] = &f->title;
	for (i = 0; i < n && excess > 0; i++) {
		if (order[i]->len <= 1)
			continue;
		cut = excess < order[i]->len - 1 ? excess : order[i]->len - 1;
		text_cut(order[i], order[i]->len - cut);
		excess -= cut;
	}
}

static void
fit_init(struct fit *f, const struct discord_embed *e)
{
	int	i;

	memset(f, 0, sizeof(*f));
	text_set(&f->title, e->title, TITLE_MAX);
	text_set(&f->desc, e->description, DESC_MAX);
	text_set(&f->footer, e->footer, FOOTER_MAX);
	for (i = 0; i < e->nfields && f->n < DISCORD_FIELDS_MAX; i++) {
		if (blank(e->fields[i].name) || blank(e->fields[i].value))
			continue;
		text_set(&f->name[f->n], e->fields[i].name, NAME_MAX_);
		text_set(&f->value[f->n], e->fields[i].value, VALUE_MAX);
		f->narrow[f->n] = e->fields[i].narrow;
		f->n++;
	}
	fit_shrink(f);
}

static void
fit_free(struct fit *f)
{
	int	i;

	free(f->title.s);
	free(f->desc.s);
	free(f->footer.s);
	for (i = 0; i < f->n; i++) {
		free(f->name[i].s);
		free(f->value[i].s);
	}
}

static cJSON *
json_need(cJSON *item)
{
	if (item == NULL)
		fatalx("cJSON: out of memory");
	return item;
}

static void
render_fields(cJSON *embed, const struct fit *f)
{
	cJSON	*arr, *o;
	int	 i;

	if (f->n == 0)
		return;
	arr = json_need(cJSON_AddArrayToObject(embed, "fields"));
	for (i = 0; i < f->n; i++) {
		o = json_need(cJSON_CreateObject());
		cJSON_AddItemToArray(arr, o);
		json_need(cJSON_AddStringToObject(o, "name", f->name[i].s));
		json_need(cJSON_AddStringToObject(o, "value", f->value[i].s));
		json_need(cJSON_AddBoolToObject(o, "inline", f->narrow[i] != 0));
	}
}

static void
render_embed(cJSON *root, const struct fit *f, const struct discord_embed *e)
{
	cJSON	*arr, *embed, *footer;
	char	 ts[32];

	arr = json_need(cJSON_AddArrayToObject(root, "embeds"));
	embed = json_need(cJSON_CreateObject());
	cJSON_AddItemToArray(arr, embed);
	json_need(cJSON_AddStringToObject(embed, "title", f->title.s));
	if (f->desc.len > 0)
		json_need(cJSON_AddStringToObject(embed, "description", f->desc.s));
	json_need(cJSON_AddNumberToObject(embed, "color", e->color & 0xffffff));
	render_fields(embed, f);
	if (e->when != 0) {
		event_time(e->when, ts, sizeof(ts));
		json_need(cJSON_AddStringToObject(embed, "timestamp", ts));
	}
	if (f->footer.len > 0) {
		footer = json_need(cJSON_AddObjectToObject(embed, "footer"));
		json_need(cJSON_AddStringToObject(footer, "text", f->footer.s));
	}
}

char *
discord_render(const struct discord_embed *e)
{
	struct fit	 f;
	cJSON		*root, *mentions;
	char		*s;

	fit_init(&f, e);
	root = json_need(cJSON_CreateObject());
	json_need(cJSON_AddStringToObject(root, "username", "bambu-bridge"));
	/* Nothing a printer sends (a file called "@everyone") may ping anyone. */
	mentions = json_need(cJSON_AddObjectToObject(root, "allowed_mentions"));
	json_need(cJSON_AddArrayToObject(mentions, "parse"));
	render_embed(root, &f, e);
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	fit_free(&f);
	if (s == NULL)
		fatalx("cJSON: out of memory");
	return s;
}

/*
 * Untrusted text shown as Discord markdown: a backslash before each markup character keeps a
 * file name from turning into links, headings or mentions; control characters become spaces.
 */
static char *
md_escape(const char *s)
{
	char	*out, *o;

	out = o = xmalloc(2 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (strchr("\\*_~`|>#[]<@", *s) != NULL)
			*o++ = '\\';
		*o++ = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	}
	*o = '\0';
	return out;
}

/* "2h 05m", "5m 02s", "42s" */
static void
fmt_duration(char *buf, size_t len, long secs)
{
	if (secs >= 86400)
		snprintf(buf, len, "%ldd %02ldh", secs / 86400, secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, len, "%ldh %02ldm", secs / 3600, secs % 3600 / 60);
	else if (secs >= 60)
		snprintf(buf, len, "%ldm %02lds", secs / 60, secs % 60);
	else
		snprintf(buf, len, "%lds", secs < 0 ? 0 : secs);
}

/* The texts of one message, owned while discord_body builds it. */
struct msg {
	char			*title, *desc, *link;
	char			*job, *file, *printer;	/* escaped */
	char			 buf[8][32];
	struct discord_field	 f[12];
	int			 n;
};

static void
msg_field(struct msg *m, const char *name, const char *value, int narrow)
{
	if (m->n == (int)(sizeof(m->f) / sizeof(m->f[0])))
		return;
	m->f[m->n].name = name;
	m->f[m->n].value = value;
	m->f[m->n].narrow = narrow;
	m->n++;
}

static void
msg_job_desc(struct msg *m, const struct event *ev)
{
	const char	*job = m->job[0] != '\0' ? m->job : m->file;
	const char	*p = m->printer;

	if (job[0] == '\0')
		job = "a print job";
	switch (ev->type) {
	case EV_JOB_STARTED:
		xasprintf(&m->desc, "**%s** started printing **%s**.", p, job);
		break;
	case EV_JOB_SUCCEEDED:
		xasprintf(&m->desc, "**%s** finished **%s**.", p, job);
		break;
	case EV_JOB_CANCELLED:
		xasprintf(&m->desc, "**%s** was cancelled on **%s**.", job, p);
		break;
	default:
		xasprintf(&m->desc, "**%s** failed on **%s**.", job, p);
		break;
	}
}

static void
msg_job(struct msg *m, const struct event *ev)
{
	const struct job_info	*j = &ev->job;

	msg_job_desc(m, ev);
	msg_field(m, "Job", m->job, 0);
	msg_field(m, "File", m->file, 0);
	if (j->percent >= 0) {
		snprintf(m->buf[0], sizeof(m->buf[0]), "%d%%", j->percent);
		msg_field(m, "Progress", m->buf[0], 1);
	}
	if (j->layer >= 0 || j->total_layers > 0) {
		if (j->total_layers > 0)
			snprintf(m->buf[1], sizeof(m->buf[1]), "%d / %d",
			    j->layer < 0 ? 0 : j->layer, j->total_layers);
		else
			snprintf(m->buf[1], sizeof(m->buf[1]), "%d", j->layer);
		msg_field(m, "Layers", m->buf[1], 1);
	}
	if (j->started != 0 && j->ended >= j->started) {
		fmt_duration(m->buf[2], sizeof(m->buf[2]), (long)(j->ended - j->started));
		msg_field(m, "Duration", m->buf[2], 1);
	}
	if (j->remaining_min > 0 && ev->type != EV_JOB_SUCCEEDED) {
		fmt_duration(m->buf[3], sizeof(m->buf[3]), 60L * j->remaining_min);
		msg_field(m, "Remaining", m->buf[3], 1);
	}
	if (j->error != 0) {
		snprintf(m->buf[4], sizeof(m->buf[4]), "%04X-%04X",
		    (unsigned)(j->error >> 16), (unsigned)(j->error & 0xffff));
		msg_field(m, "Error", m->buf[4], 1);
	}
}

static void
msg_hms(struct msg *m, const struct event *ev)
{
	const struct hms_info	*h = &ev->hms;
	const char		*sev = h->severity != NULL ? h->severity : "unknown";

	xasprintf(&m->desc, "**%s** reports %s (%s).", m->printer, h->str, sev);
	msg_field(m, "Code", h->str, 1);
	msg_field(m, "Severity", sev, 1);
	msg_field(m, "Module", h->module, 1);
	if (h->url[0] != '\0' && strchr(h->url, ')') == NULL) {
		xasprintf(&m->link, "[Bambu Lab wiki](%s)", h->url);
		msg_field(m, "Details", m->link, 0);
	}
}

static void
msg_presence(struct msg *m, const struct event *ev)
{
	char	*d = m->buf[6];
	size_t	 dl = sizeof(m->buf[6]);

	if (ev->down_secs >= 0)
		fmt_duration(d, dl, ev->down_secs);
	if (ev->type == EV_PRINTER_OFFLINE && ev->down_secs >= 0) {
		xasprintf(&m->desc, "**%s** has not been heard from for %s.", m->printer, d);
		msg_field(m, "Silent for", d, 1);
	} else if (ev->type == EV_PRINTER_OFFLINE)
		xasprintf(&m->desc, "**%s** has stopped answering.", m->printer);
	else if (ev->down_secs >= 0) {
		xasprintf(&m->desc, "**%s** is back after %s.", m->printer, d);
		msg_field(m, "Offline for", d, 1);
	} else
		xasprintf(&m->desc, "**%s** is back online.", m->printer);
}

static void
msg_free(struct msg *m)
{
	free(m->title);
	free(m->desc);
	free(m->link);
	free(m->job);
	free(m->file);
	free(m->printer);
}

char *
discord_body(const struct event *ev)
{
	struct msg		 m;
	struct discord_embed	 e;
	char			*s, *foot;

	memset(&m, 0, sizeof(m));
	m.job = md_escape(ev->job.name);
	m.file = md_escape(ev->job.file);
	m.printer = md_escape(ev->printer);
	if (ev->type == EV_PRINTER_OFFLINE || ev->type == EV_PRINTER_ONLINE)
		xasprintf(&m.title, "%s: %s", event_title(ev->type), ev->printer);
	else
		xasprintf(&m.title, "%s on %s", event_title(ev->type), ev->printer);
	if (ev->type <= EV_JOB_FAILED)
		msg_job(&m, ev);
	else if (ev->type <= EV_HMS_WARNING)
		msg_hms(&m, ev);
	else
		msg_presence(&m, ev);
	if (ev->model[0] != '\0')
		xasprintf(&foot, "bambu-bridge \xc2\xb7 %s (%s)", ev->printer, ev->model);
	else
		xasprintf(&foot, "bambu-bridge \xc2\xb7 %s", ev->printer);
	e = (struct discord_embed){ m.title, m.desc, foot,
	    (unsigned)ev->type < EV_COUNT ? discord_colors[ev->type] : 0, ev->when, m.f, m.n };
	s = discord_render(&e);
	free(foot);
	msg_free(&m);
	return s;
}

/* Is there a "wait" parameter among q[0..end)? */
static int
query_has_wait(const char *q, const char *end)
{
	const char	*amp;

	while (q < end) {
		if ((size_t)(end - q) >= 4 && strncmp(q, "wait", 4) == 0 &&
		    (q + 4 == end || q[4] == '=' || q[4] == '&'))
			return 1;
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			break;
		q = amp + 1;
	}
	return 0;
}

char *
discord_url(const char *url)
{
	size_t		 n = strcspn(url, "#");
	const char	*q = memchr(url, '?', n), *sep;
	char		*out;

	if (q != NULL && query_has_wait(q + 1, url + n))
		return xstrdup(url);
	if (q == NULL)
		sep = "?";
	else if (url[n - 1] == '?' || url[n - 1] == '&')
		sep = "";
	else
		sep = "&";
	xasprintf(&out, "%.*s%swait=true%s", (int)n, url, sep, url + n);
	return out;
}
