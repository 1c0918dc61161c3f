// Certificates for the TLS tests, generated at run time with OpenSSL (no key is checked in):
// a CA, a server certificate for 127.0.0.1 and localhost signed by it, a client certificate
// signed by it, and a second, unrelated CA with its own server and client certificates (the
// "wrong CA" cases). PEM files in a fresh temporary directory, removed with the object.
#pragma once

#include <filesystem>
#include <string>

namespace neolith::test {

class tls_certs {
 public:
  /// Generates everything (EC P-256 keys, SHA-256 signatures, valid from an hour ago for a
  /// day). The test fails if OpenSSL fails.
  tls_certs();
  ~tls_certs();
  tls_certs(const tls_certs&) = delete;
  tls_certs& operator=(const tls_certs&) = delete;

  /// The one set of a test process (generated on first use).
  static const tls_certs& shared();

  std::filesystem::path dir;

  std::string ca_cert;      ///< the CA (CN "neolith test CA")
  std::string server_cert;  ///< signed by the CA; subjectAltName IP:127.0.0.1, DNS:localhost
  std::string server_key;
  std::string client_cert;  ///< signed by the CA; extendedKeyUsage clientAuth
  std::string client_key;

  std::string other_ca_cert;      ///< an unrelated CA
  std::string other_server_cert;  ///< signed by the other CA, for 127.0.0.1 and localhost
  std::string other_server_key;
  std::string other_client_cert;  ///< signed by the other CA
  std::string other_client_key;

  std::string garbage;  ///< a file that is not PEM at all

  /// Writes `content` to `name` in `dir`; returns its path.
  std::string write_file(const std::string& name, const std::string& content) const;
};

}  // namespace neolith::test
