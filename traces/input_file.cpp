#include "traces/input_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <zlib.h>

#include "sim/error.hpp"

namespace tilesim::traces {

class InputFile::GzBuf : public std::streambuf {
 public:
  GzBuf(gzFile file, std::string path) : file_(file), path_(std::move(path)) {}
  ~GzBuf() override { gzclose(file_); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(file_, buffer_, sizeof buffer_);
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(file_, &code);
      throw InputError(cat(path_, ": read error: ", msg ? msg : "unknown zlib error"));
    }
    if (n == 0) return traits_type::eof();
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile file_;
  std::string path_;
  char buffer_[1 << 16];
};

namespace {
gzFile open_gz(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(cat(path, ": cannot open: is a directory"));
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw InputError(cat(path, ": cannot open: ", std::strerror(errno)));
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(cat(path, ": cannot open: ", errno ? std::strerror(errno) : "zlib could not open it"));
  return f;
}

bool has_gzip_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}
}  // namespace

InputFile::InputFile(const std::string& path)
    : path_(path), buf_(std::make_unique<GzBuf>(open_gz(path), path)), stream_(buf_.get()) {
  compressed_ = has_gzip_magic(path);
  stream_.exceptions(std::ios::badbit);  // a read error inside the buffer propagates as InputError
}

InputFile::~InputFile() = default;

std::string peek_text(const std::string& path, std::size_t n) {
  InputFile file(path);
  std::string out(n, '\0');
  file.stream().read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<std::size_t>(file.stream().gcount()));
  return out;
}

}  // namespace tilesim::traces
