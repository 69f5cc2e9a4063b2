// One atomic writer for every output (io/atomic_file.h).
//
// Streams write through a small streambuf over a POSIX file descriptor rather than std::ofstream: an ofstream
// reports a failed write(2) only as a bit (the errno is lost by the time anyone looks), its good() before close()
// says nothing about the bytes still in its buffer, and it offers no fsync. Here every write(2) is checked and
// its errno kept, so "No space left on device" reaches the message.
#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <streambuf>
#include <system_error>
#include <vector>

#include "engine/error.h"

namespace tessera::io {

namespace fs = std::filesystem;

namespace {

// What the user can do about an operating-system error.
const char* fix_for(int error) {
  switch (error) {
    case ENOSPC:
    case EDQUOT:
      return "free space on that file system (or raise the quota), or write to another folder";
    case EACCES:
    case EPERM:
    case EROFS:
      return "check that the folder is writable, or write to another folder";
    default:
      return "check the path and the file system";
  }
}

[[noreturn]] void fail_write(const fs::path& path, int error) {
  TESSERA_FAIL("cannot write '", path.string(), "': ", std::strerror(error), "; ", fix_for(error));
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  std::string host(name);
  for (char& c : host) c = (c == '/' || c == '-') ? '_' : c;  // '-' separates the host from the pid
  return host;
}

const std::string& this_host() {
  static const std::string host = host_name();
  return host;
}

// A streambuf over a file descriptor that keeps the errno of the first failed write(2).
class FileSink : public std::streambuf {
 public:
  explicit FileSink(int fd) : fd_(fd), buffer_(1 << 16) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* data, std::streamsize count) override {
    if (count < std::streamsize(buffer_.size())) return std::streambuf::xsputn(data, count);
    // A large block (a matrix) goes straight to the file after what is buffered.
    return drain() && write_all(data, std::size_t(count)) ? count : 0;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const bool ok = write_all(pbase(), std::size_t(pptr() - pbase()));
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }
  bool write_all(const char* data, std::size_t count) {
    while (error_ == 0 && count > 0) {
      const ssize_t written = ::write(fd_, data, count);
      if (written < 0) {
        if (errno != EINTR) error_ = errno;
        continue;
      }
      data += written;
      count -= std::size_t(written);
    }
    return error_ == 0;
  }
  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

// fsync of a file or folder by name (a read-only descriptor is enough on Linux). 0 or the errno.
int sync_path(const fs::path& path, bool folder) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (folder ? O_DIRECTORY : 0));
  if (fd < 0) return errno;
  int error = ::fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  // Some file systems cannot fsync a folder; the rename itself has still happened.
  if (folder && (error == EINVAL || error == ENOTSUP)) error = 0;
  return error;
}

void write_atomically_unchecked(const fs::path& path, const std::function<void(const fs::path&)>& write,
                                Durability durability) {
  TESSERA_CHECK(!path.filename().empty() && path.filename() != "." && path.filename() != "..", "cannot write '",
                path.string(), "': the name ends in a folder; give the name of a file");
  std::error_code ec;
  TESSERA_CHECK(!fs::is_directory(path, ec), "cannot write '", path.string(),
                "': a folder has that name; give the name of a file, or move the folder away");
  const fs::path folder = path.parent_path();
  if (!folder.empty()) make_output_folder(folder);
  remove_stale_temporaries(path);

  const fs::path temporary = temporary_path(path);
  try {
    write(temporary);
    TESSERA_CHECK(fs::is_regular_file(temporary, ec), "cannot write '", path.string(),
                  "': the writer created no file; this is a bug, please report it");
    if (const int error = sync_path(temporary, false)) fail_write(path, error);
    fs::rename(temporary, path);
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
  if (durability == Durability::kFolder)
    if (const int error = sync_path(folder.empty() ? fs::path(".") : folder, true)) fail_write(path, error);
}

}  // namespace

fs::path temporary_path(const fs::path& path) {
  return path.string() + ".tmp-" + this_host() + "-" + std::to_string(::getpid());
}

int remove_stale_temporaries(const fs::path& path) {
  const std::string prefix = path.filename().string() + ".tmp-" + this_host() + "-";
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string_view digits = std::string_view(name).substr(prefix.size());
    pid_t pid = 0;
    const auto [ptr, parse_error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (parse_error != std::errc() || ptr != digits.data() + digits.size() || pid <= 0 || pid == ::getpid()) continue;
    // ESRCH: no such process. EPERM means it runs under another user: not ours to remove.
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    if (fs::remove(it->path(), ignored)) ++removed;
  }
  return removed;
}

void make_output_folder(const fs::path& folder, std::string_view option) {
  const std::string what =
      option.empty() ? "output folder '" + folder.string() + "'" : std::string(option) + " '" + folder.string() + "'";
  TESSERA_CHECK(!folder.empty(), option.empty() ? "the output folder" : std::string(option),
                " is empty; give a folder");
  std::error_code ec;
  if (fs::is_directory(folder, ec)) return;
  TESSERA_CHECK(!fs::exists(folder, ec), what, " is a file; give a folder (or move the file away)");
  // A file above it would make create_directories fail with a bare "Not a directory": name that file.
  for (fs::path above = folder.parent_path(); !above.empty(); above = above.parent_path()) {
    if (fs::is_directory(above, ec)) break;
    TESSERA_CHECK(!fs::exists(above, ec), "cannot create ", what, ": '", above.string(),
                  "' is a file, not a folder; give another path");
    if (above == above.parent_path()) break;
  }
  fs::create_directories(folder, ec);
  TESSERA_CHECK(!ec, "cannot create ", what, ": ", ec.message(), "; ", fix_for(ec.value()));
}

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write, Durability durability) {
  try {
    write_atomically_unchecked(path, write, durability);
  } catch (const fs::filesystem_error& e) {
    // A rename or a remove that failed: a user's problem (permissions, a full or read-only disk), not a bug.
    fail_write(path, e.code().value());
  }
}

void write_stream_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write,
                             Durability durability) {
  write_atomically(
      path,
      [&](const fs::path& temporary) {
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) fail_write(path, errno);
        int error = 0;
        try {
          FileSink sink(fd);
          std::ostream out(&sink);
          write(out);
          out.flush();
          error = sink.error();
          TESSERA_CHECK(error != 0 || out.good(), "cannot write '", path.string(),
                        "': the output stream failed; this is a bug, please report it");
        } catch (...) {
          ::close(fd);
          throw;
        }
        // fsync before close: close() on some file systems (NFS) reports what write(2) could not.
        if (error == 0 && ::fsync(fd) != 0) error = errno;
        if (::close(fd) != 0 && error == 0) error = errno;
        if (error != 0) fail_write(path, error);
      },
      durability);
}

void write_bytes_atomically(const fs::path& path, std::string_view bytes, Durability durability) {
  write_stream_atomically(
      path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); }, durability);
}

}  // namespace tessera::io
