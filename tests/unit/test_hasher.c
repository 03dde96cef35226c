/*
 * store/hasher.c: the hashing thread gives the digests openssl gives over
 * the same bytes, in whatever pieces they are added, across the split of
 * two files; it wakes the loop at the lag asked for, and once all is
 * hashed and synced; a file it cannot map
 * fails it with the errno; it stops wherever it is when freed.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/hasher.h"
#include "tests/t.h"

#define MiB (1024 * 1024)

static struct event_base *base;
static int wakes;
static struct hasher *waking;
static uint64_t lag_at_wake;

static void
on_wake(void *arg)
{
	(void)arg;
	wakes++;
	lag_at_wake = hasher_lag(waking);
	event_base_loopbreak(base);
}

/* Runs the loop until on_wake (or 10 s, which fails the caller). */
static void
wait_wake(int before)
{
	struct timeval tv = {10, 0};

	if (wakes != before)
		return;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static int
tmp_file(const uint8_t *p, size_t n)
{
	char path[] = "/tmp/test_hasher.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1)
		return -1;
	unlink(path);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, p + off, n - off);

		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return fd;
}

static uint8_t *
random_bytes(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);

	srand(seed);
	for (size_t i = 0; p && i < n; i++)
		p[i] = (uint8_t)rand();
	return p;
}

static void
digest(const EVP_MD *md, const uint8_t *a, size_t na, const uint8_t *b,
    size_t nb, uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int len;

	EVP_DigestInit_ex(c, md, NULL);
	EVP_DigestUpdate(c, a, na);
	if (b)
		EVP_DigestUpdate(c, b, nb);
	EVP_DigestFinal_ex(c, out, &len);
	EVP_MD_CTX_free(c);
}

static int
same(EVP_MD_CTX *c, const uint8_t *want, size_t n)
{
	uint8_t md[64];
	unsigned int len;

	EVP_DigestFinal_ex(c, md, &len);
	return len == n && memcmp(md, want, n) == 0;
}

static EVP_MD_CTX *
ctx(const EVP_MD *md)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	EVP_DigestInit_ex(c, md, NULL);
	return c;
}

/* Adds n bytes in pieces of 1 B to 3 MiB, as the loop's splices do. */
static void
add_pieces(struct hasher *h, size_t n)
{
	while (n) {
		size_t k = (size_t)(rand() % 3 == 0 ? rand() % 4096 + 1
						    : rand() % (3 * MiB) + 1);

		if (k > n)
			k = n;
		hasher_add(h, k);
		n -= k;
	}
}

T_TEST(test_unified)
{
	size_t n = 20 * MiB + 12345;
	uint8_t *p = random_bytes(n, 1), want[32];
	int fd[2] = {tmp_file(p, n), -1};
	struct hasher_digests d = {.all = ctx(EVP_sha256())};
	struct hasher *h;
	int w = wakes;

	T_CHECK(fd[0] != -1);
	digest(EVP_sha256(), p, n, NULL, 0, want);
	h = waking = hasher_new(base, fd, &d, on_wake, NULL);
	T_CHECK(h != NULL);
	add_pieces(h, n);
	if (!hasher_sync(h))
		wait_wake(w);
	T_CHECK(hasher_lag(h) == 0);
	T_EQ_INT(hasher_finish(h), 0);
	T_CHECK(same(d.all, want, 32));
	EVP_MD_CTX_free(d.all);
	close(fd[0]);
	free(p);
}

T_TEST(test_split)
{
	size_t na = 3 * MiB + 7, nb = 17 * MiB + 1;
	uint8_t *a = random_bytes(na, 2), *b = random_bytes(nb, 3);
	uint8_t all[32], fa[32], fb[32], ba[64], bb[64];
	int fd[2] = {tmp_file(a, na), tmp_file(b, nb)};
	struct hasher_digests d = {.all = ctx(EVP_sha256()),
	    .file = {ctx(EVP_sha256()), ctx(EVP_sha256())},
	    .b2 = {ctx(EVP_blake2b512()), ctx(EVP_blake2b512())}};
	struct hasher *h;
	int w = wakes;

	T_CHECK(fd[0] != -1 && fd[1] != -1);
	digest(EVP_sha256(), a, na, b, nb, all);
	digest(EVP_sha256(), a, na, NULL, 0, fa);
	digest(EVP_sha256(), b, nb, NULL, 0, fb);
	digest(EVP_blake2b512(), a, na, NULL, 0, ba);
	digest(EVP_blake2b512(), b, nb, NULL, 0, bb);
	h = waking = hasher_new(base, fd, &d, on_wake, NULL);
	T_CHECK(h != NULL);
	add_pieces(h, na);
	hasher_next_file(h);
	add_pieces(h, nb);
	if (!hasher_sync(h))
		wait_wake(w);
	T_EQ_INT(hasher_finish(h), 0);
	T_CHECK(same(d.all, all, 32));
	T_CHECK(same(d.file[0], fa, 32));
	T_CHECK(same(d.file[1], fb, 32));
	T_CHECK(same(d.b2[0], ba, 64));
	T_CHECK(same(d.b2[1], bb, 64));
	EVP_MD_CTX_free(d.all);
	for (int i = 0; i < 2; i++) {
		EVP_MD_CTX_free(d.file[i]);
		EVP_MD_CTX_free(d.b2[i]);
		close(fd[i]);
	}
	free(a);
	free(b);
}

/* Asked for a lag, the loop hears once, and then the lag is at most it. */
T_TEST(test_wait_lag)
{
	size_t n = 96 * MiB;
	uint8_t *p = random_bytes(n, 4);
	int fd[2] = {tmp_file(p, n), -1};
	struct hasher_digests d = {.all = ctx(EVP_sha256())};
	struct hasher *h;
	struct timeval tv = {0, 200000};
	int w = wakes;

	h = waking = hasher_new(base, fd, &d, on_wake, NULL);
	T_CHECK(h != NULL);
	hasher_add(h, n);
	if (hasher_wait(h, 8 * MiB)) {
		T_CHECK(hasher_lag(h) <= 8 * MiB);
	} else {
		wait_wake(w);
		T_EQ_INT(wakes, w + 1);
		T_CHECK(lag_at_wake <= 8 * MiB);
	}
	/* No second wake without a second wait. */
	w = wakes;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	T_EQ_INT(wakes, w);
	if (!hasher_sync(h))
		wait_wake(w);
	T_EQ_INT(hasher_finish(h), 0);
	EVP_MD_CTX_free(d.all);
	close(fd[0]);
	free(p);
}

/* A file it cannot map (opened write-only): the loop is woken, and the
 * errno is the error. */
T_TEST(test_map_fails)
{
	char path[] = "/tmp/test_hasher.XXXXXX";
	int rw = mkstemp(path), fd[2] = {open(path, O_WRONLY), -1};
	struct hasher_digests d = {.all = ctx(EVP_sha256())};
	struct hasher *h;
	int w = wakes;

	unlink(path);
	T_CHECK(rw != -1 && fd[0] != -1);
	T_CHECK(ftruncate(rw, MiB) == 0);
	h = waking = hasher_new(base, fd, &d, on_wake, NULL);
	T_CHECK(h != NULL);
	hasher_add(h, MiB);
	if (!hasher_sync(h))
		wait_wake(w);
	T_EQ_INT(hasher_error(h), EACCES);
	errno = 0;
	T_EQ_INT(hasher_finish(h), -1);
	T_EQ_INT(errno, EACCES);
	EVP_MD_CTX_free(d.all);
	close(fd[0]);
	close(rw);
}

/* Freed with 4 GiB (a sparse file) still to hash, it stops after its
 * piece; finished before it caught up, it says so. */
T_TEST(test_stop_early)
{
	char path[] = "/tmp/test_hasher.XXXXXX";
	int fd[2] = {mkstemp(path), -1};
	uint64_t n = 4ULL * 1024 * MiB;
	struct hasher_digests d = {.all = ctx(EVP_sha256())};
	struct hasher *h;

	unlink(path);
	T_CHECK(fd[0] != -1 && ftruncate(fd[0], (off_t)n) == 0);
	h = waking = hasher_new(base, fd, &d, on_wake, NULL);
	T_CHECK(h != NULL);
	hasher_add(h, n);
	T_CHECK(hasher_lag(h) > 0);
	hasher_free(h);
	h = waking = hasher_new(base, fd, &d, on_wake, NULL);
	T_CHECK(h != NULL);
	hasher_add(h, n);
	errno = 0;
	T_EQ_INT(hasher_finish(h), -1);
	T_EQ_INT(errno, EINPROGRESS);
	EVP_MD_CTX_free(d.all);
	close(fd[0]);
}

int
main(void)
{
	base = event_base_new();
	T_RUN(test_unified);
	T_RUN(test_split);
	T_RUN(test_wait_lag);
	T_RUN(test_map_fails);
	T_RUN(test_stop_early);
	event_base_free(base);
	return T_DONE();
}
