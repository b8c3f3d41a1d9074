#include "script/patterns.hpp"

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "script/governor.hpp"

// The matcher works as Lua 5.4's does (a backtracking matcher, recursive for captures and
// repetitions, at most kMaxDepth deep) so that every pattern gives Lua's results and errors; the
// differences are the charges. Like Lua's, it reads the '\0' that every Lua string has past its
// length where a pattern may end early ("[a" or "%" at the end).

namespace smppd::script::detail {

namespace {

constexpr int kMaxCaptures = 32;  // LUA_MAXCAPTURES
constexpr int kMaxDepth = 200;    // MAXCCALLS: how deep matching may nest
constexpr char kEscape = '%';
constexpr char kSpecials[] = "^$*+?.([%-";
constexpr ptrdiff_t kCaptureUnfinished = -1;
constexpr ptrdiff_t kCapturePosition = -2;
// Steps are charged in batches: charge() reads the clock.
constexpr uint64_t kStepsPerCharge = 1024;
// Comparing this many bytes (a back reference, a plain find) counts as one step.
constexpr std::size_t kBytesPerStep = 64;

struct Capture {
  const char* init;
  ptrdiff_t len;  // or kCaptureUnfinished, kCapturePosition
};

struct Matcher {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  lua_State* L;
  int depth;       // how much deeper do_match may go
  int level;       // captures open or closed
  uint64_t steps;  // not charged yet
  Capture capture[kMaxCaptures];
};

unsigned char uchar(char c) {
  return static_cast<unsigned char>(c);
}

void add_steps(Matcher& m, uint64_t n) {
  m.steps += n;
  if (m.steps >= kStepsPerCharge) {
    const uint64_t steps = m.steps;
    m.steps = 0;
    charge(m.L, steps);
  }
}

// Charges what is left; at the end of each function.
void settle(Matcher& m) {
  if (m.steps == 0) return;
  const uint64_t steps = m.steps;
  m.steps = 0;
  charge(m.L, steps);
}

void prepare(Matcher& m, lua_State* L, const char* s, std::size_t ls, const char* p,
             std::size_t lp) {
  m.L = L;
  m.src_init = s;
  m.src_end = s + ls;
  m.p_end = p + lp;
  m.depth = kMaxDepth;
  m.level = 0;
  m.steps = 0;
}

void restart(Matcher& m) {
  m.level = 0;
  m.depth = kMaxDepth;
}

const char* do_match(Matcher& m, const char* s, const char* p);

int check_capture(Matcher& m, int l) {
  l -= '1';
  if (l < 0 || l >= m.level || m.capture[l].len == kCaptureUnfinished)
    return luaL_error(m.L, "invalid capture index %%%d", l + 1);
  return l;
}

int capture_to_close(Matcher& m) {
  for (int level = m.level - 1; level >= 0; level--)
    if (m.capture[level].len == kCaptureUnfinished) return level;
  return luaL_error(m.L, "invalid pattern capture");
}

// The end of the single-character class at p.
const char* class_end(Matcher& m, const char* p) {
  switch (*p++) {
    case kEscape:
      if (p == m.p_end) luaL_error(m.L, "malformed pattern (ends with '%%')");
      return p + 1;
    case '[':
      if (*p == '^') p++;
      do {  // up to the closing ']'; the first character of the set is never it
        if (p == m.p_end) luaL_error(m.L, "malformed pattern (missing ']')");
        if (*(p++) == kEscape && p < m.p_end) p++;
      } while (*p != ']');
      return p + 1;
    default:
      return p;
  }
}

bool match_class(int c, int cl) {
  bool res = false;
  switch (std::tolower(cl)) {
    case 'a':
      res = std::isalpha(c) != 0;
      break;
    case 'c':
      res = std::iscntrl(c) != 0;
      break;
    case 'd':
      res = std::isdigit(c) != 0;
      break;
    case 'g':
      res = std::isgraph(c) != 0;
      break;
    case 'l':
      res = std::islower(c) != 0;
      break;
    case 'p':
      res = std::ispunct(c) != 0;
      break;
    case 's':
      res = std::isspace(c) != 0;
      break;
    case 'u':
      res = std::isupper(c) != 0;
      break;
    case 'w':
      res = std::isalnum(c) != 0;
      break;
    case 'x':
      res = std::isxdigit(c) != 0;
      break;
    case 'z':  // deprecated, still in Lua 5.4
      res = c == 0;
      break;
    default:
      return cl == c;
  }
  return std::isupper(cl) != 0 ? !res : res;
}

// p is the '[' of a set, ec its ']'.
bool match_bracket_class(int c, const char* p, const char* ec) {
  bool sig = true;
  if (*(p + 1) == '^') {
    sig = false;
    p++;
  }
  while (++p < ec) {
    if (*p == kEscape) {
      p++;
      if (match_class(c, uchar(*p))) return sig;
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return sig;
    } else if (uchar(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

bool single_match(const Matcher& m, const char* s, const char* p, const char* ep) {
  if (s >= m.src_end) return false;
  const int c = uchar(*s);
  switch (*p) {
    case '.':
      return true;
    case kEscape:
      return match_class(c, uchar(*(p + 1)));
    case '[':
      return match_bracket_class(c, p, ep - 1);
    default:
      return uchar(*p) == c;
  }
}

// %bxy at s; p points at x.
const char* match_balance(Matcher& m, const char* s, const char* p) {
  if (p >= m.p_end - 1) luaL_error(m.L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m.src_end || *s != *p) return nullptr;
  const char open = *p;
  const char close = *(p + 1);
  int depth = 1;
  while (++s < m.src_end) {
    add_steps(m, 1);
    if (*s == close) {
      if (--depth == 0) return s + 1;
    } else if (*s == open) {
      depth++;
    }
  }
  return nullptr;
}

const char* max_expand(Matcher& m, const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (single_match(m, s + i, p, ep)) {
    i++;
    add_steps(m, 1);
  }
  for (; i >= 0; i--) {
    if (const char* res = do_match(m, s + i, ep + 1)) return res;
  }
  return nullptr;
}

const char* min_expand(Matcher& m, const char* s, const char* p, const char* ep) {
  for (;;) {
    if (const char* res = do_match(m, s, ep + 1)) return res;
    if (!single_match(m, s, p, ep)) return nullptr;
    s++;
  }
}

const char* start_capture(Matcher& m, const char* s, const char* p, ptrdiff_t what) {
  if (m.level >= kMaxCaptures) luaL_error(m.L, "too many captures");
  m.capture[m.level].init = s;
  m.capture[m.level].len = what;
  m.level++;
  const char* res = do_match(m, s, p);
  if (res == nullptr) m.level--;
  return res;
}

const char* end_capture(Matcher& m, const char* s, const char* p) {
  const int l = capture_to_close(m);
  m.capture[l].len = s - m.capture[l].init;
  const char* res = do_match(m, s, p);
  if (res == nullptr) m.capture[l].len = kCaptureUnfinished;
  return res;
}

const char* match_capture(Matcher& m, const char* s, int l) {
  l = check_capture(m, l);
  const ptrdiff_t len = m.capture[l].len;
  if (len < 0 || m.src_end - s < len) return nullptr;  // a position capture never matches
  add_steps(m, static_cast<std::size_t>(len) / kBytesPerStep);
  if (std::memcmp(m.capture[l].init, s, static_cast<std::size_t>(len)) != 0) return nullptr;
  return s + len;
}

// The pattern from p on, at s; the end of the match or nullptr.
const char* match_from(Matcher& m, const char* s, const char* p) {
  while (p != m.p_end) {
    switch (*p) {
      case '(':
        if (*(p + 1) == ')') return start_capture(m, s, p + 2, kCapturePosition);
        return start_capture(m, s, p + 1, kCaptureUnfinished);
      case ')':
        return end_capture(m, s, p + 1);
      case '$':
        if (p + 1 == m.p_end) return s == m.src_end ? s : nullptr;
        break;  // an ordinary '$'
      case kEscape:
        if (*(p + 1) == 'b') {
          s = match_balance(m, s, p + 2);
          if (s == nullptr) return nullptr;
          p += 4;
          continue;
        }
        if (*(p + 1) == 'f') {
          p += 2;
          if (*p != '[') luaL_error(m.L, "missing '[' after '%%f' in pattern");
          const char* ep = class_end(m, p);
          const int previous = s == m.src_init ? '\0' : uchar(*(s - 1));
          const int current = s < m.src_end ? uchar(*s) : '\0';
          if (match_bracket_class(previous, p, ep - 1) || !match_bracket_class(current, p, ep - 1))
            return nullptr;
          p = ep;
          continue;
        }
        if (std::isdigit(uchar(*(p + 1))) != 0) {
          s = match_capture(m, s, uchar(*(p + 1)));
          if (s == nullptr) return nullptr;
          p += 2;
          continue;
        }
        break;  // an escaped class
      default:
        break;
    }
    // One single-character class, maybe repeated.
    const char* ep = class_end(m, p);
    const char repetition = ep < m.p_end ? *ep : '\0';
    if (!single_match(m, s, p, ep)) {
      if (repetition == '*' || repetition == '?' || repetition == '-') {
        p = ep + 1;  // it may match nothing
        continue;
      }
      return nullptr;
    }
    switch (repetition) {
      case '?':
        if (const char* res = do_match(m, s + 1, ep + 1)) return res;
        p = ep + 1;
        continue;
      case '+':
        return max_expand(m, s + 1, p, ep);
      case '*':
        return max_expand(m, s, p, ep);
      case '-':
        return min_expand(m, s, p, ep);
      default:
        s++;
        p = ep;
        continue;
    }
  }
  return s;
}

const char* do_match(Matcher& m, const char* s, const char* p) {
  if (m.depth-- == 0) luaL_error(m.L, "pattern too complex");
  add_steps(m, 1);
  const char* res = match_from(m, s, p);
  m.depth++;
  return res;
}

// Pushes capture i (the whole match s..e when the pattern has none) unless it is a position, which
// it pushes as an integer; returns the capture's length, or kCapturePosition.
ptrdiff_t get_one_capture(Matcher& m, int i, const char* s, const char* e, const char** cap) {
  if (i >= m.level) {
    if (i != 0) luaL_error(m.L, "invalid capture index %%%d", i + 1);
    *cap = s;
    return e - s;
  }
  const ptrdiff_t len = m.capture[i].len;
  *cap = m.capture[i].init;
  if (len == kCaptureUnfinished) {
    luaL_error(m.L, "unfinished capture");
  } else if (len == kCapturePosition) {
    lua_pushinteger(m.L, static_cast<lua_Integer>(m.capture[i].init - m.src_init) + 1);
  }
  return len;
}

void push_one_capture(Matcher& m, int i, const char* s, const char* e) {
  const char* cap = nullptr;
  const ptrdiff_t len = get_one_capture(m, i, s, e, &cap);
  if (len != kCapturePosition) lua_pushlstring(m.L, cap, static_cast<std::size_t>(len));
}

// s == nullptr: the captures only (find), none when the pattern has none.
int push_captures(Matcher& m, const char* s, const char* e) {
  const int n = m.level == 0 && s != nullptr ? 1 : m.level;
  luaL_checkstack(m.L, n, "too many captures");
  for (int i = 0; i < n; i++) push_one_capture(m, i, s, e);
  return n;
}

bool no_specials(const char* p, std::size_t lp) {
  for (std::size_t i = 0; i < lp; i++) {
    if (p[i] != '\0' && std::memchr(kSpecials, p[i], sizeof(kSpecials) - 1) != nullptr)
      return false;
  }
  return true;
}

// s2 in s1, byte for byte.
const char* find_plain(Matcher& m, const char* s1, std::size_t l1, const char* s2, std::size_t l2) {
  if (l2 == 0) return s1;
  if (l2 > l1) return nullptr;
  const std::size_t rest = l2 - 1;  // after the first byte, which memchr finds
  std::size_t room = l1 - rest;     // where s2 may start
  while (room > 0) {
    const void* hit = std::memchr(s1, *s2, room);
    if (hit == nullptr) return nullptr;
    const char* next = static_cast<const char*>(hit) + 1;
    add_steps(m, 1 + (static_cast<std::size_t>(next - s1) + rest) / kBytesPerStep);
    if (std::memcmp(next, s2 + 1, rest) == 0) return next - 1;
    room -= static_cast<std::size_t>(next - s1);
    s1 = next;
  }
  return nullptr;
}

// posrelatI: a start position, 1-based, negative from the end, clipped to 1.
std::size_t start_position(lua_Integer pos, std::size_t len) {
  if (pos > 0) return static_cast<std::size_t>(pos);
  if (pos == 0) return 1;
  if (pos < -static_cast<lua_Integer>(len)) return 1;
  return len + static_cast<std::size_t>(pos) + 1;
}

int find_or_match(lua_State* L, bool find) {
  std::size_t ls = 0;
  std::size_t lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const std::size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    lua_pushnil(L);
    return 1;
  }
  Matcher m;
  prepare(m, L, s, ls, p, lp);
  if (find && (lua_toboolean(L, 4) != 0 || no_specials(p, lp))) {
    const char* found = find_plain(m, s + init, ls - init, p, lp);
    settle(m);
    if (found != nullptr) {
      lua_pushinteger(L, static_cast<lua_Integer>(found - s) + 1);
      lua_pushinteger(L, static_cast<lua_Integer>(found - s) + static_cast<lua_Integer>(lp));
      return 2;
    }
  } else {
    const bool anchor = *p == '^';
    if (anchor) p++;
    const char* s1 = s + init;
    do {
      restart(m);
      if (const char* e = do_match(m, s1, p)) {
        settle(m);
        if (find) {
          lua_pushinteger(L, static_cast<lua_Integer>(s1 - s) + 1);
          lua_pushinteger(L, static_cast<lua_Integer>(e - s));
          return push_captures(m, nullptr, nullptr) + 2;
        }
        return push_captures(m, s1, e);
      }
    } while (s1++ < m.src_end && !anchor);
    settle(m);
  }
  lua_pushnil(L);
  return 1;
}

int str_find(lua_State* L) {
  return find_or_match(L, true);
}

int str_match(lua_State* L) {
  return find_or_match(L, false);
}

struct GMatch {
  const char* src;
  const char* p;
  const char* last_match;
  Matcher m;
};

int gmatch_next(lua_State* L) {
  auto* gm = static_cast<GMatch*>(lua_touserdata(L, lua::upvalue(3)));
  gm->m.L = L;
  for (const char* src = gm->src; src <= gm->m.src_end; src++) {
    restart(gm->m);
    const char* e = do_match(gm->m, src, gm->p);
    if (e != nullptr && e != gm->last_match) {
      gm->src = gm->last_match = e;
      settle(gm->m);
      return push_captures(gm->m, src, e);
    }
  }
  settle(gm->m);
  return 0;
}

int str_gmatch(lua_State* L) {
  std::size_t ls = 0;
  std::size_t lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  std::size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);  // the strings stay alive as the iterator's upvalues
  auto* gm = new (lua_newuserdatauv(L, sizeof(GMatch), 0)) GMatch{};
  if (init > ls) init = ls + 1;  // start past the end: nothing matches
  prepare(gm->m, L, s, ls, p, lp);
  gm->src = s + init;
  gm->p = p;
  gm->last_match = nullptr;
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

void add_char(luaL_Buffer* b, const char* c) {
  luaL_addlstring(b, c, 1);
}

// The replacement string (argument 3) with its %0-%9 and %%.
void add_string(Matcher& m, luaL_Buffer* b, const char* s, const char* e) {
  lua_State* L = m.L;
  std::size_t l = 0;
  const char* news = lua_tolstring(L, 3, &l);
  const char* p = nullptr;
  while ((p = static_cast<const char*>(std::memchr(news, kEscape, l))) != nullptr) {
    luaL_addlstring(b, news, static_cast<std::size_t>(p - news));
    p++;  // the character after '%' ('\0' past the end)
    if (*p == kEscape) {
      add_char(b, p);
    } else if (*p == '0') {
      luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
    } else if (std::isdigit(uchar(*p)) != 0) {
      const char* cap = nullptr;
      const ptrdiff_t len = get_one_capture(m, *p - '1', s, e, &cap);
      if (len == kCapturePosition)
        luaL_addvalue(b);  // the position it pushed
      else
        luaL_addlstring(b, cap, static_cast<std::size_t>(len));
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", kEscape);
    }
    l -= static_cast<std::size_t>(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

// Adds the replacement of the match s..e; whether it changed anything.
bool add_value(Matcher& m, luaL_Buffer* b, const char* s, const char* e, int replacement_type) {
  lua_State* L = m.L;
  switch (replacement_type) {
    case LUA_TFUNCTION: {
      lua_pushvalue(L, 3);
      const int n = push_captures(m, s, e);
      lua::call(L, n, 1);
      break;
    }
    case LUA_TTABLE:
      push_one_capture(m, 0, s, e);
      lua_gettable(L, 3);
      break;
    default:  // a string or a number
      add_string(m, b, s, e);
      return true;
  }
  if (lua_toboolean(L, -1) == 0) {  // nil or false: the match stays
    lua::pop(L, 1);
    luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
    return false;
  }
  if (lua_isstring(L, -1) == 0)
    luaL_error(L, "invalid replacement value (a %s)", lua::type_name(L, -1));
  luaL_addvalue(b);
  return true;
}

int str_gsub(lua_State* L) {
  std::size_t srcl = 0;
  std::size_t lp = 0;
  const char* src = luaL_checklstring(L, 1, &srcl);
  const char* p = luaL_checklstring(L, 2, &lp);
  const char* last_match = nullptr;
  const int replacement_type = lua_type(L, 3);
  const lua_Integer max_s = luaL_optinteger(L, 4, static_cast<lua_Integer>(srcl) + 1);
  if (replacement_type != LUA_TNUMBER && replacement_type != LUA_TSTRING &&
      replacement_type != LUA_TFUNCTION && replacement_type != LUA_TTABLE)
    luaL_typeerror(L, 3, "string/function/table");
  const bool anchor = *p == '^';
  lua_Integer n = 0;
  bool changed = false;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (anchor) {
    p++;
    lp--;
  }
  Matcher m;
  prepare(m, L, src, srcl, p, lp);
  while (n < max_s) {
    restart(m);
    const char* e = do_match(m, src, p);
    if (e != nullptr && e != last_match) {
      n++;
      if (add_value(m, &b, src, e, replacement_type)) changed = true;
      src = last_match = e;
    } else if (src < m.src_end) {
      add_char(&b, src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  settle(m);
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, static_cast<std::size_t>(m.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

}  // namespace

void set_pattern_functions(lua_State* L) {
  static constexpr luaL_Reg kFunctions[] = {
      {"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch},
      {"gsub", str_gsub}, {nullptr, nullptr},
  };
  luaL_setfuncs(L, kFunctions, 0);
}

}  // namespace smppd::script::detail
