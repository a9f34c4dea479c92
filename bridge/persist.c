/*
 * persist.c: a printer's job state on disk, as JSON in STATE/printers/<serial>.json:
 * written to a temporary file, fsynced, renamed, and the directory fsynced.  Only what the
 * job state machine needs to resume is kept: the last state, the job being printed, and
 * whether a failed/cancelled verdict was pending.  Not for: the events themselves (outbox.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "file.h"
#include "log.h"
#include "persist.h"
#include "report.h"
#include "xmalloc.h"

#define STATE_MAX	65536

/* A full disk fails every printer's write alike: say it once, until a write succeeds. */
static struct log_once	write_lo;

static char *
state_path(const char *state_dir, const char *serial, const char *suffix)
{
	char	*p;

	xasprintf(&p, "%s/printers/%s.json%s", state_dir, serial, suffix);
	return p;
}

static int
text_get(const cJSON *o, const char *key, char *dst, size_t len)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		return -1;
	strlcpy_utf8(dst, v->valuestring, len);
	return 0;
}

static double
num_get(const cJSON *o, const char *key, double def)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static enum gstate
state_parse(const char *s)
{
	int	i;

	for (i = GS_IDLE; i <= GS_OFFLINE; i++)
		if (strcmp(s, gstate_name((enum gstate)i)) == 0)
			return (enum gstate)i;
	return GS_UNKNOWN;
}

static void
job_from_json(const cJSON *o, struct job_info *ji)
{
	text_get(o, "name", ji->name, sizeof(ji->name));
	text_get(o, "file", ji->file, sizeof(ji->file));
	text_get(o, "id", ji->id, sizeof(ji->id));
	ji->percent = (int)num_get(o, "percent", -1);
	ji->layer = (int)num_get(o, "layer", -1);
	ji->total_layers = (int)num_get(o, "total_layers", -1);
	ji->remaining_min = (int)num_get(o, "remaining_min", -1);
	ji->started = (time_t)num_get(o, "started", 0);
	ji->ended = (time_t)num_get(o, "ended", 0);
	ji->error = (uint32_t)num_get(o, "error", 0);
}

int
persist_load(const char *state_dir, const char *serial, struct job *j, int64_t now)
{
	char		*path = state_path(state_dir, serial, ""), *buf = NULL, last[16];
	FILE		*f;
	cJSON		*root = NULL;
	size_t		 n;
	int		 rv = -1;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("cannot read %s", path);
		free(path);
		return -1;
	}
	buf = xmalloc(STATE_MAX);
	n = fread(buf, 1, STATE_MAX, f);
	fclose(f);
	if ((root = cJSON_ParseWithLength(buf, n)) == NULL ||
	    text_get(root, "last", last, sizeof(last)) == -1 || num_get(root, "v", 0) != 1) {
		log_warnx("%s is unreadable; this printer starts from a fresh baseline", path);
		goto out;
	}
	j->known = 1;
	j->need_base = 1;
	j->last = state_parse(last);
	j->active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "active"));
	job_from_json(cJSON_GetObjectItemCaseSensitive(root, "job"), &j->cur);
	/* A verdict pending at the stop gets its full hold again. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "verdict")))
		j->verdict_at = now + JOB_VERDICT_MS;
	rv = 0;
 out:
	cJSON_Delete(root);
	free(buf);
	free(path);
	return rv;
}

static char *
job_to_json(const struct job *j)
{
	cJSON	*root = cJSON_CreateObject(), *o = cJSON_CreateObject();
	char	*text;

	cJSON_AddNumberToObject(root, "v", 1);
	cJSON_AddStringToObject(root, "last", gstate_name(j->last));
	cJSON_AddBoolToObject(root, "active", j->active);
	cJSON_AddBoolToObject(root, "verdict", j->verdict_at != 0);
	cJSON_AddStringToObject(o, "name", j->cur.name);
	cJSON_AddStringToObject(o, "file", j->cur.file);
	cJSON_AddStringToObject(o, "id", j->cur.id);
	cJSON_AddNumberToObject(o, "percent", j->cur.percent);
	cJSON_AddNumberToObject(o, "layer", j->cur.layer);
	cJSON_AddNumberToObject(o, "total_layers", j->cur.total_layers);
	cJSON_AddNumberToObject(o, "remaining_min", j->cur.remaining_min);
	cJSON_AddNumberToObject(o, "started", (double)j->cur.started);
	cJSON_AddNumberToObject(o, "ended", (double)j->cur.ended);
	cJSON_AddNumberToObject(o, "error", j->cur.error);
	cJSON_AddItemToObject(root, "job", o);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		fatalx("cJSON_PrintUnformatted");
	return text;
}

static void
mark_of(const struct job *j, struct persist_mark *m)
{
	memset(m, 0, sizeof(*m));
	m->last = j->last;
	m->active = j->active;
	m->verdict = j->verdict_at != 0;
	m->percent_step = j->cur.percent / 5;
	m->started = j->cur.started;
	strlcpy_utf8(m->id, j->cur.id, sizeof(m->id));
}

int
persist_save(const char *state_dir, const char *serial, const struct job *j,
    struct persist_mark *mark, int force)
{
	struct persist_mark	 now;
	char			*dir, *path, *text;
	int			 rv;

	if (!j->known)
		return 0;
	mark_of(j, &now);
	if (!force && memcmp(&now, mark, sizeof(now)) == 0)
		return 0;
	xasprintf(&dir, "%s/printers", state_dir);
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		log_once(&write_lo, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	path = state_path(state_dir, serial, "");
	text = job_to_json(j);
	if ((rv = file_replace(path, text, strlen(text), 0640)) == -1)
		log_once(&write_lo, "cannot write printer state in %s: %s; trying again at the "
		    "next change", dir, strerror(errno));
	else {
		*mark = now;
		log_once_clear(&write_lo);
	}
	free(text);
	free(path);
	free(dir);
	return rv;
}
