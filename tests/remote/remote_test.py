"""Remote use of berthd from the berth CLI, as a user does it (issue 17):
  - TLS: berthd with mutual TLS on 127.0.0.1; berth with good, missing, foreign-CA and expired
    client certificates, an untrusted server, clear text refused or explained;
  - interactive sessions over TLS through a pty: run -it, exec -it, attach (and detach);
  - contexts: create/use/rm/export/import and docker's precedence of -H, BERTH_HOST, --context,
    BERTH_CONTEXT and the current context;
  - SSH: a throwaway sshd on a loopback port, berth -H ssh://root@127.0.0.1:PORT/<socket>, with
    interactive sessions and piped stdin, and the failures (host key, auth, no berth remotely).
Skips (77) without root, openssl, or sshd."""
import os
import queue
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "compat"))
sys.path.insert(0, HERE)
import berthd_harness  # noqa: E402
import certs  # noqa: E402
from pty_session import PtySession  # noqa: E402
from sshd import SSHD, Sshd, free_port  # noqa: E402

BERTH = os.path.join(berthd_harness.BUILD, "bin", "berth")
D = None          # the berthd (unix socket + mutual TLS on 127.0.0.1)
TLS_PORT = None
CERTS = None
WORK = None


def base_env(**extra):
    """A clean environment: no BERTH_* from the caller, a private config folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    env["BERTH_CONFIG"] = os.path.join(WORK, "config")
    env.update(extra)
    return env


def berth(*args, env=None, check=True, input=None, timeout=60):
    r = subprocess.run([BERTH, *args], capture_output=True, text=True, input=input,
                       env=env or base_env(), timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"berth {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def tcp():
    return f"tcp://127.0.0.1:{TLS_PORT}"


def cert(name):
    return os.path.join(CERTS, name)


def tls_flags(ca="ca.pem", cert_file="cert.pem", key="key.pem"):
    flags = ["--tlsverify", "--tlscacert", cert(ca)]
    if cert_file:
        flags += ["--tlscert", cert(cert_file), "--tlskey", cert(key)]
    return flags + ["-H", tcp()]


def setUpModule():
    global D, TLS_PORT, CERTS, WORK
    if os.geteuid() != 0:
        berthd_harness.skip("berthd runs containers as root")
    if not shutil.which("openssl"):
        berthd_harness.skip("no openssl command (scripts/install-deps.sh installs it)")
    WORK = tempfile.mkdtemp(prefix="berth-remote-")
    os.chmod(WORK, 0o755)
    CERTS = certs.make(os.path.join(WORK, "certs"))
    TLS_PORT = free_port()
    D = berthd_harness.Berthd(
        extra_args=["--host", f"tcp://127.0.0.1:{TLS_PORT}"],
        extra_config={"tlsverify": True, "tlscacert": cert("ca.pem"), "tlscert": cert("server.pem"),
                      "tlskey": cert("server-key.pem")})
    berth("-H", D.host, "import", "--change", 'CMD ["sh"]', D.tar, "busybox:local")


def tearDownModule():
    if D is not None:
        D.stop()
    if WORK is not None:
        shutil.rmtree(WORK, ignore_errors=True)


class Tls(unittest.TestCase):
    def test_tlsverify_with_certificate_files(self):
        r = berth(*tls_flags(), "version", "--format", "{{.Server.ApiVersion}}")
        self.assertEqual(r.stdout, "1.41\n")

    def test_cert_path_and_environment_like_docker(self):
        # The three files copied as they are into a folder: BERTH_CERT_PATH + BERTH_TLS_VERIFY.
        folder = os.path.join(WORK, "copied-certs")
        os.makedirs(folder, exist_ok=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            shutil.copy(cert(f), folder)
        env = base_env(BERTH_CERT_PATH=folder, BERTH_TLS_VERIFY="1", BERTH_HOST=tcp())
        self.assertEqual(berth("ps", "-q", env=env).returncode, 0)
        # The default cert path is the config folder (~/.berth): put them there instead.
        config = os.path.join(WORK, "config-with-certs")
        shutil.copytree(folder, config, dirs_exist_ok=True)
        env = base_env(BERTH_CONFIG=config, BERTH_TLS_VERIFY="1", BERTH_HOST=tcp())
        self.assertEqual(berth("ps", "-q", env=env).returncode, 0)
        # The user: three files copied into ~/.berth, then `berth --tlsverify -H ... ps`.
        home = os.path.join(WORK, "home")
        shutil.copytree(folder, os.path.join(home, ".berth"), dirs_exist_ok=True)
        env = base_env(HOME=home)
        del env["BERTH_CONFIG"]
        self.assertEqual(berth("--tlsverify", "-H", tcp(), "ps", "-q", env=env).returncode, 0)
        # With -H and no port, --tlsverify picks docker's TLS port 2376 (nothing there: refused).
        r = berth("--tlsverify", "-H", "tcp://127.0.0.1", "ps", env=base_env(BERTH_CERT_PATH=folder),
                  check=False)
        self.assertIn("tcp://127.0.0.1", r.stderr)

    def test_missing_client_certificate_is_refused_and_explained(self):
        r = berth(*tls_flags(cert_file=None), "ps", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no client certificate was sent", r.stderr)
        self.assertIn("--tlscert", r.stderr)

    def test_client_certificate_from_another_ca_is_refused(self):
        r = berth(*tls_flags(cert_file="other-cert.pem", key="other-key.pem"), "ps", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refused", r.stderr)
        self.assertIn("other-cert.pem", r.stderr)

    def test_expired_client_certificate_is_refused(self):
        r = berth(*tls_flags(cert_file="expired-cert.pem", key="expired-key.pem"), "ps", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refused", r.stderr)
        self.assertIn("expired-cert.pem", r.stderr)

    def test_server_signed_by_an_untrusted_ca_is_refused(self):
        r = berth(*tls_flags(ca="other-ca.pem"), "ps", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not trust", r.stderr)
        self.assertIn("other-ca.pem", r.stderr)

    def test_missing_ca_file_is_named(self):
        r = berth("--tlsverify", "--tlscacert", "/nonexistent/ca.pem", "-H", tcp(), "ps", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('could not read CA certificate "/nonexistent/ca.pem"', r.stderr)

    def test_clear_text_to_the_tls_port_is_explained(self):
        r = berth("-H", tcp(), "ps", check=False)  # loopback: allowed, but the daemon wants TLS
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--tlsverify", r.stderr)

    def test_clear_text_to_a_remote_address_is_refused_before_sending(self):
        r = berth("-H", "tcp://192.0.2.10:2375", "ps", check=False, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refusing to talk to tcp://192.0.2.10:2375 in clear text", r.stderr)
        self.assertIn("--tlsverify", r.stderr)
        self.assertIn("ssh://", r.stderr)

    def test_one_tls_session_per_command(self):
        # run opens several connections (attach, wait, start...): later ones resume the first
        # one's TLS session instead of a full handshake each.
        r = berth("-D", *tls_flags(), "run", "--rm", "busybox:local", "echo", "hi")
        self.assertEqual(r.stdout, "hi\n")
        line = [l for l in r.stderr.splitlines() if "TLS handshake" in l][-1]
        handshakes, resumed = int(line.split()[1]), int(line.split()[4])
        self.assertGreater(handshakes, 1, r.stderr)
        self.assertEqual(resumed, handshakes - 1, r.stderr)

    def test_logs_follow_and_events_over_tls(self):
        cid = berth(*tls_flags(), "run", "-d", "busybox:local", "sh", "-c",
                    "for i in 1 2 3; do echo line$i; sleep 0.2; done").stdout.strip()
        r = berth(*tls_flags(), "logs", "-f", cid, timeout=30)
        self.assertEqual(r.stdout, "line1\nline2\nline3\n")
        since = str(int(time.time()) - 60)
        ev = berth(*tls_flags(), "events", "--since", since, "--until", str(int(time.time()) + 1),
                   "--filter", f"container={cid}", "--format", "{{.Action}}", timeout=30)
        self.assertIn("start", ev.stdout)
        berth(*tls_flags(), "rm", "-f", cid)

    def test_piped_stdin_is_half_closed_over_tls(self):
        r = berth(*tls_flags(), "run", "--rm", "-i", "busybox:local", "sh", "-c", "cat; echo done",
                  input="through tls\n")
        self.assertEqual(r.stdout, "through tls\ndone\n")


def attach_and_detach(test, host_flags, env=None):
    """Attaches to a running `sh -it` container, types a command, detaches with ctrl-p ctrl-q;
    returns berth's exit code (the container must keep running)."""
    cid = berth("-H", D.host, "run", "-d", "-it", "busybox:local", "sh").stdout.strip()
    try:
        s = PtySession([BERTH, *host_flags, "attach", cid], env or base_env())
        time.sleep(0.5)
        s.send("echo attached-$((10+1))\r")
        s.expect(r"attached-11")
        s.send(b"\x10\x11")  # ctrl-p ctrl-q: detach, the container keeps running
        rc = s.wait()
        test.assertIn(b"read escape sequence", s.output)
        state = berth("-H", D.host, "inspect", "-f", "{{.State.Running}}", cid).stdout
        test.assertEqual(state, "true\n")
        return rc
    finally:
        berth("-H", D.host, "rm", "-f", cid)


def follow_events(test, host_flags, env=None):
    """`events` streams as it happens: containers created while it runs show up. The
    subscription's start cannot be observed (over ssh a login comes first), so containers are
    created until one is reported, up to 20 s."""
    p = subprocess.Popen([BERTH, *host_flags, "events", "--filter", "type=container",
                          "--filter", "event=create", "--format", "{{.Actor.Attributes.name}}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or base_env())
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in p.stdout], daemon=True).start()
    created, seen = [], None
    try:
        deadline = time.time() + 20
        while seen is None and time.time() < deadline:
            name = f"ev-{os.getpid()}-{len(created)}"
            berth("-H", D.host, "create", "--name", name, "busybox:local", "true")
            created.append(name)
            try:
                seen = lines.get(timeout=1.0).strip()
            except queue.Empty:
                pass
        test.assertIn(seen, created, f"no event streamed; stderr: {p.stderr.read() if p.poll() else ''}")
    finally:
        p.terminate()
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()
        for name in created:
            berth("-H", D.host, "rm", "-f", name, check=False)


class TlsInteractive(unittest.TestCase):
    def test_run_it(self):
        s = PtySession([BERTH, *tls_flags(), "run", "--rm", "-it", "busybox:local", "sh"], base_env())
        s.expect(r"# ")
        s.send("echo answer=$((6*7))\r")
        s.expect(r"answer=42")
        s.send("exit 3\r")
        self.assertEqual(s.wait(), 3)

    def test_exec_it(self):
        cid = berth(*tls_flags(), "run", "-d", "busybox:local", "sleep", "60").stdout.strip()
        try:
            s = PtySession([BERTH, *tls_flags(), "exec", "-it", cid, "sh"], base_env())
            s.expect(r"# ")
            s.send("echo in-exec-$((2+3))\r")
            s.expect(r"in-exec-5")
            s.send("exit\r")
            self.assertEqual(s.wait(), 0)
        finally:
            berth(*tls_flags(), "rm", "-f", cid)

    def test_attach_and_detach_as_over_the_socket(self):
        # docker exits 1 after a detach ("read escape sequence"): the same either way.
        self.assertEqual(attach_and_detach(self, tls_flags()), attach_and_detach(self, ["-H", D.host]))

    def test_events_follow(self):
        follow_events(self, tls_flags())


class Contexts(unittest.TestCase):
    def setUp(self):
        self.config = tempfile.mkdtemp(prefix="ctx-", dir=WORK)
        self.env = base_env(BERTH_CONFIG=self.config)
        # A context with the TLS daemon, and one whose socket does not exist.
        berth("context", "create", "tls-ctx", "--description", "mutual TLS", "--docker",
              f"host={tcp()},ca={cert('ca.pem')},cert={cert('cert.pem')},key={cert('key.pem')}",
              env=self.env)
        berth("context", "create", "dead", "--host", f"unix://{WORK}/no-such.sock", env=self.env)

    def works(self, *args, **env):
        return berth(*args, "version", "--format", "{{.Server.ApiVersion}}", env=dict(self.env, **env),
                     check=False)

    def test_create_stores_tls_material_privately(self):
        info = berth("context", "inspect", "tls-ctx", "--format",
                     "{{.Storage.TLSPath}} {{json .TLSMaterial}} {{.Endpoints.docker.Host}}",
                     env=self.env).stdout.split(" ", 2)
        tls_path = info[0]
        self.assertEqual(info[1], '{"docker":["ca.pem","cert.pem","key.pem"]}')
        self.assertEqual(info[2].strip(), tcp())
        for f in ("ca.pem", "cert.pem", "key.pem"):
            mode = stat.S_IMODE(os.stat(os.path.join(tls_path, "docker", f)).st_mode)
            self.assertEqual(mode, 0o600, f)
        self.assertTrue(tls_path.startswith(self.config))

    def test_context_flag_and_use(self):
        r = self.works("--context", "tls-ctx")
        self.assertEqual((r.returncode, r.stdout), (0, "1.41\n"), r.stderr)
        berth("context", "use", "tls-ctx", env=self.env)
        ls = berth("context", "ls", "--format", "{{.Name}}{{if .Current}} *{{end}}", env=self.env).stdout
        self.assertIn("tls-ctx *", ls)
        r = self.works()  # plain `berth version`: the current context
        self.assertEqual((r.returncode, r.stdout), (0, "1.41\n"), r.stderr)
        self.assertEqual(berth("context", "show", env=self.env).stdout, "tls-ctx\n")

    def test_precedence(self):
        berth("context", "use", "tls-ctx", env=self.env)
        ok = "1.41\n"
        # BERTH_CONTEXT beats the current context.
        self.assertNotEqual(self.works(BERTH_CONTEXT="dead").returncode, 0)
        # --context beats BERTH_CONTEXT, and (as in docker) BERTH_HOST.
        self.assertEqual(self.works("--context", "tls-ctx", BERTH_CONTEXT="dead").stdout, ok)
        self.assertEqual(self.works("--context", "tls-ctx", BERTH_HOST="unix:///nonexistent").stdout, ok)
        # BERTH_HOST beats BERTH_CONTEXT and the current context.
        berth("context", "use", "dead", env=self.env)
        self.assertEqual(self.works(BERTH_HOST=D.host, BERTH_CONTEXT="dead").stdout, ok)
        self.assertEqual(self.works(BERTH_HOST=D.host).stdout, ok)
        # -H beats everything but cannot be combined with --context.
        self.assertEqual(self.works("-H", D.host, BERTH_CONTEXT="dead").stdout, ok)
        r = self.works("-H", D.host, "--context", "tls-ctx")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("either specify --host or --context, not both", r.stderr)
        # The current context decides when nothing else does.
        self.assertNotEqual(self.works().returncode, 0)

    def test_rm_of_the_current_context_needs_force(self):
        berth("context", "use", "tls-ctx", env=self.env)
        r = berth("context", "rm", "tls-ctx", env=self.env, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("in use", r.stderr)
        berth("context", "rm", "-f", "tls-ctx", env=self.env)
        self.assertEqual(berth("context", "show", env=self.env).stdout, "default\n")
        self.assertNotIn("tls-ctx", berth("context", "ls", "-q", env=self.env).stdout)
        self.assertNotEqual(berth("context", "rm", "default", env=self.env, check=False).returncode, 0)

    def test_update(self):
        self.assertNotEqual(self.works("--context", "dead").returncode, 0)
        berth("context", "update", "dead", "--host", D.host, env=self.env)
        self.assertEqual(self.works("--context", "dead").stdout, "1.41\n")
        berth("context", "update", "dead", "--description", "alive now", env=self.env)
        out = berth("context", "inspect", "dead", "-f", "{{.Metadata.Description}} {{.Endpoints.docker.Host}}",
                    env=self.env).stdout
        self.assertEqual(out, f"alive now {D.host}\n")
        # Only the client certificate changes; the CA and the address stay.
        berth("context", "update", "tls-ctx", "--tlscert", cert("other-cert.pem"), "--tlskey",
              cert("other-key.pem"), env=self.env)
        r = self.works("--context", "tls-ctx")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refused the client certificate", r.stderr)
        berth("context", "update", "tls-ctx", "--tlscert", cert("cert.pem"), "--tlskey", cert("key.pem"),
              env=self.env)
        self.assertEqual(self.works("--context", "tls-ctx").stdout, "1.41\n")

    def test_export_import(self):
        archive = os.path.join(self.config, "tls.berthcontext")
        berth("context", "export", "tls-ctx", archive, env=self.env)
        self.assertEqual(stat.S_IMODE(os.stat(archive).st_mode), 0o600)
        other = base_env(BERTH_CONFIG=tempfile.mkdtemp(prefix="ctx-import-", dir=WORK))
        berth("context", "import", "imported", archive, env=other)
        r = berth("--context", "imported", "version", "--format", "{{.Server.ApiVersion}}", env=other)
        self.assertEqual(r.stdout, "1.41\n")


@unittest.skipUnless(shutil.which("docker"), "no docker CLI")
class DockerInterop(unittest.TestCase):
    """The context store is docker's: each CLI uses the other's contexts and archives."""

    def docker(self, config, *args):
        r = subprocess.run(["docker", "--config", config, *args], capture_output=True, text=True,
                           env=base_env(), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_docker_uses_a_context_berth_created(self):
        config = tempfile.mkdtemp(prefix="ctx-berth-", dir=WORK)
        berth("context", "create", "made-by-berth", "--docker",
              f"host={tcp()},ca={cert('ca.pem')},cert={cert('cert.pem')},key={cert('key.pem')}",
              env=base_env(BERTH_CONFIG=config))
        out = self.docker(config, "--context", "made-by-berth", "version", "--format", "{{.Server.APIVersion}}")
        self.assertEqual(out, "1.41\n")

    def test_berth_imports_a_context_docker_exported(self):
        dconfig = tempfile.mkdtemp(prefix="ctx-docker-", dir=WORK)
        self.docker(dconfig, "context", "create", "made-by-docker", "--docker",
                    f"host={tcp()},ca={cert('ca.pem')},cert={cert('cert.pem')},key={cert('key.pem')}")
        archive = os.path.join(dconfig, "exported.dockercontext")
        self.docker(dconfig, "context", "export", "made-by-docker", archive)
        env = base_env(BERTH_CONFIG=tempfile.mkdtemp(prefix="ctx-import-", dir=WORK))
        berth("context", "import", "from-docker", archive, env=env)
        r = berth("--context", "from-docker", "version", "--format", "{{.Server.ApiVersion}}", env=env)
        self.assertEqual(r.stdout, "1.41\n")


@unittest.skipUnless(os.path.exists(SSHD), "no sshd (Debian's openssh-server; scripts/install-deps.sh)")
class Ssh(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sshd = Sshd(os.path.join(WORK, "sshd"))
        cls.link = os.path.join(cls.sshd.remote_bin, "berth")
        os.symlink(BERTH, cls.link)
        cls.url = cls.sshd.url(D.sock)

    @classmethod
    def tearDownClass(cls):
        cls.sshd.stop()

    def env(self, bin_dir=None):
        return base_env(PATH=(bin_dir or self.sshd.client_bin) + ":" + os.environ.get("PATH", "/usr/bin:/bin"))

    def test_version_over_ssh(self):
        r = berth("-H", self.url, "version", "--format", "{{.Server.ApiVersion}}", env=self.env())
        self.assertEqual(r.stdout, "1.41\n")

    def test_run_it_over_ssh(self):
        s = PtySession([BERTH, "-H", self.url, "run", "--rm", "-it", "busybox:local", "sh"], self.env())
        s.expect(r"# ")
        s.send("echo via-ssh-$((20+1))\r")
        s.expect(r"via-ssh-21")
        s.send("exit 4\r")
        self.assertEqual(s.wait(), 4)

    def test_exec_it_over_ssh(self):
        cid = berth("-H", self.url, "run", "-d", "busybox:local", "sleep", "60", env=self.env()).stdout.strip()
        try:
            s = PtySession([BERTH, "-H", self.url, "exec", "-it", cid, "sh"], self.env())
            s.expect(r"# ")
            s.send("echo ssh-exec-$((3*3))\r")
            s.expect(r"ssh-exec-9")
            s.send("exit\r")
            self.assertEqual(s.wait(), 0)
        finally:
            berth("-H", D.host, "rm", "-f", cid)

    def test_piped_stdin_and_logs_follow_over_ssh(self):
        r = berth("-H", self.url, "run", "--rm", "-i", "busybox:local", "sh", "-c", "cat; echo done",
                  input="through ssh\n", env=self.env())
        self.assertEqual(r.stdout, "through ssh\ndone\n")
        cid = berth("-H", self.url, "run", "-d", "busybox:local", "sh", "-c",
                    "echo a; sleep 0.3; echo b", env=self.env()).stdout.strip()
        self.assertEqual(berth("-H", self.url, "logs", "-f", cid, env=self.env()).stdout, "a\nb\n")
        berth("-H", D.host, "rm", "-f", cid)

    def test_attach_and_detach_over_ssh(self):
        self.assertEqual(attach_and_detach(self, ["-H", self.url], self.env()),
                         attach_and_detach(self, ["-H", D.host]))

    def test_events_follow_over_ssh(self):
        follow_events(self, ["-H", self.url], self.env())

    def test_ssh_context(self):
        env = dict(self.env(), BERTH_CONFIG=tempfile.mkdtemp(prefix="ctx-ssh-", dir=WORK))
        berth("context", "create", "over-ssh", "--docker", f"host={self.url}", env=env)
        berth("context", "use", "over-ssh", env=env)
        self.assertEqual(berth("version", "--format", "{{.Server.ApiVersion}}", env=env).stdout, "1.41\n")

    def test_unknown_host_key(self):
        r = berth("-H", self.url, "ps", env=self.env(self.sshd.unknown_host_bin), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Host key verification failed.", r.stderr)
        self.assertIn("berth: tried to reach the daemon with `ssh ", r.stderr)
        self.assertIn("exited with status 255", r.stderr)

    def test_key_not_authorized(self):
        r = berth("-H", self.url, "ps", env=self.env(self.sshd.stranger_bin), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Permission denied", r.stderr)
        self.assertIn("berth: tried to reach the daemon with `ssh ", r.stderr)

    def test_no_berth_on_the_remote_path(self):
        os.unlink(self.link)
        try:
            r = berth("-H", self.url, "ps", env=self.env(), check=False)
        finally:
            os.symlink(BERTH, self.link)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("berth: not found", r.stderr.replace("command not found", "not found"))
        self.assertIn("exited with status 127", r.stderr)

    def test_remote_daemon_not_running(self):
        r = berth("-H", self.sshd.url(os.path.join(WORK, "no-such.sock")), "ps", env=self.env(), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no-such.sock", r.stderr)
        self.assertIn("berth: tried to reach the daemon with `ssh ", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
