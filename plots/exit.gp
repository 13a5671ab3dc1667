# SPDX-License-Identifier: GPL-2.0
# Scenario exit: time from _exit (or SIGKILL) to the parent's waitpid with
# AIO requests in flight, against the number in flight (context of 64
# events).  Data: one block per (target, mode), titled, columns iocbs in
# flight, reaped after ms p50, max.
#   gnuplot -e "data='exit.dat'; out='exit.png'" plots/exit.gp
set terminal pngcairo noenhanced size 1000,620 font "DejaVu Sans,10"
set output out
stats data using 1 nooutput
nb = STATS_blocks
set title "Exit with native AIO in flight: time until reaped (io_setup(64), 64 KiB O_DIRECT reads)\nlines: p50 over the trials; error bars up to the slowest trial" font ",11"
set grid
set key top right opaque font ",9"
set xlabel "iocbs in flight at exit (accepted by io_submit)"
set ylabel "time from exit/kill until reaped (ms)"
set yrange [0:*]
set xrange [-4:*]
plot for [i=0:nb-1] data index i using 1:2:2:3 with yerrorlines lw 2 pt 7 title columnheader(1)
