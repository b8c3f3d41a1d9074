// The scripts' find, match, gmatch and gsub give what Lua's own give, results and errors alike:
// both are called on the same arguments in one state (with all of Lua's libraries) and compared.
#include "script/patterns.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "script/governor.hpp"

using namespace smppd::script;

namespace {

// check(what, lua, ours, ...) calls both on the arguments and raises an error that says what
// differs. Both are called from the same line of the same function under the same name, so that
// their errors read the same ("[string]:7: bad argument #3 to 'f' ..."): the errors are
// compared too. compare(subject, pattern, init) checks the four functions in several ways.
constexpr const char* kHarness = R"lua(
  mine = ...
  local function pack(...) return {n = select("#", ...), ...} end
  local function call(f, ...)
    local results = pack(f(...))  -- not a tail call: the error names 'f' and this line
    return results
  end
  local function outcome(f, ...)
    local ok, r = pcall(call, f, ...)
    if ok then return r end
    return {n = 1, "error: " .. tostring(r)}
  end
  local function describe(r)
    local out = {}
    for i = 1, r.n do
      local v = r[i]
      out[#out + 1] = (type(v) == "string" or type(v) == "number") and string.format("%q", v)
                      or tostring(v)
    end
    return table.concat(out, ", ")
  end
  function check(what, lua, ours, ...)
    local a, b = outcome(lua, ...), outcome(ours, ...)
    local same = a.n == b.n
    for i = 1, a.n do  -- gmatch's iterators: both functions
      same = same and (a[i] == b[i] or type(a[i]) == "function" and type(b[i]) == "function")
    end
    if not same then
      local args = pack(...)
      for i = 1, args.n do args[i] = tostring(args[i]) end
      error(what .. "(" .. describe(args) .. "): Lua gives " .. describe(a) .. "; ours " ..
            describe(b), 0)
    end
  end
  local function all(gmatch)
    return function(s, p, init)
      local out = {}
      for a, b, c in gmatch(s, p, init) do
        out[#out + 1] = tostring(a) .. "/" .. tostring(b) .. "/" .. tostring(c)
        if #out > 200 then break end
      end
      return table.concat(out, ";")
    end
  end
  local lua_all, our_all = all(string.gmatch), all(mine.gmatch)
  local function joined(...) return table.concat({...}, "|") end
  local replacements = {a = "A", ab = false, ["1"] = 1, b = {}}
  function compare(s, p, init)
    check("find", string.find, mine.find, s, p, init)
    check("find plain", string.find, mine.find, s, p, init, true)
    check("match", string.match, mine.match, s, p, init)
    check("gmatch", lua_all, our_all, s, p, init)
    check("gsub", string.gsub, mine.gsub, s, p, "<%0>")
    check("gsub %1", string.gsub, mine.gsub, s, p, "[%1%%]", 3)
    check("gsub %2", string.gsub, mine.gsub, s, p, "%2")
    check("gsub function", string.gsub, mine.gsub, s, p, joined)
    check("gsub table", string.gsub, mine.gsub, s, p, replacements)
  end
)lua";

class Patterns : public ::testing::Test {
 protected:
  void SetUp() override {
    governor_.memory_limit = std::numeric_limits<std::size_t>::max() / 2;
    governor_.instruction_limit = std::numeric_limits<uint64_t>::max() / 2;
    L_ = lua_newstate(detail::allocate, &governor_);
    ASSERT_NE(L_, nullptr);
    luaL_openlibs(L_);
    ASSERT_EQ(luaL_loadstring(L_, kHarness), LUA_OK) << lua_tostring(L_, -1);
    lua_newtable(L_);  // ours, as `mine`
    detail::set_pattern_functions(L_);
    ASSERT_EQ(lua_pcall(L_, 1, 0, 0), LUA_OK) << lua_tostring(L_, -1);
  }
  void TearDown() override { lua_close(L_); }

  // Empty when they agree, else what differs.
  std::string compare(const std::string& subject, const std::string& pattern,
                      std::optional<long long> init = std::nullopt) {
    lua_getglobal(L_, "compare");
    lua_pushlstring(L_, subject.data(), subject.size());
    lua_pushlstring(L_, pattern.data(), pattern.size());
    if (init)
      lua_pushinteger(L_, *init);
    else
      lua_pushnil(L_);
    if (lua_pcall(L_, 3, 0, 0) == LUA_OK) return "";
    std::string error = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return error;
  }

  detail::Governor governor_;
  lua_State* L_ = nullptr;
};

}  // namespace

TEST_F(Patterns, ChosenCases) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hello world", "o"},
      {"hello world", "o w"},
      {"hello world", "^h"},
      {"hello world", "^w"},
      {"hello world", "d$"},
      {"hello world", "^hello world$"},
      {"hello world", "l+"},
      {"hello world", "l*"},
      {"hello world", "l-o"},
      {"hello world", "x?h"},
      {"hello world", "(h)(e)(l)"},
      {"hello world", "()ll()"},
      {"hello world", "(l)%1"},
      {"hello world", "((l)(o))"},
      {"hello world", "%a+"},
      {"hello world", "%A+"},
      {"hello world", "[%a]+"},
      {"hello world", "[^%s]+"},
      {"hello world", "[a-f]+"},
      {"hello world", "[]"},
      {"hello world", "[]]"},
      {"a]b", "[]]"},
      {"a]b", "[^]]+"},
      {"a-b", "[a-]+"},
      {"a-b", "[-a]+"},
      {"a^b", "[b^]+"},
      {"x = (a(b)c) + (d)", "%b()"},
      {"x = (a(b)c", "%b()"},
      {"THE (quick) fox", "%f[%a]%a+"},
      {"THE (quick) fox", "%f[%l]%a+"},
      {"THE (quick) fox", "%f[%A]"},
      {"", ""},
      {"", "^$"},
      {"", ".*"},
      {"abc", ""},
      {"abc", ".-"},
      {"abc", "$"},
      {"a$c", "$c"},
      {"a.c", "%."},
      {"a%c", "%%"},
      {std::string("a\0b\0c", 5), std::string("\0b", 2)},
      {std::string("a\0b\0c", 5), "%z"},
      {std::string("a\0b\0c", 5), "[%z]"},
      {"+258841234567", "^%+258"},
      {"258841234567", "^%+258"},
      {"+258841234567", "^%+?(%d%d%d)(%d+)$"},
      {"key=value; other = thing", "(%w+)%s*=%s*(%w+)"},
      {"abc", "%"},
      {"abc", "[a"},
      {"abc", "[^"},
      {"abc", "[a%"},
      {"abc", "%b"},
      {"abc", "%ba"},
      {"abc", "%f"},
      {"abc", "%fa"},
      {"abc", "("},
      {"abc", ")"},
      {"abc", "(()"},
      {"abc", "%1"},
      {"abc", "(a)%2"},
      {"abc", "(a%1)"},
      {"abc", "%0"},
      {"aaa",
       "(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)"
       "(a)(a)(a)(a)(a)(a)(a)"},
      {std::string(300, 'a'),
       [] {
         std::string p;
         for (int i = 0; i < 300; ++i) p += "a?";
         return p;
       }()},
      {"abab", "()(b)"},
      {"abab", "(a)()"},
      {"hello", "(h)(.)"},
      {"x", "[%w_]"},
      {"é", "%a"},
      {"\xff\x80", "[\x80-\xff]+"},
      {"aaa", "a-$"},
      {"abc", "b*"},
      {"abc", "x*"},
  };
  for (const auto& [subject, pattern] : cases) {
    for (std::optional<long long> init :
         {std::optional<long long>{}, std::optional<long long>{1}, std::optional<long long>{2},
          std::optional<long long>{0}, std::optional<long long>{-1}, std::optional<long long>{-100},
          std::optional<long long>{100}}) {
      EXPECT_EQ(compare(subject, pattern, init), "");
    }
  }
}

TEST_F(Patterns, ReplacementStrings) {
  const char* checks = R"lua(
    local function same(...) check("gsub", string.gsub, mine.gsub, ...) end
    for _, r in ipairs({"%", "%x", "%%", "%0%0", "%1", "%2", "%9", "a%", "%%%1%%",
                        "no escapes"}) do
      same("hello world", "(o)", r)
      same("hello world", "o", r)
      same("hello world", "()o", r)
    end
    same("hello", "l", function() return {} end)
    same("hello", "l", function() return false end)
    same("hello", "l", function() return 7 end)
    same("hello", "l", {l = true})
    same("hello", "l", true)
    same("hello", "l", nil)
    same("hello", "l", "x", -1)
    same("hello", "l", "x", 0)
    same("hello", "l", "x", 1.5)
    same("hello", "l", "x", "2")
    same(12345, 3, 9)
    same("hello", "^l", "x")
    same("hello", "^h", "x")
    same("hello", "", "-")
    same("abc", "%w*", "-")
  )lua";
  EXPECT_EQ(luaL_dostring(L_, checks), LUA_OK) << lua_tostring(L_, -1);
}

TEST_F(Patterns, ArgumentErrors) {
  const char* checks = R"lua(
    local function same(f, ...) check(f, string[f], mine[f], ...) end
    for _, f in ipairs({"find", "match", "gmatch", "gsub"}) do
      same(f)
      same(f, "x")
      same(f, {}, "x")
      same(f, "x", {})
      same(f, "x", "x", "y")
      same(f, "x", "x", 1.5)
      same(f, 42, 2)
    end
    same("find", "a.b", ".", 1, true)
    same("find", "a.b", ".", 1, false)
    same("find", "a.b", ".", 1, nil)
  )lua";
  EXPECT_EQ(luaL_dostring(L_, checks), LUA_OK) << lua_tostring(L_, -1);
}

TEST_F(Patterns, RandomPatternsAgreeWithLua) {
  const std::vector<std::string> pieces = {
      "a",    "b",     "x",     ".",  "%a",  "%d", "%s",   "%w",   "%A",     "%p",     "[ab]",
      "[^a]", "[a-c]", "[%d_]", "[]", "[^]", "*",  "+",    "-",    "?",      "*",      "+",
      "-",    "(",     ")",     "()", "%1",  "%2", "%b()", "%bab", "%f[%w]", "%f[%W]", "^",
      "$",    "%",     "[",     "]",  "%z",  "%.", "%%",   "%(",   " ",      "1"};
  const std::string subject_chars = "ab1 _()x.%";
  std::mt19937 rng(20261207);
  int compared = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string pattern;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < n; ++k) pattern += pieces[rng() % pieces.size()];
    std::string subject;
    const int length = static_cast<int>(rng() % 14);
    for (int k = 0; k < length; ++k) subject += subject_chars[rng() % subject_chars.size()];
    std::optional<long long> init;
    if (rng() % 4 == 0) init = static_cast<long long>(rng() % 20) - 10;
    const std::string differs = compare(subject, pattern, init);
    ASSERT_EQ(differs, "") << "subject '" << subject << "' pattern '" << pattern << "'";
    ++compared;
  }
  EXPECT_EQ(compared, 20000);
}

TEST_F(Patterns, MatchingIsCharged) {
  // What running `code` is charged, its compilation apart.
  auto cost = [this](const char* code) {
    EXPECT_EQ(luaL_loadstring(L_, code), LUA_OK);
    governor_.spent = 0;
    const int status = lua_pcall(L_, 0, 0, 0);
    if (status != LUA_OK) lua_pop(L_, 1);
    return governor_.spent;
  };
  const uint64_t backtracking = cost("mine.match(('a'):rep(30), 'a*a*a*b')");
  const uint64_t linear = cost("mine.match(('a'):rep(30), '^a+$')");
  EXPECT_GT(backtracking, 4000u);  // a cubic number of tries at each of 30 starts
  EXPECT_LT(linear, 100u);

  governor_.instruction_limit = 100'000;
  governor_.overrun = detail::Overrun::none;
  ASSERT_EQ(luaL_loadstring(L_, "return mine.match(('a'):rep(300), 'a*a*a*a*a*b')"), LUA_OK);
  governor_.spent = 0;
  ASSERT_NE(lua_pcall(L_, 0, 0, 0), LUA_OK);
  EXPECT_NE(std::string(lua_tostring(L_, -1)).find("instruction budget exceeded"),
            std::string::npos);
  EXPECT_EQ(governor_.overrun, detail::Overrun::instructions);
  EXPECT_LT(governor_.spent, 102'000u);
}
