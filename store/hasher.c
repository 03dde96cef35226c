/*
 * Hashing off the store's event loop. An upload's sha256 (and its files'
 * sha256 and BLAKE2b) cost a core's worth of time per GiB; done in the
 * loop, every other request waited behind every upload's hashing, and two
 * cores could not hash two uploads at once. Each upload gets one thread
 * that hashes what the loop has already spliced into its temp files,
 * through a read-only mapping of them: what is hashed is still what the
 * store keeps, and the thread is the store's own code, reading only the
 * store's own files. It shares nothing with the loop but the counters
 * below, under one mutex, and tells the loop through an eventfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/limits.h"
#include "store/hasher.h"

struct hasher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	uint64_t added, hashed; /* bytes of both files, in order */
	uint64_t len0;		/* file 0's size once complete, else ~0 */
	uint64_t wake_lag;	/* wake the loop at this lag, or ~0: not */
	int want_sync, synced;	/* hasher_sync asked; the files are synced */
	int stop, err;
	/* the thread's own */
	uint64_t flushed[2]; /* writeback started up to here */
	/* fixed from hasher_new on */
	int fd[2];
	struct hasher_digests d;
	int efd;
	struct event *ev;
	void (*wake)(void *);
	void *arg;
};

/* With mu held: what the loop waits for is there. */
static int
met(const struct hasher *h)
{
	return h->err != 0 || (h->added - h->hashed <= h->wake_lag &&
				  (!h->want_sync || h->synced));
}

/* Called with mu held: the loop asked to hear of this lag. */
static void
maybe_wake(struct hasher *h)
{
	uint64_t one = 1;

	if (h->wake_lag == UINT64_MAX || !met(h))
		return;
	h->wake_lag = UINT64_MAX;
	/* A counter: cannot fill up before the loop reads it. */
	(void)!write(h->efd, &one, sizeof(one));
}

/* n bytes of file i from off, into its digests. */
static int
hash_range(struct hasher *h, int i, uint64_t off, size_t n)
{
	static uint64_t page;
	uint64_t base;
	size_t len;
	uint8_t *m;

	if (page == 0)
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	base = off & ~(page - 1);
	len = (size_t)(off + n - base);
	m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, h->fd[i],
	    (off_t)base);
	if (m == MAP_FAILED)
		return -1;
	EVP_DigestUpdate(h->d.all, m + (off - base), n);
	if (h->d.file[i])
		EVP_DigestUpdate(h->d.file[i], m + (off - base), n);
	if (h->d.b2[i])
		EVP_DigestUpdate(h->d.b2[i], m + (off - base), n);
	munmap(m, len);
	/* Writeback starts behind the hashing, so that the sync at the end
	 * (and the commit's) has little left to wait for; it may block on a
	 * busy disk, which is why the loop does not do it. */
	if (off + n - h->flushed[i] >= LIM_UPLOAD_WRITEBACK) {
		(void)sync_file_range(h->fd[i], (off_t)h->flushed[i],
		    (off_t)(off + n - h->flushed[i]), SYNC_FILE_RANGE_WRITE);
		h->flushed[i] = off + n;
	}
	return 0;
}

/* Both files to the disk: the commit's own fdatasync then finds them
 * clean instead of blocking the loop for the last seconds of writeback. */
static int
sync_files(struct hasher *h)
{
	for (int i = 0; i < 2; i++)
		if (h->fd[i] != -1 && fdatasync(h->fd[i]) == -1)
			return -1;
	return 0;
}

static void *
hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		uint64_t at = h->hashed, end = h->added, off = at;
		int i = 0;

		if (h->stop)
			break;
		if (at == end && h->want_sync && !h->synced && !h->err) {
			pthread_mutex_unlock(&h->mu);
			int r = sync_files(h), e = errno;
			pthread_mutex_lock(&h->mu);
			if (r == -1)
				h->err = e ? e : EIO;
			else
				h->synced = 1;
			continue;
		}
		if (at == end || h->err) {
			maybe_wake(h);
			pthread_cond_wait(&h->cv, &h->mu);
			continue;
		}
		/* A piece never spans the two files. */
		if (at >= h->len0) {
			i = 1;
			off = at - h->len0;
		} else if (end > h->len0)
			end = h->len0;
		if (end - at > LIM_HASH_PIECE)
			end = at + LIM_HASH_PIECE;
		pthread_mutex_unlock(&h->mu);
		int r = hash_range(h, i, off, (size_t)(end - at));
		int e = errno;
		pthread_mutex_lock(&h->mu);
		if (r == -1)
			h->err = e ? e : EIO;
		else
			h->hashed = end;
		maybe_wake(h);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void
wake_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct hasher *h = arg;
	uint64_t n;

	(void)ev;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	h->wake(h->arg); /* may free h */
}

struct hasher *
hasher_new(struct event_base *base, const int fd[2],
    const struct hasher_digests *d, void (*wake)(void *), void *arg)
{
	struct hasher *h = calloc(1, sizeof(*h));
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (h == NULL)
		return NULL;
	h->efd = -1;
	h->fd[0] = fd[0];
	h->fd[1] = fd[1];
	h->d = *d;
	h->len0 = h->wake_lag = UINT64_MAX;
	h->wake = wake;
	h->arg = arg;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if ((h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto fail;
	h->ev = event_new(base, h->efd, EV_READ | EV_PERSIST, wake_cb, h);
	if (h->ev == NULL || event_add(h->ev, NULL) == -1)
		goto fail;
	/* Signals are the loop's (libevent's); the thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LIM_HASH_STACK);
	r = pthread_create(&h->thread, &attr, hasher_main, h);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0)
		return h;
	errno = r;
fail:
	r = errno;
	if (h->ev)
		event_free(h->ev);
	if (h->efd != -1)
		close(h->efd);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
	errno = r;
	return NULL;
}

void
hasher_add(struct hasher *h, uint64_t n)
{
	pthread_mutex_lock(&h->mu);
	h->added += n;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void
hasher_next_file(struct hasher *h)
{
	pthread_mutex_lock(&h->mu);
	h->len0 = h->added;
	pthread_mutex_unlock(&h->mu);
}

uint64_t
hasher_lag(struct hasher *h)
{
	uint64_t lag;

	pthread_mutex_lock(&h->mu);
	lag = h->added - h->hashed;
	pthread_mutex_unlock(&h->mu);
	return lag;
}

uint64_t
hasher_hashed(struct hasher *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->mu);
	n = h->hashed;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* What the loop asks for (a lag; with sync, all hashed and synced): 1 if
 * it is met now, else 0 and the thread wakes the loop when it is. */
static int
arm(struct hasher *h, uint64_t lag, int sync)
{
	int ok;

	pthread_mutex_lock(&h->mu);
	h->want_sync |= sync;
	h->wake_lag = lag;
	ok = met(h);
	if (ok)
		h->wake_lag = UINT64_MAX;
	else if (sync)
		pthread_cond_signal(&h->cv); /* a caught-up thread must sync */
	pthread_mutex_unlock(&h->mu);
	return ok;
}

int
hasher_wait(struct hasher *h, uint64_t lag)
{
	return arm(h, lag, 0);
}

int
hasher_sync(struct hasher *h)
{
	return arm(h, 0, 1);
}

int
hasher_error(struct hasher *h)
{
	int err;

	pthread_mutex_lock(&h->mu);
	err = h->err;
	pthread_mutex_unlock(&h->mu);
	return err;
}

static int
hasher_join(struct hasher *h)
{
	int err;

	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	err = h->err;
	if (err == 0 && (h->hashed != h->added || !h->synced))
		err = EINPROGRESS; /* finished before hasher_sync said 1 */
	event_free(h->ev);
	close(h->efd);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
	return err;
}

int
hasher_finish(struct hasher *h)
{
	int err = hasher_join(h);

	if (err == 0)
		return 0;
	errno = err;
	return -1;
}

void
hasher_free(struct hasher *h)
{
	if (h)
		(void)hasher_join(h);
}
