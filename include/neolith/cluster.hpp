// The cluster layer: location registries (memory, Redis), placement, the circuit breaker.
#ifndef NEOLITH_CLUSTER_HPP
#define NEOLITH_CLUSTER_HPP

#include <neolith/cluster/circuit_breaker.hpp>
#include <neolith/cluster/location_registry.hpp>
#include <neolith/cluster/memory_registry.hpp>
#include <neolith/cluster/placement.hpp>
#include <neolith/cluster/redis_registry.hpp>

#endif  // NEOLITH_CLUSTER_HPP
