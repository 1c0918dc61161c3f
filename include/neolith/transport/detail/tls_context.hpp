// The TLS pieces shared by the client and the daemon: the OpenSSL contexts built from the
// options (once per node, once per daemon; every file problem becomes an `error::tls_config`
// naming the file, never an exception), the host name check of a client connection, and the
// text of a failed handshake (OpenSSL's reason, plus the certificate verification result).
#ifndef NEOLITH_TRANSPORT_DETAIL_TLS_CONTEXT_HPP
#define NEOLITH_TRANSPORT_DETAIL_TLS_CONTEXT_HPP

#include <neolith/core/error.hpp>
#include <neolith/transport/tls_options.hpp>

#include <boost/asio/ssl/context.hpp>  // and OpenSSL's SSL
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace neolith::detail {

/// A client context: TLS 1.2 or later, the CAs of `o` (or the system's store), the client
/// certificate and key of `o` if any. Fails with `error::tls_config`.
result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(const node_tls_options& o);

/// A server context: TLS 1.2 or later, the certificate chain and key of `o` (checked to match),
/// and with `o.client_ca_file` the requirement of a client certificate signed by those CAs.
/// Fails with `error::tls_config`.
result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const daemon_tls_options& o);

/// The verify callback of a client connection: the chain must be valid (`preverified`) and
/// the daemon's certificate must name `host` (asio::ssl::host_name_verification: a DNS entry,
/// or an IP entry when `host` is an address). A mismatch is recorded as OpenSSL's "hostname
/// mismatch" / "IP address mismatch" verification error, so that the handshake error says so.
class tls_host_check {
 public:
  explicit tls_host_check(const std::string& host);
  bool operator()(bool preverified, boost::asio::ssl::verify_context& ctx) const;

 private:
  boost::asio::ssl::host_name_verification check_;
  bool is_address_;
};

/// True when `host` is an IP address (no SNI is sent for it).
bool is_ip_address(const std::string& host) noexcept;

/// Sets the SNI name of a client connection (nothing for an IP address). False on failure.
bool set_sni(SSL* ssl, const std::string& host) noexcept;

/// "OpenSSL's reason (library)", followed by the certificate verification error when the
/// handshake failed on it (e.g. "certificate verify failed (SSL routines): hostname
/// mismatch"). `ssl` may be null.
std::string tls_error_text(const boost::system::error_code& ec, SSL* ssl);

/// True when `ec` comes from the TLS layer (OpenSSL or asio's ssl errors).
bool is_tls_error(const boost::system::error_code& ec) noexcept;

}  // namespace neolith::detail

#endif  // NEOLITH_TRANSPORT_DETAIL_TLS_CONTEXT_HPP
