#include "cli/term/signals.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/term/terminal.hpp"

namespace berth::cli {

namespace {
// Wakes the signal thread at shutdown: the process exits as soon as the work is done instead of
// at the thread's next timeout. Never forwarded to a container.
int wakeup_signal() { return SIGRTMIN + 3; }
}  // namespace

SignalThread::SignalThread(std::vector<int> signals, std::function<void(int)> on_signal)
    : signals_(std::move(signals)), on_signal_(std::move(on_signal)) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals_) sigaddset(&set, s);
  sigaddset(&set, wakeup_signal());
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set] {
    while (!stop_) {
      int sig = sigwaitinfo(&set, nullptr);
      if (sig == wakeup_signal()) continue;
      if (sig > 0) on_signal_(sig);
    }
  });
}

SignalThread::~SignalThread() {
  stop_ = true;
  if (thread_.joinable()) {
    pthread_kill(thread_.native_handle(), wakeup_signal());
    thread_.join();
  }
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals_) sigaddset(&set, s);
  sigaddset(&set, wakeup_signal());
  // Drop anything that arrived meanwhile rather than acting on it at unblock time.
  struct timespec zero = {0, 0};
  while (sigtimedwait(&set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "HUP";
    case SIGINT: return "INT";
    case SIGQUIT: return "QUIT";
    case SIGUSR1: return "USR1";
    case SIGUSR2: return "USR2";
    case SIGTERM: return "TERM";
    case SIGALRM: return "ALRM";
    case SIGCONT: return "CONT";
    case SIGTSTP: return "TSTP";
    case SIGTTIN: return "TTIN";
    case SIGTTOU: return "TTOU";
    case SIGVTALRM: return "VTALRM";
    case SIGPROF: return "PROF";
    case SIGPWR: return "PWR";
    case SIGSYS: return "SYS";
    case SIGTRAP: return "TRAP";
    case SIGXCPU: return "XCPU";
    case SIGXFSZ: return "XFSZ";
    default: return "";
  }
}

void die_by_signal(int sig) {
  restore_terminals();
  ::signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::kill(::getpid(), sig);
  std::_Exit(128 + sig);
}

}  // namespace berth::cli
