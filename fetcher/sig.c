/*
 * The fetcher's signature check: policy/sig.c's parse and check of a
 * detached signature fetched next to a document or an image file.
 */
#include "fetcher/fetch.h"

int
sig_check(struct fx *x, const struct pubkey *k, const char *what,
    const char *sig, size_t siglen, const uint8_t *msg, size_t msglen,
    const uint8_t *prehash)
{
	struct sig s;
	char err[LIM_ERROR_MAX];
	int e = sig_parse(sig, siglen, &s);

	if (e != SIG_OK)
		return fx_fail(
		    x, FETCH_E_VERIFY, "%s: %s", what, sig_parse_error(e));
	if (sig_verify(k, &s, what, msg, msglen, prehash, err, sizeof(err)) ==
	    -1)
		return fx_fail(x, FETCH_E_VERIFY, "%s", err);
	return 0;
}
