# SPDX-License-Identifier: GPL-2.0
#
# Loaded by every report-*.gp chart: the terminal, the size, fonts and
# colours.  Variables (gnuplot -e): out (the file to write), fmt ('png' or
# 'svg', default png), w and h (pixels, defaults 900 x 560).
if (!exists("fmt")) fmt = 'png'
if (!exists("w")) w = 900
if (!exists("h")) h = 560
if (fmt eq 'svg') {
	set terminal svg size w,h dynamic font 'DejaVu Sans,10' background rgb 'white'
} else {
	set terminal pngcairo size w,h font 'DejaVu Sans,10' background rgb 'white'
}
set output out
set termoption noenhanced
# Data files are tab-separated: a title or a label may hold spaces.
set datafile separator "\t"
set encoding utf8
set border lc rgb '#404040'
set grid lc rgb '#d8d8d8' lw 1
set key noautotitle
# Eight distinguishable colours, reused in this order.
set linetype 1 lc rgb '#1f77b4' lw 2 pt 7 ps 0.7
set linetype 2 lc rgb '#d62728' lw 2 pt 5 ps 0.7
set linetype 3 lc rgb '#2ca02c' lw 2 pt 9 ps 0.8
set linetype 4 lc rgb '#9467bd' lw 2 pt 11 ps 0.8
set linetype 5 lc rgb '#ff7f0e' lw 2 pt 13 ps 0.8
set linetype 6 lc rgb '#17becf' lw 2 pt 4 ps 0.7
set linetype 7 lc rgb '#8c564b' lw 2 pt 6 ps 0.7
set linetype 8 lc rgb '#e377c2' lw 2 pt 8 ps 0.8
set linetype cycle 8
