/*
 * Field-by-field encoding of IPC payloads, and the one validation pipeline
 * every received record goes through. Never a struct memcpy: each field is
 * written and read with its own width, bounds and character class.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ipc/codec.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Makes s valid UTF-8 in place: a byte that starts no valid sequence
 * becomes '?'. */
void
utf8_sanitize(char *s)
{
	unsigned char *u = (unsigned char *)s;
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = u[i] < 0x80	  ? 1
			   : u[i] >= 0xf0 ? 4
			   : u[i] >= 0xe0 ? 3
					  : 2;

		if (n == 1 || (i + n <= len && utf8_valid(u + i, n)))
			i += n;
		else
			u[i++] = '?';
	}
}

/* Whether byte c may appear in a string of class cs (UTF-8 sequences are
 * checked apart). */
static int
byte_ok(unsigned char c, int cs)
{
	switch (cs) {
	case CS_HEX:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	case CS_TOKEN:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		       (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		       c == '-';
	case CS_ANY_UTF8:
		return !(c == 0x7f || (c < 0x20 && c != '\t' && c != '\n'));
	case CS_NAME:
		return c != '/' && c >= 0x20 && c != 0x7f;
	case CS_LINE:
	case CS_PATH:
		return c >= 0x20 && c != 0x7f;
	default:
		return 0;
	}
}

/* byte_ok() as a table, a bit per class: every string of every record
 * goes through here. */
static uint8_t byte_class[256];

static void
byte_class_init(void)
{
	for (int c = 0; c < 256; c++)
		for (int cs = CS_ANY_UTF8; cs <= CS_PATH; cs++)
			if (byte_ok((unsigned char)c, cs))
				byte_class[c] |= (uint8_t)(1u << cs);
	byte_class[0] |= 0x80; /* built (NUL is in no class) */
}

int
ipc_str_valid(const char *s, size_t len, int cs)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char hi = 0;
	uint8_t bit;

	if (cs < CS_ANY_UTF8 || cs > CS_PATH)
		return 0;
	if (!(byte_class[0] & 0x80))
		byte_class_init();
	bit = (uint8_t)(1u << cs);
	for (size_t i = 0; i < len; i++) {
		if (!(byte_class[u[i]] & bit))
			return 0;
		hi |= u[i];
	}
	/* Text classes: multi-byte sequences must be valid UTF-8. */
	if (hi >= 0x80 && cs != CS_HEX && cs != CS_TOKEN)
		return utf8_valid(u, len);
	return 1;
}

/* ---- encoding ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int overflow;
};

static void
put(struct wbuf *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
put_le(struct wbuf *w, uint64_t v, size_t width)
{
	uint8_t b[8];

	for (size_t i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, width);
}

static int
put_str(struct wbuf *w, const char *s, uint32_t min, uint32_t max, int cs,
    const char *what, char *err, size_t errlen)
{
	size_t n;

	if (s == NULL)
		s = "";
	n = strlen(s);
	if (n < min || n > max)
		return fail(err, errlen, "%s: length %zu not in [%u, %u]", what,
		    n, min, max);
	if (!ipc_str_valid(s, n, cs))
		return fail(err, errlen, "%s: invalid characters", what);
	put_le(w, n, 2);
	put(w, s, n);
	return 0;
}

static uint64_t
get_int(const void *msg, const struct ipc_field *f)
{
	const uint8_t *p = (const uint8_t *)msg + f->off;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (f->type) {
	case FT_U8:
	case FT_BOOL:
		return *p;
	case FT_U16:
		memcpy(&v16, p, sizeof(v16));
		return v16;
	case FT_U32:
		memcpy(&v32, p, sizeof(v32));
		return v32;
	default:
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
}

static int
int_width(int type)
{
	switch (type) {
	case FT_U8:
	case FT_BOOL:
		return 1;
	case FT_U16:
		return 2;
	case FT_U32:
		return 4;
	default:
		return 8;
	}
}

static int
encode_list(struct wbuf *w, const void *msg, const struct ipc_field *f,
    char *err, size_t errlen)
{
	uint32_t n, total = 0;
	void *list;

	memcpy(&n, (const uint8_t *)msg + f->count_off, sizeof(n));
	memcpy(&list, (const uint8_t *)msg + f->off, sizeof(list));
	if (n > f->max)
		return fail(err, errlen, "%s: %u entries, at most %u", f->name,
		    n, f->max);
	put_le(w, n, 2);
	for (uint32_t i = 0; i < n; i++) {
		if (f->type == FT_STRLIST) {
			const char *s = ((char **)list)[i];

			if (put_str(w, s, 0, f->max_value, f->cs, f->name, err,
				errlen) == -1)
				return -1;
			total += (uint32_t)strlen(s ? s : "");
			continue;
		}
		const struct ipc_kv *kv = &((struct ipc_kv *)list)[i];

		if (put_str(w, kv->key, 1, f->max_key, f->cs, f->name, err,
			errlen) == -1 ||
		    put_str(w, kv->value, 0, f->max_value, f->cs_value, f->name,
			err, errlen) == -1)
			return -1;
		total += (uint32_t)(strlen(kv->key) +
				    strlen(kv->value ? kv->value : ""));
	}
	if (f->max_total && total > f->max_total)
		return fail(err, errlen, "%s: %u bytes in all, at most %u",
		    f->name, total, f->max_total);
	return 0;
}

static int
encode_field(struct wbuf *w, const void *msg, const struct ipc_field *f,
    char *err, size_t errlen)
{
	const char *s;
	uint64_t v;

	switch (f->type) {
	case FT_STR:
		memcpy(&s, (const uint8_t *)msg + f->off, sizeof(s));
		return put_str(
		    w, s, f->min, f->max, f->cs, f->name, err, errlen);
	case FT_STRLIST:
	case FT_KVLIST:
		return encode_list(w, msg, f, err, errlen);
	default:
		v = get_int(msg, f);
		if (f->type != FT_U64 && f->type != FT_I64 &&
		    (v < f->min || v > f->max))
			return fail(err, errlen, "%s: %llu not in [%u, %u]",
			    f->name, (unsigned long long)v, f->min, f->max);
		put_le(w, v, (size_t)int_width(f->type));
		return 0;
	}
}

ssize_t
ipc_encode(uint16_t type, uint64_t id, int with_fd, const void *msg,
    uint8_t *buf, size_t bufsz, char *err, size_t errlen)
{
	const struct ipc_msgdef *d = ipc_msgdef(type);
	struct wbuf w = {.p = buf, .cap = bufsz};
	uint32_t plen;

	if (d == NULL)
		return fail(err, errlen, "unknown message type %u", type);
	if ((d->fd != FD_NONE) != (with_fd != 0))
		return fail(err, errlen, "%s: fd %s", d->name,
		    with_fd ? "not allowed" : "required");
	w.len = IPC_HDR_LEN;
	if (bufsz < IPC_HDR_LEN)
		w.overflow = 1;
	for (size_t i = 0; i < d->nfields; i++)
		if (encode_field(&w, msg, &d->fields[i], err, errlen) == -1)
			return -1;
	if (w.overflow || w.len - IPC_HDR_LEN > d->maxlen)
		return fail(err, errlen, "%s: record too large", d->name);
	plen = (uint32_t)(w.len - IPC_HDR_LEN);
	w.len = 0;
	put_le(&w, type, 2);
	put_le(&w, IPC_VERSION, 1);
	put_le(&w, with_fd ? IPC_FLAG_FD : 0, 1);
	put_le(&w, plen, 4);
	put_le(&w, id, 8);
	return (ssize_t)(IPC_HDR_LEN + plen);
}

/* ---- decoding ---- */

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
};

static int
take(struct rbuf *r, size_t n, const uint8_t **out)
{
	if (n > r->len - r->pos)
		return -1;
	*out = r->p + r->pos;
	r->pos += n;
	return 0;
}

static int
take_le(struct rbuf *r, size_t width, uint64_t *v)
{
	const uint8_t *b;

	if (take(r, width, &b) == -1)
		return -1;
	*v = 0;
	for (size_t i = 0; i < width; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return 0;
}

static void *
arena_alloc(struct ipc_arena *a, size_t n)
{
	size_t at = (a->used + 7) & ~(size_t)7;

	if (at > a->size || n > a->size - at)
		return NULL;
	a->used = at + n;
	return a->base + at;
}

static int
take_str(struct rbuf *r, struct ipc_arena *a, uint32_t min, uint32_t max,
    int cs, const char *what, char **out, char *err, size_t errlen)
{
	const uint8_t *b;
	uint64_t n;
	char *s;

	if (take_le(r, 2, &n) == -1 || take(r, (size_t)n, &b) == -1)
		return fail(err, errlen, "%s: truncated", what);
	if (n < min || n > max)
		return fail(err, errlen, "%s: length %llu not in [%u, %u]",
		    what, (unsigned long long)n, min, max);
	if (!ipc_str_valid((const char *)b, (size_t)n, cs))
		return fail(err, errlen, "%s: invalid characters", what);
	if ((s = arena_alloc(a, (size_t)n + 1)) == NULL)
		return fail(err, errlen, "%s: arena exhausted", what);
	memcpy(s, b, (size_t)n);
	s[n] = '\0';
	*out = s;
	return 0;
}

static int
decode_list(struct rbuf *r, struct ipc_arena *a, void *msg,
    const struct ipc_field *f, char *err, size_t errlen)
{
	uint64_t n, total = 0;
	size_t esz =
	    f->type == FT_STRLIST ? sizeof(char *) : sizeof(struct ipc_kv);
	uint32_t n32;
	void *list;

	if (take_le(r, 2, &n) == -1)
		return fail(err, errlen, "%s: truncated", f->name);
	if (n > f->max)
		return fail(err, errlen, "%s: %llu entries, at most %u",
		    f->name, (unsigned long long)n, f->max);
	if ((list = arena_alloc(a, esz * (size_t)(n ? n : 1))) == NULL)
		return fail(err, errlen, "%s: arena exhausted", f->name);
	for (uint64_t i = 0; i < n; i++) {
		if (f->type == FT_STRLIST) {
			char **sp = &((char **)list)[i];

			if (take_str(r, a, 0, f->max_value, f->cs, f->name, sp,
				err, errlen) == -1)
				return -1;
			total += strlen(*sp);
			continue;
		}
		struct ipc_kv *kv = &((struct ipc_kv *)list)[i];

		if (take_str(r, a, 1, f->max_key, f->cs, f->name, &kv->key, err,
			errlen) == -1 ||
		    take_str(r, a, 0, f->max_value, f->cs_value, f->name,
			&kv->value, err, errlen) == -1)
			return -1;
		total += strlen(kv->key) + strlen(kv->value);
	}
	if (f->max_total && total > f->max_total)
		return fail(err, errlen, "%s: %llu bytes in all, at most %u",
		    f->name, (unsigned long long)total, f->max_total);
	n32 = (uint32_t)n;
	memcpy((uint8_t *)msg + f->count_off, &n32, sizeof(n32));
	memcpy((uint8_t *)msg + f->off, &list, sizeof(list));
	return 0;
}

static int
decode_field(struct rbuf *r, struct ipc_arena *a, void *msg,
    const struct ipc_field *f, char *err, size_t errlen)
{
	uint8_t *dst = (uint8_t *)msg + f->off;
	uint64_t v;
	char *s;

	switch (f->type) {
	case FT_STR:
		if (take_str(r, a, f->min, f->max, f->cs, f->name, &s, err,
			errlen) == -1)
			return -1;
		memcpy(dst, &s, sizeof(s));
		return 0;
	case FT_STRLIST:
	case FT_KVLIST:
		return decode_list(r, a, msg, f, err, errlen);
	default:
		if (take_le(r, (size_t)int_width(f->type), &v) == -1)
			return fail(err, errlen, "%s: truncated", f->name);
		if (f->type != FT_U64 && f->type != FT_I64 &&
		    (v < f->min || v > f->max))
			return fail(err, errlen, "%s: %llu not in [%u, %u]",
			    f->name, (unsigned long long)v, f->min, f->max);
		if (f->type == FT_U8 || f->type == FT_BOOL) {
			*dst = (uint8_t)v;
		} else if (f->type == FT_U16) {
			uint16_t v16 = (uint16_t)v;
			memcpy(dst, &v16, sizeof(v16));
		} else if (f->type == FT_U32) {
			uint32_t v32 = (uint32_t)v;
			memcpy(dst, &v32, sizeof(v32));
		} else
			memcpy(dst, &v, sizeof(v));
		return 0;
	}
}

/* The fd must be what the table says: checked with fstat and F_GETFL. */
static int
check_fd(int policy, int fd, char *err, size_t errlen)
{
	struct stat st;
	int fl, acc = 0;
	socklen_t len = sizeof(acc);

	if (fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return fail(err, errlen, "fd: %s", strerror(errno));
	switch (policy) {
	case FD_PIPE_RD:
		if (!S_ISFIFO(st.st_mode) || (fl & O_ACCMODE) != O_RDONLY)
			return fail(err, errlen, "fd: not a pipe read end");
		return 0;
	case FD_PIPE_WR:
		if (!S_ISFIFO(st.st_mode) || (fl & O_ACCMODE) != O_WRONLY)
			return fail(err, errlen, "fd: not a pipe write end");
		return 0;
	case FD_FILE_RD:
		if (!S_ISREG(st.st_mode) || (fl & O_ACCMODE) != O_RDONLY)
			return fail(
			    err, errlen, "fd: not a read-only regular file");
		return 0;
	case FD_SOCKET:
		if (!S_ISSOCK(st.st_mode) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) ==
			-1 ||
		    !acc)
			return fail(err, errlen, "fd: not a listening socket");
		return 0;
	default:
		return fail(err, errlen, "fd: not allowed");
	}
}

static const char *
state_name(int state)
{
	switch (state) {
	case CH_NEW:
		return "before READY";
	case CH_FINAL:
		return "after the unpacker's verdict";
	case CH_META:
		return "after the unpacker's metadata";
	default:
		return "now";
	}
}

int
ipc_route_check(const struct ipc_msgdef *d, int sender, int receiver, int state,
    char *err, size_t errlen)
{
	if (!(d->senders & sender))
		return fail(err, errlen, "%s may not be sent by the %s",
		    d->name, ipc_procname(sender));
	if (!(d->receivers & receiver))
		return fail(err, errlen, "%s is not for the %s", d->name,
		    ipc_procname(receiver));
	if (!(d->states & state))
		return fail(err, errlen, "%s is not allowed %s", d->name,
		    state_name(state));
	return 0;
}

int
ipc_decode_hdr(const uint8_t *rec, size_t len, struct ipc_hdr *hdr, char *err,
    size_t errlen)
{
	struct rbuf r = {.p = rec, .len = len};
	uint64_t v;

	if (len < IPC_HDR_LEN)
		return fail(err, errlen, "short record (%zu bytes)", len);
	take_le(&r, 2, &v);
	hdr->type = (uint16_t)v;
	take_le(&r, 1, &v);
	hdr->version = (uint8_t)v;
	take_le(&r, 1, &v);
	hdr->flags = (uint8_t)v;
	take_le(&r, 4, &v);
	hdr->len = (uint32_t)v;
	take_le(&r, 8, &hdr->id);
	if (hdr->version != IPC_VERSION)
		return fail(err, errlen, "bad version %u", hdr->version);
	if (hdr->flags & ~IPC_FLAGS_KNOWN)
		return fail(err, errlen, "bad flags 0x%x", hdr->flags);
	if (hdr->len != len - IPC_HDR_LEN)
		return fail(err, errlen, "length %u, record has %zu", hdr->len,
		    len - IPC_HDR_LEN);
	return 0;
}

int
ipc_decode(int sender, int receiver, int state, const uint8_t *rec, size_t len,
    int fd, struct ipc_hdr *hdr, void *msg, struct ipc_arena *arena, char *err,
    size_t errlen)
{
	const struct ipc_msgdef *d;
	struct rbuf r;

	if (ipc_decode_hdr(rec, len, hdr, err, errlen) == -1)
		return -1;
	r = (struct rbuf){.p = rec + IPC_HDR_LEN, .len = len - IPC_HDR_LEN};
	if ((d = ipc_msgdef(hdr->type)) == NULL)
		return fail(err, errlen, "unknown type %u", hdr->type);
	if (ipc_route_check(d, sender, receiver, state, err, errlen) == -1)
		return -1;
	if (d->fd == FD_NONE && (fd != -1 || (hdr->flags & IPC_FLAG_FD)))
		return fail(err, errlen, "%s: unexpected fd", d->name);
	if (d->fd != FD_NONE && (fd == -1 || !(hdr->flags & IPC_FLAG_FD)))
		return fail(err, errlen, "%s: fd missing", d->name);
	if (d->fd != FD_NONE && check_fd(d->fd, fd, err, errlen) == -1)
		return -1;
	if (hdr->len < d->minlen || hdr->len > d->maxlen)
		return fail(err, errlen, "%s: payload %u not in [%u, %u]",
		    d->name, hdr->len, d->minlen, d->maxlen);
	memset(msg, 0, d->structsz);
	arena->used = 0;
	for (size_t i = 0; i < d->nfields; i++)
		if (decode_field(&r, arena, msg, &d->fields[i], err, errlen) ==
		    -1)
			return -1;
	if (r.pos != r.len)
		return fail(err, errlen, "%s: %zu trailing bytes", d->name,
		    r.len - r.pos);
	return 0;
}
