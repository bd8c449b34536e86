#include "core/common/systemd.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace berth::core::systemd {
namespace {

using Fds = std::vector<int>;

TEST(SystemdListenFds, TakenOnlyWhenMeantForThisProcess) {
  EXPECT_EQ(*parse_listen_fds(std::nullopt, std::nullopt, 42), Fds{});
  EXPECT_EQ(*parse_listen_fds("42", std::nullopt, 42), Fds{});
  EXPECT_EQ(*parse_listen_fds("42", "1", 42), (Fds{3}));
  EXPECT_EQ(*parse_listen_fds("42", "3", 42), (Fds{3, 4, 5}));
  EXPECT_EQ(*parse_listen_fds("42", "0", 42), Fds{});
  // An ancestor's sockets (it did not unset the variables): not ours.
  EXPECT_EQ(*parse_listen_fds("41", "2", 42), Fds{});
}

TEST(SystemdListenFds, GarbageIsRefusedNamingTheVariable) {
  auto pid = parse_listen_fds("4x2", "1", 42);
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().message.find("LISTEN_PID"), std::string::npos);
  auto count = parse_listen_fds("42", "-1", 42);
  ASSERT_FALSE(count);
  EXPECT_NE(count.error().message.find("LISTEN_FDS"), std::string::npos);
  EXPECT_FALSE(parse_listen_fds("42", "", 42));
}

TEST(SystemdNotify, UnsetSocketSendsNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(notify("READY=1"));
}

TEST(SystemdNotify, DatagramReachesAPathAndAnAbstractSocket) {
  for (bool abstract : {false, true}) {
    std::string name = "/tmp/berth-notify-test-" + std::to_string(::getpid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (abstract) addr.sun_path[0] = '\0';
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    ::unlink(name.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr),
                     static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())),
              0);
    std::string env = abstract ? "@" + name.substr(1) : name;
    ::setenv("NOTIFY_SOCKET", env.c_str(), 1);
    auto sent = notify("READY=1\nSTATUS=up");
    ::unsetenv("NOTIFY_SOCKET");
    ASSERT_TRUE(sent) << sent.error().message;
    char buf[64] = {};
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "READY=1\nSTATUS=up");
    ::close(fd);
    if (!abstract) ::unlink(name.c_str());
  }
}

TEST(SystemdNotify, RelativeSocketIsRefused) {
  ::setenv("NOTIFY_SOCKET", "run/notify", 1);
  auto sent = notify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().message.find("NOTIFY_SOCKET"), std::string::npos);
}

}  // namespace
}  // namespace berth::core::systemd
