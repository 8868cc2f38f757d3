// TestJournald: a real systemd-journald of the test's own, inside the test's mount namespace, so a
// test sends alerts through the ordinary client path (sd_journal_sendv to /run/systemd/journal/socket)
// and reads them back with journalctl, as a user would, without ever reaching the host's journal.
// It starts with an empty journal: a test never sees another test's entries. Benchmarks use it too,
// so that the daemon's alerts cost what they cost on a real host without reaching the host's journal.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "support/child_process.h"

namespace shadowai::test {

class TestJournald {
 public:
  static constexpr const char* kBinary = "/lib/systemd/systemd-journald";
  // Volatile storage, where this journald writes and readEntries() reads.
  static constexpr const char* kJournalDirectory = "/run/log/journal";
  // Where clients send: journald's native protocol socket.
  static constexpr const char* kSocketPath = "/run/systemd/journal/socket";

  // CONFIGURATION: settings of journald.conf's [Journal] section for this journald (e.g.
  // "Storage=volatile\nRateLimitBurst=0\n"), written to a drop-in in /run/systemd/journald.conf.d,
  // which takes a private tmpfs over all of /run/systemd instead of /run/systemd/journal alone.
  explicit TestJournald(std::string configuration = {}) : configuration_(std::move(configuration)) {}
  ~TestJournald();
  TestJournald(const TestJournald&) = delete;
  TestJournald& operator=(const TestJournald&) = delete;

  // Whether this host has what it takes: the binary, and the directories start() mounts over.
  static Status available();

  // Mounts the private directories (see journald.cpp for why each one) and starts journald; returns
  // once it accepts entries and answers `journalctl --sync`. Only inside the test namespaces.
  Status start();
  // Stops journald (SIGTERM, SIGKILL after 10 s) but keeps the private mounts and the journal:
  // clients now fail at once (nobody listens on the socket). startDaemon() brings it back.
  void stopDaemon();
  // Starts journald again on the same mounts and journal, after stopDaemon() or killDaemonForTest().
  Status startDaemon();
  bool running();
  pid_t pid();  // 0 when it is not running
  // Kills journald (by its pid) and unmounts what start() mounted; the destructor does this too.
  void stop();
  // Kills journald but keeps the private mounts, so clients now fail to send (nobody listens on the
  // socket) instead of reaching whatever journald the host has.
  Status killDaemonForTest();
  // SIGSTOP and SIGCONT: journald stops reading its socket, as when it is stuck on a slow disk, and
  // clients block once the socket's queue is full.
  Status pauseForTest();
  Status resumeForTest();
  // Resumes a paused journald when it goes out of scope, so a failed assertion never leaves it
  // stopped (the test's teardown would wait on it).
  struct ResumeAtExit {
    TestJournald& journald;
    ~ResumeAtExit() { (void)journald.resumeForTest(); }
  };

  // `journalctl --sync`: every entry sent before the call is in the journal file when it returns.
  Status sync();
  // sync(), then `journalctl -o json` over kJournalDirectory with MATCHES ("FIELD=value", "+" for
  // OR, as journalctl takes them): the matching entries, oldest first, each a parsed JSON object.
  Result<std::vector<nlohmann::json>> readEntries(const std::vector<std::string>& matches);
  // readEntries() until at least COUNT entries match, or TIMEOUT passes (then an error that says
  // how many there were).
  Result<std::vector<nlohmann::json>> waitForEntries(const std::vector<std::string>& matches, size_t count,
                                                     std::chrono::milliseconds timeout);

  // journald's own messages (it logs to stderr here, never to the host's kernel log).
  std::string logText() const;

 private:
  Status mountPrivateDirectory(const std::string& directory);
  Status writeConfiguration();
  // Spawns journald on the mounted directories and waits until it serves.
  Status spawnDaemon();

  std::string configuration_;
  std::vector<std::string> mounted_;  // mount points, in mount order
  std::unique_ptr<ChildProcess> process_;
};

// One field of an entry as text. journalctl -o json prints a value that is not printable UTF-8 as an
// array of byte values, and a field an entry holds more than once as an array of such values; this
// decodes the first form and returns nullopt for a missing or repeated field.
std::optional<std::string> journalField(const nlohmann::json& entry, const std::string& name);

// The SHADOWAI_* fields of a shadowaid alert that its kind (SHADOWAI_ALERT) is not declared to carry
// (alertKindFields(), which the catalog and docs/alerts.md follow); empty when all are. An entry
// without a known SHADOWAI_ALERT is reported as such. For entries the daemon wrote: a test that
// sends its own alerts through an Alerter may pair any fields with any kind.
std::vector<std::string> undeclaredAlertFields(const nlohmann::json& entry);

}  // namespace shadowai::test
