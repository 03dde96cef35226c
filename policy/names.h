/*
 * The one rule for alias names, used by the store (which decides), the
 * frontend (for an early answer) and imgctl (to say it in its own words).
 */
#ifndef IMGD_POLICY_NAMES_H
#define IMGD_POLICY_NAMES_H

#include <stddef.h>

/* 0 if name may name an alias, else -1 with the reason in why. */
int alias_name_check(const char *name, char *why, size_t whylen);

#endif
