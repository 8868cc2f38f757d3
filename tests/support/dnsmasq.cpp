#include "support/dnsmasq.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "common/fd.h"
#include "common/file_util.h"

namespace shadowai::test {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

// Sends one A query for NAME (a record of ours when there is one) to ADDRESS:PORT and waits briefly for the matching reply. Any reply,
// even NXDOMAIN or REFUSED, proves the server is up and answering.
Result<bool> answersQuery(const std::string& address, int port, const std::string& name) {
  sockaddr_storage server{};
  socklen_t serverLength = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&server);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&server);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    serverLength = sizeof(*v4);
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    serverLength = sizeof(*v6);
  } else {
    return makeError("dnsmasq: not an IP address: " + address);
  }

  unsigned char query[512];
  int queryLength = ::res_mkquery(ns_o_query, name.c_str(), ns_c_in, ns_t_a, nullptr, 0, nullptr, query,
                                  sizeof(query));
  if (queryLength < 0) return makeError("dnsmasq: cannot build a query for " + name);

  Fd socket(::socket(server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket) return errnoError("dnsmasq: cannot open a UDP socket");
  // Connected, so "nothing listens there yet" comes back at once as ECONNREFUSED.
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&server), serverLength) != 0) {
    return errnoError("dnsmasq: cannot reach " + address);
  }
  if (::send(socket.get(), query, static_cast<size_t>(queryLength), 0) < 0) return false;
  pollfd ready{socket.get(), POLLIN, 0};
  if (::poll(&ready, 1, 200) <= 0) return false;
  unsigned char reply[1500];
  ssize_t got = ::recv(socket.get(), reply, sizeof(reply), 0);
  // Same id as the query, and the QR bit says it is a response.
  return got >= 12 && reply[0] == query[0] && reply[1] == query[1] && (reply[2] & 0x80) != 0;
}

}  // namespace

DnsmasqServer::DnsmasqServer(std::string listenAddress, std::string directory, int port)
    : listenAddress_(std::move(listenAddress)), directory_(std::move(directory)), port_(port) {}

DnsmasqServer::~DnsmasqServer() { stop(); }

void DnsmasqServer::addHost(const std::string& name, const std::string& ip) {
  if (probeName_.empty()) probeName_ = name;
  records_.push_back("--host-record=" + name + "," + ip);
}

void DnsmasqServer::addCname(const std::string& alias, const std::string& target) {
  records_.push_back("--cname=" + alias + "," + target);
}

Status DnsmasqServer::start() {
  if (process_) return makeError("dnsmasq is already running");
  if (probeName_.empty()) probeName_ = "shadowai-probe.test";
  if (::access(kBinary, X_OK) != 0) {
    return makeError(std::string("dnsmasq not found at ") + kBinary +
                     "; scripts/install-deps.sh installs it (Debian package dnsmasq-base)");
  }
  if (directory_.empty()) {
    auto dir = TempDir::create("shadowai-dnsmasq");
    if (!dir) return dir.error();
    ownedDir_ = std::make_unique<TempDir>(std::move(dir).value());
    directory_ = ownedDir_->path();
  }

  std::vector<std::string> argv = {
      kBinary,
      "--keep-in-foreground",
      "--no-resolv",
      "--no-hosts",
      "--conf-file=/dev/null",
      "--bind-interfaces",
      "--listen-address=" + listenAddress_,
      "--port=" + std::to_string(port_),
      "--user=root",
      "--pid-file=",
      "--log-queries",
      "--log-facility=" + logPath(),
  };
  argv.insert(argv.end(), records_.begin(), records_.end());
  auto spawned = ChildProcess::spawn(std::move(argv));
  if (!spawned) return spawned.error();
  process_ = std::make_unique<ChildProcess>(std::move(spawned).value());

  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      std::string why = process_->stderrText() + logText();
      stop();
      return makeError("dnsmasq exited at start: " + why);
    }
    auto answered = answersQuery(listenAddress_, port_, probeName_);
    if (!answered) {
      stop();
      return answered.error();
    }
    if (*answered) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string log = logText();
  stop();
  return makeError("dnsmasq did not answer on " + listenAddress_ + " port " + std::to_string(port_) +
                   " within 10 s: " + log);
}

void DnsmasqServer::stop() { process_.reset(); }

std::string DnsmasqServer::logPath() const { return directory_ + "/dnsmasq-" + listenAddress_ + ".log"; }

std::string DnsmasqServer::logText() const {
  if (directory_.empty()) return {};
  auto text = readFile(logPath());
  return text ? *text : std::string();
}

}  // namespace shadowai::test
