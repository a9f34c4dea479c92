/* sink.h: how each kind of sink renders an event and signs a request.  Pure code. */
#ifndef SINK_H
#define SINK_H

#include <stddef.h>
#include <time.h>

#include "event.h"

/* Discord: the JSON body of an execute-webhook request; the caller frees it. */
char	*discord_body(const struct event *);
/* Discord's URL with wait=true added to its query; the caller frees it. */
char	*discord_url(const char *url);

/*
 * One embed and the rules Discord holds it to, apart from any event (discord_body fills one;
 * tests feed it extremes).  Texts are UTF-8; invalid bytes become U+FFFD.
 */
#define DISCORD_FIELDS_MAX	25
#define DISCORD_EMBED_MAX	6000	/* code points of all embed text together */
struct discord_field {
	const char	*name;
	const char	*value;
	int		 narrow;	/* Discord "inline": side by side with others */
};
struct discord_embed {
	const char			*title;
	const char			*description;
	const char			*footer;
	int				 color;
	time_t				 when;		/* 0: no timestamp */
	const struct discord_field	*fields;
	int				 nfields;
};
/*
 * The execute-webhook body for one embed with every limit applied, counted in code points:
 * each text cut on a code point boundary and ended with "…", fields with an empty name or value
 * left out, at most 25 fields, 6000 in all.  No mention can ping.  The caller frees it.
 */
char	*discord_render(const struct discord_embed *);
/* A copy of s cut to at most max code points, ending in "…" when cut; the caller frees it. */
char	*discord_clip(const char *s, size_t max);
/* Code points in a UTF-8 string. */
size_t	 discord_len(const char *s);

/* Webhook: the CONTRACT body (event_json) and the Standard Webhooks signature header value. */
char	*webhook_body(const struct event *);
/* "v1,<base64 HMAC-SHA256(key, id.ts.body)>" into sig[sigsz]; 0, or -1 on failure. */
int	 webhook_sign(const unsigned char *key, size_t keylen, const char *id, long ts,
	    const char *body, size_t bodylen, char *sig, size_t sigsz);

#endif
