#include <neolith/daemon/detail/daemon_auth.hpp>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>

namespace neolith::detail {

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::string_view s) noexcept {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

}  // namespace

bool bearer_token_matches(std::string_view authorization, std::string_view expected) noexcept {
  std::string_view a = trim(authorization);
  constexpr std::string_view scheme = "bearer";
  bool scheme_ok = a.size() > scheme.size() && is_space(a[scheme.size()]);
  for (std::size_t i = 0; scheme_ok && i < scheme.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    scheme_ok = c == scheme[i];
  }
  const std::string_view given = scheme_ok ? trim(a.substr(scheme.size())) : std::string_view{};
  // Hash both sides so the comparison time depends on neither token's length nor content.
  const auto dg = digest(given);
  const auto de = digest(expected);
  const bool same = CRYPTO_memcmp(dg.data(), de.data(), dg.size()) == 0;
  return scheme_ok && !given.empty() && same;
}

std::string_view token_from_file_content(std::string_view content) noexcept {
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
  return content;
}

}  // namespace neolith::detail
