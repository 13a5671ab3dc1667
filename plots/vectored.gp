# SPDX-License-Identifier: GPL-2.0
# Scenario vectored: PREADV/PWRITEV with N 4 KiB segments against scalar
# requests of N x 4 KiB.  Data: one block per (kind, stage), titled,
# columns segments, CPU ns per KiB, MB/s.
#   gnuplot -e "data='vectored.dat'; out='vectored.png'" plots/vectored.gp
set terminal pngcairo noenhanced size 1200,520 font "DejaVu Sans,10"
set output out
stats data using 1 nooutput
nb = STATS_blocks
set multiplot layout 1,2 title "Vectored (N x 4 KiB segments) vs scalar (one N x 4 KiB buffer), libaio O_DIRECT, verified" font ",12"
set logscale x 2
set xrange [0.7:1400]
set xtics (1,4,16,64,256,1024)
set grid
set key outside bottom center horizontal font ",9"
set bmargin 7
set xlabel "segments per request (request = segments x 4 KiB)"
set logscale y 10
set ylabel "CPU time per KiB moved (ns)"
plot for [i=0:nb-1] data index i using 1:2 with linespoints lw 2 pt 7 dashtype i%2+1 title columnheader(1)
unset logscale y
set yrange [0:*]
set ylabel "throughput (MB/s)"
plot for [i=0:nb-1] data index i using 1:3 with linespoints lw 2 pt 7 dashtype i%2+1 title columnheader(1)
unset multiplot
