#include "intercept/nginx_instance.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>
#include <utility>

#include "common/fd.h"
#include "common/file_util.h"
#include "shared/bench_run.h"
#include "support/child_process.h"
#include "support/run_command.h"

namespace shadowai::bench::intercept {
namespace {

class NginxProcess final : public NginxInstance {
 public:
  NginxProcess(const Options& options, std::string prefix, std::string caPath, test::LeafFiles leaf)
      : options_(options), prefix_(std::move(prefix)), caPath_(std::move(caPath)), leaf_(std::move(leaf)) {}
  NginxProcess(const NginxProcess&) = delete;
  NginxProcess& operator=(const NginxProcess&) = delete;
  ~NginxProcess() override { stop(); }

  std::string configuration() const {
    const std::string workers = options_.nginxWorkers == 0 ? "auto" : std::to_string(options_.nginxWorkers);
    const std::string accessLog = options_.nginxAccessLog ? "access_log " + prefix_ + "/access.log;" : "access_log off;";
    // What a TLS-terminating, TLS-re-originating reverse proxy in front of an LLM API looks like:
    // verified upstream TLS with SNI, pooled keep-alive upstream connections, no buffering of
    // the answer (streams go through event by event), the managed key set in place of the client's.
    return "# intercept_bench: nginx as the reference TLS-terminating, TLS-re-originating reverse proxy\n"
           "daemon off;\n"
           "master_process on;\n"
           "worker_processes " + workers + ";\n"
           "user root root;\n"
           "pid " + prefix_ + "/nginx.pid;\n"
           "lock_file " + prefix_ + "/nginx.lock;\n"
           "error_log " + prefix_ + "/error.log warn;\n"
           "events {\n"
           "  worker_connections 4096;\n"
           "}\n"
           "http {\n"
           "  " + accessLog + "\n"
           "  client_body_temp_path " + prefix_ + "/tmp/body;\n"
           "  proxy_temp_path " + prefix_ + "/tmp/proxy;\n"
           "  fastcgi_temp_path " + prefix_ + "/tmp/fastcgi;\n"
           "  uwsgi_temp_path " + prefix_ + "/tmp/uwsgi;\n"
           "  scgi_temp_path " + prefix_ + "/tmp/scgi;\n"
           "  client_max_body_size 32m;\n"
           "  keepalive_timeout 120s;\n"
           "  keepalive_requests 100000000;\n"
           "  upstream provider {\n"
           "    server " + std::string(kUpstreamAddress) + ":443;\n"
           "    keepalive 64;\n"
           "    keepalive_requests 100000000;\n"
           "    keepalive_timeout 60s;\n"
           "  }\n"
           "  server {\n"
           "    listen " + std::string(kNginxAddress) + ":443 ssl;\n"
           "    server_name " + std::string(kProviderHost) + ";\n"
           "    ssl_certificate " + leaf_.certPath + ";\n"
           "    ssl_certificate_key " + leaf_.keyPath + ";\n"
           "    ssl_protocols TLSv1.2 TLSv1.3;\n"
           "    location / {\n"
           "      proxy_pass https://provider;\n"
           "      proxy_http_version 1.1;\n"
           "      proxy_set_header Connection \"\";\n"
           "      proxy_set_header Host $host;\n"
           "      proxy_set_header Authorization \"Bearer " + std::string(kManagedKey) + "\";\n"
           "      proxy_ssl_server_name on;\n"
           "      proxy_ssl_name " + std::string(kProviderHost) + ";\n"
           "      proxy_ssl_verify on;\n"
           "      proxy_ssl_verify_depth 2;\n"
           "      proxy_ssl_trusted_certificate " + caPath_ + ";\n"
           "      proxy_ssl_protocols TLSv1.2 TLSv1.3;\n"
           "      proxy_buffering off;\n"
           "      proxy_read_timeout 300s;\n"
           "    }\n"
           "  }\n"
           "}\n";
  }

  Status start() {
    for (const char* sub : {"", "/tmp"}) {
      if (::mkdir((prefix_ + sub).c_str(), 0700) != 0) return errnoError("cannot create " + prefix_ + sub);
    }
    const std::string config = prefix_ + "/nginx.conf";
    if (auto written = writeFileAtomic(config, configuration()); !written) return written;
    const std::vector<std::string> base = {options_.nginxBinary, "-p", prefix_ + "/", "-c", config, "-e",
                                           prefix_ + "/error.log"};
    std::vector<std::string> test = base;
    test.push_back("-t");
    auto tested = test::runCommand(test, 20s);
    if (!tested) return tested.error();
    if (tested->exitCode != 0) return makeError("nginx -t: " + tested->err);

    Fd log(::open((prefix_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return errnoError("cannot create " + prefix_ + "/stderr.log");
    test::SpawnOptions spawn;
    spawn.outputFd = log.get();
    spawn.parentDeathSignal = SIGTERM;  // nginx's fast shutdown: the master stops its workers, then exits
    spawn.ownProcessGroup = true;
    auto process = test::ChildProcess::spawn(base, spawn);
    if (!process) return process.error();
    process_ = std::make_unique<test::ChildProcess>(std::move(*process));

    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && !stopRequested.load()) {
      if (!process_->running()) return makeError("nginx exited at start: " + errorLogTail());
      workers_ = workerPids();
      const size_t wanted = options_.nginxWorkers == 0 ? std::thread::hardware_concurrency() : options_.nginxWorkers;
      if (workers_.size() >= wanted && accepts()) return {};
      std::this_thread::sleep_for(20ms);
    }
    return makeError("nginx did not come up in time: " + errorLogTail());
  }

  void stop() {
    if (!process_ || !process_->running()) return;
    (void)process_->sendSignal(SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (process_->running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    if (!process_->running()) return;
    // Workers first, while they are still the master's children (their pids cannot be reused).
    for (pid_t worker : workerPids()) ::kill(worker, SIGKILL);
    process_.reset();  // SIGKILL and reap
  }

  pid_t masterPid() const override { return process_ ? process_->pid() : 0; }
  const std::vector<pid_t>& workers() const override { return workers_; }
  std::string errorLogTail() const {
    auto text = readFile(prefix_ + "/error.log");
    if (!text) return "(no error log)";
    return text->size() <= 1500 ? *text : text->substr(text->size() - 1500);
  }

 private:
  std::vector<pid_t> workerPids() const {
    std::vector<pid_t> pids;
    const pid_t master = masterPid();
    auto children = readFile("/proc/" + std::to_string(master) + "/task/" + std::to_string(master) + "/children");
    if (!children) return pids;
    std::istringstream list(*children);
    pid_t pid;
    while (list >> pid) pids.push_back(pid);
    return pids;
  }

  static bool accepts() {
    Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(kHttpsPort);
    ::inet_pton(AF_INET, kNginxAddress, &address.sin_addr);
    return socket && ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }

  const Options& options_;
  const std::string prefix_;
  const std::string caPath_;
  const test::LeafFiles leaf_;
  std::unique_ptr<test::ChildProcess> process_;
  std::vector<pid_t> workers_;
};

}  // namespace

Result<std::unique_ptr<NginxInstance>> NginxInstance::start(const Options& options, const std::string& prefix,
                                                            const std::string& caPath, const test::LeafFiles& leaf) {
  auto nginx = std::make_unique<NginxProcess>(options, prefix, caPath, leaf);
  if (auto started = nginx->start(); !started) return started.error();
  return std::unique_ptr<NginxInstance>(std::move(nginx));
}

std::string nginxVersion(const std::string& binary) {
  auto output = test::runCommand({binary, "-v"}, 10s);
  if (!output) return "?";
  std::string text = output->err.empty() ? output->out : output->err;
  if (auto at = text.find("nginx/"); at != std::string::npos) text = text.substr(at + 6);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace shadowai::bench::intercept
