#include "api/metrics/render.hpp"

#include <algorithm>
#include <array>

namespace smppd::metrics {

namespace {

// Every family, sorted by name. A series counted under a name missing here is still exposed
// (with a generic help); the test of this table checks that the daemon's names are all here.
constexpr FamilyInfo kFamilies[] = {
    {"smppd_accept_errors_total", Type::counter,
     "Failed accepts on a listener (out of descriptors or memory)."},
    {"smppd_auth_backend_requests_total", Type::counter,
     "External authentication: each backend's verdicts (accepted, unknown, refused, failed)."},
    {"smppd_auth_external_total", Type::counter,
     "External authentication answers: accepted, refused, failed, stale (a remembered accept "
     "while the backends failed), cached_accept, cached_refusal."},
    {"smppd_binds_rejected_total", Type::counter, "Binds refused, by listener and reason."},
    {"smppd_binds_total", Type::counter, "Successful binds, by listener, client and mode."},
    {"smppd_build_info", Type::gauge, "Always 1; the version and git revision smppd was built from."},
    {"smppd_callbacks_total", Type::counter,
     "HTTP callbacks (receipts, the SMSC's answers, MO) by client, kind and outcome: delivered, "
     "retried (one failed attempt, tried again), given_up, not_asked_for, queue_full, dropped."},
    {"smppd_client_queue_depth", Type::gauge,
     "Receipts and MO waiting in memory for a client to take them."},
    {"smppd_cluster_heartbeats_total", Type::counter,
     "This node's heartbeats to Redis: ok, failed (Redis down, refusing or slower than its timeout)."},
    {"smppd_cluster_nodes", Type::gauge,
     "Nodes of the cluster as this one sees them: alive, gone (no heartbeat for node_timeout)."},
    {"smppd_cluster_nodes_missing", Type::gauge,
     "Nodes discovery expects (static peers, the Kubernetes service's addresses) with no live node."},
    {"smppd_cluster_nodes_other_config", Type::gauge,
     "Live nodes running a configuration whose SHA-256 differs from this node's."},
    {"smppd_cluster_redis_commands_total", Type::counter, "Commands this node sent to Redis."},
    {"smppd_cluster_redis_up", Type::gauge, "1 while this node's last heartbeat reached Redis."},
    {"smppd_connections_active", Type::gauge,
     "Sessions open now: bound client sessions by client, and unbound ones."},
    {"smppd_connections_rejected_total", Type::counter,
     "Connections refused before any bind, by listener and reason."},
    {"smppd_connections_total", Type::counter, "Connections accepted, by listener."},
    {"smppd_deliveries_refused_total", Type::counter,
     "Receipts and MO an SMSC was asked to send again later, by reason."},
    {"smppd_deliveries_stored_total", Type::counter,
     "Receipts and MO stored for a client (storage.deliver_sm)."},
    {"smppd_grpc_requests_total", Type::counter,
     "gRPC calls by listener, method and the status they ended with (SendStream: streams)."},
    {"smppd_http_requests_total", Type::counter,
     "Requests to the HTTP listeners (the REST API), by listener and the status answered."},
    {"smppd_late_responses_total", Type::counter,
     "Upstream responses that came after timeouts.response (the client was answered "
     "already)."},
    {"smppd_message_latency_seconds", Type::histogram,
     "Time from sending a message upstream to its response (stage=response), and from that "
     "response to its delivery receipt (stage=receipt)."},
    {"smppd_messages_final_total", Type::counter,
     "Stored messages that reached a final state smppd decided (refused, expired), by state."},
    {"smppd_messages_not_expressible_total", Type::counter,
     "Messages an SMPP 3.3 upstream cannot carry, refused."},
    {"smppd_messages_reassembled_total", Type::counter,
     "Long messages a client sent as parts, joined whole before the middleware and routes "
     "(multipart.reassembly), by client."},
    {"smppd_messages_rejected_total", Type::counter,
     "Client messages refused by smppd itself, by client and reason."},
    {"smppd_messages_requeued_total", Type::counter,
     "Stored messages put back on disk to be sent again (never sent, throttled)."},
    {"smppd_messages_resent_after_restart_total", Type::counter,
     "Stored messages in flight at the last stop, sent again after the restart."},
    {"smppd_messages_segmented_for_v33_total", Type::counter,
     "Long messages sent as several submit_sm to an SMPP 3.3 upstream."},
    {"smppd_messages_segmented_total", Type::counter,
     "Long messages smppd cut into parts for an upstream with message.max_length."},
    {"smppd_messages_stored_total", Type::counter,
     "Client messages stored before they were answered (store and forward)."},
    {"smppd_messages_total", Type::counter,
     "Messages by direction (mt: client to upstream, mo: upstream to client), client, upstream "
     "and the command_status they were answered with."},
    {"smppd_middleware_rejections_total", Type::counter,
     "Messages the middleware refused, by client, filter and rule (address_filter: the "
     "client's addresses)."},
    {"smppd_mnp_answers_total", Type::counter,
     "Number portability answers messages were routed by, by source: cache, provider, or "
     "fallback (not ported: the provider was slow, down or said nothing useful)."},
    {"smppd_mnp_merged_total", Type::counter,
     "MNP lookups that joined a request already on its way for the same number."},
    {"smppd_mnp_paused_total", Type::counter,
     "MNP lookups answered by the fallback at once while the provider was paused after "
     "failures in a row."},
    {"smppd_mnp_requests_total", Type::counter,
     "Requests to the MNP provider, by result: answered (a network), failed (the fallback)."},
    {"smppd_mnp_waiting", Type::gauge, "Messages waiting for their MNP answer right now."},
    {"smppd_mo_unrouted_total", Type::counter, "MO messages that matched no mo_route."},
    {"smppd_open_fds", Type::gauge, "File descriptors open in the process."},
    {"smppd_output_pauses_total", Type::counter,
     "Times a client made smppd stop reading by not reading its responses."},
    {"smppd_pdu_errors_total", Type::counter,
     "Responses with an error status (and generic_nack), by side (client, upstream), direction "
     "and command_status."},
    {"smppd_pdus_total", Type::counter,
     "PDUs by side (client: sessions of the listeners; upstream: connections to SMSCs), "
     "direction (received, sent) and command."},
    {"smppd_process_cpu_seconds_total", Type::counter, "CPU time used by the process."},
    {"smppd_process_resident_memory_bytes", Type::gauge, "Resident memory of the process."},
    {"smppd_protocol_errors_total", Type::counter,
     "Client PDUs that could not be decoded or came in the wrong state."},
    {"smppd_rate_limit_hits_total", Type::counter,
     "Messages a client sent beyond its rate_limit: messages_per_second (answered "
     "ESME_RTHROTTLED) or window_size (ESME_RMSGQFUL), across all its sessions."},
    {"smppd_reassembly_given_up_total", Type::counter,
     "Long messages whose answered parts went no further (expired, refused whole, stopping), "
     "by client and reason."},
    {"smppd_reassembly_parts_total", Type::counter,
     "Parts of long messages by what reassembly did with them: held, completed, duplicate, "
     "refused (buffer full), passed (not joinable)."},
    {"smppd_receipts_dropped_total", Type::counter,
     "Delivery receipts given up (their message was never known), by upstream and reason."},
    {"smppd_receipts_held", Type::gauge,
     "Delivery receipts waiting for their message's response right now."},
    {"smppd_receipts_made_total", Type::counter,
     "Delivery receipts smppd made itself (refused or expired stored messages, parts of long "
     "messages given up), by client and state."},
    {"smppd_receipts_total", Type::counter,
     "Delivery receipts matched to their message and sent to its client."},
    {"smppd_receipts_unmatched_total", Type::counter,
     "Delivery receipts that matched no message."},
    {"smppd_requests_refused_total", Type::counter,
     "Client requests refused by a limit or during shutdown, by reason."},
    {"smppd_route_matches_total", Type::counter,
     "Messages each route matched (the first route that matches decides)."},
    {"smppd_route_script_calls_total", Type::counter,
     "Calls of a route's Lua script (routes[].script)."},
    {"smppd_route_script_errors_total", Type::counter,
     "Route script calls that decided nothing: an error, an overrun of its budget, or a name that "
     "is no route and no upstream (kind); the message went on to the next route."},
    {"smppd_sessions_closed_total", Type::counter, "Client sessions closed, by listener."},
    {"smppd_start_time_seconds", Type::gauge, "When the process started (Unix time)."},
    {"smppd_store_backlog", Type::gauge, "Stored messages waiting to be sent."},
    {"smppd_store_commit_seconds_total", Type::counter, "Time spent committing to the store."},
    {"smppd_store_commits_total", Type::counter, "Store commits (each one fsync)."},
    {"smppd_store_deliveries", Type::gauge, "Receipts and MO stored and not yet taken."},
    {"smppd_store_failures_total", Type::counter, "Store writes that failed."},
    {"smppd_store_file_bytes", Type::gauge, "Size of the store's database file."},
    {"smppd_store_writes_total", Type::counter, "Rows written to the store."},
    {"smppd_tls_handshake_failures_total", Type::counter,
     "TLS handshakes that failed, by side (client: a listener's; upstream) and its name."},
    {"smppd_tlvs_rewritten_for_v33_total", Type::counter,
     "TLVs written the SMPP 3.3 way for a 3.3 upstream."},
    {"smppd_tlvs_stripped_total", Type::counter, "TLVs left out towards SMPP 3.3 clients."},
    {"smppd_trace_export_failures_total", Type::counter,
     "POSTs of spans to the OTLP collector that failed (each attempt)."},
    {"smppd_trace_spans_total", Type::counter,
     "Spans of sampled messages: exported, refused by the collector, given up after retries, or "
     "dropped on the message path because the buffer was full."},
    {"smppd_transform_skipped_total", Type::counter,
     "Transform rules not applied to a message (one part of a concatenated message, a UDH, "
     "binary data, submit_multi), by client, rule and reason."},
    {"smppd_upstream_connections", Type::gauge, "Upstream connections by state."},
    {"smppd_upstream_connects_total", Type::counter,
     "Connection attempts to an upstream's hosts, by result (bound, bind_refused, "
     "connect_failed, connect_timeout, tls_failed, not_bound): reconnects show here."},
    {"smppd_upstream_disconnects_total", Type::counter,
     "Bound upstream connections that dropped without smppd closing them."},
    {"smppd_upstream_failed_total", Type::counter,
     "Upstream connections that failed or dropped, by reason."},
    {"smppd_upstream_health", Type::gauge,
     "1 when the upstream can take messages (a healthy host bound, not suspended), else 0."},
    {"smppd_upstream_health_changes_total", Type::counter, "Health changes of upstream hosts."},
    {"smppd_upstream_health_checks_total", Type::counter,
     "Health checks of upstream hosts, by result."},
    {"smppd_upstream_queue_depth", Type::gauge,
     "Messages waiting in an upstream's queue for a connection with room."},
    {"smppd_upstream_retries_total", Type::counter,
     "Requests sent again under the upstream's retry policy (a retryable error)."},
    {"smppd_upstream_suspended", Type::gauge, "1 when the upstream is suspended by an operator."},
    {"smppd_upstream_throttled_total", Type::counter,
     "ESME_RTHROTTLED or ESME_RMSGQFUL answers from an upstream (each pauses a connection)."},
    {"smppd_upstream_timeouts_total", Type::counter,
     "Stored messages whose upstream never answered (outcome unknown, not sent again)."},
    {"smppd_upstream_window_used", Type::gauge, "Requests in flight on an upstream's connections."},
    {"smppd_uptime_seconds", Type::gauge, "Seconds since smppd started."},
};

const FamilyInfo* find(std::string_view name) {
  auto it = std::lower_bound(std::begin(kFamilies), std::end(kFamilies), name,
                             [](const FamilyInfo& f, std::string_view n) { return f.name < n; });
  return it != std::end(kFamilies) && it->name == name ? &*it : nullptr;
}

Type type_of(SeriesKind k) {
  switch (k) {
    case SeriesKind::counter:
      return Type::counter;
    case SeriesKind::gauge:
      return Type::gauge;
    case SeriesKind::histogram:
      return Type::histogram;
  }
  return Type::gauge;
}

std::string_view help_or_default(std::string_view name) {
  const std::string_view h = help_of(name);
  return h.empty() ? std::string_view("smppd metric.") : h;
}

}  // namespace

std::string_view help_of(std::string_view family) {
  const FamilyInfo* f = find(family);
  return f != nullptr ? f->help : std::string_view();
}

std::span<const FamilyInfo> families() {
  return kFamilies;
}

std::string render(const Counters& counters, const std::vector<Family>& computed) {
  std::string out;
  out.reserve(64 * 1024);
  TextWriter w(out);
  std::string_view current;
  std::vector<Label> labels;
  std::vector<double> bounds;
  counters.collect([&](const Counters::Sample& s) {
    if (s.name != current) {
      w.family(s.name, help_or_default(s.name), type_of(s.kind));
      current = s.name;
    }
    labels.clear();
    for (const auto& [n, v] : s.labels) labels.push_back(Label{n, v});
    if (s.kind != SeriesKind::histogram) {
      w.sample(s.name, labels, s.value);
      return;
    }
    bounds.clear();
    for (uint64_t b : s.buckets->bounds) bounds.push_back(static_cast<double>(b) / s.buckets->divisor);
    w.histogram(s.name, labels, bounds, s.counts, s.sum);
  });
  for (const auto& f : computed) {
    if (f.points.empty()) continue;
    w.family(f.name, help_or_default(f.name), f.type);
    for (const auto& p : f.points) {
      labels.clear();
      for (const auto& [n, v] : p.labels) labels.push_back(Label{n, v});
      w.sample(f.name, labels, p.value);
    }
  }
  return out;
}

}  // namespace smppd::metrics
