/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Description: the latency histogram.  Percentiles against the exact
 * percentiles of sorted random data from several distributions, merging,
 * the exact statistics, bucket bounds, clamping and the empty histogram.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hist.h"
#include "unit.h"
#include "util.h"

#define NR_VALUES 200000

static const double pcts[] = { 50, 90, 99, 99.9, 99.99 };

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted values: the definition hist uses. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	double r = p * (double)n / 100.0;
	size_t rank = (size_t)r;

	if (r - (double)rank > 1e-9 * r)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static struct hist *hist_new(void)
{
	struct hist *h = malloc(sizeof(*h));

	if (h)
		hist_init(h);
	return h;
}

/* A standard normal deviate (Box-Muller). */
static double normal(void)
{
	double u1 = 1.0 - drand48(), u2 = drand48();

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

enum dist { UNIFORM, LOGNORMAL, LOG_UNIFORM, BIMODAL };

static uint64_t sample(enum dist d)
{
	switch (d) {
	case UNIFORM: /* 0..1 ms */
		return (uint64_t)(drand48() * 1e6);
	case LOGNORMAL: /* median 50 us, a long tail */
		return (uint64_t)exp(log(50e3) + 1.5 * normal());
	case LOG_UNIFORM: /* 100 ns .. 10 s, every decade alike */
		return (uint64_t)exp(log(100.0) + drand48() * log(1e8));
	case BIMODAL: /* a fast path near 2 us and a slow one near 8 ms */
		if (drand48() < 0.97)
			return (uint64_t)(2000 + 300 * fabs(normal()));
		return (uint64_t)(8e6 + 1e6 * fabs(normal()));
	}
	return 0;
}

/* Returns the worst relative error seen, or -1 on a setup failure. */
static double check_dist(enum dist d, const char *name)
{
	uint64_t *v = malloc(NR_VALUES * sizeof(*v));
	struct hist *h = hist_new();
	double worst = -1;
	size_t i;

	if (!v || !h)
		goto out;
	srand48(1000 + d);
	for (i = 0; i < NR_VALUES; i++) {
		v[i] = sample(d);
		hist_add(h, v[i]);
	}
	qsort(v, NR_VALUES, sizeof(*v), cmp_u64);
	worst = 0;
	for (i = 0; i < ARRAY_SIZE(pcts); i++) {
		uint64_t e = exact_percentile(v, NR_VALUES, pcts[i]);
		uint64_t got = hist_percentile(h, pcts[i]);
		double err =
			fabs((double)got - (double)e) / (e ? (double)e : 1.0);

		if (err >= 0.01)
			UNIT_FAIL("%s p%g: exact %llu, histogram %llu", name,
				  pcts[i], (unsigned long long)e,
				  (unsigned long long)got);
		if (err > worst)
			worst = err;
	}
	printf("# %s: worst relative error %.4f%%\n", name, worst * 100);
out:
	free(v);
	free(h);
	return worst;
}

UNIT_TEST(percentiles_uniform)
{
	ASSERT_TRUE(check_dist(UNIFORM, "uniform") >= 0);
}

UNIT_TEST(percentiles_lognormal)
{
	ASSERT_TRUE(check_dist(LOGNORMAL, "lognormal") >= 0);
}

UNIT_TEST(percentiles_100ns_to_10s)
{
	ASSERT_TRUE(check_dist(LOG_UNIFORM, "log-uniform") >= 0);
}

UNIT_TEST(percentiles_bimodal)
{
	ASSERT_TRUE(check_dist(BIMODAL, "bimodal") >= 0);
}

/* The documented bound: a midpoint is within 1/2^(SUB_BITS+1) of a value. */
UNIT_TEST(percentile_error_within_half_bucket)
{
	struct hist *h = hist_new();
	uint64_t v, got;
	int i;

	ASSERT_TRUE(h);
	srand48(7);
	for (i = 0; i < 2000; i++) {
		v = (uint64_t)exp(drand48() * log(1e13));
		hist_init(h);
		/* Bracket v so that p50 lands on it but min/max do not. */
		hist_add(h, 0);
		hist_add(h, v);
		hist_add(h, UINT64_MAX);
		got = hist_percentile(h, 50);
		if (fabs((double)got - (double)v) >
		    (double)v / (2.0 * HIST_SUB)) {
			UNIT_FAIL("value %llu reported as %llu",
				  (unsigned long long)v,
				  (unsigned long long)got);
			break;
		}
	}
	free(h);
}

UNIT_TEST(merge_equals_adding_all)
{
	struct hist *all = hist_new(), *sum = hist_new(), *part[4];
	uint64_t v;
	int i;

	ASSERT_TRUE(all && sum);
	for (i = 0; i < 4; i++) {
		part[i] = hist_new();
		ASSERT_TRUE(part[i]);
	}
	srand48(42);
	for (i = 0; i < 100000; i++) {
		v = sample(LOG_UNIFORM);
		hist_add(all, v);
		/* Uneven split; part[3] stays empty. */
		hist_add(part[v % 3], v);
	}
	for (i = 0; i < 4; i++)
		hist_merge(sum, part[i]);
	EXPECT_EQ(all->count, sum->count);
	EXPECT_EQ(all->sum, sum->sum);
	EXPECT_EQ(all->min, sum->min);
	EXPECT_EQ(all->max, sum->max);
	EXPECT_TRUE(memcmp(all->buckets, sum->buckets, sizeof(all->buckets)) ==
		    0);
	for (i = 0; i < (int)ARRAY_SIZE(pcts); i++)
		EXPECT_EQ(hist_percentile(all, pcts[i]),
			  hist_percentile(sum, pcts[i]));

	/* Merging into an empty histogram copies min, even a large one. */
	hist_init(sum);
	hist_init(part[0]);
	hist_add(part[0], 5000);
	hist_merge(sum, part[0]);
	EXPECT_EQ(5000, sum->min);
	EXPECT_EQ(5000, sum->max);
	for (i = 0; i < 4; i++)
		free(part[i]);
	free(all);
	free(sum);
}

UNIT_TEST(count_min_max_mean_exact)
{
	struct hist *h = hist_new();

	ASSERT_TRUE(h);
	hist_add(h, 1000003);
	hist_add(h, 17);
	hist_add_n(h, 123456789, 3);
	hist_add_n(h, 5, 0); /* recording nothing changes nothing */
	EXPECT_EQ(5, h->count);
	EXPECT_EQ(17, h->min);
	EXPECT_EQ(123456789, h->max);
	EXPECT_EQ(1000003 + 17 + 3 * 123456789ull, h->sum);
	EXPECT_TRUE(hist_mean(h) ==
		    (double)(1000003 + 17 + 3 * 123456789ull) / 5.0);
	/* The extreme ranks are the exact min and max. */
	EXPECT_EQ(17, hist_percentile(h, 1));
	EXPECT_EQ(123456789, hist_percentile(h, 100));
	free(h);
}

UNIT_TEST(small_values_exact)
{
	struct hist *h = hist_new();
	uint64_t lo, hi, v;
	unsigned int p;

	ASSERT_TRUE(h);
	for (v = 0; v < 2 * HIST_SUB; v++) {
		hist_bucket_range(hist_bucket(v), &lo, &hi);
		EXPECT_EQ(v, lo);
		EXPECT_EQ(v, hi);
	}
	for (v = 1; v <= 200; v++)
		hist_add(h, v);
	for (p = 1; p <= 100; p++)
		EXPECT_EQ(2 * p, hist_percentile(h, p));
	free(h);
}

/* Every bucket's range maps back to it, and the ranges tile the line. */
UNIT_TEST(bucket_ranges_consistent)
{
	uint64_t lo, hi, prev_hi = 0;
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		hist_bucket_range(i, &lo, &hi);
		ASSERT_TRUE(lo <= hi);
		if (i > 0)
			ASSERT_EQ(prev_hi + 1, lo);
		ASSERT_EQ(i, hist_bucket(lo));
		ASSERT_EQ(i, hist_bucket(hi));
		/* The width is at most 1/HIST_SUB of the lower bound. */
		ASSERT_TRUE((hi - lo) * HIST_SUB <= lo || hi == lo);
		prev_hi = hi;
	}
	EXPECT_EQ((1ull << HIST_MAX_BITS) - 1, hi);
	EXPECT_EQ(0, hist_bucket(0));
}

/* The largest value kept, and the width of the last power of two's buckets. */
#define TOP ((1ull << HIST_MAX_BITS) - 1)
#define LAST_WIDTH (1ull << (HIST_MAX_BITS - 1 - HIST_SUB_BITS))

UNIT_TEST(huge_values_clamp_to_last_bucket)
{
	struct hist *h = hist_new();
	uint64_t got;

	ASSERT_TRUE(h);
	EXPECT_EQ(HIST_BUCKETS - 1, hist_bucket(1ull << HIST_MAX_BITS));
	EXPECT_EQ(HIST_BUCKETS - 1, hist_bucket(UINT64_MAX));
	EXPECT_EQ(HIST_BUCKETS - 1, hist_bucket(TOP - LAST_WIDTH + 1));
	EXPECT_EQ(HIST_BUCKETS - 2, hist_bucket(TOP - LAST_WIDTH));

	hist_add_n(h, 1ull << 60, 10);
	hist_add(h, 1);
	EXPECT_EQ(10, h->buckets[HIST_BUCKETS - 1]);
	EXPECT_EQ(11, h->count);
	EXPECT_EQ(1ull << 60, h->max);
	got = hist_percentile(h, 50);
	EXPECT_TRUE(got > TOP - LAST_WIDTH);
	EXPECT_TRUE(got <= h->max);
	free(h);
}

UNIT_TEST(empty_histogram_reports_zero)
{
	struct hist *h = hist_new(), *e = hist_new();

	ASSERT_TRUE(h && e);
	EXPECT_EQ(0, h->count);
	EXPECT_EQ(0, h->min);
	EXPECT_EQ(0, h->max);
	EXPECT_EQ(0, hist_percentile(h, 50));
	EXPECT_EQ(0, hist_percentile(h, 100));
	EXPECT_TRUE(hist_mean(h) == 0.0);
	hist_merge(h, e);
	EXPECT_EQ(0, h->count);
	EXPECT_EQ(0, hist_percentile(h, 99));
	free(h);
	free(e);
}

/* Not a pass/fail criterion, only a number to look at. */
UNIT_TEST(add_cost)
{
	struct hist *h = hist_new();
	uint64_t t, x = 88172645463325252ull;
	const int n = 10000000;
	int i;

	ASSERT_TRUE(h);
	t = now_ns();
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		hist_add(h, x >> 28);
	}
	t = now_ns() - t;
	EXPECT_EQ(n, h->count);
	printf("# hist_add: %.2f ns per value\n", (double)t / n);
	free(h);
}

UNIT_MAIN()
