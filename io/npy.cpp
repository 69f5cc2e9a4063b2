#include "io/npy.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/atomic_file.h"

namespace tessera::io {

namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian machine");

constexpr char kMagic[] = "\x93NUMPY";

// The value of `key` in the header dictionary, e.g. "'<f8'" for descr; empty when absent.
std::string header_value(const std::string& header, const std::string& key) {
  std::smatch match;
  const std::regex pattern("['\"]" + key + "['\"]\\s*:\\s*('[^']*'|\"[^\"]*\"|True|False|\\([^)]*\\))");
  return std::regex_search(header, match, pattern) ? match[1].str() : std::string();
}

template <typename T>
double element(const char* bytes, std::size_t index) {
  T value;
  std::memcpy(&value, bytes + index * sizeof(T), sizeof(T));
  return double(value);
}

}  // namespace

Eigen::MatrixXd read_npy(const std::filesystem::path& path) {
  const std::string where = std::string("'").append(path.string()).append("'");
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in, "cannot open ", where, ": check the path");
  char magic[6];
  unsigned char version[2];
  in.read(magic, 6).read(reinterpret_cast<char*>(version), 2);
  TESSERA_CHECK(in && std::memcmp(magic, kMagic, 6) == 0, where, " is not a NumPy .npy file (no \\x93NUMPY magic)");
  TESSERA_CHECK(version[0] >= 1 && version[0] <= 3, where, ": .npy format version ", int(version[0]),
                " is not supported (1-3)");
  std::uint32_t header_length = 0;
  if (version[0] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_length = std::uint32_t(b[0]) | (std::uint32_t(b[1]) << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_length =
        std::uint32_t(b[0]) | (std::uint32_t(b[1]) << 8) | (std::uint32_t(b[2]) << 16) | (std::uint32_t(b[3]) << 24);
  }
  std::string header(header_length, '\0');
  in.read(header.data(), header_length);
  TESSERA_CHECK(in, where, ": truncated .npy header");

  const std::string descr = header_value(header, "descr");
  const std::string order = header_value(header, "fortran_order");
  const std::string shape_text = header_value(header, "shape");
  TESSERA_CHECK(!descr.empty() && !order.empty() && !shape_text.empty(), where,
                ": .npy header lacks descr, fortran_order or shape: ", header);
  const std::string dtype = descr.substr(1, descr.size() - 2);
  std::vector<std::int64_t> shape;
  const std::regex number("\\d+");
  for (std::sregex_iterator it(shape_text.begin(), shape_text.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  TESSERA_CHECK(shape.size() == 1 || shape.size() == 2, where, ": a ", shape.size(),
                "-dimensional array; expected a matrix (samples x variables)");
  const std::int64_t rows = shape[0], cols = shape.size() == 2 ? shape[1] : 1;

  std::size_t width = 0;
  double (*convert)(const char*, std::size_t) = nullptr;
  if (dtype == "<f8")
    width = 8, convert = element<double>;
  else if (dtype == "<f4")
    width = 4, convert = element<float>;
  else if (dtype == "<i8")
    width = 8, convert = element<std::int64_t>;
  else if (dtype == "<i4")
    width = 4, convert = element<std::int32_t>;
  else if (dtype == "|u1")
    width = 1, convert = element<std::uint8_t>;
  else if (dtype == "|b1")
    width = 1, convert = element<std::uint8_t>;
  TESSERA_CHECK(convert, where, ": dtype ", descr, " is not supported; save float64 (np.save(path, x.astype(float)))");

  std::vector<char> bytes(std::size_t(rows * cols) * width);
  in.read(bytes.data(), std::streamsize(bytes.size()));
  TESSERA_CHECK(in, where, " is truncated: the header promises ", rows, " x ", cols, " values");
  Eigen::MatrixXd matrix(rows, cols);
  const bool fortran = order == "True";
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      matrix(r, c) = convert(bytes.data(), std::size_t(fortran ? c * rows + r : r * cols + c));
  return matrix;
}

void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::to_string(matrix.rows()) + ", " +
                       std::to_string(matrix.cols()) + "), }";
  // Magic (6) + version (2) + length (2) + header + newline is padded with spaces to a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = matrix;
  write_atomically(path, [&](const std::filesystem::path& temporary) {
    std::ofstream out(temporary, std::ios::binary);
    const unsigned char length[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                     static_cast<unsigned char>(header.size() >> 8)};
    out.write(kMagic, 6).put(1).put(0).write(reinterpret_cast<const char*>(length), 2);
    out.write(header.data(), std::streamsize(header.size()));
    out.write(reinterpret_cast<const char*>(row_major.data()), std::streamsize(row_major.size() * sizeof(double)));
    TESSERA_CHECK(out.good(), "could not write '", temporary.string(), "'");
  });
}

}  // namespace tessera::io
