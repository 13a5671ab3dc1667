# SPDX-License-Identifier: GPL-2.0
# Scenario loop: a loop device with direct I/O off and on, the same
# workload (64 KiB O_DIRECT sequential write, then read, depth 16).
# Data: a header line, then label, write MB/s, read MB/s, Cached growth MiB.
#   gnuplot -e "data='loop.dat'; out='loop.png'" plots/loop.gp
set terminal pngcairo noenhanced size 1100,520 font "DejaVu Sans,10"
set output out
set multiplot layout 1,2 title "Loop device with direct I/O off and on (64 KiB O_DIRECT, depth 16, verified after detach)" font ",12"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set grid ytics
set key top left font ",9"
set yrange [0:*]
set xlabel "loop device"
set ylabel "throughput (MB/s)"
plot data using 2:xtic(1) skip 1 title "write", "" using 3 skip 1 title "read"
set ylabel "growth of Cached in /proc/meminfo over the run (MiB)"
plot data using 4:xtic(1) skip 1 title "page cache growth" lc rgb "#d95f02"
unset multiplot
