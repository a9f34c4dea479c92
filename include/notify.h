/*
 * notify.h: the systemd service notification protocol (sd_notify(3)) without libsystemd.
 * Every function is a no-op returning 0 (or -1 for notify_watchdog_ms) when the bridge does
 * not run under a Type=notify unit.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.  Call once, before any thread starts. */
void	notify_init(void);
/*
 * Send one state change, e.g. "READY=1", "STATUS=2/3 printers online, 0 queued",
 * "RELOADING=1", "STOPPING=1", "WATCHDOG=1".  Returns 0 when sent or not under systemd, -1
 * (errno set) when the datagram could not be sent.  Any thread may call it.
 */
int	notify_send(const char *, ...) __attribute__((format(printf, 1, 2)));
/* How often to send "WATCHDOG=1": half of WatchdogSec in milliseconds, or -1 when off. */
int	notify_watchdog_ms(void);
/* Close the socket; notify_send is a no-op afterwards. */
void	notify_close(void);

#endif
