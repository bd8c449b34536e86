"""The everyday docker CLI session, side by side: the same commands through the real docker CLI
against berthd and against Debian's dockerd (each on a private root and socket, dockerd with
--iptables=false --bridge=none), and the outputs compared after ids, times and sizes are
normalized. A difference is a failure, listed with both sides.

The session: import, run (output, exit codes), run -d, exec (env, workdir, exit code), cp both
ways, logs (--tail), inspect fields, restart, kill, wait, stop, ps, volumes (create, write, read
through :ro, inspect, rm while in use, rm), rm, and the errors of verbs on missing or running
containers. Networking is --network none on both (dockerd's bridge is off here).
Skipped (77) without the docker CLI or dockerd."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import berthd_harness  # noqa: E402

DOCKER = shutil.which("docker")
DOCKERD = shutil.which("dockerd") or ("/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None)
if DOCKER is None:
    berthd_harness.skip("no docker CLI on PATH (the docker.io package provides it)")
if DOCKERD is None:
    berthd_harness.skip("no dockerd to compare with (the docker.io package provides it)")


class Dockerd:
    """dockerd on a root of its own: no iptables, no bridge, its containers' cgroups under a
    parent of its own (removed at the end), nothing shared with a system dockerd."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="berth-compat-dockerd-")
        self.sock = os.path.join(self.root, "docker.sock")
        self.host = "unix://" + self.sock
        self.cgroup = f"berth-compat-dockerd-{os.getpid()}"
        self.log = open(os.path.join(self.root, "dockerd.log"), "w")
        self.proc = subprocess.Popen(
            [DOCKERD, "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
             "--cgroup-parent", "/" + self.cgroup, "--data-root", os.path.join(self.root, "data"),
             "--exec-root", os.path.join(self.root, "exec"), "--pidfile", os.path.join(self.root, "pid"),
             "-H", self.host, "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError("dockerd exited:\n" + open(self.log.name).read())
            r = subprocess.run([DOCKER, "-H", self.host, "version"], capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("dockerd did not answer in 30 s")

    def stop(self):
        ids = subprocess.run([DOCKER, "-H", self.host, "ps", "-aq"], capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([DOCKER, "-H", self.host, "rm", "-f", *ids], capture_output=True)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        berthd_harness.unmount_below(self.root)
        for base in ["/sys/fs/cgroup"] + [os.path.join("/sys/fs/cgroup", c) for c in os.listdir("/sys/fs/cgroup")]:
            path = os.path.join(base, self.cgroup)
            if os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


# The runtime layers' wrapping of an exec error, which berthd (no containerd shim, no runc)
# does not have: dockerd's words around the same kernel error are dropped before comparing.
RUNTIME_WRAPPERS = [
    r"failed to create task for container: ",
    r"failed to create shim task: ",
    r"OCI runtime (create|exec) failed: ",
    r"runc create failed: ",
    r"exec failed: ",
    r"unable to start container process: ",
    r"error during container init: ",
]


def normalize(text):
    for w in RUNTIME_WRAPPERS:
        text = re.sub(w, "", text)
    text = re.sub(r"(no such file or directory|not found in \$PATH|permission denied): unknown", r"\1", text)
    text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:<id>", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "<id>", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "<short-id>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "<time>", text)
    text = re.sub(r"(Up|Exited \(\d+\)) (Less than a second|About a minute|an? \w+|\d+ \w+)", r"\1 <t>", text)
    text = re.sub(r"\b\d+(\.\d+)?[kMG]?B\b", "<size>", text)
    # dockerd's warning about the host's forwarding, which its test settings (no iptables, no
    # bridge, ip_forward left 0) provoke; berthd has no bridge here to warn about.
    text = text.replace("IPv4 forwarding is disabled. Networking will not work.\n", "")
    return text


# (label, argv after `docker`, stdin). "{tmp}" is the session's scratch directory.
def session(tmp):
    with open(os.path.join(tmp, "host-file"), "w") as f:
        f.write("from the host\n")
    return [
        ("run output", ["run", "--network", "none", "--name", "s1", "busybox:local", "echo", "hello"]),
        ("run exit code", ["run", "--rm", "--network", "none", "busybox:local", "sh", "-c", "exit 7"]),
        ("run stderr", ["run", "--rm", "--network", "none", "busybox:local", "sh", "-c", "echo oops >&2"]),
        ("run missing command", ["run", "--rm", "--network", "none", "busybox:local", "/no/such"]),
        ("run -d", ["run", "-d", "--network", "none", "--name", "s2", "busybox:local", "sh", "-c",
                    "echo started; exec sleep 1000"]),
        ("exec", ["exec", "s2", "sh", "-c", "echo in-exec; exit 3"]),
        ("exec env workdir", ["exec", "-e", "X=1", "-w", "/tmp", "s2", "sh", "-c", "echo $X $PWD"]),
        ("exec user", ["exec", "-u", "1000:1000", "s2", "id"]),
        ("exec missing", ["exec", "s2", "/no/such"]),
        ("cp in", ["cp", os.path.join(tmp, "host-file"), "s2:/tmp/f"]),
        ("cp check", ["exec", "s2", "cat", "/tmp/f"]),
        ("cp out to stdout", ["cp", "s2:/tmp/f", "-"], "tar-names"),
        ("cp missing", ["cp", "s2:/no/such", os.path.join(tmp, "x")]),
        ("logs", ["logs", "s2"]),
        ("logs tail", ["logs", "--tail", "1", "s1"]),
        ("inspect", ["inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Config.Cmd}} "
                     "{{.HostConfig.NetworkMode}} {{.RestartCount}} {{.Name}} {{.Path}} {{.Args}}", "s2"]),
        ("inspect exited", ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", "s1"]),
        ("restart", ["restart", "-t", "1", "s2"]),
        ("restart status", ["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "s2"]),
        ("logs after restart", ["logs", "s2"]),
        ("kill", ["kill", "s2"]),
        ("wait", ["wait", "s2"]),
        ("killed status", ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}", "s2"]),
        ("kill stopped", ["kill", "s2"]),
        ("start", ["start", "s2"]),
        ("stop", ["stop", "-t", "1", "s2"]),
        ("ps -a", ["ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Command}}"]),
        ("run env workdir user", ["run", "--rm", "--network", "none", "-e", "A=b c", "-w", "/srv", "-u", "app",
                                  "busybox:local", "sh", "-c", "echo \"$A\" $PWD $HOME; id"]),
        ("run as root", ["run", "--rm", "--network", "none", "busybox:local", "id"]),
        ("run group-add", ["run", "--rm", "--network", "none", "-u", "app", "--group-add", "nogroup", "busybox:local", "id"]),
        ("run entrypoint", ["run", "--rm", "--network", "none", "--entrypoint", "echo", "busybox:local", "x", "y"]),
        ("create", ["create", "--network", "none", "--name", "s4", "busybox:local", "sh", "-c", "echo from-s4; exit 4"]),
        ("create status", ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "s4"]),
        ("start -a", ["start", "-a", "s4"]),
        ("rename", ["rename", "s4", "s5"]),
        ("renamed", ["inspect", "-f", "{{.Name}}", "s5"]),
        ("rename taken", ["rename", "s5", "s1"]),
        ("diff", ["diff", "s2"]),
        ("pause", ["run", "-d", "--network", "none", "--name", "s6", "busybox:local", "sleep", "1000"]),
        ("pause it", ["pause", "s6"]),
        ("paused ps", ["ps", "--filter", "name=s6", "--format", "{{.Names}} {{.Status}} {{.State}}"]),
        ("exec paused", ["exec", "s6", "true"]),
        ("unpause", ["unpause", "s6"]),
        ("update restart", ["update", "--restart", "on-failure:2", "s6"]),
        ("updated", ["inspect", "-f", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "s6"]),
        ("rm -f s6", ["rm", "-f", "s6", "s5"]),
        ("volume create", ["volume", "create", "v1"]),
        ("volume write", ["run", "--rm", "--network", "none", "-v", "v1:/data", "busybox:local", "sh", "-c",
                          "echo x > /data/f"]),
        ("volume read ro", ["run", "--rm", "--network", "none", "-v", "v1:/data:ro", "busybox:local", "sh", "-c",
                            "cat /data/f; touch /data/g"]),
        ("volume inspect", ["volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "v1"]),
        ("volume ls", ["volume", "ls", "-q"]),
        ("volume in use", ["run", "-d", "--network", "none", "--name", "s3", "-v", "v1:/data", "busybox:local",
                           "sleep", "1000"]),
        ("volume rm in use", ["volume", "rm", "v1"]),
        ("rm running", ["rm", "s3"]),
        ("rm -f", ["rm", "-f", "s3"]),
        ("volume rm", ["volume", "rm", "v1"]),
        ("exec on missing", ["exec", "nosuch", "true"]),
        ("start missing", ["start", "nosuch"]),
        ("logs missing", ["logs", "nosuch"]),
        ("inspect missing", ["inspect", "nosuch"]),
        ("exec on stopped", ["exec", "s2", "true"]),
        ("rm", ["rm", "s1", "s2"]),
        ("ps -a empty", ["ps", "-a", "-q"]),
    ]


def play(host, tmp):
    env = dict(os.environ, DOCKER_HOST=host, DOCKER_CONFIG=os.path.join(tmp, "docker-config"))
    setup = subprocess.run([DOCKER, "import", "-c", 'CMD ["sh"]', os.path.join(tmp, "busybox.tar"),
                            "busybox:local"], capture_output=True, text=True, env=env)
    if setup.returncode != 0:
        raise AssertionError(f"import on {host}: {setup.stderr}")
    results = []
    for step in session(tmp):
        label, argv = step[0], step[1]
        r = subprocess.run([DOCKER, *argv], capture_output=True, env=env)
        out = r.stdout
        if len(step) > 2 and step[2] == "tar-names":
            names = subprocess.run(["tar", "-t"], input=out, capture_output=True).stdout
            out = names
        results.append((label, argv, r.returncode, normalize(out.decode(errors="replace")),
                        normalize(r.stderr.decode(errors="replace"))))
    return results


class SideBySide(unittest.TestCase):
    def test_everyday_session_matches_dockerd(self):
        tmp_b = tempfile.mkdtemp(prefix="berth-compat-sbs-b-")
        tmp_d = tempfile.mkdtemp(prefix="berth-compat-sbs-d-")
        for tmp in (tmp_b, tmp_d):
            shutil.copy(B.tar, os.path.join(tmp, "busybox.tar"))
        try:
            ours = play(B.host, tmp_b)
            theirs = play(D.host, tmp_d)
        finally:
            shutil.rmtree(tmp_b, ignore_errors=True)
            shutil.rmtree(tmp_d, ignore_errors=True)
        diffs = []
        for (label, argv, rc_b, out_b, err_b), (_, _, rc_d, out_d, err_d) in zip(ours, theirs):
            err_b = err_b.replace(tmp_b, "<tmp>")
            err_d = err_d.replace(tmp_d, "<tmp>")
            if (rc_b, out_b, err_b) != (rc_d, out_d, err_d):
                diffs.append(f"--- {label}: docker {' '.join(argv)}\n"
                             f"  berthd:  rc={rc_b} out={out_b!r} err={err_b!r}\n"
                             f"  dockerd: rc={rc_d} out={out_d!r} err={err_d!r}")
        print(f"{len(ours)} commands compared, {len(diffs)} differ")
        self.assertEqual(diffs, [], "\n" + "\n".join(diffs))


B = None
D = None

if __name__ == "__main__":
    B = berthd_harness.Berthd()
    try:
        D = Dockerd()
    except Exception:
        B.stop()
        raise
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        D.stop()
        B.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
