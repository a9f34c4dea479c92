/*
 * test_event.c: event names, ids and JSON (event.c), the Discord body and its limits
 * (discord.c), and the webhook signature (webhook.c).  No network.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "event.h"
#include "sink.h"
#include "unit.h"

#define T_20261203	1796299200	/* 2026-12-03T12:00:00Z */

/* An independent UTF-8 check (RFC 3629), so the tests do not trust event.c's own. */
static int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	int			 n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

static size_t
cps(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* n code points cycling through 1-, 2-, 3- and 4-byte characters. */
static char *
mixed(size_t n)
{
	static const char	*ch[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x96\xa8" };
	char			*s = malloc(4 * n + 1), *p = s;
	size_t			 i, l;

	for (i = 0; i < n; i++) {
		l = strlen(ch[i % 4]);
		memcpy(p, ch[i % 4], l);
		p += l;
	}
	*p = '\0';
	return s;
}

static const char *
jstr(const cJSON *o, const char *path)
{
	char	 buf[128], *tok, *save = NULL;
	cJSON	*cur = (cJSON *)(uintptr_t)o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && cur != NULL;
	    tok = strtok_r(NULL, ".", &save))
		cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
	return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static double
jnum(const cJSON *o, const char *obj, const char *key)
{
	const cJSON	*c = cJSON_GetObjectItemCaseSensitive(o, obj);

	c = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsNumber(c) ? c->valuedouble : -12345;
}

static void
sample(struct event *ev, enum ev_type type)
{
	event_init(ev, type, "shop-x1c", "00M09A350100123");
	ev->when = T_20261203;
	snprintf(ev->model, sizeof(ev->model), "X1 Carbon");
	snprintf(ev->job.name, sizeof(ev->job.name), "Benchy \"v2\"");
	snprintf(ev->job.file, sizeof(ev->job.file), "/sdcard/benchy.gcode.3mf");
	ev->job.percent = 100;
	ev->job.layer = 250;
	ev->job.total_layers = 250;
	ev->job.remaining_min = 0;
	ev->job.started = T_20261203 - 3723;
	ev->job.ended = T_20261203;
	snprintf(ev->hms.str, sizeof(ev->hms.str), "HMS_0300_0100_0001_0007");
	ev->hms.severity = "fatal";
	snprintf(ev->hms.url, sizeof(ev->hms.url), "%s",
	    "https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/0300_0100_0001_0007");
	snprintf(ev->hms.module, sizeof(ev->hms.module), "motion controller");
	ev->down_secs = 95;
}

static void
test_names(void)
{
	int	i;

	for (i = 0; i < EV_COUNT; i++)
		CHECK(event_from_name(event_name(i), strlen(event_name(i))) == i, "%d", i);
	CHECK(event_from_name("job_startedX", 11) == EV_JOB_STARTED, "length");
	CHECK(event_from_name("job_start", 9) == -1, "prefix");
	CHECK(event_from_name("", 0) == -1, "empty");
	CHECK(event_from_name("JOB_STARTED", 11) == -1, "case");
	CHECK_STR(event_name(EV_PRINTER_ONLINE), "printer_online", "name");
	CHECK_STR(event_title(EV_JOB_STARTED), "Job started", "title");
	CHECK_STR(event_title(EV_JOB_SUCCEEDED), "Job succeeded", "title");
	CHECK_STR(event_title(EV_JOB_CANCELLED), "Job cancelled", "title");
	CHECK_STR(event_title(EV_JOB_FAILED), "Job failed", "title");
	CHECK_STR(event_title(EV_HMS_ERROR), "HMS error", "title");
	CHECK_STR(event_title(EV_HMS_WARNING), "HMS warning", "title");
	CHECK_STR(event_title(EV_PRINTER_OFFLINE), "Printer offline", "title");
	CHECK_STR(event_title(EV_PRINTER_ONLINE), "Printer online", "title");
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_init(void)
{
	static char	ids[1000][40];
	struct event	ev;
	size_t		i;
	int		dup = 0, shape = 1;

	event_init(&ev, EV_JOB_FAILED, "p", "s");
	CHECK(ev.type == EV_JOB_FAILED && ev.job.percent == -1 && ev.job.layer == -1 &&
	    ev.job.total_layers == -1 && ev.job.remaining_min == -1 && ev.job.started == 0 &&
	    ev.job.error == 0 && ev.model[0] == '\0' && ev.hms.severity == NULL, "zeroed");
	CHECK(ev.when > 1700000000, "when");
	CHECK_STR(ev.printer, "p", "printer");
	CHECK_STR(ev.serial, "s", "serial");
	for (i = 0; i < 1000; i++) {
		event_init(&ev, EV_JOB_STARTED, "p", "s");
		memcpy(ids[i], ev.id, sizeof(ids[i]));
		if (strlen(ev.id) != 36 || strncmp(ev.id, "evt_", 4) != 0 ||
		    strspn(ev.id + 4, "0123456789abcdef") != 32)
			shape = 0;
	}
	qsort(ids, 1000, sizeof(ids[0]), cmp_str);
	for (i = 1; i < 1000; i++)
		dup += strcmp(ids[i - 1], ids[i]) == 0;
	CHECK(shape, "id shape %s", ids[0]);
	CHECK(dup == 0, "%d duplicate ids", dup);
}

static int
ts_shape(const char *t)
{
	static const char	pat[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t			i;

	if (t == NULL || strlen(t) != sizeof(pat) - 1)
		return 0;
	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != pat[i])
			return 0;
	}
	return 1;
}

static void
test_json_job(void)
{
	struct event	 ev;
	char		*s;
	cJSON		*j, *job;

	sample(&ev, EV_JOB_FAILED);
	ev.job.error = 0x03004000;
	s = event_json(&ev);
	j = cJSON_Parse(s);
	CHECK(j != NULL, "parses: %s", s);
	CHECK_STR(jstr(j, "id"), ev.id, "id");
	CHECK_STR(jstr(j, "type"), "job_failed", "type");
	CHECK(ts_shape(jstr(j, "timestamp")), "shape");
	CHECK_STR(jstr(j, "timestamp"), "2026-12-03T12:00:00Z", "timestamp");
	CHECK_STR(jstr(j, "data.printer.name"), "shop-x1c", "printer");
	CHECK_STR(jstr(j, "data.printer.serial"), "00M09A350100123", "serial");
	CHECK_STR(jstr(j, "data.printer.model"), "X1 Carbon", "model");
	CHECK_STR(jstr(j, "data.job.name"), "Benchy \"v2\"", "name");
	CHECK_STR(jstr(j, "data.job.file"), "/sdcard/benchy.gcode.3mf", "file");
	CHECK_STR(jstr(j, "data.job.error"), "0300-4000", "error");
	CHECK_STR(jstr(j, "data.job.started_at"), "2026-12-03T10:57:57Z", "started_at");
	CHECK_STR(jstr(j, "data.job.ended_at"), "2026-12-03T12:00:00Z", "ended_at");
	job = cJSON_GetObjectItemCaseSensitive(j, "data");
	CHECK(jnum(job, "job", "progress") == 100, "progress");
	CHECK(jnum(job, "job", "layer") == 250, "layer");
	CHECK(jnum(job, "job", "total_layers") == 250, "total_layers");
	CHECK(jnum(job, "job", "remaining_minutes") == 0, "remaining");
	CHECK(jnum(job, "job", "duration_seconds") == 3723, "duration");
	CHECK(jstr(j, "data.job.id") == NULL, "no empty id");
	CHECK(cJSON_GetObjectItem(job, "hms") == NULL, "no hms in a job event");
	cJSON_Delete(j);
	free(s);

	sample(&ev, EV_JOB_STARTED);
	ev.job.percent = -1;
	ev.job.ended = 0;
	snprintf(ev.job.id, sizeof(ev.job.id), "123456");
	ev.model[0] = '\0';
	s = event_json(&ev);
	j = cJSON_Parse(s);
	job = cJSON_GetObjectItemCaseSensitive(j, "data");
	CHECK_STR(jstr(j, "data.job.id"), "123456", "job id");
	CHECK(jnum(job, "job", "progress") == -12345, "unknown progress left out: %s", s);
	CHECK(jstr(j, "data.job.ended_at") == NULL, "no ended_at while running");
	CHECK(jnum(job, "job", "duration_seconds") == -12345, "no duration while running");
	CHECK(jstr(j, "data.job.error") == NULL, "no error");
	CHECK(jstr(j, "data.printer.model") == NULL, "no unknown model");
	cJSON_Delete(j);
	free(s);
}

static void
test_json_other(void)
{
	struct event	 ev;
	char		*s, *c;
	cJSON		*j, *data;

	sample(&ev, EV_HMS_ERROR);
	s = event_json(&ev);
	j = cJSON_Parse(s);
	CHECK_STR(jstr(j, "type"), "hms_error", "type");
	CHECK_STR(jstr(j, "data.hms.code"), "HMS_0300_0100_0001_0007", "code");
	CHECK_STR(jstr(j, "data.hms.severity"), "fatal", "severity");
	CHECK_STR(jstr(j, "data.hms.module"), "motion controller", "module");
	CHECK(jstr(j, "data.hms.url") != NULL &&
	    strncmp(jstr(j, "data.hms.url"), "https://", 8) == 0, "url");
	data = cJSON_GetObjectItem(j, "data");
	CHECK(cJSON_GetObjectItem(data, "job") == NULL, "no job in an hms event");
	cJSON_Delete(j);
	free(s);

	sample(&ev, EV_PRINTER_OFFLINE);
	s = event_json(&ev);
	j = cJSON_Parse(s);
	data = cJSON_GetObjectItem(j, "data");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(data, "offline_seconds")) == 95,
	    "offline_seconds: %s", s);
	CHECK(cJSON_GetObjectItem(data, "job") == NULL && cJSON_GetObjectItem(data, "hms") == NULL,
	    "neither job nor hms");
	cJSON_Delete(j);
	free(s);

	/* Untrusted bytes: quotes, controls, a stray continuation byte, a truncated sequence. */
	sample(&ev, EV_JOB_STARTED);
	snprintf(ev.job.name, sizeof(ev.job.name), "a\"b\\c\n\x01\x80z\xe2\x82");
	s = event_json(&ev);
	j = cJSON_Parse(s);
	CHECK(j != NULL && utf8_valid(s), "still JSON and UTF-8: %s", s);
	CHECK_STR(jstr(j, "data.job.name"), "a\"b\\c\n\x01\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd",
	    "cleaned");
	cJSON_Delete(j);
	c = webhook_body(&ev);
	CHECK_STR(c, s, "the webhook body is event_json");
	free(c);
	free(s);
}

static cJSON *
embed_of(const cJSON *root)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "embeds"), 0);
}

static int
mentions_off(const cJSON *root)
{
	const cJSON	*p = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "allowed_mentions"),
			    "parse");

	return cJSON_IsArray(p) && cJSON_GetArraySize(p) == 0;
}

static void
test_discord_kinds(void)
{
	static const int	 colors[EV_COUNT] = { 0x3498db, 0x2ecc71, 0xe67e22, 0xe74c3c,
				    0xe74c3c, 0xffbf00, 0x4f545c, 0x2ecc71 };
	struct event		 ev;
	cJSON			*root, *em;
	char			*s;
	const char		*title, *desc;
	int			 i;

	for (i = 0; i < EV_COUNT; i++) {
		sample(&ev, i);
		s = discord_body(&ev);
		root = cJSON_Parse(s);
		em = embed_of(root);
		title = jstr(em, "title");
		desc = jstr(em, "description");
		CHECK(title != NULL && strstr(title, event_title(i)) != NULL &&
		    strstr(title, "shop-x1c") != NULL, "%d title %s", i, title);
		CHECK(desc != NULL && strstr(desc, "shop\\-x1c") == NULL &&
		    strstr(desc, "shop-x1c") != NULL, "%d description %s", i, desc);
		CHECK(mentions_off(root), "%d allowed_mentions", i);
		CHECK_STR(jstr(root, "username"), "bambu-bridge", "username");
		CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(em, "color")) == colors[i],
		    "%d color", i);
		CHECK_STR(jstr(em, "timestamp"), "2026-12-03T12:00:00Z", "%d timestamp", i);
		CHECK(jstr(em, "footer.text") != NULL, "%d footer", i);
		cJSON_Delete(root);
		free(s);
	}
}

/* The field named name, or NULL. */
static const char *
field(const cJSON *em, const char *name)
{
	const cJSON	*f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItem(em, "fields")) {
		if (strcmp(jstr(f, "name"), name) == 0)
			return jstr(f, "value");
	}
	return NULL;
}

static void
test_discord_fields(void)
{
	struct event	 ev;
	cJSON		*root, *em;
	char		*s;

	sample(&ev, EV_JOB_SUCCEEDED);
	ev.job.file[0] = '\0';
	s = discord_body(&ev);
	root = cJSON_Parse(s);
	em = embed_of(root);
	CHECK_STR(field(em, "Progress"), "100%", "progress");
	CHECK_STR(field(em, "Layers"), "250 / 250", "layers");
	CHECK_STR(field(em, "Duration"), "1h 02m", "duration");
	CHECK(field(em, "File") == NULL, "empty file left out: %s", s);
	CHECK(field(em, "Remaining") == NULL, "no remaining when done");
	cJSON_Delete(root);
	free(s);

	sample(&ev, EV_HMS_WARNING);
	s = discord_body(&ev);
	root = cJSON_Parse(s);
	em = embed_of(root);
	CHECK_STR(field(em, "Code"), "HMS_0300_0100_0001_0007", "code");
	CHECK_STR(field(em, "Severity"), "fatal", "severity");
	CHECK_STR(field(em, "Module"), "motion controller", "module");
	CHECK(field(em, "Details") != NULL && strncmp(field(em, "Details"), "[", 1) == 0 &&
	    strstr(field(em, "Details"), "](https://wiki.bambulab.com/") != NULL, "link");
	cJSON_Delete(root);
	free(s);

	/* A file called @everyone pings nobody: mentions are off and the text is escaped. */
	sample(&ev, EV_JOB_STARTED);
	snprintf(ev.job.file, sizeof(ev.job.file), "@everyone <@&123> [x](https://evil)");
	s = discord_body(&ev);
	root = cJSON_Parse(s);
	em = embed_of(root);
	CHECK(mentions_off(root), "allowed_mentions");
	CHECK(field(em, "File") != NULL &&
	    strstr(field(em, "File"), "\\@everyone \\<\\@&123\\> \\[x\\](https") != NULL,
	    "escaped: %s", field(em, "File"));
	cJSON_Delete(root);
	free(s);
}

static void
test_discord_limits(void)
{
	struct discord_field	 f[30];
	struct discord_embed	 e;
	struct event		 ev;
	cJSON			*root, *em, *it;
	char			*big = mixed(5000), *s, *c;
	size_t			 total, n;
	int			 i, okf = 1;

	c = discord_clip(big, 256);
	CHECK(cps(c) == 256 && utf8_valid(c), "clip %zu", cps(c));
	CHECK(strcmp(c + strlen(c) - 3, "\xe2\x80\xa6") == 0, "ends in an ellipsis");
	free(c);
	c = discord_clip("short", 256);
	CHECK_STR(c, "short", "short text unchanged");
	free(c);
	CHECK(discord_len(big) == 5000, "len");

	for (i = 0; i < 30; i++)
		f[i] = (struct discord_field){ big, big, i % 2 };
	e = (struct discord_embed){ big, big, big, 0xffffff, T_20261203, f, 30 };
	s = discord_render(&e);
	root = cJSON_Parse(s);
	em = embed_of(root);
	CHECK(root != NULL && utf8_valid(s), "valid");
	CHECK(cps(jstr(em, "title")) <= 256, "title %zu", cps(jstr(em, "title")));
	CHECK(cps(jstr(em, "description")) <= 4096, "description");
	CHECK(cps(jstr(em, "footer.text")) <= 2048, "footer");
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(em, "fields")) == 25, "25 fields");
	total = cps(jstr(em, "title")) + cps(jstr(em, "description")) +
	    cps(jstr(em, "footer.text"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(em, "fields")) {
		n = cps(jstr(it, "value"));
		okf &= n >= 1 && n <= 1024 && cps(jstr(it, "name")) <= 256;
		total += n + cps(jstr(it, "name"));
	}
	CHECK(okf, "every field within its limits");
	CHECK(total <= 6000, "total %zu", total);
	CHECK(mentions_off(root), "mentions");
	cJSON_Delete(root);
	free(s);

	/* Empty and blank values are left out. */
	f[0] = (struct discord_field){ "a", "", 1 };
	f[1] = (struct discord_field){ "b", " \n", 1 };
	f[2] = (struct discord_field){ "", "x", 1 };
	f[3] = (struct discord_field){ "d", "y", 1 };
	e = (struct discord_embed){ "t", "", NULL, 1, 0, f, 4 };
	s = discord_render(&e);
	root = cJSON_Parse(s);
	em = embed_of(root);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(em, "fields")) == 1 &&
	    field(em, "d") != NULL, "only the field with text: %s", s);
	CHECK(cJSON_GetObjectItem(em, "description") == NULL, "no empty description");
	cJSON_Delete(root);
	free(s);

	/* An event filled to capacity with multi-byte text. */
	sample(&ev, EV_JOB_FAILED);
	c = mixed(200);
	memcpy(ev.job.name, c, sizeof(ev.job.name) - 1);	/* cut mid-character */
	memcpy(ev.job.file, c, sizeof(ev.job.file) - 1);
	memcpy(ev.printer, c, sizeof(ev.printer) - 1);
	s = discord_body(&ev);
	root = cJSON_Parse(s);
	CHECK(root != NULL && utf8_valid(s), "filled event");
	cJSON_Delete(root);
	free(s);
	s = event_json(&ev);
	root = cJSON_Parse(s);
	CHECK(root != NULL && utf8_valid(s), "filled event json");
	cJSON_Delete(root);
	free(s);
	free(c);
	free(big);
}

static void
url_case(const char *in, const char *want)
{
	char	*got = discord_url(in);

	CHECK_STR(got, want, "discord_url(%s)", in);
	free(got);
}

static void
test_discord_url(void)
{
	url_case("https://discord.com/api/webhooks/1/tok",
	    "https://discord.com/api/webhooks/1/tok?wait=true");
	url_case("https://discord.com/api/webhooks/1/tok?thread_id=9",
	    "https://discord.com/api/webhooks/1/tok?thread_id=9&wait=true");
	url_case("https://discord.com/api/webhooks/1/tok?wait=false",
	    "https://discord.com/api/webhooks/1/tok?wait=false");
	url_case("https://discord.com/api/webhooks/1/tok?thread_id=9&wait=true",
	    "https://discord.com/api/webhooks/1/tok?thread_id=9&wait=true");
	url_case("https://discord.com/api/webhooks/1/tok?",
	    "https://discord.com/api/webhooks/1/tok?wait=true");
	url_case("https://h/x?await=1", "https://h/x?await=1&wait=true");
	url_case("https://h/x#frag", "https://h/x?wait=true#frag");
}

static void
test_sign(void)
{
	const char	*body = "{\"test\": 2432232314}";
	unsigned char	 key[64];
	char		 sig[64];
	int		 n;

	n = EVP_DecodeBlock(key, (const unsigned char *)"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32);
	CHECK(n == 24, "decoded %d", n);
	CHECK(webhook_sign(key, 24, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	    strlen(body), sig, sizeof(sig)) == 0, "signs");
	CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "known answer");
	CHECK(webhook_sign(key, 24, "id", 1, body, strlen(body), sig, 20) == -1, "small buffer");
}

int
main(void)
{
	test_names();
	test_init();
	test_json_job();
	test_json_other();
	test_discord_kinds();
	test_discord_fields();
	test_discord_limits();
	test_discord_url();
	test_sign();
	return UNIT_DONE();
}
