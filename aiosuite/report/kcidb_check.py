#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kcidb_check: check KCIDB JSON documents against the rules of the KCIDB
I/O schema, version 5.3.

  kcidb_check.py [--strict] [-q] FILE...   check each file: one line per
                                           problem, naming where and the rule
  kcidb_check.py --rules                   the rules, one a line

The rules are written here from the published schema (kernelci/kcidb-io,
kcidb_io/schema/v05_03.py and the versions it builds on): no copy of it,
no jsonschema, no network.  Where the schema's regular expressions end in
"$", a value must match as a whole (ECMAScript's "$", not Python's, which
also matches before a final newline).  --strict adds aio-suite's own
rules for a document meant to stand alone (the "strict" rules below):
what aiosuite/report/kcidb.py writes passes them too.

Exit status: 0 every file valid; 1 a file invalid or unreadable; 2 usage.
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, NoReturn

from aiosuite import schemas as schema

PROG = "kcidb_check"
MAJOR = 5
MINOR = 3
LOG_EXCERPT_MAX = 16384  # characters (JSON Schema maxLength)
STATUSES = ("FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP")
LISTS = ("checkouts", "builds", "tests", "issues", "incidents")
SHOW_PROBLEMS = 20

# name -> what it asks; the schema's rules first, then aio-suite's own.
RULES: dict[str, str] = {
    "json": "the file is UTF-8 JSON text: no NaN or Infinity, no number too big "
            "for a double, no lone surrogate",
    "property": "an object has only the properties the schema defines for it "
                "(additionalProperties false; only \"misc\" objects are free-form)",
    "required": "an object has the properties the schema requires: version.major; "
                "checkout id, origin; build id, origin, checkout_id; test id, origin, "
                "build_id; issue id, version, origin; incident id, origin, issue_id, "
                "issue_version; number.value; resource name, url",
    "type": "a value has its property's JSON type (string, boolean, number, integer, "
            "object, array); null is never allowed",
    "version": "version.major is 5 and version.minor is 0 to 3",
    "origin": "an origin matches ^[a-z0-9_]+$",
    "id": "an id (id, checkout_id, build_id, test_id, issue_id) matches "
          "^[a-z0-9_]+:[^\\0]*$: an origin, a colon, then any text without NUL",
    "status": "a build's or a test's status is FAIL, ERROR, MISS, PASS, DONE or SKIP",
    "path": "a test's path (and an issue category) is empty or dot-separated names "
            "of [a-zA-Z0-9_-]: ^([a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*)?$",
    "log-excerpt": f"a log_excerpt has at most {LOG_EXCERPT_MAX} characters",
    "nul": "a text property (comment, log_excerpt, tree_name, unit, ...) holds no NUL",
    "prefix": "a number's prefix is metric or binary",
    "architecture": "a build's architecture matches ^[a-z0-9_]*$",
    "git-commit-hash": "git_commit_hash is 40 lower-case hex digits",
    "patchset-hash": "patchset_hash is empty or 64 lower-case hex digits",
    "git-url": "git_repository_url is an https:// URL",
    "resource-name": "a resource's name is a file name: not empty, no '/' or NUL",
    "compatible": "an environment.compatible entry matches ^[^ \\0]+(,[^ \\0]+)*$",
    "date-time": "a time (_timestamp, start_time, ..._finish_time) is an RFC 3339 "
                 "date-time with a time zone",
    "uri": "a URL (log_url, config_url, url, report_url, ...) is an absolute URI: "
           "scheme:rest, no space or control character",
    "email": "message_id is an e-mail address (holds an @)",
    "minimum": "issue version and incident issue_version are 0 or more",
    # strict: aio-suite's own, for a document that stands alone
    "unique": "strict: no two objects of one list share an id (issues: id and version)",
    "link": "strict: a build's checkout_id names a checkout of the document, a test's "
            "build_id a build of it",
    "own-origin": "strict: an object's id starts with its own origin and a colon",
}
STRICT = ("unique", "link", "own-origin")


class Problem(NamedTuple):
    where: str
    rule: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: {self.what}"


# ---- the schema as data ----

@dataclass(frozen=True)
class Field:
    """A property: its JSON type, the rule its value obeys beyond the type,
    the items of an array, the properties of an object."""
    type: str
    rules: tuple[str, ...] = ()
    items: Field | None = None
    obj: Obj | None = None


@dataclass(frozen=True)
class Obj:
    name: str
    props: dict[str, Field] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    free: bool = False  # any property (misc)


def S(*rules: str) -> Field:
    """A string property that obeys rules."""
    return Field("string", rules)


TEXT = S("nul")
TIME = S("date-time")
URI = S("uri")
ID = S("id")
ORIGIN = S("origin")
MISC = Field("object", obj=Obj("misc", free=True))
STATUS = S("status")
LOG_EXCERPT = S("log-excerpt", "nul")
RESOURCES = Field("array", items=Field("object", obj=Obj(
    "resource", {"name": S("resource-name"), "url": URI}, ("name", "url"))))

CHECKOUT = Obj("checkout", {
    "_timestamp": TIME, "id": ID, "origin": ORIGIN, "tree_name": TEXT,
    "git_repository_url": S("git-url"),
    "git_commit_hash": S("git-commit-hash"), "git_commit_name": TEXT,
    "git_commit_tags": Field("array", items=TEXT), "git_commit_message": TEXT,
    "git_repository_branch": TEXT, "git_repository_branch_tip": Field("boolean"),
    "patchset_files": RESOURCES, "patchset_hash": S("patchset-hash"),
    "message_id": S("email"), "comment": TEXT, "start_time": TIME,
    "origin_builds_finish_time": TIME, "origin_tests_finish_time": TIME,
    "log_url": URI, "log_excerpt": LOG_EXCERPT, "valid": Field("boolean"), "misc": MISC,
}, ("id", "origin"))

BUILD = Obj("build", {
    "_timestamp": TIME, "checkout_id": ID, "id": ID, "origin": ORIGIN, "comment": TEXT,
    "start_time": TIME, "duration": Field("number"),
    "architecture": S("architecture"), "command": TEXT, "compiler": TEXT,
    "input_files": RESOURCES, "output_files": RESOURCES, "config_name": TEXT,
    "config_url": URI, "log_url": URI, "log_excerpt": LOG_EXCERPT, "status": STATUS,
    "misc": MISC,
}, ("checkout_id", "id", "origin"))

ENVIRONMENT = Obj("environment", {
    "compatible": Field("array", items=S("compatible")),
    "comment": TEXT, "misc": MISC})

NUMBER = Obj("number", {"value": Field("number"), "unit": TEXT,
                        "prefix": S("prefix")}, ("value",))

TEST = Obj("test", {
    "_timestamp": TIME, "build_id": ID, "id": ID, "origin": ORIGIN,
    "environment": Field("object", obj=ENVIRONMENT), "path": S("path"),
    "comment": TEXT, "log_url": URI, "log_excerpt": LOG_EXCERPT, "status": STATUS,
    "number": Field("object", obj=NUMBER), "start_time": TIME, "duration": Field("number"),
    "input_files": RESOURCES, "output_files": RESOURCES, "misc": MISC,
}, ("build_id", "id", "origin"))

ISSUE = Obj("issue", {
    "_timestamp": TIME, "id": ID, "version": Field("integer", ("minimum",)), "origin": ORIGIN,
    "categories": Field("array", items=S("path")), "report_url": URI,
    "report_subject": TEXT,
    "culprit": Field("object", obj=Obj("culprit", {
        "code": Field("boolean"), "tool": Field("boolean"), "harness": Field("boolean")})),
    "comment": TEXT, "misc": MISC,
}, ("id", "version", "origin"))

INCIDENT = Obj("incident", {
    "_timestamp": TIME, "id": ID, "origin": ORIGIN, "issue_id": ID,
    "issue_version": Field("integer", ("minimum",)), "build_id": ID, "test_id": ID,
    "present": Field("boolean"), "comment": TEXT, "misc": MISC,
}, ("id", "origin", "issue_id", "issue_version"))

DOCUMENT = Obj("the document", {
    "version": Field("object", obj=Obj("version", {
        "major": Field("integer"), "minor": Field("integer")},
        ("major",))),
    "checkouts": Field("array", items=Field("object", obj=CHECKOUT)),
    "builds": Field("array", items=Field("object", obj=BUILD)),
    "tests": Field("array", items=Field("object", obj=TEST)),
    "issues": Field("array", items=Field("object", obj=ISSUE)),
    "incidents": Field("array", items=Field("object", obj=INCIDENT)),
}, ("version",))


# ---- value rules: each returns what is wrong, or "" ----

ORIGIN_RE = re.compile(r"[a-z0-9_]+")
ID_RE = re.compile(r"[a-z0-9_]+:[^\0]*", re.S)
PATH_RE = re.compile(r"([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?")
DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+")


def show(v: Any) -> str:
    """v, short and printable, for a message."""
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    s = schema.printable(s)
    return repr(s[:60] + "...") if len(s) > 60 else repr(s)


def _match(rx: re.Pattern[str], what: str) -> Callable[[Any], str]:
    return lambda v: "" if rx.fullmatch(v) else f"{show(v)} is not {what}"


def _date_time(v: str) -> str:
    m = DATE_TIME_RE.fullmatch(v)
    if m:
        try:
            y, mo, d, h, mi, sec = (int(x) for x in m.groups()[:6])
            datetime.datetime(y, mo, d, h, mi, min(sec, 59))  # 60: a leap second
            return ""
        except ValueError:
            pass
    return f"{show(v)} is not an RFC 3339 date-time (2026-01-01T12:00:00+00:00)"


VALUE_RULES: dict[str, Callable[[Any], str]] = {
    "origin": _match(ORIGIN_RE, "an origin (lower-case letters, digits, _)"),
    "id": _match(ID_RE, "an id (ORIGIN:..., no NUL)"),
    "status": lambda v: "" if v in STATUSES else f"{show(v)} is not one of {', '.join(STATUSES)}",
    "path": _match(PATH_RE, "a dot-separated path of [a-zA-Z0-9_-] names"),
    "log-excerpt": lambda v: (f"{len(v)} characters, more than {LOG_EXCERPT_MAX}"
                              if len(v) > LOG_EXCERPT_MAX else ""),
    "nul": lambda v: "holds a NUL" if "\0" in v else "",
    "prefix": lambda v: "" if v in ("metric", "binary") else f"{show(v)} is not metric or binary",
    "architecture": _match(re.compile(r"[a-z0-9_]*"), "an architecture ([a-z0-9_]*)"),
    "git-commit-hash": _match(re.compile(r"[0-9a-f]{40}"), "a 40-digit commit hash"),
    "patchset-hash": _match(re.compile(r"(|[0-9a-f]{64})"), "empty or a sha256 hash"),
    "git-url": _match(re.compile(r"https://[^\0]*", re.S), "an https:// URL"),
    "resource-name": _match(re.compile(r"[^/\0]+", re.S), "a file name"),
    "compatible": _match(re.compile(r"[^ \0]+(,[^ \0]+)*", re.S), "a compatible string"),
    "date-time": _date_time,
    "uri": _match(URI_RE, "an absolute URI"),
    "email": lambda v: "" if "@" in v else f"{show(v)} is not an e-mail address",
    "minimum": lambda v: f"{show(v)} is below 0" if v < 0 else "",
}

TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # JSON Schema (draft 6 on): a number without a fractional part
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def article(t: str) -> str:
    return f"{'an' if t[0] in 'aeiou' else 'a'} {t}"


def jtype(v: Any) -> str:
    """The JSON type of a parsed value, with its article."""
    if v is None:
        return "null"
    for t in ("boolean", "string", "object", "array"):
        if TYPES[t](v):
            return article(t)
    return "a number"


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, where: str, rule: str, what: str) -> None:
        self.problems.append(Problem(where or "(top)", rule, what))

    def value(self, v: Any, f: Field, where: str) -> None:
        if v is None:
            self.bad(where, "type", f"null where {article(f.type)} belongs (KCIDB allows "
                                    "no null)")
            return
        if not TYPES[f.type](v):
            self.bad(where, "type", f"{jtype(v)} where {article(f.type)} belongs")
            return
        for rule in f.rules:
            what = VALUE_RULES[rule](v)
            if what:
                self.bad(where, rule, what)
        if f.items is not None:
            for i, x in enumerate(v):
                self.value(x, f.items, _at(where, i))
        if f.obj is not None:
            self.obj(v, f.obj, where)

    def obj(self, d: dict[str, Any], spec: Obj, where: str) -> None:
        if spec.free:
            return
        for k in spec.required:
            if k not in d:
                self.bad(where, "required", f"{spec.name} without {k!r}")
        for k, v in d.items():
            f = spec.props.get(k)
            if f is None:
                self.bad(_at(where, schema.printable(k)), "property",
                         f"{show(k)} is not a property of a {spec.name}"
                         if spec.name != "the document" else
                         f"{show(k)} is not a property of the document")
            else:
                self.value(v, f, _at(where, k))

    def version(self, d: dict[str, Any]) -> None:
        v = d.get("version")
        if not isinstance(v, dict):
            return
        major: Any = v.get("major")
        minor: Any = v.get("minor")
        if TYPES["integer"](major) and major != MAJOR:
            self.bad("version.major", "version", f"{show(major)}: this is schema "
                                                 f"v{MAJOR}.{MINOR} (major {MAJOR})")
        if TYPES["integer"](minor) and not 0 <= minor <= MINOR:
            self.bad("version.minor", "version", f"{show(minor)}: v{MAJOR} minor versions "
                                                 f"known here are 0 to {MINOR}")

    def strict(self, d: dict[str, Any]) -> None:
        ids: dict[str, set[Any]] = {}
        for name in LISTS:
            objs = d.get(name)
            if not isinstance(objs, list):
                continue
            seen: set[Any] = set()
            for i, o in enumerate(objs):
                if not isinstance(o, dict) or not isinstance(o.get("id"), str):
                    continue
                key = (o["id"], o.get("version")) if name == "issues" else o["id"]
                if key in seen:
                    self.bad(f"{name}[{i}].id", "unique",
                             f"{show(o['id'])} is the id of an earlier {name[:-1]}")
                seen.add(key)
                org = o.get("origin")
                if isinstance(org, str) and not o["id"].startswith(org + ":"):
                    self.bad(f"{name}[{i}].id", "own-origin",
                             f"{show(o['id'])} does not start with its origin {show(org)}:")
            ids[name] = {k[0] if isinstance(k, tuple) else k for k in seen}
        for name, key, parent in (("builds", "checkout_id", "checkouts"),
                                  ("tests", "build_id", "builds")):
            objs = d.get(name)
            if not isinstance(objs, list):
                continue
            for i, o in enumerate(objs):
                if isinstance(o, dict) and isinstance(o.get(key), str) \
                        and o[key] not in ids.get(parent, set()):
                    self.bad(f"{name}[{i}].{key}", "link",
                             f"{show(o[key])} names no {parent[:-1]} of the document")


def check(doc: Any, strict: bool = False) -> list[Problem]:
    """What is wrong with the parsed document doc (empty: valid)."""
    c = Checker()
    if not isinstance(doc, dict):
        c.bad("", "type", f"{jtype(doc)} where the document's object belongs")
        return c.problems
    c.obj(doc, DOCUMENT, "")
    c.version(doc)
    if strict:
        c.strict(doc)
    return c.problems


def _strings(v: Any, where: str, out: list[Problem]) -> None:
    """A lone surrogate ("\\ud800" in the text) is no Unicode text."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            out.append(Problem(where or "(top)", "json", "a string with a lone surrogate"))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _strings(x, _at(where, i), out)
    elif isinstance(v, dict):
        for k, x in v.items():
            _strings(k, where, out)
            _strings(x, _at(where, schema.printable(k)), out)


def parse(data: bytes) -> tuple[Any, list[Problem]]:
    """The document in data, or None and the json rule's problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, [Problem("(file)", "json", f"not UTF-8 (byte {e.start})")]
    try:
        # NaN, Infinity and 1e999 are no JSON numbers (schema.py's hooks)
        doc = json.loads(text, parse_constant=schema._no_constant,
                         parse_float=schema._finite)
    except json.JSONDecodeError as e:
        return None, [Problem("(file)", "json", f"not JSON ({e.msg} at line {e.lineno} "
                                                f"column {e.colno})")]
    except RecursionError:
        return None, [Problem("(file)", "json", "nested too deeply")]
    except ValueError as e:
        return None, [Problem("(file)", "json", schema.printable(str(e)))]
    out: list[Problem] = []
    _strings(doc, "", out)
    return (None if out else doc), out


def check_bytes(data: bytes, strict: bool = False) -> tuple[Any, list[Problem]]:
    """(the document, what is wrong with it) for the bytes of a file."""
    doc, problems = parse(data)
    if problems:
        return None, problems
    return doc, check(doc, strict)


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def counts(doc: dict[str, Any]) -> str:
    return ", ".join(f"{len(doc[k])} {k}" for k in LISTS if isinstance(doc.get(k), list))


def run(argv: list[str]) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", metavar="FILE", help="KCIDB JSON documents")
    ap.add_argument("--strict", action="store_true",
                    help="also aio-suite's own rules: unique ids, links inside the "
                         "document, ids that start with their origin")
    ap.add_argument("--rules", action="store_true", help="list the rules and exit")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the problems")
    a = ap.parse_args(argv)
    if a.rules:
        for name, what in RULES.items():
            print(f"{name}\t{what}")
        return 0
    if not a.files:
        raise UsageError("no FILE to check (see --help)")
    status = 0
    for name in a.files:
        shown = schema.printable(name)
        try:
            data = schema.read_bytes(Path(name))
        except schema.BadFile as e:
            print(f"{PROG}: {shown}: {e}", file=sys.stderr)
            status = 1
            continue
        doc, problems = check_bytes(data, a.strict)
        for p in problems[:SHOW_PROBLEMS]:
            print(f"{PROG}: {shown}: {p}")
        if len(problems) > SHOW_PROBLEMS:
            print(f"{PROG}: {shown}: ... and {len(problems) - SHOW_PROBLEMS} more problems")
        if problems:
            status = 1
        elif not a.quiet:
            print(f"{PROG}: {shown}: valid KCIDB v{MAJOR}.{MINOR}"
                  f"{' (strict)' if a.strict else ''}: {counts(doc) or 'no objects'}")
    return status


def main(argv: list[str]) -> int:
    try:
        return run(argv)
    except UsageError as e:
        print(f"{PROG}: {schema.printable(str(e))}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: one line, not a traceback
        print(f"{PROG}: internal error: {type(e).__name__}: {schema.printable(str(e))}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
