/* test_report.c: parsing one report (types, drift, bad input) and merging deltas. */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "unit.h"

struct bad_case {
	const char	*name;
	const char	*json;
	size_t		 len;		/* 0: strlen */
	const char	*cause;		/* a word the reason must contain */
};

static const struct bad_case bad[] = {
	{ "invalid JSON", "{\"print\":{\"gcode_state\":", 0, "JSON" },
	{ "truncated", "{\"print\"", 0, "JSON" },
	{ "empty", "", 0, "JSON" },
	{ "not an object", "[1,2,3]", 0, "object" },
	{ "not UTF-8", "{\"print\":{\"subtask_name\":\"a\xff\xfe\"}}", 0, "UTF-8" },
	{ "overlong UTF-8", "{\"print\":{\"subtask_name\":\"\xc0\xaf\"}}", 0, "UTF-8" },
	{ "surrogate in UTF-8", "{\"print\":{\"subtask_name\":\"\xed\xa0\x80\"}}", 0, "UTF-8" },
	{ "truncated UTF-8", "{\"print\":{\"subtask_name\":\"\xe2\x82", 0, "UTF-8" },
	{ "print is a string", "{\"print\":\"x\"}", 0, "type" },
	{ "state is a number", "{\"print\":{\"gcode_state\":5}}", 0, "gcode_state" },
	{ "percent is text", "{\"print\":{\"mc_percent\":\"abc\"}}", 0, "mc_percent" },
	{ "percent is an object", "{\"print\":{\"mc_percent\":{}}}", 0, "mc_percent" },
	{ "name is an array", "{\"print\":{\"subtask_name\":[1]}}", 0, "subtask_name" },
	{ "hms is an object", "{\"print\":{\"hms\":{}}}", 0, "hms" },
	{ "hms entry without code", "{\"print\":{\"hms\":[{\"attr\":1}]}}", 0, "hms" },
	{ "print_error negative", "{\"print\":{\"print_error\":-5}}", 0, "print_error" },
	{ "print_error above 32 bits", "{\"print\":{\"print_error\":4294967296}}", 0,
	    "print_error" },
};

static void
test_bad(void)
{
	struct report	r;
	char		cause[160];
	size_t		i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = bad[i].len ? bad[i].len : strlen(bad[i].json);
		cause[0] = '\0';
		CHECK(report_parse(bad[i].json, len, &r, cause, sizeof(cause)) == -1,
		    "%s is refused", bad[i].name);
		CHECK(strstr(cause, bad[i].cause) != NULL, "%s: cause \"%s\"", bad[i].name,
		    cause);
	}
}

static void
test_oversize(void)
{
	struct report	r;
	char		cause[160];
	size_t		len = REPORT_MAX + 1;
	char		*big = malloc(len);

	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	CHECK(report_parse(big, len, &r, cause, sizeof(cause)) == -1, "over 1 MiB refused");
	CHECK(strstr(cause, "limit") != NULL, "cause: %s", cause);
	free(big);
}

static void
test_types(void)
{
	struct report	r;
	char		cause[160];
	const char	*j = "{\"print\":{\"command\":\"push_status\",\"mc_percent\":\"50\","
	    "\"task_id\":123456789,\"subtask_id\":\"0\",\"print_error\":4294967295,"
	    "\"fail_reason\":\"50348044\",\"mc_remaining_time\":12.0,\"layer_num\":null,"
	    "\"gcode_state\":\"RUNNING\",\"hms\":[{\"attr\":3724541952,\"code\":\"131073\"}],"
	    "\"subtask_name\":\"Zahnrad \xc3\xa4\xe2\x82\xac\",\"unknown\":{\"deep\":[1]}}}";

	CHECK(report_parse(j, strlen(j), &r, cause, sizeof(cause)) == 0, "parses: %s", cause);
	CHECK(r.status && r.full, "a status, full (msg absent)");
	CHECK(r.f.percent == 50, "numeric text read as number: %d", r.f.percent);
	CHECK_STR(r.f.task_id, "123456789", "number read as text");
	CHECK(r.f.print_error == 0xFFFFFFFFu, "32-bit code above 2^31: %x", r.f.print_error);
	CHECK(r.f.fail_reason == 50348044, "fail_reason as text code");
	CHECK(r.f.remaining == 12, "remaining %d", r.f.remaining);
	CHECK(!(r.mask & F_LAYER), "null is absent");
	CHECK(r.f.state == GS_RUNNING, "state");
	CHECK(r.f.nhms == 1 && r.f.hms[0].attr == 3724541952u && r.f.hms[0].code == 131073,
	    "hms entry with a large attr");
	CHECK_STR(r.f.name, "Zahnrad \xc3\xa4\xe2\x82\xac", "UTF-8 kept");
}

static void
test_kinds(void)
{
	struct report	r;
	char		cause[160];
	const char	*delta = "{\"print\":{\"msg\":1,\"bed_temper\":20.5,\"command\":\"push_status\"}}";
	const char	*answer = "{\"print\":{\"command\":\"project_file\",\"gcode_state\":\"RUNNING\"}}";
	const char	*other = "{\"system\":{\"command\":\"get_access_code\"},\"mc_print\":{}}";
	const char	*unknown = "{\"print\":{\"gcode_state\":\"CALIBRATING_LIDAR\"}}";
	const char	*fr = "{\"print\":{\"fail_reason\":\"The task was canceled\"}}";

	CHECK(report_parse(delta, strlen(delta), &r, cause, sizeof(cause)) == 0 && r.status &&
	    !r.full && r.mask == 0, "a delta with nothing the bridge uses");
	CHECK(report_parse(answer, strlen(answer), &r, cause, sizeof(cause)) == 0 && !r.status &&
	    r.mask == 0, "an answer to a request is not a status");
	CHECK(report_parse(other, strlen(other), &r, cause, sizeof(cause)) == 0 && !r.status,
	    "other categories are ignored");
	CHECK(report_parse(unknown, strlen(unknown), &r, cause, sizeof(cause)) == 0 &&
	    !(r.mask & F_STATE), "an unknown state name changes nothing");
	CHECK(report_parse(fr, strlen(fr), &r, cause, sizeof(cause)) == 0 &&
	    (r.mask & F_FAIL_REASON) && r.f.fail_reason == 0, "fail_reason as free text");
}

static void
test_merge(void)
{
	struct fields	f;
	struct report	r;
	char		cause[160];
	const char	*full = "{\"print\":{\"msg\":0,\"gcode_state\":\"IDLE\",\"subtask_name\":"
	    "\"Part\",\"gcode_file\":\"part.3mf\",\"mc_percent\":0,\"hms\":[{\"attr\":1,\"code\":2},"
	    "{\"attr\":3,\"code\":4}]}}";
	const char	*d1 = "{\"print\":{\"msg\":1,\"gcode_state\":\"RUNNING\"}}";
	const char	*d2 = "{\"print\":{\"msg\":1,\"hms\":[{\"attr\":5,\"code\":6}]}}";
	const char	*d3 = "{\"print\":{\"msg\":1,\"hms\":[]}}";

	fields_init(&f);
	report_parse(full, strlen(full), &r, cause, sizeof(cause));
	report_merge(&f, &r);
	report_parse(d1, strlen(d1), &r, cause, sizeof(cause));
	report_merge(&f, &r);
	CHECK(f.state == GS_RUNNING, "delta changes the state");
	CHECK_STR(f.name, "Part", "a field sent once is kept");
	CHECK_STR(f.file, "part.3mf", "file kept");
	CHECK(f.percent == 0 && f.nhms == 2, "others kept");
	report_parse(d2, strlen(d2), &r, cause, sizeof(cause));
	report_merge(&f, &r);
	CHECK(f.nhms == 1 && f.hms[0].attr == 5, "an array in a delta replaces the list");
	report_parse(d3, strlen(d3), &r, cause, sizeof(cause));
	report_merge(&f, &r);
	CHECK(f.nhms == 0, "an empty list empties it");
}

static void
test_truncation(void)
{
	struct report	r;
	char		cause[160], *j;
	size_t		i, n = 400;
	int		len;

	/* 400 three-byte code points: the kept name is cut on a code point boundary. */
	j = malloc(n * 3 + 64);
	len = sprintf(j, "{\"print\":{\"subtask_name\":\"");
	for (i = 0; i < n; i++)
		len += sprintf(j + len, "\xe2\x82\xac");
	len += sprintf(j + len, "\"}}");
	CHECK(report_parse(j, (size_t)len, &r, cause, sizeof(cause)) == 0, "%s", cause);
	CHECK(strlen(r.f.name) < sizeof(r.f.name) && strlen(r.f.name) % 3 == 0,
	    "cut on a boundary: %zu bytes", strlen(r.f.name));
	CHECK(utf8_valid(r.f.name, strlen(r.f.name)), "still valid UTF-8");
	free(j);
}

int
main(void)
{
	test_bad();
	test_oversize();
	test_types();
	test_kinds();
	test_merge();
	test_truncation();
	return UNIT_DONE();
}
