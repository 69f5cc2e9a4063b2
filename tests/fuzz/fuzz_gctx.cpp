// libFuzzer target: the GCTX reader (io::GctxReader: HDF5 structure, datatypes and metadata of /0/META/ROW and
// /0/META/COL, then one signature). Seeds: small GCTX files that scripts/fuzz.sh cuts from the real ones.
//
// HDF5 could also read from memory (H5Pset_fapl_core with a file image), but that would bypass the MPI-IO
// driver that `tessera` uses; a scratch file takes the same path as a user's file.
#include "io/gctx.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_mpi.h"

namespace {

// One signature is read only when it is small: a dataset may be larger than its file (chunks never written are
// fill values), so a large shape alone is no fault; the metadata, read in full, is the target here.
constexpr std::int64_t kMaxGenesRead = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)tessera::fuzz::one_rank();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& ctx = tessera::fuzz::one_rank();
  tessera::fuzz::read_bytes_as_file(data, size, ".gctx", [&](const auto& path) {
    const tessera::io::GctxReader reader(path, ctx);
    if (reader.num_signatures() > 0 && reader.num_genes() <= kMaxGenesRead) (void)reader.read_signatures<float>(0, 1);
  });
  return 0;
}
