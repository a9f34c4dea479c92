/*
 * test_notify.c: notify_send delivers each message as one datagram to a real AF_UNIX socket
 * named by NOTIFY_SOCKET (a path, then an abstract name); without it every call is a no-op.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_notify.XXXXXX";

/* A datagram socket bound to path, or to the abstract name path + 1 when path[0] is '@'. */
static int
bind_dgram(const char *path)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: too long for a socket\n", path);
		exit(2);
	}
	memcpy(sun.sun_path, path, strlen(path));
	len = sizeof(sun);
	if (path[0] == '@') {
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		perror(path);
		exit(2);
	}
	return fd;
}

/* The next datagram on fd, NUL-terminated in buf; "" when none is waiting. */
static const char *
next_msg(int fd, char *buf, size_t len)
{
	ssize_t	n = recv(fd, buf, len - 1, 0);

	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static void
test_path(void)
{
	char	path[PATH_MAX], buf[2048];
	int	fd;

	snprintf(path, sizeof(path), "%s/notify", tmpdir);
	fd = bind_dgram(path);
	setenv("NOTIFY_SOCKET", path, 1);
	unsetenv("WATCHDOG_USEC");
	notify_init();
	CHECK(notify_watchdog_ms() == -1, "no WATCHDOG_USEC: %d", notify_watchdog_ms());
	CHECK(notify_send("READY=1") == 0, "send READY");
	CHECK(notify_send("STATUS=%d/%d printers online, %d queued", 2, 3, 7) == 0, "STATUS");
	CHECK(notify_send("RELOADING=1") == 0, "send RELOADING");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "READY=1", "first datagram");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "STATUS=2/3 printers online, 7 queued",
	    "second datagram");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "RELOADING=1", "third datagram");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "", "nothing more");

	setenv("WATCHDOG_USEC", "30000000", 1);
	unsetenv("WATCHDOG_PID");
	notify_init();
	CHECK(notify_watchdog_ms() == 15000, "half of 30 s: %d", notify_watchdog_ms());
	CHECK(notify_send("WATCHDOG=1") == 0, "send WATCHDOG");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "WATCHDOG=1", "watchdog datagram");
	snprintf(buf, sizeof(buf), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", buf, 1);
	notify_init();
	CHECK(notify_watchdog_ms() == 15000, "WATCHDOG_PID is us: %d", notify_watchdog_ms());
	setenv("WATCHDOG_PID", "1", 1);
	notify_init();
	CHECK(notify_watchdog_ms() == -1, "WATCHDOG_PID is another: %d", notify_watchdog_ms());
	setenv("WATCHDOG_USEC", "soon", 1);
	unsetenv("WATCHDOG_PID");
	notify_init();
	CHECK(notify_watchdog_ms() == -1, "bad WATCHDOG_USEC: %d", notify_watchdog_ms());
	unsetenv("WATCHDOG_USEC");

	/* The listener is gone: the send fails, and nothing crashes. */
	close(fd);
	unlink(path);
	CHECK(notify_send("STOPPING=1") == -1, "send to a removed socket");
	notify_close();
}

static void
test_abstract(void)
{
	char	name[108], buf[256];
	int	fd;

	snprintf(name, sizeof(name), "@bambu-bridge-test-notify-%ld", (long)getpid());
	fd = bind_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	notify_init();
	CHECK(notify_send("READY=1") == 0, "send READY to an abstract socket");
	CHECK(notify_send("STOPPING=1") == 0, "send STOPPING to an abstract socket");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "READY=1", "abstract: first datagram");
	CHECK_STR(next_msg(fd, buf, sizeof(buf)), "STOPPING=1", "abstract: second datagram");
	close(fd);
	notify_close();
}

static void
test_unset(void)
{
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "30000000", 1);
	notify_init();
	CHECK(notify_send("READY=1") == 0, "no NOTIFY_SOCKET: a no-op");
	CHECK(notify_watchdog_ms() == -1, "no NOTIFY_SOCKET: no watchdog");
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	notify_init();
	CHECK(notify_send("READY=1") == 0, "a relative NOTIFY_SOCKET is ignored");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	notify_close();
}

int
main(void)
{
	char	path[PATH_MAX];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_path();
	test_abstract();
	test_unset();
	snprintf(path, sizeof(path), "%s/notify", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return UNIT_DONE();
}
