// The one checkpoint format: what a long computation saves so that a later run resumes it exactly. The autoencoder's
// training, the matrix-free CG solver's manifest and shards and the causal bootstrap use it; a new resumable
// computation (FaLRTC, a sweep) declares a CheckpointKind and a Fingerprint and writes its sections, no new code.
//
// File layout (HDF5):
//   /checkpoint    attributes format (who wrote it, e.g. "tessera-bootstrap") and version
//   /fingerprint   what identifies the problem: one text attribute per field; matrices compared within a tolerance
//                  as datasets. A checkpoint of another problem is refused, listing the fields that differ.
//   /<section>     attribute version, then the section's own attributes (numbers, text) and datasets (integers,
//                  doubles, matrices, strings). Sections are versioned one by one (STYLE.md section 6).
//
// Writing: write_checkpoint builds the file in memory and puts it on disk only when every section was written,
// through io/atomic_file.h (temporary, checked writes, fsync, rename, then the folder fsync'ed: Durability::kFolder),
// so a crash or a full disk leaves the previous checkpoint or the new one, never a part. Reading: every dataset's
// type, filters and size are checked before it is read (io/hdf5_checks.h); a file that is not HDF5, truncated or
// damaged is an Error naming the file and the fix, as is a checkpoint of another format, version or problem.
//
// Local: each call reads or writes one file on the calling rank. Numbers round-trip exactly (doubles are stored as
// float64; integers up to 2^53 as attributes, any int64 in datasets).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "io/atomic_file.h"

namespace tessera::io {

class Hdf5Reader;
class Hdf5Writer;

// Who writes a checkpoint and in which layout; a reader accepts exactly this format and version.
struct CheckpointKind {
  std::string format;  // stored, e.g. "tessera-bootstrap"
  int version = 1;
  std::string name;  // for messages: "'x.h5' is not a Tessera <name> checkpoint", e.g. "bootstrap"
};

// What identifies the problem a checkpoint belongs to: the inputs and the options that change the answer. Fields
// are compared exactly as text; matrices (values computed in floating point, e.g. a few kernel entries) within a
// relative tolerance. `label` is how a difference is shown ("hash of Y"); it defaults to the key.
class Fingerprint {
 public:
  Fingerprint& text(const std::string& key, const std::string& value, const std::string& label = {});
  Fingerprint& integer(const std::string& key, std::int64_t value, const std::string& label = {});
  Fingerprint& number(const std::string& key, double value, const std::string& label = {});       // 17 digits
  Fingerprint& hash(const std::string& key, std::uint64_t value, const std::string& label = {});  // 16 hex digits
  Fingerprint& matrix(const std::string& key, const Eigen::MatrixXd& values, double relative_tolerance,
                      const std::string& label = {});

  struct Field {
    std::string key, label, value;
  };
  struct Matrix {
    std::string key, label;
    Eigen::MatrixXd values;
    double relative_tolerance = 0;
  };
  const std::vector<Field>& fields() const { return fields_; }
  const std::vector<Matrix>& matrices() const { return matrices_; }

 private:
  void add_key(const std::string& key);
  std::vector<Field> fields_;
  std::vector<Matrix> matrices_;
  std::set<std::string> keys_;
};

// The sections of one checkpoint being written; made by write_checkpoint only. Each name is used once per section.
class CheckpointWriter {
 public:
  void add_section(const std::string& section);  // a section with no content yet (put_* add theirs themselves)
  void put_int(const std::string& section, const std::string& name, std::int64_t value);  // |value| <= 2^53
  void put_number(const std::string& section, const std::string& name, double value);
  void put_text(const std::string& section, const std::string& name, const std::string& value);
  void put_ints(const std::string& section, const std::string& name, const std::vector<std::int64_t>& values);
  void put_numbers(const std::string& section, const std::string& name, const std::vector<double>& values);
  void put_matrix(const std::string& section, const std::string& name, const Eigen::MatrixXd& values);
  void put_strings(const std::string& section, const std::string& name, const std::vector<std::string>& values);

 private:
  friend void write_checkpoint(const std::filesystem::path&, const CheckpointKind&, const Fingerprint&,
                               const std::function<void(CheckpointWriter&)>&, Durability);
  CheckpointWriter(Hdf5Writer& out, int version) : out_(out), version_(version) {}
  std::string path_of(const std::string& section, const std::string& name);
  Hdf5Writer& out_;
  int version_;
  std::set<std::string> sections_;
};

// Writes a checkpoint to `path`: the kind and the fingerprint, then whatever write_sections puts. Nothing reaches
// the disk when write_sections throws (the previous file stays); an Error names the file when the disk refuses it.
void write_checkpoint(const std::filesystem::path& path, const CheckpointKind& kind, const Fingerprint& fingerprint,
                      const std::function<void(CheckpointWriter&)>& write_sections,
                      Durability durability = Durability::kFolder);

class CheckpointReader {
 public:
  // Opens `path` and checks that it is a checkpoint of `kind`. Every Error names the file and ends with `fix`,
  // which says what the user can do ("delete it to start over, or ..."): a missing, non-HDF5, truncated or
  // damaged file, another format, another version.
  CheckpointReader(const std::filesystem::path& path, const CheckpointKind& kind, std::string fix);
  // The same, then check_fingerprint(expected).
  CheckpointReader(const std::filesystem::path& path, const CheckpointKind& kind, const Fingerprint& expected,
                   std::string fix);
  ~CheckpointReader();
  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // An Error listing every field of `expected` whose stored value differs ("seed: 3 in the checkpoint, 4 in this
  // run"), saying the checkpoint belongs to another problem, then the fix.
  void check_fingerprint(const Fingerprint& expected) const;
  // The stored text of one fingerprint field (a run may adopt a stored choice, e.g. a batch width, before it
  // builds its own fingerprint).
  std::string fingerprint_text(const std::string& key) const;

  bool has(const std::string& section, const std::string& name) const;  // a dataset
  std::int64_t get_int(const std::string& section, const std::string& name) const;
  double get_number(const std::string& section, const std::string& name) const;
  std::string get_text(const std::string& section, const std::string& name) const;
  std::vector<std::int64_t> get_ints(const std::string& section, const std::string& name) const;
  std::vector<double> get_numbers(const std::string& section, const std::string& name) const;
  Eigen::MatrixXd get_matrix(const std::string& section, const std::string& name) const;
  std::vector<std::string> get_strings(const std::string& section, const std::string& name) const;

  // An Error naming the file, `what` is wrong in it, and the fix: for a caller's own consistency checks.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void check_section(const std::string& section) const;  // its version, once
  template <typename Read>
  auto read(const std::string& section, Read&& read_value) const;
  std::filesystem::path path_;
  CheckpointKind kind_;
  std::string fix_;
  std::unique_ptr<Hdf5Reader> in_;
  mutable std::set<std::string> checked_sections_;
};

}  // namespace tessera::io
