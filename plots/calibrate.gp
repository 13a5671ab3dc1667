# SPDX-License-Identifier: GPL-2.0
#
# Description: make calibrate's chart: for each set and condition, the
# share of the comparisons called at point and at composite level (for
# A/A pairs the false alarms, for slowdowns the detections).  Drawn by
# aiosuite/calibrate/analyse.py through report-run.gp.
#
# data: tab-separated, a comment line, then "label  point%  composite%".
# Variables: data, out, n (rows), title, fmt, w, h.
if (!exists("lib")) { k = strlen(ARG0); while (k > 0 && ARG0[k:k] ne "/") { k = k - 1 }; lib = (k > 0 ? ARG0[1:k] : "")."report-common.gp" }
load lib
if (!exists("title")) title = ''
set title title font ',12'
set ylabel 'comparisons called (%)'
set yrange [0:105]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set key top left
plot data using 2:xticlabels(1) title 'point level' lt 1, \
     '' using 3 title 'composite level' lt 2
