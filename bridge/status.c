/*
 * status.c: the status socket.  The daemon listens on STATE/bambu-bridge.sock and writes one
 * JSON document to each client, then closes; `bambu-bridge status` reads it and prints a
 * table (or the JSON with --json).  Not for: gathering the figures (printer.c, deliver.c
 * describe themselves; main.c assembles the document).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "xmalloc.h"

#define STATUS_SOCK	"bambu-bridge.sock"
#define STATUS_MAX	(16 * 1024 * 1024)
#define STATUS_WAIT_MS	5000

static int	status_fd = -1;
static char	*status_path;

static int
sock_addr(const char *state_dir, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", state_dir,
	    STATUS_SOCK) >= sizeof(sun->sun_path))
		return -1;
	return 0;
}

int
status_listen(const char *state_dir)
{
	struct sockaddr_un	sun;
	int			fd;

	if (sock_addr(state_dir, &sun) == -1) {
		log_warnx("status: the socket path under %s is too long; no status", state_dir);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("status: socket");
		return -1;
	}
	unlink(sun.sun_path);	/* one left by a daemon that died */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0660) == -1 || listen(fd, 16) == -1) {
		log_warn("status: cannot listen on %s", sun.sun_path);
		close(fd);
		return -1;
	}
	status_fd = fd;
	status_path = xstrdup(sun.sun_path);
	return fd;
}

void
status_close(void)
{
	if (status_fd != -1) {
		close(status_fd);
		unlink(status_path);
	}
	status_fd = -1;
	free(status_path);
	status_path = NULL;
}

/* The answer is small and the client local: write it with a short deadline, then close. */
void
status_answer(int lfd, const cJSON *doc)
{
	struct timeval	 tv = { 1, 0 };
	char		*text;
	size_t		 len, off = 0;
	ssize_t		 n;
	int		 fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if ((text = cJSON_PrintUnformatted(doc)) == NULL)
			fatalx("cJSON_PrintUnformatted");
		len = strlen(text);
		while (off < len && (n = write(fd, text + off, len - off)) > 0)
			off += (size_t)n;
		free(text);
		close(fd);
		off = 0;
	}
}

static char *
status_fetch(const char *state_dir, char *why, size_t whylen)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			*buf = NULL;
	size_t			 len = 0, cap = 0;
	ssize_t			 n;
	int			 fd;

	if (sock_addr(state_dir, &sun) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, whylen, "cannot make a socket");
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(why, whylen, "no running bridge answers on %s: %s", sun.sun_path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		if (poll(&pfd, 1, STATUS_WAIT_MS) != 1) {
			snprintf(why, whylen, "the bridge did not answer in time");
			break;
		}
		if (len + 65536 > cap)
			buf = xrealloc(buf, cap = cap == 0 ? 65536 : cap * 2);
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0) {
			close(fd);
			buf[len] = '\0';
			return buf;
		}
		if ((len += (size_t)n) > STATUS_MAX) {
			snprintf(why, whylen, "the answer is too large");
			break;
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static double
num_of(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void
age_text(double secs, char *buf, size_t len)
{
	if (secs < 0)
		snprintf(buf, len, "never");
	else if (secs < 120)
		snprintf(buf, len, "%.0fs ago", secs);
	else if (secs < 7200)
		snprintf(buf, len, "%.0fm ago", secs / 60);
	else
		snprintf(buf, len, "%.0fh ago", secs / 3600);
}

static void
print_printers(const cJSON *doc)
{
	const cJSON	*p, *job;
	char		 age[32], prog[16];

	printf("%-20s %-10s %-8s %-9s %-24s %5s  %s\n", "PRINTER", "CONNECTION", "TRUST",
	    "STATE", "JOB", "PROG", "LAST REPORT");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "printers")) {
		job = cJSON_GetObjectItemCaseSensitive(p, "job");
		age_text(num_of(p, "last_report_age"), age, sizeof(age));
		if (num_of(job, "progress") >= 0)
			snprintf(prog, sizeof(prog), "%.0f%%", num_of(job, "progress"));
		else
			snprintf(prog, sizeof(prog), "-");
		printf("%-20.20s %-10s %-8s %-9s %-24.24s %5s  %s\n", str_of(p, "name"),
		    str_of(p, "connection"), str_of(p, "trust"), str_of(p, "state"),
		    job != NULL ? str_of(job, "name") : "-", prog, age);
	}
}

static void
print_sinks(const cJSON *doc)
{
	const cJSON	*s;
	char		 age[32];

	printf("\n%-20s %-8s %-9s %7s  %-12s %s\n", "SINK", "KIND", "STATE", "QUEUED",
	    "LAST SUCCESS", "LAST ERROR");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "sinks")) {
		age_text(num_of(s, "last_success_age"), age, sizeof(age));
		printf("%-20.20s %-8s %-9s %7.0f  %-12s %s\n", str_of(s, "name"),
		    str_of(s, "kind"), str_of(s, "state"), num_of(s, "queued"), age,
		    str_of(s, "last_error"));
	}
}

int
cmd_status(struct config *conf, int argc, char **argv)
{
	char	*text, why[512];
	cJSON	*doc;

	if (argc > 1 || (argc == 1 && strcmp(argv[0], "--json") != 0)) {
		fprintf(stderr, "usage: bambu-bridge status [--json]\n");
		return 1;
	}
	if ((text = status_fetch(conf->state_dir, why, sizeof(why))) == NULL) {
		fprintf(stderr, "bambu-bridge: %s\n", why);
		return 1;
	}
	if (argc == 1) {
		printf("%s\n", text);
		free(text);
		return 0;
	}
	if ((doc = cJSON_Parse(text)) == NULL) {
		fprintf(stderr, "bambu-bridge: the bridge's answer is not JSON\n");
		free(text);
		return 1;
	}
	printf("bambu-bridge %s, up %.0f s, %.0f/%.0f printers online, %.0f deliveries "
	    "queued\n\n", str_of(doc, "version"), num_of(doc, "uptime"),
	    num_of(doc, "printers_online"), num_of(doc, "printers_total"),
	    num_of(doc, "queued"));
	print_printers(doc);
	print_sinks(doc);
	cJSON_Delete(doc);
	free(text);
	return 0;
}
