// libFuzzer target: the GCTX reader's own checks (io::GctxReader), on files whose HDF5 structure is always valid.
//
// fuzz_gctx mutates the bytes of a file, so most of its inputs are refused, or mis-parsed, by HDF5's own parser
// (superblock, object headers, B-trees) before Tessera sees a dataset; that is worth a long run by hand
// (tests/fuzz/README.md) but draws from HDF5's bugs, not ours. Here the input instead chooses what a GCTX file
// holds, and HDF5 writes it: the matrix's shape, type, chunks and filters, and for each metadata field (ids
// included) its name, length, type (fixed or variable strings of any size, padding and character set; integers
// and floats of every width), its values, and whether it is there at all. The reader must read the file or
// refuse it with tessera::Error, as fuzz_input.h says. Fast enough (and free of HDF5's parser) to run in CI.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "io/gctx.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_mpi.h"

namespace {

// Sides of the matrix and lengths of fields: small, so that each input is one quick file.
constexpr std::int64_t kMaxSide = 12;

// The HDF5 handles of one file being built, closed in reverse order however building ends.
struct Handles {
  std::vector<hid_t> ids;
  hid_t keep(hid_t id) {
    if (id < 0) throw tessera::Error("fuzz_gctx_fields: HDF5 refused to build the file");  // input skipped
    ids.push_back(id);
    return id;
  }
  ~Handles() {
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      const H5I_type_t type = H5Iget_type(*it);
      if (type == H5I_DATASET)
        H5Dclose(*it);
      else if (type == H5I_DATASPACE)
        H5Sclose(*it);
      else if (type == H5I_DATATYPE)
        H5Tclose(*it);
      else if (type == H5I_GROUP)
        H5Gclose(*it);
      else if (type == H5I_GENPROP_LST)
        H5Pclose(*it);
      else if (type == H5I_FILE)
        H5Fclose(*it);
    }
  }
};

// A fixed-size or variable-length string type, or a number type of any width and sign.
hid_t chosen_type(FuzzedDataProvider& in, Handles& h) {
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0: {
      const hid_t type = h.keep(H5Tcopy(H5T_C_S1));
      H5Tset_size(type, H5T_VARIABLE);
      H5Tset_cset(type, in.ConsumeBool() ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
      return type;
    }
    case 1:
    case 2: {
      const hid_t type = h.keep(H5Tcopy(H5T_C_S1));
      H5Tset_size(type, in.ConsumeIntegralInRange<std::size_t>(1, 40));
      H5Tset_strpad(type, static_cast<H5T_str_t>(in.ConsumeIntegralInRange(0, 2)));
      H5Tset_cset(type, in.ConsumeBool() ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
      return type;
    }
    case 3:
      return h.keep(H5Tcopy(H5T_NATIVE_INT8));
    case 4:
      return h.keep(H5Tcopy(H5T_NATIVE_UINT16));
    case 5:
      return h.keep(H5Tcopy(H5T_NATIVE_INT32));
    case 6:
      return h.keep(H5Tcopy(H5T_NATIVE_UINT64));
    case 7:
      return h.keep(H5Tcopy(H5T_STD_I64BE));
    case 8:
      return h.keep(H5Tcopy(H5T_NATIVE_FLOAT));
    default:
      return h.keep(H5Tcopy(H5T_IEEE_F64BE));
  }
}

// A 1-D field of `length` values of a chosen type, filled from the input.
void write_field(FuzzedDataProvider& in, Handles& h, hid_t group, const std::string& name, std::int64_t length) {
  const hid_t type = chosen_type(in, h);
  const hsize_t dims[1] = {hsize_t(length)};
  const hid_t space = h.keep(H5Screate_simple(1, dims, nullptr));
  const hid_t dataset = h.keep(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (H5Tis_variable_str(type) > 0) {
    std::vector<std::string> text;
    for (std::int64_t i = 0; i < length; ++i) text.push_back(in.ConsumeRandomLengthString(24));
    std::vector<const char*> pointers;
    for (const auto& t : text) pointers.push_back(t.c_str());
    H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data());
  } else {
    std::vector<std::uint8_t> bytes = in.ConsumeBytes<std::uint8_t>(std::size_t(length) * H5Tget_size(type));
    bytes.resize(std::size_t(length) * H5Tget_size(type), 0);
    H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
  }
}

// /0/META/<ROW|COL>: an id field (most inputs) and a few others, each of the matrix's side or another length.
void write_metadata(FuzzedDataProvider& in, Handles& h, hid_t file, const char* path, std::int64_t side) {
  if (in.ConsumeIntegralInRange(0, 15) == 0) return;  // the group is missing
  const hid_t group = h.keep(H5Gcreate2(file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  const int fields = in.ConsumeIntegralInRange(0, 3);
  for (int f = -1; f < fields; ++f) {
    if (f == -1 && in.ConsumeIntegralInRange(0, 15) == 0) continue;  // no id field
    const std::string name = f == -1 ? "id" : "f" + std::to_string(f) + in.ConsumeRandomLengthString(6);
    if (name.find_first_of("/.") != std::string::npos || name.find('\0') != std::string::npos) continue;
    const std::int64_t length =
        in.ConsumeIntegralInRange(0, 7) == 0 ? in.ConsumeIntegralInRange<std::int64_t>(0, kMaxSide) : side;
    write_field(in, h, group, name, length);
  }
}

// /0/DATA/0/matrix (signatures x genes, as cmapPy stores it): float or double or another number type, contiguous
// or chunked, with or without gzip and shuffle, fully written or left to its fill value.
void write_matrix(FuzzedDataProvider& in, Handles& h, hid_t file, std::int64_t genes, std::int64_t signatures) {
  if (in.ConsumeIntegralInRange(0, 15) == 0) return;  // no matrix
  h.keep(H5Gcreate2(file, "/0/DATA", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  const hid_t data = h.keep(H5Gcreate2(file, "/0/DATA/0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  const int rank = in.ConsumeIntegralInRange(0, 9) == 0 ? in.ConsumeIntegralInRange(1, 3) : 2;
  const hsize_t dims[3] = {hsize_t(signatures), hsize_t(genes), 2};
  const hid_t space = h.keep(H5Screate_simple(rank, dims, nullptr));
  const hid_t create = h.keep(H5Pcreate(H5P_DATASET_CREATE));
  bool empty = false;
  for (int d = 0; d < rank; ++d) empty = empty || dims[d] == 0;
  if (!empty && in.ConsumeBool()) {
    hsize_t chunk[3];
    for (int d = 0; d < rank; ++d) chunk[d] = in.ConsumeIntegralInRange<hsize_t>(1, dims[d]);
    H5Pset_chunk(create, rank, chunk);
    if (in.ConsumeBool()) H5Pset_shuffle(create);
    if (in.ConsumeBool()) H5Pset_deflate(create, in.ConsumeIntegralInRange(0, 9));
  }
  const hid_t type = in.ConsumeIntegralInRange(0, 5) == 0
                         ? chosen_type(in, h)
                         : h.keep(H5Tcopy(in.ConsumeBool() ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE));
  const hid_t matrix = h.keep(H5Dcreate2(data, "matrix", type, space, H5P_DEFAULT, create, H5P_DEFAULT));
  if (!in.ConsumeBool() || H5Tget_class(type) == H5T_STRING) return;  // fill values only
  hsize_t values = 1;
  for (int d = 0; d < rank; ++d) values *= dims[d];
  std::vector<std::uint8_t> bytes = in.ConsumeBytes<std::uint8_t>(values * H5Tget_size(type));
  bytes.resize(values * H5Tget_size(type), 0);
  H5Dwrite(matrix, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
}

void write_gctx(FuzzedDataProvider& in, const std::filesystem::path& path) {
  Handles h;
  const hid_t file = h.keep(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  const auto genes = in.ConsumeIntegralInRange<std::int64_t>(0, kMaxSide);
  const auto signatures = in.ConsumeIntegralInRange<std::int64_t>(0, kMaxSide);
  h.keep(H5Gcreate2(file, "/0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  write_matrix(in, h, file, genes, signatures);
  if (in.ConsumeIntegralInRange(0, 15) != 0) {
    h.keep(H5Gcreate2(file, "/0/META", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    write_metadata(in, h, file, "/0/META/ROW", genes);
    write_metadata(in, h, file, "/0/META/COL", signatures);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)tessera::fuzz::one_rank();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // HDF5's refusals while building are skipped inputs, not output
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& ctx = tessera::fuzz::one_rank();
  static const tessera::fuzz::ScratchFile scratch{tessera::fuzz::scratch_file("_fields.gctx")};
  FuzzedDataProvider in(data, size);
  try {
    write_gctx(in, scratch.path);
  } catch (const tessera::Error&) {
    return 0;  // HDF5 would not build this file (e.g. a name it refuses): nothing to read
  }
  try {
    const tessera::io::GctxReader reader(scratch.path, ctx);
    if (reader.num_signatures() > 0) (void)reader.read_signatures<double>(0, reader.num_signatures());
    (void)reader.rows();
    (void)reader.cols();
  } catch (const tessera::Error&) {
    // A clear refusal is the right answer to most of these files.
  }
  return 0;
}
