// Writing outputs so that a failure never leaves a half-written or empty file under its final name.
//
// Every output of Tessera goes through write_atomically: the bytes go to a temporary "<path>.tmp-<host>-<pid>"
// in the same folder; only when they are all on disk (flushed, closed, checked, fsync'ed) is the temporary
// renamed to `path` (atomic on POSIX within one file system). On any failure the temporary is removed and a
// tessera::Error names the final file and the operating system's reason ("No space left on device"), so a full
// disk ends the run with exit 1 and leaves the previous version of `path` (or nothing) in place.
//
// The host and pid in a temporary's name say who owns it: a run killed during a write leaves its temporary
// behind, and the next write of the same file on the same host removes those whose process is gone.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace tessera::io {

// How much of the write must survive a power loss. The file's own bytes are always fsync'ed before the rename;
// kFolder also fsyncs the folder after it, so that the new name itself is durable. Use kFolder where later
// state depends on the name (a checkpoint and the pointer naming it).
enum class Durability { kFile, kFolder };

// For writers that open the file by name themselves (HDF5): calls write(temporary_path), which must create and
// close the file, then fsyncs it and renames it to `path`.
void write_atomically(const std::filesystem::path& path, const std::function<void(const std::filesystem::path&)>& write,
                      Durability durability = Durability::kFile);

// For text and binary outputs: calls write(stream) on a binary stream into the temporary, then flushes,
// checks every write(2) that the stream made, fsyncs, closes (checked) and renames.
void write_stream_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write,
                             Durability durability = Durability::kFile);

// The whole content at once.
void write_bytes_atomically(const std::filesystem::path& path, std::string_view bytes,
                            Durability durability = Durability::kFile);

// Makes an output folder (and its parents) when missing. An Error naming `option` (e.g. "--out"; empty: "output
// folder") when the path, or a folder above it, is a file, or when the folder cannot be made.
void make_output_folder(const std::filesystem::path& folder, std::string_view option = {});

// "<path>.tmp-<host>-<pid>" for this process.
std::filesystem::path temporary_path(const std::filesystem::path& path);

// Removes the temporaries of `path` left by processes of this host that no longer run; returns how many.
// write_atomically calls it before each write.
int remove_stale_temporaries(const std::filesystem::path& path);

}  // namespace tessera::io
