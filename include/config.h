/*
 * config.h: bridge.conf and printers.d/ drop-ins, parsed and checked from one table of keys.
 * Every problem is reported as "path:line: message"; all of them, not only the first.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>
#include <sys/queue.h>

#define DEFAULT_CONF		"/etc/bambu-bridge/bridge.conf"
#define DEFAULT_STATE_DIR	"/var/lib/bambu-bridge"
#define API_KEY_MIN		32

enum sink_kind { SINK_DISCORD, SINK_WEBHOOK };

struct printer_conf {
	char		*name;
	char		*host;
	int		 port;
	char		*serial;
	char		*access_code;	/* secret */
	char		*ca_file;	/* NULL: none */
	int		 tls_insecure;
	char		*path;		/* the drop-in it came from */
	TAILQ_ENTRY(printer_conf) entry;
};

struct sink_conf {
	enum sink_kind	 kind;
	char		*name;		/* configured, or "discord-1", "webhook-2", ... by order */
	char		*url;		/* secret for Discord */
	char		*api_key;	/* webhook only; NULL: generated into the state directory */
	char		*ca_file;
	unsigned	 events;	/* bit (1 << enum ev_type) */
	int		 retry_for;	/* seconds */
	int		 queue_max;
	int		 line;
	TAILQ_ENTRY(sink_conf) entry;
};

struct config {
	char		*path;
	char		*printers_dir;
	char		*state_dir;
	int		 offline_after;	/* seconds */
	int		 nprinters;
	int		 nsinks;
	TAILQ_HEAD(, printer_conf) printers;
	TAILQ_HEAD(, sink_conf) sinks;
};

/*
 * Load and check bridge.conf at path and every *.conf in printers_dir (NULL: "printers.d"
 * beside path), in strcmp order.  state_dir, when not NULL, overrides the file's.  Each problem
 * is written to errs as "path:line: message\n".  Returns the configuration, or NULL when there
 * was at least one problem.  Nothing is contacted and nothing is written.
 */
struct config	*config_load(const char *path, const char *printers_dir, const char *state_dir,
		    FILE *errs);
void		 config_free(struct config *);
/* Parse "90", "90s", "5m", "2h" into seconds; -1 when invalid. */
int		 config_duration(const char *);
/* Parse an events list ("job_started, hms_error"); 0 with *mask set, or -1 naming the bad word. */
int		 config_events(const char *, unsigned *mask, char *bad, size_t badlen);

#endif
