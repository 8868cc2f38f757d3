#include "control/control_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/status_view.h"
#include "common/fd.h"
#include "control/peer_credentials.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

std::string requestError(std::string_view line) {
  auto request = parseControlRequest(line);
  return request ? "(parsed)" : request.error().describe();
}

TEST(ControlProtocol, ParsesSetModeByCgroupAndByUnit) {
  auto byCgroup = parseControlRequest(R"({"command":"set_mode","mode":"enforce","cgroup":"/system.slice/x.service"})");
  ASSERT_TRUE(byCgroup) << byCgroup.error().describe();
  const auto& setCgroup = std::get<SetModeRequest>(*byCgroup);
  EXPECT_EQ(setCgroup.mode, Mode::kEnforce);
  EXPECT_EQ(setCgroup.cgroup, std::optional<std::string>("/system.slice/x.service"));
  EXPECT_EQ(setCgroup.unit, std::nullopt);

  auto byUnit = parseControlRequest(R"({"command":"set_mode","mode":"inherit","unit":"billing-etl.service"})");
  ASSERT_TRUE(byUnit) << byUnit.error().describe();
  const auto& setUnit = std::get<SetModeRequest>(*byUnit);
  EXPECT_EQ(setUnit.mode, std::nullopt);
  EXPECT_EQ(setUnit.unit, std::optional<std::string>("billing-etl.service"));

  auto status = parseControlRequest(R"({"command":"status"})");
  ASSERT_TRUE(status);
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(*status));
}

TEST(ControlProtocol, EncodedRequestsParseBack) {
  for (const ControlRequest& request :
       {ControlRequest(SetModeRequest{Mode::kOff, "/a b/c\"d", std::nullopt}),
        ControlRequest(SetModeRequest{Mode::kDetect, std::nullopt, "x@1.service"}),
        ControlRequest(SetModeRequest{std::nullopt, "/a", std::nullopt}), ControlRequest(StatusRequest{})}) {
    const std::string line = encodeControlRequest(request);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    auto parsed = parseControlRequest(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(parsed) << parsed.error().describe();
    EXPECT_EQ(*parsed, request);
  }
}

TEST(ControlProtocol, MalformedRequestsGetOneLineErrors) {
  EXPECT_EQ(requestError("not json"), "malformed request: not a JSON document");
  EXPECT_EQ(requestError(""), "malformed request: not a JSON document");
  EXPECT_EQ(requestError("{\"command\":\"status\""), "malformed request: not a JSON document");
  EXPECT_EQ(requestError("[1]"), "malformed request: expected a JSON object");
  EXPECT_EQ(requestError("{}"), "malformed request: no \"command\"");
  EXPECT_EQ(requestError(R"({"command":7})"), "malformed request: \"command\" must be a string");
  EXPECT_EQ(requestError(R"({"command":"frobnicate"})"), "unknown command \"frobnicate\"");
  EXPECT_EQ(requestError(R"({"command":"status","verbose":true})"), "unknown field \"verbose\"");
  EXPECT_EQ(requestError(R"({"command":"set_mode","cgroup":"/a"})"), "set_mode needs \"mode\"");
  EXPECT_EQ(requestError(R"({"command":"set_mode","mode":"on","cgroup":"/a"})"),
            "bad mode: expected enforce, detect, off or inherit");
  EXPECT_EQ(requestError(R"({"command":"set_mode","mode":1,"cgroup":"/a"})"), "\"mode\" must be a string");
  EXPECT_EQ(requestError(R"({"command":"set_mode","mode":"off"})"),
            "set_mode needs exactly one of \"cgroup\" and \"unit\"");
  EXPECT_EQ(requestError(R"({"command":"set_mode","mode":"off","cgroup":"/a","unit":"a.service"})"),
            "set_mode needs exactly one of \"cgroup\" and \"unit\"");
  EXPECT_EQ(requestError(R"({"command":"set_mode","mode":"off","cgroup":""})"), "\"cgroup\" must not be empty");
  EXPECT_EQ(requestError(R"({"command":"set_mode","mode":"off","unit":["a"]})"), "\"unit\" must be a string");
  // Control bytes and invalid UTF-8 in a name come back escaped, never raw.
  EXPECT_EQ(requestError("{\"command\":\"\\u001b[2J\"}"), "unknown command \"\\u001b[2J\"");
  EXPECT_EQ(requestError("{\"command\":\"\xff\"}"), "malformed request: not a JSON document");
}

TEST(ControlProtocol, OversizedRequestIsRefused) {
  const std::string huge = R"({"command":"set_mode","mode":"off","cgroup":")" + std::string(kMaxControlLineBytes, 'a') + "\"}";
  EXPECT_EQ(requestError(huge), "request too large (limit 65536 bytes)");
}

TEST(ControlProtocol, Replies) {
  const std::string ok = encodeOkReply({{"cgroup", "/a"}, {"ok", false}});
  EXPECT_EQ(ok, "{\"cgroup\":\"/a\",\"ok\":true}\n");
  auto parsedOk = parseControlReply(ok.substr(0, ok.size() - 1));
  ASSERT_TRUE(parsedOk);
  EXPECT_EQ((*parsedOk)["cgroup"], "/a");

  const std::string error = encodeErrorReply("unknown cgroup /x");
  EXPECT_EQ(error, "{\"error\":\"unknown cgroup /x\",\"ok\":false}\n");
  auto parsedError = parseControlReply(error);
  ASSERT_FALSE(parsedError);
  EXPECT_EQ(parsedError.error().describe(), "unknown cgroup /x");

  EXPECT_EQ(parseControlReply("garbage").error().describe(), "shadowaid sent a reply that is not JSON");
  EXPECT_EQ(parseControlReply("{\"ok\":1}").error().describe(), "shadowaid sent a reply without \"ok\"");
  EXPECT_EQ(parseControlReply("{\"ok\":false}").error().describe(), "shadowaid refused the request");
}

TEST(ControlLineBuffer, SplitsLinesAcrossReads) {
  ControlLineBuffer buffer;
  buffer.append("{\"a\":");
  EXPECT_EQ(buffer.takeLine(), std::nullopt);
  EXPECT_FALSE(buffer.overflowed());
  buffer.append("1}\n{\"b\":2}\n{\"c\"");
  EXPECT_EQ(buffer.takeLine(), std::optional<std::string>("{\"a\":1}"));
  EXPECT_EQ(buffer.takeLine(), std::optional<std::string>("{\"b\":2}"));
  EXPECT_EQ(buffer.takeLine(), std::nullopt);
  buffer.append(":3}\r\n");
  EXPECT_EQ(buffer.takeLine(), std::optional<std::string>("{\"c\":3}\r"));
}

TEST(ControlLineBuffer, BoundsLineLength) {
  ControlLineBuffer exact(8);
  exact.append("1234567\n");  // 8 bytes with its newline: allowed
  EXPECT_FALSE(exact.overflowed());
  EXPECT_EQ(exact.takeLine(), std::optional<std::string>("1234567"));

  ControlLineBuffer longLine(8);
  longLine.append("12345678\n");
  EXPECT_TRUE(longLine.overflowed());
  EXPECT_EQ(longLine.takeLine(), std::nullopt);

  ControlLineBuffer noNewline(8);
  noNewline.append("1234567");
  EXPECT_FALSE(noNewline.overflowed());  // the newline may still come
  noNewline.append("8");
  EXPECT_TRUE(noNewline.overflowed());
}

TEST(PeerCredentials, OwnProcessThroughASocketPair) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Fd a(fds[0]), b(fds[1]);
  auto peer = peerCredentialsOf(a.get());
  ASSERT_TRUE(peer) << peer.error().describe();
  EXPECT_EQ(peer->pid, ::getpid());
  EXPECT_EQ(peer->uid, ::getuid());
  EXPECT_EQ(peer->gid, ::getgid());
  std::vector<gid_t> ours(static_cast<size_t>(::getgroups(0, nullptr)));
  ours.resize(static_cast<size_t>(::getgroups(static_cast<int>(ours.size()), ours.data())));
  EXPECT_EQ(peer->groups, ours);
}

TEST(PeerCredentials, StatusGroupsLine) {
  EXPECT_EQ(parseStatusGroups("Name:\tbash\nGid:\t100\t100\t100\t100\nGroups:\t4 27 1001 \nNSpid:\t1\n"),
            (std::vector<gid_t>{4, 27, 1001}));
  EXPECT_TRUE(parseStatusGroups("Groups:\t\n").empty());
  EXPECT_TRUE(parseStatusGroups("Name:\tx\n").empty());
}

TEST(PeerCredentials, RootOrControlGroupMembersOnly) {
  const ControlGroup group{"shadowai", 990};
  EXPECT_EQ(refusalReason(PeerCredentials{12, 0, 0, {}}, group), "");
  EXPECT_EQ(refusalReason(PeerCredentials{12, 1000, 990, {}}, group), "");       // primary group
  EXPECT_EQ(refusalReason(PeerCredentials{12, 1000, 1000, {4, 990}}, group), "");  // supplementary
  EXPECT_EQ(refusalReason(PeerCredentials{12, 1000, 1000, {4, 991}}, group),
            "permission denied: uid 1000 (pid 12) is neither root nor in group shadowai "
            "(run as root or as a member of group shadowai)");
  EXPECT_EQ(refusalReason(PeerCredentials{0, 1000, 1000, {}}, group),
            "permission denied: uid 1000 is neither root nor in group shadowai "
            "(run as root or as a member of group shadowai)");

  const ControlGroup missing{"shadowai", std::nullopt};
  EXPECT_EQ(refusalReason(PeerCredentials{12, 0, 0, {}}, missing), "");
  EXPECT_EQ(refusalReason(PeerCredentials{12, 1000, 990, {990}}, missing),
            "permission denied: uid 1000 (pid 12) is not root (run as root)");
}

TEST(PeerCredentials, ControlGroupLookUp) {
  EXPECT_EQ(lookUpControlGroup(std::nullopt).gid, std::nullopt);
  EXPECT_EQ(lookUpControlGroup(std::string("root")).gid, std::optional<gid_t>(0));
  EXPECT_EQ(lookUpControlGroup(std::string("no-such-group-shadowai-test")).gid, std::nullopt);
}

TEST(StatusView, SectionsProxyFirstAndModesTable) {
  const Json status = Json::parse(R"({
    "version": "0.1.0", "pid": 42, "uptime_seconds": 3725, "failure_mode": "closed", "cgroup": "/",
    "detection": {"tcp_connects": 7, "lost_events": 0},
    "proxy": {"running": true, "listen_ipv4": "127.0.0.1", "listen_ipv6": null, "port": 15443,
              "redirect_ports": [443, 80], "accepted": 3},
    "modes": [{"cgroup": "/", "mode": "detect", "own": false},
              {"cgroup": "/system.slice/billing-etl.service", "mode": "enforce", "own": true}]})");
  const std::string text = renderStatus(status);
  EXPECT_THAT(text, ::testing::StartsWith("shadowaid 0.1.0, pid 42, up 1h 2m 5s\n"));
  EXPECT_THAT(text, HasSubstr("failure mode: closed\n"));
  EXPECT_THAT(text, HasSubstr("  redirect ports  443, 80\n"));
  EXPECT_THAT(text, HasSubstr("  listen ipv6     -\n"));
  EXPECT_THAT(text, HasSubstr("  tcp connects  7\n"));
  EXPECT_LT(text.find("proxy:"), text.find("detection:"));
  EXPECT_LT(text.find("detection:"), text.find("modes"));
  EXPECT_THAT(text, HasSubstr("  /                                  detect   default\n"));
  EXPECT_THAT(text, HasSubstr("  /system.slice/billing-etl.service  enforce  set\n"));
  EXPECT_THAT(text, Not(HasSubstr("uptime")));
}

TEST(StatusView, ContainersNamespacesAreATableAfterTheProxy) {
  const Json status = Json::parse(R"({
    "proxy": {"port": 15443, "accepted": 3, "network_namespaces": [
      {"netns": 4026532291, "pid": 812, "cgroup": "/system.slice/docker-ab.scope", "listening": ["127.0.0.1", "::1"],
       "skipped": []},
      {"netns": null, "pid": 913, "cgroup": "/kubepods.slice/x", "error": "cannot read /proc/913/ns/net"}]},
    "detection": {"tcp_connects": 7}})");
  const std::string text = renderStatus(status);
  EXPECT_THAT(text, Not(HasSubstr("\"netns\""))) << "the list must not be a JSON row of the proxy section";
  EXPECT_THAT(text, HasSubstr("  4026532291  812  /system.slice/docker-ab.scope  127.0.0.1, ::1\n")) << text;
  EXPECT_THAT(text, HasSubstr("  -           913  /kubepods.slice/x              no: cannot read /proc/913/ns/net\n"))
      << text;
  EXPECT_LT(text.find("accepted"), text.find("4026532291"));
  EXPECT_EQ(renderStatus(Json::parse(R"({"proxy": {"network_namespaces": []}})")).find("namespaces"), std::string::npos);
}

TEST(StatusView, ControlBytesFromTheDaemonAreEscaped) {
  const std::string text = renderStatus(Json{{"modes", Json::array({{{"cgroup", "/a\x1b[2J"}, {"mode", "off"}}})}});
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_THAT(text, HasSubstr("/a\\x1b[2J"));
}

}  // namespace
}  // namespace shadowai
