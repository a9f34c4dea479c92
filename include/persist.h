/*
 * persist.h: each printer's job lifecycle state kept across restarts, so that a restart
 * neither repeats a job_started nor misses the end of a job that ended while the bridge was
 * down.  One file per printer serial under STATE/printers/, written atomically.
 */
#ifndef PERSIST_H
#define PERSIST_H

#include <stdint.h>

#include "job.h"

/* What was last written, to write only when something the state machine uses changed. */
struct persist_mark {
	enum gstate	last;
	int		active;
	int		verdict;
	int		percent_step;
	time_t		started;
	char		id[64];
};

/* Load the job state of serial; 0 when found (j->known set), -1 when none or unreadable. */
int	persist_load(const char *state_dir, const char *serial, struct job *, int64_t now_ms);
/* Write it when it changed since *mark (or always with force); 0, or -1 logged. */
int	persist_save(const char *state_dir, const char *serial, const struct job *,
	    struct persist_mark *mark, int force);

#endif
