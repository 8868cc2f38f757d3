#include "support/netlink_address.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "common/fd.h"

namespace shadowai::test {
namespace {

// One rtnetlink request: header, fixed payload, then attributes, each NLMSG/RTA-aligned.
class NetlinkRequest {
 public:
  NetlinkRequest(uint16_t type, uint16_t flags, const void* payload, size_t payloadSize)
      : buffer_(NLMSG_SPACE(payloadSize)) {
    auto* header = reinterpret_cast<nlmsghdr*>(buffer_.data());
    header->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(payloadSize));
    header->nlmsg_type = type;
    header->nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
    header->nlmsg_seq = 1;
    std::memcpy(NLMSG_DATA(header), payload, payloadSize);
  }

  void addAttribute(uint16_t type, const void* data, size_t size) {
    const size_t offset = NLMSG_ALIGN(buffer_.size());
    buffer_.resize(offset + RTA_SPACE(size));
    auto* attribute = reinterpret_cast<rtattr*>(buffer_.data() + offset);
    attribute->rta_type = type;
    attribute->rta_len = static_cast<uint16_t>(RTA_LENGTH(size));
    std::memcpy(RTA_DATA(attribute), data, size);
    reinterpret_cast<nlmsghdr*>(buffer_.data())->nlmsg_len = static_cast<uint32_t>(buffer_.size());
  }

  // Sends the request and returns the kernel's verdict from the ACK (0 or a positive errno).
  Result<int> execute() {
    Fd socket(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!socket) return errnoError("cannot open an rtnetlink socket");
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(socket.get(), buffer_.data(), buffer_.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof(kernel)) < 0) {
      return errnoError("cannot send an rtnetlink request");
    }
    alignas(nlmsghdr) char reply[8192];
    for (;;) {
      ssize_t received = ::recv(socket.get(), reply, sizeof(reply), 0);
      if (received < 0) {
        if (errno == EINTR) continue;
        return errnoError("cannot read the rtnetlink reply");
      }
      auto remaining = static_cast<int>(received);
      for (auto* header = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(header, remaining);
           header = NLMSG_NEXT(header, remaining)) {
        if (header->nlmsg_type == NLMSG_ERROR) {
          return -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(header))->error;
        }
      }
    }
  }

 private:
  std::vector<char> buffer_;
};

Result<int> interfaceIndex(const std::string& interface) {
  unsigned int index = ::if_nametoindex(interface.c_str());
  if (index == 0) return errnoError("no interface " + interface);
  return static_cast<int>(index);
}

}  // namespace

Status setLinkUp(const std::string& interface) {
  auto index = interfaceIndex(interface);
  if (!index) return index.error();
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_index = *index;
  link.ifi_flags = IFF_UP;
  link.ifi_change = IFF_UP;
  NetlinkRequest request(RTM_NEWLINK, 0, &link, sizeof(link));
  auto verdict = request.execute();
  if (!verdict) return verdict.error();
  if (*verdict != 0) return makeError("cannot bring " + interface + " up", *verdict);
  return {};
}

Status addInterfaceAddress(const std::string& interface, const IpAddress& address, int prefixLength) {
  auto index = interfaceIndex(interface);
  if (!index) return index.error();
  const bool v4 = address.isV4();
  ifaddrmsg message{};
  message.ifa_family = v4 ? AF_INET : AF_INET6;
  message.ifa_prefixlen = static_cast<unsigned char>(prefixLength);
  message.ifa_scope = RT_SCOPE_UNIVERSE;
  message.ifa_index = static_cast<uint32_t>(*index);
  if (!v4) message.ifa_flags = IFA_F_NODAD;
  NetlinkRequest request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &message, sizeof(message));
  const uint8_t* bytes = address.bytes().data() + (v4 ? 12 : 0);
  const size_t size = v4 ? 4 : 16;
  request.addAttribute(IFA_LOCAL, bytes, size);
  request.addAttribute(IFA_ADDRESS, bytes, size);
  if (!v4) {
    uint32_t flags = IFA_F_NODAD;
    request.addAttribute(IFA_FLAGS, &flags, sizeof(flags));
  }
  auto verdict = request.execute();
  if (!verdict) return verdict.error();
  if (*verdict != 0 && *verdict != EEXIST) {
    return makeError("cannot add " + address.toString() + "/" + std::to_string(prefixLength) + " to " +
                         interface,
                     *verdict);
  }
  return {};
}

}  // namespace shadowai::test
