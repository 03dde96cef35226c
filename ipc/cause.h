/* The words for a fault's cause (enum err_cause, ipc/msg.h). */
#ifndef IMGD_IPC_CAUSE_H
#define IMGD_IPC_CAUSE_H

#include <stddef.h>

#include "ipc/msg.h"

/* The sentence for f, as snprintf: the length it wanted. */
int fault_words(const struct ipc_fault *f, char *buf, size_t len);

/* A short token for the cause ("not-found"), for logs and audit. */
const char *fault_token(int cause);

#endif
