// Boost.Test printers for neolith's codec types (found by ADL), so failed assertions show
// readable values.
#ifndef NEOLITH_TEST_CODEC_PRINT_HPP
#define NEOLITH_TEST_CODEC_PRINT_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/json.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/serialize.hpp>

#include <ostream>
#include <string>

namespace neolith {

inline std::ostream& boost_test_print_type(std::ostream& os, error e) { return os << to_string(e); }
inline std::ostream& boost_test_print_type(std::ostream& os, const error_info& e) { return os << e.what(); }
inline std::ostream& boost_test_print_type(std::ostream& os, node_status v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, session_type v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, task_type v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, task_priority v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, task_status v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, memory_entry_type v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, session_status v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, message_type v) { return os << to_string(v); }
inline std::ostream& boost_test_print_type(std::ostream& os, const message& m) { return os << encode(m); }

/// The error text of `r`, or "ok": Boost.Test evaluates assertion messages eagerly, so they
/// must not call `r.error()` on a success.
template <class T>
std::string why(const result<T>& r) {
  return r.has_value() ? std::string("ok") : r.error().what();
}

}  // namespace neolith

#endif  // NEOLITH_TEST_CODEC_PRINT_HPP
