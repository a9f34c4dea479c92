/* xmalloc.h: allocation that cannot fail (it calls fatal()). */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

/* Copy src into dst[dstlen] truncating on a UTF-8 code point boundary; always NUL-terminates. */
void	 strlcpy_utf8(char *dst, const char *src, size_t dstlen);

/* Both NULL, or both equal strings. */
int	 str_same(const char *, const char *);

#endif
