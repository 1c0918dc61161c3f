// The base every part stands on: error codes (neolith's category), the version.
#ifndef NEOLITH_CORE_HPP
#define NEOLITH_CORE_HPP

#include <neolith/core/error.hpp>
#include <neolith/core/version.hpp>

#endif  // NEOLITH_CORE_HPP
