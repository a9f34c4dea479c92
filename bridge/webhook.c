/*
 * webhook.c: what a generic webhook sink sends: the CONTRACT body and its Standard Webhooks
 * signature.  Not for: sending, retrying or the request headers (deliver.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "event.h"
#include "sink.h"
#include "xmalloc.h"

char *
webhook_body(const struct event *ev)
{
	return event_json(ev);
}

int
webhook_sign(const unsigned char *key, size_t keylen, const char *id, long ts,
    const char *body, size_t bodylen, char *sig, size_t sigsz)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*msg, head[128];
	int		 n;

	/* "v1," + base64 of 32 bytes (44) + NUL */
	if (sigsz < 3 + 44 + 1 || keylen > INT_MAX)
		return -1;
	n = snprintf(head, sizeof(head), "%s.%ld.", id, ts);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	msg = xmalloc((size_t)n + bodylen);
	memcpy(msg, head, (size_t)n);
	memcpy(msg + n, body, bodylen);
	if (HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)msg, (size_t)n + bodylen,
	    md, &mdlen) == NULL || mdlen != 32) {
		free(msg);
		return -1;
	}
	free(msg);
	memcpy(sig, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)sig + 3, md, (int)mdlen);
	return 0;
}
