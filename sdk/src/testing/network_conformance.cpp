// The network driver conformance suite (see testing/network_conformance.hpp): the call order and
// idempotent inverses berthd's network manager relies on, checked through the NetworkDriver
// interface on real namespaces, inside the test process's own network namespace.
#include "berth/sdk/testing/network_conformance.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "berth/sdk/testing/fs.hpp"
#include "case_table.hpp"

namespace berth::sdk::testing {
namespace {

#define ASSERT_OK(expr)                                        \
  switch (0)                                                   \
  case 0:                                                      \
  default:                                                     \
    if (const auto& berth_r_ = (expr); berth_r_.has_value()) { \
    } else                                                     \
      FAIL() << #expr << ": " << berth_r_.error().message << " "

#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    if (const auto& berth_r_ = (expr); !berth_r_.has_value()) {                \
      ADD_FAILURE() << #expr << ": " << berth_r_.error().message;              \
    }                                                                          \
  } while (0)

#define EXPECT_FAILS(expr)                                               \
  do {                                                                   \
    if ((expr).has_value()) ADD_FAILURE() << #expr << " succeeded";      \
  } while (0)


// Runs `fn` on a short-lived thread that entered the namespace at `path` (setns moves only the
// calling thread).
template <typename Fn>
auto in_netns(const std::string& path, Fn fn) -> decltype(fn()) {
  decltype(fn()) out{};
  std::thread worker([&] {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    bool entered = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    if (entered) out = fn();
  });
  worker.join();
  return out;
}

// The names of the links in the calling thread's namespace.
std::set<std::string> links_here() {
  std::set<std::string> out;
  if (struct if_nameindex* list = ::if_nameindex()) {
    for (auto* i = list; i->if_index != 0; ++i) out.insert(i->if_name);
    ::if_freenameindex(list);
  }
  return out;
}

// "10.0.0.2" and whether the interface is up, or "" when it has no IPv4 address or is missing.
std::pair<std::string, bool> address_and_up(const std::string& ifname) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {"", false};
  struct ifreq req{};
  std::snprintf(req.ifr_name, IFNAMSIZ, "%s", ifname.c_str());
  std::string addr;
  bool up = false;
  if (::ioctl(fd, SIOCGIFADDR, &req) == 0) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&req.ifr_addr)->sin_addr, text, sizeof text);
    addr = text;
  }
  if (::ioctl(fd, SIOCGIFFLAGS, &req) == 0) up = (req.ifr_flags & IFF_UP) != 0;
  ::close(fd);
  return {addr, up};
}

// Whether the program started in a namespace made for it: nothing but loopback there before the
// first case. Decided once, before any case made a link, and failing safe: comparing with
// /proc/1/ns/net is not enough (unreadable in some sandboxes, which would pass for "different").
bool in_a_fresh_namespace() {
  static const bool fresh = links_here() == std::set<std::string>{"lo"};
  return fresh;
}

struct Registration {
  NetworkFixtureFactory factory;
};

class Harness;
using CaseFn = void (*)(Harness&);

// Not final: GoogleTest derives from a registered test class to find its suite hooks.
class Harness : public ::testing::Test {
 public:
  Harness(std::shared_ptr<const Registration> r, CaseFn fn) : registration_(std::move(r)), fn_(fn) {}

  void TestBody() override {
    fixture_ = registration_->factory();
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    if (auto it = fixture_.skip.find(name); it != fixture_.skip.end()) GTEST_SKIP() << it->second;
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (links, namespaces, rules)";
    if (!in_a_fresh_namespace()) {
      GTEST_SKIP() << "runs only in a network namespace of its own, made for it (unshare --net: "
                      "loopback only when the program starts); it makes links, rules and sysctls "
                      "and must never touch the host's";
    }
    ASSERT_TRUE(fixture_.create) << "NetworkFixture::create is required";
    auto tmp = TempDir::create(fixture_.temp_parent, "berth-netconf-");
    ASSERT_OK(tmp);
    tmp_ = std::move(*tmp);
    dirs_ = {tmp_.sub("root"), tmp_.sub("state")};
    ::mkdir(dirs_.root_dir.c_str(), 0700);
    ::mkdir(dirs_.state_dir.c_str(), 0700);
    links_before_ = links_here();
    ASSERT_NO_FATAL_FAILURE(recreate());
    fn_(*this);
    driver_.reset();
    for (const auto& ns : namespaces_) ::umount2(ns.c_str(), MNT_DETACH);
  }

  NetworkDriver& driver() { return *driver_; }
  Context& ctx() { return ctx_; }
  const NetworkFixture& fixture() const { return fixture_; }
  const std::set<std::string>& links_before() const { return links_before_; }

  void recreate() {
    driver_.reset();
    auto made = fixture_.create(dirs_);
    if (!made && made.error().code == ErrorCode::kUnsupported) GTEST_SKIP() << made.error().message;
    ASSERT_OK(made);
    driver_ = std::move(*made);
  }

  NetworkSpec network(bool restore = false) const {
    NetworkSpec s;
    s.id = "c0ffee" + std::string(58, '1');
    s.name = "conformance";
    s.options_json = fixture_.options_json;
    s.ipv4 = {{fixture_.subnet, fixture_.gateway}};
    s.restore = restore || fixture_.predefined;
    return s;
  }

  // The n-th address after the gateway, with the subnet's prefix.
  std::string address(int n) const {
    in_addr a{};
    ::inet_pton(AF_INET, fixture_.gateway.c_str(), &a);
    a.s_addr = htonl(ntohl(a.s_addr) + static_cast<uint32_t>(n));
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a, text, sizeof text);
    return std::string(text) + fixture_.subnet.substr(fixture_.subnet.find('/'));
  }

  // A new network namespace bound at a file of the case's tree (as berthd makes a container's).
  std::string new_netns(const std::string& name) {
    std::string path = tmp_.sub(name);
    int fd = ::open(path.c_str(), O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    bool ok = false;
    std::thread worker([&] {
      ok = ::unshare(CLONE_NEWNET) == 0 &&
           ::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) == 0;
    });
    worker.join();
    if (ok) namespaces_.push_back(path);
    return ok ? path : "";
  }

  // What berthd does when a container is gone: unbinds and removes its namespace file, before
  // leave. `keep_fd` receives an open descriptor that keeps the namespace alive (-1: none).
  void drop_netns(const std::string& path, int* keep_fd = nullptr) {
    if (keep_fd != nullptr) *keep_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
  }

 private:
  std::shared_ptr<const Registration> registration_;
  CaseFn fn_;
  NetworkFixture fixture_;
  TempDir tmp_;
  NetworkDirs dirs_;
  Context ctx_;
  std::unique_ptr<NetworkDriver> driver_;
  std::set<std::string> links_before_;
  std::vector<std::string> namespaces_;
};

const std::string kEndpoint = "e0" + std::string(62, 'a');

void network_create_and_delete_are_idempotent(Harness& h) {
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  // Replayed after a restart: adopts what exists.
  EXPECT_OK(h.driver().create_network(h.ctx(), h.network(true)));
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
  EXPECT_EQ(links_here(), h.links_before()) << "links left behind after delete_network";
}

void endpoint_joins_a_namespace_with_its_address(Harness& h) {
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  std::string ns = h.fixture().gives_interfaces ? h.new_netns("ns1") : "/proc/self/ns/net";
  ASSERT_FALSE(ns.empty()) << "could not make a network namespace";
  auto made = h.driver().create_endpoint(h.ctx(), {h.network().id, kEndpoint,
                                                   h.fixture().gives_interfaces ? h.address(1) : "", "", "{}"});
  ASSERT_OK(made);
  auto joined = h.driver().join(h.ctx(), {h.network().id, kEndpoint, ns, "c1", "eth0"});
  ASSERT_OK(joined);
  if (h.fixture().gives_interfaces) {
    ASSERT_FALSE(joined->interface_name.empty()) << "join names the interface it made";
    auto [addr, up] = in_netns(ns, [&] { return address_and_up(joined->interface_name); });
    std::string want = h.address(1);
    EXPECT_EQ(addr, want.substr(0, want.find('/'))) << "the endpoint's address inside the namespace";
    EXPECT_TRUE(up) << joined->interface_name << " is not up inside the namespace";
  }
  EXPECT_OK(h.driver().leave(h.ctx(), h.network().id, kEndpoint));
  if (h.fixture().gives_interfaces) {
    auto inside = in_netns(ns, [] { return links_here(); });
    EXPECT_EQ(inside, (std::set<std::string>{"lo"})) << "the interface outlived leave";
  }
  EXPECT_OK(h.driver().delete_endpoint(h.ctx(), h.network().id, kEndpoint));
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
}

void inverses_are_idempotent_and_leave_nothing(Harness& h) {
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  std::string ns = h.fixture().gives_interfaces ? h.new_netns("ns2") : "/proc/self/ns/net";
  ASSERT_OK(h.driver().create_endpoint(h.ctx(), {h.network().id, kEndpoint,
                                                 h.fixture().gives_interfaces ? h.address(2) : "", "", "{}"}));
  ASSERT_OK(h.driver().join(h.ctx(), {h.network().id, kEndpoint, ns, "c2", "eth0"}));
  for (int i = 0; i < 2; ++i) {
    EXPECT_OK(h.driver().revoke_external_connectivity(h.ctx(), h.network().id, kEndpoint));
    EXPECT_OK(h.driver().leave(h.ctx(), h.network().id, kEndpoint));
    EXPECT_OK(h.driver().delete_endpoint(h.ctx(), h.network().id, kEndpoint));
  }
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
  EXPECT_EQ(links_here(), h.links_before()) << "links left behind";
}

// The links of the host as they were, within `limit`: a driver may leave a pair whose namespace
// was dropped to the kernel's cleanup, or delete it a little later.
bool links_return_within(const std::set<std::string>& want, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (links_here() != want) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void leave_after_the_namespace_was_dropped_leaves_nothing(Harness& h) {
  if (!h.fixture().gives_interfaces) GTEST_SKIP() << "the driver makes no interfaces";
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  const std::set<std::string> with_network = links_here();
  // Twice: once with nothing else holding the namespace (the kernel takes the pair), once with
  // a descriptor that keeps it alive (only the driver can remove the pair then).
  for (bool held : {false, true}) {
    std::string ns = h.new_netns(held ? "ns7" : "ns6");
    ASSERT_FALSE(ns.empty()) << "could not make a network namespace";
    ASSERT_OK(h.driver().create_endpoint(h.ctx(), {h.network().id, kEndpoint, h.address(6), "", "{}"}));
    ASSERT_OK(h.driver().join(h.ctx(), {h.network().id, kEndpoint, ns, "c6", "eth0"}));
    int fd = -1;
    h.drop_netns(ns, held ? &fd : nullptr);
    EXPECT_OK(h.driver().leave(h.ctx(), h.network().id, kEndpoint));
    EXPECT_OK(h.driver().delete_endpoint(h.ctx(), h.network().id, kEndpoint));
    EXPECT_TRUE(links_return_within(with_network, std::chrono::seconds(10)))
        << "the host end of the pair outlived its dropped namespace" << (held ? " (held open)" : "");
    if (fd >= 0) ::close(fd);
  }
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
  EXPECT_EQ(links_here(), h.links_before()) << "links left behind";
}

void ports_are_published_and_revoked(Harness& h) {
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  std::string ns = h.fixture().gives_interfaces ? h.new_netns("ns3") : "/proc/self/ns/net";
  ASSERT_OK(h.driver().create_endpoint(h.ctx(), {h.network().id, kEndpoint,
                                                 h.fixture().gives_interfaces ? h.address(3) : "", "", "{}"}));
  ASSERT_OK(h.driver().join(h.ctx(), {h.network().id, kEndpoint, ns, "c3", "eth0"}));
  std::vector<PortMapping> ports{{"tcp", "", 18080, 80}, {"udp", "127.0.0.1", 18053, 53}};
  auto published = h.driver().program_external_connectivity(h.ctx(), h.network().id, kEndpoint, ports);
  if (h.fixture().publishes_ports) {
    EXPECT_OK(published);
    // The same ports again (a restart replays them) and an empty list (nothing published).
    EXPECT_OK(h.driver().program_external_connectivity(h.ctx(), h.network().id, kEndpoint, ports));
    EXPECT_OK(h.driver().revoke_external_connectivity(h.ctx(), h.network().id, kEndpoint));
    EXPECT_OK(h.driver().program_external_connectivity(h.ctx(), h.network().id, kEndpoint, {}));
  } else {
    ASSERT_FALSE(published.has_value()) << "publishes_ports is false, yet ports were accepted";
    EXPECT_EQ(published.error().code, ErrorCode::kUnsupported) << published.error().message;
  }
  EXPECT_OK(h.driver().revoke_external_connectivity(h.ctx(), h.network().id, kEndpoint));
  EXPECT_OK(h.driver().leave(h.ctx(), h.network().id, kEndpoint));
  EXPECT_OK(h.driver().delete_endpoint(h.ctx(), h.network().id, kEndpoint));
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
}

void unknown_ids_are_refused(Harness& h) {
  EXPECT_FAILS(h.driver().create_endpoint(h.ctx(), {"nosuchnetwork", kEndpoint, h.address(4), "", "{}"}));
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  std::string ns = h.fixture().gives_interfaces ? h.new_netns("ns4") : "/proc/self/ns/net";
  if (h.fixture().gives_interfaces) {
    EXPECT_FAILS(h.driver().join(h.ctx(), {h.network().id, "nosuchendpoint", ns, "c4", "eth0"}));
  }
  // Inverses of what never was are fine.
  EXPECT_OK(h.driver().leave(h.ctx(), h.network().id, "nosuchendpoint"));
  EXPECT_OK(h.driver().delete_endpoint(h.ctx(), h.network().id, "nosuchendpoint"));
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
  EXPECT_EQ(links_here(), h.links_before());
}

void a_new_instance_adopts_what_the_last_made(Harness& h) {
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network()));
  std::string ns = h.fixture().gives_interfaces ? h.new_netns("ns5") : "/proc/self/ns/net";
  ASSERT_OK(h.driver().create_endpoint(h.ctx(), {h.network().id, kEndpoint,
                                                 h.fixture().gives_interfaces ? h.address(5) : "", "", "{}"}));
  auto joined = h.driver().join(h.ctx(), {h.network().id, kEndpoint, ns, "c5", "eth0"});
  ASSERT_OK(joined);
  ASSERT_NO_FATAL_FAILURE(h.recreate());  // the host restarted; the container kept running
  ASSERT_OK(h.driver().create_network(h.ctx(), h.network(true)));
  if (h.fixture().gives_interfaces) {
    auto [addr, up] = in_netns(ns, [&] { return address_and_up(joined->interface_name); });
    EXPECT_FALSE(addr.empty()) << "the running container lost its interface over the restart";
  }
  EXPECT_OK(h.driver().leave(h.ctx(), h.network().id, kEndpoint));
  EXPECT_OK(h.driver().delete_endpoint(h.ctx(), h.network().id, kEndpoint));
  EXPECT_OK(h.driver().delete_network(h.ctx(), h.network().id));
  EXPECT_EQ(links_here(), h.links_before()) << "links left behind by the adopting instance";
}

constexpr suite::Case<Harness> kCases[] = {
    {"NetworkCreateAndDeleteAreIdempotent", &network_create_and_delete_are_idempotent},
    {"EndpointJoinsANamespaceWithItsAddress", &endpoint_joins_a_namespace_with_its_address},
    {"InversesAreIdempotentAndLeaveNothing", &inverses_are_idempotent_and_leave_nothing},
    {"LeaveAfterTheNamespaceWasDroppedLeavesNothing", &leave_after_the_namespace_was_dropped_leaves_nothing},
    {"PortsArePublishedAndRevoked", &ports_are_published_and_revoked},
    {"UnknownIdsAreRefused", &unknown_ids_are_refused},
    {"ANewInstanceAdoptsWhatTheLastMade", &a_new_instance_adopts_what_the_last_made},
};

}  // namespace

bool register_network_conformance(const char* suite_name, NetworkFixtureFactory factory,
                                  const char* file, int line) {
  auto registration = std::make_shared<const Registration>(Registration{std::move(factory)});
  return suite::register_cases(suite_name, registration, kCases, file, line);
}

std::vector<std::string> network_conformance_cases() { return suite::case_names(kCases); }

}  // namespace berth::sdk::testing
