#include "support/tls_certs.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <stdlib.h>

namespace neolith::test {

namespace fs = std::filesystem;

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
  void operator()(X509* p) const { X509_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed: ") + what);
}

pkey_ptr make_key() {
  pkey_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(k != nullptr, "EC key generation");
  return k;
}

/// Adds extension `nid` = `value` (the openssl.cnf syntax) to `cert`, issued by `issuer`.
void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok == 1, "X509_add_ext");
}

enum class kind { ca, server, client };

/// A certificate for `key` named `cn`, signed by `issuer_key` (self-signed when `issuer` is
/// null).
x509_ptr make_cert(kind k, const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial) {
  x509_ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1, "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr, "notAfter");
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("neolith tests"),
                                   -1, -1, 0) == 1,
        "O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0) ==
            1,
        "CN");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  switch (k) {
    case kind::ca:
      add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
      add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case kind::server:
      add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
      add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
      break;
    case kind::client:
      add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer, NID_ext_key_usage, "clientAuth");
      break;
  }
  check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

void write_pem(const fs::path& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr, "fopen");
  const int ok = PEM_write_X509(f, cert);
  std::fclose(f);
  check(ok == 1, "PEM_write_X509");
}

void write_pem(const fs::path& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr, "fopen");
  const int ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  check(ok == 1, "PEM_write_PrivateKey");
}

/// One CA with a server and a client certificate, written as `prefix`-*.pem.
void make_set(const fs::path& dir, const std::string& prefix, long serial_base, std::string& ca_path,
              std::string& server_cert_path, std::string& server_key_path, std::string& client_cert_path,
              std::string& client_key_path) {
  const pkey_ptr ca_key = make_key();
  const x509_ptr ca = make_cert(kind::ca, (prefix + " test CA").c_str(), ca_key.get(), nullptr, nullptr, serial_base);
  const pkey_ptr server_key = make_key();
  const x509_ptr server =
      make_cert(kind::server, "localhost", server_key.get(), ca.get(), ca_key.get(), serial_base + 1);
  const pkey_ptr client_key = make_key();
  const x509_ptr client =
      make_cert(kind::client, (prefix + " test client").c_str(), client_key.get(), ca.get(), ca_key.get(), serial_base + 2);
  ca_path = (dir / (prefix + "-ca.pem")).string();
  server_cert_path = (dir / (prefix + "-server.pem")).string();
  server_key_path = (dir / (prefix + "-server-key.pem")).string();
  client_cert_path = (dir / (prefix + "-client.pem")).string();
  client_key_path = (dir / (prefix + "-client-key.pem")).string();
  write_pem(ca_path, ca.get());
  write_pem(server_cert_path, server.get());
  write_pem(server_key_path, server_key.get());
  write_pem(client_cert_path, client.get());
  write_pem(client_key_path, client_key.get());
}

}  // namespace

tls_certs::tls_certs() {
  std::string t = (fs::temp_directory_path() / "neolith-tls-XXXXXX").string();
  BOOST_TEST_REQUIRE(::mkdtemp(t.data()) != nullptr, "cannot make a temporary directory");
  dir = t;
  try {
    make_set(dir, "neolith", 1000, ca_cert, server_cert, server_key, client_cert, client_key);
    make_set(dir, "other", 2000, other_ca_cert, other_server_cert, other_server_key, other_client_cert,
             other_client_key);
  } catch (const std::exception& e) {
    BOOST_TEST_REQUIRE(false, e.what());
  }
  garbage = write_file("garbage.pem", "this is not a PEM file\n");
}

tls_certs::~tls_certs() {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

const tls_certs& tls_certs::shared() {
  static tls_certs certs;
  return certs;
}

std::string tls_certs::write_file(const std::string& name, const std::string& content) const {
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

}  // namespace neolith::test
