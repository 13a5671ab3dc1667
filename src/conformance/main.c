/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: aio-conform's command line.  Parses and checks the options
 * (a bad one is a one-line error and exit status 2 before anything runs),
 * sweeps what a killed earlier run left in the scratch parent, makes the
 * scratch directory with its owner file, runs the selected tests and
 * removes what it made.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "scratch.h"
#include "target.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aio-conform [options]\n"
		"\n"
		"Checks, test by test, that this kernel's native AIO behaves as\n"
		"the ABI promises.  Output is KTAP version 1 on stdout.\n"
		"\n"
		"  -l, --list             list the selected tests and exit\n"
		"  -t, --test PATTERN     run only tests matching PATTERN (fnmatch;\n"
		"                         repeatable)\n"
		"  -T, --exclude PATTERN  skip tests matching PATTERN (repeatable)\n"
		"      --variant NAMES    targets for file I/O tests, comma-separated:\n"
		"                         scratch,tmpfs,ext4,xfs,btrfs (default all)\n"
		"      --timeout SECONDS  watchdog per test (default 30); a test\n"
		"                         still taking or reaping iocbs gets more\n"
		"                         windows, up to 4\n"
		"      --deadline SECONDS bound the whole run: then the running test\n"
		"                         is stopped, the rest are listed as not run\n"
		"                         and the run is written as incomplete\n"
		"      --bail-after N     stop (KTAP \"Bail out!\") once N tests in a\n"
		"                         row left a process SIGKILL cannot end\n"
		"                         (default 3; 0: never)\n"
		"      --scale N          multiply the race tests' loop counts by N\n"
		"                         (default 1)\n"
		"      --long             the race tests at the peers' full counts\n"
		"                         (xfstests' aio-dio-regress), times N;\n"
		"                         both raise the default --timeout as much\n"
		"      --json FILE        write the results as JSON to FILE\n"
		"  -d DIR                 scratch directory (a fresh directory is\n"
		"                         made inside it; default $TMPDIR or .);\n"
		"                         what a killed earlier run left in it is\n"
		"                         removed first, and said\n"
		"      --meta             run the meta group that tests the harness\n"
		"      --meta-raw         run the raw meta tests (some fail on purpose)\n"
		"      --inject-warning   let meta.raw.dmesg_warning write a WARNING\n"
		"                         line to /dev/kmsg (root only)\n"
		"      --system-wide      also run the tests that change what other\n"
		"                         processes on the machine see (such as\n"
		"                         /proc/sys/fs/aio-max-nr) while they run;\n"
		"                         put back after each (for a test machine\n"
		"                         or guest; without it they are skipped)\n"
		"  -h, --help             show this help\n"
		"\n"
		"A kernel without native AIO (or io_uring) skips what needs it.\n"
		"\n"
		"Exit status: 0 when nothing failed, 1 when a test failed or the\n"
		"run is incomplete (--deadline, a bail-out), 2 on usage errors,\n"
		"128 + N when stopped by signal N (130 for SIGINT).\n");
}

/* --long's loops take up to this many times the default's. */
#define LONG_TIMEOUT_FACTOR 10

enum {
	OPT_VARIANT = 256,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_META,
	OPT_META_RAW,
	OPT_INJECT,
	OPT_DEADLINE,
	OPT_BAIL,
	OPT_KILL_WAIT,
	OPT_TAINT_FILE,
	OPT_SYSTEM_WIDE,
	OPT_SCALE,
	OPT_LONG,
};

static const struct option long_opts[] = {
	{ "list", no_argument, NULL, 'l' },
	{ "test", required_argument, NULL, 't' },
	{ "exclude", required_argument, NULL, 'T' },
	{ "variant", required_argument, NULL, OPT_VARIANT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "meta", no_argument, NULL, OPT_META },
	{ "meta-raw", no_argument, NULL, OPT_META_RAW },
	{ "inject-warning", no_argument, NULL, OPT_INJECT },
	{ "system-wide", no_argument, NULL, OPT_SYSTEM_WIDE },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "bail-after", required_argument, NULL, OPT_BAIL },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "long", no_argument, NULL, OPT_LONG },
	/* Hidden, for the meta group: */
	{ "kill-wait", required_argument, NULL, OPT_KILL_WAIT },
	{ "taint-file", required_argument, NULL, OPT_TAINT_FILE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prog_name, buf);
	return 2;
}

/* The default watchdog, grown with --scale and --long (at most a day). */
static unsigned int scaled_timeout(unsigned int base_s)
{
	uint64_t t = (uint64_t)base_s * conform_opts.scale *
		     (conform_opts.long_counts ? LONG_TIMEOUT_FACTOR : 1);

	return t > 86400 ? 86400 : (unsigned int)t;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *bad;
	bool list = false, timeout_set = false;
	struct stat st;
	long val;
	int c, ret;

	prog_name = "aio-conform";
	conform_opts.self = "/proc/self/exe";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lt:T:d:h", long_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'l':
			list = true;
			break;
		case 't':
			if (conform_opts.nr_include == 16)
				return usage_error("too many -t patterns: '%s'",
						   optarg);
			conform_opts.include[conform_opts.nr_include++] =
				optarg;
			break;
		case 'T':
			if (conform_opts.nr_exclude == 16)
				return usage_error("too many -T patterns: '%s'",
						   optarg);
			conform_opts.exclude[conform_opts.nr_exclude++] =
				optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case OPT_VARIANT:
			if (variants_select(optarg, &bad))
				return usage_error("unknown variant '%s'", bad);
			break;
		case OPT_TIMEOUT:
			if (parse_long(optarg, 1, 86400, &val))
				return usage_error("invalid timeout '%s'",
						   optarg);
			conform_opts.timeout_s = (unsigned int)val;
			timeout_set = true;
			break;
		case OPT_DEADLINE:
			if (parse_long(optarg, 1, 7 * 86400, &val))
				return usage_error("invalid deadline '%s'",
						   optarg);
			conform_opts.deadline_s = (unsigned int)val;
			break;
		case OPT_BAIL:
			if (parse_long(optarg, 0, 100000, &val))
				return usage_error("invalid --bail-after '%s'",
						   optarg);
			conform_opts.bail_after = (unsigned int)val;
			break;
		case OPT_KILL_WAIT:
			if (parse_long(optarg, 1, 600, &val))
				return usage_error("invalid --kill-wait '%s'",
						   optarg);
			conform_opts.kill_wait_s = (unsigned int)val;
			break;
		case OPT_SCALE:
			if (parse_long(optarg, 1, 1000, &val))
				return usage_error("invalid --scale '%s'",
						   optarg);
			conform_opts.scale = (unsigned int)val;
			break;
		case OPT_LONG:
			conform_opts.long_counts = true;
			break;
		case OPT_TAINT_FILE:
			conform_opts.taint_file = optarg;
			break;
		case OPT_JSON:
			if (!*optarg)
				return usage_error("empty --json file name");
			conform_opts.json_path = optarg;
			break;
		case OPT_META:
			conform_opts.meta = true;
			break;
		case OPT_META_RAW:
			conform_opts.meta_raw = true;
			break;
		case OPT_INJECT:
			conform_opts.inject_warning = true;
			break;
		case OPT_SYSTEM_WIDE:
			conform_opts.system_wide = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			if (optopt) {
				char o[3] = { '-', (char)optopt, '\0' };

				return usage_error("unknown option '%s'", o);
			}
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!timeout_set)
		conform_opts.timeout_s = scaled_timeout(conform_opts.timeout_s);
	bad = conform_unmatched();
	if (bad && bad[0])
		return usage_error("no test matches -t '%s'", bad);
	if (bad)
		return usage_error("no test is selected");
	if (list) {
		conform_list();
		return 0;
	}

	if (!dir)
		dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") :
							      ".";
	if (stat(dir, &st))
		return usage_error("cannot use scratch directory '%s': %s", dir,
				   strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return usage_error("scratch directory '%s' is not a directory",
				   dir);
	if (access(dir, W_OK | X_OK))
		return usage_error("cannot use scratch directory '%s': %s", dir,
				   strerror(errno));
	ret = conform_json_start();
	if (ret)
		return usage_error("cannot write --json '%s': %s",
				   conform_opts.json_path, strerror(-ret));
	/* What a killed run left: its mounts, loop devices, directories. */
	scratch_sweep(dir);
	ret = scratch_create(dir, "aio-conform", conform_opts.scratch,
			     sizeof(conform_opts.scratch));
	if (ret) {
		msg("cannot create a scratch directory in %s: %s", dir,
		    strerror(-ret));
		return 1;
	}
	target_track_dir(conform_opts.scratch);
	ret = conform_run();
	rm_tree(conform_opts.scratch);
	target_untrack(conform_opts.scratch);
	target_cleanup_all();
	return ret;
}
