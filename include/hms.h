/*
 * hms.h: HMS (health management) codes: their string, severity, module and wiki link, and
 * which codes in a printer's list are new and worth a notification.  Pure code.
 */
#ifndef HMS_H
#define HMS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "report.h"

#define HMS_LINGER_MS	30000	/* a code that left the list stays known this long */
#define HMS_KNOWN_MAX	64

struct hms_known {
	uint32_t	attr;
	uint32_t	code;
	int		present;
	int64_t		left_ms;
};

struct hms_state {
	int		need_base;
	size_t		n;
	struct hms_known k[HMS_KNOWN_MAX];
};

void		 hms_init(struct hms_state *);
void		 hms_rebase(struct hms_state *);
/*
 * Feed the printer's current list; the codes that deserve a notification are copied to
 * out[outmax] and counted in the return value.  Cancel codes are never returned.
 */
int		 hms_feed(struct hms_state *, const struct hms_entry *, size_t, int64_t now_ms,
		    struct hms_entry *out, int outmax);
/* Fill an hms_info: string, severity, module and a link for the model (product name or NULL). */
void		 hms_describe(uint32_t attr, uint32_t code, const char *product, struct hms_info *);
int		 hms_is_error(uint32_t code);	/* fatal or serious */
int		 hms_is_cancel(uint32_t attr, uint32_t code);
const char	*hms_model_path(const char *product);	/* "x1", "p1", "a1", "h2d", or NULL */

#endif
