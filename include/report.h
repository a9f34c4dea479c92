/*
 * report.h: parse one MQTT report from a printer and merge it into the fields the bridge keeps.
 * Pure code: no I/O, no clock; safe to call from any one thread at a time per struct.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_MAX	(1024 * 1024)	/* larger payloads are dropped before parsing */
#define REPORT_HMS_MAX	32

enum gstate {
	GS_UNKNOWN, GS_IDLE, GS_PREPARE, GS_SLICING, GS_RUNNING, GS_PAUSE,
	GS_FINISH, GS_FAILED, GS_INIT, GS_OFFLINE
};

struct hms_entry {
	uint32_t	attr;
	uint32_t	code;
};

/* Presence bits: which fields a report carried. */
#define F_STATE		0x0001
#define F_PERCENT	0x0002
#define F_REMAINING	0x0004
#define F_LAYER		0x0008
#define F_TOTAL_LAYERS	0x0010
#define F_NAME		0x0020
#define F_FILE		0x0040
#define F_TASK_ID	0x0080
#define F_SUBTASK_ID	0x0100
#define F_START_TIME	0x0200
#define F_PRINT_ERROR	0x0400
#define F_FAIL_REASON	0x0800
#define F_HMS		0x1000
#define F_PRODUCT	0x2000
#define F_FIRMWARE	0x4000

/* The merged view of one printer: only what the state machine and the messages need. */
struct fields {
	enum gstate	state;
	int		percent;	/* -1 unknown */
	int		remaining;	/* minutes, -1 unknown */
	int		layer;
	int		total_layers;
	char		name[128];	/* subtask_name */
	char		file[256];	/* gcode_file */
	char		task_id[24];
	char		subtask_id[24];
	char		start_time[24];	/* gcode_start_time, unix seconds as text */
	uint32_t	print_error;
	uint32_t	fail_reason;
	size_t		nhms;
	struct hms_entry hms[REPORT_HMS_MAX];
	char		product[48];	/* "Bambu Lab X1 Carbon" (get_version) */
	char		firmware[24];
};

/* One parsed report: what it carried (mask) and the values. */
struct report {
	unsigned	mask;
	int		status;		/* carries a print push_status */
	int		full;		/* msg 0 or absent: a full snapshot */
	int		version;	/* an info get_version answer */
	struct fields	f;
};

void		 fields_init(struct fields *);
/*
 * Parse len bytes (not NUL-terminated).  Returns 0 and fills r, or -1 with a reason for a person
 * in cause[causelen] (no payload bytes copied into it unescaped): invalid JSON, not UTF-8, a
 * field of a type that cannot be read.  A report with nothing the bridge uses parses to mask 0.
 */
int		 report_parse(const char *buf, size_t len, struct report *r, char *cause,
		    size_t causelen);
/* Merge: a field the report carried replaces the kept one; an hms list replaces the whole list. */
void		 report_merge(struct fields *, const struct report *);
const char	*gstate_name(enum gstate);
int		 gstate_printing(enum gstate);	/* PREPARE, SLICING, RUNNING, PAUSE */
int		 utf8_valid(const char *, size_t);

#endif
