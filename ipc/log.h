/*
 * Logging shared by all imgd processes: one line per event on stderr,
 * "TIME PROC[PID]: LEVEL: message". The store's stderr is the operator's
 * terminal or journal; children inherit it.
 */
#ifndef IMGD_IPC_LOG_H
#define IMGD_IPC_LOG_H

#include <stdarg.h>

/* Levels as log_set_hook's fn sees them (the same numbers as LOGLEVEL_*
 * in ipc/msg.h). */
enum { LOG_HOOK_DEBUG, LOG_HOOK_INFO, LOG_HOOK_WARNING, LOG_HOOK_FATAL };

void log_set_hook(void (*fn)(int level, const char *message));
void log_init(const char *procname, int debug);
void log_setdebug(int debug);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
