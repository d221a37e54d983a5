#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Keeps docs/api/openapi.yaml true.

1. The routes of the contract table (docs/api/README.md) and the operations
   under `paths:` in openapi.yaml are the same set of (method, path).
2. Against a real `warden serve`: every documented operation is answered
   (anything but 404 not_found / 405), and every other method on a
   documented path is refused with 405, so the server answers nothing the
   document does not describe. An undocumented path is 404.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def openapi_routes(path):
    """(METHOD, path) pairs under `paths:`, read by indentation so the
    check needs no YAML library."""
    routes, cur, in_paths = set(), None, False
    for line in open(path, encoding="utf-8"):
        if re.match(r"^\S", line):
            in_paths = line.startswith("paths:")
            continue
        if not in_paths:
            continue
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"^    (get|post|put|patch|delete|head|options):", line)
        if m and cur:
            routes.add((m.group(1).upper(), cur))
    return routes


def contract_routes(path):
    """(METHOD, path) pairs of the first column of the Routes table.
    `/fail` after `POST /v1/tasks/{id}/complete` means the sibling path."""
    routes, in_table = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("## "):
            in_table = line.strip() == "## Routes"
            continue
        if not in_table or not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        method, last = None, None
        for item in re.findall(r"`([^`]*)`", first):
            m = re.match(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$", item)
            if m:
                method, last = m.group(1), m.group(2)
                routes.add((method, last))
            elif item.startswith("/") and last:
                sib = last.rsplit("/", 1)[0] + item
                routes.add((method, sib))
    return routes


def start(warden, src, root):
    env = dict(os.environ, WARDEN_ADMIN_TOKEN="e2e-openapi-admin-token-0123456789abcdef",
               ASAN_OPTIONS="detect_leaks=0")
    out = open(os.path.join(root, "server.out"), "w+")
    err = open(os.path.join(root, "server.err"), "w")
    p = subprocess.Popen([warden, "serve", "--listen", "127.0.0.1:0", "--data",
                          os.path.join(root, "var"), "--policy-dir",
                          os.path.join(src, "docs/policies")],
                         cwd=src, env=env, stdout=out, stderr=err)
    for _ in range(600):
        out.seek(0)
        m = re.search(r"(http://[^\s]+)", out.read())
        if m:
            return p, m.group(1)
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    sys.exit("warden serve did not print its URL:\n" + open(os.path.join(root, "server.err")).read())


def probe(url, method, path):
    concrete = re.sub(r"\{[^}]+\}", "e2e-probe", path)
    data = b"{}" if method in ("POST", "PUT", "PATCH") else None
    req = urllib.request.Request(url + concrete, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--warden", required=True)
    ap.add_argument("--src", required=True)
    a = ap.parse_args()
    doc = openapi_routes(os.path.join(a.src, "docs/api/openapi.yaml"))
    table = contract_routes(os.path.join(a.src, "docs/api/README.md"))
    bad = 0
    for m, p in sorted(table - doc):
        print(f"in the contract table but not in openapi.yaml: {m} {p}")
        bad += 1
    for m, p in sorted(doc - table):
        print(f"in openapi.yaml but not in the contract table: {m} {p}")
        bad += 1

    root = tempfile.mkdtemp(prefix="wd-e2e-openapi-")
    proc, url = start(a.warden, a.src, root)
    try:
        for m, p in sorted(doc):
            st, body = probe(url, m, p)
            msg = ""
            try:
                msg = json.loads(body).get("error", {}).get("message", "")
            except (ValueError, AttributeError):
                pass
            # A 404 from a handler (an unknown agent or task) is fine; the
            # router's own 404 means the route does not exist.
            if st == 405 or (st == 404 and msg == "no such route"):
                print(f"documented but not served: {m} {p} -> {st} {msg}")
                bad += 1
        for p in sorted({p for _, p in doc}):
            allowed = {m for m, q in doc if q == p}
            for m in METHODS:
                if m in allowed:
                    continue
                st, _ = probe(url, m, p)
                if st != 405:
                    print(f"served but not documented: {m} {p} -> {st} (want 405)")
                    bad += 1
        st, _ = probe(url, "GET", "/v1/e2e-undocumented")
        if st != 404:
            print(f"an undocumented path answered {st}")
            bad += 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        if rc != 0:
            print(f"warden serve exited with {rc} after SIGTERM")
            bad += 1
        shutil.rmtree(root, ignore_errors=True)
    print(f"openapi: {len(doc)} operations documented, {len(table)} in the contract, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
