// Bearer-token checking for the daemon's upgrade requests.
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_AUTH_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_AUTH_HPP

#include <string_view>

namespace neolith::detail {

/// True when `authorization` (an Authorization header value) is "Bearer <token>" with the
/// scheme in any case, spaces or tabs between, surrounding whitespace ignored, and the token
/// equal to `expected`. The comparison takes the same time whatever the tokens' contents
/// (both are hashed with SHA-256 and the digests compared in constant time).
bool bearer_token_matches(std::string_view authorization, std::string_view expected) noexcept;

/// The token of a token file: the content without its trailing newline characters
/// ("\n" or "\r\n", repeated).
std::string_view token_from_file_content(std::string_view content) noexcept;

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_AUTH_HPP
