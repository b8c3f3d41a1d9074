// The byte-level decodings the request parsers share (the JSON request, Kannel's sendsms and
// Jasmin's HTTP API): percent-decoding of form fields, hexadecimal, C's sscanf("%d"), words.
// Pure: nothing here allocates more than its output or reads outside its input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smppd::api {

// 0-15 for a hexadecimal digit of either case, -1 otherwise.
int hex_value(char c);

// Form decoding as both Kannel (octstr_url_decode) and Python (unquote_to_bytes after '+' is
// replaced) do it: '+' is a space, %XX the byte XX; a '%' not followed by two hex digits stays
// as written.
std::string url_decode(std::string_view s);

// An even number of hex digits of either case into bytes; nothing otherwise (as Python's
// binascii.unhexlify). The empty string is zero bytes.
std::optional<std::vector<uint8_t>> hex_decode(std::string_view s);

// C's sscanf("%d"): leading white space, an optional sign, digits; what follows is ignored.
// Nothing when no digit comes first or the number is outside int's range.
std::optional<int> scan_c_int(std::string_view s);

// `s` without the white space (isspace) at either end, as Kannel's octstr_strip_blanks.
std::string_view strip_blanks(std::string_view s);

// The words of `s` separated by white space (isspace), as Kannel's octstr_split_words.
std::vector<std::string> split_words(std::string_view s);

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace smppd::api
