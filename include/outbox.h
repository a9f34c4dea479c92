/*
 * outbox.h: the crash-safe spool of deliveries, one directory per sink (the maildir pattern:
 * tmp/, fsync, rename into queue/, fsync the directory; dead/ for given-up records).  A
 * record is accepted once outbox_put returns 0; it survives kill -9 and a power cut.
 * Not thread-safe per outbox: one thread puts, one takes out (the delivery thread), which
 * is safe because they touch different files; outbox_list is for the commands.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "event.h"

struct outbox;

/* One spooled record as read back. */
struct spooled {
	char		 name[96];	/* file name in queue/: "<seq>-<id>" */
	uint64_t	 seq;
	char		 id[40];
	enum ev_type	 type;
	time_t		 created;
	char		*body;		/* owned by the callback's caller; free() it */
	size_t		 len;
};

typedef void (*outbox_cb)(void *arg, struct spooled *);

/* Open (creating) STATE/outbox/SINK; empties tmp/.  NULL with a reason in cause. */
struct outbox	*outbox_open(const char *state_dir, const char *sink, char *cause,
		    size_t causelen);
void		 outbox_close(struct outbox *);
/*
 * Write a record durably into queue/.  The name it got is copied to name[namelen].
 * Returns 0, or -1 with errno set (ENOSPC, EIO, ...): then nothing was accepted.
 */
int		 outbox_put(struct outbox *, uint64_t seq, const char *id, enum ev_type,
		    time_t created, const char *body, size_t len, char *name, size_t namelen);
/* The directory entries of outbox_put calls since the last sync, made durable at once. */
int		 outbox_sync(struct outbox *);
int		 outbox_done(struct outbox *, const char *name);	/* delivered: remove */
int		 outbox_bury(struct outbox *, const char *name);	/* given up: to dead/ */
/*
 * Read queue/ in order and hand each record to cb.  A record that cannot be read is moved to
 * corrupt/ and logged.  Returns the highest sequence number seen (0 when empty).
 */
uint64_t	 outbox_load(struct outbox *, outbox_cb, void *arg);
/* Is a record with this file name still in queue/? */
int		 outbox_has(struct outbox *, const char *name);
/* Move every record of dead/ back to queue/; returns how many, or -1. */
int		 outbox_revive(struct outbox *);
/* Count the records in queue/ and dead/. */
int		 outbox_count(struct outbox *, int *queued, int *dead);
/* `outbox retry` leaves a mark that the running bridge takes (and removes) to reload queue/. */
int		 outbox_poke(struct outbox *);
int		 outbox_poked(struct outbox *);
/* Does the disabled marker exist with this tag (a digest of the sink's configuration)? */
int		 outbox_disabled(struct outbox *, const char *tag);
int		 outbox_disable(struct outbox *, const char *tag, const char *why);
void		 outbox_enable(struct outbox *);

#endif
