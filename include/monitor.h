/*
 * monitor.h: what one printer is doing, from its reports to events: the merged fields, the
 * job state machine, the HMS list and presence.  Pure: no I/O and no clock (time comes in as
 * arguments), so it can be fed report sequences in tests.
 */
#ifndef MONITOR_H
#define MONITOR_H

#include <stdint.h>
#include <time.h>

#include "event.h"
#include "hms.h"
#include "job.h"
#include "presence.h"
#include "report.h"

#define MONITOR_OUT_MAX	8

struct monitor {
	char		name[64];
	char		serial[32];
	struct fields	f;
	int		have_base;	/* a full report since the session came up */
	struct job	job;
	struct hms_state hms;
	struct presence	pres;
};

void	monitor_init(struct monitor *, const char *name, const char *serial);
/* The session came up again: wait for a full report before judging. */
void	monitor_rebase(struct monitor *);
/*
 * Feed one parsed report.  Events go to out[MONITOR_OUT_MAX]; the count is returned.
 * *want_full is set when the report was a delta with no full report to merge it into.
 */
int	monitor_report(struct monitor *, const struct report *, int64_t now_ms, time_t wall,
	    struct event *out, int *want_full);
/* Time passes: offline edges, failed verdicts. */
int	monitor_tick(struct monitor *, int64_t now_ms, time_t wall, int64_t offline_ms,
	    struct event *out);
/* Milliseconds until monitor_tick may have something to say; -1 never. */
int64_t	monitor_next_ms(const struct monitor *, int64_t now_ms, int64_t offline_ms);
/* The model for messages and links: the product name, else a guess from the serial. */
const char *monitor_model(const struct monitor *);

#endif
