#include <neolith/cluster/session_digest.hpp>

#include <neolith/protocol/json.hpp>

#include <boost/json/serialize.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <new>
#include <vector>

namespace neolith::cluster {

namespace {

void append_canonical(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      const boost::json::object& o = v.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(o.size());
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        out += boost::json::serialize(boost::json::string_view(members[i]->key()));
        out += ':';
        append_canonical(out, members[i]->value());
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      const boost::json::array& a = v.get_array();
      out += '[';
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        append_canonical(out, a[i]);
      }
      out += ']';
      return;
    }
    default:
      out += boost::json::serialize(v);  // a scalar: string, number, bool, null
  }
}

}  // namespace

std::string canonical_json(const boost::json::value& v) {
  std::string out;
  append_canonical(out, v);
  return out;
}

std::array<unsigned char, 32> sha256(std::string_view bytes) {
  std::array<unsigned char, 32> d{};
  unsigned int n = 0;
  // With SHA-256 built into libcrypto, EVP_Digest fails only when it cannot allocate.
  if (EVP_Digest(bytes.data(), bytes.size(), d.data(), &n, EVP_sha256(), nullptr) != 1 || n != d.size())
    throw std::bad_alloc();
  return d;
}

std::string to_hex(const std::array<unsigned char, 32>& digest) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char c : digest) {
    out += hex[c >> 4];
    out += hex[c & 0xf];
  }
  return out;
}

std::string session_digest(const session& s) {
  boost::json::value v = boost::json::value_from(s);
  boost::json::object& o = v.as_object();
  o.erase("status");
  o.erase("metrics");
  o.erase("endedAt");
  return to_hex(sha256(canonical_json(v)));
}

}  // namespace neolith::cluster
