#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the Python package aiosuite/ keeps its floors: stats,
# schemas, machine, features, interrupt and scratch import nothing of the
# package; store imports only those; study/ and report/ import the floors
# below and never each other; bench/ is on top.  No module of the package
# edits sys.path, every one of them imports, and the entry points in
# tools/ run the package's modules.

load helpers

setup() {
	common_setup
}

# package_imports: every import of the package by a module of the package,
# one line each: "IMPORTER IMPORTED" (module names), from the source.
package_imports() {
	_python - "$TOP" <<'EOF'
import ast
import sys
from pathlib import Path

top = Path(sys.argv[1])
files = sorted((top / "aiosuite").rglob("*.py"))


def name_of(path):
    parts = list(path.relative_to(top).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


known = {name_of(f) for f in files}
for f in files:
    me = name_of(f)
    package = me if f.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(f.read_text(), str(f))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for t in targets:
            if t == "aiosuite" or t.startswith("aiosuite."):
                print(me, t)
EOF
}

@test "no module of aiosuite imports one on its own floor or above, and study and report never import each other" {
	run package_imports
	assert_status 0
	[[ -n $output ]]
	run _python - <<EOF
import sys

def floor(m):
    if m in ("aiosuite.stats", "aiosuite.schemas", "aiosuite.machine", "aiosuite.features",
             "aiosuite.interrupt", "aiosuite.scratch", "aiosuite.control",
             "aiosuite.cliparse"):
        return 1
    if m == "aiosuite.store":
        return 2
    if m == "aiosuite.fio_clients":  # on the store; read by study and report
        return 2.5
    if m == "aiosuite.mutants_table":  # on the store; read by no one
        return 3
    for wing, f in (("aiosuite.study", 3), ("aiosuite.report", 3), ("aiosuite.bench", 4)):
        if m == wing or m.startswith(wing + "."):
            return f
    return 9  # the package itself, or a module this test does not know

def wing(m):
    return ".".join(m.split(".")[:2])

bad = []
for line in """$output""".splitlines():
    me, it = line.split()
    if floor(it) < floor(me) or (floor(me) >= 3 and wing(it) == wing(me)):
        continue
    bad.append(f"{me} imports {it}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
	assert_status 0
}

@test "no module of aiosuite edits sys.path" {
	run grep -rn --include='*.py' 'sys\.path' "$TOP/aiosuite"
	assert_status 1
}

@test "every module of aiosuite imports" {
	run _python - "$TOP" <<'EOF'
import importlib
import pkgutil
import sys

sys.path.insert(0, sys.argv[1])
import aiosuite

n = 0
for m in pkgutil.walk_packages(aiosuite.__path__, "aiosuite."):
    if not m.name.endswith(".__main__"):
        importlib.import_module(m.name)
        n += 1
print(f"{n} modules")
EOF
	assert_status 0
	assert_output_has " modules"
}

@test "every entry point in tools/ runs its module of the package, from any directory" {
	local f
	cd "$SCRATCH"
	for f in "$TOP"/tools/*.py; do
		run python3 "$f" --help
		[[ $status == 0 && -n $output ]] || {
			echo "$f --help: status $status: $output" >&2
			return 1
		}
	done
	run python3 "$TOP/tools/study.py" --help
	assert_output_has "scenarios:"
}

@test "python3 -m aiosuite.report, .study and .bench run from the checkout's top" {
	cd "$TOP"
	run python3 -m aiosuite.report --help
	assert_status 0
	assert_output_has "usage: report"
	run python3 -m aiosuite.study --help
	assert_status 0
	assert_output_has "usage: study"
	run python3 -m aiosuite.bench --help
	assert_status 0
	assert_output_has "usage: bench"
}
