/*
 * outbox.c: the crash-safe spool of deliveries.  One directory per sink under
 * STATE/outbox/, holding tmp/ (being written), queue/ (accepted, waiting), dead/ (given up)
 * and corrupt/ (unreadable, set aside).  A record is one file named "<seq>-<id>", so that
 * byte order of names is the order of events:
 *
 *	BBOX1 <id> <event name> <created, unix seconds> <body length>\n<body>
 *
 * Written to tmp/, fsynced, renamed into queue/, and the directory fsynced (outbox_sync):
 * after that the record survives kill -9 and a power cut.  Delivered records are unlinked.
 * Not for: deciding when to send or give up (deliver.c).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "outbox.h"
#include "xmalloc.h"

#define MAGIC		"BBOX1"
#define RECORD_MAX	(4 * 1024 * 1024)

struct outbox {
	char	*sink;
	char	*base;		/* STATE/outbox/SINK */
	int	 basefd;
	int	 tmpfd;
	int	 queuefd;
	int	 deadfd;
	int	 dirty;		/* queue/ has entries not yet fsynced */
};

static int
mkdir_at(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0750) == -1 && errno != EEXIST)
		return -1;
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int
mkdirs(const char *path)
{
	char	*p = xstrdup(path), *s;
	int	 rv = 0;

	for (s = p + 1; rv == 0 && (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0750) == -1 && errno != EEXIST)
			rv = -1;
		*s = '/';
	}
	if (rv == 0 && mkdir(p, 0750) == -1 && errno != EEXIST)
		rv = -1;
	free(p);
	return rv;
}

/* Remove what a crash left half-written in tmp/: it was never accepted. */
static void
tmp_clear(struct outbox *ob)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd = dup(ob->tmpfd);

	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(ob->tmpfd, de->d_name, 0);
	closedir(d);
}

struct outbox *
outbox_open(const char *state_dir, const char *sink, char *cause, size_t causelen)
{
	struct outbox	*ob = xcalloc(1, sizeof(*ob));

	ob->basefd = ob->tmpfd = ob->queuefd = ob->deadfd = -1;
	ob->sink = xstrdup(sink);
	xasprintf(&ob->base, "%s/outbox/%s", state_dir, sink);
	if (mkdirs(ob->base) == -1 ||
	    (ob->basefd = open(ob->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (ob->tmpfd = mkdir_at(ob->basefd, "tmp")) == -1 ||
	    (ob->queuefd = mkdir_at(ob->basefd, "queue")) == -1 ||
	    (ob->deadfd = mkdir_at(ob->basefd, "dead")) == -1) {
		snprintf(cause, causelen, "cannot open the outbox %s: %s", ob->base,
		    strerror(errno));
		outbox_close(ob);
		return NULL;
	}
	tmp_clear(ob);
	return ob;
}

void
outbox_close(struct outbox *ob)
{
	if (ob == NULL)
		return;
	if (ob->dirty)
		outbox_sync(ob);
	if (ob->basefd != -1)
		close(ob->basefd);
	if (ob->tmpfd != -1)
		close(ob->tmpfd);
	if (ob->queuefd != -1)
		close(ob->queuefd);
	if (ob->deadfd != -1)
		close(ob->deadfd);
	free(ob->sink);
	free(ob->base);
	free(ob);
}

int
outbox_put(struct outbox *ob, uint64_t seq, const char *id, enum ev_type type,
    time_t created, const char *body, size_t len, char *name, size_t namelen)
{
	char	head[160];
	int	fd, n, saved;

	snprintf(name, namelen, "%016" PRIx64 "-%s", seq, id);
	n = snprintf(head, sizeof(head), MAGIC " %s %s %lld %zu\n", id, event_name(type),
	    (long long)created, len);
	if ((fd = openat(ob->tmpfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (file_write_all(fd, head, (size_t)n) == -1 || file_write_all(fd, body, len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlinkat(ob->tmpfd, name, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || renameat(ob->tmpfd, name, ob->queuefd, name) == -1) {
		saved = errno;
		unlinkat(ob->tmpfd, name, 0);
		errno = saved;
		return -1;
	}
	ob->dirty = 1;
	return 0;
}

int
outbox_sync(struct outbox *ob)
{
	if (!ob->dirty)
		return 0;
	if (fsync(ob->queuefd) == -1)
		return -1;
	ob->dirty = 0;
	return 0;
}

int
outbox_done(struct outbox *ob, const char *name)
{
	return unlinkat(ob->queuefd, name, 0);
}

int
outbox_bury(struct outbox *ob, const char *name)
{
	if (renameat(ob->queuefd, name, ob->deadfd, name) == -1)
		return -1;
	return fsync(ob->deadfd);
}

int
outbox_has(struct outbox *ob, const char *name)
{
	return faccessat(ob->queuefd, name, F_OK, 0) == 0;
}

/* The names in a directory (regular-looking, no dotfiles), sorted by byte order. */
static int
names_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
names_filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int
names_list(int dirfd, struct dirent ***list)
{
	char	path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	return scandir(path, list, names_filter, names_cmp);
}

static char *
file_read(int dirfd, const char *name, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	int		 fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > RECORD_MAX) {
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Parse a record file; the body is copied out.  0, or -1 when it is not one of ours. */
static int
record_parse(const char *name, char *buf, size_t len, struct spooled *sp)
{
	char		 id[40], type[32];
	long long	 created;
	size_t		 blen;
	int		 off = 0, t;
	char		*nl = memchr(buf, '\n', len < 160 ? len : 160);

	if (nl == NULL)
		return -1;
	*nl = '\0';
	if (sscanf(buf, MAGIC " %39s %31s %lld %zu%n", id, type, &created, &blen, &off) != 4 ||
	    buf + off != nl || (t = event_from_name(type, strlen(type))) == -1 ||
	    blen != len - (size_t)(nl + 1 - buf) || strncmp(id, "evt_", 4) != 0)
		return -1;
	memset(sp, 0, sizeof(*sp));
	if (strlen(name) >= sizeof(sp->name))
		return -1;
	strlcpy_utf8(sp->name, name, sizeof(sp->name));
	sp->seq = strtoull(name, NULL, 16);
	snprintf(sp->id, sizeof(sp->id), "%s", id);
	sp->type = (enum ev_type)t;
	sp->created = (time_t)created;
	sp->len = blen;
	sp->body = xmalloc(blen + 1);
	memcpy(sp->body, nl + 1, blen);
	sp->body[blen] = '\0';
	return 0;
}

/* A record we cannot read is set aside in corrupt/, never deleted and never a crash. */
static void
set_aside(struct outbox *ob, const char *name)
{
	int	fd = mkdir_at(ob->basefd, "corrupt");

	if (fd != -1 && renameat(ob->queuefd, name, fd, name) == 0)
		log_warnx("sink %s: outbox record %s is unreadable; moved to %s/corrupt/",
		    ob->sink, name, ob->base);
	else
		log_warn("sink %s: outbox record %s is unreadable and cannot be moved",
		    ob->sink, name);
	if (fd != -1)
		close(fd);
}

uint64_t
outbox_load(struct outbox *ob, outbox_cb cb, void *arg)
{
	struct dirent	**list;
	struct spooled	  sp;
	char		 *buf;
	size_t		  len;
	uint64_t	  max = 0;
	int		  i, n;

	if ((n = names_list(ob->queuefd, &list)) == -1) {
		log_warn("sink %s: cannot read %s/queue", ob->sink, ob->base);
		return 0;
	}
	for (i = 0; i < n; i++) {
		buf = file_read(ob->queuefd, list[i]->d_name, &len);
		if (buf == NULL || record_parse(list[i]->d_name, buf, len, &sp) == -1)
			set_aside(ob, list[i]->d_name);
		else {
			if (sp.seq > max)
				max = sp.seq;
			cb(arg, &sp);
		}
		free(buf);
		free(list[i]);
	}
	free(list);
	return max;
}

int
outbox_revive(struct outbox *ob)
{
	struct dirent	**list;
	int		  i, n, moved = 0;

	if ((n = names_list(ob->deadfd, &list)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (renameat(ob->deadfd, list[i]->d_name, ob->queuefd, list[i]->d_name) == 0)
			moved++;
		free(list[i]);
	}
	free(list);
	if (moved > 0)
		fsync(ob->queuefd);
	return moved;
}

static int
names_count(int dirfd)
{
	struct dirent	**list;
	int		  i, n;

	if ((n = names_list(dirfd, &list)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return n;
}

int
outbox_count(struct outbox *ob, int *queued, int *dead)
{
	*queued = names_count(ob->queuefd);
	*dead = names_count(ob->deadfd);
	return *queued == -1 || *dead == -1 ? -1 : 0;
}

/* The marker of a sink that its service called gone: "tag\nwhy\n". */
int
outbox_disabled(struct outbox *ob, const char *tag)
{
	char	*buf, *nl;
	size_t	 len;
	int	 same;

	if ((buf = file_read(ob->basefd, "disabled", &len)) == NULL)
		return 0;
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	same = strcmp(buf, tag) == 0;
	free(buf);
	return same;
}

int
outbox_disable(struct outbox *ob, const char *tag, const char *why)
{
	char	*text, *path;
	int	 rv;

	xasprintf(&text, "%s\n%s\n", tag, why);
	xasprintf(&path, "%s/disabled", ob->base);
	rv = file_replace(path, text, strlen(text), 0600);
	free(path);
	free(text);
	return rv;
}

void
outbox_enable(struct outbox *ob)
{
	if (unlinkat(ob->basefd, "disabled", 0) == 0)
		fsync(ob->basefd);
}

int
outbox_poke(struct outbox *ob)
{
	int	fd;

	if ((fd = openat(ob->basefd, "revived", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	close(fd);
	return 0;
}

int
outbox_poked(struct outbox *ob)
{
	return unlinkat(ob->basefd, "revived", 0) == 0;
}
