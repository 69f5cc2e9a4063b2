#include "io/hdf5_file.h"

#include <exception>
#include <filesystem>
#include <system_error>

#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/hdf5_checks.h"
#include "io/hdf5_handles.h"
#include "io/hdf5_memory_file.h"

namespace tessera::io {

namespace {

using namespace hdf5;

// "HDF5 file '<file>', '<name>': <problem>" -- every message names the file and the place inside it.
std::string place(const std::filesystem::path& file, const std::string& name) {
  return detail::concat("HDF5 file '", file.string(), "', '", name, "'");
}

hsize_t as_hsize(std::size_t n) { return static_cast<hsize_t>(n); }

Dataspace simple_space(std::initializer_list<hsize_t> dims) {
  const std::vector<hsize_t> d(dims);
  return Dataspace(H5Screate_simple(int(d.size()), d.data(), nullptr));
}

bool is_numeric(hid_t type) {
  const H5T_class_t c = H5Tget_class(type);
  return c == H5T_FLOAT || c == H5T_INTEGER;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Writer

struct Hdf5Writer::Impl {
  std::filesystem::path path;
  MemoryFile file;
  bool closed = false;
  int unwinding_at_start = std::uncaught_exceptions();

  // Creates `name` (and its missing parent groups) with the given stored type and shape.
  Dataset create(const std::string& name, hid_t file_type, const Dataspace& space) {
    TESSERA_CHECK(!closed, place(path, name), ": the file is already closed; write every dataset before close()");
    TESSERA_CHECK(!name.empty() && name.front() == '/', place(path, name),
                  ": dataset names must be absolute HDF5 paths such as '/truth/signatures'");
    TESSERA_CHECK(!readable_path_exists(file.get(), name, place(path, name)), place(path, name),
                  ": already written; each dataset can be written once per file, use another name");
    create_parent_groups(file.get(), name, place(path, name));
    const PropertyList create = timeless(H5P_DATASET_CREATE);
    Dataset dataset(
        H5Dcreate2(file.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
    if (!dataset) TESSERA_FAIL(place(path, name), ": cannot create dataset: ", hdf5_error_detail());
    return dataset;
  }

  // In memory: a failure here is HDF5's, never the disk's (that is reported by close()).
  void write(const std::string& name, const Dataset& dataset, hid_t memory_type, const void* data) {
    if (H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
      TESSERA_FAIL(place(path, name), ": write failed: ", hdf5_error_detail());
  }

  // Opens `object` (a group or dataset) for an attribute, creating a group when nothing exists there yet, so
  // that attributes can describe a section before its datasets are written.
  void with_attribute(const std::string& object, const std::string& name, hid_t file_type, hid_t memory_type,
                      const void* value) {
    TESSERA_CHECK(!closed, place(path, object), ": the file is already closed; write every attribute before close()");
    if (!readable_path_exists(file.get(), object, place(path, object)))
      create_parent_groups(file.get(), object + "/", place(path, object));
    // Writing an attribute twice replaces it.
    if (H5Aexists_by_name(file.get(), object.c_str(), name.c_str(), H5P_DEFAULT) > 0)
      H5Adelete_by_name(file.get(), object.c_str(), name.c_str(), H5P_DEFAULT);
    Dataspace scalar(H5Screate(H5S_SCALAR));
    Attribute attribute(H5Acreate_by_name(file.get(), object.c_str(), name.c_str(), file_type, scalar.get(),
                                          H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!attribute || H5Awrite(attribute.get(), memory_type, value) < 0)
      TESSERA_FAIL(place(path, object), ": cannot write attribute '", name, "': ", hdf5_error_detail());
  }
};

// The folder is made now, as every output's is (io/atomic_file.h): a path through a file fails before the work.
Hdf5Writer::Hdf5Writer(const std::filesystem::path& path) {
  SilenceHdf5Errors silence;
  if (path.has_parent_path()) make_output_folder(path.parent_path());
  impl_ = std::make_unique<Impl>(Impl{path, MemoryFile(path.string())});
}

Hdf5Writer::~Hdf5Writer() noexcept(false) {
  SilenceHdf5Errors silence;
  // Unwinding from an error: the file is dropped unwritten (write_atomically removes any temporary).
  if (impl_ && !impl_->closed && std::uncaught_exceptions() <= impl_->unwinding_at_start) {
    auto impl = std::move(impl_);  // closed (and freed) even if writing fails
    impl->closed = true;
    write_bytes_atomically(impl->path, impl->file.take_image().view());
  }
}

void Hdf5Writer::close(Durability durability) {
  SilenceHdf5Errors silence;
  TESSERA_CHECK(!impl_->closed, place(impl_->path, "/"), ": closed twice");
  impl_->closed = true;
  write_bytes_atomically(impl_->path, impl_->file.take_image().view(), durability);
}

void Hdf5Writer::write_matrix(const std::string& name, const Eigen::MatrixXd& matrix) {
  SilenceHdf5Errors silence;
  // Column-major rows x cols is row-major cols x rows: the buffer goes to disk as it is.
  const Dataspace space = simple_space({hsize_t(matrix.cols()), hsize_t(matrix.rows())});
  const Dataset dataset = impl_->create(name, H5T_IEEE_F64LE, space);
  impl_->write(name, dataset, H5T_NATIVE_DOUBLE, matrix.data());
}

void Hdf5Writer::write_vector(const std::string& name, const std::vector<double>& values) {
  SilenceHdf5Errors silence;
  const Dataset dataset = impl_->create(name, H5T_IEEE_F64LE, simple_space({as_hsize(values.size())}));
  impl_->write(name, dataset, H5T_NATIVE_DOUBLE, values.data());
}

void Hdf5Writer::write_ints(const std::string& name, const std::vector<std::int64_t>& values) {
  SilenceHdf5Errors silence;
  const Dataset dataset = impl_->create(name, H5T_STD_I64LE, simple_space({as_hsize(values.size())}));
  impl_->write(name, dataset, H5T_NATIVE_INT64, values.data());
}

void Hdf5Writer::write_strings(const std::string& name, const std::vector<std::string>& values) {
  SilenceHdf5Errors silence;
  for (const auto& v : values)
    TESSERA_CHECK(v.find('\0') == std::string::npos, place(impl_->path, name),
                  ": a string contains a NUL character, which NUL-padded storage would cut; remove it");
  const FixedStrings packed = pack_fixed_strings(values);
  const Dataset dataset = impl_->create(name, packed.type.get(), simple_space({as_hsize(values.size())}));
  impl_->write(name, dataset, packed.type.get(), packed.bytes.data());
}

void Hdf5Writer::write_attribute(const std::string& object, const std::string& name, const std::string& value) {
  SilenceHdf5Errors silence;
  const FixedStrings packed = pack_fixed_strings({value});
  impl_->with_attribute(object, name, packed.type.get(), packed.type.get(), packed.bytes.data());
}

void Hdf5Writer::write_attribute(const std::string& object, const std::string& name, double value) {
  SilenceHdf5Errors silence;
  impl_->with_attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

// ---------------------------------------------------------------------------------------------------------
// Reader

struct Hdf5Reader::Impl {
  std::filesystem::path path;
  File file;

  Dataset open(const std::string& name) const {
    TESSERA_CHECK(readable_path_exists(file.get(), name, place(path, name)), place(path, name),
                  ": no such dataset; check the name (absolute path, e.g. '/truth/signatures') and that the "
                  "file was written by the step that produces it");
    Dataset dataset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT));
    if (!dataset) fail_damaged(place(path, name), "the dataset's header");
    check_storage(dataset.get(), place(path, name));
    return dataset;
  }

  // The dataset's shape, checked to have `rank` dimensions.
  std::vector<hsize_t> shape(const std::string& name, const Dataset& dataset, int rank) const {
    const Dataspace space(H5Dget_space(dataset.get()));
    const int actual = H5Sget_simple_extent_ndims(space.get());
    TESSERA_CHECK(actual == rank, place(path, name), ": has ", actual, " dimensions, expected ", rank,
                  "; it was written as a different kind of array");
    std::vector<hsize_t> dims(std::size_t(rank), 0);
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
  }

  Datatype checked_type(const std::string& name, const Dataset& dataset, bool (*accept)(hid_t),
                        const char* wanted) const {
    Datatype type(H5Dget_type(dataset.get()));
    TESSERA_CHECK(accept(type.get()), place(path, name), ": stored as ", describe_type(type.get()), ", expected ",
                  wanted, "; read it with the matching read_* call");
    check_type(type.get(), place(path, name), kStrings | kFloats | kIntegers, "strings or numbers");
    return type;
  }

  void read(const std::string& name, const Dataset& dataset, hid_t memory_type, void* out) const {
    if (H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
      fail_damaged(place(path, name), "the values");
  }

  Attribute open_attribute(const std::string& object, const std::string& name) const {
    TESSERA_CHECK(readable_path_exists(file.get(), object, place(path, object)), place(path, object),
                  ": no such group or dataset to hold attribute '", name, "'");
    TESSERA_CHECK(H5Aexists_by_name(file.get(), object.c_str(), name.c_str(), H5P_DEFAULT) > 0, place(path, object),
                  ": has no attribute '", name, "'");
    Attribute attribute(H5Aopen_by_name(file.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT));
    if (!attribute) TESSERA_FAIL(place(path, object), ": cannot open attribute '", name, "': ", hdf5_error_detail());
    return attribute;
  }
};

Hdf5Reader::Hdf5Reader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  SilenceHdf5Errors silence;
  impl_->path = path;
  TESSERA_CHECK(std::filesystem::exists(path), "HDF5 file '", path.string(),
                "' does not exist; check the path (or run the step that writes it first)");
  TESSERA_CHECK(!std::filesystem::is_directory(path), "'", path.string(),
                "' is a folder, not a file; give the path of the HDF5 file");
  TESSERA_CHECK(H5Fis_hdf5(path.c_str()) > 0, "'", path.string(),
                "' is not an HDF5 file (no HDF5 signature); check that the path names the right file");
  impl_->file = File(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!impl_->file)
    TESSERA_FAIL("cannot open HDF5 file '", path.string(), "': ", hdf5_error_detail(),
                 "; the file may be truncated or damaged, write it again");
}

Hdf5Reader::~Hdf5Reader() {
  SilenceHdf5Errors silence;
  impl_.reset();
}

bool Hdf5Reader::has(const std::string& name) const {
  SilenceHdf5Errors silence;
  return readable_path_exists(impl_->file.get(), name, place(impl_->path, name));
}

Eigen::MatrixXd Hdf5Reader::read_matrix(const std::string& name) const {
  SilenceHdf5Errors silence;
  const Dataset dataset = impl_->open(name);
  impl_->checked_type(name, dataset, is_numeric, "a number type");
  const auto dims = impl_->shape(name, dataset, 2);
  // Stored (cols, rows) row-major = Eigen column-major (rows, cols): read straight into the matrix.
  Eigen::MatrixXd matrix(static_cast<Eigen::Index>(dims[1]), static_cast<Eigen::Index>(dims[0]));
  impl_->read(name, dataset, H5T_NATIVE_DOUBLE, matrix.data());
  return matrix;
}

std::vector<double> Hdf5Reader::read_vector(const std::string& name) const {
  SilenceHdf5Errors silence;
  const Dataset dataset = impl_->open(name);
  impl_->checked_type(name, dataset, is_numeric, "a number type");
  std::vector<double> values(impl_->shape(name, dataset, 1)[0]);
  impl_->read(name, dataset, H5T_NATIVE_DOUBLE, values.data());
  return values;
}

std::vector<std::int64_t> Hdf5Reader::read_ints(const std::string& name) const {
  SilenceHdf5Errors silence;
  const Dataset dataset = impl_->open(name);
  impl_->checked_type(
      name, dataset, [](hid_t t) { return H5Tget_class(t) == H5T_INTEGER; }, "an integer type");
  std::vector<std::int64_t> values(impl_->shape(name, dataset, 1)[0]);
  impl_->read(name, dataset, H5T_NATIVE_INT64, values.data());
  return values;
}

std::vector<std::string> Hdf5Reader::read_strings(const std::string& name) const {
  SilenceHdf5Errors silence;
  const Dataset dataset = impl_->open(name);
  const Datatype type = impl_->checked_type(
      name, dataset, [](hid_t t) { return H5Tget_class(t) == H5T_STRING; }, "strings");
  const std::size_t count = impl_->shape(name, dataset, 1)[0];
  const Dataspace space(H5Dget_space(dataset.get()));
  std::vector<std::string> values;
  const bool ok = read_string_values(
      type.get(), count, space.get(),
      [&](hid_t memory_type, void* buffer) {
        return H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
      },
      values);
  if (!ok) fail_damaged(place(impl_->path, name), "the strings");
  return values;
}

std::string Hdf5Reader::read_string_attribute(const std::string& object, const std::string& name) const {
  SilenceHdf5Errors silence;
  const Attribute attribute = impl_->open_attribute(object, name);
  const Datatype type(H5Aget_type(attribute.get()));
  const Dataspace space(H5Aget_space(attribute.get()));
  TESSERA_CHECK(H5Tget_class(type.get()) == H5T_STRING && H5Sget_simple_extent_npoints(space.get()) == 1,
                place(impl_->path, object), ": attribute '", name, "' is ", describe_type(type.get()), " with ",
                H5Sget_simple_extent_npoints(space.get()), " values, expected one string");
  check_type(type.get(), place(impl_->path, object) + " attribute '" + name + "'", kStrings, "a string");
  std::vector<std::string> values;
  const bool ok = read_string_values(
      type.get(), 1, space.get(),
      [&](hid_t memory_type, void* buffer) { return H5Aread(attribute.get(), memory_type, buffer); }, values);
  if (!ok) TESSERA_FAIL(place(impl_->path, object), ": cannot read attribute '", name, "': ", hdf5_error_detail());
  return values.front();
}

double Hdf5Reader::read_number_attribute(const std::string& object, const std::string& name) const {
  SilenceHdf5Errors silence;
  const Attribute attribute = impl_->open_attribute(object, name);
  const Datatype type(H5Aget_type(attribute.get()));
  const Dataspace space(H5Aget_space(attribute.get()));
  TESSERA_CHECK(is_numeric(type.get()) && H5Sget_simple_extent_npoints(space.get()) == 1, place(impl_->path, object),
                ": attribute '", name, "' is ", describe_type(type.get()), " with ",
                H5Sget_simple_extent_npoints(space.get()), " values, expected one number");
  double value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    TESSERA_FAIL(place(impl_->path, object), ": cannot read attribute '", name, "': ", hdf5_error_detail());
  return value;
}

}  // namespace tessera::io
