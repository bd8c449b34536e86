"""A throwaway sshd on 127.0.0.1:<free port>, started in the foreground (-D) with its own config,
host key and authorized key, never as a service; stopped (killed if need be) by stop().

The remote PATH holds only <root>/remote-bin (where the test links berth), /usr/bin and /bin,
set by the config's SetEnv. The client side is an `ssh` wrapper first on PATH that adds
`-F <root>/ssh_config` (the key, a known_hosts with this server's key, BatchMode): berth runs
`ssh` from PATH as docker does, and the user's own ~/.ssh is never touched."""
import os
import shutil
import socket
import subprocess
import time

SSHD = "/usr/sbin/sshd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    def __init__(self, root, start=True):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.port = free_port()
        self.remote_bin = os.path.join(root, "remote-bin")
        os.makedirs(self.remote_bin, exist_ok=True)
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
        subprocess.run(keygen + ["-f", self.path("host_key")], check=True)
        subprocess.run(keygen + ["-f", self.path("client_key")], check=True)
        subprocess.run(keygen + ["-f", self.path("stranger_key")], check=True)
        shutil.copy(self.path("client_key.pub"), self.path("authorized_keys"))
        with open(self.path("host_key.pub")) as f:
            host_pub = f.read().split()
        with open(self.path("known_hosts"), "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        open(self.path("empty_known_hosts"), "w").close()
        with open(self.path("sshd_config"), "w") as f:
            f.write(f"""ListenAddress 127.0.0.1:{self.port}
HostKey {self.path("host_key")}
PidFile none
AuthorizedKeysFile {self.path("authorized_keys")}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
SetEnv PATH={self.remote_bin}:/usr/bin:/bin
""")
        self.client_bin = self.client_wrapper("client-bin", "client_key", "known_hosts")
        # Wrappers for the failure tests: an unknown host key, a key the server does not know.
        self.unknown_host_bin = self.client_wrapper("unknown-host-bin", "client_key", "empty_known_hosts")
        self.stranger_bin = self.client_wrapper("stranger-bin", "stranger_key", "known_hosts")
        # sshd refuses to start without its privilege-separation directory.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.argv = [SSHD, "-D", "-e", "-f", self.path("sshd_config")]
        if not start:
            return
        self.log = open(self.path("sshd.log"), "w")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited:\n" + open(self.path("sshd.log")).read())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.025)

    def path(self, name):
        return os.path.join(self.root, name)

    def client_wrapper(self, name, key, known_hosts):
        directory = self.path(name)
        os.makedirs(directory, exist_ok=True)
        config = self.path(name + ".ssh_config")
        with open(config, "w") as f:
            f.write(f"""Host *
  IdentityFile {self.path(key)}
  IdentitiesOnly yes
  UserKnownHostsFile {self.path(known_hosts)}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
""")
        wrapper = os.path.join(directory, "ssh")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec /usr/bin/ssh -F {config} "$@"\n')
        os.chmod(wrapper, 0o755)
        return directory

    def url(self, socket_path=""):
        return f"ssh://root@127.0.0.1:{self.port}{socket_path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


if __name__ == "__main__":
    # For the benchmarks: `python3 sshd.py ROOT` prepares ROOT (keys, configs, client wrapper in
    # ROOT/client-bin, remote PATH in ROOT/remote-bin), writes the port to ROOT/port and becomes
    # sshd in the foreground (the caller kills it).
    import sys
    d = Sshd(sys.argv[1], start=False)
    with open(d.path("port"), "w") as f:
        f.write(str(d.port))
    os.execv(SSHD, d.argv)
