// Kannel's sendsms POSTs (api/message/kannel_post) and the XML reader under them: any bytes, read
// as header lines ("Name: value", up to an empty line) and a body, or as an XML document, are read
// without crashing or reading out of bounds; a refusal has a body without a newline; what is
// accepted has its recipients and sender and turns into a request that builds into submit_sm
// PDUs for its first recipient.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "api/message/kannel_post.hpp"
#include "api/message/message_build.hpp"
#include "api/message/xml_reader.hpp"

namespace {

using namespace smppd::api;

void check_refusal(const KannelRefusal& r) {
  if (r.body.empty() || r.body.find('\n') != std::string::npos) std::abort();
}

void check(const std::vector<HeaderField>& headers, std::string_view body) {
  const auto parsed = parse_kannel_post(headers, body);
  if (const auto* r = std::get_if<KannelRefusal>(&parsed)) {
    if (r->status != 400) std::abort();
    check_refusal(*r);
    return;
  }
  const KannelPost& post = std::get<KannelPost>(parsed);
  if (const auto* r = std::get_if<KannelRefusal>(&post.outcome)) {
    check_refusal(*r);
    return;
  }
  const KannelSendsms& k = std::get<KannelSendsms>(post.outcome);
  if (k.to.empty() || !k.from || k.from->empty()) std::abort();
  for (const std::string& n : k.to) {
    if (n.empty()) std::abort();
  }
  const auto request =
      kannel_to_request(k, std::chrono::sys_seconds{std::chrono::seconds(1'800'000'000)});
  if (const auto* m = std::get_if<MessageRequest>(&request)) {
    if (m->to.empty()) std::abort();
    (void)build_submits(*m, m->to.front());
  } else {
    check_refusal(std::get<KannelRefusal>(request));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    // An XML document: through the reader's questions, then as Kannel's XML POST.
    if (const auto doc = xml::parse(input)) {
      if (doc->nodes.empty() || doc->nodes.front().kind != xml::Node::Kind::element) std::abort();
      for (const xml::Node& n : doc->nodes) {
        for (std::size_t child : n.children) {
          if (child >= doc->nodes.size() || child == 0) std::abort();
        }
      }
      constexpr std::string_view kPath[] = {"message", "submit", "da", "number"};
      for (std::size_t depth = 1; depth <= std::size(kPath); ++depth) {
        for (const xml::Node* n : xml::select(*doc, {kPath, depth})) {
          (void)xml::string_value(*doc, *n);
          (void)xml::attribute(*n, "type");
        }
      }
    }
    const std::vector<HeaderField> headers = {{"Content-Type", "text/xml"}};
    check(headers, input);
    return 0;
  }
  // Header lines, then the body.
  std::vector<HeaderField> headers;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    headers.emplace_back(line.substr(0, colon), colon == std::string_view::npos
                                                    ? std::string_view()
                                                    : line.substr(colon + 1));
  }
  check(headers, pos < input.size() ? input.substr(pos) : std::string_view());
  return 0;
}
