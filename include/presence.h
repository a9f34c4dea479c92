/*
 * presence.h: online / offline edges for one printer.  A printer is offline when it has not
 * been heard from (no report, whether the session is down or silent) for offline_after; that
 * is announced once per outage and only for a printer that was heard from before; "online" is
 * announced only after an "offline" was.  Pure code.
 */
#ifndef PRESENCE_H
#define PRESENCE_H

#include <stdint.h>

#include "event.h"

struct presence {
	int		heard;		/* heard from at least once since start */
	int		offline;	/* an offline was announced and no report came since */
	int64_t		last_ms;	/* when last heard from */
	int64_t		offline_ms;	/* when the outage began (last heard) */
};

void	presence_init(struct presence *);
/* A report arrived.  Returns EV_PRINTER_ONLINE when that ends an announced outage, else -1. */
int	presence_heard(struct presence *, int64_t now_ms);
/* Returns EV_PRINTER_OFFLINE once when the silence has lasted offline_ms, else -1. */
int	presence_tick(struct presence *, int64_t now_ms, int64_t offline_ms);
int64_t	presence_silent_ms(const struct presence *, int64_t now_ms);

#endif
