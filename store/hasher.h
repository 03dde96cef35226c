/*
 * A thread of the store that hashes an upload's temp files behind the
 * event loop's writes (store/hasher.c). The loop splices bytes into the
 * files and says how many (hasher_add); the thread reads them back through
 * a mapping and updates the digests, starts the files' writeback, and at
 * the end syncs them (hasher_sync). The digests belong to the thread from
 * hasher_new until hasher_finish or hasher_free has joined it.
 */
#ifndef IMGD_STORE_HASHER_H
#define IMGD_STORE_HASHER_H

#include <event2/event.h>
#include <openssl/evp.h>
#include <stdint.h>

struct hasher;

/* The digests each byte of file i goes into (any may be NULL but all). */
struct hasher_digests {
	EVP_MD_CTX *all;
	EVP_MD_CTX *file[2];
	EVP_MD_CTX *b2[2];
};

/* wake(arg) runs in the loop when a hasher_wait is met (or hashing
 * failed). NULL when the thread or its eventfd could not be made. */
struct hasher *hasher_new(struct event_base *base, const int fd[2],
    const struct hasher_digests *d, void (*wake)(void *), void *arg);
/* n more bytes of the current file are in it. */
void hasher_add(struct hasher *h, uint64_t n);
/* The current file is complete; the bytes added next are file 1's. */
void hasher_next_file(struct hasher *h);
/* Bytes added but not hashed yet. */
uint64_t hasher_lag(struct hasher *h);
/* Bytes of both files hashed, in order (file 0's first). */
uint64_t hasher_hashed(struct hasher *h);
/* 1 when the lag is at most lag (or hashing failed); else 0, and wake()
 * runs once it is. */
int hasher_wait(struct hasher *h, uint64_t lag);
/* 0, or the errno of the mapping that failed (hashing stopped there). */
int hasher_error(struct hasher *h);
/* Every byte is added: 1 when all is hashed and both files are synced to
 * the disk (or hashing failed); else 0, and wake() runs once they are. */
int hasher_sync(struct hasher *h);
/* Joins the thread once hasher_sync said 1: 0, or -1 with errno when a
 * mapping or the sync failed (EINPROGRESS: called too early). Frees h. */
int hasher_finish(struct hasher *h);
/* Stops the thread wherever it is and frees h; the digests are then
 * incomplete. */
void hasher_free(struct hasher *h);

#endif
