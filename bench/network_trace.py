#!/usr/bin/env python3
"""Where a one-shot `run --rm` spends its time, bridge against --network none: berthd runs in a
network namespace of the script's own (tests/compat/netns_harness.py), three warm-up runs of each,
then one run of each under `strace -f -tt -T` attached to every berthd thread. The traces
(OUT/oneshot-bridge.strace, OUT/oneshot-none.strace) show the netlink exchanges, renames, fsyncs,
mounts and the hand-off to the isolation plugin with their times; strace slows every syscall, so
compare phases between the two traces, not absolute times.
  sudo bench/network_trace.py [OUT=/tmp]     (needs strace: apt-get install strace)
"""
import os
import shutil
import subprocess
import sys
import time

from netns_berthd import berthd_in_own_netns

SYSCALLS = ("sendmsg,sendto,recvmsg,umount2,unlink,unlinkat,setns,clone,clone3,fsync,fdatasync,"
            "rename,renameat2,connect,accept4")


def traced_run(d, out, network_args):
    for _ in range(3):
        d.berth("run", "--rm", *network_args, "busybox:local", "true")
    threads = [a for t in os.listdir(f"/proc/{d.proc.pid}/task") for a in ("-p", t)]
    st = subprocess.Popen(["strace", "-f", "-tt", "-T", *threads, "-o", out, "-e", "trace=" + SYSCALLS],
                          stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    t0 = time.monotonic()
    d.berth("run", "--rm", *network_args, "busybox:local", "true")
    took = time.monotonic() - t0
    time.sleep(0.5)
    st.terminate()
    st.wait()
    return took


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
    if shutil.which("strace") is None:
        sys.exit("strace is not installed: apt-get install strace")
    os.makedirs(out, exist_ok=True)
    # berthd is nsenter's exec, so its pid is the process's own.
    with berthd_in_own_netns() as (d, _):
        for name, args in (("bridge", ()), ("none", ("--network", "none"))):
            path = os.path.join(out, f"oneshot-{name}.strace")
            took = traced_run(d, path, args)
            print(f"{name}: {took * 1000:.0f} ms under strace -> {path}")


if __name__ == "__main__":
    main()
