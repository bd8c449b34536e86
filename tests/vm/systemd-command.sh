#!/bin/bash
# berth-vm-command.service (tests/vm/systemd-boot.sh): runs run-vm.sh's command under the booted
# systemd, in its working directory, writes its exit status to the shared result directory and
# powers the VM off (systemd-boot.sh bounds each unit's stop to 15 s).
out=/run/berth-vm-out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
echo "berth-vm: kernel $(uname -r), PID 1 is $(cat /proc/1/comm)," \
  "systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')," \
  "up $(cut -d' ' -f1 /proc/uptime) s, in $(sed -n 's/^0:://p' /proc/self/cgroup)"
# How long the boot took (TCG is slow; the masks in systemd-boot.sh keep it short). Not
# `systemd-analyze blame`: under TCG it took 5 minutes.
systemd-analyze time | head -n 1
mapfile -d '' cmd <"$out/command"
cd "$(cat "$out/cwd" 2>/dev/null || echo /)"
"${cmd[@]}"
rc=$?
echo "berth-vm: exit status $rc"
echo "$rc" >"$out/status"
sync
systemctl --no-block poweroff
