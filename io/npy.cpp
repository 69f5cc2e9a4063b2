// NumPy .npy files (io/npy.h).
//
// The reader trusts nothing in the file: the header length, the shape and the dtype are checked against the
// file's size before anything is allocated, so a damaged or hostile file is refused with a message rather than
// read past its end or made to allocate terabytes. The header dictionary is parsed by hand (not std::regex,
// which recurses per character and can overflow the stack on a long header).
#include "io/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engine/error.h"
#include "io/atomic_file.h"

namespace tessera::io {

namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian machine");

constexpr char kMagic[] = "\x93NUMPY";
// NumPy itself refuses headers over 10000 bytes unless told otherwise; a real header is under 200.
constexpr std::uint32_t kMaxHeaderLength = 1 << 16;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// The value of `key` in the header dictionary, as written: "'<f8'" for descr, "True", "(3, 4)"; empty when
// the key is absent or its value is not a quoted string, a word or a parenthesised tuple.
std::string_view header_value(std::string_view header, std::string_view key) {
  for (const char quote : {'\'', '"'}) {
    const std::string quoted = std::string(1, quote).append(key).append(1, quote);
    const std::size_t at = header.find(quoted);
    if (at == std::string_view::npos) continue;
    std::string_view rest = trim(header.substr(at + quoted.size()));
    if (rest.empty() || rest.front() != ':') return {};
    rest = trim(rest.substr(1));
    if (rest.empty()) return {};
    std::size_t end = std::string_view::npos;
    if (rest.front() == '\'' || rest.front() == '"') {
      end = rest.find(rest.front(), 1);
      if (end != std::string_view::npos) ++end;
    } else if (rest.front() == '(') {
      end = rest.find(')');
      if (end != std::string_view::npos) ++end;
    } else {
      end = 0;
      while (end < rest.size() && std::isalpha(static_cast<unsigned char>(rest[end]))) ++end;
    }
    return end == std::string_view::npos || end == 0 ? std::string_view() : rest.substr(0, end);
  }
  return {};
}

// "(3, 4)", "(3,)", "()" -> the dimensions; an Error for anything else (negative or non-integer sizes).
std::vector<std::uint64_t> parse_shape(std::string_view text, const std::string& where) {
  TESSERA_CHECK(text.size() >= 2 && text.front() == '(' && text.back() == ')', where, ": the shape '", text,
                "' is not a tuple of sizes");
  std::vector<std::uint64_t> shape;
  std::string_view rest = text.substr(1, text.size() - 2);
  while (!trim(rest).empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.ends_with('L')) item.remove_suffix(1);  // Python 2 long, as old NumPy wrote
    std::uint64_t size = 0;
    const auto [ptr, error] = std::from_chars(item.data(), item.data() + item.size(), size);
    TESSERA_CHECK(!item.empty() && error == std::errc() && ptr == item.data() + item.size(), where, ": the shape ",
                  text, " holds '", item, "', which is not a size; the file is damaged");
    shape.push_back(size);
  }
  return shape;
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
  TESSERA_CHECK(!std::filesystem::is_directory(path), where, " is a folder; pass the .npy file itself");
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in, "cannot open ", where, ": check the path");
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  TESSERA_CHECK(!ec, "cannot read ", where, ": ", ec.message());
  char magic[6];
  unsigned char version[2];
  in.read(magic, 6).read(reinterpret_cast<char*>(version), 2);
  TESSERA_CHECK(in && std::memcmp(magic, kMagic, 6) == 0, where, " is not a NumPy .npy file (no \\x93NUMPY magic)");
  TESSERA_CHECK(version[0] >= 1 && version[0] <= 3, where, ": .npy format version ", int(version[0]),
                " is not supported (1-3)");
  std::uint32_t header_length = 0;
  const int length_bytes = version[0] == 1 ? 2 : 4;
  unsigned char b[4] = {};
  in.read(reinterpret_cast<char*>(b), length_bytes);
  TESSERA_CHECK(in, where, ": truncated .npy header");
  for (int k = length_bytes - 1; k >= 0; --k) header_length = (header_length << 8) | b[k];
  const std::uint64_t prefix = 8 + std::uint64_t(length_bytes);
  TESSERA_CHECK(header_length <= kMaxHeaderLength && prefix + header_length <= file_size, where,
                ": truncated or damaged .npy header (it claims ", header_length, " bytes; the file has ",
                file_size - std::min(file_size, prefix), " after the magic)");
  std::string header(header_length, '\0');
  in.read(header.data(), header_length);
  TESSERA_CHECK(in, where, ": truncated .npy header");
  TESSERA_CHECK(header.find('\0') == std::string::npos, where,
                ": the .npy header holds a NUL byte; the file is "
                "damaged");

  const std::string_view descr = header_value(header, "descr");
  const std::string_view order = header_value(header, "fortran_order");
  const std::string_view shape_text = header_value(header, "shape");
  TESSERA_CHECK(descr.size() >= 2 && !order.empty() && !shape_text.empty(), where,
                ": .npy header lacks descr, fortran_order or shape: ", trim(header).substr(0, 200));
  TESSERA_CHECK(order == "True" || order == "False", where, ": fortran_order is '", order, "', expected True or False");
  std::string dtype(descr.substr(1, descr.size() - 2));
  if (dtype.starts_with('=')) dtype[0] = '<';  // native order is little-endian here
  const auto shape = parse_shape(shape_text, where);
  TESSERA_CHECK(shape.size() == 1 || shape.size() == 2, where, ": a ", shape.size(),
                "-dimensional array; expected a matrix (samples x variables)");
  const std::uint64_t rows = shape[0], cols = shape.size() == 2 ? shape[1] : 1;

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

  // The data must fill the rest of the file exactly; checked before allocating, and without overflow.
  const std::uint64_t available = file_size - prefix - header_length;
  const bool fits = cols == 0 || rows <= available / width / cols;
  const std::uint64_t needed = fits ? rows * cols * width : 0;
  TESSERA_CHECK(fits && needed <= available, where, " is truncated: the header promises ", rows, " x ", cols,
                " values of ", width, " bytes, but the file holds ", available, " bytes of data");
  TESSERA_CHECK(needed == available, where, " has ", available - needed, " bytes after its ", rows, " x ", cols,
                " values; the file is damaged or is not a plain .npy array (np.save writes nothing after them)");
  std::vector<char> bytes(needed);
  in.read(bytes.data(), std::streamsize(bytes.size()));
  TESSERA_CHECK(in, "cannot read ", where, ": read error");
  Eigen::MatrixXd matrix(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  const bool fortran = order == "True";
  for (std::uint64_t r = 0; r < rows; ++r)
    for (std::uint64_t c = 0; c < cols; ++c)
      matrix(Eigen::Index(r), Eigen::Index(c)) = convert(bytes.data(), fortran ? c * rows + r : r * cols + c);
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
  write_stream_atomically(path, [&](std::ostream& out) {
    const unsigned char length[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                     static_cast<unsigned char>(header.size() >> 8)};
    out.write(kMagic, 6).put(1).put(0).write(reinterpret_cast<const char*>(length), 2);
    out.write(header.data(), std::streamsize(header.size()));
    out.write(reinterpret_cast<const char*>(row_major.data()), std::streamsize(row_major.size() * sizeof(double)));
  });
}

}  // namespace tessera::io
