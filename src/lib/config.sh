#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: the Makefile's config step.  Writes OUT (build/config.h),
# one "#define HAVE_NAME 0|1" line for each call of liburing that
# io_uring.c uses and an older liburing lacks (Debian 11 has 0.7): 1 when
# a program calling it compiles and links with $CC.  uring_compat.h fills
# in what is 0.  OUT is rewritten only when an answer changes, so that a
# make run after another rebuilds nothing.  CONFIG_WITHOUT="NAME ..."
# answers 0 for those, to build and test the fallbacks with a new liburing.
#
#   CC=gcc CPPFLAGS=... LDFLAGS=... HAVE_LIBURING=1 [CONFIG_WITHOUT=...] \
#	sh src/lib/config.sh OUT
set -u

out=${1:?usage: config.sh OUT}
tmp=$out.tmp.$$
trap 'rm -f "$tmp" "$tmp.c" "$tmp.bin"' EXIT INT TERM

# probe NAME BODY: HAVE_NAME 1 when main() { BODY } builds against liburing.
probe() {
	v=0
	case " ${CONFIG_WITHOUT:-} " in
	*" $1 "*) ;; # as if liburing lacked it
	*)
		if [ "${HAVE_LIBURING:-}" = 1 ]; then
			printf '#include <liburing.h>\nint main(void)\n{\n%s\n}\n' \
				"$2" >"$tmp.c"
			# shellcheck disable=SC2086 # CC and the flags are word lists
			${CC:-cc} ${CPPFLAGS:-} \
				-Werror=implicit-function-declaration ${LDFLAGS:-} \
				-o "$tmp.bin" "$tmp.c" -luring >/dev/null 2>&1 && v=1
		fi
		;;
	esac
	printf '#define HAVE_%s %s\n' "$1" "$v"
}

{
	echo "/* Written by src/lib/config.sh for ${CC:-cc}: what liburing offers. */"
	probe IO_URING_ENTER 'return io_uring_enter(0, 0, 0, 0, NULL);'
	probe IO_URING_GET_EVENTS \
		'static struct io_uring r; return io_uring_get_events(&r);'
	probe IO_URING_RING_FEATURES \
		'static struct io_uring r; return (int)r.features;'
} >"$tmp" || exit 1

if ! cmp -s "$tmp" "$out"; then
	mv -f "$tmp" "$out" || exit 1
	echo "  CONFIG  $out ($(grep -c ' 1$' "$out") of $(grep -c '^#define' "$out") liburing features)"
fi
