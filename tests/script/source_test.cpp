#include "script/source.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "script/state.hpp"

using namespace smppd::script;
namespace fs = std::filesystem;

namespace {

class ScriptFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("smppd-script-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  fs::path dir_;
};

}  // namespace

TEST_F(ScriptFiles, ReadKeepsTheBytesAndGivesANewGeneration) {
  const std::string path = write("routing.lua", "function route() return 'x' end\n");
  const auto first = ScriptSource::read(path);
  ASSERT_NE(first.source, nullptr) << first.error;
  EXPECT_EQ(first.error, "");
  EXPECT_EQ(first.source->name(), path);
  EXPECT_EQ(first.source->code(), "function route() return 'x' end\n");
  const auto second = ScriptSource::read(path);
  ASSERT_NE(second.source, nullptr);
  EXPECT_GT(second.source->generation(), first.source->generation());
  EXPECT_GT(first.source->generation(), 0u);
}

TEST_F(ScriptFiles, WhatCannotBeRead) {
  const std::string missing = (dir_ / "missing.lua").string();
  EXPECT_EQ(ScriptSource::read(missing).error,
            missing + ": cannot be opened: No such file or directory");
  EXPECT_EQ(check_script(missing).value_or(""),
            missing + ": cannot be opened: No such file or directory");
  EXPECT_EQ(ScriptSource::read(dir_.string()).error,
            dir_.string() + ": is a directory, not a file");
  const std::string fifo = (dir_ / "fifo.lua").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(check_script(fifo).value_or(""), fifo + ": is a FIFO (named pipe), not a regular file");
}

TEST_F(ScriptFiles, CheckTheDesignsExample) {
  EXPECT_EQ(check_script(std::string(SMPPD_SCRIPT_DATA "/design_example.lua")), std::nullopt);
}

TEST_F(ScriptFiles, CheckSaysFileAndLine) {
  struct Case {
    const char* text;
    const char* error;  // after the path
  };
  for (const Case& c : {
           Case{"function route(msg)\n  if msg then\n    return 'a'\n  end end end\n",
                ":4: <eof> expected near 'end'"},
           Case{"function route()\n  return 'unfinished\nend\n",
                ":2: unfinished string near ''unfinished'"},
           Case{"\n\nlocal x = 1 +\n", ":4: unexpected symbol near <eof>"},
           Case{"local t = nil\nlocal y = t.field\nfunction route() end\n",
                ":2: attempt to index a nil value (local 't')"},
           Case{"function route() end\nprint('loaded')\n",
                ":2: attempt to call a nil value (global 'print')"},
           Case{"function route() end\nerror('refused')\n", ":2: refused"},
           Case{"", ": defines no function 'route'"},
           Case{"-- nothing but a comment\n", ": defines no function 'route'"},
           Case{"route = {}\n", ": defines no function 'route' (route is a table value)"},
           Case{"local x <const> = 1\nx = 2\nfunction route() end\n",
                ":2: attempt to assign to const variable 'x'"},
           Case{"while true do end\n",
                ": the top level of the script ran past its instruction budget (1000000)"},
           Case{"local s = ('x'):rep(1e7)\n",  // 10 MB, and its copy
                ": not enough memory (the script's limit is 16777216 bytes)"},
           Case{"#!/usr/bin/lua\nfunction route() end\n", ":1: unexpected symbol near '#'"},
       }) {
    const std::string path = write("check.lua", c.text);
    EXPECT_EQ(check_script(path).value_or(""), path + c.error) << c.text;
  }
}

TEST_F(ScriptFiles, AByteOrderMarkIsSkipped) {
  const std::string path = write("bom.lua",
                                 "\xEF\xBB\xBF"
                                 "function route()\n  return (\nend\n");
  EXPECT_EQ(check_script(path).value_or(""), path + ":3: unexpected symbol near 'end'");
  const std::string good = write("good.lua",
                                 "\xEF\xBB\xBF"
                                 "function route() return 'x' end\n");
  EXPECT_EQ(check_script(good), std::nullopt);
}

TEST_F(ScriptFiles, LongPathsAreWrittenWhole) {
  const std::string path =
      write("a-rather-long-folder-name/and-another-one-below-it/and-a-third/routing.lua",
            "function route()\n  return =\nend\n");
  ASSERT_GT(path.size(), 100u);
  EXPECT_EQ(check_script(path).value_or(""), path + ":2: unexpected symbol near '='");
}

// No file makes check_script crash: random bytes, random tokens, broken versions of a script.
TEST_F(ScriptFiles, AnyFileIsJudgedWithoutCrashing) {
  const auto example = ScriptSource::read(SMPPD_SCRIPT_DATA "/design_example.lua");
  ASSERT_NE(example.source, nullptr);
  const std::string& script = example.source->code();
  const std::vector<std::string> tokens = {"function",
                                           "route",
                                           "(",
                                           ")",
                                           "msg",
                                           "ctx",
                                           "end",
                                           "return",
                                           "if",
                                           "then",
                                           "else",
                                           "local",
                                           "=",
                                           "==",
                                           "..",
                                           "...",
                                           "[[",
                                           "]]",
                                           "--[[",
                                           "'",
                                           "\"",
                                           "\\",
                                           "{",
                                           "}",
                                           "[",
                                           "]",
                                           "<close>",
                                           "<const>",
                                           "goto",
                                           "::x::",
                                           "while",
                                           "do",
                                           "repeat",
                                           "until",
                                           "for",
                                           "in",
                                           "pairs",
                                           "x",
                                           "1e999",
                                           "0x",
                                           "#",
                                           "~",
                                           "//",
                                           "%",
                                           "^",
                                           "and",
                                           "or",
                                           "not",
                                           "nil",
                                           "true",
                                           "\n",
                                           " ",
                                           "string.rep('x', 1e9)",
                                           "coroutine.create",
                                           "setmetatable",
                                           "error",
                                           "pcall",
                                           ";",
                                           ":"};
  ScriptLimits limits;
  limits.memory_bytes = 1 << 20;
  limits.instructions = 20'000;
  std::mt19937 rng(15);
  int judged = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    switch (i % 3) {
      case 0:  // bytes
        for (int k = 0, n = static_cast<int>(rng() % 200); k < n; ++k)
          text += static_cast<char>(rng() % 256);
        if (i % 30 == 0) text.insert(0, "\x1bLua\x54");
        break;
      case 1:  // tokens
        for (int k = 0, n = static_cast<int>(rng() % 40); k < n; ++k)
          text += tokens[rng() % tokens.size()] + (rng() % 2 ? " " : "");
        break;
      default:  // the example, damaged
        text = script;
        for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
          const std::size_t at = rng() % text.size();
          if (rng() % 2)
            text.erase(at, 1 + rng() % 8);
          else
            text.insert(at, tokens[rng() % tokens.size()]);
        }
    }
    const auto result = check_script(*ScriptSource::from_string("fuzz.lua", text), limits);
    if (result) {
      EXPECT_EQ(result->rfind("fuzz.lua", 0), 0u) << *result;
    }
    ++judged;
  }
  EXPECT_EQ(judged, 3000);
  // And through a file, for a few.
  for (int i = 0; i < 20; ++i) {
    std::string bytes;
    for (int k = 0; k < 100; ++k) bytes += static_cast<char>(rng() % 256);
    const std::string path = write("random.lua", bytes);
    const auto result = check_script(path);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->rfind(path, 0), 0u) << *result;
  }
}
