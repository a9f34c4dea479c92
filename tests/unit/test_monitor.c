/*
 * test_monitor.c: report sequences in, events out: the job lifecycle, HMS de-duplication and
 * presence, through the same parse, merge and state machines the daemon runs.
 * Each step is: time (ms), a report (or TICK / RECONNECT), and the events expected.
 */
#include <stdio.h>
#include <string.h>

#include "monitor.h"
#include "unit.h"

#define TICK		((const char *)1)
#define RECONNECT	((const char *)2)
#define OFFLINE_MS	60000

struct step {
	int64_t		 t;
	const char	*report;
	const char	*expect;	/* event names separated by spaces */
};

struct scenario {
	const char	*name;
	struct step	 steps[12];
};

#define IDLE_BASE "{\"print\":{\"command\":\"push_status\",\"msg\":0,\"gcode_state\":\"IDLE\"," \
	"\"subtask_name\":\"\",\"gcode_file\":\"\",\"task_id\":\"0\",\"subtask_id\":\"0\"," \
	"\"print_error\":0,\"fail_reason\":\"0\",\"mc_percent\":0,\"hms\":[]}}"
#define RUN_A "{\"print\":{\"command\":\"push_status\",\"msg\":0,\"gcode_state\":\"RUNNING\"," \
	"\"subtask_name\":\"Benchy\",\"gcode_file\":\"/data/Metadata/plate_1.gcode\"," \
	"\"task_id\":\"111\",\"subtask_id\":\"112\",\"mc_percent\":10,\"layer_num\":3," \
	"\"total_layer_num\":100,\"print_error\":0,\"fail_reason\":\"0\",\"hms\":[]}}"
#define DELTA(x) "{\"print\":{\"command\":\"push_status\",\"msg\":1," x "}}"
#define FULL(x) "{\"print\":{\"command\":\"push_status\",\"msg\":0," x "}}"

static const struct scenario scenarios[] = {
	{ "start-up while printing is silent", {
		{ 0, RUN_A, "" },
		{ 2000, DELTA("\"mc_percent\":11"), "" },
		{ 9000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "start-up on a finished job is silent", {
		{ 0, FULL("\"gcode_state\":\"FINISH\",\"subtask_name\":\"old\""), "" },
		{ 10000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "start-up on a failed job is silent", {
		{ 0, FULL("\"gcode_state\":\"FAILED\",\"print_error\":0"), "" },
		{ 20000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "a job that succeeds, P1 deltas on a full base", {
		{ 0, IDLE_BASE, "" },
		{ 2000, DELTA("\"gcode_state\":\"PREPARE\",\"subtask_name\":\"Benchy\","
		    "\"subtask_id\":\"9\""), "job_started" },
		{ 4000, DELTA("\"gcode_state\":\"RUNNING\",\"mc_percent\":1"), "" },
		{ 6000, DELTA("\"mc_percent\":99"), "" },
		{ 8000, DELTA("\"gcode_state\":\"FINISH\",\"mc_percent\":100"), "job_succeeded" },
		{ 10000, DELTA("\"mc_percent\":100"), "" },
		{ -1, NULL, NULL } } },
	{ "cancel code one report after FAILED", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\",\"mc_percent\":0"), "" },
		{ 3000, DELTA("\"print_error\":50348044"), "job_cancelled" },
		{ 5000, DELTA("\"print_error\":0"), "" },
		{ 20000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "cancel carried in fail_reason", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\",\"fail_reason\":\"50348044\""),
		    "job_cancelled" },
		{ 20000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "cancel code 0500-400E as a number above 2^31-safe double", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\""), "" },
		{ 2500, DELTA("\"print_error\":\"83902478\""), "job_cancelled" },
		{ -1, NULL, NULL } } },
	{ "cancel code in the HMS list is a cancel, not an HMS alert", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\",\"hms\":[{\"attr\":50331904,"
		    "\"code\":81932}]"), "job_cancelled" },
		{ 20000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "a real failure waits, then says failed", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\",\"print_error\":117473288"), "" },
		{ 5000, TICK, "" },
		{ 9000, TICK, "job_failed" },
		{ 12000, DELTA("\"print_error\":50348044"), "" },
		{ -1, NULL, NULL } } },
	{ "leaving FAILED before the hold ends settles as failed", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\""), "" },
		{ 3000, DELTA("\"gcode_state\":\"IDLE\""), "job_failed" },
		{ 20000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "a new job during the hold: failed, then started", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"FAILED\""), "" },
		{ 3000, DELTA("\"gcode_state\":\"PREPARE\",\"subtask_id\":\"200\""),
		    "job_failed job_started" },
		{ -1, NULL, NULL } } },
	{ "old P1P: printing to IDLE is a cancel", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"IDLE\""), "job_cancelled" },
		{ -1, NULL, NULL } } },
	{ "pause and resume are one job", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"PAUSE\""), "" },
		{ 3000, DELTA("\"gcode_state\":\"RUNNING\""), "" },
		{ 4000, DELTA("\"gcode_state\":\"FINISH\""), "job_succeeded" },
		{ -1, NULL, NULL } } },
	{ "a new job identity while printing is a new job", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, DELTA("\"subtask_id\":\"500\",\"subtask_name\":\"Next\""), "job_started" },
		{ -1, NULL, NULL } } },
	{ "an id that appears late is the same job", {
		{ 0, IDLE_BASE, "" },
		{ 1000, DELTA("\"gcode_state\":\"PREPARE\",\"subtask_name\":\"Cube\","
		    "\"gcode_file\":\"cube.3mf\""), "job_started" },
		{ 2000, DELTA("\"gcode_state\":\"RUNNING\",\"task_id\":\"77\","
		    "\"subtask_id\":\"78\""), "" },
		{ 3000, DELTA("\"gcode_state\":\"FINISH\""), "job_succeeded" },
		{ -1, NULL, NULL } } },
	{ "a delta with no base asks for a full report and says nothing", {
		{ 0, DELTA("\"gcode_state\":\"RUNNING\""), "" },
		{ 1000, IDLE_BASE, "" },
		{ 2000, RUN_A, "job_started" },
		{ -1, NULL, NULL } } },
	{ "H2D: no msg at all is a full report", {
		{ 0, "{\"print\":{\"command\":\"push_status\",\"gcode_state\":\"IDLE\"}}", "" },
		{ 1000, "{\"print\":{\"command\":\"push_status\",\"gcode_state\":\"RUNNING\"}}",
		    "job_started" },
		{ -1, NULL, NULL } } },
	{ "reconnect: the job finished while away is announced once", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, RECONNECT, "" },
		{ 90000, FULL("\"gcode_state\":\"FINISH\",\"subtask_id\":\"112\","
		    "\"task_id\":\"111\",\"subtask_name\":\"Benchy\""), "job_succeeded" },
		{ 91000, DELTA("\"mc_percent\":100"), "" },
		{ -1, NULL, NULL } } },
	{ "reconnect: still printing the same job is silent", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, RECONNECT, "" },
		{ 5000, RUN_A, "" },
		{ -1, NULL, NULL } } },
	{ "reconnect: another job that started and ended unseen is silent", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, RECONNECT, "" },
		{ 9000, FULL("\"gcode_state\":\"FINISH\",\"subtask_id\":\"999\","
		    "\"subtask_name\":\"Other\""), "" },
		{ -1, NULL, NULL } } },
	{ "reconnect: a delta before the full report is not a baseline", {
		{ 0, IDLE_BASE, "" },
		{ 1000, RUN_A, "job_started" },
		{ 2000, RECONNECT, "" },
		{ 3000, DELTA("\"mc_percent\":50"), "" },
		{ 4000, FULL("\"gcode_state\":\"FINISH\",\"subtask_id\":\"112\""),
		    "job_succeeded" },
		{ -1, NULL, NULL } } },
	{ "HMS: baseline codes are silent, new ones alert once, flaps are quiet", {
		{ 0, FULL("\"gcode_state\":\"IDLE\",\"hms\":[{\"attr\":117440768,"
		    "\"code\":196616}]"), "" },
		{ 1000, DELTA("\"hms\":[{\"attr\":117440768,\"code\":196616},"
		    "{\"attr\":201327360,\"code\":196615}]"), "hms_warning" },
		{ 2000, DELTA("\"hms\":[{\"attr\":117440768,\"code\":196616},"
		    "{\"attr\":201327360,\"code\":196615}]"), "" },
		{ 3000, DELTA("\"hms\":[{\"attr\":117440768,\"code\":196616}]"), "" },
		{ 13000, DELTA("\"hms\":[{\"attr\":117440768,\"code\":196616},"
		    "{\"attr\":201327360,\"code\":196615}]"), "" },
		{ 14000, DELTA("\"hms\":[]"), "" },
		{ 50000, DELTA("\"hms\":[{\"attr\":201327360,\"code\":196615}]"), "hms_warning" },
		{ 51000, DELTA("\"hms\":[{\"attr\":50331904,\"code\":65537},"
		    "{\"attr\":201327360,\"code\":196615}]"), "hms_error" },
		{ 52000, DELTA("\"hms\":[{\"attr\":50331904,\"code\":131073}]"), "hms_error" },
		{ 53000, DELTA("\"hms\":[{\"attr\":50331904,\"code\":262145}]"), "hms_warning" },
		{ -1, NULL, NULL } } },
	{ "HMS: a report without an hms key keeps the list", {
		{ 0, FULL("\"gcode_state\":\"IDLE\",\"hms\":[{\"attr\":117440768,"
		    "\"code\":196616}]"), "" },
		{ 1000, DELTA("\"mc_percent\":3"), "" },
		{ 40000, DELTA("\"mc_percent\":4"), "" },
		{ 41000, DELTA("\"hms\":[{\"attr\":117440768,\"code\":196616}]"), "" },
		{ -1, NULL, NULL } } },
	{ "offline once per outage, online after it", {
		{ 0, IDLE_BASE, "" },
		{ 30000, TICK, "" },
		{ 60500, TICK, "printer_offline" },
		{ 90000, TICK, "" },
		{ 95000, DELTA("\"mc_percent\":0"), "printer_online" },
		{ 97000, DELTA("\"mc_percent\":0"), "" },
		{ -1, NULL, NULL } } },
	{ "a short blip says nothing", {
		{ 0, IDLE_BASE, "" },
		{ 59000, TICK, "" },
		{ 59500, IDLE_BASE, "" },
		{ 100000, TICK, "" },
		{ -1, NULL, NULL } } },
	{ "a printer never heard from is never offline", {
		{ 0, TICK, "" },
		{ 500000, TICK, "" },
		{ -1, NULL, NULL } } },
};

static void
names(const struct event *evs, int n, char *buf, size_t len)
{
	int	i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, event_name(evs[i].type), len - strlen(buf) - 1);
	}
}

static int
step_run(struct monitor *m, const struct step *s, struct event *evs)
{
	struct report	r;
	char		cause[160];
	int		want_full;

	if (s->report == TICK)
		return monitor_tick(m, s->t, 1700000000 + s->t / 1000, OFFLINE_MS, evs);
	if (s->report == RECONNECT) {
		monitor_rebase(m);
		return 0;
	}
	if (report_parse(s->report, strlen(s->report), &r, cause, sizeof(cause)) == -1) {
		printf("FAIL report did not parse: %s: %s\n", cause, s->report);
		return 0;
	}
	/* The daemon ticks on its own; a report step also lets due timers fire first. */
	return monitor_report(m, &r, s->t, 1700000000 + s->t / 1000, evs, &want_full);
}

static void
run_scenario(const struct scenario *sc)
{
	struct monitor	m;
	struct event	evs[MONITOR_OUT_MAX];
	char		got[256];
	const struct step *s;
	int		n;

	monitor_init(&m, "shop-x1c", "00M09A350100123");
	for (s = sc->steps; s->report != NULL; s++) {
		n = step_run(&m, s, evs);
		names(evs, n, got, sizeof(got));
		CHECK_STR(got, s->expect, "%s, step at %lld ms", sc->name, (long long)s->t);
	}
}

/* The fields events carry: merged from the base and later deltas. */
static void
test_event_fields(void)
{
	struct monitor	m;
	struct event	evs[MONITOR_OUT_MAX];
	struct report	r;
	char		cause[160];
	int		n, wf;
	const char	*seq[] = {
		IDLE_BASE, RUN_A, DELTA("\"mc_percent\":57,\"layer_num\":60"),
		DELTA("\"gcode_state\":\"FAILED\",\"mc_percent\":0,\"layer_num\":0"),
		DELTA("\"print_error\":50348044"),
	};
	size_t		i;

	monitor_init(&m, "shop-x1c", "00M09A350100123");
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		CHECK(report_parse(seq[i], strlen(seq[i]), &r, cause, sizeof(cause)) == 0,
		    "%s", cause);
		n = monitor_report(&m, &r, (int64_t)i * 1000, 1700000000 + (time_t)i * 600,
		    evs, &wf);
	}
	CHECK(n == 1 && evs[0].type == EV_JOB_CANCELLED, "one cancel");
	CHECK_STR(evs[0].job.name, "Benchy", "name from the full report");
	CHECK_STR(evs[0].job.id, "112", "subtask_id is the job id");
	CHECK(evs[0].job.percent == 57, "progress reached, not the zeroed one: %d",
	    evs[0].job.percent);
	CHECK(evs[0].job.layer == 60, "layer reached: %d", evs[0].job.layer);
	CHECK(evs[0].job.error == 0x0300400C, "cancel code: %08x", evs[0].job.error);
	CHECK(evs[0].job.ended - evs[0].job.started == 1200, "duration %lld",
	    (long long)(evs[0].job.ended - evs[0].job.started));
	CHECK_STR(evs[0].printer, "shop-x1c", "printer name");
	CHECK_STR(evs[0].serial, "00M09A350100123", "serial");
	CHECK_STR(evs[0].model, "X1C", "model guessed from the serial");
	CHECK(strncmp(evs[0].id, "evt_", 4) == 0 && strlen(evs[0].id) == 36, "id %s",
	    evs[0].id);
}

static void
test_hms_event_fields(void)
{
	struct monitor	m;
	struct event	evs[MONITOR_OUT_MAX];
	struct report	r;
	char		cause[160];
	const char	*base = FULL("\"gcode_state\":\"IDLE\",\"hms\":[]");
	const char	*ver = "{\"info\":{\"command\":\"get_version\",\"module\":["
	    "{\"name\":\"ota\",\"product_name\":\"Bambu Lab P1S\",\"sw_ver\":\"01.08.02.00\"}]}}";
	const char	*err = DELTA("\"hms\":[{\"attr\":201327360,\"code\":65543}]");
	int		n, wf;

	monitor_init(&m, "p1s", "01P00A000000001");
	report_parse(base, strlen(base), &r, cause, sizeof(cause));
	monitor_report(&m, &r, 0, 1700000000, evs, &wf);
	CHECK(report_parse(ver, strlen(ver), &r, cause, sizeof(cause)) == 0, "%s", cause);
	CHECK(monitor_report(&m, &r, 100, 1700000000, evs, &wf) == 0, "version: no event");
	report_parse(err, strlen(err), &r, cause, sizeof(cause));
	n = monitor_report(&m, &r, 200, 1700000000, evs, &wf);
	CHECK(n == 1 && evs[0].type == EV_HMS_ERROR, "one hms_error");
	CHECK_STR(evs[0].hms.str, "HMS_0C00_0300_0001_0007", "code string");
	CHECK_STR(evs[0].hms.severity, "fatal", "severity from code >> 16");
	CHECK_STR(evs[0].hms.url, "https://wiki.bambulab.com/en/p1/troubleshooting/hmscode/"
	    "0C00_0300_0001_0007", "link for the product's model");
	CHECK_STR(evs[0].model, "Bambu Lab P1S", "model from get_version");
}

/* A job that finishes reports the layers of its last report, not of the one before. */
static void
test_finish_fields(void)
{
	struct monitor	m;
	struct event	evs[MONITOR_OUT_MAX];
	struct report	r;
	char		cause[160];
	int		n = 0, wf;
	const char	*seq[] = {
		IDLE_BASE, RUN_A, DELTA("\"mc_percent\":98,\"layer_num\":97"),
		DELTA("\"gcode_state\":\"FINISH\",\"layer_num\":100,\"mc_remaining_time\":0"),
	};
	size_t		i;

	monitor_init(&m, "a1", "03919A000000001");
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		report_parse(seq[i], strlen(seq[i]), &r, cause, sizeof(cause));
		n = monitor_report(&m, &r, (int64_t)i * 1000, 1700000000, evs, &wf);
	}
	CHECK(n == 1 && evs[0].type == EV_JOB_SUCCEEDED, "one success");
	CHECK(evs[0].job.percent == 100, "100%%: %d", evs[0].job.percent);
	CHECK(evs[0].job.layer == 100, "last layer from the FINISH report: %d", evs[0].job.layer);
	CHECK(evs[0].job.remaining_min == 0, "nothing remaining: %d", evs[0].job.remaining_min);
	CHECK_STR(evs[0].model, "A1", "model guessed from the serial");
}

int
main(void)
{
	size_t	i;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
	test_event_fields();
	test_hms_event_fields();
	test_finish_fields();
	return UNIT_DONE();
}
