// HTTP routes (see routes.h).
#include "serve/routes.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "app/export/attention_json.h"
#include "app/export/html_explorer.h"
#include "inference/attention_maps.h"
#include "model/transformer.h"
#include "serve/api_error.h"
#include "serve/page_assets.h"
#include "serve/requests.h"
#include "serve/responses.h"

namespace qkv {
namespace {

using httplib::Request;
using httplib::Response;
using Clock = std::chrono::steady_clock;

// Every route and the one method it answers (GET also answers HEAD).
const std::vector<std::pair<std::string, std::string>> kRoutes = {{"/", "GET"},
                                                                  {"/healthz", "GET"},
                                                                  {"/metrics", "GET"},
                                                                  {"/v1/model", "GET"},
                                                                  {"/v1/translate", "POST"},
                                                                  {"/v1/attention", "POST"}};

// The metrics label of a path: the route, or "other" (clients must not grow the label set).
std::string route_of(const std::string& path) {
  for (const auto& route : kRoutes) {
    if (route.first == path) return path;
  }
  return "other";
}

std::string route_list() {
  std::string list;
  for (const auto& [path, method] : kRoutes)
    list += (list.empty() ? "" : ", ") + method + " " + path;
  return list;
}

// When the current request began: set by the pre-routing handler, read by the logger. An HTTP
// thread serves one request at a time.
thread_local Clock::time_point t_request_start;

void send_json(Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

// JSON only: a cross-origin page can POST text/plain without asking, but not application/json.
void require_json(const Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    throw ApiError(415, "Content-Type: must be application/json, got '" + type + "'");
  }
}

std::shared_ptr<Job> queued(std::shared_ptr<Job> job, const ServeContext& c) {
  if (!job) {
    throw ApiError(503,
                   fmt::format("queue: {} requests are waiting (--max-queue); retry later",
                               c.options.max_queue));
  }
  return job;
}

// Waits for `job` within the time limit (then gives it up: 504); its error as 400 or 500.
void await(Job& job, const ServeContext& c) {
  const auto limit = std::chrono::milliseconds(static_cast<int64_t>(c.options.timeout_s * 1000));
  if (!job.wait_for(limit)) {
    job.cancel();
    throw ApiError(
        504, fmt::format("request: not answered within {} s (--timeout-s)", c.options.timeout_s));
  }
  if (!job.error().empty()) throw ApiError(job.bad_input() ? 400 : 500, job.error());
}

// Texts with heads switched off: the mask is the model's, so they cannot share a batch with
// other requests; they run alone on the model thread, as attention maps do.
void translate_with_heads_off(ServeContext& c, const TranslateRequest& request, Response& res) {
  auto translations = std::make_shared<std::vector<std::vector<Translation>>>();
  auto truncated = std::make_shared<std::vector<bool>>(request.texts.size(), false);
  const auto job = queued(c.batcher.submit_task([&c, request, translations, truncated] {
    HeadMaskScope heads_off(c.run.model, *request.heads_off);
    std::vector<int64_t> cut;
    *translations = c.translator.translate(request.texts, request.options, &cut);
    for (int64_t i : cut) (*truncated)[static_cast<size_t>(i)] = true;
  }),
                          c);
  await(*job, c);
  send_json(
      res,
      200,
      translate_response(request, *translations, *truncated, c.translator.max_source_tokens()));
}

void handle_translate(ServeContext& c, const Request& req, Response& res) {
  require_json(req);
  const TranslateRequest request = parse_translate_request(req.body, c.run.config);
  if (request.heads_off) return translate_with_heads_off(c, request, res);
  const auto job = queued(c.batcher.submit(request.texts, request.options), c);
  await(*job, c);
  send_json(res,
            200,
            translate_response(
                request, job->translations(), job->truncated(), c.translator.max_source_tokens()));
}

// What `qkv attention` writes for the sentence: attention.json, or the explorer's index.html.
std::string attention_document(ServeContext& c, const AttentionRequest& request) {
  std::optional<HeadMaskScope> heads_off;
  if (request.heads_off) heads_off.emplace(c.run.model, *request.heads_off);
  const bool projections = request.vectors || request.html;
  const SentenceAttention sentence =
      request.target
          ? collect_forced_attention(
                c.run.model, *c.run.tokenizer, request.text, *request.target, projections)
          : collect_decoded_attention(c.translator, request.text, request.options, projections);
  if (!request.html) return attention_json(sentence, request.vectors) + "\n";
  ExplorerOptions explorer;
  explorer.title = fmt::format("run {} · checkpoint {} (step {})",
                               c.run_dir,
                               c.run.checkpoint.filename().string(),
                               c.run.step);
  explorer.timeline_files = c.timeline_files;
  return explorer_html({sentence}, explorer);
}

void handle_attention(ServeContext& c, const Request& req, Response& res) {
  require_json(req);
  const AttentionRequest request = parse_attention_request(req.body, c.run.config);
  auto document = std::make_shared<std::string>();
  const auto job = queued(c.batcher.submit_task([&c, request, document] {
    *document = attention_document(c, request);
  }),
                          c);
  await(*job, c);
  const int64_t limit = c.translator.max_source_tokens();
  if (static_cast<int64_t>(c.run.tokenizer->encode(request.text).size()) > limit) {
    res.set_header(
        "X-Qkv-Warning",
        fmt::format("text: longer than {} tokens; its first {} were used", limit, limit));
  }
  res.status = 200;
  res.set_content(*document, request.html ? "text/html; charset=utf-8" : "application/json");
}

void handle_page(ServeContext& /*c*/, const Request& /*req*/, Response& res) {
  // The page and the explorer in it run inline scripts and styles, talk to this server only.
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                 "img-src data:; connect-src 'self'; frame-ancestors 'none'");
  res.set_content(kServePageHtml, "text/html; charset=utf-8");
}

void handle_model(ServeContext& c, const Request& /*req*/, Response& res) {
  send_json(res, 200, model_response(c.run, c.run_dir));
}

void handle_health(ServeContext& c, const Request& /*req*/, Response& res) {
  send_json(res,
            200,
            fmt::format("{{\"status\": \"ok\", \"queue_depth\": {}}}\n", c.batcher.queue_depth()));
}

void handle_metrics(ServeContext& c, const Request& /*req*/, Response& res) {
  res.set_content(c.metrics.prometheus_text(c.batcher.queue_depth()),
                  "text/plain; version=0.0.4; charset=utf-8");
}

using RouteHandler = void (*)(ServeContext&, const Request&, Response&);

// A route's handler with every failure answered as JSON: ApiError with its status, anything
// else 500 (and logged).
httplib::Server::Handler wrap(ServeContext& c, RouteHandler handler) {
  return [&c, handler](const Request& req, Response& res) {
    try {
      handler(c, req, res);
    } catch (const ApiError& e) {
      if (e.status() == 503) res.set_header("Retry-After", "1");
      send_json(res, e.status(), error_json(e.what()));
    } catch (const std::exception& e) {
      spdlog::error("[serve] {} {}: {}", req.method, req.path, e.what());
      send_json(res, 500, error_json(std::string("server: ") + e.what()));
    }
  };
}

// The methods a route does not answer: 405 naming the one it does (with Allow), and with
// --cors the browser's preflight OPTIONS.
void add_other_methods(httplib::Server& server,
                       const ServeContext& c,
                       const std::string& path,
                       const std::string& method) {
  const std::string allow = method == "GET" ? "GET, HEAD" : method;
  const auto not_allowed = [allow, method](const Request& req, Response& res) {
    res.set_header("Allow", allow);
    send_json(res,
              405,
              error_json(fmt::format(
                  "method: {} {} is not allowed; use {}", req.method, req.path, method)));
  };
  if (method != "GET") server.Get(path, not_allowed);
  if (method != "POST") server.Post(path, not_allowed);
  server.Put(path, not_allowed);
  server.Patch(path, not_allowed);
  server.Delete(path, not_allowed);
  if (c.options.cors.empty()) {
    server.Options(path, not_allowed);
  } else {
    server.Options(path, [allow](const Request& /*req*/, Response& res) {
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", allow);
      res.set_header("Access-Control-Allow-Headers", "Content-Type");
      res.set_header("Access-Control-Max-Age", "600");
    });
  }
}

// Bodies for the errors cpp-httplib answers itself (no route, body too large, bad HTTP).
std::string error_message(const Request& req, int status, const ServeContext& c) {
  switch (status) {
    case 404:
      return fmt::format("route: no {} {} (routes: {})", req.method, req.path, route_list());
    case 413:
      return fmt::format("body: larger than {} bytes", c.options.max_body_bytes);
    case 400:
      return "request: not a valid HTTP request";
    default:
      return fmt::format("HTTP {}", status);
  }
}

}  // namespace

void add_routes(httplib::Server& server, ServeContext& c) {
  const std::vector<std::pair<std::string, RouteHandler>> handlers = {
      {"/", handle_page},
      {"/healthz", handle_health},
      {"/metrics", handle_metrics},
      {"/v1/model", handle_model},
      {"/v1/translate", handle_translate},
      {"/v1/attention", handle_attention}};
  for (size_t i = 0; i < kRoutes.size(); ++i) {
    const auto& [path, method] = kRoutes[i];
    if (method == "GET") {
      server.Get(path, wrap(c, handlers[i].second));
    } else {
      server.Post(path, wrap(c, handlers[i].second));
    }
    add_other_methods(server, c, path, method);
  }
  server.set_pre_routing_handler([&c](const Request& /*req*/, Response& res) {
    t_request_start = Clock::now();
    if (!c.stopping) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Retry-After", "1");
    res.set_header("Connection", "close");
    send_json(res, 503, error_json("server: stopping; no new requests are accepted"));
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_error_handler([&c](const Request& req, Response& res) {
    if (res.body.empty()) send_json(res, res.status, error_json(error_message(req, res.status, c)));
  });
  server.set_exception_handler([](const Request& /*req*/, Response& res, std::exception_ptr /*e*/) {
    send_json(res, 500, error_json("server: unexpected error"));
  });
  server.set_logger([&c](const Request& req, const Response& res) {
    const double seconds = std::chrono::duration<double>(Clock::now() - t_request_start).count();
    c.metrics.observe_request(route_of(req.path), res.status, seconds);
    spdlog::debug("[serve] {} {} {} {:.1f} ms", req.method, req.path, res.status, seconds * 1000);
  });
}

}  // namespace qkv
