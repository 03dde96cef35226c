/*
 * Inside the store's API (api.c, api_list.c, api_alias.c): the replies
 * and lookups the handlers share.
 */
#ifndef IMGD_STORE_API_H
#define IMGD_STORE_API_H

#include <stdint.h>

#include "store/store.h"

/* api.c */
void changing_set(uint64_t reqid, const char *action, const char *project,
    const char *target, const char *requestor);
/* OK, with the resource it created (RES_*, name) or RES_NONE, "". */
void reply_ok(uint64_t reqid, int kind, const char *name);
void reply_db(uint64_t reqid, int rc, int subject); /* subject: RES_* */
void reply_image(
    uint64_t reqid, struct image *img, const char *proj, int in_list);
/* image.c */
void image_etag(const struct image *img, char out[65]);
void alias_etag(const struct alias *a, char out[65]);
/* The project's id, or -1 after answering 404. */
int api_project(uint64_t reqid, const char *name, int64_t *id);
/* An image of the project by fingerprint or unique prefix, or -1 after
 * answering. */
int resolve(uint64_t reqid, const char *proj, const char *ref, int64_t *pid,
    struct image *img);

/* api_list.c */
enum { LIST_IMAGES, LIST_ALIASES, LIST_PROJECTS, LIST_STREAMS };
/* proj "" (LIST_PROJECTS only): every project. */
/* pkey, pval: "" or the property every listed image has (images only). */
void list_start(uint64_t reqid, const char *proj, int kind, int used_by,
    const char *pkey, const char *pval);
void list_more(uint64_t reqid, const struct imsg_list_more *m);
void lists_frontend_gone(void);

/* api_alias.c */
void reply_alias(uint64_t reqid, const struct alias *a);
void alias_get(uint64_t reqid, struct imsg_alias_req *r);
void alias_create(uint64_t reqid, struct imsg_alias_create_req *r);
void alias_update(uint64_t reqid, struct imsg_alias_update_req *r);
void alias_rename(uint64_t reqid, struct imsg_alias_rename_req *r);
void alias_delete(uint64_t reqid, struct imsg_alias_req *r);

#endif
