#include "cli/ca_commands.h"

#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "daemon/daemon_config.h"
#include "tls/certificate_fingerprint.h"
#include "tls/local_ca.h"
#include "tls/openssl_error.h"
#include "tls/openssl_handles.h"
#include "tls/trust_store.h"

namespace shadowai {
namespace {

using nlohmann::json;

Result<std::string> stateDirectory(const std::string& configPath) {
  // Unlike the socket lookup, a broken default file is an error here: guessing the state directory
  // would create or export a CA the daemon never uses.
  auto config = configPath.empty() ? DaemonConfig::fromDefaultFile() : DaemonConfig::fromFile(configPath);
  if (!config) return config.error();
  return config->stateDir;
}

Status requireRoot(const std::string& command, const std::string& why) {
  if (::geteuid() == 0) return {};
  return makeError("`shadowai ca " + command + "` needs root (" + why + ")");
}

Status writeOut(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return errnoError("cannot write to standard output");
  }
  return {};
}

Status writeJson(const json& document) { return writeOut(document.dump(2) + "\n"); }

json caJson(const std::string& stateDir, const LocalCa& ca, const std::string& fingerprint) {
  return {{"created", ca.created()},
          {"certificate", LocalCa::certificatePath(stateDir)},
          {"key", LocalCa::keyPath(stateDir)},
          {"fingerprint_sha256", fingerprint}};
}

std::string caLines(const std::string& stateDir, const std::string& fingerprint) {
  return "  certificate: " + LocalCa::certificatePath(stateDir) + "\n" +
         "  key:         " + LocalCa::keyPath(stateDir) + " (root only)\n" +
         "  SHA-256:     " + fingerprint + "\n";
}

struct LoadedCa {
  LocalCa ca;
  std::string fingerprint;
};

Result<LoadedCa> loadOrCreate(const std::string& stateDir) {
  auto ca = LocalCa::loadOrCreate(stateDir);
  if (!ca) return ca.error();
  auto fingerprint = sha256Fingerprint(ca->certificate());
  if (!fingerprint) return fingerprint.error();
  return LoadedCa{std::move(*ca), std::move(*fingerprint)};
}

Status runInit(const std::string& stateDir, bool asJson) {
  auto loaded = loadOrCreate(stateDir);
  if (!loaded) return loaded.error();
  if (asJson) return writeJson(caJson(stateDir, loaded->ca, loaded->fingerprint));
  std::string text = loaded->ca.created() ? "created the shadowai local CA\n"
                                          : "the shadowai local CA already exists; left unchanged\n";
  text += caLines(stateDir, loaded->fingerprint);
  if (loaded->ca.created()) text += "Next: `shadowai ca install` adds it to the system trust store.\n";
  return writeOut(text);
}

Status runExport(const std::string& stateDir, const std::string& outFile) {
  const std::string certPath = LocalCa::certificatePath(stateDir);
  auto pem = readFile(certPath);
  if (!pem) {
    const int error = pem.error().errnum;
    if (error == ENOENT) {
      if (::access(LocalCa::keyPath(stateDir).c_str(), F_OK) == 0) {
        return makeError("CA certificate " + certPath + " is missing though its key " + LocalCa::keyPath(stateDir) +
                         " exists; restore it, or remove the key to start a new CA");
      }
      return makeError("no CA in " + stateDir + "/ca yet: run `shadowai ca init` or start shadowaid");
    }
    if (error == EACCES) return makeError("cannot read " + certPath + ": permission denied (run as root)");
    return makeError("cannot read " + certPath, error);
  }
  // Only ever hand out a certificate: a damaged file should fail here, not in a trust store later.
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!certificate) return openSslError("CA certificate " + certPath + " is corrupt");

  if (outFile.empty() || outFile == "-") return writeOut(*pem);
  auto fingerprint = sha256Fingerprint(certificate.get());
  if (!fingerprint) return fingerprint.error();
  if (auto written = writeFileAtomic(outFile, *pem); !written) return written.error();
  if (::chmod(outFile.c_str(), 0644) != 0) return errnoError("cannot chmod " + outFile);
  return writeOut("wrote the shadowai local CA certificate to " + outFile + "\n  SHA-256: " + *fingerprint + "\n");
}

// What runtimes that ship their own CA bundle need, since they ignore the system store.
json runtimeEnvironment(const TrustStore& store) {
  return {{"NODE_EXTRA_CA_CERTS", store.anchorFile},
          {"REQUESTS_CA_BUNDLE", store.bundleFile},
          {"SSL_CERT_FILE", store.bundleFile}};
}

std::string runtimeHints(const TrustStore& store) {
  const std::string& anchor = store.anchorFile;
  const std::string& bundle = store.bundleFile;
  return "\n"
         "Programs that use the system's CA bundle (curl, wget, Go, OpenSSL and GnuTLS defaults) trust it now.\n"
         "Runtimes with a CA bundle of their own need one more step, in the workload's environment:\n"
         "  Node.js:              NODE_EXTRA_CA_CERTS=" + anchor + "\n" +
         "  Python requests:      REQUESTS_CA_BUNDLE=" + bundle + "\n" +
         "  Python httpx, others: SSL_CERT_FILE=" + bundle + "\n" +
         "  certifi, in place:    cat " + anchor + " >> \"$(python3 -m certifi)\"   (until certifi is upgraded)\n" +
         "  Java (own cacerts):   keytool -importcert -cacerts -storepass changeit -noprompt -alias shadowai-local-ca"
         " -file " + anchor + "\n" +
         "Containers have trust stores of their own: mount " + anchor + " into them, or set the variables above.\n";
}

Status runInstall(const std::string& stateDir, bool asJson) {
  // Find the store first: on a host without one, nothing is created or changed.
  auto store = detectTrustStore();
  if (!store) return store.error();
  auto loaded = loadOrCreate(stateDir);
  if (!loaded) return loaded.error();
  auto installed = installInTrustStore(*store, loaded->ca.certificatePem(), loaded->ca.certificate());
  if (!installed) return installed.error();

  if (asJson) {
    json document = caJson(stateDir, loaded->ca, loaded->fingerprint);
    document["trust_store"] = {{"family", std::string(toString(store->family))},
                               {"file", store->anchorFile},
                               {"file_changed", installed->anchorChanged},
                               {"bundle", store->bundleFile},
                               {"command", store->refreshCommand}};
    document["environment"] = runtimeEnvironment(*store);
    return writeJson(document);
  }
  std::string text;
  if (loaded->ca.created()) text += "created the shadowai local CA in " + stateDir + "/ca\n";
  text += installed->anchorChanged ? "installed the shadowai local CA in the system trust store\n"
                                   : "the shadowai local CA was in the system trust store already; refreshed it\n";
  std::string command;
  for (const std::string& word : store->refreshCommand) command += (command.empty() ? "" : " ") + word;
  text += "  trust store: " + store->anchorFile + "\n" +
          "  bundle:      " + store->bundleFile + " (rebuilt by " + command + ")\n" +
          "  SHA-256:     " + loaded->fingerprint + "\n";
  text += runtimeHints(*store);
  return writeOut(text);
}

}  // namespace

CaCommands::CaCommands(CLI::App& app) {
  ca_ = app.add_subcommand("ca", "The local CA that signs the proxy's certificates: init, export, install");
  ca_->require_subcommand(1);
  ca_->footer(
      "Examples:\n"
      "  shadowai ca init\n"
      "  shadowai ca export --out /etc/shadowai/ca.pem\n"
      "  shadowai ca install --json\n"
      "  shadowai --config /etc/shadowai/other.json ca export");
  init_ = ca_->add_subcommand("init", "Create the CA in <state_dir>/ca if there is none; print its path and SHA-256 "
                                      "fingerprint (root)");
  init_->add_flag("--json", json_, "Print {created, certificate, key, fingerprint_sha256} as JSON");
  export_ = ca_->add_subcommand("export", "Print the CA certificate (PEM); the key never leaves <state_dir>/ca");
  export_->add_option("--out", outFile_, "Write it to FILE (mode 0644) instead of standard output")
      ->type_name("FILE");
  install_ = ca_->add_subcommand(
      "install",
      "Add the CA (created if needed) to the system trust store and rebuild its bundle: update-ca-certificates on "
      "Debian/Ubuntu, update-ca-trust on RHEL/Fedora (root)");
  install_->add_flag("--json", json_,
                     "Print the CA's paths and fingerprint, the trust store's file, bundle and command, and the "
                     "environment variables for runtimes with their own bundles, as JSON");
}

bool CaCommands::parsed() const { return ca_->parsed(); }

Status CaCommands::run(const std::string& configPath) const {
  // Before the configuration is read, so a user without root gets this, not a permission error on a file.
  if (init_->parsed()) {
    if (auto root = requireRoot("init", "the CA key must be root's alone, like the rest of shadowaid's state"); !root) {
      return root;
    }
  }
  if (install_->parsed()) {
    if (auto root = requireRoot("install", "it writes the system trust store"); !root) return root;
  }
  auto stateDir = stateDirectory(configPath);
  if (!stateDir) return stateDir.error();
  if (init_->parsed()) return runInit(*stateDir, json_);
  if (export_->parsed()) return runExport(*stateDir, outFile_);
  if (install_->parsed()) return runInstall(*stateDir, json_);
  return makeError("ca needs a command: init, export or install (see shadowai ca --help)");
}

}  // namespace shadowai
