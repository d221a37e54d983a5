/* SPDX-License-Identifier: Apache-2.0
 *
 * Warden's signing keyset: one active Ed25519 key that signs new task
 * tokens, plus retired keys that still verify tokens they signed until
 * those tokens have expired. kid is the RFC 7638 thumbprint, so a kid can
 * never name two different keys. The keyset persists as a directory of
 * 0600 PEM files plus a manifest; a kid in the manifest must be a
 * thumbprint (43 base64url characters) before it is used in a path, which
 * rules out path tricks, and must match the key it names on load.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

typedef struct entry {
  wd_ident_key *key; /* owned */
  int64_t created;
  int64_t retires; /* 0 while active */
} entry;

/* keys[0] is the active key when n > 0; the rest are retired, newest first. */
struct wd_ident_keyset {
  entry keys[WD_LIMIT_KEYSET_KEYS];
  size_t n;
};

#define MANIFEST "keyset.json"

int wd_ident_keyset_new(wd_ident_keyset **out) {
  *out = wd_calloc(1, sizeof **out);
  return *out ? 0 : -WD_E_NOMEM;
}

void wd_ident_keyset_free(wd_ident_keyset *ks) {
  if (!ks) return;
  for (size_t i = 0; i < ks->n; i++)
    wd_ident_key_free(ks->keys[i].key);
  wd_free(ks);
}

size_t wd_ident_keyset_count(const wd_ident_keyset *ks) { return ks ? ks->n : 0; }

static int valid_at(const entry *e, int64_t now) { return e->retires == 0 || now <= e->retires; }

void wd_ident_keyset_prune(wd_ident_keyset *ks, int64_t now) {
  size_t w = 0;
  for (size_t i = 0; i < ks->n; i++) {
    if (valid_at(&ks->keys[i], now))
      ks->keys[w++] = ks->keys[i];
    else
      wd_ident_key_free(ks->keys[i].key);
  }
  for (size_t i = w; i < ks->n; i++)
    memset(&ks->keys[i], 0, sizeof ks->keys[i]);
  ks->n = w;
}

int wd_ident_keyset_rotate(wd_ident_keyset *ks, int64_t now, int64_t overlap) {
  if (!ks) return -WD_E_INVAL;
  /* A retired key must outlive every token it signed, clock skew included. */
  const int64_t min_overlap = WD_IDENT_TOKEN_TTL_MAX + WD_IDENT_LEEWAY_DEFAULT;
  if (overlap < min_overlap) overlap = min_overlap;
  wd_ident_keyset_prune(ks, now);
  wd_ident_key *k = NULL;
  int rc = wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k);
  if (rc) return rc;
  if (ks->n == WD_LIMIT_KEYSET_KEYS) {
    /* Full of still-valid keys: rotating this fast is abuse; drop the oldest. */
    wd_ident_key_free(ks->keys[ks->n - 1].key);
    ks->n--;
  }
  memmove(&ks->keys[1], &ks->keys[0], ks->n * sizeof ks->keys[0]);
  if (ks->n > 0) ks->keys[1].retires = now + overlap;
  ks->keys[0] = (entry){.key = k, .created = now, .retires = 0};
  ks->n++;
  return 0;
}

const wd_ident_key *wd_ident_keyset_active(const wd_ident_keyset *ks) {
  return ks && ks->n > 0 && ks->keys[0].retires == 0 ? ks->keys[0].key : NULL;
}

const wd_ident_key *wd_ident_keyset_find_signer(const wd_ident_keyset *ks, const char *kid,
                                                int64_t now, int64_t *signed_until) {
  if (!ks || !kid) return NULL;
  for (size_t i = 0; i < ks->n; i++) {
    const entry *e = &ks->keys[i];
    if (strcmp(e->key->jkt, kid) != 0) continue;
    if (!valid_at(e, now)) return NULL;
    /* A key stopped signing when the next one was made. */
    int64_t until = INT64_MAX;
    for (size_t j = 0; j < ks->n; j++)
      if (ks->keys[j].created > e->created && ks->keys[j].created < until)
        until = ks->keys[j].created;
    if (e->retires == 0) until = INT64_MAX;
    if (signed_until) *signed_until = until;
    return e->key;
  }
  return NULL;
}

const wd_ident_key *wd_ident_keyset_find(const wd_ident_keyset *ks, const char *kid, int64_t now) {
  return wd_ident_keyset_find_signer(ks, kid, now, NULL);
}

int wd_ident_keyset_jwks(const wd_ident_keyset *ks, int64_t now, char **out) {
  *out = NULL;
  json_t *arr = json_array();
  json_t *doc = arr ? json_pack("{s:o}", "keys", arr) : NULL;
  if (!doc) return -WD_E_NOMEM;
  int rc = 0;
  for (size_t i = 0; i < ks->n && !rc; i++) {
    if (!valid_at(&ks->keys[i], now)) continue;
    json_t *jwk = NULL;
    rc = wd_ident_key_to_jwk_json(ks->keys[i].key, ks->keys[i].key->jkt, &jwk);
    if (!rc && json_array_append_new(arr, jwk) != 0) rc = -WD_E_NOMEM;
  }
  if (!rc) rc = wd_ident__json_dump(doc, out, NULL);
  json_decref(doc);
  return rc;
}

static int is_kid(const char *s) {
  if (!s || strlen(s) != WD_IDENT_JKT_LEN) return 0;
  uint8_t md[32];
  size_t n = 0;
  return wd_ident_b64url_decode(s, WD_IDENT_JKT_LEN, md, sizeof md, &n) == 0 && n == 32;
}

static int key_path(wd_buf *b, const char *dir, const char *kid) {
  wd_buf_reset(b);
  return wd_buf_addf(b, "%s/%s.pem", dir, kid);
}

/* Deletes PEM files of keys no longer in the keyset, so retired private
 * keys do not outlive their purpose on disk. Best effort. */
static void remove_stale(const wd_ident_keyset *ks, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  wd_buf path;
  wd_buf_init(&path, 4096);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t n = strlen(de->d_name);
    if (n != WD_IDENT_JKT_LEN + 4 || strcmp(de->d_name + WD_IDENT_JKT_LEN, ".pem") != 0) continue;
    int keep = 0;
    for (size_t i = 0; i < ks->n && !keep; i++)
      keep = memcmp(ks->keys[i].key->jkt, de->d_name, WD_IDENT_JKT_LEN) == 0;
    if (keep) continue;
    wd_buf_reset(&path);
    if (wd_buf_addf(&path, "%s/%s", dir, de->d_name) == 0) (void)unlink(wd_buf_str(&path));
  }
  wd_buf_free(&path);
  (void)closedir(d);
}

int wd_ident_keyset_save(const wd_ident_keyset *ks, const char *dir) {
  if (!ks || !dir) return -WD_E_INVAL;
  if (mkdir(dir, S_IRWXU) != 0 && errno != EEXIST) return -WD_E_IO;
  json_t *list = json_array();
  json_t *doc = list ? json_pack("{s:i, s:o}", "version", 1, "keys", list) : NULL;
  if (!doc) return -WD_E_NOMEM;
  wd_buf path;
  wd_buf_init(&path, 4096);
  int rc = 0;
  for (size_t i = 0; i < ks->n && !rc; i++) {
    const entry *e = &ks->keys[i];
    if ((rc = key_path(&path, dir, e->key->jkt)) != 0) break;
    if ((rc = wd_ident_key_save(e->key, wd_buf_str(&path))) != 0) break;
    json_t *item = json_pack("{s:s, s:I, s:I}", "kid", e->key->jkt, "created",
                             (json_int_t)e->created, "retires", (json_int_t)e->retires);
    if (!item || json_array_append_new(list, item) != 0) rc = -WD_E_NOMEM;
  }
  char *text = NULL;
  size_t len = 0;
  if (!rc) rc = wd_ident__json_dump(doc, &text, &len);
  if (!rc) {
    wd_buf_reset(&path);
    rc = wd_buf_addf(&path, "%s/%s", dir, MANIFEST);
  }
  /* The manifest goes last: until it lands, the old one names old files. */
  if (!rc) rc = wd_ident__write_file_0600(wd_buf_str(&path), text, len);
  if (!rc) remove_stale(ks, dir);
  wd_free(text);
  wd_buf_free(&path);
  json_decref(doc);
  return rc;
}

/* Writes what went wrong with the file at path into why (when given). */
static void explain(char *why, size_t whylen, const char *path, const char *what) {
  if (why && whylen) (void)snprintf(why, whylen, "%s: %s", path, what);
}

static int load_entry(wd_ident_keyset *ks, const char *dir, const json_t *item, wd_buf *path,
                      const char *manifest, char *why, size_t whylen) {
  const char *kid = wd_ident__json_str(item, "kid");
  int64_t created = 0, retires = 0;
  if (!is_kid(kid) || wd_ident__json_int(item, "created", &created) != 0 ||
      wd_ident__json_int(item, "retires", &retires) != 0 || retires < 0) {
    explain(why, whylen, manifest, "a key entry lacks a valid kid, created or retires");
    return -WD_E_VALIDATE;
  }
  /* Only the first key may be active. */
  if ((ks->n == 0) != (retires == 0)) {
    explain(why, whylen, manifest, "the first key, and only it, must be the active one");
    return -WD_E_VALIDATE;
  }
  int rc = key_path(path, dir, kid);
  if (rc) return rc;
  wd_ident_key *k = NULL;
  if ((rc = wd_ident_key_load(wd_buf_str(path), &k)) != 0) {
    /* A key the manifest names but the directory lacks is damage, not a
     * first start: -WD_E_NOTFOUND is kept for a missing manifest. */
    explain(why, whylen, wd_buf_str(path),
            rc == -WD_E_NOTFOUND ? "missing, though keyset.json names it" : wd_strerror(rc));
    return rc == -WD_E_NOTFOUND ? -WD_E_VALIDATE : rc;
  }
  if (k->type != WD_IDENT_KEY_ED25519 || !k->has_private || strcmp(k->jkt, kid) != 0) {
    wd_ident_key_free(k);
    explain(why, whylen, wd_buf_str(path),
            "does not hold the Ed25519 private key keyset.json names");
    return -WD_E_VALIDATE;
  }
  ks->keys[ks->n++] = (entry){.key = k, .created = created, .retires = retires};
  return 0;
}

int wd_ident_keyset_load_diag(const char *dir, wd_ident_keyset **out, char *why, size_t whylen) {
  *out = NULL;
  if (why && whylen) why[0] = '\0';
  if (!dir) return -WD_E_INVAL;
  wd_buf path;
  wd_buf_init(&path, 4096);
  int rc = wd_buf_addf(&path, "%s/%s", dir, MANIFEST);
  if (rc) return rc;
  char *text = NULL, *manifest = NULL;
  size_t len = 0;
  json_t *doc = NULL;
  wd_ident_keyset *ks = NULL;
  if (!(manifest = wd_strdup(wd_buf_str(&path)))) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  if ((rc = wd_ident__read_file(manifest, WD_LIMIT_KEYSET_FILE_BYTES, &text, &len)) != 0) {
    if (rc != -WD_E_NOTFOUND) explain(why, whylen, manifest, wd_strerror(rc));
    goto out;
  }
  doc = wd_ident__json_object(text, len);
  const json_t *list = doc ? json_object_get(doc, "keys") : NULL;
  int64_t version = 0;
  if (!json_is_array(list) || wd_ident__json_int(doc, "version", &version) != 0 || version != 1) {
    explain(why, whylen, manifest, "malformed JSON, or not a version 1 keyset manifest");
    rc = -WD_E_JSON;
    goto out;
  }
  if (json_array_size(list) > WD_LIMIT_KEYSET_KEYS) {
    explain(why, whylen, manifest, "names more keys than a keyset holds");
    rc = -WD_E_TOOBIG;
    goto out;
  }
  if ((rc = wd_ident_keyset_new(&ks)) != 0) goto out;
  for (size_t i = 0; i < json_array_size(list) && !rc; i++)
    rc = load_entry(ks, dir, json_array_get(list, i), &path, manifest, why, whylen);
  if (rc) goto out;
  *out = ks;
  ks = NULL;
out:
  wd_ident_keyset_free(ks);
  json_decref(doc);
  wd_free(text);
  wd_free(manifest);
  wd_buf_free(&path);
  return rc;
}

int wd_ident_keyset_load(const char *dir, wd_ident_keyset **out) {
  return wd_ident_keyset_load_diag(dir, out, NULL, 0);
}
