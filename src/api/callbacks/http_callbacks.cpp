#include "api/callbacks/http_callbacks.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <fmt/format.h>

#include "api/callbacks/callback_format.hpp"
#include "core/log.hpp"
#include "gateway/message_ids.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "store/store.hpp"

namespace smppd::callbacks {

using gateway::CallbackSpec;
using Style = CallbackSpec::Style;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kFirstRetry = 1s;
constexpr std::chrono::milliseconds kLongestRetry = 5min;
constexpr std::chrono::seconds kMoSweep = 10s;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<uint64_t> our_id(std::string_view text) {
  if (auto id = gateway::parse_message_id(text, smpp::Version::v34)) return id;
  return gateway::parse_message_id(text, smpp::Version::v33);
}

// The key the reassembler gives an MO part (smpp::Reassembler::add_sm), so that the parts'
// stored numbers can be kept beside it.
smpp::ReassemblyKey mo_key(std::string_view scope, const smpp::SmFields& sm) {
  smpp::ReassemblyKey key{std::string(scope), sm.source_addr.str(), sm.destination_addr.str(), 0,
                          1};
  std::optional<smpp::ConcatInfo> concat = smpp::sar_concat(sm.tlvs);
  if (!concat && (sm.esm_class & smpp::esm_class::kUdhi) != 0) {
    concat = smpp::parse_udh(sm.short_message.bytes()).concat;
  }
  if (concat) {
    key.reference = concat->reference;
    key.total = concat->total;
  }
  return key;
}

}  // namespace

bool public_address(const boost::asio::ip::address& a) {
  if (a.is_unspecified() || a.is_loopback() || a.is_multicast()) return false;
  if (a.is_v4()) {
    const uint32_t v = a.to_v4().to_uint();
    auto in = [v](uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
    return !(in(0x0A000000, 8) ||     // 10/8
             in(0xAC100000, 12) ||    // 172.16/12
             in(0xC0A80000, 16) ||    // 192.168/16
             in(0xA9FE0000, 16) ||    // 169.254/16 link-local (cloud metadata)
             in(0x64400000, 10) ||    // 100.64/10 carrier-grade NAT
             in(0x00000000, 8) ||     // 0/8
             in(0xC0000000, 24) ||    // 192.0.0/24 IETF protocol assignments
             in(0xC6120000, 15) ||    // 198.18/15 benchmarking
             v == 0xFFFFFFFF);
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return public_address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  const auto b = v6.to_bytes();
  if ((b[0] & 0xFE) == 0xFC) return false;                   // fc00::/7 unique local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return false;   // fe80::/10 link-local
  if (v6.is_site_local()) return false;
  return true;
}

struct HttpCallbacks::Job {
  std::shared_ptr<Receiver> receiver;
  std::string client;
  uint64_t message_id = 0;  // 0 for MO
  std::vector<uint64_t> stored;
  std::string_view kind;  // "receipt", "submit", "mo"
  Style style = Style::json;
  bool forget_spec = false;  // the message's last callback: its spec goes once this is over
  http::AsyncClient::Request request;
  bool sign = false;  // json: X-Smppd-Signature with the client's secret, per attempt
  bool untrusted = false;  // a URL the client gave: its receiver's `untrusted` HTTP client
  int attempts = 0;
  std::chrono::steady_clock::time_point give_up_at;
};

struct MoParts {
  MoFacts facts;
  std::vector<uint64_t> stored;
};

HttpCallbacks::HttpCallbacks(asio::any_io_executor executor, gateway::Gateway& gateway,
                             Counters& counters, const config::Config& config)
    : executor_(std::move(executor)), gateway_(gateway), counters_(counters) {
  reconfigure(config);
  gateway_.clients().divert_to(this);
  gateway_.callback_events(this);
  mo_timer_ = std::make_shared<asio::steady_timer>(executor_);
  expire_mo();
}

HttpCallbacks::~HttpCallbacks() { stop(); }

std::shared_ptr<HttpCallbacks::Receiver> HttpCallbacks::make_receiver(
    const config::ClientCallbacks& settings) {
  auto r = std::make_shared<Receiver>();
  r->settings = settings;
  http::AsyncClient::Settings s;
  s.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings.timeout);
  s.connect_timeout = std::min<std::chrono::milliseconds>(s.request_timeout, 5s);
  s.max_concurrent_per_origin = settings.max_concurrent;
  s.max_queued_per_origin = kMaxPending;
  r->http = std::make_shared<http::AsyncClient>(executor_, s);
  if (!settings.allow_private_networks) s.allow_address = public_address;
  r->untrusted = std::make_shared<http::AsyncClient>(executor_, s);
  if (!settings.receipt_url.empty()) {
    auto spec = std::make_shared<CallbackSpec>();
    spec->style = Style::json;
    spec->url = settings.receipt_url;
    r->receipts = std::move(spec);
  }
  return r;
}

void HttpCallbacks::reconfigure(const config::Config& config) {
  std::map<std::string, std::shared_ptr<Receiver>, std::less<>> next;
  bool configured = false;
  std::lock_guard lock(mutex_);
  for (const config::ClientConfig& c : config.clients) {
    const config::ClientCallbacks& cb = c.callbacks;
    if (!cb.receipt_url.empty() || !cb.mo_url.empty()) configured = true;
    auto old = receivers_.find(c.system_id);
    // Unchanged settings keep their HTTP client (and its kept-alive connections).
    if (old != receivers_.end() && old->second->settings == cb) {
      next.emplace(c.system_id, old->second);
    } else {
      next.emplace(c.system_id, make_receiver(cb));
    }
  }
  receivers_ = std::move(next);
  if (!defaults_) defaults_ = make_receiver(config::ClientCallbacks{});
  configured_.store(configured);
}

void HttpCallbacks::stop() {
  if (stopping_.exchange(true)) return;
  std::lock_guard lock(mutex_);
  std::size_t pending = 0;
  for (const auto& [client, n] : pending_) pending += n;
  if (pending > 0) {
    log::warn("callbacks: {} HTTP callback(s) not made yet as smppd stops; with "
              "storage.deliver_sm the receipts and MO among them are made after the restart, "
              "the others are lost",
              pending);
  }
  for (const auto& t : timers_) asio::post(executor_, [t] { t->cancel(); });
  timers_.clear();
  for (const auto& [name, r] : receivers_) {
    r->http->stop();
    r->untrusted->stop();
  }
  if (defaults_) {
    defaults_->http->stop();
    defaults_->untrusted->stop();
  }
  if (mo_timer_) asio::post(executor_, [t = mo_timer_] { t->cancel(); });
}

void HttpCallbacks::notify(std::string_view system_id, std::string url) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  std::shared_ptr<Receiver> r = receiver(system_id);
  http::AsyncClient::Request request;
  request.url = std::move(url);
  const std::string shown = request.url.substr(0, request.url.find('?'));
  r->untrusted->request(std::move(request), [shown, r](http::AsyncClient::Result result) {
    if (!result.error.empty() || result.status >= 400) {
      log::warn("callbacks: GET {} failed ({}); not tried again",
                shown, result.error.empty() ? "HTTP " + std::to_string(result.status)
                                            : result.error);
    }
  });
}

std::shared_ptr<HttpCallbacks::Receiver> HttpCallbacks::receiver(std::string_view system_id) {
  std::lock_guard lock(mutex_);
  auto it = receivers_.find(system_id);
  return it != receivers_.end() ? it->second : defaults_;
}

bool HttpCallbacks::reserve(std::string_view system_id, bool accepted) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(system_id);
  if (it == pending_.end()) it = pending_.emplace(std::string(system_id), 0).first;
  // What the SMSC was already told is taken may go up to twice the bound, as in the registry.
  if (it->second >= (accepted ? 2 * kMaxPending : kMaxPending)) return false;
  ++it->second;
  return true;
}

std::size_t HttpCallbacks::waiting(std::string_view system_id) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(system_id);
  return it == pending_.end() ? 0 : it->second;
}

gateway::DeliveryDivert::Taken HttpCallbacks::take(std::string_view system_id, smpp::Pdu& pdu,
                                                   uint64_t stored, std::string_view upstream,
                                                   bool accepted) {
  // Nothing asks for HTTP: one load, one more, and the SMPP sessions take it.
  if (!configured_.load(std::memory_order_relaxed) && gateway_.callbacks().empty()) {
    return Taken::no;
  }
  if (stopping_.load(std::memory_order_relaxed)) return Taken::no;
  uint8_t esm_class = 0;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) {
    esm_class = d->esm_class;
  } else if (const auto* ds = pdu.as<smpp::DataSm>()) {
    esm_class = ds->esm_class;
  } else {
    return Taken::no;
  }
  return smpp::is_receipt(esm_class) ? take_receipt(system_id, pdu, stored, upstream, accepted)
                                     : take_mo(system_id, pdu, stored, upstream, accepted);
}

gateway::DeliveryDivert::Taken HttpCallbacks::take_receipt(std::string_view system_id,
                                                           smpp::Pdu& pdu, uint64_t stored,
                                                           std::string_view upstream,
                                                           bool accepted) {
  std::shared_ptr<Receiver> r = receiver(system_id);
  // No message has a callback and this client has no receipt_url: nothing to read.
  if (!r->receipts && gateway_.callbacks().empty()) return Taken::no;
  std::optional<ReceiptFacts> facts = receipt_facts(pdu);
  if (!facts) return Taken::no;
  const std::optional<uint64_t> id = our_id(facts->message_id);
  std::shared_ptr<const CallbackSpec> spec = id ? gateway_.callbacks().find(*id) : nullptr;
  if (!spec) spec = r->receipts;
  if (!spec) return Taken::no;  // the client takes its receipts by SMPP
  const bool delivered = facts->state == smpp::MessageState::delivered;
  if (!spec->wants_receipt(facts->final, delivered)) {
    // Asked for by HTTP, not this one (Kannel's dlr-mask): it goes nowhere.
    if (facts->final && id) gateway_.callbacks().erase(*id);
    gateway_.clients().stored_done(system_id, stored);
    counters_.add("smppd_callbacks_total",
                  {{"client", system_id}, {"kind", "receipt"}, {"outcome", "not_asked_for"}});
    return Taken::yes;
  }
  if (!reserve(system_id, accepted)) return Taken::full;

  // The SMSC's id and the upstream, from the id map while it has the message.
  std::string smsc_id;
  std::string from_upstream(upstream);
  if (id) {
    if (auto rec = gateway_.messages().find_by_id(*id)) {
      smsc_id = std::string(rec->smsc_id.view());
      if (from_upstream.empty()) from_upstream = gateway_.upstream_name(rec->upstream);
    }
  }
  auto job = std::make_shared<Job>();
  job->receiver = r;
  job->untrusted = spec != r->receipts;  // the message's own URL, given by the client
  job->client = std::string(system_id);
  job->message_id = id.value_or(0);
  if (stored != 0) job->stored.push_back(stored);
  job->kind = "receipt";
  job->style = spec->style;
  job->forget_spec = facts->final && id.has_value();
  switch (spec->style) {
    case Style::json:
      job->request.method = "POST";
      job->request.url = spec->url;
      job->request.headers = {{"Content-Type", "application/json"},
                              {"X-Smppd-Event", "receipt"}};
      job->request.body = receipt_json(*facts, spec->client_ref, smsc_id, from_upstream);
      job->sign = !r->settings.secret.empty();
      break;
    case Style::kannel: {
      KannelDlr d;
      d.type = kannel_dlr_type(facts->state, facts->final);
      d.data = facts->receipt_text;
      d.receiver = spec->to.empty() ? facts->to : spec->to;
      d.sender = spec->from.empty() ? facts->from : spec->from;
      d.smsc = from_upstream;
      d.smsc_id = smsc_id;
      d.err = facts->err;
      d.username = std::string(system_id);
      d.account = spec->client_ref;
      d.meta = spec->meta;
      d.uuid = random_uuid();
      d.dlr_url = spec->url;
      d.unix_seconds = unix_now();
      job->request.method = "GET";
      job->request.url = kannel_expand(spec->url, d);
      break;
    }
    case Style::jasmin: {
      const std::string form =
          form_encode(jasmin_level2(facts->message_id, smsc_id, *facts, from_upstream));
      job->request.headers = {{"Accept", "text/plain"}};
      if (spec->post) {
        job->request.method = "POST";
        job->request.url = spec->url;
        job->request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        job->request.body = form;
      } else {
        job->request.method = "GET";
        job->request.url = with_query(spec->url, form);
      }
      break;
    }
  }
  job->give_up_at = std::chrono::steady_clock::now() + r->settings.retry_for;
  send(std::move(job));
  return Taken::yes;
}

void HttpCallbacks::submit_outcome(const gateway::SubmitOutcome& o) {
  if (stopping_.load(std::memory_order_relaxed) || !o.spec) return;
  const bool accepted = o.status == smpp::status::ESME_ROK;
  const CallbackSpec& spec = *o.spec;
  // A refused message has no receipt to come: its callback is over after this one.
  if (!spec.wants_submit_outcome(accepted)) {
    if (!accepted) gateway_.callbacks().erase(o.id);
    return;
  }
  if (!reserve(o.client, true)) {
    counters_.add("smppd_callbacks_total",
                  {{"client", o.client}, {"kind", "submit"}, {"outcome", "queue_full"}});
    return;
  }
  std::shared_ptr<Receiver> r = receiver(o.client);
  auto job = std::make_shared<Job>();
  job->receiver = r;
  job->client = std::string(o.client);
  job->message_id = o.id;
  job->kind = "submit";
  job->untrusted = true;
  job->style = spec.style;
  job->forget_spec = !accepted;
  const std::string id_text =
      gateway::render_message_id(o.id, static_cast<smpp::Version>(o.client_version));
  if (spec.style == Style::kannel) {
    KannelDlr d;
    d.type = accepted ? 8 : 16;
    d.data = accepted ? std::string("ACK/")
                      : fmt::format("NACK/0x{:08x}/{}", o.status, smpp::status_name(o.status));
    d.receiver = spec.to;
    d.sender = spec.from;
    d.smsc = std::string(o.upstream);
    d.smsc_id = std::string(o.smsc_id);
    d.username = std::string(o.client);
    d.account = spec.client_ref;
    d.meta = spec.meta;
    d.uuid = random_uuid();
    d.dlr_url = spec.url;
    d.unix_seconds = unix_now();
    job->request.method = "GET";
    job->request.url = kannel_expand(spec.url, d);
  } else {
    const std::string form =
        form_encode(jasmin_level1(id_text, smpp::status_name(o.status), o.upstream));
    job->request.headers = {{"Accept", "text/plain"}};
    if (spec.post) {
      job->request.method = "POST";
      job->request.url = spec.url;
      job->request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      job->request.body = form;
    } else {
      job->request.method = "GET";
      job->request.url = with_query(spec.url, form);
    }
  }
  job->give_up_at = std::chrono::steady_clock::now() + r->settings.retry_for;
  send(std::move(job));
}

gateway::DeliveryDivert::Taken HttpCallbacks::take_mo(std::string_view system_id,
                                                      smpp::Pdu& pdu, uint64_t stored,
                                                      std::string_view upstream,
                                                      bool accepted) {
  if (!configured_.load(std::memory_order_relaxed)) return Taken::no;
  std::shared_ptr<Receiver> r = receiver(system_id);
  if (r->settings.mo_url.empty()) return Taken::no;
  const int64_t now_ms = store::now_millis();
  MoParts parts;
  parts.facts.upstream = std::string(upstream);
  parts.facts.received_unix_ms = now_ms;
  if (const auto* ds = pdu.as<smpp::DataSm>()) {
    // data_sm MO: one piece (message_payload).
    parts.facts.from = std::string(ds->source_addr.view());
    parts.facts.to = std::string(ds->destination_addr.view());
    parts.facts.data_coding = ds->data_coding;
    if (const auto p = ds->tlvs.find(smpp::tlv::message_payload.tag)) {
      parts.facts.payload.assign(p->begin(), p->end());
    }
    if (stored != 0) parts.stored.push_back(stored);
    if (!reserve(system_id, accepted)) return Taken::full;
    post_mo(system_id, std::move(r), std::move(parts));
    return Taken::yes;
  }
  const auto* d = pdu.as<smpp::DeliverSm>();
  parts.facts.from = std::string(d->source_addr.view());
  parts.facts.to = std::string(d->destination_addr.view());
  parts.facts.data_coding = d->data_coding;
  std::unique_lock lock(mo_mutex_);
  const smpp::ReassemblyKey key = mo_key(system_id, *d);
  smpp::AcceptResult a = reassembler_.add_sm(system_id, *d, std::chrono::steady_clock::now());
  switch (a.outcome) {
    case smpp::ReassemblyOutcome::stored:
      if (stored != 0) mo_stored_[key].push_back(stored);
      if (!upstream.empty()) mo_upstream_[key] = std::string(upstream);
      return Taken::yes;
    case smpp::ReassemblyOutcome::duplicate:
      lock.unlock();
      gateway_.clients().stored_done(system_id, stored);
      return Taken::yes;
    case smpp::ReassemblyOutcome::overflow:
      return Taken::full;  // the SMSC sends it again later
    case smpp::ReassemblyOutcome::rejected: {
      // Concatenation that does not parse: the part as it is, on its own.
      const auto bytes = d->short_message.bytes();
      parts.facts.payload.assign(bytes.begin(), bytes.end());
      break;
    }
    case smpp::ReassemblyOutcome::complete: {
      parts.facts.payload = std::move(a.message->payload);
      parts.facts.parts = a.message->key.total;
      if (auto it = mo_stored_.find(a.message->key); it != mo_stored_.end()) {
        parts.stored = std::move(it->second);
        mo_stored_.erase(it);
      }
      if (auto it = mo_upstream_.find(a.message->key); it != mo_upstream_.end()) {
        if (parts.facts.upstream.empty()) parts.facts.upstream = it->second;
        mo_upstream_.erase(it);
      }
      break;
    }
  }
  lock.unlock();
  if (stored != 0) parts.stored.push_back(stored);
  // A message in one part may be refused for room; the last part of a long one is not (its
  // earlier parts were taken already): the bound is passed by it rather than lose them.
  if (!reserve(system_id, accepted || parts.facts.parts > 1)) return Taken::full;
  post_mo(system_id, std::move(r), std::move(parts));
  return Taken::yes;
}

void HttpCallbacks::post_mo(std::string_view system_id, std::shared_ptr<Receiver> r,
                            MoParts parts) {
  parts.facts.text = mo_text(parts.facts.payload, parts.facts.data_coding);
  auto job = std::make_shared<Job>();
  job->client = std::string(system_id);
  job->stored = std::move(parts.stored);
  job->kind = "mo";
  job->style = Style::json;
  job->request.method = "POST";
  job->request.url = r->settings.mo_url;
  job->request.headers = {{"Content-Type", "application/json"}, {"X-Smppd-Event", "mo"}};
  job->request.body = mo_json(parts.facts);
  job->sign = !r->settings.secret.empty();
  job->give_up_at = std::chrono::steady_clock::now() + r->settings.retry_for;
  job->receiver = std::move(r);
  send(std::move(job));
}

void HttpCallbacks::expire_mo() {
  if (stopping_.load()) return;
  std::vector<smpp::IncompleteMessage> given_up;
  {
    std::lock_guard lock(mo_mutex_);
    given_up = reassembler_.expire(std::chrono::steady_clock::now());
  }
  for (smpp::IncompleteMessage& m : given_up) {
    // Parts missing for too long: what came goes out, marked incomplete, so nothing taken is
    // lost.
    MoParts parts;
    {
      std::lock_guard lock(mo_mutex_);
      if (auto it = mo_stored_.find(m.key); it != mo_stored_.end()) {
        parts.stored = std::move(it->second);
        mo_stored_.erase(it);
      }
      if (auto it = mo_upstream_.find(m.key); it != mo_upstream_.end()) {
        parts.facts.upstream = it->second;
        mo_upstream_.erase(it);
      }
    }
    parts.facts.from = m.key.source;
    parts.facts.to = m.key.destination;
    parts.facts.parts = m.key.total;
    parts.facts.incomplete = true;
    parts.facts.received_unix_ms = store::now_millis();
    for (auto& [seq, payload] : m.parts) {
      parts.facts.payload.insert(parts.facts.payload.end(), payload.begin(), payload.end());
    }
    // The data_coding of the parts is not kept by the reassembler: the hex is exact, the text
    // is not attempted.
    parts.facts.data_coding = 0xF6;  // binary class 2: no text
    std::shared_ptr<Receiver> r = receiver(m.key.scope);
    if (r->settings.mo_url.empty() || !reserve(m.key.scope, true)) {
      counters_.add("smppd_callbacks_total",
                    {{"client", m.key.scope}, {"kind", "mo"}, {"outcome", "dropped"}});
      continue;
    }
    post_mo(m.key.scope, std::move(r), std::move(parts));
  }
  mo_timer_->expires_after(kMoSweep);
  mo_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) expire_mo();
  });
}

void HttpCallbacks::send(std::shared_ptr<Job> job) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  ++job->attempts;
  http::AsyncClient::Request request = job->request;
  if (job->sign) {
    const int64_t ts = unix_now();
    request.headers.emplace_back("X-Smppd-Timestamp", std::to_string(ts));
    request.headers.emplace_back(
        "X-Smppd-Signature", signature(job->receiver->settings.secret, ts, request.body));
  }
  std::shared_ptr<http::AsyncClient> client =
      job->untrusted ? job->receiver->untrusted : job->receiver->http;
  client->request(std::move(request), [this, job](http::AsyncClient::Result r) mutable {
    answered(job, std::move(r));
  });
}

void HttpCallbacks::answered(const std::shared_ptr<Job>& job, http::AsyncClient::Result r) {
  if (stopping_.load(std::memory_order_relaxed)) return;  // a stored one is called after restart
  const bool ok = job->style == Style::jasmin ? jasmin_acknowledged(r.status, r.body)
                                              : (r.status >= 200 && r.status < 300);
  bool again = false;
  std::string why;
  if (!ok) {
    if (!r.error.empty()) {
      why = r.error;
    } else if (job->style == Style::jasmin && r.status < 400) {
      why = fmt::format("HTTP {} without ACK/Jasmin", r.status);
    } else {
      why = fmt::format("HTTP {}", r.status);
    }
    // Jasmin's receivers are retried whatever they answer, but 404 (as Jasmin does); others
    // while the answer may change.
    again = job->style == Style::jasmin ? r.status != 404 : r.retryable;
  }
  const auto delay = std::min<std::chrono::milliseconds>(
      kLongestRetry, kFirstRetry * (1LL << std::min(job->attempts - 1, 20)));
  if (again && std::chrono::steady_clock::now() + delay > job->give_up_at) again = false;
  if (job->message_id != 0) {
    gateway_.callbacks().record_attempt(
        job->message_id, gateway::CallbackAttempt{store::now_millis(), std::string(job->kind),
                                                  r.status, why, ok || !again});
  }
  if (ok) {
    finish(*job, "delivered");
    return;
  }
  if (again) {
    counters_.add("smppd_callbacks_total",
                  {{"client", job->client}, {"kind", job->kind}, {"outcome", "retried"}});
    retry_later(job, delay);
    return;
  }
  log::warn("client {}: {} callback to {} given up after {} attempt(s): {}", job->client,
            job->kind, job->request.url.substr(0, job->request.url.find('?')), job->attempts,
            why);
  finish(*job, "given_up");
}

void HttpCallbacks::retry_later(std::shared_ptr<Job> job, std::chrono::milliseconds delay) {
  auto timer = std::make_shared<asio::steady_timer>(executor_, delay);
  {
    std::lock_guard lock(mutex_);
    if (stopping_.load()) return;
    timers_.insert(timer);
  }
  timer->async_wait([this, timer, job = std::move(job)](const boost::system::error_code& ec) {
    {
      std::lock_guard lock(mutex_);
      timers_.erase(timer);
    }
    if (!ec) send(job);
  });
}

void HttpCallbacks::finish(const Job& job, std::string_view outcome) {
  counters_.add("smppd_callbacks_total",
                {{"client", job.client}, {"kind", job.kind}, {"outcome", outcome}});
  for (uint64_t s : job.stored) gateway_.clients().stored_done(job.client, s);
  if (job.forget_spec) gateway_.callbacks().erase(job.message_id);
  std::lock_guard lock(mutex_);
  if (auto it = pending_.find(job.client); it != pending_.end() && it->second > 0) --it->second;
}

}  // namespace smppd::callbacks
