/*
 * The one rule for alias names, used by the store (which decides), the
 * frontend (for an early answer) and imgctl (to say it in its own words).
 */
#ifndef IMGD_POLICY_NAMES_H
#define IMGD_POLICY_NAMES_H

#include <stddef.h>

/* 0 if name may name an alias, else -1 with the reason in why. */
int alias_name_check(const char *name, char *why, size_t whylen);
/* The same, as the API's message: Invalid alias name "NAME": why (NAME cut
 * at 64 bytes). */
int alias_name_refusal(const char *name, char *msg, size_t msglen);

#endif
