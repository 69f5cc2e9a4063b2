// Decoding each compressed chunk once before HDF5 reads it (see verify_compressed_chunks in io/hdf5_checks.h).
#include <zlib.h>

#include <cstdint>
#include <vector>

#include "io/hdf5_checks.h"

namespace tessera::io::hdf5 {
namespace {

// Datasets whose compressed chunks take more room than this are left to HDF5 unchecked: every rank would
// decode the whole of them at open. Metadata (what a damaged file most often gets wrong) is far smaller.
constexpr hsize_t kMaxCheckedBytes = hsize_t(64) << 20;

// The length `compressed` inflates to, reading at most limit + 1 bytes of output; -1 when it is no zlib stream.
std::int64_t inflated_length(const std::vector<unsigned char>& compressed, std::size_t limit) {
  std::vector<unsigned char> out(limit + 1);
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return -1;
  stream.next_in = const_cast<unsigned char*>(compressed.data());
  stream.avail_in = uInt(compressed.size());
  stream.next_out = out.data();
  stream.avail_out = uInt(out.size());
  const int status = inflate(&stream, Z_FINISH);
  const std::int64_t length = std::int64_t(stream.total_out);
  inflateEnd(&stream);
  return status == Z_STREAM_END ? length : -1;
}

}  // namespace

void verify_compressed_chunks(hid_t dataset, const std::string& where) {
  const PropertyList create(H5Dget_create_plist(dataset));
  const Datatype type(H5Dget_type(dataset));
  const Dataspace space(H5Dget_space(dataset));
  if (!create || !type || !space) fail_damaged(where, "the dataset's description");
  if (H5Pget_layout(create.get()) != H5D_CHUNKED || H5Tis_variable_str(type.get()) > 0) return;
  const int filters = H5Pget_nfilters(create.get());
  if (filters <= 0 || H5Dget_storage_size(dataset) > kMaxCheckedBytes) return;
  std::vector<H5Z_filter_t> pipeline;
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t count = 0;
    const H5Z_filter_t id = H5Pget_filter2(create.get(), unsigned(i), &flags, &count, nullptr, 0, nullptr, &config);
    if (id == H5Z_FILTER_SZIP) return;  // no decoder of ours; check_storage has vetted the pipeline itself
    pipeline.push_back(id);
  }
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hsize_t chunk[H5S_MAX_RANK] = {};
  if (rank < 1 || H5Pget_chunk(create.get(), rank, chunk) != rank) fail_damaged(where, "the dataset's chunk shape");
  std::size_t chunk_bytes = H5Tget_size(type.get());
  for (int d = 0; d < rank; ++d) chunk_bytes *= std::size_t(chunk[d]);

  hsize_t chunks = 0;
  if (H5Dget_num_chunks(dataset, space.get(), &chunks) < 0) fail_damaged(where, "the dataset's chunk index");
  for (hsize_t k = 0; k < chunks; ++k) {
    hsize_t offset[H5S_MAX_RANK] = {};
    unsigned skipped = 0;  // bit i set: filter i was not applied to this chunk
    haddr_t address = 0;
    hsize_t stored = 0;
    if (H5Dget_chunk_info(dataset, space.get(), k, offset, &skipped, &address, &stored) < 0)
      fail_damaged(where, "chunk " + std::to_string(k + 1) + "'s place in the file");
    TESSERA_CHECK(stored <= kMaxCheckedBytes, where, ": chunk ", k + 1, " claims ", stored, " stored bytes; ",
                  kDamagedFileFix);
    std::vector<unsigned char> bytes(static_cast<std::size_t>(stored));
    std::uint32_t mask = 0;
    if (H5Dread_chunk(dataset, H5P_DEFAULT, offset, &mask, bytes.data()) < 0)
      fail_damaged(where, "chunk " + std::to_string(k + 1));
    // Undo the filters last-applied first; only lengths matter (HDF5 itself checks the contents afterwards).
    std::int64_t length = std::int64_t(bytes.size());
    for (int i = filters - 1; i >= 0 && length >= 0; --i) {
      if (mask & (1u << i)) continue;
      if (pipeline[std::size_t(i)] == H5Z_FILTER_FLETCHER32) {
        length = length >= 4 ? length - 4 : -1;  // the checksum trails the data
        bytes.resize(std::size_t(std::max<std::int64_t>(length, 0)));
      } else if (pipeline[std::size_t(i)] == H5Z_FILTER_DEFLATE) {
        length = inflated_length(bytes, chunk_bytes);
        if (length >= 0) bytes.assign(std::size_t(length), 0);  // later (shuffle) steps keep the length
      }
    }
    // A chunk that decodes to fewer bytes than its shape needs is read past the end of HDF5's own buffer.
    TESSERA_CHECK(
        length == std::int64_t(chunk_bytes), where, ": chunk ", k + 1, " of ", chunks,
        length < 0 ? std::string(" does not decompress") : " decompresses to " + std::to_string(length) + " bytes",
        " where its shape needs ", chunk_bytes, "; ", kDamagedFileFix);
  }
}

}  // namespace tessera::io::hdf5
