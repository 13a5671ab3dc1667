# SPDX-License-Identifier: GPL-2.0
#
# Description: draw one report-*.gp chart with its variables given as
# arguments, so that no text from the results store is ever read as
# gnuplot code.  tools/charts.py runs
#
#   gnuplot -e 'n=3; w=900' -c plots/report-run.gp TEMPLATE name=value ...
#
# Each "name=value" argument sets the string variable name to value as it
# is: gnuplot does not parse it (no quotes, no backquote or macro
# substitution), whatever it holds.  Numbers and words charts.py made (file
# names, palettes) come with -e.  gnuplot takes at most 9 arguments: the
# template and 8 texts.  TEMPLATE is loaded with lib set to
# report-common.gp beside this file.
namechars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
do for [i=2:ARGC] {
	eq = strstrt(ARGV[i], "=")
	# Only the name, made of letters, digits and "_", becomes code; the
	# value is taken by reference (ARGV[i][eq+1:]).
	ok = eq > 1
	do for [j=1:eq-1] { if (strstrt(namechars, ARGV[i][j:j]) == 0) { ok = 0 } }
	if (ok) { eval sprintf("%s = ARGV[%d][%d:]", ARGV[i][1:eq-1], i, eq + 1) }
}
dir = ARG0
k = strlen(dir)
while (k > 0 && dir[k:k] ne "/") { k = k - 1 }
lib = (k > 0 ? dir[1:k] : "") . "report-common.gp"
template = ARGV[1]
load template
