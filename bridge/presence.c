/*
 * presence.c: when a printer counts as offline, and when as back online.  A printer is offline
 * once it has not been heard from for offline_after, whether its session dropped or went
 * silent; it is announced once per outage, never for a printer not yet heard from since
 * start-up, and "online" only after an "offline" was announced.  Pure code.
 */
#include <string.h>

#include "presence.h"

void
presence_init(struct presence *p)
{
	memset(p, 0, sizeof(*p));
}

int
presence_heard(struct presence *p, int64_t now)
{
	int	was_offline = p->offline;

	p->heard = 1;
	p->last_ms = now;
	p->offline = 0;
	return was_offline ? EV_PRINTER_ONLINE : -1;
}

int
presence_tick(struct presence *p, int64_t now, int64_t offline_ms)
{
	if (!p->heard || p->offline || now - p->last_ms < offline_ms)
		return -1;
	p->offline = 1;
	p->offline_ms = p->last_ms;
	return EV_PRINTER_OFFLINE;
}

int64_t
presence_silent_ms(const struct presence *p, int64_t now)
{
	return p->heard ? now - p->last_ms : -1;
}
