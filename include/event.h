/* event.h: the eight notification events, their records and their JSON form. */
#ifndef EVENT_H
#define EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum ev_type {
	EV_JOB_STARTED,
	EV_JOB_SUCCEEDED,
	EV_JOB_CANCELLED,
	EV_JOB_FAILED,
	EV_HMS_ERROR,
	EV_HMS_WARNING,
	EV_PRINTER_OFFLINE,
	EV_PRINTER_ONLINE,
	EV_COUNT
};
#define EV_ALL	((1u << EV_COUNT) - 1)

/* What a job event says about its job (the state machine fills it). */
struct job_info {
	char		name[128];	/* subtask_name */
	char		file[256];	/* gcode_file */
	char		id[64];		/* task/subtask id, "" when none */
	int		percent;	/* -1 unknown */
	int		layer;		/* -1 unknown, as the next two */
	int		total_layers;
	int		remaining_min;
	time_t		started;	/* wall clock; 0 unknown */
	time_t		ended;		/* wall clock; 0 while running */
	uint32_t	error;		/* print_error or fail_reason code, 0 none */
};

struct hms_info {
	uint32_t	attr;
	uint32_t	code;
	char		str[32];	/* HMS_AAAA_AAAA_CCCC_CCCC */
	const char	*severity;	/* "fatal", "serious", "common", "info", "unknown" */
	char		url[192];
	char		module[24];	/* "AMS", "motion controller", ... */
};

struct event {
	enum ev_type	type;
	char		id[40];		/* "evt_" + 32 hex digits: unique, kept across retries */
	time_t		when;
	char		printer[64];
	char		serial[32];
	char		model[48];	/* product name when known */
	struct job_info	job;		/* job_* */
	struct hms_info	hms;		/* hms_* */
	int		down_secs;	/* printer_offline: silent for; printer_online: was
					   away for; -1 unknown (event_init) */
};

const char	*event_name(enum ev_type);	/* "job_started" */
const char	*event_title(enum ev_type);	/* "Job started" */
int		 event_from_name(const char *, size_t);	/* -1 unknown */
void		 event_init(struct event *, enum ev_type, const char *printer, const char *serial);
/* The CONTRACT webhook body; the caller frees it. */
char		*event_json(const struct event *);
/* "2026-12-03T12:00:00Z" into buf[len] (21 bytes suffice); buf. */
char		*event_time(time_t, char *buf, size_t len);
/* A copy of s in which every byte that is not part of valid UTF-8 becomes U+FFFD; caller frees. */
char		*event_utf8_clean(const char *s);

#endif
