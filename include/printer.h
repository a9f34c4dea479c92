/*
 * printer.h: one MQTT session per printer (Paho MQTTAsync over TLS).  Paho's callbacks run on
 * Paho's own thread: they copy what arrived into a message, queue it and wake the main loop.
 * Everything else here runs on the main thread.
 */
#ifndef PRINTER_H
#define PRINTER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "monitor.h"
#include "persist.h"

struct printer;

enum pmsg_kind {
	PM_REPORT,		/* a payload: data[len] */
	PM_OVERSIZE,		/* a payload over REPORT_MAX was dropped; len says how big */
	PM_CONNECTED,
	PM_CONNECT_FAILED,	/* data: why */
	PM_LOST,		/* data: why */
	PM_CHECKED,		/* the TLS identity check passed */
	PM_CHECK_FAILED,	/* data: why */
};

struct pmsg {
	struct printer	*p;
	enum pmsg_kind	 kind;
	size_t		 len;
	char		*data;		/* owned by the message, NUL-terminated */
	struct pmsg	*next;
};

/* The queue the callbacks fill; its fd becomes readable when something is queued. */
int		 printer_queue_init(void);
int		 printer_queue_fd(void);
struct pmsg	*printer_queue_take(void);	/* the whole queue, in order; NULL if empty */
void		 pmsg_free(struct pmsg *);

struct printer	*printer_new(const struct printer_conf *);
/* Disconnect and free; no callback refers to it afterwards. */
void		 printer_free(struct printer *);
const char	*printer_name(const struct printer *);
struct monitor	*printer_monitor(struct printer *);
struct persist_mark *printer_saved(struct printer *);	/* for persist_save */

/* Handle one message for its printer: connection bookkeeping; reports are returned to the caller. */
void		 printer_session(struct printer *, const struct pmsg *, int64_t now);
/* Time passes: connect, retry, probe a silent session, reconnect a dead one. */
void		 printer_tick(struct printer *, int64_t now, int64_t offline_ms);
int64_t		 printer_next_ms(const struct printer *, int64_t now, int64_t offline_ms);
/* Ask for a full report; -1 when the last one is too recent (3 s) or the session is down. */
int		 printer_pushall(struct printer *, int64_t now);
/* Log a bad report from this printer, once until the reason changes. */
void		 printer_bad_report(struct printer *, const char *cause);

/* Would pc give this printer the same session (a reload then leaves it alone)? */
int		 printer_conf_same(const struct printer *, const struct printer_conf *);
/* For `status`: describe the printer as an object appended to arr; online or not. */
void		 printer_describe(const struct printer *, int64_t now, cJSON *arr);
int		 printer_online(const struct printer *);

/* The worker threads that check printers' certificates before Paho connects. */
int		 printer_checks_start(void);
void		 printer_checks_stop(void);

#endif
