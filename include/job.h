/*
 * job.h: the print-job lifecycle state machine.  Pure: it is fed merged fields and the time,
 * and answers with events; it does no I/O and reads no clock.
 */
#ifndef JOB_H
#define JOB_H

#include <stdint.h>
#include <time.h>

#include "event.h"
#include "report.h"

#define JOB_VERDICT_MS	6000	/* how long FAILED waits for a cancel code */
#define JOB_OUT_MAX	3

struct job_out {
	enum ev_type	type;
	struct job_info	info;
};

struct job {
	int		known;		/* have we ever seen this printer's state? */
	int		need_base;	/* next report is a baseline (start or reconnect) */
	enum gstate	last;
	struct job_info	cur;		/* the job being printed, or the last one */
	int		active;		/* cur was started (announced or baseline) and not ended */
	int64_t		verdict_at;	/* FAILED seen: decide by then; 0 none pending */
};

void	job_init(struct job *);
/* The session was (re)established: the next report is a baseline. */
void	job_rebase(struct job *);
/* Feed the merged fields after a report.  Returns the number of events written to out. */
int	job_feed(struct job *, const struct fields *, int64_t now_ms, time_t wall,
	    struct job_out *out);
/* Time passes: a pending failed/cancelled verdict may fall due. */
int	job_tick(struct job *, int64_t now_ms, time_t wall, struct job_out *out);
/* Milliseconds until job_tick has something to do; -1 never. */
int64_t	job_next_ms(const struct job *, int64_t now_ms);
int	job_is_cancel_code(uint32_t);

#endif
