// DnsmasqServer: the test's own DNS server, a real dnsmasq listening on a loopback address inside the
// test's network namespace and answering only from the records the test gives it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace shadowai::test {

class DnsmasqServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/dnsmasq";

  // DIRECTORY holds its log; empty: a TempDir of its own.
  explicit DnsmasqServer(std::string listenAddress = "127.0.0.53", std::string directory = {}, int port = 53);
  ~DnsmasqServer();
  DnsmasqServer(const DnsmasqServer&) = delete;
  DnsmasqServer& operator=(const DnsmasqServer&) = delete;

  // Before start(): NAME resolves to IP (an A or AAAA record, by the address family of IP).
  void addHost(const std::string& name, const std::string& ip);
  // Before start(): ALIAS is a CNAME for TARGET (which needs a record of its own, from addHost).
  void addCname(const std::string& alias, const std::string& target);

  // Starts dnsmasq and returns once it answers a query.
  Status start();
  // Stops it (SIGKILL); the destructor does this too.
  void stop();

  const std::string& listenAddress() const { return listenAddress_; }
  // "nameserver <listenAddress>\n", ready for setResolvConf (port 53 only: resolv.conf has no port).
  std::string resolvConf() const { return "nameserver " + listenAddress_ + "\n"; }
  // dnsmasq's log (--log-queries), for assertion messages and for tests that check what was asked.
  std::string logText() const;
  std::string logPath() const;

 private:
  std::string listenAddress_;
  std::string directory_;
  int port_;
  std::vector<std::string> records_;  // dnsmasq options, one per record
  std::string probeName_;             // what start() asks to see that dnsmasq answers
  std::unique_ptr<TempDir> ownedDir_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace shadowai::test
