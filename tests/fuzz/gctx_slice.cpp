// gctx_slice <in.gctx> <out.gctx> [max]: copies an HDF5 file with every dataset cut to its first `max` entries
// along each dimension (default 4), keeping each dataset's datatype, chunking and filters (a chunk is shrunk to
// fit) and every attribute. For a GCTX file that is a valid GCTX of max genes x max signatures in the same layout
// as the original (cmapPy's gzip-compressed metadata included): the small real seeds of fuzz_gctx
// (scripts/fuzz.sh), which keep the fuzzer's mutations on the file's structure rather than on its numbers.
#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "gctx_slice: %s\n", what.c_str());
  std::exit(1);
}

hid_t checked(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

struct Copy {
  hid_t out;
  hsize_t max;
};

herr_t copy_attribute(hid_t from, const char* name, const H5A_info_t*, void* to_object) {
  const hid_t to = *static_cast<hid_t*>(to_object);
  const hid_t attribute = checked(H5Aopen(from, name, H5P_DEFAULT), std::string("attribute ") + name);
  const hid_t type = H5Aget_type(attribute);
  const hid_t space = H5Aget_space(attribute);
  std::vector<unsigned char> buffer(H5Aget_storage_size(attribute) + H5Tget_size(type) + 16);
  if (H5Aread(attribute, type, buffer.data()) < 0) fail(std::string("reading attribute ") + name);
  const hid_t copy = checked(H5Acreate2(to, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name);
  if (H5Awrite(copy, type, buffer.data()) < 0) fail(std::string("writing attribute ") + name);
  H5Aclose(copy);
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attribute);
  return 0;
}

void copy_attributes(hid_t from, hid_t to) {
  if (H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_INC, nullptr, copy_attribute, &to) < 0) fail("attributes");
}

void copy_dataset(hid_t in, const char* name, const Copy& copy) {
  const hid_t dataset = checked(H5Dopen2(in, name, H5P_DEFAULT), name);
  const hid_t type = H5Dget_type(dataset);
  const hid_t space = H5Dget_space(dataset);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank), cut(rank), start(rank, 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  hsize_t count = 1;
  for (int d = 0; d < rank; ++d) count *= (cut[d] = std::min(dims[d], copy.max));
  const hid_t cut_space = H5Screate_simple(rank, cut.data(), nullptr);
  if (rank > 0) H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cut.data(), nullptr);
  // Same creation properties (chunking, filters), with the chunk no larger than the cut dataset.
  const hid_t create = H5Dget_create_plist(dataset);
  if (H5Pget_layout(create) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(rank);
    H5Pget_chunk(create, rank, chunk.data());
    for (int d = 0; d < rank; ++d) chunk[d] = std::max<hsize_t>(1, std::min(chunk[d], cut[d]));
    if (count > 0) H5Pset_chunk(create, rank, chunk.data());
  }
  std::vector<unsigned char> buffer(std::max<hsize_t>(count, 1) * H5Tget_size(type));
  if (count > 0 && H5Dread(dataset, type, cut_space, space, H5P_DEFAULT, buffer.data()) < 0)
    fail(std::string("reading dataset ") + name);
  const hid_t out = checked(
      H5Dcreate2(copy.out, name, type, cut_space, H5P_DEFAULT, count > 0 ? create : H5P_DEFAULT, H5P_DEFAULT), name);
  if (count > 0 && H5Dwrite(out, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    fail(std::string("writing dataset ") + name);
  copy_attributes(dataset, out);
  H5Dclose(out);
  H5Pclose(create);
  H5Sclose(cut_space);
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(dataset);
}

herr_t copy_object(hid_t in, const char* name, const H5O_info_t* info, void* data) {
  const auto& copy = *static_cast<const Copy*>(data);
  if (name[0] == '.' && name[1] == '\0') return 0;  // the root group exists already
  if (info->type == H5O_TYPE_GROUP) {
    const hid_t from = checked(H5Gopen2(in, name, H5P_DEFAULT), name);
    const hid_t to = checked(H5Gcreate2(copy.out, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), name);
    copy_attributes(from, to);
    H5Gclose(to);
    H5Gclose(from);
  } else if (info->type == H5O_TYPE_DATASET) {
    copy_dataset(in, name, copy);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) fail("usage: gctx_slice <in.gctx> <out.gctx> [max entries per dimension, default 4]");
  const hsize_t max = argc == 4 ? std::strtoull(argv[3], nullptr, 10) : 4;
  const hid_t in = checked(H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT), std::string("cannot open ") + argv[1]);
  const hid_t out =
      checked(H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), std::string("cannot create ") + argv[2]);
  const hid_t in_root = H5Gopen2(in, "/", H5P_DEFAULT);
  const hid_t out_root = H5Gopen2(out, "/", H5P_DEFAULT);
  copy_attributes(in_root, out_root);
  Copy copy{out, max};
  if (H5Ovisit2(in, H5_INDEX_NAME, H5_ITER_INC, copy_object, &copy, H5O_INFO_BASIC) < 0) fail("walking the file");
  H5Gclose(out_root);
  H5Gclose(in_root);
  H5Fclose(out);
  H5Fclose(in);
  return 0;
}
