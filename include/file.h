/* file.h: replacing a small file so that a crash or power cut leaves the old one or the new. */
#ifndef FILE_H
#define FILE_H

#include <stddef.h>
#include <sys/types.h>

/* write(2) all of buf, through short writes and EINTR; 0, or -1 with errno. */
int	file_write_all(int fd, const char *buf, size_t len);
/*
 * Write data to a new file beside path, fsync it, rename it over path, fsync the directory.
 * Returns 0, or -1 with errno set (nothing is left behind).
 */
int	file_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif
