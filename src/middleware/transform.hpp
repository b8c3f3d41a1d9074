// The `transform` middleware: the configuration's rules, in order, rewrite a client's message
// before it is routed (the design's "Middleware" section).
//
//   - match: {field: regex}. Each regex must match the field's whole value (Boost.Regex, Perl
//     syntax; "^...$" anchors are allowed and change nothing). A rule without `match` matches
//     every message. Numeric fields (TON, NPI, data_coding, esm_class, registered_delivery,
//     priority_flag, protocol_id) match as their decimal text ("5", "[01]"); `client` is the
//     system_id the message came from; short_message is the decoded text (UTF-8), whichever of
//     short_message and message_payload carries it. A field the message does not have
//     (priority_flag of a data_sm) matches nothing. A rule that does not match is not a
//     rejection: the message goes on unchanged by it.
//   - set: {field: literal}: the value as written (numbers 0-255).
//   - transform: {field: template}: "+258${destination_addr}", "${short_message} Reply STOP".
//     Every ${field} of a rule reads the message as it was before that rule; each rule sees what
//     the rules before it wrote.
// An address written with a leading '+' is an international number: the '+' is dropped (SMPP
// carries digits) and the TON and NPI become 1 (international, E.164), unless the same rule
// sets them. A value too long for its PDU field (20 characters for submit_sm addresses, 64 for
// data_sm's, 5 for service_type) refuses the message: ESME_RINVSRCADR, ESME_RINVDSTADR,
// ESME_RINVSERTYP, filter "transform", rule "rule #N <field>".
//
// Text: the message is decoded by its data_coding, changed as UTF-8, and encoded once after the
// last rule: in the coding it came in when the new text still fits it (GSM 03.38, Latin-1, IA5,
// UCS-2), else in UCS-2 (data_coding 0x08). `set: {data_coding: N}` re-encodes the text in that
// coding (or in UCS-2 when it cannot carry it). A text that came in message_payload goes back
// there. One that came in short_message and no longer fits one part is segmented with a fresh
// reference as `multipart.segmentation` says (UDH concatenation or SAR TLVs, at most
// `max_parts`, else ESME_RINVMSGLEN): the request becomes the first part and the outcome holds
// the others (a submit_sm only; a submit_multi, or a path that takes one PDU, gets the whole text
// in message_payload instead, counted against max_parts the same way).
// A message that is already one part of a concatenated message (UDH or SAR), or carries another
// UDH, or binary data, has no text of its own to rewrite: parts are not reassembled here, so a
// rule that reads the text (match on it, ${short_message}) is skipped for it, and a rule that
// only writes it has the rest of its writes applied; either way the outcome names the rule and
// the reason (logged and counted by the gateway). Parts of one message meet the same rules on
// their addresses, so they stay alike.
// submit_multi: a rule that matches or writes destination fields is skipped (a rule is about
// one destination; the outcome says so); its other rules apply.
//
// Pure: no sockets, no logging, no clock. Built once per configuration; `apply` is const and
// safe from many threads (the only shared state is the counter of concatenation references).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "middleware/rejection.hpp"
#include "smpp/pdu.hpp"

namespace smppd::middleware {

// What the chain did to a message besides rewriting it in place.
struct Rewrite {
  // The message became several parts: the request is the first, these follow (in order).
  std::vector<smpp::SubmitSm> more_parts;
  // Rules not applied (wholly or for the text) and why: "part", "udh", "binary",
  // "undecodable", "submit_multi". For the log line and smppd_transform_skipped_total.
  struct Skip {
    std::string_view rule;
    std::string_view reason;
  };
  std::vector<Skip> skipped;
  std::size_t rules_applied = 0;
};

class Transform {
 public:
  // `rules` checked by the loader (config/message_rule.hpp); compiled here once.
  Transform(const std::vector<config::TransformRule>& rules,
            const config::MultipartConfig& multipart);
  ~Transform();
  Transform(const Transform&) = delete;
  Transform& operator=(const Transform&) = delete;

  // A client's submit_sm, data_sm or submit_multi, rewritten in place. `parts_allowed`: the
  // caller can send more parts than the request (else a long text goes in message_payload).
  // Returns the rejection when a rule's result cannot be sent.
  std::optional<Rejection> apply(smpp::Pdu& request, std::string_view client, bool parts_allowed,
                                 Rewrite& out) const;
  // A rule matches on the text, reads it in a template, or writes it (or its data_coding): a
  // long message must be seen whole (multipart.reassembly).
  bool about_text() const;

 private:
  template <class M>
  std::optional<Rejection> apply_to(M& m, std::string_view client, bool parts_allowed,
                                    Rewrite& out) const;

  struct Rule;  // compiled (transform.cpp: Boost.Regex stays out of this header)
  std::vector<Rule> rules_;
  config::MultipartConfig multipart_;
  mutable std::atomic<uint32_t> reference_{0};
};

// The literal text every value matching `pattern` starts with, and whether the pattern is only
// that literal (for Transform::Matcher; exposed for its tests).
struct LiteralPrefix {
  std::string prefix;
  bool literal_only = false;
};
LiteralPrefix literal_prefix(std::string_view pattern);

}  // namespace smppd::middleware
