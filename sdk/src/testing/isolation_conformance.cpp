// The isolation backend conformance suite (see testing/isolation_conformance.hpp): the task
// semantics berthd's container manager relies on, checked through the IsolationBackend interface
// on real containers. The fixture and helpers are in isolation_harness.cpp.
#include "berth/sdk/testing/isolation_conformance.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "case_table.hpp"
#include "isolation_harness.hpp"

namespace berth::sdk::testing {
namespace {

using namespace isolation_suite;

#define ASSERT_OK(expr)                                        \
  switch (0)                                                   \
  case 0:                                                      \
  default:                                                     \
    if (const auto& berth_r_ = (expr); berth_r_.has_value()) { \
    } else                                                     \
      FAIL() << #expr << ": " << berth_r_.error().message << " "

#define EXPECT_CODE(expr, expected)                                                          \
  do {                                                                                       \
    auto&& berth_r_ = (expr);                                                                \
    if (berth_r_.has_value()) {                                                              \
      ADD_FAILURE() << #expr << " succeeded; expected " << error_code_name(expected);        \
    } else {                                                                                 \
      EXPECT_EQ(error_code_name(berth_r_.error().code), error_code_name(expected))           \
          << #expr << ": " << berth_r_.error().message;                                      \
    }                                                                                        \
  } while (0)

const SpecOptions kSleeper = sh("exec sleep 1000");

// ---- lifecycle --------------------------------------------------------------------------------

void info_names_backend(Harness& h) {
  EXPECT_FALSE(h.backend().info().name.empty());
}

void exit_code_is_reported(Harness& h) {
  auto r = h.run("exit7", sh("exit 7"));
  ASSERT_TRUE(r.exit) << "no exit reported";
  EXPECT_EQ(r.exit->exit_code, 7);
  EXPECT_FALSE(r.exit->oom_killed);
  EXPECT_GT(r.exit->exited_at_unix_nano, 0);
  ASSERT_OK(h.backend().state(h.ctx(), "exit7"));
  auto st = h.backend().state(h.ctx(), "exit7");
  EXPECT_EQ(st->status, TaskStatus::kStopped);
  EXPECT_EQ(st->exit_code, 7);
  EXPECT_GT(st->started_at_unix_nano, 0);
  // Exactly once per process.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(h.exits().count("exit7"), 1);
  auto removed = h.backend().remove(h.ctx(), "exit7");
  ASSERT_OK(removed);
  EXPECT_EQ(removed->status, TaskStatus::kStopped);
  EXPECT_EQ(removed->exit_code, 7);
  // Gone: a second remove changes nothing (the core treats kNotFound as done).
  auto again = h.backend().remove(h.ctx(), "exit7");
  if (!again) {
    EXPECT_EQ(error_code_name(again.error().code), error_code_name(ErrorCode::kNotFound));
  }
  EXPECT_CODE(h.backend().state(h.ctx(), "exit7"), ErrorCode::kNotFound);
}

void states_follow_the_task(Harness& h) {
  auto pid = h.create("states", kSleeper);
  ASSERT_OK(pid);
  EXPECT_GT(*pid, 0);
  auto st = h.backend().state(h.ctx(), "states");
  ASSERT_OK(st);
  EXPECT_EQ(st->status, TaskStatus::kCreated);
  EXPECT_EQ(st->pid, *pid);
  ASSERT_OK(h.backend().start(h.ctx(), "states", ""));
  st = h.backend().state(h.ctx(), "states");
  ASSERT_OK(st);
  EXPECT_EQ(st->status, TaskStatus::kRunning);
  auto listed = h.backend().list(h.ctx());
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].id, "states");
  EXPECT_EQ((*listed)[0].status, TaskStatus::kRunning);
  // A running task is not removed from under its process.
  EXPECT_CODE(h.backend().remove(h.ctx(), "states"), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.backend().kill(h.ctx(), "states", SIGKILL, false));
  auto exit = h.exits().wait("states");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 137);
  EXPECT_EQ(exit->pid, *pid);
  ASSERT_OK(h.backend().remove(h.ctx(), "states"));
  EXPECT_CODE(h.backend().state(h.ctx(), "states"), ErrorCode::kNotFound);
}

void output_reaches_every_attach(Harness& h) {
  ASSERT_OK(h.create("output", sh("echo out1; echo err1 >&2; echo out2; printf partial")));
  // Both clients attach before start, as docker run does: each sees all of the output.
  int a = h.attach("output");
  int b = h.attach("output");
  ASSERT_OK(h.backend().start(h.ctx(), "output", ""));
  auto oa = read_stream(a, false);
  auto ob = read_stream(b, false);
  ::close(a);
  ::close(b);
  EXPECT_EQ(oa.out, "out1\nout2\npartial");
  EXPECT_EQ(oa.err, "err1\n");
  EXPECT_TRUE(oa.closed) << "the stream stays open after the process exited";
  EXPECT_EQ(ob.out, oa.out);
  EXPECT_EQ(ob.err, oa.err);
  auto exit = h.exits().wait("output");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0);
}

void stdin_reaches_the_process(Harness& h) {
  ASSERT_OK(h.create("stdin", sh("read line; echo got $line"), StdioSpec{false, true, true}));
  int fd = h.attach("stdin", "", true);
  ASSERT_GE(fd, 0);
  ASSERT_OK(h.backend().start(h.ctx(), "stdin", ""));
  ASSERT_EQ(::write(fd, "abc\n", 4), 4);
  ::shutdown(fd, SHUT_WR);  // stdin's end
  auto out = read_stream(fd, false);
  ::close(fd);
  EXPECT_EQ(out.out, "got abc\n");
  ASSERT_TRUE(h.exits().wait("stdin"));
}

// ---- signals, pause ---------------------------------------------------------------------------

void signals_reach_the_process(Harness& h) {
  ASSERT_OK(h.create("term", sh("trap 'exit 7' TERM; while :; do sleep 0.05; done")));
  ASSERT_OK(h.backend().start(h.ctx(), "term", ""));
  // Until the shell has set its trap, pid 1 without a handler ignores SIGTERM: ask again.
  std::optional<TaskExit> exit;
  for (int i = 0; i < 50 && !exit; ++i) {
    ASSERT_OK(h.backend().kill(h.ctx(), "term", SIGTERM, false));
    exit = h.exits().wait("term", "", 200ms);
  }
  ASSERT_TRUE(exit) << "SIGTERM never reached the process";
  EXPECT_EQ(exit->exit_code, 7);
}

void pause_stops_progress_and_resume_continues(Harness& h) {
  ASSERT_OK(h.create("pause", sh("i=0; while :; do i=$((i+1)); echo $i; sleep 0.01; done")));
  int fd = h.attach("pause");
  ASSERT_OK(h.backend().start(h.ctx(), "pause", ""));
  read_until(fd, "5\n", 5s);
  ASSERT_OK(h.backend().pause(h.ctx(), "pause"));
  auto st = h.backend().state(h.ctx(), "pause");
  ASSERT_OK(st);
  EXPECT_EQ(st->status, TaskStatus::kPaused);
  read_until(fd, "never", 200ms);  // what was in flight
  EXPECT_EQ(read_until(fd, "never", 500ms), "") << "a paused task made progress";
  // No exec into a frozen task (runc's rule; the core reports it as a conflict).
  EXPECT_CODE(h.exec("pause", "x", sh("true")), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.backend().resume(h.ctx(), "pause"));
  st = h.backend().state(h.ctx(), "pause");
  ASSERT_OK(st);
  EXPECT_EQ(st->status, TaskStatus::kRunning);
  EXPECT_FALSE(read_until(fd, "\n", 5s).empty()) << "no output after resume";
  ::close(fd);
  h.finish("pause");
}

void kill_of_a_paused_task_lands(Harness& h) {
  ASSERT_OK(h.create("pkill", kSleeper));
  ASSERT_OK(h.backend().start(h.ctx(), "pkill", ""));
  ASSERT_OK(h.backend().pause(h.ctx(), "pkill"));
  ASSERT_OK(h.backend().kill(h.ctx(), "pkill", SIGKILL, false));
  auto exit = h.exits().wait("pkill");
  ASSERT_TRUE(exit) << "a SIGKILL to a paused task never landed";
  EXPECT_EQ(exit->exit_code, 137);
}

// ---- exec, terminals ----------------------------------------------------------------------------

void exec_runs_inside_with_its_own_exit(Harness& h) {
  ASSERT_OK(h.create("execs", kSleeper));
  ASSERT_OK(h.backend().start(h.ctx(), "execs", ""));
  auto pid = h.exec("execs", "e1", sh("echo pid=$$; hostname; echo oops >&2; exit 3"));
  ASSERT_OK(pid);
  EXPECT_GT(*pid, 0);
  int fd = h.attach("execs", "e1");
  ASSERT_OK(h.backend().start(h.ctx(), "execs", "e1"));
  auto out = read_stream(fd, false);
  ::close(fd);
  EXPECT_TRUE(out.closed);
  EXPECT_NE(out.out.find("pid="), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("pid=1\n"), std::string::npos) << "the exec is the task's pid 1: " << out.out;
  EXPECT_NE(out.out.find("conformance\n"), std::string::npos) << "not in the task's UTS namespace: " << out.out;
  EXPECT_EQ(out.err, "oops\n");
  auto exit = h.exits().wait("execs", "e1");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 3);
  EXPECT_EQ(exit->pid, *pid);
  auto st = h.backend().state(h.ctx(), "execs");
  ASSERT_OK(st);
  EXPECT_EQ(st->status, TaskStatus::kRunning) << "an exec's exit stopped its task";
  EXPECT_EQ(h.exits().count("execs"), 0);
  // A created exec that never started dies with its task, and its exit is reported too.
  ASSERT_OK(h.exec("execs", "e2", kSleeper));
  ASSERT_OK(h.backend().kill(h.ctx(), "execs", SIGKILL, false));
  exit = h.exits().wait("execs", "e2");
  ASSERT_TRUE(exit) << "no exit reported for a held exec of a killed task";
  EXPECT_EQ(exit->exit_code, 137);
  ASSERT_TRUE(h.exits().wait("execs"));
}

void terminal_resize_before_start_is_applied(Harness& h) {
  SpecOptions o = sh("tty; stty size; echo done");
  o.terminal = true;
  ASSERT_OK(h.create("tty", o));
  int fd = h.attach("tty");
  ASSERT_OK(h.backend().resize(h.ctx(), "tty", "", 50, 120));
  ASSERT_OK(h.backend().start(h.ctx(), "tty", ""));
  auto out = read_stream(fd, true);
  ::close(fd);
  EXPECT_NE(out.out.find("/dev/pts/"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("50 120\r\n"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("done\r\n"), std::string::npos) << "a terminal translates \\n: " << out.out;
  ASSERT_TRUE(h.exits().wait("tty"));
}

void terminal_resize_while_running(Harness& h) {
  SpecOptions o = sh("while [ \"$(stty size)\" != '33 77' ]; do sleep 0.05; done; echo resized");
  o.terminal = true;
  ASSERT_OK(h.create("ttyrun", o));
  int fd = h.attach("ttyrun");
  ASSERT_OK(h.backend().start(h.ctx(), "ttyrun", ""));
  std::this_thread::sleep_for(200ms);
  ASSERT_OK(h.backend().resize(h.ctx(), "ttyrun", "", 33, 77));
  auto out = read_stream(fd, true, 10s);
  ::close(fd);
  EXPECT_NE(out.out.find("resized"), std::string::npos) << out.out;
  // An exec's own terminal, sized before its start.
  ASSERT_OK(h.create("ttyexec", kSleeper));
  ASSERT_OK(h.backend().start(h.ctx(), "ttyexec", ""));
  SpecOptions e = sh("stty size");
  e.terminal = true;
  ASSERT_OK(h.exec("ttyexec", "t1", e));
  ASSERT_OK(h.backend().resize(h.ctx(), "ttyexec", "t1", 40, 100));
  int efd = h.attach("ttyexec", "t1");
  ASSERT_OK(h.backend().start(h.ctx(), "ttyexec", "t1"));
  auto eout = read_stream(efd, true);
  ::close(efd);
  EXPECT_NE(eout.out.find("40 100\r\n"), std::string::npos) << eout.out;
  ASSERT_TRUE(h.exits().wait("ttyexec", "t1"));
}

// ---- stats ------------------------------------------------------------------------------------

void stats_have_the_cgroup_shape(Harness& h) {
  SpecOptions o = kSleeper;
  o.resources_json = R"({"pids":{"limit":50},"memory":{"limit":67108864}})";
  ASSERT_OK(h.create("stats", o));
  ASSERT_OK(h.backend().start(h.ctx(), "stats", ""));
  auto stats = h.backend().stats(h.ctx(), "stats");
  ASSERT_OK(stats);
  ASSERT_TRUE(stats->cpu) << "no cpu group";
  EXPECT_TRUE(stats->cpu->usage) << "no cpu usage";
  EXPECT_GT(stats->cpu->online_cpus, 0U);
  EXPECT_GT(stats->cpu->system, 0U) << "no host cpu time to compute a percentage against";
  ASSERT_TRUE(stats->memory) << "no memory group";
  EXPECT_GT(stats->memory->usage, 0U);
  EXPECT_EQ(stats->memory->limit, 64U << 20);
  ASSERT_TRUE(stats->pids) << "no pids group";
  EXPECT_GE(stats->pids->current, 1U);
  EXPECT_EQ(stats->pids->limit, 50U);
  for (const auto& n : stats->networks) EXPECT_NE(n.name, "lo") << "lo is not reported";
  // update changes the limits stats report.
  ASSERT_OK(h.backend().update(h.ctx(), "stats", R"({"pids":{"limit":7},"memory":{"limit":33554432}})"));
  stats = h.backend().stats(h.ctx(), "stats");
  ASSERT_OK(stats);
  ASSERT_TRUE(stats->pids && stats->memory);
  EXPECT_EQ(stats->pids->limit, 7U);
  EXPECT_EQ(stats->memory->limit, 32U << 20);
  auto pids = h.backend().pids(h.ctx(), "stats");
  ASSERT_OK(pids);
  EXPECT_EQ(pids->size(), 1U);
  h.finish("stats");
}

// ---- re-adoption, cleanup, errors ---------------------------------------------------------------

void running_task_is_readopted_by_a_new_instance(Harness& h) {
  auto pid = h.create("adopt", kSleeper);
  ASSERT_OK(pid);
  ASSERT_OK(h.backend().start(h.ctx(), "adopt", ""));
  ASSERT_OK(h.create("quick", sh("sleep 0.3; exit 9")));
  ASSERT_OK(h.backend().start(h.ctx(), "quick", ""));
  // The host goes away (berthd restarts); its tasks stay. "quick" exits meanwhile.
  h.recreate();
  ASSERT_TRUE(::kill(*pid, 0) == 0) << "the task died with the backend instance";
  std::map<std::string, TaskState> by_id;
  for (int i = 0; i < 100; ++i) {
    auto listed = h.backend().list(h.ctx());
    ASSERT_OK(listed);
    for (const auto& t : *listed) by_id[t.id] = t;
    if (by_id["quick"].status == TaskStatus::kStopped) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(by_id["adopt"].status, TaskStatus::kRunning);
  EXPECT_EQ(by_id["adopt"].pid, *pid);
  EXPECT_EQ(by_id["quick"].status, TaskStatus::kStopped);
  EXPECT_EQ(by_id["quick"].exit_code, 9) << "an exit while the host was away is kept for list()";
  // The new instance watches the adopted task: its exit reaches the sink once.
  ASSERT_OK(h.backend().kill(h.ctx(), "adopt", SIGKILL, false));
  auto exit = h.exits().wait("adopt");
  ASSERT_TRUE(exit) << "the adopted task's exit was not reported";
  EXPECT_EQ(exit->exit_code, 137);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(h.exits().count("adopt"), 1);
}

void remove_leaves_no_process_mount_or_cgroup(Harness& h) {
  ASSERT_OK(h.create("clean", kSleeper));
  ASSERT_OK(h.backend().start(h.ctx(), "clean", ""));
  ASSERT_OK(h.exec("clean", "e", kSleeper));
  ASSERT_OK(h.backend().start(h.ctx(), "clean", "e"));
  h.finish("clean");
  for (const auto& leak : h.leaks()) ADD_FAILURE() << "left behind after remove: " << leak;
}

void remove_of_a_created_task_kills_it(Harness& h) {
  ASSERT_OK(h.create("held", kSleeper));
  auto removed = h.backend().remove(h.ctx(), "held");
  ASSERT_OK(removed);
  EXPECT_EQ(removed->status, TaskStatus::kStopped);
  auto exit = h.exits().wait("held");
  ASSERT_TRUE(exit) << "the held process's end was not reported";
  EXPECT_EQ(exit->exit_code, 137);
  for (const auto& leak : h.leaks()) ADD_FAILURE() << "left behind after remove: " << leak;
}

void unknown_task_is_not_found(Harness& h) {
  EXPECT_CODE(h.backend().state(h.ctx(), "nosuchtask"), ErrorCode::kNotFound);
  EXPECT_CODE(h.backend().kill(h.ctx(), "nosuchtask", SIGKILL, false), ErrorCode::kNotFound);
  EXPECT_CODE(h.backend().start(h.ctx(), "nosuchtask", ""), ErrorCode::kNotFound);
}

void invalid_spec_is_invalid_argument(Harness& h) {
  auto spec = h.create_spec("bad", sh("true"));
  spec.oci_json = R"({"process":{"args":[]}})";
  EXPECT_CODE(h.backend().create(h.ctx(), "bad", spec), ErrorCode::kInvalidArgument);
  spec.oci_json = "not json";
  EXPECT_CODE(h.backend().create(h.ctx(), "bad", spec), ErrorCode::kInvalidArgument);
  // Nothing was made.
  auto listed = h.backend().list(h.ctx());
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
}

constexpr suite::Case<Harness> kCases[] = {
    {"InfoNamesBackend", &info_names_backend},
    {"ExitCodeIsReported", &exit_code_is_reported},
    {"StatesFollowTheTask", &states_follow_the_task},
    {"OutputReachesEveryAttach", &output_reaches_every_attach},
    {"StdinReachesTheProcess", &stdin_reaches_the_process},
    {"SignalsReachTheProcess", &signals_reach_the_process},
    {"PauseStopsProgressAndResumeContinues", &pause_stops_progress_and_resume_continues},
    {"KillOfAPausedTaskLands", &kill_of_a_paused_task_lands},
    {"ExecRunsInsideWithItsOwnExit", &exec_runs_inside_with_its_own_exit},
    {"TerminalResizeBeforeStartIsApplied", &terminal_resize_before_start_is_applied},
    {"TerminalResizeWhileRunning", &terminal_resize_while_running},
    {"StatsHaveTheCgroupShape", &stats_have_the_cgroup_shape},
    {"RunningTaskIsReadoptedByANewInstance", &running_task_is_readopted_by_a_new_instance},
    {"RemoveLeavesNoProcessMountOrCgroup", &remove_leaves_no_process_mount_or_cgroup},
    {"RemoveOfACreatedTaskKillsIt", &remove_of_a_created_task_kills_it},
    {"UnknownTaskIsNotFound", &unknown_task_is_not_found},
    {"InvalidSpecIsInvalidArgument", &invalid_spec_is_invalid_argument},
};

}  // namespace

bool register_isolation_conformance(const char* suite_name, IsolationFixtureFactory factory,
                                    const char* file, int line) {
  auto registration = std::make_shared<const Registration>(Registration{std::move(factory)});
  return suite::register_cases(suite_name, registration, kCases, file, line);
}

std::vector<std::string> isolation_conformance_cases() { return suite::case_names(kCases); }

}  // namespace berth::sdk::testing
