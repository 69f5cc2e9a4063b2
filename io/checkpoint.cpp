#include "io/checkpoint.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/error.h"
#include "io/hdf5_file.h"

namespace tessera::io {

namespace {

constexpr const char* kHeader = "/checkpoint";
constexpr const char* kFingerprint = "/fingerprint";
// Integers in attributes are stored as doubles: exact up to 2^53.
constexpr std::int64_t kLargestExactInteger = std::int64_t(1) << 53;

std::string hex(std::uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

std::string exact_text(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// Names become HDF5 paths: one component each, so a name cannot reach into another section. "version" is the
// format's own attribute on every group.
void check_name(const std::string& name, const char* what) {
  TESSERA_CHECK(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..", "checkpoint ",
                what, " '", name, "': names must be non-empty and must not contain '/'");
  TESSERA_CHECK(name != "version", "checkpoint ", what, " 'version' is reserved for the format; use another name");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Fingerprint

void Fingerprint::add_key(const std::string& key) {
  check_name(key, "fingerprint field");
  TESSERA_CHECK(keys_.insert(key).second, "checkpoint fingerprint field '", key, "' is declared twice");
}

Fingerprint& Fingerprint::text(const std::string& key, const std::string& value, const std::string& label) {
  add_key(key);
  fields_.push_back({key, label.empty() ? key : label, value});
  return *this;
}

Fingerprint& Fingerprint::integer(const std::string& key, std::int64_t value, const std::string& label) {
  return text(key, std::to_string(value), label);
}

Fingerprint& Fingerprint::number(const std::string& key, double value, const std::string& label) {
  return text(key, exact_text(value), label);
}

Fingerprint& Fingerprint::hash(const std::string& key, std::uint64_t value, const std::string& label) {
  return text(key, hex(value), label);
}

Fingerprint& Fingerprint::matrix(const std::string& key, const Eigen::MatrixXd& values, double relative_tolerance,
                                 const std::string& label) {
  add_key(key);
  matrices_.push_back({key, label.empty() ? key : label, values, relative_tolerance});
  return *this;
}

// ---------------------------------------------------------------------------------------------------------
// Writing

std::string CheckpointWriter::path_of(const std::string& section, const std::string& name) {
  add_section(section);
  check_name(name, "entry");
  return "/" + section + "/" + name;
}

void CheckpointWriter::add_section(const std::string& section) {
  check_name(section, "section");
  TESSERA_CHECK(section != "checkpoint" && section != "fingerprint", "checkpoint section '", section,
                "' is reserved for the format's own header; choose another name");
  if (sections_.insert(section).second) out_.write_attribute("/" + section, "version", double(version_));
}

void CheckpointWriter::put_int(const std::string& section, const std::string& name, std::int64_t value) {
  TESSERA_CHECK(value >= -kLargestExactInteger && value <= kLargestExactInteger, "checkpoint ", section, "/", name,
                " = ", value, " is too large for an attribute (at most 2^53); store it with put_ints");
  add_section(section);
  check_name(name, "entry");
  out_.write_attribute("/" + section, name, double(value));
}

void CheckpointWriter::put_number(const std::string& section, const std::string& name, double value) {
  add_section(section);
  check_name(name, "entry");
  out_.write_attribute("/" + section, name, value);
}

void CheckpointWriter::put_text(const std::string& section, const std::string& name, const std::string& value) {
  add_section(section);
  check_name(name, "entry");
  out_.write_attribute("/" + section, name, value);
}

void CheckpointWriter::put_ints(const std::string& section, const std::string& name,
                                const std::vector<std::int64_t>& values) {
  out_.write_ints(path_of(section, name), values);
}

void CheckpointWriter::put_numbers(const std::string& section, const std::string& name,
                                   const std::vector<double>& values) {
  out_.write_vector(path_of(section, name), values);
}

void CheckpointWriter::put_matrix(const std::string& section, const std::string& name, const Eigen::MatrixXd& values) {
  out_.write_matrix(path_of(section, name), values);
}

void CheckpointWriter::put_strings(const std::string& section, const std::string& name,
                                   const std::vector<std::string>& values) {
  out_.write_strings(path_of(section, name), values);
}

void write_checkpoint(const std::filesystem::path& path, const CheckpointKind& kind, const Fingerprint& fingerprint,
                      const std::function<void(CheckpointWriter&)>& write_sections, Durability durability) {
  // A local writer: when write_sections throws, it is destroyed during the unwinding and writes nothing.
  Hdf5Writer out(path);
  out.write_attribute(kHeader, "format", kind.format);
  out.write_attribute(kHeader, "version", double(kind.version));
  out.write_attribute(kFingerprint, "version", double(kind.version));
  for (const auto& field : fingerprint.fields()) out.write_attribute(kFingerprint, field.key, field.value);
  for (const auto& matrix : fingerprint.matrices())
    out.write_matrix(std::string(kFingerprint) + "/" + matrix.key, matrix.values);
  CheckpointWriter sections(out, kind.version);
  write_sections(sections);
  out.close(durability);
}

// ---------------------------------------------------------------------------------------------------------
// Reading

CheckpointReader::CheckpointReader(const std::filesystem::path& path, const CheckpointKind& kind, std::string fix)
    : path_(path), kind_(kind), fix_(std::move(fix)) {
  const std::string where = "checkpoint '" + path_.string() + "'";
  try {
    in_ = std::make_unique<Hdf5Reader>(path_);
  } catch (const Error& e) {
    TESSERA_FAIL(where, " cannot be read: ", e.what(), "; ", fix_);
  }
  std::string format;
  double version = 0;
  try {
    format = in_->read_string_attribute(kHeader, "format");
    version = in_->read_number_attribute(kHeader, "version");
  } catch (const Error& e) {
    TESSERA_FAIL(where, " is not a Tessera ", kind_.name, " checkpoint (", e.what(), "); ", fix_);
  }
  TESSERA_CHECK(format == kind_.format, where, " is not a Tessera ", kind_.name, " checkpoint: its format is '", format,
                "', expected '", kind_.format, "'; ", fix_);
  TESSERA_CHECK(version == kind_.version, where, " has format version ", version, ", this Tessera reads version ",
                kind_.version, " only; finish the run with the Tessera that wrote it, or ", fix_);
}

CheckpointReader::CheckpointReader(const std::filesystem::path& path, const CheckpointKind& kind,
                                   const Fingerprint& expected, std::string fix)
    : CheckpointReader(path, kind, std::move(fix)) {
  check_fingerprint(expected);
}

CheckpointReader::~CheckpointReader() = default;

template <typename Read>
auto CheckpointReader::read(const std::string& section, Read&& read_value) const {
  check_name(section, "section");
  check_section(section);
  try {
    return read_value("/" + section);
  } catch (const Error& e) {
    // Hdf5Reader's errors name the file and the dataset; add what to do about a checkpoint.
    TESSERA_FAIL(e.what(), "; ", fix_);
  }
}

void CheckpointReader::fail(const std::string& what) const {
  TESSERA_FAIL("checkpoint '", path_.string(), "' ", what, "; ", fix_);
}

void CheckpointReader::check_section(const std::string& section) const {
  if (checked_sections_.count(section)) return;
  const std::string group = "/" + section;
  if (!in_->has(group)) fail("has no section '" + section + "' (it is incomplete or damaged)");
  const double version = in_->read_number_attribute(group, "version");
  if (version != kind_.version)
    fail(detail::concat("section '", section, "' has version ", version, " where this Tessera reads ", kind_.version));
  checked_sections_.insert(section);
}

std::string CheckpointReader::fingerprint_text(const std::string& key) const {
  return read("fingerprint", [&](const std::string& group) { return in_->read_string_attribute(group, key); });
}

void CheckpointReader::check_fingerprint(const Fingerprint& expected) const {
  std::string differences;
  for (const auto& field : expected.fields()) {
    const std::string stored = fingerprint_text(field.key);
    if (stored != field.value)
      differences +=
          detail::concat("  ", field.label, ": ", stored, " in the checkpoint, ", field.value, " in this run\n");
  }
  for (const auto& matrix : expected.matrices()) {
    const Eigen::MatrixXd stored = get_matrix("fingerprint", matrix.key);
    bool same = stored.rows() == matrix.values.rows() && stored.cols() == matrix.values.cols();
    if (same && stored.size() > 0) {
      const double scale = std::max(matrix.values.cwiseAbs().maxCoeff(), 1e-300);
      // Written as "not greater than" so that a NaN on either side counts as a difference.
      same = !((stored - matrix.values).cwiseAbs().maxCoeff() > matrix.relative_tolerance * scale) &&
             stored.allFinite() == matrix.values.allFinite();
    }
    if (!same) differences += detail::concat("  ", matrix.label, ": the stored values differ from this run's\n");
  }
  if (!differences.empty())
    TESSERA_FAIL("checkpoint '", path_.string(), "' was written for another problem or other options:\n", differences,
                 fix_);
}

bool CheckpointReader::has(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->has(group + "/" + name); });
}

std::int64_t CheckpointReader::get_int(const std::string& section, const std::string& name) const {
  const double value = get_number(section, name);
  if (!(std::floor(value) == value && std::abs(value) <= double(kLargestExactInteger)))
    fail(detail::concat("holds ", section, "/", name, " = ", value, ", which is not an integer"));
  return std::int64_t(value);
}

double CheckpointReader::get_number(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->read_number_attribute(group, name); });
}

std::string CheckpointReader::get_text(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->read_string_attribute(group, name); });
}

std::vector<std::int64_t> CheckpointReader::get_ints(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->read_ints(group + "/" + name); });
}

std::vector<double> CheckpointReader::get_numbers(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->read_vector(group + "/" + name); });
}

Eigen::MatrixXd CheckpointReader::get_matrix(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->read_matrix(group + "/" + name); });
}

std::vector<std::string> CheckpointReader::get_strings(const std::string& section, const std::string& name) const {
  return read(section, [&](const std::string& group) { return in_->read_strings(group + "/" + name); });
}

}  // namespace tessera::io
