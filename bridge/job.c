/*
 * job.c: the print-job lifecycle, from merged report fields to job_* events.
 * Pure: no I/O, no clock, no allocation; time comes in as arguments.
 * Not for: HMS alerts (hms.c) or online/offline (presence.c).
 *
 * The rules, from the peers' bug trackers (see the README's "Events"):
 * - the first report after start-up is a baseline and announces nothing;
 * - after a reconnect the first report is compared with what was known before, so a job
 *   that ended while the printer was unreachable is still announced, once;
 * - FAILED waits up to JOB_VERDICT_MS for a cancel code, which may come a report later.
 */
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "xmalloc.h"

void
job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->need_base = 1;
	j->last = GS_UNKNOWN;
}

void
job_rebase(struct job *j)
{
	j->need_base = 1;
}

int
job_is_cancel_code(uint32_t c)
{
	return c == 0x0300400C || c == 0x0500400E;
}

static int
cancel_evidence(const struct fields *f)
{
	size_t	i;

	if (job_is_cancel_code(f->print_error) || job_is_cancel_code(f->fail_reason))
		return 1;
	for (i = 0; i < f->nhms; i++)
		if (job_is_cancel_code((f->hms[i].attr & 0xffff0000) |
		    (f->hms[i].code & 0xffff)))
			return 1;
	return 0;
}

/* The job's own id: subtask_id, else task_id, when not "0". */
static const char *
fields_job_id(const struct fields *f)
{
	if (f->subtask_id[0] != '\0' && strcmp(f->subtask_id, "0") != 0)
		return f->subtask_id;
	if (f->task_id[0] != '\0' && strcmp(f->task_id, "0") != 0)
		return f->task_id;
	return "";
}

/*
 * Is f still the job in cur?  By id when both have one; else by file and name (an id that
 * appears late in a job must not make it look like a new one).
 */
static int
same_job(const struct job_info *cur, const struct fields *f)
{
	const char	*id = fields_job_id(f);

	if (cur->id[0] != '\0' && id[0] != '\0')
		return strcmp(cur->id, id) == 0;
	return strcmp(cur->name, f->name) == 0 && strcmp(cur->file, f->file) == 0;
}

static void
update_progress(struct job_info *ji, const struct fields *f)
{
	ji->percent = f->percent;
	ji->layer = f->layer;
	ji->total_layers = f->total_layers;
	ji->remaining_min = f->remaining;
	if (ji->id[0] == '\0')
		strlcpy_utf8(ji->id, fields_job_id(f), sizeof(ji->id));
}

static void
begin_job(struct job *j, const struct fields *f, time_t wall)
{
	struct job_info	*ji = &j->cur;
	long long	 st;

	memset(ji, 0, sizeof(*ji));
	strlcpy_utf8(ji->name, f->name, sizeof(ji->name));
	strlcpy_utf8(ji->file, f->file, sizeof(ji->file));
	update_progress(ji, f);
	st = strtoll(f->start_time, NULL, 10);
	ji->started = st > 1000000000 && st <= (long long)wall ? (time_t)st : wall;
	j->active = 1;
}

static int
emit(struct job_out *out, int n, enum ev_type type, const struct job_info *ji)
{
	if (n >= JOB_OUT_MAX)
		return n;
	out[n].type = type;
	out[n].info = *ji;
	return n + 1;
}

static uint32_t
error_code(const struct fields *f)
{
	if (f->print_error != 0)
		return f->print_error;
	return f->fail_reason;
}

/* A verdict on FAILED is pending: a cancel code settles it; leaving FAILED settles it too. */
static int
settle_verdict(struct job *j, const struct fields *f, struct job_out *out, int n)
{
	if (j->verdict_at == 0)
		return n;
	if (cancel_evidence(f)) {
		j->verdict_at = 0;
		j->cur.error = job_is_cancel_code(f->print_error) ? f->print_error :
		    job_is_cancel_code(f->fail_reason) ? f->fail_reason : 0x0300400C;
		return emit(out, n, EV_JOB_CANCELLED, &j->cur);
	}
	if (error_code(f) != 0)
		j->cur.error = error_code(f);
	if (f->state != GS_FAILED) {
		j->verdict_at = 0;
		return emit(out, n, EV_JOB_FAILED, &j->cur);
	}
	return n;
}

static int
end_job(struct job *j, const struct fields *f, int64_t now, time_t wall,
    struct job_out *out, int n)
{
	j->active = 0;
	j->cur.ended = wall;
	switch (f->state) {
	case GS_FINISH:
		update_progress(&j->cur, f);
		j->cur.percent = 100;
		return emit(out, n, EV_JOB_SUCCEEDED, &j->cur);
	case GS_FAILED:
		/* The firmware zeroes progress on cancel: keep what the job reached. */
		j->cur.error = error_code(f);
		j->verdict_at = now + JOB_VERDICT_MS;
		return settle_verdict(j, f, out, n);
	case GS_IDLE:
		/* Old P1P firmware went straight from printing to IDLE on a cancel. */
		return emit(out, n, EV_JOB_CANCELLED, &j->cur);
	default:
		return n;
	}
}

/* First report after start-up: remember, announce nothing. */
static void
baseline(struct job *j, const struct fields *f, time_t wall)
{
	j->known = 1;
	j->active = 0;
	if (gstate_printing(f->state))
		begin_job(j, f, wall);
}

/*
 * First report after a reconnect: a job we knew of that now shows as ended is announced
 * only if it is the same job; a job that ended unseen and an unknown one announce nothing.
 */
static void
resume(struct job *j, const struct fields *f)
{
	if (j->active && !gstate_printing(f->state) &&
	    (f->state == GS_IDLE || !same_job(&j->cur, f)))
		j->active = 0;
}

int
job_feed(struct job *j, const struct fields *f, int64_t now, time_t wall,
    struct job_out *out)
{
	enum gstate	st = f->state;
	int		n = 0, was_printing;

	if (st == GS_UNKNOWN)
		return 0;
	if (j->need_base) {
		j->need_base = 0;
		if (!j->known) {
			baseline(j, f, wall);
			j->last = st;
			return 0;
		}
		resume(j, f);
	}
	n = settle_verdict(j, f, out, n);
	was_printing = j->active && gstate_printing(j->last);
	if (gstate_printing(st)) {
		if (!j->active || !same_job(&j->cur, f)) {
			begin_job(j, f, wall);
			n = emit(out, n, EV_JOB_STARTED, &j->cur);
		} else
			update_progress(&j->cur, f);
	} else if (was_printing)
		n = end_job(j, f, now, wall, out, n);
	else if (j->active && !gstate_printing(st))
		j->active = 0;
	j->last = st;
	return n;
}

int
job_tick(struct job *j, int64_t now, time_t wall, struct job_out *out)
{
	(void)wall;
	if (j->verdict_at == 0 || now < j->verdict_at)
		return 0;
	j->verdict_at = 0;
	return emit(out, 0, EV_JOB_FAILED, &j->cur);
}

int64_t
job_next_ms(const struct job *j, int64_t now)
{
	if (j->verdict_at == 0)
		return -1;
	return j->verdict_at > now ? j->verdict_at - now : 0;
}
