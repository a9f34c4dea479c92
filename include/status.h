/*
 * status.h: the running daemon answers `bambu-bridge status` over a Unix socket in its state
 * directory (STATE/bambu-bridge.sock, mode 0660): one JSON document per connection.
 */
#ifndef STATUS_H
#define STATUS_H

#include <cjson/cJSON.h>

#include "config.h"

/* Listen on STATE/bambu-bridge.sock; the fd to poll, or -1 (logged; the daemon goes on). */
int	status_listen(const char *state_dir);
void	status_close(void);
/* A client is waiting on the listening fd: answer it with doc (not freed). */
void	status_answer(int fd, const cJSON *doc);
/* `bambu-bridge status [--json]`: ask the daemon and print; the exit status. */
int	cmd_status(struct config *, int argc, char **argv);

#endif
