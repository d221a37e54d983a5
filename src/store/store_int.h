/* SPDX-License-Identifier: Apache-2.0
 *
 * The store's backend vtable (STYLE habit 4). A backend embeds struct
 * wd_store as its first member and fills one wd_store_vtab; store.c routes
 * each public call through it after checking arguments that every backend
 * would check the same way. Not for use outside src/store.
 */
#ifndef WD_STORE_INT_H
#define WD_STORE_INT_H

#include "store/wd_store.h"

typedef struct wd_store_vtab {
  const char *name; /* "sqlite" */
  void (*close)(wd_store *s);
  int (*schema_version)(wd_store *s, int *version);
  int (*migrate)(wd_store *s);
  int (*checkpoint)(wd_store *s, uint32_t restart_frames);
  int (*backup)(wd_store *s, const char *path);

  int (*agent_register)(wd_store *s, const wd_agent *a, int64_t now_ms);
  int (*agent_get)(wd_store *s, const char *id, const char *jkt, wd_agent *out);
  int (*agent_list)(wd_store *s, const char *after, size_t max, wd_agent_list *out);
  int (*agent_set_status)(wd_store *s, const char *id, wd_agent_status st, const char *reason,
                          int64_t now_ms, unsigned *tasks_ended);
  int (*join_create)(wd_store *s, const char *hash, const char *agent_name, int64_t expires_ms,
                     int64_t now_ms);
  int (*join_consume)(wd_store *s, const char *hash, const char *jwk, const char *jkt,
                      int64_t now_ms, wd_agent *agent);
  int (*join_check)(wd_store *s, const char *hash, int64_t now_ms, const char *agent_id);

  int (*task_create)(wd_store *s, const wd_task *t, int64_t ttl_ms, int64_t now_ms);
  int (*task_get)(wd_store *s, const char *id, wd_task *out);
  int (*task_set_intent)(wd_store *s, const char *id, const char *intent, const char *purpose,
                         const char *expected_tools, int64_t now_ms);
  int (*task_end)(wd_store *s, const char *id, wd_task_status st, const char *reason,
                  int64_t now_ms);
  int (*task_count_call)(wd_store *s, const char *id, int64_t now_ms, wd_call_verdict *verdict,
                         int64_t *calls_before);
  int (*task_record_call)(wd_store *s, const char *id, const char *tool, const char *cls,
                          const char *dest, int allowed);
  int (*task_session)(wd_store *s, const char *id, wd_session *out);
  int (*task_list_expired)(wd_store *s, int64_t now_ms, size_t max, wd_strlist *out);
  int (*task_list_open)(wd_store *s, const char *agent_id, size_t max, wd_strlist *out);

  int (*token_record)(wd_store *s, const char *jti, const char *task_id, int64_t exp_ms,
                      int64_t now_ms);
  int (*token_revoke)(wd_store *s, const char *jti, int64_t now_ms);
  int (*token_revoke_task)(wd_store *s, const char *task_id, int64_t now_ms, unsigned *n);
  int (*token_is_revoked)(wd_store *s, const char *jti, int *revoked);
  int (*dpop_seen)(wd_store *s, const char *jti, int64_t exp_ms, int *is_new);
  int (*dpop_prune)(wd_store *s, int64_t now_ms, unsigned *n);
  int (*dpop_scan)(wd_store *s, int64_t now_ms, wd_dpop_cb cb, void *ctx);
  int (*prune_plan)(wd_store *s, int64_t before_ms, uint32_t max, wd_store_prune *out);

  int (*policy_add)(wd_store *s, const char *text, size_t len, int64_t now_ms, int64_t *version);
  int (*policy_activate)(wd_store *s, int64_t version);
  int (*policy_get)(wd_store *s, int64_t version, wd_policy_version *out); /* 0 = active */

  int (*setting_put)(wd_store *s, const char *key, const char *value, int only_if_absent);
  int (*setting_get)(wd_store *s, const char *key, char **value);

  int (*audit_tail)(wd_store *s, int64_t *seq, char *hash);
  int (*audit_append)(wd_store *s, const wd_audit_row *rows, size_t n, const wd_store_fx *fx,
                      size_t nfx, size_t *bad_fx);
  int (*audit_scan)(wd_store *s, const char *task, int64_t from_seq, wd_audit_row_cb cb, void *ctx);
} wd_store_vtab;

struct wd_store {
  const wd_store_vtab *vt;
  unsigned flags; /* WD_STORE_* given to open */
};

/* Opens the SQLite backend on a file path (store_sqlite.c). */
int wd_store__sqlite_open(const char *path, unsigned flags, wd_store **out);

/* Checks a text field: non-NULL (unless optional), at most
 * WD_LIMIT_STORE_FIELD_BYTES. Returns 0, -WD_E_INVAL or -WD_E_TOOBIG. */
int wd_store__check_text(const char *s, int optional);
/* Returns 0 when s is the text of a JSON value of the given jansson type
 * (JSON_OBJECT, JSON_ARRAY ...), -WD_E_INVAL otherwise. */
int wd_store__check_json(const char *s, int want);

#endif
