#include <gtest/gtest.h>

#include "engine/progress.h"

using namespace tessera::engine;

TEST(Progress, LineShowsCountsPercentRateAndEta) {
  Progress progress("folds", 200, "folds");
  const std::string line = progress.line(50);
  EXPECT_NE(line.find("folds: 50/200 (25.0%)"), std::string::npos) << line;
  EXPECT_NE(line.find("folds/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(progress.line(200).find("ETA 0s"), std::string::npos);
}

TEST(Progress, DurationsAreShortAndReadable) {
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3725), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}
