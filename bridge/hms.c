/*
 * hms.c: HMS (health management) codes: the code string, severity, module and wiki link, and
 * the choice of which codes in a printer's list are new enough to announce.
 * Pure code.  Not for: the cancel verdict of a job (job.c reads the cancel codes itself).
 */
#include <stdio.h>
#include <string.h>

#include "hms.h"

void
hms_init(struct hms_state *s)
{
	memset(s, 0, sizeof(*s));
	s->need_base = 1;
}

void
hms_rebase(struct hms_state *s)
{
	s->need_base = 1;
}

int
hms_is_cancel(uint32_t attr, uint32_t code)
{
	return ((attr >> 16) == 0x0300 && (code & 0xffff) == 0x400C) ||
	    ((attr >> 16) == 0x0500 && (code & 0xffff) == 0x400E);
}

int
hms_is_error(uint32_t code)
{
	return (code >> 16) == 1 || (code >> 16) == 2;
}

static struct hms_known *
known_find(struct hms_state *s, uint32_t attr, uint32_t code)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		if (s->k[i].attr == attr && s->k[i].code == code)
			return &s->k[i];
	return NULL;
}

static int
list_has(const struct hms_entry *list, size_t n, const struct hms_known *k)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (list[i].attr == k->attr && list[i].code == k->code)
			return 1;
	return 0;
}

/* Codes gone from the list for longer than HMS_LINGER_MS are forgotten. */
static void
known_expire(struct hms_state *s, int64_t now)
{
	size_t	i = 0;

	while (i < s->n) {
		if (!s->k[i].present && now - s->k[i].left_ms > HMS_LINGER_MS)
			s->k[i] = s->k[--s->n];
		else
			i++;
	}
}

int
hms_feed(struct hms_state *s, const struct hms_entry *list, size_t n, int64_t now,
    struct hms_entry *out, int outmax)
{
	struct hms_known	*k;
	size_t			 i;
	int			 nout = 0;

	known_expire(s, now);	/* first: a code gone too long and back again is new */
	for (i = 0; i < s->n; i++) {
		k = &s->k[i];
		if (list_has(list, n, k))
			k->present = 1;
		else if (k->present) {
			k->present = 0;
			k->left_ms = now;
		}
	}
	for (i = 0; i < n; i++) {
		if (hms_is_cancel(list[i].attr, list[i].code) ||
		    known_find(s, list[i].attr, list[i].code) != NULL)
			continue;
		if (s->n < HMS_KNOWN_MAX) {
			k = &s->k[s->n++];
			k->attr = list[i].attr;
			k->code = list[i].code;
			k->present = 1;
		}
		if (!s->need_base && nout < outmax)
			out[nout++] = list[i];
	}
	s->need_base = 0;
	return nout;
}

static const char *
severity_name(uint32_t code)
{
	switch (code >> 16) {
	case 1:	return "fatal";
	case 2:	return "serious";
	case 3:	return "common";
	case 4:	return "info";
	default: return "unknown";
	}
}

static const char *
module_name(uint32_t attr)
{
	switch (attr >> 24) {
	case 0x03: return "motion controller";
	case 0x05: return "mainboard";
	case 0x07: return "AMS";
	case 0x08: return "toolhead";
	case 0x0C: return "camera";
	case 0x12: return "AMS Lite";
	case 0x18: return "AMS-HT";
	default:   return "printer";
	}
}

/* The wiki's model path for a product name ("Bambu Lab X1 Carbon") or a model ("X1C"). */
const char *
hms_model_path(const char *product)
{
	static const struct {
		const char	*needle;
		const char	*path;
	} models[] = {
		{ "X1", "x1" }, { "P1", "p1" }, { "A1", "a1" }, { "H2D", "h2d" },
		{ "H2S", "h2s" },
	};
	size_t	i;

	if (product == NULL)
		return NULL;
	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strstr(product, models[i].needle) != NULL)
			return models[i].path;
	return NULL;
}

void
hms_describe(uint32_t attr, uint32_t code, const char *product, struct hms_info *hi)
{
	const char	*path = hms_model_path(product);

	memset(hi, 0, sizeof(*hi));
	hi->attr = attr;
	hi->code = code;
	snprintf(hi->str, sizeof(hi->str), "HMS_%04X_%04X_%04X_%04X",
	    attr >> 16, attr & 0xffff, code >> 16, code & 0xffff);
	hi->severity = severity_name(code);
	snprintf(hi->module, sizeof(hi->module), "%s", module_name(attr));
	if (path != NULL)
		snprintf(hi->url, sizeof(hi->url),
		    "https://wiki.bambulab.com/en/%s/troubleshooting/hmscode/%04X_%04X_%04X_%04X",
		    path, attr >> 16, attr & 0xffff, code >> 16, code & 0xffff);
	else
		snprintf(hi->url, sizeof(hi->url), "https://wiki.bambulab.com/en/hms/home");
}
