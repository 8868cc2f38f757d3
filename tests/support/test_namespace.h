// The world of one integration test: its own network namespace (loopback up, test IPv6 addresses)
// and its own mount namespace (its own /etc/hosts, /etc/resolv.conf and a private tmpfs at /tmp).
// main() enters it before any thread starts; ctest runs each test in its own process, so each test
// gets a fresh world that vanishes with the process, whatever the test did or failed to do.
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai::test {

// Loopback carries 127.0.0.0/8 and ::1 as usual, 127.0.1.1/32 (so getaddrinfo's AI_ADDRCONFIG sees
// IPv4 as configured), plus fd5a::1 .. fd5a::<kTestIpv6AddressCount> (/128, no duplicate address
// detection, usable at once). Any 127.x address can be bound without adding it.
inline constexpr int kTestIpv6AddressCount = 9;
// "fd5a::N".
std::string testIpv6Address(int n);

// unshare(CLONE_NEWNET | CLONE_NEWNS), then: / made recursively private (nothing propagates back
// to the host), a fresh tmpfs over /tmp, lo up with the test addresses. Must run while the process
// is single-threaded (the kernel refuses CLONE_NEWNS otherwise). Calling it again is a no-op.
Status enterTestNamespaces();
bool insideTestNamespaces();

// Adds another address to lo (/32 or /128, IPv6 without DAD). 127.x addresses need not be added to
// be usable; adding one only makes it show up as an interface address.
Status addTestAddress(const std::string& address);

// Replace /etc/hosts or /etc/resolv.conf for this test (and the children it starts) by
// bind-mounting a file over it inside the test's mount namespace; the host's files are never
// touched. Calling again rewrites the same file in place; glibc notices on its next lookup.
// /etc/resolv.conf may be a symlink: the mount goes over what it points to.
Status setHostsFile(const std::string& content);
Status setResolvConf(const std::string& content);

// Mounts a fresh filesystem of TYPE ("tmpfs", "bpf") over DIRECTORY inside the test's mount
// namespace, e.g. a private /sys/fs/bpf for pins or /run/systemd/journal for a test journald; it
// goes away with the namespace. Refuses to run outside the test namespaces.
Status mountPrivateFilesystem(const std::string& type, const std::string& directory);

// The private scratch directory of the test namespaces (TMPDIR inside them); empty outside.
const std::string& testScratchRoot();
// Unmounts and removes the scratch directory; main() calls it when the tests are done.
void leaveTestScratch();
// Removes empty scratch directories that test binaries killed earlier left in /tmp.
void removeStaleTestScratch();

}  // namespace shadowai::test
