/* SPDX-License-Identifier: Apache-2.0
 *
 * The schema fuzz_request_text.c and tests/unit/cedar/test_request_text.c
 * read requests against: every kind of type a context can hold.
 */
#ifndef WD_TEST_REQUEST_TEXT_SCHEMA_H
#define WD_TEST_REQUEST_TEXT_SCHEMA_H

static const char REQUEST_TEXT_SCHEMA[] =
    "entity User;\n"
    "entity Doc;\n"
    "entity Color enum [\"red\", \"green\"];\n"
    "type Info = {n: Long, tags: Set<String>, who: User, s?: String, col?: Color,\n"
    "  when?: datetime, ip?: ipaddr, amt?: decimal, age?: duration,\n"
    "  inner?: {flag: Bool, docs?: Set<Doc>, deep?: Set<Set<Long>>}};\n"
    "action view appliesTo { principal: [User], resource: [Doc], context: Info };\n"
    "action ping appliesTo { principal: [User], resource: [Doc, User], context: {} };\n";

#endif
