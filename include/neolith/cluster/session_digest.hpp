// What a migration checks before it switches a session's location: a SHA-256 over the canonical
// JSON of the session, taken from the source's serialized copy and from the copy the target
// reads back after the restore. Equal digests: the target holds what the source had.
//
// Canonical JSON: objects with their keys sorted (by bytes, which for the protocol's ASCII keys
// is RFC 8785's order), no white space, strings escaped as Boost.JSON writes them, numbers as
// Boost.JSON writes them (the shortest text that reads back the same double). The same value
// always gives the same text, whatever the order its keys were built or received in.
#ifndef NEOLITH_CLUSTER_SESSION_DIGEST_HPP
#define NEOLITH_CLUSTER_SESSION_DIGEST_HPP

#include <neolith/protocol/types.hpp>

#include <boost/json/value.hpp>

#include <array>
#include <string>
#include <string_view>

namespace neolith::cluster {

/// The canonical text of `v` (see above).
std::string canonical_json(const boost::json::value& v);

/// SHA-256 of `bytes` (OpenSSL's libcrypto; throws std::bad_alloc when it cannot allocate).
std::array<unsigned char, 32> sha256(std::string_view bytes);

/// Lower-case hexadecimal of a digest.
std::string to_hex(const std::array<unsigned char, 32>& digest);

/// The digest a migration compares, in hexadecimal: SHA-256 over the canonical JSON of `s`
/// (its wire form) without the fields the running copy owns and changes as it runs: `status`,
/// `metrics` and `endedAt`. Identity, task, type, start time and the whole memory context count.
std::string session_digest(const session& s);

}  // namespace neolith::cluster

#endif  // NEOLITH_CLUSTER_SESSION_DIGEST_HPP
