/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden serve`: load the configuration, start the HTTP service, print the
 * URL it listens on, wait for SIGTERM or SIGINT, shut down gracefully. For
 * now it serves /healthz and /readyz only; the governance routes plug into
 * the same route table. This is front-end code: it prints, and it owns the
 * process's signal disposition (the libraries never touch signals).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/wd_config.h"
#include "http/wd_http.h"
#include "warden/err.h"

extern char **environ;

typedef struct serve_svc {
  const wd_config *cfg;
} serve_svc;

/* Ready when the state directory is usable; the store will replace this
 * with a real probe. */
static int ready(void *svc, char *reason, size_t len) {
  const serve_svc *s = svc;
  if (access(s->cfg->data_dir, R_OK | W_OK | X_OK) != 0) {
    (void)snprintf(reason, len, "data directory not usable: %s", strerror(errno));
    return 1;
  }
  return 0;
}

static void flush(void *svc) {
  (void)svc; /* nothing buffered yet; the evidence log will flush here */
}

static void usage(FILE *out) {
  char keys[2048];
  (void)wd_config_help(keys, sizeof keys);
  fprintf(out,
          "usage: warden serve [--config FILE] [flags]\n"
          "\n"
          "Runs the governance service until SIGTERM or SIGINT.\n"
          "Precedence: flags > WARDEN_* environment > config file > defaults.\n"
          "\n"
          "  %-22s %-26s %-18s %s\n%s",
          "flag", "environment", "file key", "meaning", keys);
}

int wd_cli_serve(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
  }
  wd_config cfg;
  char err[512];
  if (wd_config_load(&cfg, argc - 1, argv + 1, environ, err, sizeof err) < 0) {
    fprintf(stderr, "warden serve: %s\n", err);
    return 64;
  }
  if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "warden serve: cannot create data directory %s: %s\n", cfg.data_dir,
            strerror(errno));
    wd_config_clear(&cfg);
    return 1;
  }

  /* Block the stop signals before any thread exists, so every MHD worker
   * inherits the mask and only sigwait below sees them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
    fprintf(stderr, "warden serve: cannot block signals\n");
    wd_config_clear(&cfg);
    return 1;
  }
  (void)signal(SIGPIPE, SIG_IGN);

  serve_svc svc = {&cfg};
  wd_http_opts o;
  memset(&o, 0, sizeof o);
  o.host = cfg.listen_host;
  o.port = cfg.listen_port;
  o.threads = cfg.threads;
  o.max_connections = cfg.max_connections;
  o.conn_timeout_s = cfg.connection_timeout_s;
  o.max_body = cfg.max_body_bytes;
  o.ready = ready;
  o.flush = flush;
  o.svc = &svc;
  o.builtin_health = 1;
  wd_http_server *srv = NULL;
  int rc = wd_http_server_start(&o, &srv);
  if (rc < 0) {
    fprintf(stderr, "warden serve: cannot listen on %s:%u: %s\n", cfg.listen_host,
            (unsigned)cfg.listen_port, wd_strerror(rc));
    wd_config_clear(&cfg);
    return 1;
  }
  int v6 = strchr(cfg.listen_host, ':') != NULL;
  printf("warden: listening on http://%s%s%s:%u\n", v6 ? "[" : "", cfg.listen_host, v6 ? "]" : "",
         (unsigned)wd_http_server_port(srv));
  (void)fflush(stdout);

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  fprintf(stderr, "warden: %s received, finishing in-flight requests\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  rc = wd_http_server_shutdown(srv, cfg.shutdown_timeout_s * 1000u);
  if (rc < 0) fprintf(stderr, "warden: shutdown deadline passed with requests in flight\n");
  wd_http_server_free(srv);
  wd_config_clear(&cfg);
  fprintf(stderr, "warden: stopped\n");
  return rc < 0 ? 1 : 0;
}
