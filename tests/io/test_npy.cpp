// NumPy .npy: the writer's files read back bit for bit, and files built byte by byte from the format
// specification (numpy.lib.format) in the other dtypes and layouts read to the values put in them.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>

#include "io/npy.h"
#include "tests/support/test_helpers.h"

namespace tessera::io {
namespace {

std::filesystem::path scratch(const std::string& name) { return testing::scratch_dir("tessera_npy", name); }

// A version-1.0 file with `header` (padded as NumPy pads it) and raw little-endian `payload`.
void write_raw_npy(const std::filesystem::path& path, std::string header, const std::string& payload) {
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(char(header.size() & 0xff)).put(char(header.size() >> 8));
  out << header << payload;
}

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

TEST(Npy, WrittenMatrixReadsBackExactly) {
  Eigen::MatrixXd m(3, 4);
  for (int i = 0; i < 12; ++i) m(i % 3, i / 3) = 0.1 * i - 0.37 + (i == 5 ? 1e300 : 0);
  const auto path = scratch("roundtrip") / "m.npy";
  write_npy(path, m);
  const auto back = read_npy(path);
  ASSERT_EQ(back.rows(), 3);
  ASSERT_EQ(back.cols(), 4);
  EXPECT_EQ((back - m).cwiseAbs().maxCoeff(), 0.0);
  // The header is padded so that the data start on a 64-byte boundary, as NumPy requires.
  EXPECT_EQ(std::filesystem::file_size(path) % 64, (12 * 8) % 64);
}

TEST(Npy, ReadsFloat32FortranOrderAndIntegersAndVectors) {
  const auto dir = scratch("dtypes");
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  write_raw_npy(dir / "f4.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                bytes_of(std::vector<float>{1, 4, 2, 5, 3, 6}));
  Eigen::MatrixXd want(2, 3);
  want << 1, 2, 3, 4, 5, 6;
  EXPECT_EQ(read_npy(dir / "f4.npy"), want);
  write_raw_npy(dir / "i8.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }",
                bytes_of(std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read_npy(dir / "i8.npy"), want);
  write_raw_npy(dir / "vector.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                bytes_of(std::vector<double>{0.5, -1, 2}));
  EXPECT_EQ(read_npy(dir / "vector.npy"), Eigen::Vector3d(0.5, -1, 2));
}

TEST(Npy, BadFilesNameTheProblem) {
  const auto dir = scratch("bad");
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "absent.npy"); }), {"absent.npy", "cannot open"});
  std::ofstream(dir / "text.npy") << "x,y\n1,2\n";
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "text.npy"); }), {"text.npy", "not a NumPy"});
  write_raw_npy(dir / "short.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }",
                bytes_of(std::vector<double>{1, 2, 3}));
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "short.npy"); }),
                           {"short.npy", "truncated", "4 x 4"});
  write_raw_npy(dir / "complex.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }",
                std::string(16, '\0'));
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "complex.npy"); }), {"<c16", "not supported"});
  write_raw_npy(dir / "cube.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }",
                std::string(8, '\0'));
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "cube.npy"); }), {"3-dimensional"});
}

// What a fuzzer or a damaged copy produces: every header field checked against the file's size before anything
// is allocated or read, so nothing is read past the end and no size leads to a huge allocation.
TEST(Npy, DamagedHeadersAreRefusedBeforeAnythingIsAllocated) {
  const auto dir = scratch("damaged");
  const auto refuses = [&](const std::string& name, const std::string& header, const std::string& payload,
                           const std::vector<std::string>& words) {
    SCOPED_TRACE(name);
    write_raw_npy(dir / name, header, payload);
    auto message = testing::error_of([&] { read_npy(dir / name); });
    testing::expect_mentions(message, words);
    testing::expect_mentions(message, {name});
  };
  const std::string eight(8, '\0');
  refuses("huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000000), }", eight,
          {"truncated", "4000000000 x 4000000000"});
  refuses("overflow.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }", eight,
          {"truncated"});
  refuses("digits.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 1), }", eight,
          {"shape", "not a size"});
  refuses("negative.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 1), }", eight,
          {"'-1'", "not a size"});
  refuses("order.npy", "{'descr': '<f8', 'fortran_order': maybe, 'shape': (1, 1), }", eight,
          {"fortran_order", "True or False"});
  refuses("nodescr.npy", "{'fortran_order': False, 'shape': (1, 1), }", eight, {"lacks descr"});
  refuses("bigendian.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", eight,
          {"'>f8'", "not supported"});
  refuses("trailing.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", eight + "extra",
          {"5 bytes after", "damaged"});
  // A header length beyond the end of the file (version 2: four bytes of length).
  {
    std::ofstream out(dir / "length.npy", std::ios::binary);
    out.write("\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr'", 19);
  }
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "length.npy"); }),
                           {"length.npy", "damaged .npy header"});
  std::filesystem::create_directories(dir / "folder.npy");
  testing::expect_mentions(testing::error_of([&] { read_npy(dir / "folder.npy"); }), {"folder.npy", "is a folder"});
}

}  // namespace
}  // namespace tessera::io
