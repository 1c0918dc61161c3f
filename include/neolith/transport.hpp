// The transport's public settings (TLS).
#ifndef NEOLITH_TRANSPORT_HPP
#define NEOLITH_TRANSPORT_HPP

#include <neolith/transport/tls_options.hpp>

#endif  // NEOLITH_TRANSPORT_HPP
