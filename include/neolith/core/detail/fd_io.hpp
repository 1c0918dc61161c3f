// Writing a whole buffer to a file descriptor (a pipe, a file), through short writes and EINTR.
#ifndef NEOLITH_CORE_DETAIL_FD_IO_HPP
#define NEOLITH_CORE_DETAIL_FD_IO_HPP

#include <cerrno>
#include <cstddef>
#include <string_view>

#include <unistd.h>

namespace neolith::detail {

/// Writes all of `data` to `fd`; false on an error (errno tells which).
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace neolith::detail

#endif  // NEOLITH_CORE_DETAIL_FD_IO_HPP
