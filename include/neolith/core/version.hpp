// The library's version.
#ifndef NEOLITH_CORE_VERSION_HPP
#define NEOLITH_CORE_VERSION_HPP

namespace neolith {

inline constexpr const char* version_string = "0.1.0";  ///< reported in node_info.version
inline constexpr int version_protocol = 1;               ///< the protocol version spoken

}  // namespace neolith

#endif  // NEOLITH_CORE_VERSION_HPP
