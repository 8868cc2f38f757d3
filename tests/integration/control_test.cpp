// The control socket and the `shadowai` CLI against a real ControlServer: the test plays the daemon
// with a handler that records what reaches it (the injection point the daemon itself implements),
// makes its own cgroups to name, and runs the real CLI as root, as nobody, and as a member of the
// control group (a private /etc/group inside the test's mount namespace; the host's is never touched).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "control/control_client.h"
#include "control/control_server.h"
#include "support/child_process.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace shadowai::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTestGroup = "shadowai-ctl-test";
constexpr uid_t kNobody = 65534;

// The `shadowai` binary, from the build. Empty: the CLI tests skip and say why.
std::string cliBinary() {
#ifdef SHADOWAI_CLI_BINARY
  return SHADOWAI_CLI_BINARY;
#else
  return "";
#endif
}

#define REQUIRE_CLI()                                                                                        \
  do {                                                                                                       \
    if (cliBinary().empty()) GTEST_SKIP() << "built without SHADOWAI_CLI_BINARY: no CLI to run"; \
  } while (0)

class RecordingHandler : public ControlHandler {
 public:
  struct Call {
    std::string cgroup;
    std::optional<Mode> mode;
    PeerCredentials who;
  };

  Result<Json> setMode(const std::string& cgroupPath, std::optional<Mode> mode, const PeerCredentials& who) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({cgroupPath, mode, who});
    if (!failWith_.empty()) return makeError(failWith_);
    return Json{{"effective_mode", mode ? std::string(toString(*mode)) : std::string("detect")}};
  }

  Json status() override {
    std::lock_guard lock(mutex_);
    return status_;
  }

  Result<Json> reloadPolicy(const PeerCredentials&) override { return makeError("no policy in this test"); }

  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  void failWith(std::string message) {
    std::lock_guard lock(mutex_);
    failWith_ = std::move(message);
  }
  void setStatus(Json status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Call> calls_;
  std::string failWith_;
  Json status_ = Json::object();
};

struct CliRun {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// A raw client, for what the CLI never sends.
Fd connectRaw(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) return Fd();
  timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Reads until a newline or end of stream; "" at once-closed.
std::string readLine(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') return line;
    line += c;
  }
  return line;
}

// The server closed: end of stream, or a reset when it closed with our bytes still unread.
bool readsEndOfStream(int fd) {
  char c;
  ssize_t n = ::read(fd, &c, 1);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    auto dir = TempDir::create("shadowai-control-test");
    ASSERT_TRUE(dir) << dir.error().describe();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    // Other identities must reach the socket below it.
    ASSERT_EQ(::chmod(dir_->path().c_str(), 0755), 0);
    auto root = findCgroup2Mount();
    ASSERT_TRUE(root) << root.error().describe();
    cgroup2Root_ = *root;
    auto cgroup = TestCgroup::create("ctl");
    ASSERT_TRUE(cgroup) << cgroup.error().describe();
    cgroup_ = std::make_unique<TestCgroup>(std::move(*cgroup));
  }

  void TearDown() override {
    server_.reset();
    if (groupMounted_) ::umount2("/etc/group", MNT_DETACH);
  }

  // The socket in a directory the server must create itself.
  std::string socketPath() const { return dir_->path() + "/run/control.sock"; }

  ControlServerOptions defaultOptions() const {
    ControlServerOptions options;
    options.socketPath = socketPath();
    options.cgroup2Root = cgroup2Root_;
    options.controlGroup = std::nullopt;
    return options;
  }

  void startServer(ControlServerOptions options) {
    auto server = ControlServer::start(std::move(options), handler_);
    ASSERT_TRUE(server) << server.error().describe();
    server_ = std::move(*server);
  }
  void startServer() { startServer(defaultOptions()); }

  // /etc/group plus the test's control group, bind-mounted over /etc/group inside this test's own
  // mount namespace only.
  void installTestGroup() {
    ASSERT_TRUE(insideTestNamespaces()) << "refusing to touch /etc/group outside the test's mount namespace";
    auto current = readFile("/etc/group");
    ASSERT_TRUE(current) << current.error().describe();
    gid_t gid = 61000;
    while (::getgrgid(gid) != nullptr) ++gid;
    testGid_ = gid;
    const std::string copy = dir_->filePath("group");
    std::ofstream(copy) << *current << (current->empty() || current->back() == '\n' ? "" : "\n") << kTestGroup
                        << ":x:" << gid << ":\n";
    ASSERT_EQ(::chmod(copy.c_str(), 0644), 0);
    ASSERT_EQ(::mount(copy.c_str(), "/etc/group", nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
    groupMounted_ = true;
    struct group* entry = ::getgrnam(kTestGroup);
    ASSERT_NE(entry, nullptr);
    ASSERT_EQ(entry->gr_gid, gid);
  }

  // Runs the CLI with --socket first; IDENTITY is a setpriv prefix ({} for root).
  CliRun runCli(std::vector<std::string> args, std::vector<std::string> identity = {}) {
    std::vector<std::string> argv = identity;
    argv.push_back(cliBinary());
    argv.push_back("--socket");
    argv.push_back(socketPath());
    argv.insert(argv.end(), args.begin(), args.end());
    CliRun run;
    auto child = ChildProcess::spawn(argv);
    EXPECT_TRUE(child) << child.error().describe();
    if (!child) return run;
    auto code = child->wait(30s);
    EXPECT_TRUE(code) << code.error().describe();
    run.exitCode = code ? *code : -1;
    run.out = child->stdoutText();
    run.err = child->stderrText();
    return run;
  }

  static std::vector<std::string> asNobody(const std::vector<std::string>& groups = {}) {
    std::vector<std::string> prefix = {"setpriv", "--reuid=" + std::to_string(kNobody),
                                       "--regid=" + std::to_string(kNobody)};
    if (groups.empty()) {
      prefix.push_back("--clear-groups");
    } else {
      std::string list;
      for (const auto& group : groups) list += (list.empty() ? "" : ",") + group;
      prefix.push_back("--groups=" + list);
    }
    return prefix;
  }

  Result<Json> request(const ControlRequest& request) { return sendControlRequest(socketPath(), request, 10s); }

  std::unique_ptr<TempDir> dir_;
  std::string cgroup2Root_;
  std::unique_ptr<TestCgroup> cgroup_;
  RecordingHandler handler_;
  std::unique_ptr<ControlServer> server_;
  bool groupMounted_ = false;
  gid_t testGid_ = 0;
};

TEST_F(ControlTest, SetModeByCgroupReachesHandlerWithRelativePath) {
  startServer();
  auto reply = request(SetModeRequest{Mode::kEnforce, cgroup_->relativePath(), std::nullopt});
  ASSERT_TRUE(reply) << reply.error().describe();
  EXPECT_EQ((*reply)["cgroup"], cgroup_->relativePath());
  EXPECT_EQ((*reply)["mode"], "enforce");
  EXPECT_EQ((*reply)["effective_mode"], "enforce");  // the handler's own field

  // The same cgroup named by its absolute path under the mount point, and set back to inherit.
  auto inherit = request(SetModeRequest{std::nullopt, cgroup_->path() + "/", std::nullopt});
  ASSERT_TRUE(inherit) << inherit.error().describe();

  auto calls = handler_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].cgroup, cgroup_->relativePath());
  EXPECT_EQ(calls[0].mode, Mode::kEnforce);
  EXPECT_EQ(calls[0].who.uid, 0u);
  EXPECT_EQ(calls[0].who.pid, ::getpid());
  EXPECT_EQ(calls[1].cgroup, cgroup_->relativePath());
  EXPECT_EQ(calls[1].mode, std::nullopt);
}

TEST_F(ControlTest, CliEnforceByCgroup) {
  REQUIRE_CLI();
  startServer();
  CliRun run = runCli({"enforce", "--cgroup", cgroup_->relativePath()});
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, cgroup_->relativePath() + ": enforce\n");
  EXPECT_EQ(run.err, "");
  auto calls = handler_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].cgroup, cgroup_->relativePath());
  EXPECT_EQ(calls[0].mode, Mode::kEnforce);

  run = runCli({"off", "--cgroup", cgroup_->path()});
  EXPECT_EQ(run.exitCode, 0) << run.err;
  run = runCli({"inherit", "--cgroup", cgroup_->relativePath()});
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, cgroup_->relativePath() + ": inherit (now detect, from its nearest ancestor with a mode)\n");
  calls = handler_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].cgroup, cgroup_->relativePath());
  EXPECT_EQ(calls[1].mode, Mode::kOff);
  EXPECT_EQ(calls[2].mode, std::nullopt);
}

TEST_F(ControlTest, UnitResolvesToItsCgroup) {
  // Unique per test process: tests run side by side and a second cgroup of the name would be ambiguous.
  const std::string unit = "shadowai-test-etl-" + std::to_string(::getpid()) + ".service";
  auto child = cgroup_->createChild(unit);
  ASSERT_TRUE(child) << child.error().describe();
  startServer();

  auto reply = request(SetModeRequest{Mode::kDetect, std::nullopt, unit});
  ASSERT_TRUE(reply) << reply.error().describe();
  EXPECT_EQ((*reply)["unit"], unit);
  EXPECT_EQ((*reply)["cgroup"], child->relativePath());

  if (!cliBinary().empty()) {
    CliRun run = runCli({"enforce", "--unit", unit});
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(run.out, unit + " (" + child->relativePath() + "): enforce\n");
  }
  auto calls = handler_.calls();
  ASSERT_GE(calls.size(), 1u);
  for (const auto& call : calls) EXPECT_EQ(call.cgroup, child->relativePath());
  EXPECT_EQ(calls[0].mode, Mode::kDetect);
}

TEST_F(ControlTest, UnknownCgroupAndUnitAreOneLineErrors) {
  startServer();
  const std::string missingCgroup = cgroup_->relativePath() + "/nope";
  const std::string missingUnit = "shadowai-test-nope-" + std::to_string(::getpid()) + ".service";

  auto cgroup = request(SetModeRequest{Mode::kEnforce, missingCgroup, std::nullopt});
  ASSERT_FALSE(cgroup);
  EXPECT_EQ(cgroup.error().describe(),
            "unknown cgroup " + missingCgroup + ": no cgroup " + missingCgroup + " under " + cgroup2Root_);
  auto unit = request(SetModeRequest{Mode::kEnforce, std::nullopt, missingUnit});
  ASSERT_FALSE(unit);
  EXPECT_EQ(unit.error().describe(),
            "unknown unit " + missingUnit + ": no cgroup named " + missingUnit + " under " + cgroup2Root_);
  auto badName = request(SetModeRequest{Mode::kEnforce, std::nullopt, "cron.timer"});
  ASSERT_FALSE(badName);
  EXPECT_THAT(badName.error().describe(), StartsWith("bad unit name cron.timer: "));

  if (!cliBinary().empty()) {
    CliRun run = runCli({"enforce", "--cgroup", missingCgroup});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(run.err, "shadowai: unknown cgroup " + missingCgroup + ": no cgroup " + missingCgroup + " under " +
                           cgroup2Root_ + "\n");
    run = runCli({"detect", "--unit", missingUnit});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_THAT(run.err, StartsWith("shadowai: unknown unit " + missingUnit + ": "));
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1);
  }
  EXPECT_TRUE(handler_.calls().empty());
}

TEST_F(ControlTest, OutsideTheGovernedSubtreeIsRefused) {
  auto inside = cgroup_->createChild("inside");
  ASSERT_TRUE(inside) << inside.error().describe();
  ControlServerOptions options = defaultOptions();
  options.governedCgroup = cgroup_->relativePath();
  startServer(options);

  auto outside = request(SetModeRequest{Mode::kEnforce, "/", std::nullopt});
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().describe(),
            "cgroup / is outside the subtree shadowaid governs (" + cgroup_->relativePath() + ")");
  EXPECT_TRUE(request(SetModeRequest{Mode::kEnforce, inside->relativePath(), std::nullopt}));
  ASSERT_EQ(handler_.calls().size(), 1u);
  EXPECT_EQ(handler_.calls()[0].cgroup, inside->relativePath());
}

TEST_F(ControlTest, HandlerErrorsReachTheUser) {
  startServer();
  handler_.failWith("cannot update the mode map: Operation not permitted");
  auto reply = request(SetModeRequest{Mode::kEnforce, cgroup_->relativePath(), std::nullopt});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().describe(), "cannot update the mode map: Operation not permitted");
  if (!cliBinary().empty()) {
    CliRun run = runCli({"enforce", "--cgroup", cgroup_->relativePath()});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_EQ(run.err, "shadowai: cannot update the mode map: Operation not permitted\n");
  }
}

TEST_F(ControlTest, StatusAsJsonAndAsTable) {
  const Json status = Json::parse(R"({"version": "0.1.0", "pid": 77, "uptime_seconds": 61,
      "failure_mode": "closed", "proxy": {"running": true, "port": 15443, "accepted": 5},
      "modes": [{"cgroup": "/", "mode": "detect", "own": false},
                {"cgroup": "/system.slice/billing-etl.service", "mode": "enforce", "own": true}]})");
  handler_.setStatus(status);
  startServer();
  auto reply = request(StatusRequest{});
  ASSERT_TRUE(reply) << reply.error().describe();
  EXPECT_EQ((*reply)["status"], status);

  REQUIRE_CLI();
  CliRun json = runCli({"status", "--json"});
  EXPECT_EQ(json.exitCode, 0) << json.err;
  EXPECT_EQ(Json::parse(json.out), status);
  CliRun table = runCli({"status"});
  EXPECT_EQ(table.exitCode, 0) << table.err;
  EXPECT_THAT(table.out, StartsWith("shadowaid 0.1.0, pid 77, up 1m 1s\n"));
  EXPECT_THAT(table.out, HasSubstr("proxy:\n"));
  EXPECT_THAT(table.out, HasSubstr("  accepted  5\n"));
  EXPECT_THAT(table.out, HasSubstr("/system.slice/billing-etl.service  enforce  set"));
  // --socket may also follow the subcommand.
  std::vector<std::string> argv = {cliBinary(), "status", "--json", "--socket", socketPath()};
  auto child = ChildProcess::spawn(argv);
  ASSERT_TRUE(child) << child.error().describe();
  auto code = child->wait(30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << child->describeOutput();
}

TEST_F(ControlTest, DaemonNotRunning) {
  auto reply = request(StatusRequest{});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().describe(), "shadowaid is not running (no control socket at " + socketPath() + ")");

  if (!cliBinary().empty()) {
    CliRun run = runCli({"enforce", "--cgroup", cgroup_->relativePath()});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(run.err, "shadowai: shadowaid is not running (no control socket at " + socketPath() + ")\n");
  }

  // A socket file left behind by a daemon that died: nobody answers.
  startServer();
  const std::string path = socketPath();
  const std::string stale = dir_->filePath("stale.sock");
  {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, stale.data(), stale.size());
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  }
  auto staleReply = sendControlRequest(stale, StatusRequest{}, 5s);
  ASSERT_FALSE(staleReply);
  EXPECT_EQ(staleReply.error().describe(), "shadowaid is not running (nothing answers on " + stale + ")");
}

TEST_F(ControlTest, StopRemovesTheSocketAndAStaleOneIsReplaced) {
  startServer();
  struct stat info {};
  ASSERT_EQ(::stat(socketPath().c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);  // no control group: root only
  ASSERT_EQ(::stat(fs::path(socketPath()).parent_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);

  server_->stop();
  EXPECT_FALSE(fs::exists(socketPath()));
  EXPECT_THAT(request(StatusRequest{}).error().describe(), StartsWith("shadowaid is not running"));

  // A socket file nobody answers on (a daemon killed with -9) does not stop the next start.
  {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socketPath().data(), socketPath().size());
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  }
  ASSERT_TRUE(fs::exists(socketPath()));
  server_.reset();
  startServer();
  EXPECT_TRUE(request(StatusRequest{})) << "the restarted server answers";
}

TEST_F(ControlTest, SecondServerOnALiveSocketRefusesToStart) {
  startServer();
  RecordingHandler other;
  auto second = ControlServer::start(defaultOptions(), other);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().describe(), "another shadowaid is running on " + socketPath());
  EXPECT_TRUE(request(StatusRequest{})) << "the first server still answers";

  // Something else listening there (not holding our lock) is live too, and is left alone.
  const std::string foreign = dir_->filePath("foreign.sock");
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, foreign.data(), foreign.size());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  ControlServerOptions options = defaultOptions();
  options.socketPath = foreign;
  auto third = ControlServer::start(options, other);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().describe(), "another shadowaid is running on " + foreign);
  EXPECT_TRUE(fs::exists(foreign));

  // And a path that is not a socket at all is never removed.
  const std::string regular = dir_->filePath("regular");
  std::ofstream(regular) << "keep me";
  options.socketPath = regular;
  auto fourth = ControlServer::start(options, other);
  ASSERT_FALSE(fourth);
  EXPECT_EQ(fourth.error().describe(), regular + " exists and is not a socket; not touching it");
  EXPECT_TRUE(fs::exists(regular));
}

TEST_F(ControlTest, NobodyIsRefused) {
  REQUIRE_CLI();
  installTestGroup();
  ControlServerOptions options = defaultOptions();
  options.controlGroup = kTestGroup;
  startServer(options);
  struct stat info {};
  ASSERT_EQ(::stat(socketPath().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  EXPECT_EQ(info.st_gid, testGid_);

  // The socket file's permissions stop nobody first...
  CliRun run = runCli({"enforce", "--cgroup", cgroup_->relativePath()}, asNobody());
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_EQ(run.err, "shadowai: permission denied: cannot connect to " + socketPath() +
                         " (run as root or as a member of group " + kTestGroup + ")\n");

  // ...and with the file opened up by mistake, the daemon's own check still does.
  ASSERT_EQ(::chmod(socketPath().c_str(), 0666), 0);
  run = runCli({"enforce", "--cgroup", cgroup_->relativePath()}, asNobody());
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_THAT(run.err, StartsWith("shadowai: permission denied: uid 65534 (pid "));
  EXPECT_THAT(run.err, HasSubstr(std::string(") is neither root nor in group ") + kTestGroup +
                                 " (run as root or as a member of group " + kTestGroup + ")\n"));
  run = runCli({"status"}, asNobody());
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_THAT(run.err, StartsWith("shadowai: permission denied: "));
  EXPECT_TRUE(handler_.calls().empty());
}

TEST_F(ControlTest, ControlGroupMembersAreAllowed) {
  REQUIRE_CLI();
  installTestGroup();
  ControlServerOptions options = defaultOptions();
  options.controlGroup = kTestGroup;
  startServer(options);

  // A supplementary member...
  CliRun run = runCli({"enforce", "--cgroup", cgroup_->relativePath()}, asNobody({std::to_string(testGid_)}));
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, cgroup_->relativePath() + ": enforce\n");
  // ...and one whose primary group it is.
  run = runCli({"detect", "--cgroup", cgroup_->relativePath()},
               {"setpriv", "--reuid=" + std::to_string(kNobody), "--regid=" + std::to_string(testGid_), "--clear-groups"});
  EXPECT_EQ(run.exitCode, 0) << run.err;

  auto calls = handler_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].who.uid, kNobody);
  EXPECT_EQ(calls[0].mode, Mode::kEnforce);
  EXPECT_EQ(calls[1].who.uid, kNobody);
  EXPECT_EQ(calls[1].who.gid, testGid_);
  EXPECT_EQ(calls[1].mode, Mode::kDetect);
}

TEST_F(ControlTest, MalformedAndOversizedRequestsGetErrorReplies) {
  startServer();
  Fd client = connectRaw(socketPath());
  ASSERT_TRUE(client);
  const std::string garbage = "this is not json\n";
  ASSERT_EQ(::send(client.get(), garbage.data(), garbage.size(), MSG_NOSIGNAL), static_cast<ssize_t>(garbage.size()));
  EXPECT_EQ(readLine(client.get()), R"({"error":"malformed request: not a JSON document","ok":false})");
  // The connection is still usable for the next request.
  const std::string status = "{\"command\":\"status\"}\n";
  ASSERT_EQ(::send(client.get(), status.data(), status.size(), MSG_NOSIGNAL), static_cast<ssize_t>(status.size()));
  EXPECT_EQ(readLine(client.get()), R"({"ok":true,"status":{}})");

  Fd big = connectRaw(socketPath());
  ASSERT_TRUE(big);
  const std::string huge(kMaxControlLineBytes + 100, 'x');
  (void)::send(big.get(), huge.data(), huge.size(), MSG_NOSIGNAL);  // the server may close before the end
  EXPECT_EQ(readLine(big.get()), R"x({"error":"request too large (limit 65536 bytes)","ok":false})x");
  EXPECT_TRUE(readsEndOfStream(big.get()));
  EXPECT_TRUE(request(StatusRequest{})) << "the server survived";
}

TEST_F(ControlTest, SilentClientsTimeOutAndDoNotBlockOthers) {
  ControlServerOptions options = defaultOptions();
  options.requestTimeout = 3s;
  startServer(options);

  const auto start = std::chrono::steady_clock::now();
  std::vector<Fd> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(connectRaw(socketPath()));
    ASSERT_TRUE(silent.back());
  }
  Fd partial = connectRaw(socketPath());
  ASSERT_TRUE(partial);
  ASSERT_EQ(::send(partial.get(), "{\"command\":", 11, MSG_NOSIGNAL), 11);  // never a newline

  // Others are served meanwhile, well before the silent ones time out.
  EXPECT_TRUE(request(StatusRequest{}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  // The silent ones are disconnected after the timeout, not kept for ever.
  EXPECT_TRUE(readsEndOfStream(partial.get()));
  for (const Fd& fd : silent) EXPECT_TRUE(readsEndOfStream(fd.get()));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 3s);
  EXPECT_LT(elapsed, 9s);  // connectRaw's read timeout is 10s
}

TEST_F(ControlTest, ConnectionLimit) {
  ControlServerOptions options = defaultOptions();
  options.maxConnections = 3;
  startServer(options);
  std::vector<Fd> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connectRaw(socketPath()));
    ASSERT_TRUE(held.back());
  }
  // Let the server accept them before the next one arrives.
  std::this_thread::sleep_for(100ms);
  auto refused = request(StatusRequest{});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().describe(), "too many control connections; try again");
  held.clear();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(request(StatusRequest{}));
}

}  // namespace
}  // namespace shadowai::test
