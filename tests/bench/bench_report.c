/*
 * bench_report.c: the cost of the hot path, one report through parse, merge and the state
 * machines, for a P1-style delta (~100 bytes) and an X1C-style full report (~11 KB).  Prints
 * figures; asserts nothing (benchmarks are not tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor.h"

static double
cpu_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A full report shaped like an X1C's with four AMS units: many fields the bridge ignores. */
static char *
full_report(size_t *len)
{
	size_t	cap = 64 * 1024, n = 0;
	char	*b = malloc(cap);
	int	ams, tray;

	n += (size_t)snprintf(b + n, cap - n, "{\"print\":{\"command\":\"push_status\",\"msg\":0,"
	    "\"gcode_state\":\"RUNNING\",\"mc_percent\":42,\"mc_remaining_time\":73,"
	    "\"layer_num\":120,\"total_layer_num\":300,\"subtask_name\":\"Bench part\","
	    "\"gcode_file\":\"/data/Metadata/plate_1.gcode\",\"task_id\":\"123456\","
	    "\"subtask_id\":\"123457\",\"print_error\":0,\"fail_reason\":\"0\","
	    "\"hms\":[{\"attr\":117440768,\"code\":196616}],\"nozzle_temper\":220.5,"
	    "\"bed_temper\":60.0,\"chamber_temper\":35,\"wifi_signal\":\"-50dBm\","
	    "\"lights_report\":[{\"node\":\"chamber_light\",\"mode\":\"on\"}],\"ams\":{\"ams\":[");
	for (ams = 0; ams < 4; ams++) {
		n += (size_t)snprintf(b + n, cap - n, "%s{\"id\":\"%d\",\"humidity\":\"4\","
		    "\"temp\":\"25.1\",\"tray\":[", ams ? "," : "", ams);
		for (tray = 0; tray < 4; tray++)
			n += (size_t)snprintf(b + n, cap - n, "%s{\"id\":\"%d\",\"remain\":80,"
			    "\"k\":0.02,\"n\":1.0,\"tag_uid\":\"0000000000000000\",\"tray_id_name\":"
			    "\"A00-W1\",\"tray_info_idx\":\"GFA00\",\"tray_type\":\"PLA\","
			    "\"tray_sub_brands\":\"PLA Basic\",\"tray_color\":\"FFFFFFFF\","
			    "\"tray_weight\":\"1000\",\"tray_diameter\":\"1.75\",\"tray_temp\":\"55\","
			    "\"tray_time\":\"8\",\"bed_temp_type\":\"1\",\"bed_temp\":\"35\","
			    "\"nozzle_temp_max\":\"230\",\"nozzle_temp_min\":\"190\","
			    "\"xcam_info\":\"AC0DE8030000000000000000\",\"tray_uuid\":"
			    "\"00000000000000000000000000000000\",\"cols\":[\"FFFFFFFF\"]}",
			    tray ? "," : "", tray);
		n += (size_t)snprintf(b + n, cap - n, "]}");
	}
	n += (size_t)snprintf(b + n, cap - n, "]},\"ipcam\":{\"ipcam_dev\":\"1\","
	    "\"ipcam_record\":\"enable\",\"timelapse\":\"disable\",\"resolution\":\"1080p\"},"
	    "\"upgrade_state\":{\"sequence_id\":0,\"progress\":\"\",\"status\":\"\","
	    "\"message\":\"\"},\"sequence_id\":\"2021\"}}");
	*len = n;
	return b;
}

static void
bench(const char *what, const char *buf, size_t len, long iters)
{
	struct monitor	m;
	struct report	r;
	struct event	evs[MONITOR_OUT_MAX];
	char		cause[160];
	double		t0, t;
	long		i;
	int		wf, bad = 0;

	monitor_init(&m, "bench", "00M09A350100123");
	t0 = cpu_now();
	for (i = 0; i < iters; i++) {
		if (report_parse(buf, len, &r, cause, sizeof(cause)) == -1)
			bad++;
		else
			monitor_report(&m, &r, i * 2000, 1700000000 + i * 2, evs, &wf);
	}
	t = (cpu_now() - t0) / (double)iters;
	printf("%-34s %6zu bytes  %8.2f us/report  %s\n", what, len, t * 1e6,
	    bad ? "(parse errors!)" : "");
	/* A farm: 1000 printers, one report every 2 s each. */
	printf("  1000 printers x 1 report / 2 s:   %6.2f %% of one core\n", t * 500.0 * 100.0);
}

int
main(int argc, char **argv)
{
	const char	*delta = "{\"print\":{\"bed_temper\":59.96875,\"nozzle_temper\":219.9,"
	    "\"wifi_signal\":\"-51dBm\",\"command\":\"push_status\",\"msg\":1,"
	    "\"sequence_id\":\"40941\"}}";
	size_t		 flen;
	char		*full = full_report(&flen);
	long		 iters = argc > 1 ? atol(argv[1]) : 200000;

	printf("sizeof(struct monitor) = %zu bytes (the state kept per printer)\n",
	    sizeof(struct monitor));
	bench("P1-style delta (msg 1)", delta, strlen(delta), iters);
	bench("X1C-style full report, 4 AMS", full, flen, iters / 20);
	free(full);
	return 0;
}
