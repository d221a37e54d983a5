/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the strict validator (validate*.c): a table of policies
 * against one schema, with the expected outcome and findings taken from
 * the reference implementation (cedar-wasm `validate`, strict mode; its
 * "unable to find an applicable action" warning counts as an error, as in
 * the conformance corpus). Plus the contract of cedar_validate itself:
 * policy ids and spans on findings, warnings that do not fail, bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "warden/cedar.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

typedef struct row {
  const char *policy;
  int ok;
  const char *msgs; /* the reference's messages, one per line */
} row;

/* Schema 1, as .cedarschema:
 *   entity Group { name: String };
 *   entity User in [Group] {
 *     age: Long, nick?: String, addr: { street: String, zip?: Long },
 *     tags: Set<String>, mgr: User } tags String;
 *   entity Doc { owner: User, d: decimal };
 *   entity Other;
 *   entity Color enum ["red", "blue"];
 *   type Ctx = { ip: ipaddr, n?: Long };
 *   action view appliesTo { principal: [User], resource: [Doc], context: Ctx };
 *   action edit in [view] appliesTo {
 *     principal: [User, Group], resource: [Doc], context: {} };
 *   action nothing;
 */
static const char *SCHEMA1 =
    "{\"\":{\"commonTypes\":{\"Ctx\":{\"type\":\"Record\",\"attributes\":{\"ip\":{\"type\":\"En"
    "tityOrCommon\",\"name\":\"ipaddr\"},\"n\":{\"type\":\"EntityOrCommon\",\"name\":\"Long\","
    "\"required\":false}}}},\"entityTypes\":{\"Color\":{\"enum\":[\"red\",\"blue\"]},\"Doc\":{"
    "\"shape\":{\"type\":\"Record\",\"attributes\":{\"d\":{\"type\":\"EntityOrCommon\",\"name\""
    ":\"decimal\"},\"owner\":{\"type\":\"EntityOrCommon\",\"name\":\"User\"}}}},\"Group\":{\"sh"
    "ape\":{\"type\":\"Record\",\"attributes\":{\"name\":{\"type\":\"EntityOrCommon\",\"name\":"
    "\"String\"}}}},\"Other\":{},\"User\":{\"memberOfTypes\":[\"Group\"],\"shape\":{\"type\":\""
    "Record\",\"attributes\":{\"addr\":{\"type\":\"Record\",\"attributes\":{\"street\":{\"type"
    "\":\"EntityOrCommon\",\"name\":\"String\"},\"zip\":{\"type\":\"EntityOrCommon\",\"name\":"
    "\"Long\",\"required\":false}}},\"age\":{\"type\":\"EntityOrCommon\",\"name\":\"Long\"},\"m"
    "gr\":{\"type\":\"EntityOrCommon\",\"name\":\"User\"},\"nick\":{\"type\":\"EntityOrCommon\""
    ",\"name\":\"String\",\"required\":false},\"tags\":{\"type\":\"Set\",\"element\":{\"type\":"
    "\"EntityOrCommon\",\"name\":\"String\"}}}},\"tags\":{\"type\":\"EntityOrCommon\",\"name\":"
    "\"String\"}}},\"actions\":{\"edit\":{\"appliesTo\":{\"resourceTypes\":[\"Doc\"],\"principa"
    "lTypes\":[\"User\",\"Group\"]},\"memberOf\":[{\"id\":\"view\"}]},\"nothing\":{\"appliesTo"
    "\":{\"resourceTypes\":[],\"principalTypes\":[]}},\"view\":{\"appliesTo\":{\"resourceTypes"
    "\":[\"Doc\"],\"principalTypes\":[\"User\"],\"context\":{\"type\":\"Ctx\"}}}}}}";

static const row ROWS1[] = {
    {"permit(principal, action, resource);", 1, ""},
    {"permit(principal, action, resource) when { 1 == \"a\" };", 1, ""},
    {"permit(principal, action, resource) when { User::\"a\" == Doc::\"b\" };", 1, ""},
    {"permit(principal in Doc::\"x\", action, resource);", 0,
     "unable to find an applicable action given the policy scope constraints"},
    {"permit(principal, action, resource) when { principal in Doc::\"x\" };", 1, ""},
    {"permit(principal, action, resource) when { false && [] };", 1, ""},
    {"permit(principal, action, resource) when { [] == [] };", 0,
     "empty set literals are forbidden in policies\nempty set literals are forbidden in policies"},
    {"permit(principal, action == Action::\"view\", resource) when { principal.nick == \"\" };", 0,
     "unable to guarantee safety of access to optional attribute `nick` on entity type `User`"},
    {"permit(principal, action == Action::\"view\", resource) when { principal has nick && "
     "principal.nick == \"\" };",
     1, ""},
    {"permit(principal, action == Action::\"view\", resource) when { principal has nick || "
     "principal.nick == \"\" };",
     0, "unable to guarantee safety of access to optional attribute `nick` on entity type `User`"},
    {"permit(principal, action == Action::\"view\", resource) when { !(principal has nick) || "
     "principal.nick == \"\" };",
     0, "unable to guarantee safety of access to optional attribute `nick` on entity type `User`"},
    {"permit(principal, action == Action::\"view\", resource) when { principal has nick } when { "
     "principal.nick == \"\" };",
     1, ""},
    {"permit(principal, action == Action::\"view\", resource) unless { !(principal has nick) } "
     "when { principal.nick == \"\" };",
     0, "unable to guarantee safety of access to optional attribute `nick` on entity type `User`"},
    {"permit(principal, action == Action::\"view\", resource) when { if principal has nick then "
     "principal.nick == \"\" else false };",
     1, ""},
    {"permit(principal, action == Action::\"view\", resource) when { (if principal has nick then "
     "true else principal has nick) && principal.nick == \"\" };",
     1, ""},
    {"permit(principal, action == Action::\"nothing\", resource);", 0,
     "unable to find an applicable action given the policy scope constraints"},
    {"permit(principal, action, resource) when { if 1 == 1 then 1 else \"a\" };", 0,
     "unexpected type: expected Bool but saw Long"},
    {"permit(principal, action, resource) when { if context has zz then 1 else \"a\" };", 0,
     "unexpected type: expected Bool but saw String"},
    {"permit(principal, action, resource) when { {a:1} == {a:1, b:2} };", 0,
     "the types {a: Long,} and {a: Long,b: Long,} are not compatible"},
    {"permit(principal, action, resource) when { {a:1, b:true} == {a:2, b:false} };", 1, ""},
    /* A type name too long for a message is cut short, never left out. */
    {"permit(principal, action, resource) when { {} == {a0:1,a1:1,a2:1,a3:1,a4:1,a5:1,a6:1,a7:1,"
     "a8:1,a9:1,a10:1,a11:1,a12:1,a13:1,a14:1,a15:1,a16:1,a17:1,a18:1,a19:1,a20:1,a21:1,a22:1,"
     "a23:1,a24:1,a25:1,a26:1,a27:1,a28:1,a29:1} };",
     0,
     "the types {} and {a0: Long,a1: Long,a10: Long,a11: Long,a12: Long,a13: Long,a14: Long,a15: "
     "Long,a16: Long,a17... are not compatible"},
    {"permit(principal, action, resource) when { [1] == [\"a\"] };", 0,
     "the types Set<Long> and Set<String> are not compatible"},
    {"permit(principal, action, resource) when { principal == resource };", 1, ""},
    {"permit(principal, action, resource) when { principal.age };", 0,
     "attribute `age` on entity type `Group` not found\nunexpected type: expected Bool but saw "
     "Long"},
    {"permit(principal == User::\"a\", action, resource) when { context.n > 1 };", 0,
     "unable to guarantee safety of access to optional attribute `n` in context for "
     "Action::\"view\"\nattribute `n` in context for Action::\"edit\" not found"},
    {"permit(principal, action == Action::\"view\", resource) when { context has n && context.n > "
     "1 };",
     1, ""},
    {"permit(principal, action == Action::\"view\", resource) when { action has foo };", 1, ""},
    {"permit(principal, action == Action::\"view\", resource) when { action.foo == 1 };", 0,
     "attribute `foo` on entity type `Action` not found"},
    {"permit(principal, action, resource) when { false && principal is Foo };", 0,
     "unrecognized entity type `Foo`"},
    {"permit(principal, action, resource) when { false && Action::\"zzz\" == action };", 0,
     "unrecognized action `Action::\"zzz\"`"},
    {"permit(principal, action, resource) when { false && Color::\"green\" == Color::\"red\" };", 0,
     "entity `Color::\"green\"` is of an enumerated entity type, but `\"green\"` is not declared "
     "as a valid eid"},
    {"permit(principal, action, resource) when { Color::\"red\" != Color::\"blue\" };", 1, ""},
    {"permit(principal, action, resource) when { decimal(\"1.0\") < decimal(\"2.0\") };", 0,
     "unexpected type: expected datetime, or duration, or Long but saw decimal\nunexpected type: "
     "expected datetime, or duration, or Long but saw decimal"},
    {"permit(principal, action, resource) when { datetime(\"2020-01-01\") < "
     "datetime(\"2020-01-02\") };",
     1, ""},
    {"permit(principal, action, resource) when { datetime(\"2020-01-01\") < duration(\"1h\") };", 0,
     "unexpected type: expected datetime but saw duration"},
    {"permit(principal, action, resource) when { "
     "datetime(\"2020-01-01\").offset(duration(\"1h\")).toTime().toHours() > 1 };",
     1, ""},
    {"permit(principal, action, resource) when { "
     "datetime(\"2020-01-01\").offset(datetime(\"2020-01-01\")) == datetime(\"2020-01-01\") };",
     0, "unexpected type: expected duration but saw datetime"},
    {"permit(principal, action, resource) when { datetime(\"2020-13-01\") == "
     "datetime(\"2020-01-01\") };",
     0,
     "error during extension function argument validation: failed to parse as a datetime value: "
     "`\"2020-13-01\"`"},
    {"permit(principal, action, resource) when { decimal(\"1.23456\") == decimal(\"1.0\") };", 0,
     "error during extension function argument validation: failed to parse as a decimal value: "
     "`\"1.23456\"`"},
    {"permit(principal, action, resource) when { ip(\"1.2.3.4/99\").isIpv4() };", 0,
     "error during extension function argument validation: failed to parse as IP address: "
     "`\"1.2.3.4/99\"`"},
    {"permit(principal, action, resource) when { duration(\"1x\") == duration(\"1h\") };", 0,
     "error during extension function argument validation: failed to parse as a duration value: "
     "`\"1x\"`"},
    {"permit(principal, action, resource) when { decimal(context.s) == decimal(\"1.0\") };", 0,
     "extension constructors may not be called with non-literal expressions\nattribute `s` in "
     "context for Action::\"edit\" not found\nattribute `s` in context for Action::\"view\" not "
     "found"},
    {"permit(principal, action == Action::\"view\", resource) when { "
     "ip(\"10.0.0.1\").isInRange(context.ip) };",
     1, ""},
    {"permit(principal, action == Action::\"view\", resource) when { "
     "context.ip.isInRange(decimal(\"1.0\")) };",
     0, "unexpected type: expected ipaddr but saw decimal"},
    {"permit(principal, action, resource) when { !({a:1} has b) };", 1, ""},
    {"permit(principal, action, resource) when { {a:1}.b == 1 };", 0, "attribute `b` not found"},
    {"permit(principal, action, resource) when { [User::\"a\"].contains(Doc::\"c\") };", 0,
     "the types Doc and User are not compatible"},
    {"permit(principal, action, resource) when { [User::\"a\"].contains(principal) };", 0,
     "the types Group and User are not compatible"},
    {"permit(principal, action, resource) when { [1,2].containsAll([1]) && "
     "[1].containsAny([\"a\"]) };",
     0, "the types Set<Long> and Set<String> are not compatible"},
    {"permit(principal, action, resource) when { [1,2].isEmpty() && \"a\".isEmpty() };", 0,
     "unexpected type: expected Set<__cedar::internal::Any> but saw String"},
    {"permit(principal, action, resource) when { principal in [User::\"a\", Group::\"c\"] };", 0,
     "the types Group and User are not compatible"},
    {"permit(principal, action, resource) when { principal in [User::\"a\", User::\"c\"] };", 1,
     ""},
    {"permit(principal, action, resource) when { principal in 1 };", 0,
     "unexpected type: expected Set<__cedar::internal::AnyEntity>, or __cedar::internal::AnyEntity "
     "but saw Long"},
    {"permit(principal, action, resource) when { 1 in principal };", 0,
     "unexpected type: expected __cedar::internal::AnyEntity but saw Long"},
    {"permit(principal, action, resource) when { principal in action };", 1, ""},
    {"permit(principal, action, resource) when { action in [Action::\"view\"] && principal.age > 1 "
     "};",
     0, "attribute `age` on entity type `Group` not found"},
    {"permit(principal, action in Action::\"view\", resource) when { principal.age > 1 };", 0,
     "attribute `age` on entity type `Group` not found"},
    {"permit(principal is User, action, resource) when { principal.age > 1 };", 1, ""},
    {"permit(principal is User in Group::\"g\", action, resource) when { principal.age + 1 > "
     "principal.addr.street };",
     0, "unexpected type: expected Long but saw String"},
    {"permit(principal is User, action, resource) when { principal.addr.zip > 1 };", 0,
     "unable to guarantee safety of access to optional attribute `addr.zip` on entity type `User`"},
    {"permit(principal is User, action, resource) when { principal.addr has zip && "
     "principal.addr.zip > 1 };",
     1, ""},
    {"permit(principal is User, action, resource) when { principal.addr has street };", 1, ""},
    {"permit(principal is User, action, resource) when { principal.mgr.mgr.age > 1 && "
     "principal.tags.contains(\"x\") };",
     1, ""},
    {"permit(principal is User, action, resource) when { principal.name like \"a*\" };", 0,
     "attribute `name` on entity type `User` not found"},
    {"permit(principal is User, action, resource) when { principal.age like \"a*\" };", 0,
     "unexpected type: expected String but saw Long"},
    {"permit(principal is User, action, resource) when { principal.hasTag(\"a\") && "
     "principal.getTag(\"a\") == \"x\" };",
     1, ""},
    {"permit(principal is User, action, resource) when { principal.getTag(\"a\") == \"x\" };", 0,
     "unable to guarantee safety of access to tag `\"a\"` on entity type `User`"},
    {"permit(principal is User, action, resource) when { principal.hasTag(\"b\") && "
     "principal.getTag(\"a\") == \"x\" };",
     0, "unable to guarantee safety of access to tag `\"a\"` on entity type `User`"},
    {"permit(principal, action, resource is Doc) when { resource.hasTag(\"a\") };", 1, ""},
    {"permit(principal, action, resource is Doc) when { resource.getTag(\"a\") == \"x\" };", 0,
     "unable to guarantee safety of access to tag `\"a\"` on entity type `Doc`"},
    {"permit(principal, action, resource is Doc) when { resource.owner.hasTag(\"a\") && "
     "resource.owner.getTag(\"a\") like \"x*\" };",
     1, ""},
    {"permit(principal, action, resource) when { principal is User && principal.age > 0 };", 1, ""},
    {"permit(principal, action, resource) when { principal is User || principal.age > 0 };", 0,
     "attribute `age` on entity type `Group` not found"},
    {"permit(principal, action, resource) when { -principal.age > 0 && -\"a\" > 0 };", 0,
     "attribute `age` on entity type `Group` not found\nunexpected type: expected Long but saw "
     "String"},
    {"permit(principal, action, resource) when { 1 + true > 0 };", 0,
     "unexpected type: expected Long but saw __cedar::internal::True"},
    {"permit(principal, action, resource) when { if true then 1 else \"a\" == 1 };", 0,
     "unexpected type: expected Bool but saw Long"},
    {"permit(principal, action, resource) when { [true, false].contains(1 == 1) };", 1, ""},
    {"permit(principal, action, resource) when { [{a: 1}, {a: 2, b: 1}].isEmpty() };", 0,
     "the types {a: Long,} and {a: Long,b: Long,} are not compatible"},
    {"permit(principal, action, resource) when { Unknown::\"x\" == principal };", 0,
     "unrecognized entity type `Unknown`"},
    {"permit(principal is Unknown, action, resource);", 0,
     "unrecognized entity type `Unknown`\nunable to find an applicable action given the policy "
     "scope constraints"},
    {"permit(principal, action in [Action::\"view\", Action::\"nope\"], resource);", 0,
     "unrecognized action `Action::\"nope\"`\nunable to find an applicable action given the policy "
     "scope constraints"},
    {"forbid(principal, action, resource) unless { 1 };", 0,
     "unexpected type: expected Bool but saw Long"},
    {"forbid(principal, action, resource) unless { true };", 1, ""},
    {"permit(principal == ?principal, action, resource) when { principal.age > 1 };", 0,
     "attribute `age` on entity type `Group` not found"},
    {"permit(principal in ?principal, action == Action::\"view\", resource in ?resource) when { "
     "principal.age > 1 };",
     1, ""},
    {"permit(principal, action == Action::\"view\", resource is Doc in ?resource) when { "
     "resource.d.lessThan(decimal(\"1.0\")) };",
     1, ""},
    {"permit(principal is Other in ?principal, action, resource);", 0,
     "unable to find an applicable action given the policy scope constraints"},
    {"permit(principal is User in ?principal, action, resource) when { context.ip.isLoopback() };",
     0, "attribute `ip` in context for Action::\"edit\" not found"},
};

/* Schema 2, namespaces, as .cedarschema:
 * namespace App {
 *   entity Team;
 *   entity Agent in [Team] { tier: String, meta: { k?: String, v: Long } } tags Set<String>;
 *   entity Tool { owner: Agent, risk: Long };
 *   type Req = { args: { cmd: String, n?: Long }, when: datetime, span?: duration, src: ipaddr };
 *   action call appliesTo { principal: [Agent], resource: [Tool], context: Req };
 *   action read appliesTo { principal: [Agent, Team], resource: [Tool, Team], context: {} };
 *   action "group";
 *   action sub in ["group"] appliesTo { principal: [Agent], resource: [Tool] };
 * }
 * namespace Other {
 *   entity Agent;
 *   action call appliesTo { principal: [Agent], resource: [App::Tool] };
 * }
 */
static const char *SCHEMA2 =
    "{\"App\":{\"commonTypes\":{\"Req\":{\"type\":\"Record\",\"attributes\":{\"args\":{\"type\""
    ":\"Record\",\"attributes\":{\"cmd\":{\"type\":\"EntityOrCommon\",\"name\":\"String\"},\"n"
    "\":{\"type\":\"EntityOrCommon\",\"name\":\"Long\",\"required\":false}}},\"span\":{\"type\""
    ":\"EntityOrCommon\",\"name\":\"duration\",\"required\":false},\"src\":{\"type\":\"EntityOr"
    "Common\",\"name\":\"ipaddr\"},\"when\":{\"type\":\"EntityOrCommon\",\"name\":\"datetime\"}"
    "}}},\"entityTypes\":{\"Agent\":{\"memberOfTypes\":[\"Team\"],\"shape\":{\"type\":\"Record"
    "\",\"attributes\":{\"meta\":{\"type\":\"Record\",\"attributes\":{\"k\":{\"type\":\"EntityO"
    "rCommon\",\"name\":\"String\",\"required\":false},\"v\":{\"type\":\"EntityOrCommon\",\"nam"
    "e\":\"Long\"}}},\"tier\":{\"type\":\"EntityOrCommon\",\"name\":\"String\"}}},\"tags\":{\"t"
    "ype\":\"Set\",\"element\":{\"type\":\"EntityOrCommon\",\"name\":\"String\"}}},\"Team\":{},"
    "\"Tool\":{\"shape\":{\"type\":\"Record\",\"attributes\":{\"owner\":{\"type\":\"EntityOrCom"
    "mon\",\"name\":\"Agent\"},\"risk\":{\"type\":\"EntityOrCommon\",\"name\":\"Long\"}}}}},\"a"
    "ctions\":{\"call\":{\"appliesTo\":{\"resourceTypes\":[\"Tool\"],\"principalTypes\":[\"Agen"
    "t\"],\"context\":{\"type\":\"Req\"}}},\"group\":{\"appliesTo\":{\"resourceTypes\":[],\"pri"
    "ncipalTypes\":[]}},\"read\":{\"appliesTo\":{\"resourceTypes\":[\"Tool\",\"Team\"],\"princi"
    "palTypes\":[\"Agent\",\"Team\"]}},\"sub\":{\"appliesTo\":{\"resourceTypes\":[\"Tool\"],\"p"
    "rincipalTypes\":[\"Agent\"]},\"memberOf\":[{\"id\":\"group\"}]}}},\"Other\":{\"entityTypes"
    "\":{\"Agent\":{}},\"actions\":{\"call\":{\"appliesTo\":{\"resourceTypes\":[\"App::Tool\"],"
    "\"principalTypes\":[\"Agent\"]}}}}}";

static const row ROWS2[] = {
    {"permit(principal, action, resource);", 1, ""},
    {"permit(principal is App::Agent, action == App::Action::\"call\", resource) when { "
     "context.args.cmd like \"ls*\" && context.when < datetime(\"2025-01-01\") };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context.args.n > 1 };", 0,
     "unable to guarantee safety of access to optional attribute `args.n` in context for "
     "App::Action::\"call\""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context.args has n && "
     "context.args.n > 1 };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context has span && "
     "context.when.offset(context.span) > context.when };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "context.when.offset(context.span) > context.when };",
     0,
     "unable to guarantee safety of access to optional attribute `span` in context for "
     "App::Action::\"call\""},
    {"permit(principal, action in App::Action::\"group\", resource) when { principal.tier == \"x\" "
     "};",
     1, ""},
    {"permit(principal, action in App::Action::\"group\", resource) when { context == {} };", 1,
     ""},
    {"permit(principal, action in [App::Action::\"group\", Other::Action::\"call\"], resource);", 0,
     "the types App::Action and Other::Action are not compatible"},
    {"permit(principal, action == Other::Action::\"call\", resource) when { principal is "
     "Other::Agent };",
     1, ""},
    {"permit(principal, action == Other::Action::\"call\", resource) when { principal.tier == "
     "\"a\" };",
     0, "attribute `tier` on entity type `Other::Agent` not found"},
    {"permit(principal, action == Other::Action::\"call\", resource) when { resource.owner.tier == "
     "\"a\" };",
     1, ""},
    {"permit(principal, action, resource) when { principal is App::Agent && "
     "principal.hasTag(\"x\") && principal.getTag(\"x\").contains(\"y\") };",
     1, ""},
    {"permit(principal, action, resource) when { principal.hasTag(\"x\") };", 1, ""},
    {"permit(principal, action, resource) when { principal.getTag(\"x\").isEmpty() };", 0,
     "unable to guarantee safety of access to tag `\"x\"` on entity type `Other::Agent`\nunable to "
     "guarantee safety of access to tag `\"x\"` on entity type `App::Team`\nunable to guarantee "
     "safety of access to tag `\"x\"` on entity type `App::Agent`"},
    {"permit(principal, action == App::Action::\"read\", resource) when { principal in resource };",
     1, ""},
    {"permit(principal, action == App::Action::\"read\", resource is App::Team) when { principal "
     "in resource };",
     1, ""},
    {"permit(principal, action == App::Action::\"read\", resource) when { resource in principal };",
     1, ""},
    {"permit(principal, action, resource) when { action in [App::Action::\"call\", "
     "App::Action::\"read\"] };",
     1, ""},
    {"permit(principal, action, resource) when { action in App::Action::\"group\" && "
     "context.args.cmd == \"\" };",
     0, "attribute `args` in context for App::Action::\"sub\" not found"},
    {"permit(principal, action, resource) when { action == App::Action::\"call\" && "
     "context.args.cmd == \"\" };",
     1, ""},
    {"permit(principal, action, resource) when { action == App::Action::\"call\" || "
     "context.args.cmd == \"\" };",
     0,
     "attribute `args` in context for App::Action::\"read\" not found\nattribute `args` in context "
     "for Other::Action::\"call\" not found\nattribute `args` in context for App::Action::\"sub\" "
     "not found"},
    {"permit(principal, action, resource) when { action != App::Action::\"call\" || "
     "context.args.cmd == \"\" };",
     1, ""},
    {"permit(principal, action, resource) when { if action == App::Action::\"call\" then "
     "context.args.cmd == \"\" else true };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { principal.meta.k == "
     "\"x\" };",
     0,
     "unable to guarantee safety of access to optional attribute `meta.k` on entity type "
     "`App::Agent`"},
    {"permit(principal, action == App::Action::\"call\", resource) when { principal.meta has k && "
     "principal.meta.k == \"x\" };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { principal has meta.k && "
     "principal.meta.k == \"x\" };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context.src.isIpv4() && "
     "!context.src.isLoopback() };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "context.src.isInRange(ip(\"10.0.0.0/8\")) };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "context.when.durationSince(datetime(\"2020-01-01\")).toDays() > 3 };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context.when.toDate() == "
     "context.when };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { {a: principal, b: "
     "resource} == {a: principal, b: resource} };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { {a: principal} == {a: "
     "resource} };",
     0, "the types {a: App::Agent,} and {a: App::Tool,} are not compatible"},
    {"permit(principal, action == App::Action::\"call\", resource) when { [principal] == "
     "[resource] };",
     0, "the types Set<App::Agent> and Set<App::Tool> are not compatible"},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "[principal].contains(resource) };",
     0, "the types App::Agent and App::Tool are not compatible"},
    {"permit(principal, action == App::Action::\"call\", resource) when { resource.risk > 3 || "
     "resource.owner == principal };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { resource.owner in "
     "App::Team::\"x\" };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { App::Team::\"x\" in "
     "resource.owner };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { App::Action::\"call\" in "
     "App::Action::\"group\" };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { action in principal };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { principal is App::Agent "
     "in App::Team::\"t\" };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { principal is App::Team "
     "in App::Team::\"t\" && [] };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { principal is App::Agent "
     "in [App::Team::\"t\"] };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context has zzz };", 1,
     ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { context.args has zzz };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { resource has zzz };", 1,
     ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { resource has risk && "
     "resource.risk > 0 };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { if resource has risk "
     "then resource.risk else 0 };",
     0, "unexpected type: expected Bool but saw Long"},
    {"permit(principal, action == App::Action::\"call\", resource) when { (if resource has risk "
     "then resource.risk else 0) > 0 };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { (if true then 1 else "
     "\"a\") == 1 };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { (if false then 1 else "
     "\"a\") == \"a\" };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { (true || [] ) && (false "
     "&& []) };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { 9223372036854775807 + 1 "
     "> 0 };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "principal.tier.contains(\"a\") };",
     0, "unexpected type: expected Set<__cedar::internal::Any> but saw String"},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "[\"a\"].containsAll(\"a\") };",
     0, "unexpected type: expected Set<__cedar::internal::Any> but saw String"},
    {"permit(principal, action == App::Action::\"call\", resource) when { ip(\"::1\") == "
     "ip(\"127.0.0.1\") };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource) when { decimal(\"1.0\") == "
     "ip(\"::1\") };",
     0, "the types decimal and ipaddr are not compatible"},
    {"permit(principal, action == App::Action::\"call\", resource) when { [decimal(\"1.0\"), "
     "ip(\"::1\")].isEmpty() };",
     0, "the types decimal and ipaddr are not compatible"},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "decimal(\"1.0\").lessThan(1) };",
     0, "unexpected type: expected decimal but saw Long"},
    {"permit(principal, action == App::Action::\"call\", resource) when { "
     "duration(\"1h\").toHours() == 1 && duration(\"-1d2h\").toMinutes() < 0 };",
     1, ""},
    {"permit(principal == ?principal, action == App::Action::\"call\", resource == ?resource) when "
     "{ principal.tier == resource.owner.tier };",
     1, ""},
    {"permit(principal, action == App::Action::\"call\", resource in ?resource) when { "
     "resource.risk > 0 };",
     1, ""},
};

/* Schema 3: enum entity types, an enum parent (JSON only).
 */
static const char *SCHEMA3 =
    "{\"\":{\"entityTypes\":{\"U\":{\"shape\":{\"type\":\"Record\",\"attributes\":{\"a\":{\"typ"
    "e\":\"Long\"},\"r\":{\"type\":\"Record\",\"attributes\":{\"x\":{\"type\":\"Long\",\"requir"
    "ed\":false}}}}}},\"E\":{\"enum\":[\"x\",\"y\"]},\"R\":{\"memberOfTypes\":[\"E\"]}},\"actio"
    "ns\":{\"act\":{\"appliesTo\":{\"principalTypes\":[\"U\"],\"resourceTypes\":[\"R\",\"E\"],"
    "\"context\":{\"type\":\"Record\",\"attributes\":{}}}}}}}";

static const row ROWS3[] = {
    {"permit(principal, action, resource) when { principal has zz };", 1, ""},
    {"permit(principal, action, resource) when { principal.zz == 1 };", 0,
     "attribute `zz` on entity type `U` not found"},
    {"permit(principal, action, resource) when { principal.r has zz };", 1, ""},
    {"permit(principal, action, resource) when { principal.r has x && principal.r.x > 1 };", 1, ""},
    {"permit(principal, action, resource) when { context has zz };", 1, ""},
    {"permit(principal, action, resource) when { context.zz };", 0,
     "attribute `zz` in context for Action::\"act\" not found"},
    {"permit(principal, action, resource) when { resource in E::\"x\" };", 1, ""},
    {"permit(principal, action, resource) when { resource in E::\"z\" };", 0,
     "entity `E::\"z\"` is of an enumerated entity type, but `\"z\"` is not declared as a valid "
     "eid"},
    {"permit(principal, action, resource in E::\"x\");", 1, ""},
    {"permit(principal, action, resource is E);", 1, ""},
    {"permit(principal, action, resource == E::\"y\") when { resource == E::\"x\" };", 1, ""},
    {"permit(principal, action, resource) when { action is Action };", 1, ""},
    {"permit(principal, action, resource) when { principal is Action };", 1, ""},
    {"permit(principal, action, resource) when { [principal.r] == [principal.r] };", 1, ""},
    {"permit(principal, action, resource) when { [principal.r, {x: 1}].isEmpty() };", 0,
     "the types {x?: Long,} and {x: Long,} are not compatible"},
    {"permit(principal, action, resource) when { context == {} };", 1, ""},
};

static cedar_schema *load(const char *json) {
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  int rc = cedar_schema_from_json(json, strlen(json), &s, d);
  if (rc) {
    char *txt = cedar_diags_render(d, "schema", NULL, 0);
    print_error("%s\n", txt ? txt : "");
    cedar_free(txt);
  }
  cedar_diags_free(d);
  assert_int_equal(rc, 0);
  return s;
}

static cedar_schema *load_schema(void) { return load(SCHEMA1); }

/* 1 when one of our error messages is one the reference reports (ours
 * stop at the first error of each environment, so they are a subset). */
static int msg_known(const char *msgs, const char *m) {
  size_t n = strlen(m);
  for (const char *p = msgs; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && memcmp(p, m, n) == 0) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static int run_table(const char *schema, const row *rows, size_t n) {
  cedar_schema *s = load(schema);
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const row *r = &rows[i];
    cedar_diags *d = cedar_diags_new();
    cedar_policyset *ps = NULL;
    int rc = cedar_policyset_parse(r->policy, strlen(r->policy), &ps, d);
    if (rc) {
      print_error("row %zu: parse error %d: %s\n", i, rc, r->policy);
      bad++;
      cedar_diags_free(d);
      continue;
    }
    rc = cedar_validate(s, ps, d);
    int ok = rc == 0;
    int any_known = 0, nerr = 0;
    for (size_t k = 0; k < cedar_diags_count(d); k++) {
      const cedar_diag *g = cedar_diags_get(d, k);
      if (g->sev != CEDAR_SEV_ERROR) continue;
      nerr++;
      any_known |= msg_known(r->msgs, g->msg);
    }
    if (ok != r->ok || (rc && rc != -WD_E_VALIDATE) || (nerr && !any_known) || (!ok && !nerr)) {
      print_error("row %zu: %s\n  want %s, got rc %d with %d errors\n", i, r->policy,
                  r->ok ? "valid" : "invalid", rc, nerr);
      for (size_t k = 0; k < cedar_diags_count(d); k++)
        print_error("    ours: %s\n", cedar_diags_get(d, k)->msg);
      print_error("    want: %s\n", r->msgs);
      bad++;
    }
    cedar_policyset_unref(ps);
    cedar_diags_free(d);
  }
  cedar_schema_free(s);
  return bad;
}

#define RUN(k) run_table(SCHEMA##k, ROWS##k, sizeof ROWS##k / sizeof ROWS##k[0])

static void table_flat(void **state) {
  (void)state;
  assert_int_equal(RUN(1), 0);
}

static void table_namespaces(void **state) {
  (void)state;
  assert_int_equal(RUN(2), 0);
}

static void table_enums(void **state) {
  (void)state;
  assert_int_equal(RUN(3), 0);
}

static void findings_carry_id_and_span(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  static const char SRC[] = "permit(principal, action, resource);\n"
                            "@id(\"bad\")\n"
                            "permit(principal, action == Action::\"view\", resource)\n"
                            "  when { principal.nick == \"x\" };\n";
  cedar_diags *d = cedar_diags_new();
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(SRC, strlen(SRC), &ps, d), 0);
  assert_int_equal(cedar_validate(s, ps, d), -WD_E_VALIDATE);
  assert_int_equal(cedar_diags_count(d), 1);
  const cedar_diag *g = cedar_diags_get(d, 0);
  assert_string_equal(g->policy_id, "bad");
  assert_int_equal(g->sev, CEDAR_SEV_ERROR);
  assert_int_equal(g->code, -WD_E_VALIDATE);
  const char *want = "principal.nick";
  assert_true(g->len == strlen(want));
  assert_memory_equal(SRC + g->off, want, strlen(want));
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  cedar_schema_free(s);
}

static void impossible_policy_is_a_warning(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  static const char SRC[] = "permit(principal, action, resource) when { 1 == 2 };";
  cedar_diags *d = cedar_diags_new();
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(SRC, strlen(SRC), &ps, d), 0);
  assert_int_equal(cedar_validate(s, ps, d), 0);
  assert_int_equal(cedar_diags_count(d), 1);
  assert_int_equal(cedar_diags_get(d, 0)->sev, CEDAR_SEV_WARNING);
  assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "impossible"));
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  cedar_schema_free(s);
}

static void rejects_null(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse("", 0, &ps, NULL), 0);
  assert_int_equal(cedar_validate(NULL, ps, NULL), -WD_E_INVAL);
  assert_int_equal(cedar_validate(s, NULL, NULL), -WD_E_INVAL);
  assert_int_equal(cedar_validate(s, ps, NULL), 0); /* empty set, no diags list */
  cedar_policyset_unref(ps);
  cedar_schema_free(s);
}

static void links_check_slot_types(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  static const char T[] =
      "@id(\"t\") permit(principal == ?principal, action == Action::\"view\", resource);";
  cedar_psbuilder *b = cedar_psbuilder_new();
  assert_non_null(b);
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(cedar_psbuilder_add_text(b, T, strlen(T), d), 0);
  assert_int_equal(cedar_psbuilder_link(b, "t", "good", "User::\"a\"", NULL, d), 0);
  assert_int_equal(cedar_psbuilder_link(b, "t", "bad", "Nope::\"a\"", NULL, d), 0);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  assert_int_equal(cedar_validate(s, ps, d), -WD_E_VALIDATE);
  assert_int_equal(cedar_diags_count(d), 1);
  assert_string_equal(cedar_diags_get(d, 0)->policy_id, "bad");
  assert_string_equal(cedar_diags_get(d, 0)->msg, "unrecognized entity type `Nope`");
  cedar_policyset_unref(ps);
  cedar_psbuilder_free(b);
  cedar_diags_free(d);
  cedar_schema_free(s);
}

/* The typechecker walks chains in loops but other nodes by recursion, up
 * to WD_LIMIT_EVAL_DEPTH: the tallest policy the parser accepts, of either
 * shape, must still validate. */
static void tallest_policy_validates(void **state) {
  (void)state;
  static const struct {
    const char *first, *sep, *term, *last;
    uint32_t n; /* terms that make the condition just as tall as allowed */
  } rows[] = {
      {"true", " && ", "true", "", WD_LIMIT_EXPR_HEIGHT - 1},
      {"1", " + ", "1", " > 0", WD_LIMIT_EXPR_HEIGHT - 2},
      {"principal", ".", "mgr", ".age > 0", WD_LIMIT_EXPR_HEIGHT - 3},
  };
  cedar_schema *s = load_schema();
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_buf b;
    wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
    assert_int_equal(wd_buf_adds(&b, "permit(principal, action == Action::\"view\", resource) "
                                     "when { "),
                     0);
    assert_int_equal(wd_buf_adds(&b, rows[i].first), 0);
    for (uint32_t k = 0; k < rows[i].n; k++)
      assert_int_equal(wd_buf_addf(&b, "%s%s", rows[i].sep, rows[i].term), 0);
    assert_int_equal(wd_buf_addf(&b, "%s };", rows[i].last), 0);
    cedar_diags *d = cedar_diags_new();
    cedar_policyset *ps = NULL;
    assert_int_equal(cedar_policyset_parse(wd_buf_str(&b), wd_buf_len(&b), &ps, d), 0);
    int rc = cedar_validate(s, ps, d);
    if (rc != 0 || cedar_diags_count(d) != 0)
      print_error("row %zu: rc %d: %s\n", i, rc,
                  cedar_diags_count(d) ? cedar_diags_get(d, 0)->msg : "");
    assert_int_equal(rc, 0);
    assert_int_equal(cedar_diags_count(d), 0);
    cedar_policyset_unref(ps);
    cedar_diags_free(d);
    wd_buf_free(&b);
  }
  cedar_schema_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(table_flat),
      cmocka_unit_test(table_namespaces),
      cmocka_unit_test(table_enums),
      cmocka_unit_test(findings_carry_id_and_span),
      cmocka_unit_test(impossible_policy_is_a_warning),
      cmocka_unit_test(rejects_null),
      cmocka_unit_test(links_check_slot_types),
      cmocka_unit_test(tallest_policy_validates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
