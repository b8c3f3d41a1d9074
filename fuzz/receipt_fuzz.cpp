// libFuzzer target for the delivery receipt parser and id rewriting.
//
// Any text must parse to a receipt or to nothing, without crashing. When it parses, the id is
// bounded and rewriting it changes only the id: parsing the rewritten text gives the new id and
// the same stat, err and text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "smpp/receipt.hpp"

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "receipt_fuzz: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = smpp::parse_receipt_text(text);
  for (const auto& key : smpp::message_id_keys(text.substr(0, 80))) (void)key;
  if (!r) return 0;
  if (r->id.empty() || r->id.size() > smpp::kMaxReceiptIdLength) fail("id out of bounds");

  const auto rewritten = smpp::rewrite_receipt_id(text, "SMPPD123");
  if (!rewritten) return 0;
  const auto again = smpp::parse_receipt_text(*rewritten);
  if (!again) fail("rewritten receipt no longer parses");
  if (again->id != "SMPPD123") fail("rewritten receipt has another id");
  if (again->stat != r->stat || again->err != r->err || again->text != r->text) {
    fail("rewriting the id changed another field");
  }
  if (!smpp::message_ids_match(r->id, r->id)) fail("an id does not match itself");
  return 0;
}
