#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the report's statistics (aiosuite/stats.py, standard library
# only) against SciPy's: Welch's t-test (scipy.stats.ttest_ind with
# equal_var=False), the t distribution's CDF, tail and critical values
# (scipy.stats.t), the regularized incomplete beta function under them
# (scipy.special.betainc) and the Mann-Whitney U test
# (scipy.stats.mannwhitneyu, exact and asymptotic), over samples of many
# sizes and spreads.  SciPy
# is Debian's python3-scipy (make deps installs it): the tests run with the
# first python3 that has it (the one on PATH, else /usr/bin/python3) and
# skip, saying so, when none has.

load helpers

setup() {
	common_setup
	SCIPY_PYTHON=
	local py
	for py in "$(command -v python3)" /usr/bin/python3; do
		if [[ -x $py ]] && "$py" -c 'import scipy.special, scipy.stats' 2>/dev/null; then
			SCIPY_PYTHON=$py
			break
		fi
	done
	[[ -n $SCIPY_PYTHON ]] ||
		skip "scipy is not installed for python3 (apt-get install python3-scipy)"
}

# against_scipy: run the Python on stdin with aiosuite.stats as `stats`,
# scipy.stats as `sst`, scipy.special as `ssp`, SAMPLES (pairs of sample
# lists, drawn with a fixed seed) and close(name, ours, theirs, rel, abs)
# that records a mismatch; it prints the mismatches and exits 1 on any.
against_scipy() {
	local code
	code=$(cat)
	"$SCIPY_PYTHON" - "$TOP" "$code" <<'EOF'
import math
import random
import sys

import scipy.special as ssp
import scipy.stats as sst

sys.path.insert(0, sys.argv[1])
from aiosuite import stats

rng = random.Random(20261129)
SAMPLES = []
for na, nb in ((2, 2), (2, 9), (3, 3), (3, 5), (5, 5), (7, 30), (30, 30), (200, 150)):
    for sa, sb in ((1.0, 1.0), (1.0, 10.0), (0.01, 3.0)):
        a = [rng.gauss(100.0, sa) for _ in range(na)]
        b = [rng.gauss(100.0 + rng.choice((0.0, 0.5, 5.0)), sb) for _ in range(nb)]
        SAMPLES.append((a, b))
bad = []
checked = [0]


def close(name, ours, theirs, rel=1e-9, abs_=1e-12):
    checked[0] += 1
    if not math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_):
        bad.append(f"{name}: ours {ours!r}, scipy {theirs!r}")


exec(sys.argv[2])
for b in bad[:20]:
    print(b)
print(f"{checked[0]} values compared, {len(bad)} differ")
sys.exit(1 if bad or not checked[0] else 0)
EOF
}

@test "Welch's t, degrees of freedom and p-value are scipy's ttest_ind with equal_var=False" {
	run against_scipy <<'EOF'
for a, b in SAMPLES:
    w = stats.welch(a, b)
    # stats.welch tests mean(b) - mean(a); ttest_ind(x, y) mean(x) - mean(y).
    ref = sst.ttest_ind(b, a, equal_var=False)
    va, vb = sst.tvar(a) / len(a), sst.tvar(b) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    close(f"t {len(a)}x{len(b)}", w.t, float(ref.statistic))
    close(f"df {len(a)}x{len(b)}", w.df, df)
    close(f"p {len(a)}x{len(b)}", w.p, float(ref.pvalue))
EOF
	assert_status 0
	assert_output_has " 0 differ"
}

@test "the t distribution's CDF and two-sided tail are scipy.stats.t's" {
	run against_scipy <<'EOF'
for df in (1.0, 1.5, 2.0, 3.7, 10.0, 29.2, 100.0, 1e4):
    for t in (-40.0, -3.0, -1.0, -0.1, 0.0, 0.3, 1.96, 2.5, 8.0, 60.0):
        close(f"cdf t={t} df={df}", stats.t_cdf(t, df), float(sst.t.cdf(t, df)))
        close(f"p t={t} df={df}", stats.t_two_sided_p(t, df), float(2 * sst.t.sf(abs(t), df)))
EOF
	assert_status 0
	assert_output_has " 0 differ"
}

@test "t critical values are scipy.stats.t.ppf's" {
	run against_scipy <<'EOF'
for alpha in (0.2, 0.05, 0.01, 0.001, 1e-6):
    for df in (1.0, 2.0, 2.5, 4.0, 9.0, 33.3, 120.0, 1e5):
        close(f"t* alpha={alpha} df={df}", stats.t_critical(alpha, df),
              float(sst.t.ppf(1 - alpha / 2, df)), rel=1e-7)
EOF
	assert_status 0
	assert_output_has " 0 differ"
}

@test "the regularized incomplete beta function is scipy.special.betainc" {
	run against_scipy <<'EOF'
for a in (0.5, 1.0, 2.5, 15.0, 400.0):
    for b in (0.5, 1.0, 3.0, 50.0):
        for x in (0.0, 1e-9, 0.01, 0.2, 0.5, 0.77, 0.999, 1.0):
            close(f"I_{x}({a}, {b})", stats.betainc(a, b, x), float(ssp.betainc(a, b, x)))
EOF
	assert_status 0
	assert_output_has " 0 differ"
}

@test "Mann-Whitney's U and p are scipy's mannwhitneyu: exact without ties, normal with the tie correction" {
	run against_scipy <<'EOF'
rng = random.Random(7)
exact = normal = 0
for na in (1, 2, 3, 5, 8, 13, 30, 31, 60, 200):
    for nb in (1, 3, 4, 8, 20, 30, 45, 150):
        for ties in (False, True):
            a = [rng.gauss(0.0, 1.0) for _ in range(na)]
            b = [rng.gauss(rng.choice((0.0, 0.5, 2.0)), 1.0) for _ in range(nb)]
            if ties:
                a, b = [round(x) for x in a], [round(x) for x in b]
            r = stats.mann_whitney(a, b)
            exact += r.exact
            normal += not r.exact
            # stats.mann_whitney's U is the candidate's (b): scipy's U of its first sample
            ref = sst.mannwhitneyu(b, a, method="exact" if r.exact else "asymptotic")
            close(f"U {na}x{nb} ties={ties}", r.u, float(ref.statistic))
            close(f"p {na}x{nb} ties={ties} exact={r.exact}", r.p, float(ref.pvalue), abs_=1e-14)
# Both methods were checked.
close("exact cases", float(exact > 20), 1.0)
close("normal cases", float(normal > 20), 1.0)
EOF
	assert_status 0
	assert_output_has " 0 differ"
}
