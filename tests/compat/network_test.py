"""Networking end to end, with berthd inside a network namespace of the test's own (see
netns_harness.py): the default bridge, user networks (subnet, alias, internal), connect and
disconnect, published ports reached from 127.0.0.1 with no proxy process, isolation between
networks, masquerade to a stand-in "outside", restarts, and leaks (interfaces, rules,
allocations; the host's firewall and interfaces unchanged)."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import berthd_harness  # noqa: E402
import netns_harness  # noqa: E402
from netns_harness import sh  # noqa: E402

D = None
NS = None
HOST_FIREWALL = None
HOST_LINKS = None

HTTPD = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"


def berth(*args, check=True):
    return D.berth(*args, check=check)


def inspect(name, fmt):
    return berth("inspect", "-f", fmt, name).stdout.strip()


def in_ns(*argv, check=True):
    return sh(*argv, check=check, ns=NS.inside)


def fetch(network, url, seconds=3):
    """wget from a new container on `network`, bounded by timeout(1) (busybox's wget -T crashes)
    and run under sh (a PID 1 wget would ignore the timeout's SIGTERM); ends with rc=<status>."""
    return berth("run", "--rm", "--network", network, "busybox:local", "sh", "-c",
                 f"timeout {seconds} wget -qO- {url}; echo rc=$?", check=False).stdout


def wait_http(url, expect, tries=50):
    for _ in range(tries):
        r = in_ns("curl", "-s", "--max-time", "2", url, check=False)
        if expect in r.stdout:
            return r.stdout
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer {expect!r}")


class Networking(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        berth("import", "-c", 'CMD ["sh"]', D.tar, "busybox:local")

    def tearDown(self):
        ids = berth("ps", "-aq", check=False).stdout.split()
        if ids:
            berth("rm", "-f", *ids, check=False)
        for name in berth("network", "ls", "--format", "{{.Name}}").stdout.split():
            if name not in ("bridge", "host", "none"):
                berth("network", "rm", name, check=False)

    def test_list_shows_the_predefined_networks(self):
        rows = berth("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.split("\n")
        self.assertIn("bridge bridge", rows)
        self.assertIn("host host", rows)
        self.assertIn("none null", rows)
        rm = berth("network", "rm", "bridge", check=False)
        self.assertNotEqual(rm.returncode, 0)
        self.assertIn("pre-defined", rm.stderr)

    def test_default_bridge_with_no_flag(self):
        out = berth("run", "--rm", "busybox:local", "sh", "-c",
                    "ip -4 -o addr show eth0; ip route; cat /etc/hosts; cat /etc/hostname").stdout
        self.assertRegex(out, r"inet 172\.17\.0\.\d+/16")
        self.assertIn("default via 172.17.0.1 dev eth0", out)
        ip = out.split("inet ")[1].split("/")[0]
        hostname = out.strip().split("\n")[-1]
        self.assertIn(f"{ip}\t{hostname}", out)
        self.assertIn("berth0", NS.links())
        mtu = in_ns("cat", "/sys/class/net/berth0/mtu").stdout.strip()
        self.assertEqual(mtu, "1500")

    def test_user_network_subnet_gateway_and_inspect(self):
        berth("network", "create", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254",
              "--label", "team=net", "-o", "com.docker.network.bridge.name=br-app",
              "-o", "com.docker.network.driver.mtu=1400", "app")
        net = json.loads(berth("network", "inspect", "app").stdout)[0]
        self.assertEqual(net["IPAM"]["Config"], [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.254"}])
        self.assertEqual(net["Labels"], {"team": "net"})
        berth("run", "-d", "--name", "web", "--network", "app", "--network-alias", "www",
              "busybox:local", "sh", "-c", HTTPD)
        self.assertEqual(inspect("web", "{{.NetworkSettings.Networks.app.IPAddress}}"), "10.77.0.1")
        self.assertEqual(inspect("web", "{{.NetworkSettings.Networks.app.Gateway}}"), "10.77.0.254")
        self.assertEqual(inspect("web", "{{.NetworkSettings.Networks.app.MacAddress}}"), "02:42:0a:4d:00:01")
        mtu = berth("exec", "web", "cat", "/sys/class/net/eth0/mtu").stdout.strip()
        self.assertEqual(mtu, "1400")
        net = json.loads(berth("network", "inspect", "app").stdout)[0]
        self.assertEqual(len(net["Containers"]), 1)
        self.assertIn("br-app", NS.links())
        # A second container reaches the first by address.
        out = berth("run", "--rm", "--network", "app", "busybox:local",
                    "wget", "-qO-", "http://10.77.0.1/").stdout
        self.assertEqual(out.strip(), "hello-from-" + inspect("web", "{{.Config.Hostname}}"))
        # The network cannot go while a container is on it.
        self.assertNotEqual(berth("network", "rm", "app", check=False).returncode, 0)
        berth("rm", "-f", "web")
        berth("network", "rm", "app")
        self.assertNotIn("br-app", NS.links())

    def test_ip_and_mac_requests(self):
        berth("network", "create", "--subnet", "10.78.0.0/24", "fixed")
        berth("run", "-d", "--name", "f1", "--network", "fixed", "--ip", "10.78.0.50",
              "--mac-address", "02:42:00:00:00:99", "busybox:local", "sleep", "60")
        out = berth("exec", "f1", "ip", "-o", "link", "show", "eth0").stdout
        self.assertIn("02:42:00:00:00:99", out)
        self.assertIn("10.78.0.50", berth("exec", "f1", "ip", "-4", "-o", "addr").stdout)
        dup = berth("run", "-d", "--network", "fixed", "--ip", "10.78.0.50", "busybox:local", "true", check=False)
        self.assertNotEqual(dup.returncode, 0)
        self.assertIn("already in use", dup.stderr)

    def test_published_port_from_loopback_without_a_proxy(self):
        berth("network", "create", "pub")
        berth("run", "-d", "--name", "pweb", "--network", "pub", "-p", "8080:80", "busybox:local", "sh", "-c", HTTPD)
        wait_http("http://127.0.0.1:8080/", "hello-from-")
        # No process listens on 8080 in berthd's namespace: the DNAT rule is the whole publication.
        listeners = in_ns("ss", "-Hltn", "sport = :8080").stdout
        self.assertEqual(listeners.strip(), "")
        self.assertIn("dnat to", NS.table())
        self.assertEqual(berth("port", "pweb").stdout.strip(), "80/tcp -> 0.0.0.0:8080")
        # From another container, through the host's address on the bridge.
        gw = inspect("pweb", "{{.NetworkSettings.Networks.pub.Gateway}}")
        out = berth("run", "--rm", "--network", "pub", "busybox:local", "wget", "-qO-", f"http://{gw}:8080/").stdout
        self.assertIn("hello-from-", out)
        berth("stop", "-t", "1", "pweb")
        self.assertNotIn("dnat to", NS.table())
        self.assertNotEqual(in_ns("curl", "-s", "--max-time", "1", "http://127.0.0.1:8080/", check=False).returncode, 0)

    def test_ephemeral_and_publish_all(self):
        berth("run", "-d", "--name", "eph", "-p", "80", "--expose", "81", "-P", "busybox:local", "sh", "-c", HTTPD)
        ports = json.loads(inspect("eph", "{{json .NetworkSettings.Ports}}"))
        p80 = int(ports["80/tcp"][0]["HostPort"])
        p81 = int(ports["81/tcp"][0]["HostPort"])
        self.assertTrue(32768 <= p80 <= 60999 and 32768 <= p81 <= 60999 and p80 != p81)
        wait_http(f"http://127.0.0.1:{p80}/", "hello-from-")
        self.assertIn(f"0.0.0.0:{p80}", berth("port", "eph", "80").stdout)

    def test_networks_are_isolated_and_internal_has_no_way_out(self):
        berth("network", "create", "left")
        berth("network", "create", "right")
        berth("network", "create", "--internal", "closed")
        berth("run", "-d", "--name", "r1", "--network", "right", "busybox:local", "sh", "-c", HTTPD)
        rip = inspect("r1", "{{.NetworkSettings.Networks.right.IPAddress}}")
        blocked = fetch("left", f"http://{rip}/")
        self.assertNotIn("hello-from-", blocked)
        self.assertNotIn("rc=0", blocked)
        # The outside (198.51.100.2) is reachable from a normal network, through masquerade ...
        # busybox httpd without -f goes to the background at once (killed with the namespace).
        subprocess.run(["ip", "netns", "exec", NS.outside, "busybox", "httpd", "-p", "80", "-h", "/tmp/berth-outside-www"])
        time.sleep(0.3)
        out = fetch("left", f"http://{NS.OUTSIDE_IP}/")
        self.assertIn("outside", out)
        # ... and not from an internal one (no default route, and a drop rule).
        closed = berth("run", "--rm", "--network", "closed", "busybox:local", "sh", "-c",
                       f"ip route; timeout 2 wget -qO- http://{NS.OUTSIDE_IP}/", check=False)
        self.assertNotEqual(closed.returncode, 0)
        self.assertNotIn("default", closed.stdout)

    def test_icc_off_blocks_containers_of_one_network(self):
        berth("network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "quiet")
        berth("run", "-d", "--name", "q1", "--network", "quiet", "-p", "8484:80", "busybox:local", "sh", "-c", HTTPD)
        berth("run", "-d", "--name", "q2", "--network", "quiet", "busybox:local", "sleep", "60")
        ip = inspect("q1", "{{.NetworkSettings.Networks.quiet.IPAddress}}")
        blocked = berth("exec", "q2", "sh", "-c", f"timeout 3 wget -qO- http://{ip}/; echo rc=$?").stdout
        self.assertNotIn("hello-from-", blocked)
        self.assertNotIn("rc=0", blocked)
        # The frames between the bridge's ports are dropped in the engine's bridge-family table
        # (no br_netfilter); the host still reaches the published port.
        self.assertIn("drop", in_ns("nft", "list", "table", "bridge", "berth").stdout)
        berth("rm", "-f", "q2")
        wait_http("http://127.0.0.1:8484/", "hello-from-")
        berth("rm", "-f", "q1")
        berth("network", "rm", "quiet")
        self.assertNotEqual(in_ns("nft", "list", "table", "bridge", "berth", check=False).returncode, 0)
        # The default bridge follows daemon.json "icc", read at every start.
        conf = os.path.join(D.root, "daemon.json")
        with open(conf) as f:
            original = f.read()
        with open(conf, "w") as f:
            json.dump(dict(json.loads(original), icc=False), f)
        D.restart()
        try:
            opts = json.loads(berth("network", "inspect", "bridge").stdout)[0]["Options"]
            self.assertEqual(opts["com.docker.network.bridge.enable_icc"], "false")
            berth("run", "-d", "--name", "b1", "busybox:local", "sh", "-c", HTTPD)
            blocked = fetch("bridge", "http://" + inspect("b1", "{{.NetworkSettings.IPAddress}}") + "/")
            self.assertNotIn("hello-from-", blocked)
            berth("rm", "-f", "b1")
        finally:
            with open(conf, "w") as f:
                f.write(original)
            D.restart()
        berth("run", "-d", "--name", "b2", "busybox:local", "sh", "-c", HTTPD)
        allowed = fetch("bridge", "http://" + inspect("b2", "{{.NetworkSettings.IPAddress}}") + "/")
        self.assertIn("hello-from-", allowed)
        self.assertNotEqual(in_ns("nft", "list", "table", "bridge", "berth", check=False).returncode, 0)

    def test_names_resolve_on_user_networks_and_the_rest_is_forwarded(self):
        berth("network", "create", "names")
        berth("run", "-d", "--name", "web", "--network", "names", "--network-alias", "www",
              "busybox:local", "sh", "-c", HTTPD)
        short = berth("inspect", "-f", "{{.Id}}", "web").stdout.strip()[:12]
        ip = inspect("web", "{{.NetworkSettings.Networks.names.IPAddress}}")
        out = berth("run", "--rm", "--network", "names", "busybox:local", "sh", "-c",
                    f"cat /etc/resolv.conf; for n in web www {short}; do nslookup $n; done; "
                    f"nslookup {ip}; wget -qO- http://web/; wget -qO- http://www/; "
                    "nslookup outside.example; nslookup nosuch-container; echo done").stdout
        self.assertIn("nameserver 127.0.0.11", out)
        self.assertEqual(out.count(f"Address: {ip}"), 3, out)  # name, alias, short id
        self.assertIn(f"name = web.names", out)  # PTR
        self.assertEqual(out.count("hello-from-"), 2, out)
        # Other names go to the upstream (the stub in the outside namespace), never the host's.
        self.assertIn("Address: 198.51.100.99", out)
        # The default bridge has no name resolution (as in docker): the host's resolvers are copied.
        plain = berth("run", "--rm", "busybox:local", "cat", "/etc/resolv.conf").stdout
        self.assertNotIn("127.0.0.11", plain)

    def test_vendor_driver_name_is_looked_up_in_the_loaded_plugins(self):
        r = berth("network", "create", "-d", "acme", "vendor", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('network driver "acme" is not loaded', r.stderr)
        self.assertIn("bridge", r.stderr)  # the loaded drivers are listed
        for builtin in ("host", "null"):
            r = berth("network", "create", "-d", builtin, "again-" + builtin, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("only one instance", r.stderr)

    def test_docker_cli_network_commands_and_run_p(self):
        docker_bin = shutil.which("docker")
        if docker_bin is None:
            self.skipTest("no docker CLI")
        env = dict(os.environ, DOCKER_HOST=D.host, DOCKER_CONFIG=os.path.join(D.root, "docker-config"))

        def docker(*args, check=True):
            r = subprocess.run([docker_bin, *args], capture_output=True, text=True, env=env, timeout=120)
            if check and r.returncode != 0:
                raise AssertionError(f"docker {' '.join(args)} failed: {r.stderr}")
            return r

        docker("network", "create", "--subnet", "10.79.0.0/24", "--label", "via=docker", "dnet")
        self.assertIn("dnet", docker("network", "ls", "--filter", "label=via=docker", "--format", "{{.Name}}").stdout)
        net = json.loads(docker("network", "inspect", "dnet").stdout)[0]
        self.assertEqual(net["IPAM"]["Config"][0]["Subnet"], "10.79.0.0/24")
        docker("run", "-d", "--name", "dweb", "--network", "dnet", "-p", "127.0.0.1:8383:80",
               "busybox:local", "sh", "-c", HTTPD)
        wait_http("http://127.0.0.1:8383/", "hello-from-")
        self.assertEqual(docker("port", "dweb").stdout.strip(), "80/tcp -> 127.0.0.1:8383")
        self.assertIn("10.79.0.", docker("inspect", "-f", "{{.NetworkSettings.Networks.dnet.IPAddress}}", "dweb").stdout)
        out = docker("run", "--rm", "--network", "dnet", "busybox:local", "wget", "-qO-", "http://dweb/").stdout
        self.assertIn("hello-from-", out)
        docker("rm", "-f", "dweb")
        docker("network", "rm", "dnet")
        self.assertNotIn("dnet", docker("network", "ls", "--format", "{{.Name}}").stdout)

    def test_python_sdk_network_calls(self):
        try:
            import docker  # Debian's python3-docker
        except ImportError:
            self.skipTest("no python3-docker")
        client = docker.DockerClient(base_url=D.host, version="1.41")
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.80.0.0/24")])
        net = client.networks.create("pynet", driver="bridge", ipam=ipam, labels={"sdk": "py"})
        self.assertEqual(client.networks.get("pynet").attrs["IPAM"]["Config"][0]["Subnet"], "10.80.0.0/24")
        self.assertEqual([n.name for n in client.networks.list(filters={"label": "sdk=py"})], ["pynet"])
        c = client.containers.run("busybox:local", "sleep 120", detach=True, name="pyc")
        net.connect(c, aliases=["pyalias"])
        c.reload()
        self.assertTrue(c.attrs["NetworkSettings"]["Networks"]["pynet"]["IPAddress"].startswith("10.80.0."))
        net.reload()
        self.assertIn(c.id, net.attrs["Containers"])
        net.disconnect(c)
        c.reload()
        self.assertNotIn("pynet", c.attrs["NetworkSettings"]["Networks"])
        c.remove(force=True)
        net.remove()
        self.assertEqual(client.networks.list(names=["pynet"]), [])
        client.close()

    def test_docker_compose_two_services_up_and_down(self):
        compose_bin = shutil.which("docker-compose")
        if compose_bin is None:
            self.skipTest("no docker-compose (Debian's docker-compose 1.29)")
        project = os.path.join(D.root, "composeapp")
        os.makedirs(project, exist_ok=True)
        # The client fetches the web service by its service name over the project's default
        # network and keeps the page; images are local (pull_policy never), nothing is pulled.
        with open(os.path.join(project, "docker-compose.yml"), "w") as f:
            f.write("""version: "3.8"
services:
  web:
    image: busybox:local
    pull_policy: never
    command: ["sh", "-c", "mkdir -p /www && echo hello-compose > /www/index.html && exec httpd -f -p 80 -h /www"]
  client:
    image: busybox:local
    pull_policy: never
    depends_on: [web]
    command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do timeout 2 wget -qO- http://web/ > /tmp/got && break; sleep 0.2; done; echo got=$$(cat /tmp/got); exec sleep 300"]
""")
        env = dict(os.environ, DOCKER_HOST=D.host, COMPOSE_PROJECT_NAME="capp",
                   DOCKER_CONFIG=os.path.join(D.root, "docker-config"))

        def compose(*args):
            r = subprocess.run([compose_bin, "--ansi", "never", *args], cwd=project, capture_output=True,
                               text=True, env=env, timeout=180)
            if r.returncode != 0:
                raise AssertionError(f"docker-compose {' '.join(args)} failed ({r.returncode}):"
                                     f" {r.stdout}{r.stderr}")
            return r

        compose("up", "-d", "--no-build")
        net = json.loads(berth("network", "inspect", "capp_default").stdout)[0]
        self.assertEqual(net["Labels"].get("com.docker.compose.project"), "capp")
        self.assertEqual(net["Driver"], "bridge")
        for _ in range(60):
            logs = berth("logs", "capp_client_1").stdout
            if "got=" in logs:
                break
            time.sleep(0.25)
        self.assertIn("got=hello-compose", logs)
        ps = compose("ps").stdout
        self.assertIn("capp_web_1", ps)
        self.assertIn("capp_client_1", ps)
        # A second `up -d` finds everything as it is (labels and filters match) and changes nothing.
        web_id = berth("inspect", "-f", "{{.Id}}", "capp_web_1").stdout.strip()
        compose("up", "-d", "--no-build")
        self.assertEqual(berth("inspect", "-f", "{{.Id}}", "capp_web_1").stdout.strip(), web_id)
        compose("down", "-t", "1")
        self.assertEqual(berth("ps", "-aq").stdout.strip(), "")
        self.assertNotIn("capp_default", berth("network", "ls", "--format", "{{.Name}}").stdout)

    def test_host_network_through_the_host_driver(self):
        plugins = berth("plugin", "ls").stdout
        self.assertRegex(plugins, r"network\.host\s.*ok")
        out = berth("run", "--rm", "--network", "host", "busybox:local", "ip", "-o", "link").stdout
        self.assertIn("uplink", out)  # berthd's namespace (the test's), not one of its own
        with open(D.log_path) as f:
            self.assertIn("container shares the host's network namespace", f.read())

    def test_connect_and_disconnect_live(self):
        berth("network", "create", "one")
        berth("network", "create", "two")
        berth("run", "-d", "--name", "c1", "--network", "one", "busybox:local", "sleep", "120")
        berth("network", "connect", "two", "c1")
        addrs = berth("exec", "c1", "ip", "-4", "-o", "addr").stdout
        self.assertIn("eth1", addrs)
        self.assertNotEqual(inspect("c1", "{{.NetworkSettings.Networks.two.IPAddress}}"), "")
        berth("network", "disconnect", "two", "c1")
        self.assertNotIn("eth1", berth("exec", "c1", "ip", "-4", "-o", "addr").stdout)
        self.assertNotIn("two", json.loads(inspect("c1", "{{json .NetworkSettings.Networks}}")))

    def test_restart_keeps_addresses_and_reconciles_rules(self):
        berth("network", "create", "keep")
        berth("run", "-d", "--name", "k1", "--network", "keep", "-p", "8181:80", "busybox:local", "sh", "-c", HTTPD)
        ip = inspect("k1", "{{.NetworkSettings.Networks.keep.IPAddress}}")
        wait_http("http://127.0.0.1:8181/", "hello-from-")
        table = NS.table()
        D.restart()  # live restore: the container keeps running
        self.assertEqual(inspect("k1", "{{.NetworkSettings.Networks.keep.IPAddress}}"), ip)
        wait_http("http://127.0.0.1:8181/", "hello-from-")
        self.assertEqual(NS.table(), table)
        # A crash: the table is rendered again from the driver's state, no duplicate rule.
        D.proc.kill()
        D.proc.wait()
        os.unlink(D.sock)
        D._launch()
        self.assertEqual(NS.table(), table)
        # A new container never gets the address the first one holds.
        berth("run", "-d", "--name", "k2", "--network", "keep", "busybox:local", "sleep", "60")
        self.assertNotEqual(inspect("k2", "{{.NetworkSettings.Networks.keep.IPAddress}}"), ip)

    def test_zz_no_leaks(self):
        berth("network", "create", "leak")
        berth("run", "-d", "--name", "l1", "--network", "leak", "-p", "8282:80", "busybox:local", "sleep", "60")
        berth("run", "-d", "--name", "l2", "busybox:local", "sleep", "60")
        berth("rm", "-f", "l1", "l2")
        berth("network", "rm", "leak")
        links = NS.links()
        self.assertEqual([l for l in links if l.startswith("vb") or l.startswith("br-")], [], links)
        self.assertNotIn("dnat", NS.table())
        self.assertNotIn("leak", NS.table())
        records = os.path.join(D.root, "data", "network")
        for f in os.listdir(records):
            with open(os.path.join(records, f)) as fh:
                self.assertEqual(json.load(fh)["Endpoints"], {}, f)
        self.assertEqual(os.listdir(os.path.join(D.root, "exec", "netns")), [])


def main():
    global D, NS, HOST_FIREWALL, HOST_LINKS
    if os.geteuid() != 0:
        berthd_harness.skip("needs root (network namespaces)")
    HOST_FIREWALL = netns_harness.host_firewall()
    HOST_LINKS = netns_harness.host_links()
    NS = netns_harness.TestNetworks()
    os.makedirs("/tmp/berth-outside-www", exist_ok=True)
    with open("/tmp/berth-outside-www/index.html", "w") as f:
        f.write("outside\n")
    ok = False
    try:
        # The embedded DNS server's upstream is the stub in the outside namespace.
        stub = subprocess.Popen(["ip", "netns", "exec", NS.outside, sys.executable,
                                 os.path.join(os.path.dirname(__file__), "dns_stub.py"),
                                 NS.OUTSIDE_IP, "198.51.100.99"])
        D = berthd_harness.Berthd(argv_prefix=NS.prefix(),
                                  extra_config={"bridge": "berth0", "dns": [NS.OUTSIDE_IP]})
        try:
            result = unittest.main(exit=False, verbosity=2).result
            ok = result.wasSuccessful()
        finally:
            D.stop()
    finally:
        subprocess.run(["sh", "-c", f"ip netns pids {NS.outside} | xargs -r kill"], check=False)
        NS.close()
        subprocess.run(["rm", "-rf", "/tmp/berth-outside-www"], check=False)
    # The host was never touched.
    if netns_harness.host_firewall() != HOST_FIREWALL:
        print("FAIL: the host's firewall changed")
        ok = False
    if netns_harness.host_links() != HOST_LINKS:
        print(f"FAIL: the host's interfaces changed: {HOST_LINKS} -> {netns_harness.host_links()}")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
