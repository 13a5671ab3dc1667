#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the CI workflow files: they parse as YAML and have their parts.

With PyYAML (Debian's python3-yaml) each file is parsed for real; without
it, a structural check stands in: no tabs in indentation, every line a
mapping entry, a list item, a comment, or a block scalar's text, and
indentation that only steps in under a key that opens a block, and no
plain value starting with "!" (a YAML tag: `if: !cancelled()` must be
quoted).  Then the parts each CI system needs are looked for: GitHub's `on`
and `jobs` with `runs-on` and `steps` per job, each step one `run` or one
`uses`, `needs` naming jobs of the file; GitLab's `stages` and a `script`
per job, each job's stage one of `stages`, `needs` naming jobs of the file,
`rules` a list of mappings.

  python3 ci/check_yaml.py FILE...     exit 0 when every file is good

AIO_SUITE_NO_PYYAML=1 uses the structural check even where PyYAML is.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

try:
    import yaml  # type: ignore
except ImportError:  # the structural check stands in
    yaml = None
if os.environ.get("AIO_SUITE_NO_PYYAML"):  # to test the stand-in
    yaml = None

KEY = re.compile(r"""^(?:-\s+)?(?:"[^"]*"|'[^']*'|[^\s#:'"][^:#]*?)\s*:(?:\s|$)""")


def structural(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """(errors, top-level key -> its second-level keys)."""
    errors: list[str] = []
    tops: dict[str, list[str]] = {}
    stack = [0]
    block_indent = -1   # inside a | or > scalar deeper than this
    opens = False       # the previous line ended with "key:" (a block)
    top = ""
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if raw[indent:indent + 1] == "\t":
            errors.append(f"line {n}: a tab in the indentation")
            continue
        if block_indent >= 0:
            if indent > block_indent:
                continue
            block_indent = -1
        line = raw.strip()
        if line.startswith("#"):
            continue
        if indent > stack[-1]:
            if not opens:
                errors.append(f"line {n}: indented with no key opening a "
                              "block above")
            stack.append(indent)
        else:
            while stack and indent < stack[-1]:
                stack.pop()
            if not stack or indent != stack[-1]:
                errors.append(f"line {n}: indentation matches no level above")
                stack = [indent] if not stack else stack + [indent]
        body = line.split(" #", 1)[0].rstrip()
        if re.match(r"""^(?:-\s+)?(?:[^\s#:'"][^:#]*?\s*:\s+)?!(?!reference\b)""", body):
            errors.append(f"line {n}: a value starting with '!' is a YAML tag: "
                          "quote it")
        if not (body.startswith("- ") or body == "-" or KEY.match(body)
                or body.startswith(("{", "[", "&", "*", "'", '"'))
                or body == "---"):
            errors.append(f"line {n}: neither a key nor a list item: {line}")
        # a key opening a block, or a list item (its mapping goes on
        # two columns in)
        opens = body.endswith(":") or body.startswith("-")
        if re.search(r":\s*[|>][-+]?$", body):
            block_indent = indent
            opens = False
        if indent == 0 and KEY.match(body):
            top = body.split(":", 1)[0].strip().strip("'\"")
            tops.setdefault(top, [])
        elif top and len(stack) == 2 and KEY.match(body) \
                and not body.startswith("-"):
            tops[top].append(body.split(":", 1)[0].strip().strip("'\""))
    return errors, tops


def check_github(doc: Any, name: str) -> list[str]:
    errs = []
    if not isinstance(doc, dict):
        return [f"{name}: not a mapping"]
    # PyYAML reads the key `on` as True.
    if "on" not in doc and True not in doc:
        errs.append(f"{name}: no 'on'")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return errs + [f"{name}: no jobs"]
    for j, body in jobs.items():
        if not isinstance(body, dict) or "runs-on" not in body or \
                not isinstance(body.get("steps"), list):
            errs.append(f"{name}: job {j} lacks runs-on or steps")
            continue
        for i, step in enumerate(body["steps"], 1):
            if not isinstance(step, dict) or ("run" in step) == ("uses" in step):
                errs.append(f"{name}: job {j} step {i}: needs one of run or uses")
        needs = body.get("needs", [])
        for n in [needs] if isinstance(needs, str) else needs:
            if n not in jobs:
                errs.append(f"{name}: job {j} needs {n!r}, which is no job")
    return errs


def check_gitlab(doc: Any, name: str) -> list[str]:
    if not isinstance(doc, dict):
        return [f"{name}: not a mapping"]
    errs = [] if isinstance(doc.get("stages"), list) else [f"{name}: no stages"]
    jobs = {k: v for k, v in doc.items()
            if isinstance(v, dict) and not k.startswith(".") and
            k not in ("variables", "default", "workflow", "cache")}
    if not jobs:
        errs.append(f"{name}: no jobs")
    stages = doc.get("stages") if isinstance(doc.get("stages"), list) else []
    for j, body in jobs.items():
        if "script" not in body and "extends" not in body and \
                "trigger" not in body:
            errs.append(f"{name}: job {j} has no script")
        stage = body.get("stage", "test")
        if stages and stage not in stages and ".pre" != stage != ".post":
            errs.append(f"{name}: job {j}: stage {stage!r} is not in stages")
        for n in body.get("needs") or []:
            job = n.get("job") if isinstance(n, dict) else n
            if job not in jobs:
                errs.append(f"{name}: job {j} needs {job!r}, which is no job")
        rules = body.get("rules")
        if rules is not None and (not isinstance(rules, list) or
                                  not all(isinstance(r, dict) for r in rules)):
            errs.append(f"{name}: job {j}: rules must be a list of mappings")
    return errs


def check(path: Path) -> list[str]:
    text = path.read_text()
    gitlab = path.name.endswith("gitlab-ci.yml")
    if yaml is not None:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as err:
            return [f"{path}: {' '.join(str(err).split())}"]
        return (check_gitlab if gitlab else check_github)(doc, str(path))
    errors, tops = structural(text)
    errors = [f"{path}: {e}" for e in errors]
    if gitlab:
        if "stages" not in tops:
            errors.append(f"{path}: no stages")
        if "script" not in text:
            errors.append(f"{path}: no script")
    else:
        if "on" not in tops or "jobs" not in tops or not tops["jobs"]:
            errors.append(f"{path}: no 'on' or no jobs")
        if "runs-on:" not in text or "steps:" not in text:
            errors.append(f"{path}: no runs-on or steps")
    return errors


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: check_yaml.py FILE...", file=sys.stderr)
        return 2
    bad = 0
    for f in argv:
        errs = check(Path(f))
        for e in errs:
            print(f"check_yaml: {e}", file=sys.stderr)
        bad += bool(errs)
    how = "PyYAML" if yaml is not None else "structural check"
    print(f"check_yaml: {len(argv) - bad} of {len(argv)} files good ({how})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
