/*
 * bench_outbox.c: events through deliver_event (render, outbox write with its fsyncs) and on
 * to a local HTTPS receiver.  Prints events per second accepted into the outbox and
 * delivered end to end.  Usage: bench_outbox STATE_DIR URL CA_FILE [EVENTS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "event.h"
#include "log.h"

static double
wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sink_conf	sc;
	struct event		ev;
	double			t0, t1, t2;
	int			i, n;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_outbox STATE_DIR URL CA_FILE [EVENTS]\n");
		return 1;
	}
	n = argc > 4 ? atoi(argv[4]) : 2000;
	log_init(0);
	memset(&sc, 0, sizeof(sc));
	sc.kind = SINK_WEBHOOK;
	sc.name = (char *)(uintptr_t)"bench";
	sc.url = argv[2];
	sc.ca_file = argv[3];
	sc.api_key = (char *)(uintptr_t)"bench-bench-bench-bench-bench-bench-bench";
	sc.events = EV_ALL;
	sc.retry_for = 86400;
	sc.queue_max = n + 1;
	deliver_init(argv[1]);
	if (deliver_add(&sc, NULL) == NULL || deliver_start() == -1)
		return 1;
	/* Quiet the per-delivery log lines for the measurement. */
	freopen("/dev/null", "w", stderr);
	t0 = wall_now();
	for (i = 0; i < n; i++) {
		event_init(&ev, EV_JOB_SUCCEEDED, "bench-printer", "00M09A350100123");
		snprintf(ev.job.name, sizeof(ev.job.name), "Part %d", i);
		ev.job.percent = 100;
		deliver_event(&ev);
	}
	t1 = wall_now();
	while (deliver_queued() > 0)
		usleep(1000);
	t2 = wall_now();
	deliver_stop();
	printf("%d events, one webhook sink\n", n);
	printf("  accepted into the outbox:  %8.0f events/s  (%.3f ms each, fsyncs included)\n",
	    n / (t1 - t0), (t1 - t0) * 1000 / n);
	printf("  delivered end to end:      %8.0f events/s  (to the Python test receiver)\n",
	    n / (t2 - t0));
	return 0;
}
