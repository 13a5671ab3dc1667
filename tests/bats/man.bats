#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Description: the man pages in man/: one for every installed command and
# aio-suite(7); each renders without a warning; the options of a page and
# of its command's --help are the same set (so that neither can drift from
# the other); make install puts them where man finds them.

load helpers

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# The C commands make install installs (the Makefile's BINS): aio-stress,
# aio-conform and one per src/tools/*.c.
c_commands() {
	local f

	printf '%s\n' aio-stress aio-conform
	for f in "$TOP"/src/tools/*.c; do
		f=${f##*/}
		echo "${f%.c}"
	done
}

# The Python commands and the script each one runs.
py_commands() {
	printf '%s\n' aio-bench aio-report aio-study aio-calibrate
}

py_script() {
	case $1 in
	aio-bench) echo tools/bench.py ;;
	aio-report) echo tools/report.py ;;
	aio-study) echo tools/study.py ;;
	aio-calibrate) echo tools/calibrate.py ;;
	*) return 1 ;;
	esac
}

all_commands() {
	c_commands
	py_commands
}

# help_of CMD: the command's --help text, from the build or the checkout.
help_of() {
	local script

	if script=$(py_script "$1"); then
		COLUMNS=80 python3 "$TOP/$script" --help
	else
		"$BUILD_DIR/$1" --help
	fi
}

# man_options MODE PAGE HELPFILE: the options of a --help text against
# those of a page's roff source (the tags of its OPTIONS entries, and its
# SYNOPSIS).  The options of a --help text are those of its usage lines
# and those that begin an entry: at the start of a line, after a tab or
# two spaces, and the ones listed after them ("-l, --list"); never one in
# parentheses.  Prose that names another command's option ("a file
# aio-stress --verify wrote", "(it has no --force)") is not an entry.
# MODE help-in-man prints each option of the help that the page's OPTIONS
# lack; man-in-help each option of the page that the help lacks.  Exit 1
# when it printed any, 2 when it found (next to) no options at all, which
# would make the check vacuous.
man_options() {
	python3 - "$@" <<'EOF'
import re
import sys

mode, page, helpfile = sys.argv[1:4]
O = r"(?:--[a-z][a-z0-9-]*|-[A-Za-z])(?![A-Za-z0-9_])"
OPT = re.compile(r"(?:(?<=[\s\[,|])|^)(" + O + ")", re.M)
ENTRY = re.compile(r"(?:^[ \t]*|[ \t]{2,})(" + O + "(?:, " + O + ")*)", re.M)


def outside_parens(text: str) -> str:
    """text without what is in parentheses (the line breaks are kept); a
    group ends at a blank line."""
    out, depth = [], 0
    for para in re.split(r"\n[ \t]*\n", text):
        depth = 0
        for ch in para:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(depth - 1, 0)
            elif depth == 0 or ch == "\n":
                out.append(ch)
        out.append("\n\n")
    return "".join(out)


def help_options(text: str) -> set[str]:
    opts: set[str] = set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("usage:"):
            opts.update(OPT.findall(line))
            for more in lines[i + 1:]:
                if not re.match(r"\s+\[", more):
                    break
                opts.update(OPT.findall(more))
            break
    for chain in ENTRY.findall(outside_parens(text)):
        opts.update(OPT.findall(chain))
    return opts


def deroff(line: str) -> str:
    line = re.sub(r"^\.[A-Za-z]+\s*", "", line)
    line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)
    line = line.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\")
    for esc in ("\\&", "\\%", "\\c"):
        line = line.replace(esc, "")
    return line.replace('"', " ")


def page_options(path: str) -> tuple[set[str], set[str]]:
    """(options of the OPTIONS tags, options of the SYNOPSIS)."""
    tags: set[str] = set()
    synopsis: set[str] = set()
    section, after_tp = "", False
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith(".SH"):
                section = line[3:].strip().strip('"')
                after_tp = False
                continue
            if line.startswith(".\\\""):
                continue
            if section == "OPTIONS":
                if line.startswith(".TP"):
                    after_tp = True
                    continue
                if after_tp:
                    tags.update(OPT.findall(deroff(line)))
                    after_tp = False
            elif section == "SYNOPSIS":
                synopsis.update(OPT.findall(deroff(line)))
    return tags, synopsis


with open(helpfile) as f:
    helps = help_options(f.read())
tags, synopsis = page_options(page)
if len(helps) < 2 or len(tags) < 2:
    print(f"{page}: too few options found (--help: {sorted(helps)}, "
          f"OPTIONS: {sorted(tags)})")
    sys.exit(2)
if mode == "help-in-man":
    missing = sorted(helps - tags)
    where = "its --help prints, its man page's OPTIONS lack"
else:
    missing = sorted((tags | synopsis) - helps)
    where = "its man page names, its --help does not print"
for o in missing:
    print(f"{page}: {o}: {where}")
sys.exit(1 if missing else 0)
EOF
}

# check_options MODE: man_options MODE for every command; all mismatches.
check_options() {
	local cmd bad=0 help=$BATS_TEST_TMPDIR/help

	for cmd in $(all_commands); do
		if [[ ! -f $TOP/man/$cmd.1 ]]; then
			echo "$cmd: no man/$cmd.1"
			bad=1
			continue
		fi
		if ! help_of "$cmd" >"$help" 2>&1; then
			echo "$cmd --help failed: $(head -1 "$help")"
			bad=1
			continue
		fi
		man_options "$1" "$TOP/man/$cmd.1" "$help" || bad=1
	done
	return "$bad"
}

@test "every installed command has a man page, and every page names one" {
	local cmd f bad=0

	for cmd in $(all_commands); do
		[[ -f $TOP/man/$cmd.1 ]] || { echo "no man/$cmd.1"; bad=1; }
	done
	for f in "$TOP"/man/*.1; do
		f=${f##*/}
		all_commands | grep -qx "${f%.1}" ||
			{ echo "man/$f: no such command"; bad=1; }
	done
	[[ -f $TOP/man/aio-suite.7 ]] || { echo "no man/aio-suite.7"; bad=1; }
	((bad == 0))
}

@test "every man page renders with groff without a warning" {
	command -v groff >/dev/null ||
		skip "groff is not installed (apt-get install groff-base)"
	local f out bad=0

	for f in "$TOP"/man/*.[1-9]; do
		out=$(groff -man -ww -z "$f" 2>&1) || bad=1
		[[ -z $out ]] || { echo "$out"; bad=1; }
	done
	((bad == 0))
}

@test "every option a command's --help prints has an entry in its man page" {
	run check_options help-in-man
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "every option a man page names is one its command's --help prints" {
	run check_options man-in-help
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "make install puts every man page where man -M finds it" {
	command -v man >/dev/null || skip "man is not installed (apt-get install man-db)"
	local root=$SCRATCH/root f name sect found bad=0

	# The defaults, whatever the environment says.
	run env -u PREFIX -u MANDIR make -C "$TOP" --no-print-directory \
		install DESTDIR="$root"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for f in "$TOP"/man/*.[1-9]; do
		f=${f##*/}
		name=${f%.*} sect=${f##*.}
		found=$(man -M "$root/usr/local/share/man" -w "$sect" "$name" 2>&1) ||
			true
		[[ $found == "$root/usr/local/share/man/man$sect/$f" ]] ||
			{ echo "man -w $sect $name: $found"; bad=1; }
	done
	((bad == 0))
}

@test "make uninstall removes the man pages make install put in place" {
	local root=$SCRATCH/root

	run env -u PREFIX -u MANDIR make -C "$TOP" --no-print-directory \
		install DESTDIR="$root"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -f "$root/usr/local/share/man/man1/aio-stress.1" ]
	[ -f "$root/usr/local/share/man/man7/aio-suite.7" ]
	run env -u PREFIX -u MANDIR make -C "$TOP" --no-print-directory \
		uninstall DESTDIR="$root"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run find "$root/usr/local/share/man" -type f
	[ -z "$output" ] || { echo "left: $output"; false; }
}
