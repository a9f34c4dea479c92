/*
 * file.c: replacing a small file atomically and durably: the printers' state, certificate
 * pins, a sink's disabled marker.  Not for: the outbox's records, whose directories are the
 * protocol (outbox.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "xmalloc.h"

int
file_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
dir_sync(const char *path)
{
	char	*copy = xstrdup(path);
	int	 fd, rv = -1;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		rv = fsync(fd);
		close(fd);
	}
	free(copy);
	return rv;
}

int
file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char	*tmp;
	int	 fd, saved;

	xasprintf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail;
	if (fchmod(fd, mode) == -1 || file_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return dir_sync(path);
 fail:
	saved = errno;
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}
