/*
 * IPC codec and channel tests, driven by the message table: every type
 * round-trips (at its smallest and its largest), and every type rejects a
 * record cut at every offset, one unit over or under each field's bounds,
 * a trailing byte, bad version/flags, a wrong sender, a missing, unexpected
 * or wrong-kind fd -- without leaking an fd.
 *
 *	test_ipc [--corpus DIR]	(writes the encodings as fuzz seeds)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/cause.h"
#include "ipc/chan.h"
#include "ipc/codec.h"
#include "tests/t.h"

static const int kinds[] = {
    PROC_STORE, PROC_FRONTEND, PROC_FETCHER, PROC_UNPACKER};

/* ---- samples: a valid payload struct for any type, from its fields ---- */

struct sample {
	uint8_t msg[sizeof(union imsg_any)];
	char *strs[4096];
	size_t nstrs;
};

static char *
sample_str(struct sample *s, size_t len, int cs, unsigned seed)
{
	static const char *alpha[] = {
	    [CS_ANY_UTF8] = "ab\tc\nd\xc3\xa9",
	    [CS_LINE] = "line \xc3\xa9x",
	    [CS_HEX] = "0123456789abcdef",
	    [CS_TOKEN] = "az.09_-AZ",
	    [CS_NAME] = "name \xc3\xa9x",
	    [CS_PATH] = "/pa/th\xc3\xa9x",
	};
	const char *a = alpha[cs];
	size_t alen = strlen(a);
	char *p = malloc(len + 1);

	/* Repeat the alphabet but never split a multibyte character. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)a[(i + seed) % alen];

		if (c >= 0x80 || len - i < 2)
			c = cs == CS_HEX ? 'a' : 'x';
		p[i] = (char)c;
	}
	if (len >= 2 && cs != CS_HEX && cs != CS_TOKEN) {
		/* One real two-byte character, when it fits. */
		p[0] = '\xc3';
		p[1] = '\xa9';
	}
	p[len] = '\0';
	s->strs[s->nstrs++] = p;
	return p;
}

static void
sample_free(struct sample *s)
{
	for (size_t i = 0; i < s->nstrs; i++)
		free(s->strs[i]);
	s->nstrs = 0;
}

static void
set_int(void *msg, const struct ipc_field *f, uint64_t v)
{
	uint8_t *p = (uint8_t *)msg + f->off;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (f->type) {
	case FT_U8:
	case FT_BOOL:
		*p = (uint8_t)v;
		break;
	case FT_U16:
		memcpy(p, &v16, 2);
		break;
	case FT_U32:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
	}
}

/* big = 0: every field at its minimum; 1: every field at its maximum. */
static void
sample_make(struct sample *s, const struct ipc_msgdef *d, int big)
{
	memset(s->msg, 0, sizeof(s->msg));
	for (size_t i = 0; i < d->nfields; i++) {
		const struct ipc_field *f = &d->fields[i];
		uint8_t *dst = s->msg + f->off;

		if (f->type == FT_STR) {
			char *v = sample_str(
			    s, big ? f->max : f->min, f->cs, (unsigned)i);
			memcpy(dst, &v, sizeof(v));
		} else if (f->type == FT_STRLIST || f->type == FT_KVLIST) {
			uint32_t n = big ? f->max : 0;
			size_t budget = f->max_total && n ? f->max_total / n
							  : f->max_value * 2u;
			void *list;

			if (f->type == FT_STRLIST) {
				char **l = calloc(n + 1, sizeof(*l));
				for (uint32_t k = 0; k < n; k++)
					l[k] = sample_str(
					    s, f->max_value, f->cs, k);
				list = l;
			} else {
				struct ipc_kv *l = calloc(n + 1, sizeof(*l));
				size_t kl = budget / 2 < f->max_key
						? budget / 2
						: f->max_key;
				size_t vl = budget - kl < f->max_value
						? budget - kl
						: f->max_value;
				if (kl == 0)
					kl = 1;
				for (uint32_t k = 0; k < n; k++) {
					l[k].key = sample_str(s, kl, f->cs, k);
					l[k].value =
					    sample_str(s, vl, f->cs_value, k);
				}
				list = l;
			}
			s->strs[s->nstrs++] = list;
			memcpy(dst, &list, sizeof(list));
			memcpy(s->msg + f->count_off, &n, sizeof(n));
		} else if (f->type == FT_U64 || f->type == FT_I64) {
			set_int(s->msg, f, big ? UINT64_MAX : 0);
		} else {
			set_int(s->msg, f, big ? f->max : f->min);
		}
	}
}

/* Field-by-field equality of two payload structs. */
static int
sample_equal(const struct ipc_msgdef *d, const void *a, const void *b)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const struct ipc_field *f = &d->fields[i];
		const uint8_t *pa = (const uint8_t *)a + f->off;
		const uint8_t *pb = (const uint8_t *)b + f->off;
		char *sa, *sb;
		uint32_t na, nb;

		if (f->type == FT_STR) {
			memcpy(&sa, pa, sizeof(sa));
			memcpy(&sb, pb, sizeof(sb));
			if (strcmp(sa, sb) != 0)
				return 0;
		} else if (f->type == FT_STRLIST || f->type == FT_KVLIST) {
			void *la, *lb;

			memcpy(&na, (const uint8_t *)a + f->count_off, 4);
			memcpy(&nb, (const uint8_t *)b + f->count_off, 4);
			memcpy(&la, pa, sizeof(la));
			memcpy(&lb, pb, sizeof(lb));
			if (na != nb)
				return 0;
			for (uint32_t k = 0; k < na; k++) {
				if (f->type == FT_STRLIST) {
					if (strcmp(((char **)la)[k],
						((char **)lb)[k]) != 0)
						return 0;
				} else {
					struct ipc_kv *ka = la, *kb = lb;
					if (strcmp(ka[k].key, kb[k].key) ||
					    strcmp(ka[k].value, kb[k].value))
						return 0;
				}
			}
		} else if (memcmp(pa, pb,
			       (size_t)(f->type == FT_U8 || f->type == FT_BOOL
					    ? 1
					: f->type == FT_U16 ? 2
					: f->type == FT_U32 ? 4
							    : 8)) != 0)
			return 0;
	}
	return 1;
}

/* ---- an independent raw writer, to build records the encoder refuses ---- */

enum mut {
	M_NONE,
	M_LEN_OVER,
	M_LEN_UNDER,
	M_INT_OVER,
	M_INT_UNDER,
	M_COUNT_OVER,
	M_BAD_CHAR
};

struct raw {
	uint8_t b[LIM_IPC_RECORD_MAX * 2];
	size_t len;
};

static void
raw_le(struct raw *r, uint64_t v, size_t w)
{
	for (size_t i = 0; i < w; i++)
		r->b[r->len++] = (uint8_t)(v >> (8 * i));
}

static void
raw_str(struct raw *r, const char *s, size_t len)
{
	raw_le(r, len, 2);
	memcpy(r->b + r->len, s, len);
	r->len += len;
}

static int
int_w(int t)
{
	return t == FT_U8 || t == FT_BOOL ? 1
	       : t == FT_U16		  ? 2
	       : t == FT_U32		  ? 4
					  : 8;
}

/* A character outside the class, for M_BAD_CHAR. */
static char
bad_char(int cs)
{
	switch (cs) {
	case CS_HEX:
		return 'A';
	case CS_TOKEN:
		return ' ';
	case CS_NAME:
		return '/';
	default:
		return '\001';
	}
}

#define RAW_ID 0x1122334455667788ULL /* the request id of raw records */

/*
 * Serializes sample s of type d with mutation m applied to field fi (the
 * first element, for lists). Returns 0 when the mutation does not apply
 * (e.g. "under" a minimum of 0).
 */
static int
raw_encode(struct raw *r, const struct ipc_msgdef *d, const void *msg,
    size_t fi, int m)
{
	char big[70000];

	r->len = 0;
	raw_le(r, d->type, 2);
	raw_le(r, IPC_VERSION, 1);
	raw_le(r, d->fd != FD_NONE ? IPC_FLAG_FD : 0, 1);
	raw_le(r, 0, 4);
	raw_le(r, RAW_ID, 8);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct ipc_field *f = &d->fields[i];
		const uint8_t *p = (const uint8_t *)msg + f->off;
		int mm = i == fi ? m : M_NONE;

		if (f->type == FT_STR) {
			char *s;
			size_t n;

			memcpy(&s, p, sizeof(s));
			n = strlen(s);
			memcpy(big, s, n);
			if (mm == M_LEN_OVER) {
				n = f->max + 1;
				memset(big, f->cs == CS_HEX ? 'a' : 'x', n);
			} else if (mm == M_LEN_UNDER) {
				if (f->min == 0)
					return 0;
				n = f->min - 1;
				memset(big, f->cs == CS_HEX ? 'a' : 'x', n);
			} else if (mm == M_BAD_CHAR) {
				if (n == 0) {
					n = f->min ? f->min : 1;
					if (n > f->max)
						return 0;
					memset(big, 'a', n);
				}
				big[0] = bad_char(f->cs);
			} else if (mm != M_NONE)
				return 0;
			raw_str(r, big, n);
		} else if (f->type == FT_STRLIST || f->type == FT_KVLIST) {
			uint32_t n;
			void *list;

			memcpy(&n, (const uint8_t *)msg + f->count_off, 4);
			memcpy(&list, p, sizeof(list));
			if (mm == M_COUNT_OVER) {
				raw_le(r, f->max + 1u, 2);
				for (uint32_t k = 0; k <= f->max; k++) {
					raw_str(r, "k", 1);
					if (f->type == FT_KVLIST)
						raw_str(r, "", 0);
				}
				continue;
			}
			if (mm == M_LEN_OVER) {
				/* One element one byte too long. */
				size_t ml = f->type == FT_KVLIST ? f->max_key
								 : f->max_value;
				raw_le(r, 1, 2);
				memset(big, 'a', ml + 1);
				raw_str(r, big, ml + 1);
				if (f->type == FT_KVLIST)
					raw_str(r, "", 0);
				continue;
			}
			if (mm == M_BAD_CHAR) {
				raw_le(r, 1, 2);
				big[0] = bad_char(f->cs);
				raw_str(r, big, 1);
				if (f->type == FT_KVLIST)
					raw_str(r, "", 0);
				continue;
			}
			if (mm != M_NONE)
				return 0;
			raw_le(r, n, 2);
			for (uint32_t k = 0; k < n; k++) {
				if (f->type == FT_STRLIST) {
					char *s = ((char **)list)[k];
					raw_str(r, s, strlen(s));
				} else {
					struct ipc_kv *kv = list;
					raw_str(
					    r, kv[k].key, strlen(kv[k].key));
					raw_str(r, kv[k].value,
					    strlen(kv[k].value));
				}
			}
		} else {
			uint64_t v = 0;

			memcpy(&v, p, (size_t)int_w(f->type));
			if (f->type == FT_U64 || f->type == FT_I64) {
				if (mm != M_NONE)
					return 0;
			} else if (mm == M_INT_OVER) {
				uint64_t lim = int_w(f->type) == 4 ? UINT32_MAX
					       : int_w(f->type) == 2
						   ? UINT16_MAX
						   : UINT8_MAX;
				if (f->max >= lim)
					return 0;
				v = (uint64_t)f->max + 1;
			} else if (mm == M_INT_UNDER) {
				if (f->min == 0)
					return 0;
				v = f->min - 1;
			} else if (mm != M_NONE)
				return 0;
			raw_le(r, v, (size_t)int_w(f->type));
		}
	}
	uint32_t plen = (uint32_t)(r->len - IPC_HDR_LEN);
	for (int i = 0; i < 4; i++)
		r->b[4 + i] = (uint8_t)(plen >> (8 * i));
	return 1;
}

/* A valid fd of the kind a type requires (caller closes), or -1. */
static int
fd_for(int policy)
{
	int p[2], s[2];

	switch (policy) {
	case FD_PIPE_RD:
		if (pipe(p) == -1)
			return -1;
		close(p[1]);
		return p[0];
	case FD_PIPE_WR:
		if (pipe(p) == -1)
			return -1;
		close(p[0]);
		return p[1];
	case FD_FILE_RD:
		return open("/proc/self/exe", O_RDONLY);
	case FD_SOCKET:
		s[0] = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		/* Abstract name: nothing in the file system. */
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		    "imgd-test-%d", getpid());
		if (bind(s[0], (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
		    listen(s[0], 1) == -1) {
			close(s[0]);
			return -1;
		}
		return s[0];
	default:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) == -1)
			return -1;
		close(s[1]);
		return s[0];
	}
}

/* The first process kind in a mask of PROC_* bits. */
static int
kind_in(unsigned mask)
{
	for (size_t i = 0; i < 4; i++)
		if (mask & (unsigned)kinds[i])
			return kinds[i];
	return 0;
}

static int
sender_of(const struct ipc_msgdef *d)
{
	return kind_in(d->senders);
}

static int
receiver_of(const struct ipc_msgdef *d)
{
	return kind_in(d->receivers);
}

/* A channel state the type is allowed in. */
static int
state_of(const struct ipc_msgdef *d)
{
	return d->states & CH_READY  ? CH_READY
	       : d->states & CH_META ? CH_META
	       : d->states & CH_NEW  ? CH_NEW
				     : CH_FINAL;
}

static int
count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while ((de = readdir(dir)) != NULL)
		n++;
	closedir(dir);
	return n;
}

static struct ipc_arena arena;
static uint8_t rec[LIM_IPC_RECORD_MAX];

static int
decode_ok(const struct ipc_msgdef *d, const uint8_t *b, size_t len, int fd,
    void *out, char *err)
{
	struct ipc_hdr h;

	return ipc_decode(sender_of(d), receiver_of(d), state_of(d), b, len, fd,
		   &h, out, &arena, err, 256) == 0;
}

T_TEST(roundtrip_every_type)
{
	static struct sample s;
	union imsg_any out;
	struct ipc_hdr h;
	char err[256];

	for (uint16_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		const struct ipc_msgdef *d = ipc_msgdef(t);

		T_CHECK(d != NULL);
		for (int big = 0; big <= 1; big++) {
			int fd = d->fd != FD_NONE ? fd_for(d->fd) : -1;
			ssize_t n;

			sample_make(&s, d, big);
			n = ipc_encode(t, 42, fd != -1, s.msg, rec, sizeof(rec),
			    err, sizeof(err));
			if (n < 0) {
				T_FAIL(
				    "%s big=%d: encode: %s", d->name, big, err);
			} else if (ipc_decode(sender_of(d), receiver_of(d),
				       state_of(d), rec, (size_t)n, fd, &h,
				       &out, &arena, err, sizeof(err)) != 0) {
				T_FAIL(
				    "%s big=%d: decode: %s", d->name, big, err);
			} else {
				T_EQ_INT(h.type, t);
				T_EQ_INT(h.id, 42);
				T_EXPECT(sample_equal(d, s.msg, &out),
				    "%s big=%d: fields differ", d->name, big);
				/* The independent writer agrees. */
				static struct raw r;
				raw_encode(&r, d, s.msg, (size_t)-1, M_NONE);
				for (int i = 0; i < 8; i++)
					r.b[8 + i] = rec[8 + i];
				T_CHECK(r.len == (size_t)n &&
					memcmp(r.b, rec, r.len) == 0);
			}
			if (fd != -1)
				close(fd);
			sample_free(&s);
		}
	}
}

T_TEST(encoder_refuses_out_of_bounds)
{
	static struct sample s;
	char err[256];

	for (uint16_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		const struct ipc_msgdef *d = ipc_msgdef(t);

		for (size_t i = 0; i < d->nfields; i++) {
			const struct ipc_field *f = &d->fields[i];

			if (f->type != FT_STR)
				continue;
			sample_make(&s, d, 0);
			char *v = sample_str(&s, f->max + 1, f->cs, 0);
			memcpy(s.msg + f->off, &v, sizeof(v));
			T_EXPECT(
			    !(ipc_encode(t, 1, d->fd != FD_NONE, s.msg, rec,
				  sizeof(rec), err, sizeof(err)) != -1),
			    "%s.%s: over-long string encoded", d->name,
			    f->name);
			sample_free(&s);
		}
		/* fd policy is checked by the encoder too. */
		sample_make(&s, d, 0);
		T_CHECK(ipc_encode(t, 1, d->fd == FD_NONE, s.msg, rec,
			    sizeof(rec), err, sizeof(err)) == -1);
		sample_free(&s);
	}
}

T_TEST(decoder_rejects_cuts_and_trailing)
{
	static struct sample s;
	static struct raw r;
	union imsg_any out;
	char err[256];

	for (uint16_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		const struct ipc_msgdef *d = ipc_msgdef(t);
		int fd = d->fd != FD_NONE ? fd_for(d->fd) : -1;

		sample_make(&s, d, 1);
		raw_encode(&r, d, s.msg, (size_t)-1, M_NONE);
		T_CHECK(decode_ok(d, r.b, r.len, fd, &out, err));
		for (size_t cut = 0; cut < r.len; cut++) {
			/* As received (header says more than there is)... */
			T_EXPECT(!(decode_ok(d, r.b, cut, fd, &out, err)),
			    "%s: cut at %zu accepted", d->name, cut);
			if (cut < IPC_HDR_LEN)
				continue;
			/* ... and with a header that agrees with the cut. */
			uint8_t save[4];
			memcpy(save, r.b + 4, 4);
			uint32_t pl = (uint32_t)(cut - IPC_HDR_LEN);
			for (int i = 0; i < 4; i++)
				r.b[4 + i] = (uint8_t)(pl >> (8 * i));
			T_EXPECT(!(decode_ok(d, r.b, cut, fd, &out, err)),
			    "%s: payload cut at %zu accepted", d->name, cut);
			memcpy(r.b + 4, save, 4);
		}
		/* One trailing byte. */
		uint32_t pl = (uint32_t)(r.len + 1 - IPC_HDR_LEN);
		r.b[r.len] = 0;
		for (int i = 0; i < 4; i++)
			r.b[4 + i] = (uint8_t)(pl >> (8 * i));
		int took = decode_ok(d, r.b, r.len + 1, fd, &out, err);
		T_EXPECT(!took, "%s: trailing byte accepted", d->name);
		if (!took && pl <= d->maxlen)
			T_CONTAINS(err, "trailing");
		if (fd != -1)
			close(fd);
		sample_free(&s);
	}
}

T_TEST(decoder_rejects_field_bounds)
{
	static struct sample s;
	static struct raw r;
	static const char *mname[] = {
	    "none", "len+1", "len-1", "int+1", "int-1", "count+1", "bad char"};
	union imsg_any out;
	char err[256];
	int tried = 0;

	for (uint16_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		const struct ipc_msgdef *d = ipc_msgdef(t);
		int fd = d->fd != FD_NONE ? fd_for(d->fd) : -1;

		sample_make(&s, d, 0);
		for (size_t i = 0; i < d->nfields; i++) {
			for (int m = M_LEN_OVER; m <= M_BAD_CHAR; m++) {
				if (!raw_encode(&r, d, s.msg, i, m))
					continue;
				tried++;
				if (decode_ok(d, r.b, r.len, fd, &out, err)) {
					T_FAIL("%s.%s %s: accepted", d->name,
					    d->fields[i].name, mname[m]);
					continue;
				}
				/* Either the field or the size bound says no.
				 */
				T_EXPECT(
				    !(strstr(err, d->fields[i].name) == NULL &&
					strstr(err, "payload") == NULL),
				    "%s.%s %s: \"%s\"", d->name,
				    d->fields[i].name, mname[m], err);
			}
		}
		if (fd != -1)
			close(fd);
		sample_free(&s);
	}
	T_CHECK(tried > 100);
}

T_TEST(decoder_rejects_header_sender_fd)
{
	static struct sample s;
	static struct raw r;
	union imsg_any out;
	struct ipc_hdr h;
	char err[256];

	for (uint16_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		const struct ipc_msgdef *d = ipc_msgdef(t);
		int fd = d->fd != FD_NONE ? fd_for(d->fd) : -1;

		sample_make(&s, d, 0);
		raw_encode(&r, d, s.msg, (size_t)-1, M_NONE);
		for (int v = 0; v <= 255; v += 255) {
			r.b[2] = (uint8_t)(v == 0 ? 0 : IPC_VERSION + 1);
			T_CHECK(!decode_ok(d, r.b, r.len, fd, &out, err));
			T_CONTAINS(err, "version");
		}
		r.b[2] = IPC_VERSION;
		for (int bit = 1; bit < 8; bit++) {
			r.b[3] ^= (uint8_t)(1 << bit);
			T_CHECK(!decode_ok(d, r.b, r.len, fd, &out, err));
			T_CONTAINS(err, "flags");
			r.b[3] ^= (uint8_t)(1 << bit);
		}
		for (size_t k = 0; k < 4; k++) {
			if (d->senders & kinds[k])
				continue;
			T_CHECK(ipc_decode(kinds[k], receiver_of(d),
				    state_of(d), r.b, r.len, fd, &h, &out,
				    &arena, err, sizeof(err)) == -1);
			T_CONTAINS(err, "may not be sent");
		}
		/* The receiver and state columns, in the same pipeline. */
		for (size_t k = 0; k < 4; k++) {
			if (d->receivers & kinds[k])
				continue;
			T_CHECK(ipc_decode(sender_of(d), kinds[k], state_of(d),
				    r.b, r.len, fd, &h, &out, &arena, err,
				    sizeof(err)) == -1);
			T_CONTAINS(err, "is not for the");
		}
		for (int st = CH_NEW; st <= CH_FINAL; st <<= 1) {
			if (d->states & st)
				continue;
			T_CHECK(ipc_decode(sender_of(d), receiver_of(d), st,
				    r.b, r.len, fd, &h, &out, &arena, err,
				    sizeof(err)) == -1);
			T_CONTAINS(err, "is not allowed");
		}
		if (d->fd == FD_NONE) {
			int extra = fd_for(FD_PIPE_RD);
			T_CHECK(!decode_ok(d, r.b, r.len, extra, &out, err));
			T_CONTAINS(err, "unexpected fd");
			close(extra);
		} else {
			T_CHECK(!decode_ok(d, r.b, r.len, -1, &out, err));
			T_CONTAINS(err, "fd missing");
			/* Every other kind of fd is refused. */
			int wrong[] = {FD_PIPE_RD, FD_PIPE_WR, FD_FILE_RD,
			    FD_SOCKET, FD_NONE};
			for (size_t k = 0; k < 5; k++) {
				if (wrong[k] == d->fd)
					continue;
				int w = fd_for(wrong[k]);
				T_CHECK(
				    !decode_ok(d, r.b, r.len, w, &out, err));
				close(w);
			}
			if (d->fd == FD_PIPE_RD) { /* write end refused */
				int p[2];
				if (pipe(p) == 0) {
					T_CHECK(!decode_ok(
					    d, r.b, r.len, p[1], &out, err));
					close(p[0]);
					close(p[1]);
				}
			}
			if (d->fd == FD_FILE_RD) { /* writable refused */
				int w = open("/dev/null", O_RDWR);
				T_CHECK(
				    !decode_ok(d, r.b, r.len, w, &out, err));
				close(w);
			}
		}
		/* Unknown types. */
		r.b[0] = IMSG_TYPE_COUNT;
		r.b[1] = 0;
		T_CHECK(!decode_ok(d, r.b, r.len, fd, &out, err));
		r.b[0] = 0;
		T_CHECK(!decode_ok(d, r.b, r.len, fd, &out, err));
		if (fd != -1)
			close(fd);
		sample_free(&s);
	}
}

/* Over a real socketpair: bad records are dropped and their fds closed. */
/* One datagram of n bytes at p on sock, with nfds fds (0 to 2) in one
 * SCM_RIGHTS message; sendmsg's result. */
static ssize_t
send_fds(int sock, const void *p, size_t n, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = {(void *)p, n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, 0);
}

T_TEST(channel_closes_fds_of_bad_records)
{
	static struct sample s;
	struct ipc_chan store, child;
	struct ipc_msg m;
	int sp[2], before;

	before = count_fds();
	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	T_CHECK(ipc_chan_init(&store, sp[0], PROC_STORE, PROC_FRONTEND) == 0);
	T_CHECK(ipc_chan_init(&child, sp[1], PROC_FRONTEND, PROC_STORE) == 0);
	store.state = child.state = CH_READY; /* past the handshake */

	/* A good record with a pipe fd arrives with its fd. */
	const struct ipc_msgdef *d = ipc_msgdef(IMSG_UPLOAD_BEGIN);
	sample_make(&s, d, 0);
	T_CHECK(ipc_send(&child, IMSG_UPLOAD_BEGIN, 7, s.msg,
		    fd_for(FD_PIPE_RD)) == 0);
	T_EQ_INT(ipc_recv(&store, &m), 1);
	T_EQ_INT(m.type, IMSG_UPLOAD_BEGIN);
	T_EQ_INT(m.id, 7);
	T_CHECK(m.fd >= 0);
	close(m.fd);
	sample_free(&s);

	/* Records the table forbids, sent raw: each is refused, fd closed. */
	static struct raw r;
	struct {
		uint16_t type;
		int fdkind;
	} bad[] = {
	    {IMSG_UPLOAD_BEGIN, FD_FILE_RD},	/* wrong fd kind */
	    {IMSG_IMAGES_LIST_REQ, FD_PIPE_RD}, /* unexpected fd */
	    {IMSG_IMAGE_INFO, -1},		/* wrong sender */
	    {IMSG_UNPACK_META, FD_PIPE_RD},	/* wrong sender + fd */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = ipc_msgdef(bad[i].type);
		sample_make(&s, d, 0);
		raw_encode(&r, d, s.msg, (size_t)-1, M_NONE);
		r.b[3] = bad[i].fdkind != -1 ? IPC_FLAG_FD : 0;
		int fd = bad[i].fdkind != -1 ? fd_for(bad[i].fdkind) : -1;

		T_CHECK(send_fds(sp[1], r.b, r.len, &fd, fd != -1) ==
			(ssize_t)r.len);
		if (fd != -1)
			close(fd);
		T_EQ_INT(ipc_recv(&store, &m), -1);
		sample_free(&s);
	}

	/* Two fds in one record. */
	{
		int ab[2] = {fd_for(FD_PIPE_RD), fd_for(FD_PIPE_RD)};
		uint8_t one[IPC_HDR_LEN] = {0};

		T_CHECK(
		    send_fds(sp[1], one, sizeof(one), ab, 2) == sizeof(one));
		close(ab[0]);
		close(ab[1]);
		T_EQ_INT(ipc_recv(&store, &m), -1);
		T_CONTAINS(store.err, "more than one fd");
	}

	/* An oversized datagram. */
	{
		static uint8_t huge[LIM_IPC_RECORD_MAX + 100];
		int sz = (int)sizeof(huge) * 2;
		setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if (send(sp[1], huge, sizeof(huge), 0) ==
		    (ssize_t)sizeof(huge)) {
			T_EQ_INT(ipc_recv(&store, &m), -1);
			T_CONTAINS(store.err, "oversized");
		}
	}

	/* Nothing pending: 0; peer gone: -1. */
	T_EQ_INT(ipc_recv(&store, &m), 0);
	ipc_chan_close(&child);
	T_EQ_INT(ipc_recv(&store, &m), -1);
	T_CONTAINS(store.err, "closed");
	ipc_chan_close(&store);
	T_EQ_INT(count_fds(), before);
}

/* Sends d's sample raw over sp (with an fd of its kind, if any). */
static void
raw_send(int sock, const struct ipc_msgdef *d)
{
	static struct sample smp;
	static struct raw r;
	int fd = d->fd != FD_NONE ? fd_for(d->fd) : -1;

	sample_make(&smp, d, 0);
	raw_encode(&r, d, smp.msg, (size_t)-1, M_NONE);
	r.b[3] = fd != -1 ? IPC_FLAG_FD : 0;
	T_CHECK(send_fds(sock, r.b, r.len, &fd, fd != -1) == (ssize_t)r.len);
	if (fd != -1)
		close(fd);
	sample_free(&smp);
}

/*
 * The state column over real channels: nothing but READY (and pings)
 * before READY, one READY, nothing but pings after an unpacker's verdict,
 * and records for another receiver: refused on send, refused with their
 * fd closed on receipt.
 */
T_TEST(channel_states_and_receivers)
{
	static struct sample s;
	struct ipc_chan st, un;
	struct ipc_msg m;
	int sp[2], before = count_fds();
	const struct ipc_msgdef *d;

	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	T_CHECK(ipc_chan_init(&st, sp[0], PROC_STORE, PROC_UNPACKER) == 0);
	T_CHECK(ipc_chan_init(&un, sp[1], PROC_UNPACKER, PROC_STORE) == 0);

	/* Before READY: work is refused both ways. */
	d = ipc_msgdef(IMSG_UNPACK_INPUT);
	sample_make(&s, d, 0);
	T_EQ_INT(
	    ipc_send(&st, IMSG_UNPACK_INPUT, 1, s.msg, fd_for(FD_FILE_RD)), -1);
	T_CONTAINS(st.err, "is not allowed before READY");
	sample_free(&s);
	raw_send(sp[0], d);
	T_EQ_INT(ipc_recv(&un, &m), -1);
	T_CONTAINS(un.err, "UNPACK_INPUT is not allowed before READY");
	raw_send(sp[1], ipc_msgdef(IMSG_UNPACK_DONE));
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CONTAINS(st.err, "is not allowed before READY");

	/* A ping passes in any state. */
	struct imsg_ping p = {.nonce = 9};
	T_EQ_INT(ipc_send(&st, IMSG_PING, 0, &p, -1), 0);
	T_EQ_INT(ipc_recv(&un, &m), 1);

	/* READY moves both ends; a second one is refused. */
	d = ipc_msgdef(IMSG_READY);
	sample_make(&s, d, 0);
	T_EQ_INT(ipc_send(&un, IMSG_READY, 0, s.msg, -1), 0);
	T_EQ_INT(un.state, CH_READY);
	T_EQ_INT(ipc_recv(&st, &m), 1);
	T_EQ_INT(st.state, CH_READY);
	T_EQ_INT(ipc_send(&un, IMSG_READY, 0, s.msg, -1), -1);
	T_CONTAINS(un.err, "READY is not allowed now");
	sample_free(&s);
	raw_send(sp[1], d);
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CONTAINS(st.err, "READY is not allowed now");

	/* A record for the frontend on the unpacker's channel. */
	d = ipc_msgdef(IMSG_EXPORT_PART);
	sample_make(&s, d, 0);
	T_EQ_INT(
	    ipc_send(&st, IMSG_EXPORT_PART, 1, s.msg, fd_for(FD_FILE_RD)), -1);
	T_CONTAINS(st.err, "EXPORT_PART is not for the unpacker");
	sample_free(&s);
	raw_send(sp[0], d);
	T_EQ_INT(ipc_recv(&un, &m), -1);
	T_CONTAINS(un.err, "EXPORT_PART is not for the unpacker");

	/* Work, then the verdict: FINAL, after which only pings pass. */
	d = ipc_msgdef(IMSG_UNPACK_INPUT);
	sample_make(&s, d, 0);
	T_EQ_INT(
	    ipc_send(&st, IMSG_UNPACK_INPUT, 1, s.msg, fd_for(FD_FILE_RD)), 0);
	sample_free(&s);
	T_EQ_INT(ipc_recv(&un, &m), 1);
	close(m.fd);
	/* One job per channel: no verdict or template before the metadata,
	 * and the metadata once. */
	d = ipc_msgdef(IMSG_UNPACK_DONE);
	sample_make(&s, d, 0);
	T_EQ_INT(ipc_send(&un, IMSG_UNPACK_DONE, 1, s.msg, -1), -1);
	T_CONTAINS(un.err, "UNPACK_DONE is not allowed now");
	raw_send(sp[1], d);
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CONTAINS(st.err, "UNPACK_DONE is not allowed now");
	raw_send(sp[1], ipc_msgdef(IMSG_UNPACK_TEMPLATE));
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CONTAINS(st.err, "UNPACK_TEMPLATE is not allowed now");
	sample_free(&s);
	d = ipc_msgdef(IMSG_UNPACK_META);
	sample_make(&s, d, 0);
	T_EQ_INT(ipc_send(&un, IMSG_UNPACK_META, 1, s.msg, -1), 0);
	T_EQ_INT(un.state, CH_META);
	T_EQ_INT(ipc_recv(&st, &m), 1);
	T_EQ_INT(st.state, CH_META);
	T_EQ_INT(ipc_send(&un, IMSG_UNPACK_META, 1, s.msg, -1), -1);
	T_CONTAINS(un.err, "UNPACK_META is not allowed after the unpacker's "
			   "metadata");
	raw_send(sp[1], d);
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CONTAINS(st.err, "UNPACK_META is not allowed after the unpacker's "
			   "metadata");
	sample_free(&s);
	d = ipc_msgdef(IMSG_UNPACK_DONE);
	sample_make(&s, d, 0);
	T_EQ_INT(ipc_send(&un, IMSG_UNPACK_DONE, 1, s.msg, -1), 0);
	T_EQ_INT(un.state, CH_FINAL);
	T_EQ_INT(ipc_recv(&st, &m), 1);
	T_EQ_INT(st.state, CH_FINAL);
	T_EQ_INT(ipc_send(&un, IMSG_UNPACK_DONE, 1, s.msg, -1), -1);
	T_CONTAINS(un.err, "after the unpacker's verdict");
	sample_free(&s);
	raw_send(sp[1], ipc_msgdef(IMSG_UNPACK_META));
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CONTAINS(st.err, "UNPACK_META is not allowed after the unpacker's");
	T_EQ_INT(ipc_send(&st, IMSG_PING, 0, &p, -1), 0);
	T_EQ_INT(ipc_recv(&un, &m), 1);

	ipc_chan_close(&st);
	ipc_chan_close(&un);
	T_EQ_INT(count_fds(), before); /* every refused record's fd closed */
}

/*
 * The request column: an upload is BEGIN, at most one PART, END, per
 * request id. Out of sequence is refused on send and on receipt (with the
 * fd closed); a closed id may open again.
 */
static int
fe_send(struct ipc_chan *c, uint16_t type, uint64_t id)
{
	static struct sample s;
	const struct ipc_msgdef *d = ipc_msgdef(type);
	int rc;

	sample_make(&s, d, 0);
	rc =
	    ipc_send(c, type, id, s.msg, d->fd != FD_NONE ? fd_for(d->fd) : -1);
	sample_free(&s);
	return rc;
}

static int
st_recv(struct ipc_chan *c)
{
	struct ipc_msg m;
	int rc = ipc_recv(c, &m);

	if (rc == 1 && m.fd != -1)
		close(m.fd);
	return rc;
}

/*
 * The store at its RLIMIT_NOFILE: the kernel cannot install the fd of a
 * record, cuts the control part and drops the fd. That is the store's
 * shortage, not a bad record from the frontend: lost_fd says so, and the
 * channel goes on.
 */
T_TEST(store_out_of_fds_is_not_the_peers_fault)
{
	struct ipc_chan fe, st;
	struct rlimit old, low;
	int sp[2], before = count_fds(), spare;

	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	T_CHECK(ipc_chan_init(&fe, sp[0], PROC_FRONTEND, PROC_STORE) == 0);
	T_CHECK(ipc_chan_init(&st, sp[1], PROC_STORE, PROC_FRONTEND) == 0);
	fe.state = st.state = CH_READY;
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_BEGIN, RAW_ID), 0);
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_PART, RAW_ID), 0); /* with a pipe */
	T_EQ_INT(st_recv(&st), 1);
	/* The store side's soft limit: the lowest free fd number, so that
	 * no number below it is free. */
	T_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	spare = dup(sp[1]);
	T_CHECK(spare != -1);
	close(spare);
	low = old;
	low.rlim_cur = (rlim_t)spare;
	T_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	T_EQ_INT(st_recv(&st), -1);
	spare = dup(sp[1]);
	T_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	T_EQ_INT(spare, -1); /* the limit was reached */
	if (spare != -1)
		close(spare);
	T_EQ_INT(st.lost_fd, 1);
	T_CONTAINS(st.err, "out of file descriptors (RLIMIT_NOFILE ");
	T_CONTAINS(st.err, "the fd of a record from the frontend was lost");
	T_EQ_INT(st.eof, 0);
	/* The lost record is named, and its request step was taken: the
	 * request's END is in sequence. */
	T_EQ_INT(st.lost_type, IMSG_UPLOAD_PART);
	T_CHECK(st.lost_id == RAW_ID);
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_END, RAW_ID), 0);
	T_EQ_INT(st_recv(&st), 1);
	/* With descriptors again the channel works. */
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_BEGIN, RAW_ID + 1), 0);
	T_EQ_INT(st_recv(&st), 1);
	T_EQ_INT(st.lost_fd, 0);
	ipc_chan_close(&fe);
	ipc_chan_close(&st);
	T_EQ_INT(count_fds(), before);
}

T_TEST(request_sequences)
{
	struct ipc_chan fe, st;
	int sp[2], before = count_fds(), opened = 1;

	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	T_CHECK(ipc_chan_init(&fe, sp[0], PROC_FRONTEND, PROC_STORE) == 0);
	T_CHECK(ipc_chan_init(&st, sp[1], PROC_STORE, PROC_FRONTEND) == 0);
	fe.state = st.state = CH_READY;

	/* Nothing but BEGIN for an id that is not open. */
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_PART, RAW_ID), -1);
	T_CONTAINS(fe.err, "UPLOAD_PART: request");
	T_CONTAINS(fe.err, "is not open");
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_END, RAW_ID), -1);
	raw_send(sp[0], ipc_msgdef(IMSG_UPLOAD_PART));
	T_EQ_INT(st_recv(&st), -1);
	T_CONTAINS(st.err, "is not open");
	raw_send(sp[0], ipc_msgdef(IMSG_UPLOAD_END));
	T_EQ_INT(st_recv(&st), -1);
	T_CONTAINS(st.err, "UPLOAD_END: request");

	/* BEGIN, once. */
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_BEGIN, RAW_ID), 0);
	T_EQ_INT(st_recv(&st), 1);
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_BEGIN, RAW_ID), -1);
	T_CONTAINS(fe.err, "is open already");
	raw_send(sp[0], ipc_msgdef(IMSG_UPLOAD_BEGIN));
	T_EQ_INT(st_recv(&st), -1);
	T_CONTAINS(st.err, "is open already");

	/* PART, once. */
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_PART, RAW_ID), 0);
	T_EQ_INT(st_recv(&st), 1);
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_PART, RAW_ID), -1);
	T_CONTAINS(fe.err, "had one already");
	raw_send(sp[0], ipc_msgdef(IMSG_UPLOAD_PART));
	T_EQ_INT(st_recv(&st), -1);
	T_CONTAINS(st.err, "had one already");

	/* END closes it; the id may open again. */
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_END, RAW_ID), 0);
	T_EQ_INT(st_recv(&st), 1);
	T_EQ_INT(fe.nopen, 0);
	T_EQ_INT(st.nopen, 0);
	raw_send(sp[0], ipc_msgdef(IMSG_UPLOAD_END));
	T_EQ_INT(st_recv(&st), -1);
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_BEGIN, RAW_ID), 0);
	T_EQ_INT(st_recv(&st), 1);

	/* Open requests are bounded. */
	for (uint64_t id = 1; id < LIM_IPC_OPEN_REQS && opened; id++)
		opened = fe_send(&fe, IMSG_UPLOAD_BEGIN, id) == 0 &&
			 st_recv(&st) == 1;
	T_CHECK(opened);
	T_EQ_INT(st.nopen, LIM_IPC_OPEN_REQS);
	T_EQ_INT(fe_send(&fe, IMSG_UPLOAD_BEGIN, LIM_IPC_OPEN_REQS), -1);
	T_CONTAINS(fe.err, "requests open already");

	ipc_chan_close(&fe);
	ipc_chan_close(&st);
	T_EQ_INT(count_fds(), before);
}

/*
 * Records queued while corked leave in as few datagrams as fit in
 * LIM_IPC_RECORD_MAX, and come out one by one, in order, the same as sent
 * one per datagram; a record with an fd travels alone. A datagram with an
 * fd and a second record, with a record cut short, or with a bad record
 * among good ones is refused (the rest of it unread), fds closed.
 */
T_TEST(records_share_datagrams)
{
	static struct sample s;
	static struct raw r;
	struct ipc_chan st, fe;
	struct ipc_msg m;
	struct imsg_list_end e;
	int sp[2], before = count_fds(), got = 0, inorder = 1, dgrams = 0;
	int sent = 0;
	const int n = 1000;

	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	ipc_chan_init(&st, sp[0], PROC_STORE, PROC_FRONTEND);
	ipc_chan_init(&fe, sp[1], PROC_FRONTEND, PROC_STORE);
	st.state = fe.state = CH_READY;
	ipc_cork(&st, 1);
	for (int i = 0; i < n; i++) {
		e.count = (uint32_t)i;
		sent += ipc_send(&st, IMSG_LIST_END, (uint64_t)i, &e, -1) == 0;
	}
	T_EQ_INT(sent, n);
	T_EQ_INT(st.qlen, n); /* corked: nothing sent yet */
	ipc_cork(&st, 0);
	T_EQ_INT(ipc_flush(&st), 0);
	/* Count the datagrams as they arrive, and decode their records. */
	for (;;) {
		static uint8_t buf[LIM_IPC_RECORD_MAX];
		ssize_t k =
		    recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);

		if (k <= 0)
			break;
		dgrams++;
		do {
			if (ipc_recv(&fe, &m) != 1)
				break;
			if (m.type != IMSG_LIST_END ||
			    m.m.list_end.count != (uint32_t)got ||
			    m.id != (uint64_t)got)
				inorder = 0;
			got++;
		} while (ipc_buffered(&fe));
	}
	T_EQ_INT(got, n);
	T_CHECK(inorder);
	/* 1000 records of 20 bytes: 4 datagrams (256 records each). */
	T_CHECK(dgrams >= 1 && dgrams <= 8);
	printf("# %d records in %d datagrams\n", n, dgrams);

	/* A record with an fd is sent alone, with its fd. */
	sample_make(&s, ipc_msgdef(IMSG_UPLOAD_BEGIN), 0);
	ipc_cork(&fe, 1);
	T_CHECK(ipc_send(
		    &fe, IMSG_UPLOAD_BEGIN, 9, s.msg, fd_for(FD_PIPE_RD)) == 0);
	ipc_cork(&fe, 0);
	T_EQ_INT(ipc_flush(&fe), 0);
	T_EQ_INT(ipc_recv(&st, &m), 1);
	T_EQ_INT(m.type, IMSG_UPLOAD_BEGIN);
	T_CHECK(m.fd >= 0);
	if (m.fd >= 0)
		close(m.fd);
	T_CHECK(!ipc_buffered(&st));
	sample_free(&s);

	/* Hand-made datagrams from a hostile store. */
	const struct ipc_msgdef *d = ipc_msgdef(IMSG_LIST_END);
	uint8_t two[2 * 64], cut[64], three[3 * 64];
	size_t one;

	sample_make(&s, d, 0);
	raw_encode(&r, d, s.msg, (size_t)-1, M_NONE);
	one = r.len;
	memcpy(two, r.b, one);
	memcpy(two + one, r.b, one);
	sample_free(&s);
	{
		/* an fd with two records */
		int pfd = fd_for(FD_PIPE_RD);

		T_CHECK(send_fds(sp[0], two, 2 * one, &pfd, 1) ==
			(ssize_t)(2 * one));
		close(pfd);
		T_EQ_INT(ipc_recv(&fe, &m), -1);
		T_CONTAINS(fe.err, "an fd with more than one record");
		T_CHECK(!ipc_buffered(&fe));
	}
	/* a good record, then one cut short */
	memcpy(cut, two, one + 5);
	T_CHECK(send(sp[0], cut, one + 5, 0) == (ssize_t)(one + 5));
	T_EQ_INT(ipc_recv(&fe, &m), 1);
	T_EQ_INT(ipc_recv(&fe, &m), -1);
	T_CONTAINS(fe.err, "cut short");
	T_CHECK(!ipc_buffered(&fe));
	/* a bad record (a type the store may not send) between good ones:
	 * refused, and the one after it is not read */
	memcpy(three, two, one);
	memcpy(three + one, two, one);
	three[one] = (uint8_t)IMSG_IMAGES_LIST_REQ;
	three[one + 1] = (uint8_t)(IMSG_IMAGES_LIST_REQ >> 8);
	memcpy(three + 2 * one, two, one);
	T_CHECK(send(sp[0], three, 3 * one, 0) == (ssize_t)(3 * one));
	T_EQ_INT(ipc_recv(&fe, &m), 1);
	T_EQ_INT(ipc_recv(&fe, &m), -1);
	T_CHECK(!ipc_buffered(&fe));
	T_EQ_INT(ipc_recv(&fe, &m), 0); /* nothing more came */
	/* A peer that exits with our records unread (ECONNRESET) is gone,
	 * as at EOF: not a bad record. */
	e.count = 1;
	T_CHECK(ipc_send(&st, IMSG_LIST_END, 1, &e, -1) == 0);
	ipc_chan_close(&fe);
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CHECK(st.eof);
	T_CONTAINS(st.err, "closed the channel");
	ipc_chan_close(&st);

	/* ... and what it sent before it exited is read first, all of it:
	 * the kernel reports the reset before the peer's last records (an
	 * unpacker's verdict, sent while our feed was unread). */
	T_CHECK(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp) == 0);
	ipc_chan_init(&st, sp[0], PROC_STORE, PROC_FRONTEND);
	ipc_chan_init(&fe, sp[1], PROC_FRONTEND, PROC_STORE);
	st.state = fe.state = CH_READY;
	T_CHECK(ipc_send(&st, IMSG_LIST_END, 1, &e, -1) == 0);
	T_CHECK(ipc_send(&st, IMSG_LIST_END, 2, &e, -1) == 0);
	for (uint64_t nonce = 1; nonce <= 2; nonce++) {
		struct imsg_ping pg = {.nonce = nonce};

		T_CHECK(ipc_send(&fe, IMSG_PONG, nonce, &pg, -1) == 0);
	}
	ipc_chan_close(&fe);
	T_EQ_INT(ipc_recv(&st, &m), 1);
	T_EQ_INT(m.type, IMSG_PONG);
	T_EQ_INT(m.id, 1);
	T_EQ_INT(ipc_recv(&st, &m), 1);
	T_EQ_INT(m.id, 2);
	T_EQ_INT(ipc_recv(&st, &m), -1);
	T_CHECK(st.eof);
	T_CONTAINS(st.err, "closed the channel");
	ipc_chan_close(&st);
	T_EQ_INT(count_fds(), before);
}

T_TEST(queue_is_bounded_in_bytes)
{
	static struct sample s;
	const struct ipc_msgdef *d = ipc_msgdef(IMSG_IMAGE_INFO);
	struct ipc_chan a, b;
	int sp[2], refused = 0;

	T_CHECK(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp) == 0);
	ipc_chan_init(&a, sp[0], PROC_STORE, PROC_FRONTEND);
	ipc_chan_init(&b, sp[1], PROC_FRONTEND, PROC_STORE);
	a.state = CH_READY;
	sample_make(&s, d, 1); /* the largest record of the type */
	for (int i = 0; i < LIM_IPC_QUEUE_MAX && !refused; i++)
		refused = ipc_send(&a, IMSG_IMAGE_INFO, 1, s.msg, -1) == -1;
	T_CHECK(refused);
	T_CONTAINS(a.err, "bytes)");
	T_CHECK(a.qlen < LIM_IPC_QUEUE_MAX); /* the bytes bound came first */
	T_CHECK(a.qbytes <= LIM_IPC_QUEUE_BYTES);
	sample_free(&s);
	ipc_chan_close(&a);
	ipc_chan_close(&b);
}

T_TEST(queue_is_bounded)
{
	struct ipc_chan a, b;
	struct imsg_ping p = {.nonce = 1};
	int sp[2], ok = 0, refused = 0;

	T_CHECK(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp) == 0);
	ipc_chan_init(&a, sp[0], PROC_STORE, PROC_FETCHER);
	ipc_chan_init(&b, sp[1], PROC_FETCHER, PROC_STORE);
	/* Nobody reads: the socket fills, then the queue, then refusal. */
	for (int i = 0; i < 100000 && !refused; i++) {
		if (ipc_send(&a, IMSG_PING, (uint64_t)i, &p, -1) == 0)
			ok++;
		else
			refused = 1;
	}
	T_CHECK(refused);
	T_CONTAINS(a.err, "full");
	T_EQ_INT(ipc_pending(&a), 1);
	ipc_chan_close(&a);
	ipc_chan_close(&b);
}

/* Every cause has its own sentence (none falls to the default) and its
 * own token; the facts land in the sentence. */
T_TEST(every_cause_has_words)
{
	struct ipc_fault f = {
	    .name = "NAME", .detail = "DETAIL", .limit = 7, .bytes = 9};
	char buf[LIM_ERROR_MAX + 128], fallback[256];

	f.cause = 0xff;
	fault_words(&f, fallback, sizeof(fallback));
	for (int c = ERR_INVALID; c <= ERR_MAX; c++) {
		f.cause = (uint8_t)c;
		f.subject = RES_ALIAS;
		T_EXPECT(fault_words(&f, buf, sizeof(buf)) > 0 &&
			     (c == ERR_INTERNAL || strcmp(buf, fallback) != 0),
		    "cause %d (%s) has no sentence of its own", c,
		    fault_token(c));
		T_EXPECT(strcmp(fault_token(c), "internal") != 0 ||
			     c == ERR_INTERNAL,
		    "cause %d has no token", c);
		for (int d = ERR_INVALID; d < c; d++)
			T_EXPECT(strcmp(fault_token(c), fault_token(d)) != 0,
			    "causes %d and %d share a token", c, d);
	}
	f.cause = ERR_INVALID;
	fault_words(&f, buf, sizeof(buf));
	T_EQ_STR(buf, "DETAIL");
	f.cause = ERR_EXISTS;
	fault_words(&f, buf, sizeof(buf));
	T_EQ_STR(buf, "Alias \"NAME\" already exists");
	f.cause = ERR_NOT_FOUND;
	f.subject = RES_PROJECT;
	fault_words(&f, buf, sizeof(buf));
	T_EQ_STR(buf, "Project not found");
	f.cause = ERR_TOO_MANY_PROPS;
	fault_words(&f, buf, sizeof(buf));
	T_EQ_STR(buf, "Too many properties: at most 7, 9 bytes in all");
	f.cause = ERR_FP_MISMATCH;
	fault_words(&f, buf, sizeof(buf));
	T_EQ_STR(buf, "Fingerprint mismatch: got NAME, expected DETAIL");
}

T_TEST(charsets)
{
	T_CHECK(ipc_str_valid("abc", 3, CS_HEX));
	T_CHECK(!ipc_str_valid("ABC", 3, CS_HEX));
	T_CHECK(!ipc_str_valid("a\0b", 3, CS_LINE));
	T_CHECK(!ipc_str_valid("a\nb", 3, CS_LINE));
	T_CHECK(ipc_str_valid("a\nb", 3, CS_ANY_UTF8));
	T_CHECK(!ipc_str_valid("a/b", 3, CS_NAME));
	T_CHECK(ipc_str_valid("\xc3\xa9", 2, CS_NAME));
	T_CHECK(!ipc_str_valid("\xc3", 1, CS_LINE));	     /* cut */
	T_CHECK(!ipc_str_valid("\xc0\xaf", 2, CS_LINE));     /* overlong */
	T_CHECK(!ipc_str_valid("\xed\xa0\x80", 3, CS_LINE)); /* surrogate */
	T_CHECK(!ipc_str_valid("\xc2\x85", 2, CS_LINE));     /* C1 NEL */
	T_CHECK(!ipc_str_valid("\xf4\x90\x80\x80", 4, CS_LINE));
	T_CHECK(ipc_str_valid("\xf0\x9f\x98\x80", 4, CS_LINE));
	T_CHECK(!ipc_str_valid("a b", 3, CS_TOKEN));
}

static void
write_corpus(const char *dir)
{
	static struct sample s;
	char path[512], err[256];

	mkdir(dir, 0755);
	for (uint16_t t = 1; t < IMSG_TYPE_COUNT; t++) {
		const struct ipc_msgdef *d = ipc_msgdef(t);

		for (int big = 0; big <= 1; big++) {
			ssize_t n;
			FILE *f;

			sample_make(&s, d, big);
			n = ipc_encode(t, 1, d->fd != FD_NONE, s.msg, rec + 1,
			    sizeof(rec) - 1, err, sizeof(err));
			sample_free(&s);
			if (n < 0)
				continue;
			/* First byte: the sender, as the fuzz target reads it.
			 */
			rec[0] = (uint8_t)sender_of(d);
			snprintf(path, sizeof(path), "%s/%s-%s", dir, d->name,
			    big ? "max" : "min");
			if ((f = fopen(path, "wb")) != NULL) {
				fwrite(rec, 1, (size_t)n + 1, f);
				fclose(f);
			}
		}
	}
}

T_TEST(utf8_sanitize_makes_valid_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"caf\xc3\xa9", "caf\xc3\xa9"}, /* UTF-8 stays */
	    {"caf\xe9 ok", "caf? ok"},	    /* Latin-1 */
	    {"\xe2\x82", "??"},		    /* cut sequence */
	    {"\xc0\xaf", "??"},		    /* overlong '/' */
	    {"\xed\xa0\x80", "???"},	    /* a surrogate */
	    {"\xc2\x85", "??"},		    /* a C1 control */
	    {"\xf4\x90\x80\x80", "????"},   /* beyond U+10FFFF */
	    {"\xff\xfe", "??"},
	    {"\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!"}, /* 4-byte */
	    {"", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		utf8_sanitize(buf);
		T_EQ_STR(buf, cases[i].out);
		T_CHECK(utf8_valid((unsigned char *)buf, strlen(buf)));
	}
}

int
main(int argc, char **argv)
{
	arena.size = IPC_ARENA_SIZE;
	arena.base = malloc(arena.size);
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		write_corpus(argv[2]);
		return 0;
	}
	T_RUN(charsets);
	T_RUN(every_cause_has_words);
	T_RUN(utf8_sanitize_makes_valid_utf8);
	T_RUN(roundtrip_every_type);
	T_RUN(encoder_refuses_out_of_bounds);
	T_RUN(decoder_rejects_cuts_and_trailing);
	T_RUN(decoder_rejects_field_bounds);
	T_RUN(decoder_rejects_header_sender_fd);
	T_RUN(channel_closes_fds_of_bad_records);
	T_RUN(queue_is_bounded);
	T_RUN(records_share_datagrams);
	T_RUN(queue_is_bounded_in_bytes);
	T_RUN(channel_states_and_receivers);
	T_RUN(request_sequences);
	T_RUN(store_out_of_fds_is_not_the_peers_fault);
	free(arena.base);
	return T_DONE();
}
