/*
 * deliver.h: delivery of events to Discord and webhook sinks over HTTPS.  One thread runs
 * libcurl's multi interface for every sink; the other threads only hand events over.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include "config.h"
#include "event.h"

struct sink;

/*
 * Create a sink from its configuration (copied).  Call before deliver_start().  api_key, when
 * not NULL, stands in for the configuration's (a generated key); a webhook sink without a usable
 * key is refused: NULL, logged.
 */
struct sink	*deliver_add(const struct sink_conf *, const char *api_key);
int		 deliver_start(void);
/*
 * Stop the thread (requests that can finish within a few seconds do); deliveries still queued
 * are logged as lost (the outbox keeps them later).  Frees every sink, also when deliver_start
 * was never called (test-notify); deliver_add may then start over (a reload).
 */
void		 deliver_stop(void);
/*
 * Render ev for every sink whose filter takes it and queue it.  Thread-safe; never blocks on
 * the network.  Within one sink, events are delivered in the order they were queued.
 */
void		 deliver_event(const struct event *);
/*
 * test-notify: deliver ev now to every sink that takes it, wait for each answer (no retries),
 * print one line per sink to out ("NAME: ok (HTTP 200)", "NAME: failed: REASON",
 * "NAME: skipped (filter)").  Returns 0 when all succeeded, else -1.  Main thread, without
 * deliver_start.
 */
int		 deliver_now(const struct event *, FILE *out);
/* Number of deliveries queued or in flight, over all sinks. */
int		 deliver_queued(void);

#endif
