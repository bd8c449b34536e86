// The image builder end to end: `berth build` against a real berthd, from the busybox test
// image: stages, build args, USER/WORKDIR at run time, the cache, .dockerignore, a failing RUN.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <cstdio>
#include <sstream>
#include <chrono>
#include <thread>
#include <csignal>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/container_fixture.hpp"

namespace fs = std::filesystem;
using namespace berth::testing;

namespace {

class Build : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ctx_ = dir_.path() / "ctx";
    fs::create_directories(ctx_);
  }
  void write(const std::string& rel, const std::string& text) {
    fs::path p = ctx_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << text;
  }
  CommandResult build(std::vector<std::string> args) {
    args.insert(args.begin(), "build");
    args.push_back(ctx_.string());
    return berth(args);
  }
  size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }
  fs::path ctx_;
};

const char* kTwoStage = R"(# syntax=docker/dockerfile:1
ARG BASE=busybox:local
FROM ${BASE} AS builder
ARG GREETING=hello
ENV APP_DIR=/app
WORKDIR $APP_DIR
COPY src/ ./src/
RUN echo "$GREETING from $APP_DIR" > built.txt && cat src/*.txt >> built.txt

FROM busybox:local AS never
RUN exit 9

FROM ${BASE}
COPY --from=builder /app/built.txt /srv/out/
COPY --chmod=0700 --chown=1234:1234 src/a.txt /srv/private.txt
USER 1234
WORKDIR /srv/out
LABEL org.example.kind=test
EXPOSE 8080
CMD ["cat", "built.txt"]
)";

TEST_F(Build, TwoStagesArgsUserAndWorkdirAtRunTime) {
  write("Dockerfile", kTwoStage);
  write("src/a.txt", "alpha\n");
  write("src/b.txt", "beta\n");
  auto r = build({"-t", "app", "--build-arg", "GREETING=hi"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << d_.log();
  EXPECT_NE(r.out.find("Step 1/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Successfully built "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Successfully tagged app:latest"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("exit 9"), std::string::npos) << "an unneeded stage ran:\n" << r.out;
  // The image runs: CMD, USER and WORKDIR as the Dockerfile set them.
  EXPECT_EQ(ok({"run", "--rm", "app"}), "hi from /app\nalpha\nbeta");
  EXPECT_EQ(ok({"run", "--rm", "app", "id", "-u"}), "1234");
  EXPECT_EQ(ok({"run", "--rm", "app", "pwd"}), "/srv/out");
  EXPECT_EQ(ok({"run", "--rm", "app", "stat", "-c", "%a %u", "/srv/private.txt"}), "700 1234");
  EXPECT_EQ(inspect("app", "{{index .Config.Labels \"org.example.kind\"}}"), "test");
  EXPECT_EQ(inspect("app", "{{json .Config.ExposedPorts}}"), "{\"8080/tcp\":{}}");
  // Nothing of the build is left running or mounted.
  EXPECT_EQ(ok({"ps", "-aq"}), "");
}

TEST_F(Build, RebuildIsAllCacheHitsAndATouchedFileRebuildsFromItsStep) {
  write("Dockerfile",
        "FROM busybox:local\nENV A=1\nCOPY one.txt /one.txt\nRUN cat /one.txt > /copy.txt\nCOPY two.txt /two.txt\n"
        "CMD [\"cat\", \"/copy.txt\"]\n");
  write("one.txt", "first\n");
  write("two.txt", "second\n");
  auto first = build({"-q"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  std::string id = first.out.substr(0, first.out.find('\n'));
  ASSERT_EQ(id.rfind("sha256:", 0), 0u) << first.out;

  auto again = build({});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(count(again.out, "Using cache"), 5u) << again.out;
  EXPECT_EQ(count(again.out, "Running in"), 0u) << again.out;
  EXPECT_NE(again.out.find("Successfully built " + id.substr(7, 12)), std::string::npos) << again.out;

  write("two.txt", "changed\n");
  auto touched = build({"-t", "cached"});
  ASSERT_EQ(touched.exit_code, 0) << touched.out << touched.err;
  EXPECT_EQ(count(touched.out, "Using cache"), 3u) << touched.out;  // ENV, COPY one, RUN
  EXPECT_EQ(ok({"run", "--rm", "cached", "cat", "/two.txt"}), "changed");

  auto none = build({"--no-cache"});
  ASSERT_EQ(none.exit_code, 0) << none.out << none.err;
  EXPECT_EQ(count(none.out, "Using cache"), 0u) << none.out;
  EXPECT_EQ(count(none.out, "Running in"), 1u) << none.out;

  // The cache shows in system df and builder prune empties it.
  auto df = ok({"system", "df", "--format", "{{.Type}} {{.TotalCount}}"});
  EXPECT_NE(df.find("Build Cache "), std::string::npos) << df;
  EXPECT_EQ(df.find("Build Cache 0"), std::string::npos) << df;
  auto pruned = ok({"builder", "prune", "-a", "-f"});
  EXPECT_NE(pruned.find("Deleted build cache objects:"), std::string::npos) << pruned;
  EXPECT_NE(ok({"system", "df", "--format", "{{.Type}} {{.TotalCount}}"}).find("Build Cache 0"), std::string::npos);
  auto after = build({});
  ASSERT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_EQ(count(after.out, "Using cache"), 0u) << after.out;
}

TEST_F(Build, DockerignoreAndContextSymlinksStayInside) {
  write("Dockerfile", "FROM busybox:local\nCOPY . /ctx/\n");
  write(".dockerignore", "secret*\n**/*.log\n!keep.log\n");
  write("secret.txt", "no\n");
  write("dir/debug.log", "no\n");
  write("keep.log", "yes\n");
  write("app.txt", "yes\n");
  fs::create_symlink("/etc/shadow", ctx_ / "escape");
  auto r = build({"-t", "ign"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto listing = ok({"run", "--rm", "ign", "find", "/ctx", "-type", "f"});
  EXPECT_NE(listing.find("/ctx/app.txt"), std::string::npos) << listing;
  EXPECT_NE(listing.find("/ctx/keep.log"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("secret"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("debug.log"), std::string::npos) << listing;
  // A symlink is copied as a link, never as the host file it names.
  EXPECT_EQ(ok({"run", "--rm", "ign", "readlink", "/ctx/escape"}), "/etc/shadow");

  write("Dockerfile", "FROM busybox:local\nCOPY escape /leak\n");
  auto leak = build({});
  // Resolved inside the context, /etc/shadow does not exist there.
  EXPECT_NE(leak.exit_code, 0) << leak.out;
  EXPECT_NE(leak.err.find("escape"), std::string::npos) << leak.err;
}

TEST_F(Build, FailingRunLeavesNothingBehind) {
  std::string images_before = ok({"images", "-aq"});
  write("Dockerfile", "FROM busybox:local\nRUN echo before > /f\nRUN echo doomed; exit 3\n");
  auto r = build({"-t", "broken"});
  EXPECT_EQ(r.exit_code, 3) << r.out;  // the RUN's code, as docker
  EXPECT_NE(r.err.find("The command '/bin/sh -c echo doomed; exit 3' returned a non-zero code: 3"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("doomed"), std::string::npos) << r.out;
  EXPECT_EQ(ok({"ps", "-aq"}), "");
  EXPECT_NE(berth({"image", "inspect", "broken"}).exit_code, 0);
  expect_nothing_left("0000000000000000");
  // A syntax error names the file and line; a missing source names the source.
  write("Dockerfile", "FROM busybox:local\nFROB x\n");
  auto bad = build({});
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
  write("Dockerfile", "FROM busybox:local\nCOPY nothere.txt /\n");
  auto missing = build({});
  EXPECT_NE(missing.err.find("nothere.txt"), std::string::npos) << missing.err;
  write("Dockerfile", "FROM no-such-image:1\n");
  auto absent = build({});
  EXPECT_NE(absent.err.find("no-such-image:1"), std::string::npos) << absent.err;
  EXPECT_EQ(ok({"ps", "-aq"}), "");
}

TEST_F(Build, ClientGoneCancelsTheBuildAndLeavesNothing) {
  write("Dockerfile", "FROM busybox:local\nRUN echo started; sleep 60\n");
  // The CLI is killed (SIGKILL) after 3 s, mid-RUN: berthd sees the connection close.
  auto r = run_command({berth_binary(), "-H", d_.host(), "build", "--no-cache", "-t", "gone", ctx_.string()}, "", {},
                       3000);
  ASSERT_EQ(r.exit_code, -1) << r.out << r.err;
  EXPECT_NE(r.out.find("started"), std::string::npos) << r.out;
  EXPECT_TRUE(eventually([&] { return ok({"ps", "-aq"}).empty(); }, 15000)) << ok({"ps", "-a"});
  EXPECT_NE(berth({"image", "inspect", "gone"}).exit_code, 0);
  // No context or scratch directory is left either.
  EXPECT_TRUE(eventually([&] {
    for (const auto& e : fs::directory_iterator(fs::path(d_.data_root()) / "builder")) {
      if (e.path().filename() != "cache.json") return false;
    }
    return true;
  }));
}

TEST_F(Build, ABerthdKilledMidStepRemovesTheStepContainerAtItsNextStart) {
  write("Dockerfile", "FROM busybox:local\nRUN sleep 60\n");
  std::thread client([&] { (void)berth({"build", "--no-cache", ctx_.string()}); });
  EXPECT_TRUE(eventually([&] { return !ok({"ps", "-q"}).empty(); }, 15000));
  d_.stop(SIGKILL);
  client.join();
  ASSERT_TRUE(d_.start(options_)) << d_.log();
  EXPECT_EQ(ok({"ps", "-aq"}), "");
}

TEST_F(Build, AddArchivesWildcardsHeredocsAndEveryConfigInstruction) {
  write("pkg/bin/tool", "#!/bin/sh\necho tool\n");
  ASSERT_EQ(run_command({"/bin/tar", "-C", (ctx_ / "pkg").string(), "-czf", (ctx_ / "pkg.tar.gz").string(), "bin"}).exit_code, 0);
  fs::remove_all(ctx_ / "pkg");
  write("a.txt", "a\n");
  write("b.txt", "b\n");
  write("c.md", "c\n");
  write("Dockerfile", R"(FROM busybox:local
MAINTAINER someone@example.com
ADD pkg.tar.gz /opt/
COPY *.txt /w/
COPY <<EOF /etc/greeting
hello $HOSTNAME_IS_UNSET!
EOF
SHELL ["/bin/sh", "-e", "-c"]
RUN <<EOF
echo from-heredoc > /heredoc
ls /w > /listing
EOF
VOLUME /data
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --retries=2 CMD true
ONBUILD RUN echo triggered > /onbuild
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /heredoc"]
)");
  auto r = build({"-t", "kitchen"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ok({"run", "--rm", "kitchen"}), "from-heredoc");
  EXPECT_EQ(ok({"run", "--rm", "kitchen", "cat /listing"}), "a.txt\nb.txt");
  EXPECT_EQ(ok({"run", "--rm", "kitchen", "cat /opt/bin/tool"}), "#!/bin/sh\necho tool");
  EXPECT_EQ(ok({"run", "--rm", "kitchen", "cat /etc/greeting"}), "hello !");
  EXPECT_EQ(inspect("kitchen", "{{.Author}}"), "someone@example.com");
  EXPECT_EQ(inspect("kitchen", "{{.Config.StopSignal}} {{json .Config.Volumes}} {{json .Config.Shell}}"),
            "SIGUSR1 {\"/data\":{}} [\"/bin/sh\",\"-e\",\"-c\"]");
  EXPECT_EQ(inspect("kitchen", "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}"),
            "[\"CMD-SHELL\",\"true\"] 2");  // shell form, as docker
  EXPECT_EQ(inspect("kitchen", "{{json .Config.OnBuild}}"), "[\"RUN echo triggered > /onbuild\"]");
  // The trigger runs in a build FROM this image.
  write("Dockerfile", "FROM kitchen\nCMD [\"cat /onbuild\"]\n");
  auto child = build({"-t", "child"});
  ASSERT_EQ(child.exit_code, 0) << child.out << child.err;
  EXPECT_NE(child.out.find("# Executing 1 build trigger"), std::string::npos) << child.out;
  EXPECT_EQ(ok({"run", "--rm", "child"}), "triggered");
  EXPECT_EQ(inspect("child", "{{json .Config.OnBuild}}"), "null");
}

TEST_F(Build, IndependentStagesRunInParallel) {
  // Each stage waits for the other's mark in a shared cache mount: built one after the other,
  // the first would give up after 20 s and fail the build.
  const char* wait_for = "touch /sync/%s; i=0; while [ ! -f /sync/%s ]; do i=$((i+1)); [ $i -lt 200 ] || exit 1; sleep 0.1; done; echo %s > /mark";
  char a[256], b[256];
  std::snprintf(a, sizeof a, wait_for, "a", "b", "one");
  std::snprintf(b, sizeof b, wait_for, "b", "a", "two");
  write("Dockerfile", std::string("FROM busybox:local AS one\nRUN --mount=type=cache,id=sync,target=/sync ") + a +
                          "\nFROM busybox:local AS two\nRUN --mount=type=cache,id=sync,target=/sync " + b +
                          "\nFROM busybox:local\nCOPY --from=one /mark /one\nCOPY --from=two /mark /two\n");
  auto r = build({"-t", "parallel"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ok({"run", "--rm", "parallel", "cat", "/one", "/two"}), "one\ntwo");
}

TEST_F(Build, DockerfileFromStdinAndScratch) {
  write("hello.txt", "hi\n");
  auto r = berth({"build", "-q", "-t", "fromstdin", "-f", "-", ctx_.string()},
                 "FROM scratch\nCOPY hello.txt /\nCOPY --from=busybox:local /bin/busybox /bin/cat\nCMD [\"/bin/cat\", \"/hello.txt\"]\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ok({"run", "--rm", "fromstdin"}), "hi");
}

TEST_F(Build, RunMountCacheKeepsItsContentsAndTmpfsAndBindWork) {
  write("Dockerfile",
        "FROM busybox:local\n"
        "RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /count\n"
        "RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && test -f /scratch/x\n"
        "RUN --mount=type=bind,source=data,target=/mnt/data cp /mnt/data/in.txt /in.txt\n");
  write("data/in.txt", "bound\n");
  auto first = build({"-t", "mounts"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(ok({"run", "--rm", "mounts", "cat", "/count"}), "1");
  EXPECT_EQ(ok({"run", "--rm", "mounts", "cat", "/in.txt"}), "bound");
  // The mounts are not part of the image.
  EXPECT_EQ(ok({"run", "--rm", "mounts", "sh", "-c", "find /var/cache/app /scratch /mnt/data -mindepth 1 | wc -l"}), "0");
  auto second = build({"--no-cache", "-t", "mounts"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(ok({"run", "--rm", "mounts", "cat", "/count"}), "2");
  // A changed bind source misses the cache from its step.
  write("data/in.txt", "rebound\n");
  auto third = build({"-t", "mounts"});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_EQ(count(third.out, "Using cache"), 2u) << third.out;
  EXPECT_EQ(ok({"run", "--rm", "mounts", "cat", "/in.txt"}), "rebound");
}

TEST_F(Build, CacheFromAnImageStandsInForAnEmptyCache) {
  write("Dockerfile", "FROM busybox:local\nCOPY one.txt /one.txt\nRUN cat /one.txt > /copy.txt\nENV B=2\n");
  write("one.txt", "first\n");
  auto first = build({"-t", "source"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  // No cache entries left: only the tagged image's history can stand in for them.
  ok({"builder", "prune", "-a", "-f"});
  auto from = build({"--cache-from", "source", "--cache-from", "no-such-image", "-t", "fromcache"});
  ASSERT_EQ(from.exit_code, 0) << from.out << from.err;
  EXPECT_EQ(count(from.out, "Using cache"), 3u) << from.out;
  EXPECT_EQ(count(from.out, "Running in"), 0u) << from.out;
  EXPECT_EQ(inspect("fromcache", "{{.Id}}"), inspect("source", "{{.Id}}"));
  EXPECT_EQ(ok({"run", "--rm", "fromcache", "cat", "/copy.txt"}), "first");
  // A changed file misses from its step on, as with the local cache.
  ok({"builder", "prune", "-a", "-f"});
  write("one.txt", "changed\n");
  auto changed = build({"--cache-from", "source", "-t", "changed"});
  ASSERT_EQ(changed.exit_code, 0) << changed.out << changed.err;
  EXPECT_EQ(count(changed.out, "Using cache"), 0u) << changed.out;
  EXPECT_EQ(count(changed.out, "Running in"), 1u) << changed.out;
  EXPECT_EQ(ok({"run", "--rm", "changed", "cat", "/copy.txt"}), "changed");
}

TEST_F(Build, RunMountBindFromAStageAndSecretMountsRefused) {
  write("Dockerfile",
        "FROM busybox:local AS tools\nRUN mkdir /out && echo made > /out/made.txt\n"
        "FROM busybox:local\nRUN --mount=type=bind,from=tools,source=/out,target=/mnt/out cp /mnt/out/made.txt /got.txt\n");
  auto r = build({"-t", "bindfrom"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ok({"run", "--rm", "bindfrom", "cat", "/got.txt"}), "made");
  EXPECT_EQ(ok({"run", "--rm", "bindfrom", "sh", "-c", "ls -A /mnt/out 2>/dev/null | wc -l"}), "0");
  EXPECT_EQ(ok({"ps", "-aq"}), "");
  for (const char* type : {"secret", "ssh"}) {
    write("Dockerfile", std::string("FROM busybox:local\nRUN --mount=type=") + type + ",id=x true\n");
    auto refused = build({});
    EXPECT_NE(refused.exit_code, 0) << refused.out;
    EXPECT_NE((refused.out + refused.err).find(std::string("type=") + type + " is not supported by this berthd"),
              std::string::npos) << refused.out << refused.err;
  }
}

// A loopback HTTP server of files in `dir` (python3's http.server), on a port it picks.
class LoopbackHttp {
 public:
  explicit LoopbackHttp(const fs::path& dir) {
    fs::path port_file = dir.parent_path() / "http.port";
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const char* script =
          "import functools, http.server, os, sys\n"
          "h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])\n"
          "s = http.server.HTTPServer(('127.0.0.1', 0), h)\n"
          "open(sys.argv[2] + '.tmp', 'w').write(str(s.server_port))\n"
          "os.rename(sys.argv[2] + '.tmp', sys.argv[2])\n"
          "s.serve_forever()\n";
      ::execlp("python3", "python3", "-c", script, dir.c_str(), port_file.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream(port_file) >> port_;
  }
  ~LoopbackHttp() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(Build, AddOfAUrlFetchesFromLoopbackAndFailsClearlyOtherwise) {
  fs::path www = dir_.path() / "www";
  fs::create_directories(www);
  std::ofstream(www / "file.txt") << "served\n";
  LoopbackHttp http(www);
  ASSERT_GT(http.port(), 0) << "python3's http.server did not start";
  std::string base = "http://127.0.0.1:" + std::to_string(http.port());
  write("Dockerfile", "FROM busybox:local\nADD " + base + "/file.txt /srv/\nADD " + base + "/file.txt /srv/renamed.txt\n");
  auto r = build({"-t", "fromurl"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ok({"run", "--rm", "fromurl", "cat", "/srv/file.txt"}), "served");
  // As dockerd: a downloaded file is 0600 and never unpacked.
  EXPECT_EQ(ok({"run", "--rm", "fromurl", "stat", "-c", "%a %s", "/srv/renamed.txt"}), "600 7");

  write("Dockerfile", "FROM busybox:local\nADD " + base + "/missing.txt /srv/\n");
  auto missing = build({});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE((missing.out + missing.err).find("404"), std::string::npos) << missing.out << missing.err;

  http.stop();
  write("Dockerfile", "FROM busybox:local\nADD " + base + "/file.txt /srv/\n");
  auto down = build({});
  EXPECT_NE(down.exit_code, 0);
  EXPECT_NE((down.out + down.err).find("cannot connect to 127.0.0.1:" + std::to_string(http.port())), std::string::npos)
      << down.out << down.err;
  // https is fetched too (the TLS cases are in the url_fetch unit tests); nothing listens here.
  write("Dockerfile", "FROM busybox:local\nADD https://127.0.0.1:1/file.txt /srv/\n");
  auto tls = build({});
  EXPECT_NE(tls.exit_code, 0);
  EXPECT_NE((tls.out + tls.err).find("cannot connect to 127.0.0.1:1"), std::string::npos) << tls.out << tls.err;
  EXPECT_EQ(ok({"ps", "-aq"}), "");
}

}  // namespace
