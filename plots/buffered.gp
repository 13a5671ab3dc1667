# SPDX-License-Identifier: GPL-2.0
# Scenario buffered: io_submit time per iocb for buffered 4 KiB random
# reads, cold and warm page cache, libaio and io_uring, per target.
# Data: one block per (engine, cache), titled, columns x (target index),
# io_submit us/iocb p50, p99, inline ratio, target name.
#   gnuplot -e "data='buffered.dat'; out='buffered.png'" plots/buffered.gp
set terminal pngcairo noenhanced size 1200,560 font "DejaVu Sans,10"
set output out
stats data using 1 nooutput
nb = STATS_blocks
nx = STATS_max + 1
w = 0.8 / nb
set multiplot layout 1,2 title "Buffered 4 KiB random reads: does io_submit wait for the disk? (depth 32, batch 32)" font ",12"
set style fill solid 0.85 border -1
set boxwidth w
set grid ytics
set xrange [-0.5:nx - 0.5]
set key outside bottom center horizontal font ",9"
set bmargin 7
set xlabel "target"
set logscale y 10
set yrange [0.1:*]
set ylabel "io_submit time per iocb, p50 (µs)"
plot data index 0 using 1:(NaN):xtic(5) notitle, \
     for [i=0:nb-1] data index i using ($1 - 0.4 + w * (i + 0.5)):2 with boxes title columnheader(1)
unset logscale y
set yrange [0:1.05]
set ylabel "inline-completion ratio (1 = synchronous)"
plot data index 0 using 1:(NaN):xtic(5) notitle, \
     for [i=0:nb-1] data index i using ($1 - 0.4 + w * (i + 0.5)):4 with boxes title columnheader(1)
unset multiplot
