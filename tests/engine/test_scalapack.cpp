// engine/scalapack.h under mpirun at 1, 2 and 3 ranks: NUMROC and the index maps against ScaLAPACK's own,
// row blocks <-> block-cyclic round trips, and PDPOTRF/PDPOTRS against a dense one-rank answer.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/collectives.h"
#include "engine/context.h"
#include "engine/random.h"
#include "engine/scalapack.h"

extern "C" {
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
int indxl2g_(const int* indxloc, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
}

namespace tessera::engine {
namespace {

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  RandomStream random(seed, "test/scalapack");
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = random.normal();
  return m;
}

TEST(Scalapack, NumrocAndIndexMapsMatchScalapack) {
  for (int n : {0, 1, 7, 64, 100, 1001})
    for (int nb : {1, 3, 16, 64})
      for (int procs : {1, 2, 3, 4})
        for (int p = 0; p < procs; ++p) {
          const int zero = 0;
          EXPECT_EQ(numroc(n, nb, p, procs), numroc_(&n, &nb, &p, &zero, &procs)) << n << " " << nb << " " << p;
        }
  const Context world;
  const BlacsGrid grid(world);
  const BlockCyclicMatrix a(grid, 101, 37, 8, 5);
  const int zero = 0, mb = 8, nb = 5, my_row = grid.my_row(), my_col = grid.my_col(), rows = grid.rows(),
            cols = grid.cols();
  for (int li = 0; li < a.local().rows(); ++li) {
    const int fortran = li + 1;
    EXPECT_EQ(a.global_row(li) + 1, indxl2g_(&fortran, &mb, &my_row, &zero, &rows));
    EXPECT_EQ(a.row_owner(a.global_row(li)), my_row);
    EXPECT_EQ(a.local_row(a.global_row(li)), li);
  }
  for (int lj = 0; lj < a.local().cols(); ++lj) {
    const int fortran = lj + 1;
    EXPECT_EQ(a.global_col(lj) + 1, indxl2g_(&fortran, &nb, &my_col, &zero, &cols));
    EXPECT_EQ(a.local_col(a.global_col(lj)), lj);
  }
  // Every entry is held exactly once.
  EXPECT_EQ(allreduce_sum(world, std::int64_t(a.local().size())), std::int64_t(101 * 37));
}

TEST(Scalapack, GridShapes) {
  EXPECT_EQ(blacs_grid_shape(1), std::make_pair(1, 1));
  EXPECT_EQ(blacs_grid_shape(2), std::make_pair(1, 2));
  EXPECT_EQ(blacs_grid_shape(3), std::make_pair(1, 3));
  EXPECT_EQ(blacs_grid_shape(4), std::make_pair(2, 2));
  EXPECT_EQ(blacs_grid_shape(6), std::make_pair(2, 3));
  EXPECT_EQ(blacs_grid_shape(12), std::make_pair(3, 4));
  EXPECT_EQ(blacs_grid_shape(7), std::make_pair(1, 7));
  const Context world;
  const BlacsGrid grid(world);
  EXPECT_EQ(grid.rows() * grid.cols(), world.size());
  EXPECT_EQ(grid.rank_of(grid.my_row(), grid.my_col()), world.rank());
}

TEST(Scalapack, RowShardedRoundTrip) {
  const Context world;
  const BlacsGrid grid(world);
  for (const auto& [rows, cols, mb, nb] :
       {std::array<std::int64_t, 4>{53, 11, 4, 3}, {5, 9, 8, 8}, {0, 3, 2, 2}, {130, 978, 16, 16}}) {
    const Eigen::MatrixXd full = random_matrix(rows, cols, std::uint64_t(rows + cols));
    const auto sharded = RowShardedMatrix::scatter_from_replicated(world, full);
    const auto cyclic = to_block_cyclic(grid, sharded, mb, nb);
    for (Eigen::Index lj = 0; lj < cyclic.local().cols(); ++lj)
      for (Eigen::Index li = 0; li < cyclic.local().rows(); ++li)
        ASSERT_EQ(cyclic.local()(li, lj), full(cyclic.global_row(li), cyclic.global_col(lj)));
    const auto back = to_row_sharded(cyclic);
    EXPECT_EQ(back.range().begin, sharded.range().begin);
    EXPECT_EQ(back.local(), sharded.local());
  }
}

TEST(Scalapack, CholeskyMatchesDenseAndReportsIndefinite) {
  const Context world;
  const BlacsGrid grid(world);
  const std::int64_t n = 157, nrhs = 9, nb = 12;
  Eigen::MatrixXd g = random_matrix(n, n, 11);
  const Eigen::MatrixXd spd = g * g.transpose() + double(n) * Eigen::MatrixXd::Identity(n, n);
  const Eigen::MatrixXd b = random_matrix(n, nrhs, 12);

  auto a = to_block_cyclic(grid, RowShardedMatrix::scatter_from_replicated(world, spd), nb, nb);
  ASSERT_EQ(cholesky_factor(a), 0);
  auto x = to_block_cyclic(grid, RowShardedMatrix::scatter_from_replicated(world, b), nb, nb);
  cholesky_solve(a, x);
  const Eigen::MatrixXd solution = to_row_sharded(x).gather_all(world);
  const double backward = (b - spd * solution).norm() / (double(n) * spd.norm() * solution.norm());
  EXPECT_LT(backward, 10 * std::numeric_limits<double>::epsilon());

  // LAPACK on one rank gives the same answer.
  Eigen::MatrixXd factor = spd, serial = b;
  ASSERT_EQ(lapack_cholesky_factor(factor), 0);
  lapack_cholesky_solve(factor, serial);
  EXPECT_LT((solution - serial).norm() / serial.norm(), 1e-12);

  // Indefinite: the leading minor that fails is reported, on every rank alike.
  Eigen::MatrixXd indefinite = spd;
  indefinite(40, 40) = -1.0;
  auto c = to_block_cyclic(grid, RowShardedMatrix::scatter_from_replicated(world, indefinite), nb, nb);
  const int info = cholesky_factor(c);
  EXPECT_EQ(info, 41);
  Eigen::MatrixXd dense_indefinite = indefinite;
  EXPECT_EQ(lapack_cholesky_factor(dense_indefinite), 41);
}

}  // namespace
}  // namespace tessera::engine
