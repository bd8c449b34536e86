// The Dockerfile grammar: directives, continuations, comments, flags, JSON and shell forms,
// heredocs, and the errors malformed input gets.
#include <gtest/gtest.h>

#include "core/build/dockerfile_parser.hpp"

using namespace berth::core::build;

TEST(DockerfileParser, InstructionsInAnyCaseWithContinuationsAndComments) {
  auto df = parse_dockerfile(
      "# a comment\n"
      "from busybox AS base\n"
      "\n"
      "Run echo a \\\n"
      "# comment inside the continuation\n"
      "\n"
      "  && echo b\n"
      "CMD [\"sh\", \"-c\", \"echo hi\"]\n");
  ASSERT_TRUE(df) << df.error().message;
  ASSERT_EQ(df->instructions.size(), 3u);
  EXPECT_EQ(df->instructions[0].keyword, "FROM");
  EXPECT_EQ(df->instructions[0].rest, "busybox AS base");
  EXPECT_EQ(df->instructions[0].line, 2);
  EXPECT_EQ(df->instructions[1].keyword, "RUN");
  EXPECT_EQ(df->instructions[1].rest, "echo a   && echo b");
  EXPECT_FALSE(df->instructions[1].json);
  EXPECT_EQ(df->instructions[1].line, 4);
  EXPECT_TRUE(df->instructions[2].json);
  EXPECT_EQ(df->instructions[2].args, (std::vector<std::string>{"sh", "-c", "echo hi"}));
}

TEST(DockerfileParser, EscapeAndSyntaxDirectives) {
  auto df = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\nRUN dir c:\\ `\n  /w\n");
  ASSERT_TRUE(df) << df.error().message;
  EXPECT_EQ(df->escape, '`');
  EXPECT_EQ(df->syntax, "docker/dockerfile:1");
  EXPECT_EQ(df->instructions[1].rest, "dir c:\\   /w");
}

TEST(DockerfileParser, DirectivesOnlyAtTheTop) {
  auto df = parse_dockerfile("FROM scratch\n# escape=`\nRUN a \\\n b\n");
  ASSERT_TRUE(df) << df.error().message;
  EXPECT_EQ(df->escape, '\\');
  EXPECT_EQ(df->instructions[1].rest, "a  b");
}

TEST(DockerfileParser, FlagsAreSplitFromArguments) {
  auto df = parse_dockerfile("FROM a\nCOPY --from=build --chown=1:2 --link /src /dst\nRUN --network=none true\n");
  ASSERT_TRUE(df) << df.error().message;
  const auto& copy = df->instructions[1];
  EXPECT_EQ(copy.flags, (std::vector<std::string>{"--from=build", "--chown=1:2", "--link"}));
  EXPECT_EQ(copy.rest, "/src /dst");
  bool present = false;
  EXPECT_EQ(flag_value(copy, "from"), "build");
  EXPECT_EQ(flag_value(copy, "link", &present), "");
  EXPECT_TRUE(present);
  EXPECT_EQ(flag_value(copy, "chmod", &present), "");
  EXPECT_FALSE(present);
  EXPECT_EQ(flag_value(df->instructions[2], "network"), "none");
}

TEST(DockerfileParser, Heredocs) {
  auto df = parse_dockerfile(
      "FROM a\n"
      "RUN <<EOF\n"
      "echo one\n"
      "echo $HOME\n"
      "EOF\n"
      "COPY <<-\"A\" <<'B' /dst/\n"
      "\t\tfirst\n"
      "\tA\n"
      "second\n"
      "B\n"
      "CMD x\n");
  ASSERT_TRUE(df) << df.error().message;
  ASSERT_EQ(df->instructions.size(), 4u);
  const auto& run = df->instructions[1];
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0].name, "EOF");
  EXPECT_EQ(run.heredocs[0].content, "echo one\necho $HOME\n");
  EXPECT_TRUE(run.heredocs[0].expand);
  const auto& copy = df->instructions[2];
  ASSERT_EQ(copy.heredocs.size(), 2u);
  EXPECT_EQ(copy.heredocs[0].content, "first\n");
  EXPECT_FALSE(copy.heredocs[0].expand);
  EXPECT_TRUE(copy.heredocs[0].strip_tabs);
  EXPECT_EQ(copy.heredocs[1].content, "second\n");
  EXPECT_EQ(df->instructions[3].keyword, "CMD");
}

TEST(DockerfileParser, ErrorsNameTheFileAndLine) {
  auto unknown = parse_dockerfile("FROM a\nFROBNICATE x\n", "app/Dockerfile");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("app/Dockerfile line 2"), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("unknown instruction: FROBNICATE"), std::string::npos);
  auto heredoc = parse_dockerfile("FROM a\nRUN <<EOF\necho\n");
  ASSERT_FALSE(heredoc);
  EXPECT_NE(heredoc.error().message.find("unterminated heredoc"), std::string::npos);
  EXPECT_FALSE(parse_dockerfile("# only a comment\n\n"));
  auto escape = parse_dockerfile("# escape=x\nFROM a\n");
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("invalid escape token"), std::string::npos);
}

TEST(DockerfileParser, ShellFormThatLooksLikeJsonStaysShellForm) {
  auto df = parse_dockerfile("FROM a\nCMD [\"sh\", 1]\nENTRYPOINT [not json\n");
  ASSERT_TRUE(df);
  EXPECT_FALSE(df->instructions[1].json);
  EXPECT_FALSE(df->instructions[2].json);
  EXPECT_EQ(df->instructions[2].rest, "[not json");
}

TEST(DockerfileParser, CrLfAndTrailingContinuationAtEnd) {
  auto df = parse_dockerfile("FROM a\r\nRUN echo \\\r\n");
  ASSERT_TRUE(df) << df.error().message;
  EXPECT_EQ(df->instructions[1].rest, "echo");
}
