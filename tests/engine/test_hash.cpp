// engine/hash.h: the published FNV-1a 64 vectors, and every caller's hash pinned to the value the code it replaced
// gave (the literals below were computed with the four copies it replaced, before they were deleted): checkpoint
// file names, checkpoint fingerprints and random-stream seeds derived from these hashes must stay valid.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/hash.h"
#include "engine/random.h"
#include "solvers/causal/citest/ci_test.h"
#include "solvers/causal/dag.h"

namespace tessera::engine {
namespace {

TEST(Hash, PublishedFnv1a64Vectors) {
  EXPECT_EQ(stable_hash(""), 0xcbf29ce484222325ULL);  // the offset basis
  EXPECT_EQ(stable_hash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(stable_hash("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(kFnvOffsetBasis, 0xcbf29ce484222325ULL);
  EXPECT_EQ(kFnvPrime, 0x100000001b3ULL);
}

TEST(Hash, BytesChainAsOneBuffer) {
  const std::string whole = "checkpoint of fold 3";
  const std::uint64_t chained = hash_bytes(whole.data() + 7, whole.size() - 7, hash_bytes(whole.data(), 7));
  EXPECT_EQ(chained, stable_hash(whole));
  EXPECT_EQ(stable_hash("fold 3", stable_hash("checkpoint of ")), stable_hash(whole));
}

// random.cpp seeded its streams from stable_hash(purpose): the same purpose hash as before.
TEST(Hash, RandomStreamPurposeHashUnchanged) { EXPECT_EQ(stable_hash("folds"), 0xd53294afa96a621bULL); }

// solvers/ntk/solve/kernel_regression.cpp names a fold's CG checkpoint file by the training entries, the queries
// and the kernel's label hashed in a chain; matrix_free.cpp fingerprints Y by its bytes.
TEST(Hash, NtkCheckpointNameAndYHashUnchanged) {
  const std::vector<std::int64_t> train{0, 5, 17, std::int64_t(1) << 40, -3}, queries{2, 9};
  const std::string label = "ntk depth=2 prior=mean";
  std::uint64_t h = hash_bytes(train.data(), train.size() * sizeof(std::int64_t));
  h = hash_bytes(queries.data(), queries.size() * sizeof(std::int64_t), h);
  h = hash_bytes(label.data(), label.size(), h);
  EXPECT_EQ(h, 0x00fda6a587531f0aULL);
  const std::vector<double> y{1.5, -2.25, 0.0, 1e-300, 3.0};
  EXPECT_EQ(hash_bytes(y.data(), y.size() * sizeof(double)), 0x1566493ddf2a41afULL);
}

// solvers/causal/data.cpp hashes each column word by word (the doubles' bits) to find duplicate columns.
TEST(Hash, CausalColumnHashUnchanged) {
  std::uint64_t h = kWordHashBasis;
  for (double v : {1.5, -2.25, 0.0, 1e-300, 3.0}) h = mix_word(h, double_bits(v));
  EXPECT_EQ(h, 0x1110bd139a467398ULL);
  EXPECT_EQ(kWordHashBasis, 0x14650fb0739d0383ULL);
}

// The callers themselves: the CI tests' memo key and Dag::hash.
TEST(Hash, CausalIntVectorHashAndDagHashUnchanged) {
  const solvers::causal::IntVectorHash memo_key;
  EXPECT_EQ(memo_key({3, 1, 4, 1, 5}), std::size_t(0x10f5bb4db77e297bULL));
  EXPECT_EQ(memo_key({-1, 7}), std::size_t(0x66878f883ab46229ULL));  // negative: its 32-bit pattern
  EXPECT_EQ(memo_key({}), std::size_t(0x14650fb0739d0383ULL));
  EXPECT_NE(memo_key({1, 3}), memo_key({3, 1}));

  const auto dag = solvers::causal::Dag::from_edges(4, {{0, 2}, {1, 2}, {2, 3}});
  EXPECT_EQ(dag.hash(), 0xca1f8f9c7eeb5a8bULL);
  EXPECT_EQ(solvers::causal::Dag(3).hash(), 0xe6c673f7d3cc0931ULL);
}

// mix_word is a word-wide step, not FNV-1a of the word's bytes: the two must not be mixed up.
TEST(Hash, WordStepDiffersFromHashingTheBytes) {
  const std::uint64_t word = 0x0102030405060708ULL;
  EXPECT_EQ(mix_word(kFnvOffsetBasis, word), (kFnvOffsetBasis ^ word) * kFnvPrime);
  EXPECT_NE(mix_word(kFnvOffsetBasis, word), hash_bytes(&word, sizeof word));
  EXPECT_EQ(double_bits(1.0), 0x3ff0000000000000ULL);
}

}  // namespace
}  // namespace tessera::engine
