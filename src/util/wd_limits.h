/* SPDX-License-Identifier: Apache-2.0
 *
 * Every hard limit on attacker-controlled input, in one place (in the
 * spirit of SQLite's sqliteLimit.h). Exceeding one is a clear error
 * (-WD_E_TOOBIG with a diagnostic), never a crash or a silent truncation.
 */
#ifndef WD_LIMITS_H
#define WD_LIMITS_H

/* Cedar policy text */
#define WD_LIMIT_POLICY_TEXT_BYTES (64u * 1024u * 1024u) /* one policy file */
#define WD_LIMIT_POLICY_COUNT      1000000u              /* policies in a set */
#define WD_LIMIT_EXPR_DEPTH        256u                  /* parser recursion: ( [ { if nested */
#define WD_LIMIT_IDENT_BYTES       4096u                 /* one identifier */
#define WD_LIMIT_STRING_BYTES      (1u << 20)            /* one string literal, after escapes */
#define WD_LIMIT_PARSE_ERRORS      100u                  /* diagnostics kept per parse */
#define WD_LIMIT_ANNOTATIONS       256u                  /* annotations on one policy */
#define WD_LIMIT_POLICYSET_BYTES   (1024u << 20)         /* arena of one policy set */
#define WD_LIMIT_SCHEMA_TEXT_BYTES (64u * 1024u * 1024u) /* one .cedarschema file */
#define WD_LIMIT_SCHEMA_DEPTH      64u /* nesting of Set<> and records in a schema type */
/* Height of an expression's tree, in nodes from its root to its deepest
 * leaf: `a && b && c` is three levels however flat it is written, and
 * `e has a.b.c` desugars to a chain as tall. The parser and the EST reader
 * refuse a taller tree, because the later stages that walk it (evaluator,
 * typechecker, formatter, EST writer) recurse once per level up to
 * WD_LIMIT_EVAL_DEPTH; were that the smaller, a policy could be accepted
 * that errors on every request. In EST a level is two JSON levels, and a
 * policy set puts its first condition six deep: 1,000 keeps the tallest
 * tree within jansson's 2,048, so every policy that parses converts to
 * EST and reads back. */
#define WD_LIMIT_EXPR_HEIGHT 1000u

/* JSON documents (entities, requests, contexts, EST) */
#define WD_LIMIT_JSON_BYTES (256u * 1024u * 1024u)
#define WD_LIMIT_JSON_DEPTH 256u
#define WD_LIMIT_JSON_PARSE_DEPTH                                                                  \
  2048u /* nesting of JSON text (EST nests 2 levels per expression) */
#define WD_LIMIT_ENTITY_COUNT       10000000u
#define WD_LIMIT_ENTITY_STORE_BYTES (1024u * 1024u * 1024u) /* arena of one entity store */

/* Evaluation */
#define WD_LIMIT_EVAL_DEPTH        WD_LIMIT_EXPR_HEIGHT /* recursion while evaluating */
#define WD_LIMIT_VALUE_BYTES       (256u << 20)         /* arena budget for one request */
#define WD_LIMIT_VALIDATE_FINDINGS 32u /* distinct validator findings kept per policy */

/* Workload identity: JWS, task tokens, DPoP proofs, signing keys */
#define WD_LIMIT_JWS_BYTES         8192u      /* one compact JWS (task token or DPoP proof) */
#define WD_LIMIT_JWS_PART_BYTES    4096u      /* one decoded header or payload */
#define WD_LIMIT_JWT_STR_BYTES     1024u      /* one string claim (sub, jti, htu...) */
#define WD_LIMIT_PEM_BYTES         16384u     /* one PEM key file */
#define WD_LIMIT_KEYSET_KEYS       16u        /* signing keys kept in a keyset */
#define WD_LIMIT_KEYSET_FILE_BYTES 65536u     /* keyset manifest */
#define WD_LIMIT_SIGCACHE_SLOTS    (1u << 20) /* verified-token cache entries */
#define WD_LIMIT_KEYCACHE_SLOTS    (1u << 16) /* imported proof-key cache entries */
#define WD_LIMIT_PROOF_HEADER_KEPT 1024u      /* a DPoP header segment the key cache keeps */
#define WD_LIMIT_PROOF_MEMBERS     16u        /* proof payload members read without jansson */

/* The fewest characters a chosen admin token may have (a generated one
 * has 43): it guards every admin call and is checked by its hash alone. */
#define WD_LIMIT_ADMIN_TOKEN_MIN_CHARS 32u
#define WD_LIMIT_ADMIN_TOKEN_MIN_BITS  96.0 /* wd_gov__admin_token_bits below: a warning */

/* Growable buffers default cap */
#define WD_LIMIT_BUF_DEFAULT (64u * 1024u * 1024u)
#define WD_LIMIT_CLI_MULTI   64u /* values of one repeatable CLI option (--attr) */
#define WD_LIMIT_DIAG_MSG    256u

/* HTTP service (src/http, src/config) */
#define WD_LIMIT_HTTP_BODY_BYTES (1u << 20)  /* one request body */
#define WD_LIMIT_TLS_PEM_BYTES   (64u << 10) /* a --tls-cert chain or --tls-key file */
/* A task's stated tools and purpose travel in its token, whose payload
 * must fit WD_LIMIT_JWS_PART_BYTES (the largest task's is under 3.8 KiB
 * with the longest trust domain, audience and agent name). */
#define WD_LIMIT_TASK_TOOLS           32u         /* tools one task may name */
#define WD_LIMIT_TASK_NAME_BYTES      64u         /* a tool name, or a task's purpose */
#define WD_LIMIT_HTTP_CONN_MEMORY     (32u << 10) /* per-connection buffer: request line + headers */
#define WD_LIMIT_HTTP_CONNECTIONS     1024u       /* concurrent connections */
#define WD_LIMIT_HTTP_CONN_TIMEOUT_S  30u         /* idle seconds before a connection is closed */
#define WD_LIMIT_HTTP_THREADS         64u         /* worker threads in the pool */
#define WD_LIMIT_HTTP_ROUTES          256u        /* entries in one route table */
#define WD_LIMIT_HTTP_PATH_SEGMENTS   32u         /* segments in a request path or route pattern */
#define WD_LIMIT_HTTP_RESP_HEADERS    32u         /* extra headers on one response */
#define WD_LIMIT_HTTP_QUERY_ARGS      32u         /* arguments in one query string */
#define WD_LIMIT_HTTP_REQ_ARENA       (4u << 20)  /* arena of one request */
#define WD_LIMIT_HTTP_SHUTDOWN_WAIT_S 30u         /* wait for in-flight requests at shutdown */
#define WD_LIMIT_SERVE_WARN_S         5u          /* serve reports log failures this often */
#define WD_LIMIT_CONFIG_FILE_BYTES    (1u << 20)  /* one config file */

/* Store and evidence log (src/store, src/audit) */
#define WD_LIMIT_STORE_CONNECTIONS 16u         /* pooled SQLite connections per store */
#define WD_LIMIT_STORE_URL_BYTES   4096u       /* a store URL or database path */
#define WD_LIMIT_STORE_BUSY_MS     10000u      /* wait for a locked database before failing */
#define WD_LIMIT_STORE_WAL_FRAMES  65536u      /* WAL frames (4 KiB) before a restart */
#define WD_LIMIT_STORE_WAL_WAIT_MS 20u         /* a WAL restart's wait for readers */
#define WD_LIMIT_STORE_LIST_ROWS   10000u      /* rows returned by one list call */
#define WD_LIMIT_STORE_FIELD_BYTES (64u << 10) /* one stored text field (intent, JWK...) */
#define WD_LIMIT_STORE_SESSION_SET 1024u       /* distinct values in one session set of a task */
/* Rows of ended tasks (each task, its tokens, its session values) and,
 * apart, expired join tokens that one retention pass removes: a pass is
 * one transaction of the log's committer, which every decision waits
 * on, so it is kept to tens of milliseconds. */
#define WD_LIMIT_STORE_PRUNE_ROWS 2048u
/* Bytes of all the values in one task's session sets: every decision of
 * the task writes and reads them all (destinations as entities), so
 * they bound what one call costs. */
#define WD_LIMIT_SESSION_BYTES       (64u << 10)
#define WD_LIMIT_STORE_OPEN_TASKS    256u                  /* open tasks of one agent */
#define WD_LIMIT_STORE_POLICY_BYTES  (64u * 1024u * 1024u) /* one stored policy-set version */
#define WD_LIMIT_AUDIT_PAYLOAD_BYTES (256u << 10) /* canonical payload of one evidence record */
#define WD_LIMIT_AUDIT_START_CHECK   256u         /* last records every start verifies */
/* Determining policies, and errors, listed in one decision (the rest are
 * counted in a last member): the record must always fit its limit. */
#define WD_LIMIT_DECISION_ITEMS 64u
/* A call's args as compact JSON (their canonical text is about as long),
 * so the decision record that holds them stays inside the payload limit. */
#define WD_LIMIT_CALL_ARGS_BYTES (64u << 10)
/* ... and nest at most this deep, far inside the log's canonical limit. */
#define WD_LIMIT_CALL_ARGS_DEPTH      64u
#define WD_LIMIT_AUDIT_BATCH          4096u        /* records written by one group commit */
#define WD_LIMIT_AUDIT_GROUP          4u           /* records written together: a task, its token */
#define WD_LIMIT_AUDIT_COMMIT_WAIT_US 2000u        /* longest a commit waits for more records */
#define WD_LIMIT_AUDIT_COMMIT_GAP_US  250u         /* ... and for the next one to arrive */
#define WD_LIMIT_AUDIT_LINE_BYTES     (512u << 10) /* one JSON line in an exported log */
#define WD_LIMIT_AUDIT_TRACE_ROWS     1000000u     /* records returned by one trace */
#define WD_LIMIT_AUDIT_PAGE_ROWS      1000u        /* records in a page of GET /v1/audit/records */

/* Governance service live state (src/gov) */
#define WD_LIMIT_GOV_REPLAY_ENTRIES (1u << 21) /* DPoP jtis remembered in memory (24 B each) */
#define WD_LIMIT_GOV_LIVE_TASKS     65536u     /* tasks kept in memory between calls */
#define WD_LIMIT_GOV_AGENT_FENCES   1024u      /* agents being stopped at one moment */
#define WD_LIMIT_GOV_TASK_LIST      1000u      /* open tasks listed for one agent */
#define WD_LIMIT_GOV_AGENT_PAGE     (8u << 20) /* stored text of the agents one page holds */
#define WD_LIMIT_GOV_ATTRS_DEPTH    64u        /* nesting of an agent's attributes */
#define WD_LIMIT_GOV_UNREADY_MS     10000u     /* /readyz fails this long after a log failure */
/* A text field of a request (intent, reason, owner...): every one lands in
 * an evidence record, where a control character takes six bytes, and an
 * intent change's record holds two intents; at this size each fits. */
#define WD_LIMIT_GOV_TEXT_FIELD    (8u << 10)
#define WD_LIMIT_GOV_DECISION_TEXT (4u << 20)  /* entities, request or context of a decision */
#define WD_LIMIT_GOV_ENTITY_CACHE  256u        /* parsed entity stores kept for reuse */
#define WD_LIMIT_GOV_ENTITY_CACHED (64u << 10) /* largest entities text worth keeping */

/* What a start refused for its policies says: one line per problem */
#define WD_LIMIT_GOV_START_PROBLEMS 10u         /* problems listed; then how many more */
#define WD_LIMIT_GOV_PROBLEM_BYTES  (16u << 10) /* one line, with its paths */

#endif
