#include "api/rest/message_view.hpp"

#include <boost/json.hpp>

#include <string>

#include "gateway/message_ids.hpp"
#include "store/message_state.hpp"

namespace smppd::rest {

namespace json = boost::json;

namespace {

// Its HTTP callbacks' attempts (kept in memory for recent messages), when it had any.
void add_callbacks(json::object& o, gateway::Gateway& gateway, uint64_t id) {
  const std::vector<gateway::CallbackAttempt> attempts = gateway.callbacks().attempts(id);
  if (attempts.empty()) return;
  json::array list;
  for (const auto& a : attempts) {
    json::object e{{"at_ms", a.at_ms}, {"kind", a.kind}, {"final", a.final}};
    if (a.status != 0) e["http_status"] = a.status;
    e["outcome"] = a.error.empty() ? "delivered" : a.final ? "given up" : "will retry";
    if (!a.error.empty()) e["error"] = a.error;
    list.push_back(std::move(e));
  }
  o["callbacks"] = std::move(list);
}

}  // namespace

http::Response message_view(std::string_view text, store::Store* store, gateway::Gateway& gateway,
                            std::optional<std::string_view> only_client) {
  // The id as its client was given it: hex for 3.4 and 5.0 clients, base 62 for 3.3 ones.
  std::optional<uint64_t> id = gateway::parse_message_id(text, smpp::Version::v34);
  if (!id) id = gateway::parse_message_id(text, smpp::Version::v33);
  if (!id) return http::json_error(400, "bad message id", std::string(text));
  auto answer = [](const json::object& o) { return http::json_response(200, o); };
  if (store != nullptr) {
    const auto m = store->message(*id, true);
    if (!m || (only_client && m->client != *only_client)) {
      return http::json_error(404, "no such message", std::string(text));
    }
    json::object o{{"id", text},
                   {"client", m->client},
                   {"state", store::state_name(m->state)},
                   {"route", m->route},
                   {"upstream", m->upstream},
                   {"source", m->source},
                   {"destination", m->destination},
                   {"parts", m->parts},
                   {"attempts", m->attempts},
                   {"accepted_at_ms", m->accepted_at},
                   {"submitted_at_ms", m->submitted_at},
                   {"done_at_ms", m->done_at},
                   {"smsc_id", m->smsc_id},
                   {"error", m->error}};
    json::array history;
    for (const auto& e : m->history) {
      history.push_back(json::object{{"at_ms", e.at},
                                     {"state", store::state_name(e.state)},
                                     {"upstream", e.upstream},
                                     {"smsc_id", e.smsc_id},
                                     {"error", e.error},
                                     {"detail", e.detail}});
    }
    o["history"] = std::move(history);
    add_callbacks(o, gateway, *id);
    return answer(o);
  }
  // Without storage, only what the id map holds: messages answered recently that asked for a
  // receipt.
  const auto rec = gateway.messages().find_by_id(*id);
  if (!rec || (only_client && rec->client.view() != *only_client)) {
    return http::json_error(404, "no such message",
                            std::string(text) +
                                " (without storage smppd keeps only recent messages that asked "
                                "for a receipt)");
  }
  json::object o{{"id", text},
                 {"client", rec->client.view()},
                 {"state", rec->final_receipt ? "final receipt received" : "submitted"},
                 {"smsc_id", rec->smsc_id.view()},
                 {"final_receipt", rec->final_receipt}};
  add_callbacks(o, gateway, *id);
  return answer(o);
}

}  // namespace smppd::rest
