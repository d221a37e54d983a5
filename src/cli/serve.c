/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden serve`: load the configuration, start the HTTP service, print the
 * URL it listens on (and, on the first start only, the generated admin
 * token), wait for SIGTERM or SIGINT, shut down gracefully: in-flight
 * requests finish, and every answered decision is already durable in the
 * evidence log. The service itself is src/gov. This is front-end code: it
 * prints, and it owns the process's signal disposition (the libraries
 * never touch signals).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "config/wd_config.h"
#include "gov/wd_gov.h"
#include "ident/wd_ident.h"
#include "util/wd_limits.h"
#include "warden/err.h"

extern char **environ;

static void usage(FILE *out) {
  char keys[8192];
  (void)wd_config_help(keys, sizeof keys);
  fprintf(out,
          "usage: warden serve [--config FILE] [flags]\n"
          "\n"
          "Runs the governance service until SIGTERM or SIGINT; SIGHUP reopens\n"
          "the access log.\n"
          "Precedence: flags > WARDEN_* environment > config file > defaults.\n"
          "The config file (JSON, keys below) is --config FILE, else $WARDEN_CONFIG;\n"
          "it must be a regular file of this user or root that group and others\n"
          "cannot write.\n"
          "\n"
          "Exit status: 0 stopped by SIGTERM or SIGINT after serving; 64 a bad\n"
          "setting; 1 the start failed (state, policies, address, TLS files), or\n"
          "the stop cut off requests still being handled at --shutdown-timeout\n"
          "(a client still sending its request is just dropped); a stop signal\n"
          "during the start ends it at once (shells show 143 for SIGTERM, 130\n"
          "for SIGINT).\n"
          "\n"
          "  %-22s %-26s %-18s %s\n%s",
          "flag", "environment", "file key", "meaning", keys);
}

/* Says how many evidence records could not be written since the last
 * report, if any: a call waiting on one was refused with a 500. */
static void warn_log_failures(wd_gov *srv, uint64_t *warned) {
  int last = 0;
  uint64_t n = wd_gov_log_failures(srv, &last);
  if (n <= *warned) return;
  fprintf(stderr,
          "warden: the evidence log could not write %llu record(s) (%s); calls waiting on them "
          "were refused; check the data directory's disk\n",
          (unsigned long long)(n - *warned), wd_strerror(last));
  *warned = n;
}

static void warn(void *ctx, const char *msg) {
  (void)ctx;
  fprintf(stderr, "warden serve: warning: %s\n", msg);
}

/* The start-up watcher: while wd_gov_start runs (it may wait long, on a
 * FIFO access log or a slow disk), a stop signal ends the process at once
 * with the signal's default action, as before any state was served. Once
 * *started is set it hands a signal to the main loop instead. */
typedef struct watch {
  sigset_t set;         /* SIGTERM, SIGINT */
  atomic_int started;   /* set by the main thread once serving */
  volatile int pending; /* a stop signal taken after start, for the main loop */
} watch;

static void *watch_start(void *arg) {
  watch *w = arg;
  struct timespec tick = {0, 50 * 1000 * 1000};
  while (!atomic_load(&w->started)) {
    int sig = sigtimedwait(&w->set, NULL, &tick);
    if (sig != SIGTERM && sig != SIGINT) continue;
    if (atomic_load(&w->started)) {
      w->pending = sig;
      break;
    }
    /* Die of the signal itself, so the parent sees 128+sig. */
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    (void)signal(sig, SIG_DFL);
    (void)pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    (void)raise(sig);
    _exit(128 + sig);
  }
  return NULL;
}

int wd_cli_serve(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
  }
  wd_config cfg;
  char err[4096]; /* a refused policy set lists several problems */
  if (wd_config_load(&cfg, argc - 1, argv + 1, environ, err, sizeof err) < 0) {
    fprintf(stderr, "warden serve: %s\n", err);
    return 64;
  }
  /* wd_gov_start makes the data directory, once everything that can be
   * checked without it (policies, schema, TLS files, address) is. */

  /* Block the stop signals before any thread exists, so every MHD worker
   * inherits the mask and only sigwait below sees them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
    fprintf(stderr, "warden serve: cannot block signals\n");
    wd_config_clear(&cfg);
    return 1;
  }
  (void)signal(SIGPIPE, SIG_IGN);
  /* Past a file-size limit a write must fail like a full disk (the call
   * is refused, the log stays whole), not kill the server mid-commit. */
  (void)signal(SIGXFSZ, SIG_IGN);
  /* The mask above is inherited by every thread; this one alone takes a
   * stop signal until the server listens. */
  watch w;
  sigemptyset(&w.set);
  sigaddset(&w.set, SIGTERM);
  sigaddset(&w.set, SIGINT);
  atomic_init(&w.started, 0);
  w.pending = 0;
  pthread_t watcher;
  if (pthread_create(&watcher, NULL, watch_start, &w) != 0) {
    fprintf(stderr, "warden serve: cannot start the signal watcher\n");
    wd_config_clear(&cfg);
    return 1;
  }

  wd_gov_opts o;
  memset(&o, 0, sizeof o);
  o.data_dir = cfg.data_dir;
  o.policy_dir = cfg.policy_dir;
  o.trust_domain = cfg.trust_domain;
  o.admin_token = cfg.admin_token;
  o.host = cfg.listen_host;
  o.port = cfg.listen_port;
  o.threads = cfg.threads;
  o.max_connections = cfg.max_connections;
  o.max_per_ip = cfg.per_ip_connections;
  o.conn_timeout_s = cfg.connection_timeout_s;
  o.max_body = cfg.max_body_bytes;
  o.schema_path = cfg.schema_path;
  o.audience = cfg.audience;
  o.pure_cedar = (int)cfg.pure_cedar;
  o.token_ttl_s = cfg.token_ttl_s;
  o.quarantine_denials = cfg.quarantine_denials;
  o.quarantine_window_s = cfg.quarantine_window_s;
  o.key_rotation_s = cfg.key_rotation_s;
  o.retention_s = cfg.retention_s;
  o.tls_cert = cfg.tls_cert;
  o.tls_key = cfg.tls_key;
  o.public_url = cfg.public_url;
  o.access_log = cfg.access_log;
  o.warn = warn;
  wd_gov *srv = NULL;
  char *admin = NULL;
  int rc = wd_gov_start(&o, &srv, &admin, err, sizeof err);
  atomic_store(&w.started, 1);
  (void)pthread_join(watcher, NULL);
  if (rc < 0) {
    fprintf(stderr, "warden serve: %s\n", err[0] ? err : wd_strerror(rc));
    wd_config_clear(&cfg);
    return 1;
  }
  int v6 = strchr(cfg.listen_host, ':') != NULL;
  printf("warden: listening on %s://%s%s%s:%u\n", cfg.tls_cert[0] ? "https" : "http", v6 ? "[" : "",
         cfg.listen_host, v6 ? "]" : "", (unsigned)wd_gov_port(srv));
  if (cfg.public_url[0]) printf("warden: agents reach it as %s\n", cfg.public_url);
  /* Admin and task tokens are bearer credentials: beyond loopback they
   * need TLS here or at a proxy in front (which --public-url names). */
  if (!cfg.tls_cert[0] && !cfg.public_url[0] && !cl_host_is_loopback(cfg.listen_host))
    fprintf(stderr,
            "warden serve: warning: listening on %s without TLS: tokens would cross the network "
            "in the clear; give --tls-cert and --tls-key, or put a TLS proxy in front and name "
            "it with --public-url\n",
            cfg.listen_host);
  /* Without it a proof's htu is checked against the Host the request
   * names, which binds the path but not the server: a proof made for
   * another Warden that knows the same agent key would pass here. */
  else if (!cfg.public_url[0] && !cl_host_is_loopback(cfg.listen_host))
    fprintf(stderr,
            "warden serve: warning: no --public-url: DPoP proofs are checked against the Host "
            "each request names; name the URL agents use with --public-url so that a proof made "
            "for another server is refused\n");
  if (admin) {
    /* Printed once: only its hash is stored. A token nobody saw locks
     * every admin out, so a failed print stops the server at once. */
    printf("warden: admin token (shown once): %s\n", admin);
    wd_ident_secret_free(admin);
    if (cl_flush_stdout("warden serve", "the admin token") != CL_OK) {
      fprintf(stderr,
              "warden serve: stopping: no one holds the new admin token, but its hash is "
              "stored; run `warden admin reset-token --data %s` to make one, then start again\n",
              cfg.data_dir);
      (void)wd_gov_shutdown(srv, 0);
      wd_gov_free(srv);
      wd_config_clear(&cfg);
      return 1;
    }
  }
  (void)fflush(stdout);

  int sig = w.pending;
  uint64_t warned = 0;
  /* SIGHUP reopens the access log (after logrotate moved it); between
   * signals, a failing evidence log is reported here, since the service
   * never prints. */
  while (sig != SIGTERM && sig != SIGINT) {
    struct timespec every = {(time_t)WD_LIMIT_SERVE_WARN_S, 0};
    sig = sigtimedwait(&stop, NULL, &every);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGHUP && wd_gov_reopen_logs(srv) != 0)
      fprintf(stderr, "warden: cannot reopen the access log; still writing the old file\n");
    warn_log_failures(srv, &warned);
  }
  fprintf(stderr, "warden: %s received, finishing in-flight requests\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  rc = wd_gov_shutdown(srv, cfg.shutdown_timeout_s * 1000u);
  if (rc < 0)
    fprintf(stderr, "warden: shutdown deadline passed with requests still being handled\n");
  warn_log_failures(srv, &warned);
  wd_gov_free(srv);
  wd_config_clear(&cfg);
  fprintf(stderr, "warden: stopped\n");
  return rc < 0 ? 1 : 0;
}
