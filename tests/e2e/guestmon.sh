#!/bin/sh
# The e2e session's witness inside the micro-VM: every 10 s, into a file of the shared folder
# ($1), what the guest is doing. A guest once stopped answering SSH in the middle of a run
# (issue 13) with nothing to tell why; this tells whether it was still alive, its load,
# memory, busiest and blocked processes, and whether eth0 (where SSH arrives) kept its
# address. Kernel warnings (hung tasks, soft lockups) go to the serial console, which QEMU
# writes on the host (.mplslab/_vm.console.log).
out=$1
dmesg -n 7 2>/dev/null
echo 30 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
while :; do
    {
        echo "== $(date +%T) load $(cut -d' ' -f1-4 /proc/loadavg)" \
             "$(grep -E '^MemAvailable' /proc/meminfo | tr -s ' ')"
        echo "eth0: $(ip -4 -o addr show dev eth0 2>&1 | awk '{print $4}')" \
             "default: $(ip route show default 2>&1)"
        timeout 5 ps -eo pid,stat,pcpu,rss,etimes,args --sort=-pcpu | sed -n 2,5p | cut -c1-150
        timeout 5 ps -eo pid,stat,wchan:24,args | awk '$2 ~ /^D/' | cut -c1-150
    } >> "$out" 2>&1
    sleep 10
done
