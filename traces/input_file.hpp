// Reading an input file as a stream, gzip or plain alike (zlib's gzread passes plain files through), so
// large traces are never loaded whole and `trace.json.gz` needs no separate code path.
#pragma once

#include <istream>
#include <memory>
#include <streambuf>
#include <string>

namespace tilesim::traces {

class InputFile {
 public:
  /// Opens `path`; InputError "path: cannot open: <reason>" when it cannot be read.
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::istream& stream() { return stream_; }
  const std::string& path() const { return path_; }
  /// True when the file starts with the gzip magic bytes.
  bool compressed() const { return compressed_; }

 private:
  class GzBuf;
  std::string path_;
  bool compressed_ = false;
  std::unique_ptr<GzBuf> buf_;
  std::istream stream_;
};

/// The first `n` bytes of the (decompressed) file, for format detection; InputError when unreadable.
std::string peek_text(const std::string& path, std::size_t n);

}  // namespace tilesim::traces
