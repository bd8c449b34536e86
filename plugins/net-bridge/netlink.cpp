#include "netlink.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

namespace berth::plugins::bridge {
namespace {

sdk::Error nl_failure(const std::string& what, int err) {
  return sdk::make_error(sdk::ErrorCode::kInternal, what + ": " + nl_geterror(err));
}

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Sock = std::unique_ptr<nl_sock, SockDeleter>;
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;
using Addr = std::unique_ptr<nl_addr, AddrDeleter>;

sdk::Result<Sock> open_socket() {
  Sock sk(nl_socket_alloc());
  if (!sk) return sdk::make_error(sdk::ErrorCode::kInternal, "nl_socket_alloc failed");
  if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0) return nl_failure("netlink connect", err);
  return sk;
}

Link get_link(nl_sock* sk, const std::string& name) {
  rtnl_link* link = nullptr;
  if (rtnl_link_get_kernel(sk, 0, name.c_str(), &link) < 0) return nullptr;
  return Link(link);
}

sdk::Result<Addr> parse_addr(const std::string& text, int family) {
  nl_addr* a = nullptr;
  if (int err = nl_addr_parse(text.c_str(), family, &a); err < 0) return nl_failure("address " + text, err);
  return Addr(a);
}

sdk::Status set_up(nl_sock* sk, rtnl_link* link) {
  Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sk, link, change.get(), 0); err < 0) {
    return nl_failure(std::string("bring ") + rtnl_link_get_name(link) + " up", err);
  }
  return {};
}

sdk::Status add_address(nl_sock* sk, int ifindex, const std::string& cidr) {
  auto local = parse_addr(cidr, AF_INET);
  if (!local) return local.error();
  rtnl_addr* addr = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(addr, ifindex);
  rtnl_addr_set_family(addr, AF_INET);
  int err = rtnl_addr_set_local(addr, local->get());
  if (err == 0) {
    // The broadcast address, as `ip addr add ... brd +` and docker set it.
    uint32_t ip = 0;
    std::memcpy(&ip, nl_addr_get_binary_addr(local->get()), 4);
    unsigned plen = nl_addr_get_prefixlen(local->get());
    uint32_t host_mask = plen >= 32 ? 0 : htonl(~uint32_t{0} >> plen);
    uint32_t bcast = ip | host_mask;
    Addr b(nl_addr_build(AF_INET, &bcast, 4));
    rtnl_addr_set_broadcast(addr, b.get());
    err = rtnl_addr_add(sk, addr, 0);
  }
  rtnl_addr_put(addr);
  if (err < 0 && err != -NLE_EXIST) return nl_failure("add address " + cidr, err);
  return {};
}

bool has_default_route(nl_sock* sk) {
  nl_cache* cache = nullptr;
  if (rtnl_route_alloc_cache(sk, AF_INET, 0, &cache) < 0) return false;
  bool found = false;
  for (nl_object* o = nl_cache_get_first(cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) == RT_TABLE_MAIN && nl_addr_get_prefixlen(rtnl_route_get_dst(r)) == 0) found = true;
  }
  nl_cache_free(cache);
  return found;
}

sdk::Status add_default_route(nl_sock* sk, int ifindex, const std::string& gateway) {
  auto gw = parse_addr(gateway, AF_INET);
  if (!gw) return gw.error();
  auto dst = parse_addr("0.0.0.0/0", AF_INET);
  if (!dst) return dst.error();
  rtnl_route* route = rtnl_route_alloc();
  rtnl_route_set_family(route, AF_INET);
  rtnl_route_set_dst(route, dst->get());
  rtnl_route_set_table(route, RT_TABLE_MAIN);
  rtnl_route_set_protocol(route, RTPROT_BOOT);
  rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_gateway(nh, gw->get());
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_add_nexthop(route, nh);
  int err = rtnl_route_add(sk, route, NLM_F_CREATE);
  rtnl_route_put(route);
  if (err < 0 && err != -NLE_EXIST) return nl_failure("add default route via " + gateway, err);
  return {};
}

// Runs fn on a thread that has joined the namespace at `path`.
sdk::Status in_netns(const std::string& path, const std::function<sdk::Status()>& fn) {
  sdk::Status result;
  std::thread worker([&] {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = sdk::errno_error("open network namespace " + path);
      return;
    }
    int rc = ::setns(fd, CLONE_NEWNET);
    ::close(fd);
    if (rc != 0) {
      result = sdk::errno_error("enter network namespace " + path);
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

}  // namespace

bool link_exists(const std::string& name) {
  auto sk = open_socket();
  return sk && get_link(sk->get(), name) != nullptr;
}

sdk::Status ensure_bridge(const std::string& name, int mtu, const std::string& address_cidr) {
  auto sk = open_socket();
  if (!sk) return sk.error();
  Link link = get_link(sk->get(), name);
  if (!link) {
    Link want(rtnl_link_alloc());
    if (int err = rtnl_link_set_type(want.get(), "bridge"); err < 0) return nl_failure("bridge type", err);
    rtnl_link_set_name(want.get(), name.c_str());
    if (mtu > 0) rtnl_link_set_mtu(want.get(), static_cast<unsigned>(mtu));
    if (int err = rtnl_link_add(sk->get(), want.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0 && err != -NLE_EXIST) {
      return nl_failure("create bridge " + name, err);
    }
    link = get_link(sk->get(), name);
    if (!link) return sdk::make_error(sdk::ErrorCode::kInternal, "bridge " + name + " vanished after create");
  }
  if (!address_cidr.empty()) BERTH_TRY_STATUS(add_address(sk->get(), rtnl_link_get_ifindex(link.get()), address_cidr));
  return set_up(sk->get(), link.get());
}

sdk::Status delete_link(const std::string& name) {
  auto sk = open_socket();
  if (!sk) return sk.error();
  Link link = get_link(sk->get(), name);
  if (!link) return {};
  if (int err = rtnl_link_delete(sk->get(), link.get()); err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
    return nl_failure("delete link " + name, err);
  }
  return {};
}

sdk::Status create_veth(const VethPlan& plan) {
  auto sk = open_socket();
  if (!sk) return sk.error();
  Link bridge = get_link(sk->get(), plan.bridge);
  if (!bridge) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                           "bridge " + plan.bridge + " does not exist (was it deleted by hand? restart berthd to recreate it)");
  }
  int nsfd = ::open(plan.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return sdk::errno_error("open network namespace " + plan.netns_path);
  Link veth(rtnl_link_veth_alloc());
  rtnl_link_set_name(veth.get(), plan.host_name.c_str());
  rtnl_link_set_mtu(veth.get(), static_cast<unsigned>(plan.mtu));
  rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());
  rtnl_link_set_name(peer, plan.inner_name.c_str());
  rtnl_link_set_mtu(peer, static_cast<unsigned>(plan.mtu));
  rtnl_link_set_ns_fd(peer, nsfd);
  if (!plan.mac.empty()) {
    auto mac = parse_addr(plan.mac, AF_LLC);
    if (!mac) {
      rtnl_link_put(peer);
      ::close(nsfd);
      return mac.error();
    }
    rtnl_link_set_addr(peer, mac->get());
  }
  int err = rtnl_link_add(sk->get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);
  ::close(nsfd);
  if (err < 0) return nl_failure("create veth " + plan.host_name + " (" + plan.inner_name + " in the container)", err);
  auto undo = [&](sdk::Error e) -> sdk::Status {
    (void)delete_link(plan.host_name);
    return e;
  };
  Link host = get_link(sk->get(), plan.host_name);
  if (!host) return undo(sdk::make_error(sdk::ErrorCode::kInternal, "veth " + plan.host_name + " vanished"));
  if (int e = rtnl_link_enslave_ifindex(sk->get(), rtnl_link_get_ifindex(bridge.get()),
                                        rtnl_link_get_ifindex(host.get()));
      e < 0) {
    return undo(nl_failure("attach " + plan.host_name + " to " + plan.bridge, e));
  }
  if (auto s = set_up(sk->get(), host.get()); !s) return undo(s.error());
  auto inner = in_netns(plan.netns_path, [&]() -> sdk::Status {
    auto isk = open_socket();
    if (!isk) return isk.error();
    Link link = get_link(isk->get(), plan.inner_name);
    if (!link) return sdk::make_error(sdk::ErrorCode::kInternal, plan.inner_name + " missing in the namespace");
    int ifindex = rtnl_link_get_ifindex(link.get());
    if (!plan.address_cidr.empty()) BERTH_TRY_STATUS(add_address(isk->get(), ifindex, plan.address_cidr));
    BERTH_TRY_STATUS(set_up(isk->get(), link.get()));
    if (!plan.gateway.empty() && !has_default_route(isk->get())) {
      BERTH_TRY_STATUS(add_default_route(isk->get(), ifindex, plan.gateway));
    }
    return {};
  });
  if (!inner) return undo(inner.error());
  return {};
}

sdk::Result<bool> enable_sysctl(const std::string& path) {
  std::ifstream in(path);
  std::string value;
  in >> value;
  if (value == "1") return false;
  std::ofstream out(path);
  out << "1\n";
  out.flush();
  if (!out) return sdk::make_error(sdk::ErrorCode::kInternal, "cannot write 1 to " + path);
  return true;
}

}  // namespace berth::plugins::bridge
