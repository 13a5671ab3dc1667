#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Description: CI remembers.  The results store is kept in a branch of the
# project's own repository (default aio-suite-results), as
# github-action-benchmark keeps its data in gh-pages: the raw files of the
# newest runs of each host and kernel, a summary of every run ever pushed
# (aio-suite-history/1), the raw files bounded in size.  The git work is
# done with plumbing on a temporary index in a temporary directory: the
# checked-out branch, the index and the work tree of the repository are
# never touched, and the temporary directory and ref go on every exit.
# tools/history.py does the data side (docs/RESULTS-FORMAT.md).
#
#   ci/history.sh [options] pull|push|compare [-- report.py options]
#
# Exit status: 0; 1 when git, the remote or the comparison fails; 2 on a
# usage error (one line, "history: ...").
set -u -o pipefail

prog=history
TOP=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<EOF
usage: ci/history.sh [options] pull|push|compare [-- report.py options]

  pull     fetch the history branch (when it exists: a first run has none,
           and that is fine) and unpack its runs into the results store,
           each run whose directory is not there yet (this pipeline's own
           runs are kept as they are), and its summaries into
           STORE/.history/
  push     add every run of the store the branch does not know (this run,
           and anything new) with its summary, prune, commit (the message
           names host/kernel/run) and push; when another pipeline pushed
           first, fetch, merge the data and push again (--retries)
  compare  a pull request's check: each run of this pipeline (a run of the
           store that did not come from the history) against the newest
           complete run of the history of the same host and kernel
           (tools/report.py --by run --fail-on-regression); exit 1 on a
           regression or a new conformance failure

options (the environment variable in brackets sets the default):
  --results DIR     the results store (AIO_SUITE_RESULTS; default results/)
  --remote REMOTE   a remote name or URL (AIO_SUITE_HISTORY_REMOTE; origin)
  --branch NAME     the history branch (AIO_SUITE_HISTORY_BRANCH;
                    aio-suite-results)
  --keep N          raw runs kept per host and kernel (AIO_SUITE_HISTORY_KEEP;
                    20); a summary is never pruned
  --max-bytes SIZE  cap on all raw files of the branch, bytes or with K, M,
                    G (AIO_SUITE_HISTORY_MAX_BYTES; 50M): the oldest raw
                    runs are pruned first, and each one is named
  --retries N       push attempts when another push lands first
                    (AIO_SUITE_HISTORY_RETRIES; 5)
  -C DIR            the git repository (default: the current directory)
  -h, --help        this help
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage_error() {
	echo "$prog: $*" >&2
	exit 2
}

say() {
	echo "$prog: $*"
}

cmd=
repo=.
results=${AIO_SUITE_RESULTS:-$TOP/results}
remote=${AIO_SUITE_HISTORY_REMOTE:-origin}
branch=${AIO_SUITE_HISTORY_BRANCH:-aio-suite-results}
keep=${AIO_SUITE_HISTORY_KEEP:-20}
max_bytes=${AIO_SUITE_HISTORY_MAX_BYTES:-50M}
retries=${AIO_SUITE_HISTORY_RETRIES:-5}
report_args=()

while (($#)); do
	opt=$1
	case $opt in
	-h | --help)
		usage
		exit 0
		;;
	--results=* | --remote=* | --branch=* | --keep=* | --max-bytes=* | --retries=*)
		set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
		continue
		;;
	--results | --remote | --branch | --keep | --max-bytes | --retries | -C)
		(($# >= 2)) || usage_error "option $opt needs a value"
		case $opt in
		--results) results=$2 ;;
		--remote) remote=$2 ;;
		--branch) branch=$2 ;;
		--keep) keep=$2 ;;
		--max-bytes) max_bytes=$2 ;;
		--retries) retries=$2 ;;
		-C) repo=$2 ;;
		esac
		shift 2
		continue
		;;
	--)
		shift
		report_args=("$@")
		break
		;;
	-*)
		usage_error "unknown option '$opt' (ci/history.sh --help)"
		;;
	pull | push | compare)
		[[ -z $cmd ]] || usage_error "one command only, not '$cmd' and '$opt'"
		cmd=$opt
		;;
	*)
		usage_error "unknown command '$opt' (pull, push or compare)"
		;;
	esac
	shift
done

[[ -n $cmd ]] || usage_error "a command is needed: pull, push or compare (ci/history.sh --help)"
((${#report_args[@]} == 0)) || [[ $cmd == compare ]] ||
	usage_error "arguments after -- are for compare only"
[[ $keep =~ ^[1-9][0-9]*$ ]] ||
	usage_error "--keep: a whole number of 1 or more is needed, not '$keep'"
[[ $retries =~ ^[1-9][0-9]*$ ]] ||
	usage_error "--retries: a whole number of 1 or more is needed, not '$retries'"
if [[ $max_bytes =~ ^([1-9][0-9]{0,14})([KkMmGg]?)$ ]]; then
	max=${BASH_REMATCH[1]}
	case ${BASH_REMATCH[2]} in
	[Kk]) max=$((max << 10)) ;;
	[Mm]) max=$((max << 20)) ;;
	[Gg]) max=$((max << 30)) ;;
	esac
else
	usage_error "--max-bytes: a size like 50M (bytes, or K, M, G) is needed, not '$max_bytes'"
fi
[[ -n $results ]] || usage_error "--results: a directory is needed"
[[ -n $remote && $remote != -* ]] || usage_error "--remote: a remote name or URL is needed, not '$remote'"
if [[ $branch == -* ]] || ! git check-ref-format "refs/heads/$branch"; then
	usage_error "--branch: '$branch' is not a valid branch name"
fi

# The remote as it may be shown: a URL's credentials are left out.
shown_remote=$(sed -E 's#(://)[^/@]*@#\1#' <<<"$remote")

if [[ $cmd == compare ]]; then
	exec python3 "$TOP/tools/history.py" compare "$results" "${report_args[@]}"
fi

gitdir=$(git -C "$repo" rev-parse --absolute-git-dir 2>/dev/null) ||
	die "not a git repository: $repo"
unset GIT_INDEX_FILE GIT_WORK_TREE

tmp=
tmpref=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[[ -n $tmpref ]] && git -C "$repo" update-ref -d "$tmpref" 2>/dev/null
	[[ -n $tmp ]] && rm -rf -- "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "$prog: interrupted" >&2; exit 130' INT
trap 'echo "$prog: terminated" >&2; exit 143' TERM
trap 'echo "$prog: hung up" >&2; exit 129' HUP
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aio-suite-history.XXXXXX") ||
	die "cannot make a temporary directory in ${TMPDIR:-/tmp}"
# The fetched tip is held by a ref of this run's own (deleted on exit),
# never by the branch or FETCH_HEAD of the repository.
tmpref=refs/aio-suite-history/tmp-${tmp##*.}

# The last line git or tar wrote to $tmp/err, without "fatal: ", and
# without a URL's credentials.
last_error() {
	local line
	line=$(grep -v '^[[:space:]]*$' "$tmp/err" 2>/dev/null | tail -n 1)
	line=${line#fatal: }
	line=${line#error: }
	sed -E 's#(://)[^/@ ]*@#\1#g' <<<"${line:-no message}"
}

# Why git push failed, in one line: git's "[remote rejected] (why)" and
# the first thing the remote said.
push_error() {
	local why said

	why=$(sed -nE 's/^ ! \[([^]]*)\] .* \((.*)\)$/\1 (\2)/p' "$tmp/push-err" | head -n 1)
	said=$(sed -nE 's/^remote: +(.*[^[:space:]])[[:space:]]*$/\1/p' "$tmp/push-err" | head -n 1)
	if [[ -z $why ]]; then
		cp "$tmp/push-err" "$tmp/err"
		why=$(last_error)
	fi
	echo "$why${said:+; the remote said: $said}" | sed -E 's#(://)[^/@ ]*@#\1#g'
}

# The remote's commit of the branch, or nothing when it has no such branch.
remote_tip() {
	local out

	out=$(git -C "$repo" ls-remote --heads "$remote" "refs/heads/$branch" 2>"$tmp/err") ||
		die "cannot read $shown_remote: $(last_error)"
	awk -v ref="refs/heads/$branch" '$2 == ref { print $1 }' <<<"$out"
}

# fetch_tip: $tip becomes the branch's commit, fetched (empty: no branch).
fetch_tip() {
	tip=$(remote_tip) || exit 1
	[[ -n $tip ]] || return 0
	git -C "$repo" fetch --quiet --no-tags --no-write-fetch-head "$remote" \
		"+refs/heads/$branch:$tmpref" 2>"$tmp/err" ||
		die "cannot fetch $branch from $shown_remote: $(last_error)"
	tip=$(git -C "$repo" rev-parse --verify -q "$tmpref^{commit}") ||
		die "$branch on $shown_remote is not a commit"
}

# unpack_tip: the branch's tree into $tmp/tree.
unpack_tip() {
	rm -rf -- "$tmp/tree"
	mkdir "$tmp/tree" || die "cannot make $tmp/tree"
	[[ -n $tip ]] || return 0
	git -C "$repo" archive --format=tar "$tip" 2>"$tmp/err" |
		tar -x -C "$tmp/tree" -f - 2>>"$tmp/err" ||
		die "cannot unpack $branch (commit ${tip:0:12}): $(last_error)"
}

pull() {
	fetch_tip
	if [[ -z $tip ]]; then
		say "no branch $branch on $shown_remote yet: nothing to pull (a first run)"
		return 0
	fi
	unpack_tip
	say "pulled $branch from $shown_remote (commit ${tip:0:12})"
	python3 "$TOP/tools/history.py" unpack "$tmp/tree" "$results" || exit 1
}

push() {
	local attempt=1 commit tree now title
	local sha ref url

	[[ -d $results ]] || die "no results store at $results"
	# Who pushes: the CI system's commit, ref and build, else the checkout's.
	sha=${GITHUB_SHA:-${CI_COMMIT_SHA:-$(git -C "$repo" rev-parse -q --verify HEAD)}}
	ref=${GITHUB_REF_NAME:-${CI_COMMIT_REF_NAME:-$(git -C "$repo" symbolic-ref -q --short HEAD)}}
	url=${CI_PIPELINE_URL:-}
	[[ -n ${GITHUB_RUN_ID:-} ]] &&
		url=${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID
	if [[ -z $(git -C "$repo" config user.email) ]]; then
		export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-aio-suite history}
		export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-aio-suite-history@localhost}
		export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}
		export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}
	fi
	while :; do
		fetch_tip
		unpack_tip
		rm -f -- "$tmp/index" "$tmp/message"
		python3 "$TOP/tools/history.py" stage "$results" "$tmp/tree" \
			--keep "$keep" --max-bytes "$max" --message "$tmp/message" \
			--commit "$sha" --ref "$ref" --build-url "$url" || exit 1
		[[ -s $tmp/message ]] || return 0
		GIT_INDEX_FILE=$tmp/index git --git-dir="$gitdir" --work-tree="$tmp/tree" \
			-C "$tmp/tree" -c core.autocrlf=false -c core.safecrlf=false \
			add -A -f -- . 2>"$tmp/err" || die "cannot stage the tree: $(last_error)"
		tree=$(GIT_INDEX_FILE=$tmp/index git --git-dir="$gitdir" write-tree 2>"$tmp/err") ||
			die "cannot write the tree: $(last_error)"
		commit=$(git -C "$repo" commit-tree --no-gpg-sign ${tip:+-p "$tip"} \
			-F "$tmp/message" "$tree" 2>"$tmp/err") ||
			die "cannot make the commit: $(last_error)"
		if git -C "$repo" push --quiet --no-verify "$remote" \
			"$commit:refs/heads/$branch" 2>"$tmp/push-err"; then
			title=$(head -n 1 "$tmp/message")
			say "pushed to $branch on $shown_remote (commit ${commit:0:12}): ${title#history: }"
			return 0
		fi
		# Rejected.  When the branch moved since it was read, another
		# pipeline pushed first: read it again, add this run to it, and
		# push again.  Otherwise the push failed for good.
		now=$(remote_tip) || exit 1
		[[ $now != "$tip" ]] || die "cannot push to $branch on $shown_remote: $(push_error)"
		((attempt < retries)) ||
			die "gave up after $retries attempt$( ((retries == 1)) || echo s): $branch on $shown_remote moved each time (another pipeline pushed first)"
		attempt=$((attempt + 1))
		say "$branch on $shown_remote moved (another pipeline pushed first): merging and pushing again, attempt $attempt of $retries"
		# A moment of chance: two pipelines that keep meeting drift apart.
		sleep "0.$((RANDOM % 9 + 1))"
	done
}

"$cmd"
