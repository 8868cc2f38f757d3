// The man pages (packaging/man/*.8) and bash completion scripts (packaging/completion/*) describe
// the real command lines: every long option and subcommand that `--help` shows (for `shadowai`,
// recursively through its subcommands) has its paragraph in the command's man page and is offered
// by its completion script in the right place, and neither has an option the program lacks.
// Runs the built binaries with --help and the scripts in plain bash: no root, nothing touched.
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_util.h"
#include "common/run_command.h"

namespace shadowai {
namespace {

const std::string kSourceDir = SHADOWAI_SOURCE_DIR;

struct HelpText {
  std::set<std::string> longOptions;  // "--cgroup"
  std::vector<std::string> subcommands;
};

std::string lowerCase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// CLI11's help: an "Options:" section whose entries start with their names ("  -h,--help",
// "  --socket PATH Excludes: --config"), and a "Subcommands:" section whose entries start with the
// name ("  enforce   Send ..."). Wrapped descriptions are indented deeper and are not entries.
HelpText parseHelp(const std::string& text) {
  HelpText help;
  enum class Section { kOther, kOptions, kSubcommands } section = Section::kOther;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      const std::string heading = lowerCase(line);
      section = heading == "options:"       ? Section::kOptions
                : heading == "subcommands:" ? Section::kSubcommands
                                            : Section::kOther;  // "Examples:", "Positionals:", ...
      continue;
    }
    if (line.size() < 3 || line.substr(0, 2) != "  " || line[2] == ' ') continue;  // a wrapped description
    std::istringstream words(line);
    std::string word;
    if (section == Section::kSubcommands) {
      if (words >> word) help.subcommands.push_back(word);
    } else if (section == Section::kOptions) {
      // "-h,--help", or "-h, --help": names until the first word that is not one.
      while (words >> word && word.starts_with("-")) {
        std::istringstream names(word);
        std::string name;
        while (std::getline(names, name, ',')) {
          if (name.starts_with("--")) help.longOptions.insert(name);
        }
      }
    }
  }
  return help;
}

std::string runHelp(const std::string& binary, const std::vector<std::string>& subcommands) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), subcommands.begin(), subcommands.end());
  argv.push_back("--help");
  auto outcome = runCommand(argv);
  EXPECT_TRUE(outcome.ok()) << binary << ": " << (outcome.ok() ? "" : outcome.error().describe());
  if (!outcome.ok()) return "";
  EXPECT_TRUE(outcome->succeeded()) << binary << " --help: " << outcome->describeStatus();
  return outcome->output;
}

// One command of a program: {} for the program itself, {"ca", "init"} for `shadowai ca init`.
struct Command {
  std::vector<std::string> path;
  HelpText help;
};

struct CommandLine {
  std::set<std::string> longOptions;  // of every command
  std::vector<Command> commands;      // the program first, then its subcommands, depth first
};

// BINARY --help, then each subcommand's --help, recursively.
void collect(const std::string& binary, const std::vector<std::string>& path, CommandLine& into) {
  Command command{path, parseHelp(runHelp(binary, path))};
  into.longOptions.insert(command.help.longOptions.begin(), command.help.longOptions.end());
  into.commands.push_back(command);
  for (const std::string& subcommand : command.help.subcommands) {
    std::vector<std::string> nested = path;
    nested.push_back(subcommand);
    collect(binary, nested, into);
  }
}

CommandLine commandLineOf(const std::string& binary) {
  CommandLine commandLine;
  collect(binary, {}, commandLine);
  return commandLine;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

// What the completion script offers for the last of WORDS (COMP_WORDS[0] is the command), as bash
// would ask it: source the script, set COMP_WORDS and COMP_CWORD, call its function. Plain bash,
// without the bash-completion package.
std::set<std::string> completionsFor(const std::string& scriptPath, const std::string& function,
                                     const std::vector<std::string>& words) {
  std::vector<std::string> argv{"/bin/bash", "--norc", "--noprofile", "-c",
                                "source \"$1\" || exit 1; fn=$2; shift 2\n"
                                "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}\n"
                                "\"$fn\" || exit 1\n"
                                "printf '%s\\n' \"${COMPREPLY[@]}\"\n",
                                "bash", scriptPath, function};
  argv.insert(argv.end(), words.begin(), words.end());
  auto outcome = runCommand(argv);
  EXPECT_TRUE(outcome.ok() && outcome->succeeded())
      << "completing `" << joined(words) << "` with " << scriptPath << ": "
      << (outcome.ok() ? outcome->describeStatus() + ": " + outcome->output : outcome.error().describe());
  std::set<std::string> offered;
  if (!outcome.ok()) return offered;
  std::istringstream lines(outcome->output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) offered.insert(line);
  }
  return offered;
}

std::string readText(const std::string& path) {
  auto text = readFile(path);
  EXPECT_TRUE(text.ok()) << path << ": " << (text.ok() ? "" : text.error().describe());
  return text.ok() ? *text : std::string();
}

// roff writes a hyphen as "\-"; the rendered text has plain ones.
std::string withoutRoffEscapes(std::string text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '-') {
      out += '-';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool isWordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

// WORD in TEXT, not as a part of a longer one ("--catalog" is not found in "--catalog-dir").
bool containsWord(std::string_view text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const bool startsClean = at == 0 || !isWordChar(text[at - 1]) || word.front() == '-';
    const bool endsClean = at + word.size() == text.size() || !isWordChar(text[at + word.size()]);
    if (startsClean && endsClean && (at == 0 || text[at - 1] != '-')) return true;
  }
  return false;
}

// Every "--name" in TEXT.
std::set<std::string> longOptionsIn(std::string_view text) {
  std::set<std::string> found;
  for (size_t at = text.find("--"); at != std::string_view::npos; at = text.find("--", at + 2)) {
    if (at > 0 && isWordChar(text[at - 1])) continue;
    size_t end = at + 2;
    while (end < text.size() && isWordChar(text[end])) ++end;
    if (end > at + 2 && text[at + 2] != '-') found.insert(std::string(text.substr(at, end - at)));
    at = end - 2;
  }
  return found;
}

// The tag lines of a man page's .TP paragraphs (".BI \-\-out " FILE", ".B ca init"), where it
// defines its options and commands, with roff's hyphens made plain.
std::vector<std::string> manPageTags(const std::string& page) {
  std::vector<std::string> tags;
  std::istringstream lines(page);
  std::string line;
  bool tagNext = false;
  while (std::getline(lines, line)) {
    if (tagNext && line.starts_with(".B")) tags.push_back(withoutRoffEscapes(line));
    tagNext = line == ".TP";
  }
  return tags;
}

std::set<std::string> optionsDefinedInManPage(const std::string& page) {
  std::set<std::string> defined;
  for (const std::string& tag : manPageTags(page)) {
    for (const std::string& option : longOptionsIn(tag)) defined.insert(option);
  }
  return defined;
}

// A command has a paragraph of its own (".B enforce"), or each of its subcommands has (".B ca init"
// describes `ca` too).
bool manPageDefinesCommand(const std::string& page, const std::string& command) {
  for (const std::string& tag : manPageTags(page)) {
    if (!tag.starts_with(".B ")) continue;  // ".B ca init", not ".BI \-\-out ..."
    const std::string words = tag.substr(3);
    if (words == command || words.starts_with(command + " ")) return true;
  }
  return false;
}

// The options a completion script offers: those in its word lists (compgen -W "...",
// candidates="...", global_options="...").
std::set<std::string> optionsOfferedByCompletion(const std::string& script) {
  std::set<std::string> offered;
  std::istringstream lines(script);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("-W ") == std::string::npos && line.find("candidates=") == std::string::npos &&
        line.find("_options=") == std::string::npos) {
      continue;
    }
    for (const std::string& option : longOptionsIn(line)) offered.insert(option);
  }
  return offered;
}

// The completion script's code, without its comment lines.
std::string withoutShellComments(const std::string& script) {
  std::string out;
  std::istringstream lines(script);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] == '#') continue;
    out += line + "\n";
  }
  return out;
}

// Options the completion scripts pass to other programs (systemctl list-units), not offer.
const std::set<std::string> kForeignOptions = {"--type", "--all", "--no-legend", "--plain"};

struct Documented {
  const char* name;
  const char* binary;
};

void PrintTo(const Documented& documented, std::ostream* out) { *out << documented.name; }

class DocsMatchHelpTest : public ::testing::TestWithParam<Documented> {};

TEST_P(DocsMatchHelpTest, ManPageAndCompletionCoverEveryOptionAndSubcommand) {
  const Documented& command = GetParam();
  const CommandLine commandLine = commandLineOf(command.binary);
  // The parser found the help's sections at all.
  ASSERT_TRUE(commandLine.longOptions.count("--help")) << command.name << ": no --help in its --help";
  ASSERT_TRUE(commandLine.longOptions.count("--version")) << command.name << ": no --version in its --help";

  const std::string manPath = kSourceDir + "/packaging/man/" + command.name + ".8";
  const std::string completionPath = kSourceDir + "/packaging/completion/" + command.name;
  const std::string manPage = readText(manPath);
  const std::string completion = withoutShellComments(readText(completionPath));
  ASSERT_FALSE(manPage.empty());
  ASSERT_FALSE(completion.empty());

  const std::set<std::string> defined = optionsDefinedInManPage(manPage);
  const std::set<std::string> offered = optionsOfferedByCompletion(completion);
  for (const std::string& option : commandLine.longOptions) {
    EXPECT_TRUE(defined.count(option)) << manPath << " does not define " << option << " (a .TP paragraph)";
    EXPECT_TRUE(offered.count(option)) << completionPath << " does not offer " << option;
  }
  std::string function = std::string("_") + command.name;
  for (char& c : function) {
    if (c == '-') c = '_';
  }
  for (const Command& each : commandLine.commands) {
    const std::string shown = joined(each.path);
    if (!each.path.empty()) {
      EXPECT_TRUE(manPageDefinesCommand(manPage, shown))
          << manPath << " does not describe `" << command.name << " " << shown << "` (a .TP paragraph)";
    }
    // `shadowai ca <TAB>` offers init, export, install; `shadowai ca export --<TAB>` offers --out.
    std::vector<std::string> words{command.name};
    words.insert(words.end(), each.path.begin(), each.path.end());
    words.push_back("");
    const std::set<std::string> afterCommand = completionsFor(completionPath, function, words);
    for (const std::string& subcommand : each.help.subcommands) {
      EXPECT_TRUE(afterCommand.count(subcommand))
          << completionPath << ": `" << joined(words) << "<TAB>` does not offer " << subcommand;
    }
    words.back() = "--";
    const std::set<std::string> afterDashes = completionsFor(completionPath, function, words);
    for (const std::string& option : each.help.longOptions) {
      EXPECT_TRUE(afterDashes.count(option))
          << completionPath << ": `" << joined(words) << "<TAB>` does not offer " << option;
    }
  }

  // And nothing the program does not have.
  for (const std::string& option : defined) {
    EXPECT_TRUE(commandLine.longOptions.count(option)) << manPath << " documents " << option << ", which "
                                                       << command.name << " --help does not show";
  }
  for (const std::string& option : longOptionsIn(completion)) {
    if (kForeignOptions.count(option)) continue;
    EXPECT_TRUE(commandLine.longOptions.count(option)) << completionPath << " offers " << option << ", which "
                                                       << command.name << " --help does not show";
  }
}

INSTANTIATE_TEST_SUITE_P(Commands, DocsMatchHelpTest,
                         ::testing::Values(Documented{"shadowai-scan", SHADOWAI_SCAN_BINARY},
                                           Documented{"shadowaid", SHADOWAI_DAEMON_BINARY},
                                           Documented{"shadowai", SHADOWAI_CLI_BINARY}),
                         [](const ::testing::TestParamInfo<Documented>& param) {
                           std::string name = param.param.name;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(DocsMatchHelpParserTest, ReadsCli11Help) {
  const HelpText help = parseHelp(
      "Control shadowaid.\n"
      "Usage: shadowai [OPTIONS] SUBCOMMAND\n"
      "\n"
      "Options:\n"
      "  -h,--help                   Print this help message and exit\n"
      "  --socket PATH Excludes: --config\n"
      "                              shadowaid's control socket (see --not-an-option)\n"
      "  --catalog-dir TEXT=/etc/shadowai/endpoints.d ...\n"
      "  -v,     --verbose           CLI11 2.4 pads the short names\n"
      "\n"
      "Subcommands:\n"
      "  enforce                     Send the subtree's LLM calls through the proxy\n"
      "  ca                          The local CA: init, export, install\n"
      "\n"
      "Examples:\n"
      "  shadowai enforce --unit billing-etl.service\n");
  EXPECT_EQ(help.longOptions, (std::set<std::string>{"--help", "--socket", "--catalog-dir", "--verbose"}));
  EXPECT_EQ(help.subcommands, (std::vector<std::string>{"enforce", "ca"}));
}

TEST(DocsMatchHelpParserTest, MatchesWholeWordsOnly) {
  EXPECT_TRUE(containsWord("use --catalog FILE", "--catalog"));
  EXPECT_FALSE(containsWord("use --catalog-dir DIR", "--catalog"));
  EXPECT_FALSE(containsWord("use ---catalog", "--catalog"));
  EXPECT_TRUE(containsWord("shadowai ca init [--json]", "ca init"));
  EXPECT_FALSE(containsWord("official", "off"));
  EXPECT_EQ(longOptionsIn("a --json b --out=FILE -- c\n--x"), (std::set<std::string>{"--json", "--out", "--x"}));
  const std::string page = ".TP\n.BI \\-\\-out \" FILE\"\nWrite it.\n.B \\-\\-not\\-a\\-tag\n.TP\n.B ca init\n";
  EXPECT_EQ(optionsDefinedInManPage(page), (std::set<std::string>{"--out"}));
  EXPECT_TRUE(manPageDefinesCommand(page, "ca init"));
  EXPECT_TRUE(manPageDefinesCommand(page, "ca"));
  EXPECT_FALSE(manPageDefinesCommand(page, "c"));
  EXPECT_FALSE(manPageDefinesCommand(page, "init"));
  EXPECT_EQ(optionsOfferedByCompletion("case $prev in\n  --out) ;;\nesac\ncompgen -W \"--json --help\" -- \"$cur\"\n"),
            (std::set<std::string>{"--json", "--help"}));
}

}  // namespace
}  // namespace shadowai
