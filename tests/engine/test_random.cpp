// Deterministic random streams: fixed values for a fixed name (portable, so a changed generator is caught),
// independence of differently named streams, and the moments of the distributions.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "engine/random.h"

using tessera::engine::RandomStream;

TEST(RandomStream, SameNameSameNumbersDifferentNameDifferentNumbers) {
  RandomStream a(42, "folds", 3), b(42, "folds", 3), c(42, "folds", 4), d(42, "dag", 3), e(43, "folds", 3);
  std::set<std::uint64_t> firsts;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  for (auto* s : {&c, &d, &e}) firsts.insert(s->next_u64());
  firsts.insert(RandomStream(42, "folds", 3).next_u64());
  EXPECT_EQ(firsts.size(), 4u);
}

TEST(RandomStream, UniformAndNormalMoments) {
  RandomStream s(7, "moments");
  const int n = 200000;
  double sum_u = 0, sum_z = 0, sum_z2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = s.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum_u += u;
    const double z = s.normal();
    sum_z += z;
    sum_z2 += z * z;
  }
  // Means within 5 standard errors: uniform sd = 1/sqrt(12), normal sd = 1, variance-of-z^2 = 2.
  EXPECT_NEAR(sum_u / n, 0.5, 5 / std::sqrt(12.0 * n));
  EXPECT_NEAR(sum_z / n, 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(sum_z2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}

TEST(RandomStream, UniformIntIsInRangeAndUnbiased) {
  RandomStream s(1, "ints");
  std::vector<int> counts(6, 0);
  const int n = 60000;
  for (int i = 0; i < n; ++i) ++counts[s.uniform_int(6)];
  for (int c : counts) EXPECT_NEAR(c, n / 6.0, 5 * std::sqrt(n * (1 / 6.0) * (5 / 6.0)));
  EXPECT_EQ(s.uniform_int(1), 0u);
}

TEST(RandomStream, ShuffleIsAPermutationAndReproducible) {
  std::vector<int> a(50), b;
  for (int i = 0; i < 50; ++i) a[i] = i;
  b = a;
  RandomStream s1(5, "shuffle"), s2(5, "shuffle");
  s1.shuffle(a);
  s2.shuffle(b);
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(a[0] + 50 * a[1] + 2500 * a[2], 0 + 50 * 1 + 2500 * 2);
}
