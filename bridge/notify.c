/*
 * notify.c: tell systemd how the service is doing (READY, STATUS, RELOADING, STOPPING,
 * WATCHDOG) by sending datagrams to $NOTIFY_SOCKET, as sd_notify(3) does, so that the bridge
 * needs no libsystemd.  Path sockets and abstract ones ("@name") are both understood.
 *
 * Not for: deciding when to notify or what the status says (main.c does), or file descriptor
 * passing (the bridge stores none with the service manager).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

static int			notify_fd = -1;
static struct sockaddr_un	notify_sun;
static socklen_t		notify_sunlen;
static int			notify_wd_ms = -1;

/* Parse a decimal number made of digits only; -1 when s is not one or is too big. */
static long long
notify_number(const char *s)
{
	long long	n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (long long)1e15)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

/* The watchdog is ours when WATCHDOG_USEC is set and WATCHDOG_PID, if set, names us. */
static void
notify_watchdog_init(void)
{
	long long	usec, pid;

	notify_wd_ms = -1;
	if ((usec = notify_number(getenv("WATCHDOG_USEC"))) <= 0)
		return;
	if (getenv("WATCHDOG_PID") != NULL) {
		pid = notify_number(getenv("WATCHDOG_PID"));
		if (pid != (long long)getpid())
			return;
	}
	usec /= 2000;			/* half the interval, in milliseconds */
	notify_wd_ms = usec < 1 ? 1 : usec > 0x7fffffff ? 0x7fffffff : (int)usec;
}

void
notify_init(void)
{
	const char	*e = getenv("NOTIFY_SOCKET");
	size_t		 len;

	notify_close();
	notify_watchdog_init();
	if (e == NULL || (e[0] != '/' && e[0] != '@'))
		return;
	len = strlen(e);
	if (len < 2 || len > sizeof(notify_sun.sun_path))
		return;
	memset(&notify_sun, 0, sizeof(notify_sun));
	notify_sun.sun_family = AF_UNIX;
	memcpy(notify_sun.sun_path, e, len);
	if (e[0] == '@')
		notify_sun.sun_path[0] = '\0';	/* an abstract socket: no NUL at the end */
	else if (len == sizeof(notify_sun.sun_path))
		return;				/* a path needs room for its NUL */
	notify_sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (e[0] == '/'));
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int
notify_send(const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;
	int	n;

	if (notify_fd == -1)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;	/* a STATUS= line cut short is still a status */
	/* Never block the main loop on a stuck manager: a lost STATUS= is sent again. */
	if (sendto(notify_fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&notify_sun, notify_sunlen) != n)
		return -1;
	return 0;
}

int
notify_watchdog_ms(void)
{
	return notify_fd == -1 ? -1 : notify_wd_ms;
}

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
	notify_wd_ms = -1;
}
