#pragma once
// The stack binary as a user runs it, for the stack's tests: a data directory
// and a MariaDB port of the test's own, the default ports otherwise (the
// tests are exclusive), and the processes the stack started found by parent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/http/client.h"
#include "testing/fixtures/process.h"

namespace op {

class StackFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("stk");
    mysql_port_ = testing::FreePort();
  }
  void TearDown() override { testing::RemoveTree(dir_); }
  std::unique_ptr<testing::Process> Launch(const std::string& log, std::vector<std::string> args = {},
                                           std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), testing::Runfile("ops/stack"));
    env["STACK_DATA_DIR"] = dir_ + "/data";
    env["STACK_MYSQL_PORT"] = std::to_string(mysql_port_);
    auto p = std::make_unique<testing::Process>(testing::Process::Options{args, env, dir_ + "/" + log});
    p->Start();
    return p;
  }
  static bool Up(testing::Process& p, std::chrono::seconds timeout = std::chrono::seconds(180)) {
    return testing::WaitUntil([&] { return p.Output().find("Order platform is up") != std::string::npos || !p.Running(); },
                              timeout, std::chrono::milliseconds(100)) &&
           p.Running();
  }
  // The child of `parent` whose command line holds every one of `parts`; 0 when none.
  static pid_t ChildWith(pid_t parent, const std::vector<std::string>& parts) {
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(e.path() / "stat");
      std::string line;
      std::getline(stat, line);
      auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      std::string state;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid != parent) continue;
      std::ifstream in(e.path() / "cmdline");
      std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      bool all = true;
      for (const auto& p : parts) all &= cmd.find(p) != std::string::npos;
      if (all) return pid_t(std::stol(name));
    }
    return 0;
  }
  std::string dir_;
  uint16_t mysql_port_ = 0;
  http::HttpClient http_;
};

}  // namespace op
