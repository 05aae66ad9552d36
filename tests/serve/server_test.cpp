// `qkv serve` end to end: a real server on a free loopback port, over a tiny trained run,
// checked against the CLI (`qkv translate`, `qkv attention`), for every error status, under 64
// concurrent requests, through a SIGTERM during load, and in headless Chromium.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tests/app/run_command.h"
#include "tests/app/tiny_run.h"
#include "tests/serve/server_process.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using testing::lines_of;
using testing::run_qkv;
using testing::ServerProcess;

const std::vector<std::string> kSentences = {"The house is big.",
                                             "My sister reads a book.",
                                             "",
                                             "We play chess today.",
                                             "The dog is asleep."};

// The fixture corpus's English side: sentences for load.
std::vector<std::string> corpus_sentences() {
  return lines_of(testing::read_file(fs::path(QKV_FIXTURES_DIR) / "data" / "small.en"));
}

httplib::Result post(int port, const std::string& path, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(120, 0);
  return client.Post(path.c_str(), body, "application/json");
}

class Serve : public ::testing::Test {
 protected:
  void SetUp() override { run_ = testing::shared_tiny_run(); }
  std::string run_;
};

TEST_F(Serve, TranslateEqualsTheCli) {
  ServerProcess server({"--model", run_});
  // Greedy, one request per sentence and all in one request; beam 3 with 3-best and scores.
  std::vector<std::string> args = {"-q", "translate", "--model", run_, "--beam", "1"};
  args.insert(args.end(), kSentences.begin(), kSentences.end());
  const auto cli = run_qkv(args);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto expected = lines_of(cli.out);
  for (size_t i = 0; i < kSentences.size(); ++i) {
    const auto res =
        post(server.port(), "/v1/translate", json{{"text", kSentences[i]}, {"beam", 1}}.dump());
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(json::parse(res->body)["translation"], expected[i]);
  }
  const auto all =
      post(server.port(), "/v1/translate", json{{"texts", kSentences}, {"beam", 1}}.dump());
  ASSERT_EQ(all->status, 200) << all->body;
  const json translations = json::parse(all->body)["translations"];
  ASSERT_EQ(translations.size(), kSentences.size());
  for (size_t i = 0; i < kSentences.size(); ++i)
    EXPECT_EQ(translations[i]["translation"], expected[i]);

  const auto nbest_cli =
      run_qkv({"-q", "translate", "--model", run_, "--beam", "3", "--nbest", "3", kSentences[0]});
  ASSERT_EQ(nbest_cli.exit_code, 0) << nbest_cli.err;
  const auto nbest = post(server.port(),
                          "/v1/translate",
                          json{{"text", kSentences[0]}, {"beam", 3}, {"nbest", 3}}.dump());
  ASSERT_EQ(nbest->status, 200) << nbest->body;
  const json hypotheses = json::parse(nbest->body)["nbest"];
  const auto lines = lines_of(nbest_cli.out);  // "0<TAB>log-prob<TAB>text"
  ASSERT_EQ(hypotheses.size(), lines.size());
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::string log_prob = fmt::format("{:.4f}", hypotheses[k]["log_prob"].get<double>());
    EXPECT_EQ(lines[k], "0\t" + log_prob + "\t" + hypotheses[k]["translation"].get<std::string>());
  }
}

TEST_F(Serve, AttentionIsTheDocumentOfTheCli) {
  ServerProcess server({"--model", run_});
  const fs::path out = fs::temp_directory_path() / ("qkv_serve_att_" + std::to_string(::getpid()));
  const std::string sentence = kSentences[1];
  // Decoded (the run's beam), teacher-forced with a given target, and with a head switched off
  // (the document names it).
  for (const std::string variant : {"decoded", "forced", "heads_off"}) {
    std::vector<std::string> args = {
        "-q", "attention", "--model", run_, "--out", out.string(), "--format", "json"};
    json body = {{"text", sentence}};
    if (variant == "forced") {
      args.insert(args.end(), {"--target", "Meine Schwester liest."});
      body["target"] = "Meine Schwester liest.";
    }
    if (variant == "heads_off") {
      args.insert(args.end(), {"--heads-off", "decoder.0.cross_attn:1"});
      body["heads_off"] = "decoder.0.cross_attn:1";
    }
    args.push_back(sentence);
    const auto cli = run_qkv(args);
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    const auto res = post(server.port(), "/v1/attention", body.dump());
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->body, testing::read_file(out / "0" / "attention.json")) << variant;
    EXPECT_EQ(json::parse(res->body).contains("heads_off"), variant == "heads_off") << variant;
  }
  fs::remove_all(out);
  // The explorer page of the sentence, and q, k, v on request.
  const auto html =
      post(server.port(), "/v1/attention", json{{"text", sentence}, {"format", "html"}}.dump());
  ASSERT_EQ(html->status, 200);
  EXPECT_THAT(html->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(html->body, HasSubstr("qkv attention explorer"));
  const auto vectors =
      post(server.port(), "/v1/attention", json{{"text", sentence}, {"vectors", true}}.dump());
  EXPECT_TRUE(json::parse(vectors->body)["sites"][0].contains("query"));
}

TEST_F(Serve, ModelHealthMetricsAndPage) {
  ServerProcess server({"--model", run_});
  httplib::Client client("127.0.0.1", server.port());
  const auto model = client.Get("/v1/model");
  ASSERT_EQ(model->status, 200);
  const json info = json::parse(model->body);
  EXPECT_EQ(info["source_lang"], "en");
  EXPECT_EQ(info["target_lang"], "de");
  EXPECT_GT(info["parameters"].get<int64_t>(), 0);
  EXPECT_EQ(info["checkpoint"], "best.pt");
  EXPECT_GT(info["step"].get<int64_t>(), 0);
  EXPECT_EQ(info["limits"]["max_beam"], 64);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  const auto page = client.Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("/v1/attention"));
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_TRUE(page->get_header_value("Access-Control-Allow-Origin").empty());  // no CORS by default
  post(server.port(), "/v1/translate", R"({"texts": ["a", "b"]})");
  // A request is counted by the server's logger, which cpp-httplib calls after the response has
  // been sent: the client can ask for /metrics before that, so wait for it (at most 5 s).
  const std::string counted = "qkv_requests_total{route=\"/v1/translate\",status=\"200\"} 1";
  std::string metrics = client.Get("/metrics")->body;
  for (int tries = 0; tries < 100 && metrics.find(counted) == std::string::npos; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    metrics = client.Get("/metrics")->body;
  }
  EXPECT_THAT(metrics, HasSubstr("qkv_requests_total{route=\"/v1/translate\",status=\"200\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("qkv_requests_total{route=\"/v1/model\",status=\"200\"} 1"));
  EXPECT_THAT(
      metrics,
      HasSubstr("qkv_request_duration_seconds_bucket{route=\"/v1/translate\",le=\"+Inf\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("qkv_batch_texts_sum 2"));
  EXPECT_THAT(metrics, HasSubstr("qkv_queue_depth 0"));
}

TEST_F(Serve, LongInputIsTruncatedAndSaysSoAndCorsOnlyWhenAsked) {
  ServerProcess server({"--model", run_, "--cors", "http://localhost:3000"});
  std::string longest;
  for (int i = 0; i < 700; ++i) longest += "house ";
  const auto cut =
      post(server.port(), "/v1/translate", json{{"text", longest}, {"max_len", 5}}.dump());
  ASSERT_EQ(cut->status, 200) << cut->body;
  const json answer = json::parse(cut->body);
  EXPECT_EQ(answer["truncated"], true);
  EXPECT_THAT(answer["warning"].get<std::string>(), HasSubstr("translated its first"));
  const auto maps =
      post(server.port(), "/v1/attention", json{{"text", longest}, {"max_len", 5}}.dump());
  ASSERT_EQ(maps->status, 200);
  EXPECT_THAT(maps->get_header_value("X-Qkv-Warning"), HasSubstr("its first"));
  // --cors: the origin is allowed, and the browser's preflight is answered.
  EXPECT_EQ(cut->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  httplib::Client client("127.0.0.1", server.port());
  const auto preflight = client.Options("/v1/translate");
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Methods"), "POST");
}

// Status and the field named in {"error": ...}.
void expect_error(const httplib::Result& res, int status, const std::string& message) {
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json body = json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.is_object() && body.contains("error")) << res->body;
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr(message)) << status;
}

TEST_F(Serve, EveryErrorIsJsonWithItsStatus) {
  ServerProcess server({"--model", run_, "--max-body-bytes", "4096"});
  const int port = server.port();
  expect_error(post(port, "/v1/translate", "{not json"), 400, "body: not valid JSON");
  expect_error(post(port, "/v1/translate", "[1]"), 400, "body: must be a JSON object");
  expect_error(post(port, "/v1/translate", R"({"txt": "a"})"), 400, "unknown field 'txt'");
  expect_error(post(port, "/v1/translate", R"({"text": 1})"), 400, "text: must be a string");
  expect_error(
      post(port, "/v1/translate", R"({"text": "a", "beam": 0})"), 400, "beam: must be at least 1");
  expect_error(post(port, "/v1/translate", R"({"text": "a", "beam": 10000})"),
               400,
               "beam: must be at most 64");
  expect_error(
      post(port, "/v1/translate", R"({"text": "a", "beam": 2, "nbest": 3})"), 400, "nbest:");
  expect_error(post(port, "/v1/translate", R"({"text": "a", "max_len": 100000})"),
               400,
               "max_len: must be at most");
  expect_error(
      post(port, "/v1/translate", json{{"texts", std::vector<std::string>(65, "a")}}.dump()),
      400,
      "texts: at most 64");
  expect_error(post(port, "/v1/attention", R"({"text": ""})"), 400, "has no tokens");
  expect_error(post(port, "/v1/attention", R"({"text": "a", "format": "png"})"), 400, "format:");
  expect_error(post(port, "/v1/translate", json{{"text", std::string(5000, 'a')}}.dump()),
               413,
               "body: larger than 4096 bytes");
  httplib::Client client("127.0.0.1", port);
  expect_error(client.Get("/v1/nothing"), 404, "route: no GET /v1/nothing");
  expect_error(client.Get("/v1/translate"), 405, "use POST");
  EXPECT_EQ(client.Get("/v1/translate")->get_header_value("Allow"), "POST");
  expect_error(client.Delete("/v1/model"), 405, "use GET");
  expect_error(client.Post("/v1/translate", R"({"text": "a"})", "text/plain"), 415, "Content-Type");
}

TEST_F(Serve, AFullQueueIs503AndALateRequest504) {
  // The first request waits 3 s for others to join its batch: longer than its 0.5 s limit.
  ServerProcess server(
      {"--model", run_, "--max-queue", "1", "--max-wait-ms", "3000", "--timeout-s", "0.5"});
  std::thread late([&] {
    expect_error(
        post(server.port(), "/v1/translate", R"({"text": "a"})"), 504, "not answered within 0.5 s");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto full = post(server.port(), "/v1/translate", R"({"text": "b"})");
  expect_error(full, 503, "queue: 1 requests are waiting");
  EXPECT_EQ(full->get_header_value("Retry-After"), "1");
  late.join();
}

TEST_F(Serve, SixtyFourConcurrentRequestsAreBatchedAndCorrect) {
  ServerProcess server({"--model", run_, "--max-wait-ms", "20"});
  const std::vector<std::string> sentences = corpus_sentences();
  std::vector<std::string> args = {"-q", "translate", "--model", run_, "--beam", "2"};
  args.insert(args.end(), sentences.begin(), sentences.end());
  const auto cli = run_qkv(args);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto expected = lines_of(cli.out);
  std::vector<std::string> answers(64);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < answers.size(); ++i) {
    clients.emplace_back([&, i] {
      const auto res = post(server.port(),
                            "/v1/translate",
                            json{{"text", sentences[i % sentences.size()]}, {"beam", 2}}.dump());
      answers[i] = res && res->status == 200
                       ? json::parse(res->body)["translation"].get<std::string>()
                       : "failed: " + (res ? res->body : httplib::to_string(res.error()));
    });
  }
  for (auto& c : clients) c.join();
  for (size_t i = 0; i < answers.size(); ++i)
    EXPECT_EQ(answers[i], expected[i % sentences.size()]) << i;
  // Batched across requests: fewer batches than requests.
  const std::string metrics = httplib::Client("127.0.0.1", server.port()).Get("/metrics")->body;
  std::smatch count;
  ASSERT_TRUE(std::regex_search(metrics, count, std::regex("qkv_batch_texts_count (\\d+)")));
  EXPECT_LT(std::stoi(count[1]), 64);
}

TEST_F(Serve, SigtermDuringLoadLosesNoAcceptedRequest) {
  ServerProcess server({"--model", run_});
  const std::vector<std::string> sentences = corpus_sentences();
  std::atomic<int> answered{0};
  std::atomic<int> wrong{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_read_timeout(60, 0);
      for (int i = c; !stop; ++i) {
        const auto res = client.Post("/v1/translate",
                                     json{{"text", sentences[i % sentences.size()]}}.dump(),
                                     "application/json");
        if (!res) break;                // not accepted: the server closed its socket
        if (res->status == 503) break;  // not accepted: stopping
        if (res->status == 200)
          ++answered;
        else
          ++wrong;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  server.signal(SIGTERM);
  const int code = server.wait(60);
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(code, 0) << server.log();
  EXPECT_EQ(wrong, 0);
  EXPECT_GT(answered, 0);
  // Every request the server queued for the model was answered to its client.
  std::smatch accepted;
  const std::string log = server.log();
  ASSERT_TRUE(std::regex_search(log, accepted, std::regex("stopped: (\\d+) requests accepted")))
      << log;
  EXPECT_EQ(std::stoi(accepted[1]), answered.load()) << log;
}

TEST_F(Serve, BenchServeReportsThroughputLatencyAndBatches) {
  ServerProcess server({"--model", run_});
  const auto bench = run_qkv({"bench",
                              "serve",
                              "--url",
                              "http://127.0.0.1:" + std::to_string(server.port()),
                              "--clients",
                              "4",
                              "--requests",
                              "24",
                              "--input",
                              std::string(QKV_FIXTURES_DIR) + "/data/small.en"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const json result = json::parse(bench.out);
  EXPECT_EQ(result["mode"], "serve");
  EXPECT_EQ(result["answered"], 24);
  EXPECT_TRUE(result["errors"].empty()) << result["errors"];
  EXPECT_GT(result["sentences_per_s"].get<double>(), 0);
  EXPECT_GT(result["latency_ms"]["p99"].get<double>(), 0);
  EXPECT_GE(result["server_mean_batch_texts"].get<double>(), 1.0);
  // Nothing listening: one line, exit 1.
  const auto nothing = run_qkv({"bench",
                                "serve",
                                "--url",
                                "http://127.0.0.1:1",
                                "--input",
                                std::string(QKV_FIXTURES_DIR) + "/data/small.en"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_THAT(nothing.err, HasSubstr("cannot read /metrics"));
}

TEST_F(Serve, ThePageInHeadlessChromium) {
  ServerProcess server({"--model", run_});
  const fs::path screenshot = fs::path(QKV_SERVE_TEST_DIR).parent_path() / "page.png";
  // The page after switching a head off by clicking it (page_test.mjs: switchHeadsOff).
  const fs::path heads_off_screenshot =
      fs::path(QKV_SERVE_TEST_DIR).parent_path() / "page_heads_off.png";
  fs::remove(screenshot);
  fs::remove(heads_off_screenshot);
  const auto result =
      testing::run_program({"node",
                            QKV_PAGE_TEST,
                            "http://127.0.0.1:" + std::to_string(server.port()) + "/",
                            kSentences[0],
                            screenshot.string(),
                            heads_off_screenshot.string()},
                           "",
                           180);
  if (result.exit_code == 77 || result.exit_code == 127) GTEST_SKIP() << result.out << result.err;
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(fs::exists(screenshot));
  EXPECT_TRUE(fs::exists(heads_off_screenshot));
}

}  // namespace
}  // namespace qkv
