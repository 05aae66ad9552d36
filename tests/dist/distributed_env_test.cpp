// DistributedEnv from the launcher's variables: single process, a full torchrun set, and each
// kind of bad input with its one-line message.
#include "dist/distributed_env.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

namespace qkv {
namespace {

DistributedEnv parse(const std::map<std::string, std::string>& variables) {
  return parse_distributed_env([&](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  });
}

// The message of the error parse() throws for `variables` ("" when it throws none).
std::string error_for(const std::map<std::string, std::string>& variables) {
  try {
    parse(variables);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

const std::map<std::string, std::string> kTorchrun = {{"RANK", "1"},
                                                      {"WORLD_SIZE", "2"},
                                                      {"LOCAL_RANK", "1"},
                                                      {"MASTER_ADDR", "127.0.0.1"},
                                                      {"MASTER_PORT", "29500"}};

std::map<std::string, std::string> torchrun_with(const std::string& name,
                                                 const std::string& value) {
  auto variables = kTorchrun;
  variables[name] = value;
  return variables;
}

std::map<std::string, std::string> torchrun_without(const std::string& name) {
  auto variables = kTorchrun;
  variables.erase(name);
  return variables;
}

TEST(DistributedEnv, NoVariablesIsASingleProcess) {
  const auto env = parse({});
  EXPECT_FALSE(env.is_distributed());
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.describe(), "a single process");
}

TEST(DistributedEnv, WorldSizeOneIsASingleProcessWithoutMaster) {
  const auto env = parse({{"WORLD_SIZE", "1"}, {"RANK", "0"}});
  EXPECT_FALSE(env.is_distributed());
}

TEST(DistributedEnv, ReadsTorchrunsVariables) {
  const auto env = parse(kTorchrun);
  EXPECT_TRUE(env.is_distributed());
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.world_size, 2);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "127.0.0.1");
  EXPECT_EQ(env.master_port, 29500);
  EXPECT_EQ(env.describe(), "rank 1 of 2 (local rank 1), master 127.0.0.1:29500");
}

TEST(DistributedEnv, LocalRankDefaultsToRank) {
  EXPECT_EQ(parse(torchrun_without("LOCAL_RANK")).local_rank, 1);
}

TEST(DistributedEnv, MissingVariablesOfAGroupAreNamed) {
  EXPECT_EQ(error_for(torchrun_without("RANK")), "WORLD_SIZE=2 but RANK is not set");
  EXPECT_EQ(error_for(torchrun_without("MASTER_ADDR")), "WORLD_SIZE=2 but MASTER_ADDR is not set");
  EXPECT_EQ(error_for(torchrun_with("MASTER_ADDR", "")), "WORLD_SIZE=2 but MASTER_ADDR is not set");
  EXPECT_EQ(error_for(torchrun_without("MASTER_PORT")), "WORLD_SIZE=2 but MASTER_PORT is not set");
}

TEST(DistributedEnv, RanksOutsideTheGroupAreRefused) {
  EXPECT_EQ(error_for(torchrun_with("RANK", "5")), "RANK=5 is not below WORLD_SIZE=2");
  EXPECT_EQ(error_for(torchrun_with("RANK", "2")), "RANK=2 is not below WORLD_SIZE=2");
  EXPECT_EQ(error_for(torchrun_with("RANK", "-1")), "RANK=-1 is negative");
  EXPECT_EQ(error_for(torchrun_with("LOCAL_RANK", "7")), "LOCAL_RANK=7 is not below WORLD_SIZE=2");
  EXPECT_EQ(error_for({{"RANK", "3"}}), "RANK=3 is not below WORLD_SIZE=1");
}

TEST(DistributedEnv, NonNumbersAreRefused) {
  EXPECT_EQ(error_for(torchrun_with("WORLD_SIZE", "two")), "WORLD_SIZE=two is not a whole number");
  EXPECT_EQ(error_for(torchrun_with("RANK", " 1")), "RANK= 1 is not a whole number");
  EXPECT_EQ(error_for(torchrun_with("RANK", "1.0")), "RANK=1.0 is not a whole number");
  EXPECT_EQ(error_for(torchrun_with("MASTER_PORT", "29500x")),
            "MASTER_PORT=29500x is not a whole number");
  EXPECT_EQ(error_for(torchrun_with("WORLD_SIZE", "99999999999999999999")),
            "WORLD_SIZE=99999999999999999999 is not a whole number");
  EXPECT_EQ(error_for(torchrun_with("WORLD_SIZE", "99999999999")),
            "WORLD_SIZE=99999999999 is too large");
}

TEST(DistributedEnv, BadSizesAndPortsAreRefused) {
  EXPECT_EQ(error_for(torchrun_with("WORLD_SIZE", "0")), "WORLD_SIZE=0 must be at least 1");
  EXPECT_EQ(error_for(torchrun_with("MASTER_PORT", "0")),
            "MASTER_PORT=0 is not a TCP port (1 to 65535)");
  EXPECT_EQ(error_for(torchrun_with("MASTER_PORT", "65536")),
            "MASTER_PORT=65536 is not a TCP port (1 to 65535)");
}

}  // namespace
}  // namespace qkv
