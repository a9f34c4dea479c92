/*
 * deliver.h: delivery of events to Discord and webhook sinks over HTTPS.  One thread runs
 * libcurl's multi interface for every sink; the other threads only hand events over.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "event.h"

struct sink;

/* Keep each sink's outbox under STATE/outbox/ (call before deliver_add; NULL: memory only). */
void		 deliver_init(const char *state_dir);
/* The digest that tells whether a sink disabled as gone has a new URL since. */
void		 deliver_url_tag(const char *url, char *tag, size_t len);
/*
 * Create a sink from its configuration (copied), open its outbox and take in what it holds.
 * Call before deliver_start().  api_key, when not NULL, stands in for the configuration's (a
 * generated key).  NULL, logged, for a webhook sink without a usable key or an outbox that
 * cannot be opened.
 */
struct sink	*deliver_add(const struct sink_conf *, const char *api_key);
int		 deliver_start(void);
/*
 * Stop the thread (requests that can finish within a few seconds do); deliveries still queued
 * stay in the outbox for the next start.  Frees every sink, also when deliver_start
 * was never called (test-notify); deliver_add may then start over (a reload).
 */
void		 deliver_stop(void);
/*
 * Render ev for every sink whose filter takes it, write it to each sink's outbox and queue it:
 * when this returns the event is accepted (it survives a crash).  Never blocks on the network
 * (it does write and fsync files).  Within one sink, events are delivered in queued order.
 */
void		 deliver_event(const struct event *);
/*
 * test-notify: deliver ev now to every sink that takes it, wait for each answer (no retries),
 * print one line per sink to out ("NAME: ok (HTTP 200)", "NAME: failed: REASON",
 * "NAME: skipped (filter)").  Returns 0 when all succeeded, else -1.  Main thread, without
 * deliver_start.
 */
int		 deliver_now(const struct event *, FILE *out);
/* For `status`: each sink (name, kind, state, queued, last success, last error) into arr. */
void		 deliver_describe(cJSON *arr);
/* Number of deliveries queued or in flight, over all sinks. */
int		 deliver_queued(void);

#endif
