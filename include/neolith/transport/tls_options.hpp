// The TLS settings of the two ends of a wss:// connection: the client's (a daemon_node) and
// the server's (a daemon). The contexts are built from them by transport/detail/tls_context.hpp.
#ifndef NEOLITH_TRANSPORT_TLS_OPTIONS_HPP
#define NEOLITH_TRANSPORT_TLS_OPTIONS_HPP

#include <string>

namespace neolith {

/// TLS settings of a daemon_node, used for wss:// endpoints only. The files are read once, when
/// the node is constructed; a file that cannot be used makes `connect()` fail at once with
/// `error::tls_config` and a message naming it.
struct node_tls_options {
  /// PEM file of the CA certificate(s) that may sign the daemon's certificate. Empty (and
  /// `ca_directory` empty): the system's default verify paths (its CA store).
  std::string ca_file;

  /// Directory of CA certificates in OpenSSL's hashed layout (`openssl rehash`). Empty: none.
  /// When `ca_file` or `ca_directory` is set, the system's CA store is not used.
  std::string ca_directory;

  /// Check the daemon's certificate (chain up to a trusted CA, and the host name against
  /// `server_name`). Default true; false accepts any certificate (testing only: anyone on the
  /// path can then read and change the traffic).
  bool verify_peer = true;

  /// Client certificate (PEM, the certificate first, then its intermediates) and its private
  /// key (PEM, unencrypted), for a daemon that requires client certificates (mutual TLS).
  /// Both or neither. Default: none.
  std::string certificate_file;
  std::string private_key_file;

  /// The name sent in SNI and checked against the daemon's certificate (subjectAltName DNS or
  /// IP entry). Empty (default): the endpoint's host. SNI is not sent for an IP address.
  std::string server_name;
};

/// TLS settings of a daemon (`--tls-cert`, `--tls-key`, `--tls-client-ca`): with them it
/// serves wss:// instead of ws://. The files are read by `daemon_server::start()`, which fails
/// with `error::tls_config` and a message naming the file when one cannot be used.
struct daemon_tls_options {
  /// PEM file: the daemon's certificate first, then its intermediates. Required.
  std::string certificate_chain_file;
  /// PEM file: the certificate's private key (unencrypted). Required.
  std::string private_key_file;
  /// PEM file of the CA certificate(s) that sign client certificates. When set, every client
  /// must present a certificate signed by one of them (mutual TLS); others fail the TLS
  /// handshake. Empty (default): no client certificate is asked for.
  std::string client_ca_file;
};

}  // namespace neolith

#endif  // NEOLITH_TRANSPORT_TLS_OPTIONS_HPP
