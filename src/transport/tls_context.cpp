// TLS contexts from the options, the client's host name check, handshake error texts.
#include <neolith/transport/detail/tls_context.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>

namespace neolith::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

namespace {

error_info config_error(std::string message) { return error_info(error::tls_config, std::move(message)); }

/// Why `path` (the `what` of the options) cannot be read, if it cannot.
std::optional<error_info> unreadable_file(std::string_view what, const std::string& path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return config_error(std::string(what) + " '" + path + "' does not exist");
  if (!fs::is_regular_file(st)) return config_error(std::string(what) + " '" + path + "' is not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error(std::string(what) + " '" + path + "' cannot be read");
  return std::nullopt;
}

/// The message of an OpenSSL failure on file `path`.
error_info load_error(std::string_view what, const std::string& path, const boost::system::error_code& ec) {
  return config_error("cannot use " + std::string(what) + " '" + path + "': " + tls_error_text(ec, nullptr));
}

/// The OpenSSL error of the calling thread's queue (then cleared) as an error_code.
boost::system::error_code last_openssl_error() {
  const unsigned long e = ::ERR_get_error();
  ::ERR_clear_error();
  if (e == 0) return asio::ssl::error::unexpected_result;
  return {static_cast<int>(e), asio::error::get_ssl_category()};
}

/// Options common to both sides: TLS 1.2 or later, no compression.
result<void> set_protocol_floor(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
  if (::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    return config_error("cannot set the minimum TLS version: " + tls_error_text(last_openssl_error(), nullptr));
  return outcome::success();
}

/// Loads a certificate chain and its key into `ctx` and checks that they match.
result<void> use_certificate(ssl::context& ctx, const std::string& chain_file, const std::string& key_file,
                             std::string_view chain_what, std::string_view key_what) {
  if (auto e = unreadable_file(chain_what, chain_file)) return *e;
  if (auto e = unreadable_file(key_what, key_file)) return *e;
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(chain_file, ec);
  if (ec) return load_error(chain_what, chain_file, ec);
  const auto mismatch = [&](const boost::system::error_code& why) {
    return config_error(std::string(key_what) + " '" + key_file + "' does not match the certificate in '" +
                        chain_file + "': " + tls_error_text(why, nullptr));
  };
  ctx.use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) {
    // OpenSSL checks the key against the certificate as it loads it.
    if (ec.category() == asio::error::get_ssl_category()) {
      const int reason = ERR_GET_REASON(static_cast<unsigned long>(static_cast<unsigned int>(ec.value())));
      if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH) return mismatch(ec);
    }
    return load_error(key_what, key_file, ec);
  }
  if (::SSL_CTX_check_private_key(ctx.native_handle()) != 1) return mismatch(last_openssl_error());
  return outcome::success();
}

}  // namespace

result<std::shared_ptr<ssl::context>> make_client_tls_context(const node_tls_options& o) {
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    BOOST_OUTCOME_TRY(set_protocol_floor(*ctx));
    boost::system::error_code ec;
    if (o.ca_file.empty() && o.ca_directory.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) return config_error("cannot use the system's CA certificates: " + tls_error_text(ec, nullptr));
    }
    if (!o.ca_file.empty()) {
      if (auto e = unreadable_file("the CA file", o.ca_file)) return *e;
      ctx->load_verify_file(o.ca_file, ec);
      if (ec) return load_error("the CA file", o.ca_file, ec);
    }
    if (!o.ca_directory.empty()) {
      std::error_code fec;
      if (!fs::is_directory(o.ca_directory, fec))
        return config_error("the CA directory '" + o.ca_directory + "' is not a directory");
      ctx->add_verify_path(o.ca_directory, ec);
      if (ec) return load_error("the CA directory", o.ca_directory, ec);
    }
    if (o.certificate_file.empty() != o.private_key_file.empty())
      return config_error(o.certificate_file.empty() ? "a client private key needs its certificate file"
                                                     : "a client certificate needs its private key file");
    if (!o.certificate_file.empty()) {
      BOOST_OUTCOME_TRY(use_certificate(*ctx, o.certificate_file, o.private_key_file, "the client certificate",
                                        "the client private key"));
    }
    return ctx;
  } catch (const std::exception& e) {
    return config_error(std::string("cannot make a TLS context: ") + e.what());
  }
}

result<std::shared_ptr<ssl::context>> make_server_tls_context(const daemon_tls_options& o) {
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    BOOST_OUTCOME_TRY(set_protocol_floor(*ctx));
    ctx->set_options(ssl::context::single_dh_use);
    if (o.certificate_chain_file.empty()) return config_error("TLS needs a certificate chain file");
    if (o.private_key_file.empty()) return config_error("TLS needs the certificate's private key file");
    BOOST_OUTCOME_TRY(use_certificate(*ctx, o.certificate_chain_file, o.private_key_file,
                                      "the TLS certificate chain", "the TLS private key"));
    if (!o.client_ca_file.empty()) {
      if (auto e = unreadable_file("the client CA file", o.client_ca_file)) return *e;
      boost::system::error_code ec;
      ctx->load_verify_file(o.client_ca_file, ec);
      if (ec) return load_error("the client CA file", o.client_ca_file, ec);
      // The CA names sent in the CertificateRequest (a client with several certificates picks
      // one of these).
      STACK_OF(X509_NAME)* names = ::SSL_load_client_CA_file(o.client_ca_file.c_str());
      if (names == nullptr)
        return config_error("cannot use the client CA file '" + o.client_ca_file +
                            "': " + tls_error_text(last_openssl_error(), nullptr));
      ::SSL_CTX_set_client_CA_list(ctx->native_handle(), names);  // takes ownership
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
      if (ec) return load_error("the client CA file", o.client_ca_file, ec);
    }
    return ctx;
  } catch (const std::exception& e) {
    return config_error(std::string("cannot make a TLS context: ") + e.what());
  }
}

bool is_ip_address(const std::string& host) noexcept {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

tls_host_check::tls_host_check(const std::string& host) : check_(host), is_address_(is_ip_address(host)) {}

bool tls_host_check::operator()(bool preverified, ssl::verify_context& ctx) const {
  if (!preverified) return false;  // OpenSSL already recorded why
  if (check_(preverified, ctx)) return true;
  ::X509_STORE_CTX_set_error(ctx.native_handle(),
                             is_address_ ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
  return false;
}

bool set_sni(SSL* ssl, const std::string& host) noexcept {
  if (host.empty() || is_ip_address(host)) return true;  // RFC 6066: no IP literals in SNI
  return ::SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
}

std::string tls_error_text(const boost::system::error_code& ec, SSL* ssl) {
  std::string out;
  if (ec == asio::ssl::error::stream_truncated)
    out = "the peer closed the connection during the TLS exchange";
  else if (ec == asio::error::eof)
    out = "the peer closed the connection";
  else
    out = ec.message();
  if (ssl != nullptr) {
    const long v = ::SSL_get_verify_result(ssl);
    if (v != X509_V_OK) {
      out += ": ";
      out += ::X509_verify_cert_error_string(v);
    }
  }
  return out;
}

bool is_tls_error(const boost::system::error_code& ec) noexcept {
  return ec.category() == asio::error::get_ssl_category() || ec.category() == asio::ssl::error::get_stream_category();
}

}  // namespace neolith::detail
