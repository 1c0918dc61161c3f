// The whole public API of neolith, part by part (each part also has its own umbrella header).
#ifndef NEOLITH_NEOLITH_HPP
#define NEOLITH_NEOLITH_HPP

#include <neolith/core.hpp>
#include <neolith/protocol.hpp>
#include <neolith/transport.hpp>
#include <neolith/client.hpp>
#include <neolith/daemon.hpp>
#include <neolith/cluster.hpp>

#endif  // NEOLITH_NEOLITH_HPP
