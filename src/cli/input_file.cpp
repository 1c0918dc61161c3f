// Reading a file named on the command line (cli_options.hpp: read_input_file).
#include "cli_options.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <unistd.h>

namespace neolith::cli {

std::string read_input_file(std::string_view what, const std::string& path, std::size_t max_bytes) {
  std::string out;
  const auto too_large = [&] {
    return usage_error{std::string(what) + ": '" + path + "' is larger than " + std::to_string(max_bytes) + " bytes"};
  };
  if (path == "-") {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw usage_error{std::string(what) + ": cannot read stdin: " + std::strerror(errno)};
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      if (out.size() > max_bytes) throw too_large();
    }
    return out;
  }
  const auto unreadable = [&] {
    const int err = errno;
    return usage_error{std::string(what) + ": cannot read '" + path + "'" +
                       (err != 0 ? std::string(": ") + std::strerror(err) : std::string())};
  };
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw unreadable();
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_bytes) throw too_large();
  }
  // istream::read turns the file buffer's read errors (a directory: EISDIR) into badbit.
  if (in.bad()) throw unreadable();
  return out;
}

}  // namespace neolith::cli
