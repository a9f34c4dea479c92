/*
 * report.c: parse one printer report and merge it into the few fields the bridge keeps.
 * Reports are parsed once, here; what is kept is struct fields, never the report itself.
 * Not for: deciding what a change means (job.c, hms.c) or talking to the printer (printer.c).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "xmalloc.h"

static const char *gstate_names[] = {
	"UNKNOWN", "IDLE", "PREPARE", "SLICING", "RUNNING", "PAUSE",
	"FINISH", "FAILED", "INIT", "OFFLINE"
};

void
fields_init(struct fields *f)
{
	memset(f, 0, sizeof(*f));
	f->state = GS_UNKNOWN;
	f->percent = f->remaining = f->layer = f->total_layers = -1;
}

const char *
gstate_name(enum gstate s)
{
	if ((size_t)s >= sizeof(gstate_names) / sizeof(gstate_names[0]))
		return "UNKNOWN";
	return gstate_names[s];
}

int
gstate_printing(enum gstate s)
{
	return s == GS_PREPARE || s == GS_SLICING || s == GS_RUNNING || s == GS_PAUSE;
}

static enum gstate
gstate_parse(const char *s)
{
	size_t	i;

	for (i = 1; i < sizeof(gstate_names) / sizeof(gstate_names[0]); i++)
		if (strcmp(s, gstate_names[i]) == 0)
			return (enum gstate)i;
	return GS_UNKNOWN;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
int
utf8_valid(const char *buf, size_t len)
{
	const unsigned char	*s = (const unsigned char *)buf;
	size_t			 i = 0, need, k;
	unsigned long		 cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3; cp = s[i] & 0x07; min = 0x10000;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A number, or a string holding one (firmware drifts between the two).  -1 when neither. */
static int
get_number(const cJSON *v, double *out)
{
	char	*end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		*out = strtod(v->valuestring, &end);
		if (*end == '\0' && isfinite(*out))
			return 0;
	}
	return -1;
}

static int
get_int(const cJSON *v, int lo, int hi, int *out)
{
	double	d;

	if (get_number(v, &d) == -1)
		return -1;
	*out = d < lo ? lo : d > hi ? hi : (int)d;
	return 0;
}

/* 32-bit codes may be above 2^31: read them as doubles (cJSON clips valueint). */
static int
get_u32(const cJSON *v, uint32_t *out)
{
	double	d;

	if (get_number(v, &d) == -1 || d < 0 || d > 4294967295.0)
		return -1;
	*out = (uint32_t)d;
	return 0;
}

/* A string, or a number written as its decimal text. */
static int
get_text(const cJSON *v, char *dst, size_t dstlen)
{
	char	num[32];

	if (cJSON_IsString(v)) {
		strlcpy_utf8(dst, v->valuestring, dstlen);
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.0f", v->valuedouble);
		strlcpy_utf8(dst, num, dstlen);
		return 0;
	}
	return -1;
}

/* The scalar fields of print, read by one table: an int when len is 0, else text[len]. */
struct field_rule {
	const char	*key;
	unsigned	 bit;
	size_t		 off;
	size_t		 len;
};
#define INT_FIELD(k, b, m)	{ k, b, offsetof(struct fields, m), 0 }
#define TEXT_FIELD(k, b, m)	{ k, b, offsetof(struct fields, m), \
				  sizeof(((struct fields *)0)->m) }

static const struct field_rule field_rules[] = {
	INT_FIELD("mc_percent", F_PERCENT, percent),
	INT_FIELD("mc_remaining_time", F_REMAINING, remaining),
	INT_FIELD("layer_num", F_LAYER, layer),
	INT_FIELD("total_layer_num", F_TOTAL_LAYERS, total_layers),
	TEXT_FIELD("subtask_name", F_NAME, name),
	TEXT_FIELD("gcode_file", F_FILE, file),
	TEXT_FIELD("task_id", F_TASK_ID, task_id),
	TEXT_FIELD("subtask_id", F_SUBTASK_ID, subtask_id),
	TEXT_FIELD("gcode_start_time", F_START_TIME, start_time),
};
#define NFIELD_RULES	(sizeof(field_rules) / sizeof(field_rules[0]))

static int
bad_type(const char *key, char *cause, size_t causelen)
{
	snprintf(cause, causelen, "print.%s has a type that cannot be read", key);
	return -1;
}

static int
parse_hms(const cJSON *arr, struct report *r, char *cause, size_t causelen)
{
	const cJSON	*e;
	struct hms_entry h;

	if (!cJSON_IsArray(arr))
		return bad_type("hms", cause, causelen);
	r->f.nhms = 0;
	cJSON_ArrayForEach(e, arr) {
		if (get_u32(cJSON_GetObjectItemCaseSensitive(e, "attr"), &h.attr) == -1 ||
		    get_u32(cJSON_GetObjectItemCaseSensitive(e, "code"), &h.code) == -1)
			return bad_type("hms[]", cause, causelen);
		if (r->f.nhms < REPORT_HMS_MAX)
			r->f.hms[r->f.nhms++] = h;
	}
	r->mask |= F_HMS;
	return 0;
}

/* fail_reason is a code on most firmware, free text on some: text is not an error. */
static void
parse_fail_reason(const cJSON *v, struct report *r)
{
	if (get_u32(v, &r->f.fail_reason) == 0)
		r->mask |= F_FAIL_REASON;
	else if (cJSON_IsString(v)) {
		r->f.fail_reason = 0;
		r->mask |= F_FAIL_REASON;
	}
}

static int
parse_state(const cJSON *v, struct report *r, char *cause, size_t causelen)
{
	if (!cJSON_IsString(v))
		return bad_type("gcode_state", cause, causelen);
	r->f.state = gstate_parse(v->valuestring);
	if (r->f.state != GS_UNKNOWN)	/* a state name we do not know changes nothing */
		r->mask |= F_STATE;
	return 0;
}

static int
parse_print(const cJSON *p, struct report *r, char *cause, size_t causelen)
{
	const cJSON		*v, *cmd, *msg;
	const struct field_rule	*rule;
	char			*slot;
	size_t			 i;
	double			 m;

	cmd = cJSON_GetObjectItemCaseSensitive(p, "command");
	if (cJSON_IsString(cmd) && strcmp(cmd->valuestring, "push_status") != 0)
		return 0;	/* an answer to some request, not a status */
	r->status = 1;
	msg = cJSON_GetObjectItemCaseSensitive(p, "msg");
	r->full = msg == NULL || (get_number(msg, &m) == 0 && m == 0);

	for (i = 0; i < NFIELD_RULES; i++) {
		rule = &field_rules[i];
		v = cJSON_GetObjectItemCaseSensitive(p, rule->key);
		if (v == NULL || cJSON_IsNull(v))
			continue;
		slot = (char *)&r->f + rule->off;
		if ((rule->len == 0 ? get_int(v, -1, 1000000, (int *)(void *)slot) :
		    get_text(v, slot, rule->len)) == -1)
			return bad_type(rule->key, cause, causelen);
		r->mask |= rule->bit;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(p, "gcode_state")) != NULL &&
	    parse_state(v, r, cause, causelen) == -1)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(p, "print_error")) != NULL &&
	    !cJSON_IsNull(v)) {
		if (get_u32(v, &r->f.print_error) == -1)
			return bad_type("print_error", cause, causelen);
		r->mask |= F_PRINT_ERROR;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(p, "fail_reason")) != NULL)
		parse_fail_reason(v, r);
	if ((v = cJSON_GetObjectItemCaseSensitive(p, "hms")) != NULL &&
	    parse_hms(v, r, cause, causelen) == -1)
		return -1;
	if ((r->mask & F_PERCENT) && r->f.percent > 100)
		r->f.percent = 100;
	return 0;
}

/* get_version: the "ota" module names the product and its firmware. */
static void
parse_info(const cJSON *info, struct report *r)
{
	const cJSON	*cmd, *mod, *name, *v;

	cmd = cJSON_GetObjectItemCaseSensitive(info, "command");
	if (!cJSON_IsString(cmd) || strcmp(cmd->valuestring, "get_version") != 0)
		return;
	r->version = 1;
	cJSON_ArrayForEach(mod, cJSON_GetObjectItemCaseSensitive(info, "module")) {
		name = cJSON_GetObjectItemCaseSensitive(mod, "name");
		if (!cJSON_IsString(name) || strcmp(name->valuestring, "ota") != 0)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(mod, "product_name");
		if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
			strlcpy_utf8(r->f.product, v->valuestring, sizeof(r->f.product));
			r->mask |= F_PRODUCT;
		}
		v = cJSON_GetObjectItemCaseSensitive(mod, "sw_ver");
		if (cJSON_IsString(v)) {
			strlcpy_utf8(r->f.firmware, v->valuestring, sizeof(r->f.firmware));
			r->mask |= F_FIRMWARE;
		}
	}
}

int
report_parse(const char *buf, size_t len, struct report *r, char *cause, size_t causelen)
{
	cJSON		*root;
	const cJSON	*p, *info;
	int		 rv = 0;

	memset(r, 0, sizeof(*r));
	fields_init(&r->f);
	if (len > REPORT_MAX) {
		snprintf(cause, causelen, "report of %zu bytes is over the %d byte limit",
		    len, REPORT_MAX);
		return -1;
	}
	if (!utf8_valid(buf, len)) {
		snprintf(cause, causelen, "report is not valid UTF-8");
		return -1;
	}
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL) {
		snprintf(cause, causelen, "report is not valid JSON");
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(cause, causelen, "report is not a JSON object");
		rv = -1;
		goto out;
	}
	if ((p = cJSON_GetObjectItemCaseSensitive(root, "print")) != NULL) {
		if (!cJSON_IsObject(p))
			rv = bad_type("", cause, causelen);
		else
			rv = parse_print(p, r, cause, causelen);
	}
	if (rv == 0 && cJSON_IsObject(info = cJSON_GetObjectItemCaseSensitive(root, "info")))
		parse_info(info, r);
 out:
	cJSON_Delete(root);
	return rv;
}

void
report_merge(struct fields *f, const struct report *r)
{
	const struct fields	*n = &r->f;
	const struct field_rule	*rule;
	size_t			 i;

	if (r->mask & F_STATE)
		f->state = n->state;
	for (i = 0; i < NFIELD_RULES; i++) {
		rule = &field_rules[i];
		if (r->mask & rule->bit)
			memcpy((char *)f + rule->off, (const char *)n + rule->off,
			    rule->len == 0 ? sizeof(int) : rule->len);
	}
	if (r->mask & F_PRINT_ERROR)
		f->print_error = n->print_error;
	if (r->mask & F_FAIL_REASON)
		f->fail_reason = n->fail_reason;
	if (r->mask & F_HMS) {
		f->nhms = n->nhms;
		memcpy(f->hms, n->hms, n->nhms * sizeof(n->hms[0]));
	}
	if (r->mask & F_PRODUCT)
		memcpy(f->product, n->product, sizeof(f->product));
	if (r->mask & F_FIRMWARE)
		memcpy(f->firmware, n->firmware, sizeof(f->firmware));
}
