/*
 * farm_pub.c: a farm's worth of printers on one broker, for the farm benchmark: a full report
 * for each of N serials, then P1-style deltas (msg 1, ~130 bytes) spread over them at RATE per
 * second for SECONDS.  Usage: farm_pub PORT CODE N RATE SECONDS SERIAL_PREFIX
 * (TLS on 127.0.0.1 without a certificate check: this is a load generator, not a client.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

static volatile int	connected, failed;

static void
on_ok(void *ctx, MQTTAsync_successData *r)
{
	(void)ctx;
	(void)r;
	connected = 1;
}

static void
on_fail(void *ctx, MQTTAsync_failureData *r)
{
	(void)ctx;
	(void)r;
	failed = 1;
}

static void
send(MQTTAsync c, const char *prefix, int i, const char *body)
{
	char	topic[96];

	snprintf(topic, sizeof(topic), "device/%s%09d/report", prefix, i);
	while (MQTTAsync_send(c, topic, (int)strlen(body), body, 0, 0, NULL) != MQTTASYNC_SUCCESS)
		usleep(1000);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	MQTTAsync			c;
	MQTTAsync_createOptions		co = MQTTAsync_createOptions_initializer;
	MQTTAsync_connectOptions	opts = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions		so = MQTTAsync_SSLOptions_initializer;
	char				uri[64], body[256];
	int				n, rate, secs, i;
	long				k;
	double				t0;

	if (argc != 7) {
		fprintf(stderr, "usage: farm_pub PORT CODE N RATE SECONDS SERIAL_PREFIX\n");
		return 1;
	}
	n = atoi(argv[3]);
	rate = atoi(argv[4]);
	secs = atoi(argv[5]);
	snprintf(uri, sizeof(uri), "ssl://127.0.0.1:%s", argv[1]);
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.sendWhileDisconnected = 0;
	co.maxBufferedMessages = 100000;
	if (MQTTAsync_createWithOptions(&c, uri, "bed-farm-pub", MQTTCLIENT_PERSISTENCE_NONE,
	    NULL, &co) != MQTTASYNC_SUCCESS)
		return 1;
	so.enableServerCertAuth = 0;
	opts.ssl = &so;
	opts.username = "bblp";
	opts.password = argv[2];
	opts.MQTTVersion = MQTTVERSION_3_1_1;
	opts.onSuccess = on_ok;
	opts.onFailure = on_fail;
	if (MQTTAsync_connect(c, &opts) != MQTTASYNC_SUCCESS)
		return 1;
	while (!connected && !failed)
		usleep(10000);
	if (failed)
		return 1;
	for (i = 0; i < n; i++)
		send(c, argv[6], i, "{\"print\":{\"command\":\"push_status\",\"msg\":0,"
		    "\"gcode_state\":\"IDLE\",\"mc_percent\":0,\"subtask_name\":\"\","
		    "\"task_id\":\"0\",\"subtask_id\":\"0\",\"print_error\":0,\"hms\":[]}}");
	t0 = now_s();
	for (k = 0; now_s() - t0 < secs; k++) {
		snprintf(body, sizeof(body), "{\"print\":{\"bed_temper\":%.2f,\"nozzle_temper\":"
		    "%.1f,\"wifi_signal\":\"-51dBm\",\"command\":\"push_status\",\"msg\":1,"
		    "\"sequence_id\":\"%ld\"}}", 55 + (k % 50) / 10.0, 210 + (k % 90) / 10.0, k);
		send(c, argv[6], (int)(k % n), body);
		while (now_s() - t0 < (double)(k + 1) / rate)
			usleep(500);
	}
	printf("%ld deltas in %.1f s\n", k, now_s() - t0);
	MQTTAsync_destroy(&c);
	return 0;
}
