// Instants as smppd reads and writes them: ISO 8601, UTC, to the millisecond. One parser for
// every place an operator types a time (`route test --at`, `cdr export --from/--to`) and one
// formatter for every place smppd writes one (CDRs).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace smppd {

using UtcMillis = std::chrono::sys_time<std::chrono::milliseconds>;

// "2026-11-27T14:00:00Z", "2026-11-27T14:00:00.250Z", "2026-11-27T16:00+02:00",
// "2026-11-27 14:00:00Z": a date, 'T' or a space, hh:mm with optional :ss and an optional
// fraction of 1 to 9 digits (kept to the millisecond, the rest dropped), then 'Z' or ±hh:mm.
// Nothing when the text is anything else or names no real date or time.
std::optional<UtcMillis> parse_instant(std::string_view text);

// "2026-11-27": that day (its UTC midnight). Nothing when it is not a real date in that form.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

// Appends "2026-11-27T14:00:00.123Z" (with_millis) or "2026-11-27T14:00:00Z".
void append_instant(UtcMillis t, bool with_millis, std::string& out);
std::string format_instant(UtcMillis t, bool with_millis);

}  // namespace smppd
