// Collective operations over a Context's communicator. Every function here is collective: all ranks of the
// communicator must call it, in the same order, with matching sizes. On one rank each returns at once with
// the input unchanged, which is the serial path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "engine/context.h"

namespace tessera::engine {

// In-place element-wise sums over ranks.
void allreduce_sum(const Context& ctx, std::span<double> values);
void allreduce_sum(const Context& ctx, std::span<float> values);
void allreduce_sum(const Context& ctx, std::span<std::int64_t> values);
void allreduce_sum(const Context& ctx, Eigen::MatrixXd& matrix);
double allreduce_sum(const Context& ctx, double value);
std::int64_t allreduce_sum(const Context& ctx, std::int64_t value);
double allreduce_max(const Context& ctx, double value);
// True on every rank when `flag` is true on any rank (used to agree on stopping or failing together).
bool allreduce_any(const Context& ctx, bool flag);

// Root's values replace everyone's.
void broadcast(const Context& ctx, std::span<double> values, int root = 0);
void broadcast(const Context& ctx, std::span<std::int64_t> values, int root = 0);
void broadcast(const Context& ctx, std::string& text, int root = 0);

// Concatenation of every rank's values in rank order, on every rank.
std::vector<double> allgatherv(const Context& ctx, std::span<const double> local);
std::vector<std::int64_t> allgatherv(const Context& ctx, std::span<const std::int64_t> local);
std::vector<std::string> allgatherv(const Context& ctx, const std::vector<std::string>& local);

}  // namespace tessera::engine
