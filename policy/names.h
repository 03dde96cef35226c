/*
 * The one rule for alias names, used by the store (which decides), the
 * frontend (for an early answer) and imgctl (to say it in its own words),
 * and the shape of a project name (what the IPC table carries).
 */
#ifndef IMGD_POLICY_NAMES_H
#define IMGD_POLICY_NAMES_H

#include <stddef.h>

/* 0 if name may name an alias, else -1 with the reason in why. */
int alias_name_check(const char *name, char *why, size_t whylen);
/* The same, as the API's message: Invalid alias name "NAME": why (NAME cut
 * at 64 bytes). */
int alias_name_refusal(const char *name, char *msg, size_t msglen);
/* 1 if name can be a project's: 1..LIM_PROJECT_NAME_MAX bytes, UTF-8, no
 * control character, no '/'. */
int project_name_ok(const char *name);
/* 0 if a new project may have this name (LXD's rules: no slash, space,
 * underscore, quote, not "*", "." or ".."), else -1 with the reason in why. */
int project_name_check(const char *name, char *why, size_t whylen);

/* ".tar.xz" for "xz", ...: "" for a name it does not know. */
const char *tar_ext(const char *compression);

#endif
